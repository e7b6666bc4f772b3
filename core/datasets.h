// Labelled data sets for GP inference (docs/theory.md §7): 2-D toy classification sets drawn from our own
// counter-based generator (same points natively and in wasm), Fashion-MNIST read from Debian's
// `dataset-fashion-mnist` package (gzipped idx files, decoded by our own inflate: core/deflate.h), and
// labelled CSV (features..., label).
//
// Every set comes as a train/test split of points (rows of x) with one label each: a class id for
// classification, a real target for regression (CSV only).
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fs {

enum class DatasetKind { moons, spirals, xor_, circles, fashion_mnist, csv };

const char* dataset_kind_name(DatasetKind kind);  // "moons" | "spirals" | "xor" | "circles" | "fashion-mnist" | "csv"
bool dataset_kind_from_name(std::string_view name, DatasetKind& kind);

struct DatasetLimits {
  static constexpr int max_points = 20000;  // train + test
  static constexpr int max_dim = 4096;
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct DatasetSpec {
  DatasetKind kind = DatasetKind::moons;
  int train = 200;  // training points
  int test = 200;   // test points
  // Toy sets: standard deviation of the Gaussian noise added to each coordinate.
  double noise = 0.1;
  // Fashion-MNIST and CSV: keep only these class ids (empty: all). Fashion-MNIST ids are 0..9
  // (0 T-shirt/top, 1 trouser, ... 9 ankle boot).
  std::vector<int> classes;
  // Fashion-MNIST: average-pool the 28 x 28 images by this factor (1, 2, 4, 7 or 14; 2 gives 14 x 14).
  int downsample = 1;
  // Fashion-MNIST: scale each image to zero mean and unit mean square, so that every input has
  // G_aa = 1 (docs/theory.md §1; Lee et al. 2018 standardise their inputs the same way). Off: pixels in [0, 1].
  bool standardize = true;
  std::string path;         // fashion-mnist: the directory of the idx files (empty: kFashionMnistDir); csv: the file
  std::string test_path;    // csv: an optional separate test file (otherwise a seeded split of `path`)
  bool regression = false;  // csv: the label column is a real target, not a class id
  std::uint64_t seed = 1;
};

struct Dataset {
  Eigen::MatrixXd x;      // points, one per row (P x d)
  std::vector<double> y;  // label of each point: a class id (an integer) or a regression target
};

struct DatasetSplit {
  Dataset train, test;
  std::vector<std::string> class_names;  // names of the class ids 0, 1, ... where known (Fashion-MNIST, toys)
  Status status;
};

// Builds the split described by the spec; a bad spec or file gives a status naming the problem.
DatasetSplit make_dataset(const DatasetSpec& spec);

// Labelled rows (features..., label; all the same length, at least 2) carried by a scene, split as the
// explorer's tabs show them: every 4th row (rows 3, 7, ...) a test point, the others training points, in order.
DatasetSplit split_labelled_rows(const std::vector<std::vector<double>>& rows);

// Labelled CSV text: one point per row, features then the label in the last column; the grammar of
// parse_inputs_csv (optional header, '#' comments, ',' ';' or whitespace separators). Errors name the
// line and column. Without `regression` the labels must be integers (class ids).
struct LabelledCsv {
  Dataset data;
  Status status;
};
LabelledCsv parse_labelled_csv(std::string_view text, bool regression = false);
// The whole file as text; a sentence naming the file if it cannot be opened.
Status read_text_file(const std::string& path, std::string& text);

// --- Fashion-MNIST files ------------------------------------------------------------------------------
// The 10 class names, by id.
const std::vector<std::string>& fashion_mnist_class_names();
// The four idx files exist in `dir` (gzipped or plain).
bool fashion_mnist_available(const std::string& dir = kFashionMnistDir);
// The names of the package's four gzipped idx files, in the order training images, training labels,
// test images, test labels. A smaller copy (the web build's subset) keeps the same names.
const std::vector<std::string>& fashion_mnist_file_names();
// Checks a copy of those four files that a platform received into `dir` (the web build downloads them
// into its in-memory file system): each file is there with the byte count it was received with
// (`received_bytes`, in the order of fashion_mnist_file_names(); a missing or non-positive count fails),
// and the idx headers describe labels and 28 x 28 images of matching counts for the training and the
// test split. The message of a failure is a clause for the caller's sentence, e.g.
// "t10k-images-idx3-ubyte.gz arrived incomplete", or the idx reader's sentence about a damaged file.
Status check_fashion_mnist_files(const std::string& dir, const std::vector<long long>& received_bytes);

// An idx file (LeCun's MNIST format: big-endian magic 0x000008TT with unsigned-byte data, then the
// dimensions) read from `path` (gzipped or plain). At most `max_items` items of the first dimension are
// read (0: all); `dims` holds the full sizes from the header, `items` how many were read.
struct IdxData {
  std::vector<std::uint32_t> dims;
  std::size_t items = 0;
  std::vector<std::uint8_t> values;  // items x product(dims[1..]) bytes
  Status status;
};
IdxData read_idx_file(const std::string& path, std::size_t max_items = 0);
IdxData parse_idx(const std::uint8_t* data, std::size_t size, const std::string& name, std::size_t max_items = 0);

}  // namespace fs
