// Labelled data sets for GP inference: toy 2-D sets, Fashion-MNIST, labelled CSV (docs/theory.md §7).
//
// Sections
//   1. Names
//   2. Deterministic draws for the toy sets (core/random.h)
//   3. Toy sets: two moons, spirals, XOR, circles
//   4. idx files and Fashion-MNIST (gzip decoding: core/deflate.h)
//   5. Labelled CSV
//   6. make_dataset
#include "core/datasets.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/deflate.h"
#include "core/inputs.h"
#include "core/random.h"
#include "core/text.h"

namespace fs {

namespace {
Status invalid(std::string message) { return Status::error(StatusCode::invalid_input, std::move(message)); }
}  // namespace

// --- 1. Names -----------------------------------------------------------------------------------------

const char* dataset_kind_name(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::moons: return "moons";
    case DatasetKind::spirals: return "spirals";
    case DatasetKind::xor_: return "xor";
    case DatasetKind::circles: return "circles";
    case DatasetKind::fashion_mnist: return "fashion-mnist";
    case DatasetKind::csv: return "csv";
  }
  return "?";
}

bool dataset_kind_from_name(std::string_view name, DatasetKind& kind) {
  for (DatasetKind k : {DatasetKind::moons, DatasetKind::spirals, DatasetKind::xor_, DatasetKind::circles,
                        DatasetKind::fashion_mnist, DatasetKind::csv})
    if (name == dataset_kind_name(k)) {
      kind = k;
      return true;
    }
  return false;
}

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

// --- 2. Deterministic draws for the toy sets ----------------------------------------------------------
namespace {

constexpr std::uint64_t kDatasetStream = 0x6461746173657473ull;  // "datasets"
constexpr double kTwoM53 = 1.0 / 9007199254740992.0;             // 2^-53

// Four uniforms in [0, 1) and four standard normals for point `index` of split `split`: counter =
// (index, split, purpose, 0), key = (seed, kDatasetStream). Same bits natively and in wasm.
struct PointDraws {
  double uniform[4];
  double normal[4];
};

PointDraws point_draws(std::uint64_t seed, std::uint64_t split, std::uint64_t index) {
  PointDraws d;
  const random::Block4 bits = random::philox4x64({{index, split, 0, 0}}, seed, kDatasetStream);
  for (int j = 0; j < 4; ++j) d.uniform[j] = static_cast<double>(bits.v[j] >> 11) * kTwoM53;
  random::box_muller4(random::philox4x64({{index, split, 1, 0}}, seed, kDatasetStream), d.normal);
  return d;
}

// (cos 2 pi t, sin 2 pi t) for any t >= 0, bit-identical natively and in wasm.
std::pair<double, double> cos_sin_turns(double t) { return random::portable_cos_sin_turns(t - std::floor(t)); }

// --- 3. Toy sets --------------------------------------------------------------------------------------

// Point `index` of a toy set: (x, y, label). Classes alternate with the index (balanced sets), except
// XOR, whose label is the quadrant's.
void toy_point(DatasetKind kind, double noise, std::uint64_t seed, std::uint64_t split, std::uint64_t index, double& x0,
               double& x1, int& label) {
  const PointDraws d = point_draws(seed, split, index);
  label = static_cast<int>(index % 2);
  switch (kind) {
    case DatasetKind::moons: {
      // Two interleaved half circles (the geometry of scikit-learn's make_moons), centred on 0.
      const auto [c, s] = cos_sin_turns(0.5 * d.uniform[0]);
      if (label == 0)
        x0 = c - 0.5, x1 = s - 0.25;
      else
        x0 = 0.5 - c, x1 = 0.25 - s;
      break;
    }
    case DatasetKind::spirals: {
      // Two arms r = u, angle 1.25 u turns, the second arm rotated by half a turn.
      const double u = 0.05 + 0.95 * d.uniform[0];
      const auto [c, s] = cos_sin_turns(1.25 * u + 0.5 * label);
      x0 = u * c, x1 = u * s;
      break;
    }
    case DatasetKind::xor_: {
      // Uniform on [-1, 1]^2; class 0 where x0 x1 > 0 (first and third quadrants).
      x0 = 2.0 * d.uniform[0] - 1.0, x1 = 2.0 * d.uniform[1] - 1.0;
      label = x0 * x1 > 0 ? 0 : 1;
      break;
    }
    case DatasetKind::circles: {
      // Concentric circles of radius 1 (class 0) and 0.5 (class 1).
      const double r = label == 0 ? 1.0 : 0.5;
      const auto [c, s] = cos_sin_turns(d.uniform[0]);
      x0 = r * c, x1 = r * s;
      break;
    }
    default: x0 = x1 = 0; break;
  }
  x0 += noise * d.normal[0];
  x1 += noise * d.normal[1];
}

Dataset toy_set(DatasetKind kind, double noise, std::uint64_t seed, std::uint64_t split, int count) {
  Dataset data;
  data.x.resize(count, 2);
  data.y.resize(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    int label = 0;
    toy_point(kind, noise, seed, split, static_cast<std::uint64_t>(i), data.x(i, 0), data.x(i, 1), label);
    data.y[static_cast<std::size_t>(i)] = label;
  }
  return data;
}

}  // namespace

// --- 4. idx files and Fashion-MNIST -------------------------------------------------------------------

IdxData parse_idx(const std::uint8_t* data, std::size_t size, const std::string& name, std::size_t max_items) {
  IdxData r;
  const std::string file = "The idx file \"" + echo_user_text(name) + "\"";
  // Magic: two zero bytes, the data type (0x08: unsigned byte), the number of dimensions.
  if (size < 4 || data[0] != 0 || data[1] != 0) return r.status = invalid(file + " does not start with an idx signature."), r;
  if (data[2] != 0x08) return r.status = invalid(file + " holds a data type other than unsigned bytes."), r;
  const int ndims = data[3];
  if (ndims < 1 || ndims > 4 || size < 4 + 4 * std::size_t(ndims))
    return r.status = invalid(file + " has a malformed header."), r;
  std::size_t item_size = 1;
  for (int k = 0; k < ndims; ++k) {
    const std::uint8_t* p = data + 4 + 4 * k;
    const std::uint32_t d = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
    r.dims.push_back(d);
    if (k > 0) {
      if (d == 0 || d > 65536 || item_size > (std::size_t(1) << 24))
        return r.status = invalid(file + " has implausible dimensions."), r;
      item_size *= d;
    }
  }
  const std::size_t header = 4 + 4 * std::size_t(ndims);
  r.items = max_items ? std::min<std::size_t>(max_items, r.dims[0]) : r.dims[0];
  if ((size - header) / item_size < r.items)
    return r.status = invalid(file + " is shorter than its header says (" + std::to_string(r.dims[0]) + " items)."), r;
  r.values.assign(data + header, data + header + r.items * item_size);
  return r;
}

IdxData read_idx_file(const std::string& path, std::size_t max_items) {
  IdxData r;
  std::ifstream file(path, std::ios::binary);
  if (!file) return r.status = invalid("Could not open \"" + echo_user_text(path) + "\"."), r;
  std::vector<std::uint8_t> raw((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
    // Gzipped: decode only as far as the items asked for need (the header first, to learn the size).
    std::size_t limit = 0;
    if (max_items) {
      const InflateResult head = gunzip(raw.data(), raw.size(), 32);
      if (!head.status.ok())
        return r.status = Status::error(head.status.code, "\"" + echo_user_text(path) + "\": " + head.status.message), r;
      const IdxData probe = parse_idx(head.bytes.data(), head.bytes.size(), path, 0);
      if (probe.dims.size() >= 1) {
        std::size_t item_size = 1;
        for (std::size_t k = 1; k < probe.dims.size(); ++k) item_size *= probe.dims[k];
        limit = 4 + 4 * probe.dims.size() + std::min<std::size_t>(max_items, probe.dims[0]) * item_size;
      }
    }
    const InflateResult unpacked = gunzip(raw.data(), raw.size(), limit);
    if (!unpacked.status.ok())
      return r.status = Status::error(unpacked.status.code, "\"" + echo_user_text(path) + "\": " + unpacked.status.message), r;
    return parse_idx(unpacked.bytes.data(), unpacked.bytes.size(), path, max_items);
  }
  return parse_idx(raw.data(), raw.size(), path, max_items);
}

namespace {

// The file of one kind in `dir`: the gzipped name if present, else the plain one.
std::string fashion_file(const std::string& dir, const char* stem) {
  const std::string base = dir + "/" + stem;
  if (std::ifstream(base + ".gz").good()) return base + ".gz";
  return base;
}

constexpr const char* kTrainImages = "train-images-idx3-ubyte";
constexpr const char* kTrainLabels = "train-labels-idx1-ubyte";
constexpr const char* kTestImages = "t10k-images-idx3-ubyte";
constexpr const char* kTestLabels = "t10k-labels-idx1-ubyte";

// The first `count` images (in file order) whose label is in `classes` (all if empty), average-pooled
// by `pool`, optionally standardised.
Status fashion_split(const std::string& dir, const char* images_stem, const char* labels_stem, int count,
                     const std::vector<int>& classes, int pool, bool standardize, Dataset& out) {
  const IdxData labels = read_idx_file(fashion_file(dir, labels_stem));
  if (!labels.status.ok()) return labels.status;
  if (labels.dims.size() != 1) return invalid("The Fashion-MNIST label file is not one-dimensional.");
  std::vector<std::size_t> chosen;
  for (std::size_t i = 0; i < labels.items && chosen.size() < static_cast<std::size_t>(count); ++i)
    if (classes.empty() || std::find(classes.begin(), classes.end(), labels.values[i]) != classes.end()) chosen.push_back(i);
  if (chosen.size() < static_cast<std::size_t>(count)) {
    // A compact subset (the web build's) holds fewer images than the package: say how many there are.
    const bool training = labels_stem == std::string(kTrainLabels);
    return invalid("The Fashion-MNIST " + std::string(training ? "training" : "test") + " set in \"" + echo_user_text(dir) +
                   "\" has only " + std::to_string(chosen.size()) + " images" +
                   (classes.empty() ? "" : " of the chosen classes") + ", but " + std::to_string(count) +
                   " were asked for: use at most " + std::to_string(chosen.size()) + " " + (training ? "training" : "test") +
                   " points.");
  }
  const std::size_t needed = chosen.empty() ? 1 : chosen.back() + 1;
  const IdxData images = read_idx_file(fashion_file(dir, images_stem), needed);
  if (!images.status.ok()) return images.status;
  if (images.dims.size() != 3 || images.dims[1] != 28 || images.dims[2] != 28)
    return invalid("The Fashion-MNIST image file does not hold 28 x 28 images.");
  const int side = 28 / pool, dim = side * side;
  out.x.resize(count, dim);
  out.y.resize(static_cast<std::size_t>(count));
  for (int a = 0; a < count; ++a) {
    const std::size_t index = chosen[static_cast<std::size_t>(a)];
    const std::uint8_t* pixels = images.values.data() + index * 784;
    for (int r = 0; r < side; ++r)
      for (int c = 0; c < side; ++c) {
        double sum = 0;
        for (int i = 0; i < pool; ++i)
          for (int j = 0; j < pool; ++j) sum += pixels[(r * pool + i) * 28 + c * pool + j];
        out.x(a, r * side + c) = sum / (255.0 * pool * pool);
      }
    if (standardize) {
      // Zero mean, unit mean square: G_aa = x_a . x_a / d = 1. A (nearly) constant image has no spread
      // to scale: what the centring leaves is rounding (~1e-17 of a pixel), so it becomes zeros.
      const double mean = out.x.row(a).mean();
      out.x.row(a).array() -= mean;
      const double rms = std::sqrt(out.x.row(a).squaredNorm() / dim);
      if (rms > 1e-9)
        out.x.row(a) /= rms;
      else
        out.x.row(a).setZero();
    }
    out.y[static_cast<std::size_t>(a)] = labels.values[index];
  }
  return Status::success();
}

}  // namespace

bool fashion_mnist_available(const std::string& dir) {
  for (const char* stem : {kTrainImages, kTrainLabels, kTestImages, kTestLabels})
    if (!std::ifstream(fashion_file(dir, stem)).good()) return false;
  return true;
}

const std::vector<std::string>& fashion_mnist_file_names() {
  static const std::vector<std::string> names = {std::string(kTrainImages) + ".gz", std::string(kTrainLabels) + ".gz",
                                                 std::string(kTestImages) + ".gz", std::string(kTestLabels) + ".gz"};
  return names;
}

Status check_fashion_mnist_files(const std::string& dir, const std::vector<long long>& received_bytes) {
  const std::vector<std::string>& files = fashion_mnist_file_names();
  for (std::size_t k = 0; k < files.size(); ++k) {
    const long long expected = k < received_bytes.size() ? received_bytes[k] : -1;
    std::ifstream in(dir + "/" + files[k], std::ios::binary | std::ios::ate);
    if (!in || expected <= 0 || static_cast<long long>(in.tellg()) != expected) return invalid(files[k] + " arrived incomplete");
  }
  for (const char* split : {"train", "t10k"}) {
    const IdxData labels = read_idx_file(dir + "/" + split + "-labels-idx1-ubyte.gz");
    const IdxData images = read_idx_file(dir + "/" + split + "-images-idx3-ubyte.gz", 1);  // the header and one image
    if (!labels.status.ok()) return labels.status;
    if (!images.status.ok()) return images.status;
    if (labels.dims.size() != 1 || images.dims.size() != 3 || images.dims[0] != labels.dims[0] || images.dims[1] != 28 ||
        images.dims[2] != 28)
      return invalid(std::string(split) + " files do not hold matching labels and 28 x 28 images");
  }
  return Status::success();
}

// --- 5. Labelled CSV ----------------------------------------------------------------------------------
namespace {

// The text line (1-based) of data row `row` (0-based): rows are the non-empty lines after '#'
// comments are cut, less a header line (a first line parse_inputs_csv does not read as numbers).
int data_row_line(std::string_view text, std::size_t row) {
  std::size_t pos = 0, seen = 0;
  int line_number = 0;
  bool first = true;
  while (pos <= text.size()) {
    const std::size_t newline = text.find('\n', pos);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (line.find_first_not_of(" \t\r\v\f\xEF\xBB\xBF") == std::string_view::npos) continue;
    if (first) {
      first = false;
      if (!parse_inputs_csv(line).status.ok()) continue;  // the header
    }
    if (seen++ == row) return line_number;
  }
  return line_number;
}

}  // namespace

LabelledCsv parse_labelled_csv(std::string_view text, bool regression) {
  LabelledCsv r;
  InputsResult parsed = parse_inputs_csv(text);
  if (!parsed.status.ok()) return r.status = parsed.status, r;
  const Eigen::MatrixXd& table = parsed.inputs.x[0];
  if (table.cols() < 2)
    return r.status = invalid("A labelled CSV needs at least two columns: the features, then the label in the last column."), r;
  const int rows = static_cast<int>(table.rows()), dim = static_cast<int>(table.cols()) - 1;
  r.data.x = table.leftCols(dim);
  r.data.y.resize(static_cast<std::size_t>(rows));
  for (int a = 0; a < rows; ++a) {
    const double label = table(a, dim);
    if (!regression && (label != std::floor(label) || std::fabs(label) > 1e9)) {
      r.status = invalid("CSV line " + std::to_string(data_row_line(text, static_cast<std::size_t>(a))) + ", column " +
                         std::to_string(dim + 1) + ": the label " + significant_number(label, 10) +
                         " is not an integer class id (for real-valued targets use regression).");
      r.data = {};
      return r;
    }
    r.data.y[static_cast<std::size_t>(a)] = label;
  }
  return r;
}

Status read_text_file(const std::string& path, std::string& text) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return invalid("Could not open the CSV file \"" + echo_user_text(path) + "\".");
  std::ostringstream buffer;
  buffer << file.rdbuf();
  text = buffer.str();
  return Status::success();
}

namespace {

// Deterministic Fisher-Yates shuffle keyed by the seed (CSV files are often sorted by class).
std::vector<int> shuffled_indices(int count, std::uint64_t seed, std::uint64_t split) {
  std::vector<int> order(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) order[static_cast<std::size_t>(i)] = i;
  for (int i = count - 1; i > 0; --i) {
    const random::Block4 bits = random::philox4x64({{static_cast<std::uint64_t>(i), split, 2, 0}}, seed, kDatasetStream);
    const int j = static_cast<int>(static_cast<double>(bits.v[0] >> 11) * kTwoM53 * (i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

// Rows of `data` whose label is in `classes` (all if empty), in shuffled order.
Dataset filtered_shuffled(const Dataset& data, const std::vector<int>& classes, bool regression, std::uint64_t seed,
                          std::uint64_t split) {
  std::vector<int> keep;
  for (int a : shuffled_indices(static_cast<int>(data.x.rows()), seed, split)) {
    const double y = data.y[static_cast<std::size_t>(a)];
    if (regression || classes.empty() || std::find(classes.begin(), classes.end(), static_cast<int>(y)) != classes.end())
      keep.push_back(a);
  }
  Dataset out;
  out.x.resize(static_cast<Eigen::Index>(keep.size()), data.x.cols());
  for (std::size_t k = 0; k < keep.size(); ++k) {
    out.x.row(static_cast<Eigen::Index>(k)) = data.x.row(keep[k]);
    out.y.push_back(data.y[static_cast<std::size_t>(keep[k])]);
  }
  return out;
}

Dataset take_rows(const Dataset& data, int first, int count) {
  Dataset out;
  out.x = data.x.middleRows(first, count);
  out.y.assign(data.y.begin() + first, data.y.begin() + first + count);
  return out;
}

Status csv_split(const DatasetSpec& spec, DatasetSplit& split) {
  if (spec.path.empty()) return invalid("Choose a labelled CSV file (features..., label).");
  std::string text;
  if (Status s = read_text_file(spec.path, text); !s.ok()) return s;
  LabelledCsv train_file = parse_labelled_csv(text, spec.regression);
  if (!train_file.status.ok())
    return Status::error(train_file.status.code, "\"" + echo_user_text(spec.path) + "\": " + train_file.status.message);
  const Dataset pool = filtered_shuffled(train_file.data, spec.classes, spec.regression, spec.seed, 0);
  const std::string filter = spec.classes.empty() || spec.regression ? "" : " of the chosen classes";
  if (spec.test_path.empty()) {
    if (pool.x.rows() < spec.train + spec.test)
      return invalid("The CSV file has " + std::to_string(pool.x.rows()) + " rows" + filter + "; " + std::to_string(spec.train) +
                     " training + " + std::to_string(spec.test) + " test points need that many.");
    split.train = take_rows(pool, 0, spec.train);
    split.test = take_rows(pool, spec.train, spec.test);
    return Status::success();
  }
  if (pool.x.rows() < spec.train)
    return invalid("The CSV file has " + std::to_string(pool.x.rows()) + " rows" + filter + "; " + std::to_string(spec.train) +
                   " training points were asked for.");
  std::string test_text;
  if (Status s = read_text_file(spec.test_path, test_text); !s.ok()) return s;
  LabelledCsv test_file = parse_labelled_csv(test_text, spec.regression);
  if (!test_file.status.ok())
    return Status::error(test_file.status.code, "\"" + echo_user_text(spec.test_path) + "\": " + test_file.status.message);
  if (test_file.data.x.cols() != pool.x.cols())
    return invalid("The test CSV has " + std::to_string(test_file.data.x.cols()) + " features per row, the training CSV " +
                   std::to_string(pool.x.cols()) + ".");
  const Dataset test_pool = filtered_shuffled(test_file.data, spec.classes, spec.regression, spec.seed, 1);
  if (test_pool.x.rows() < spec.test)
    return invalid("The test CSV file has " + std::to_string(test_pool.x.rows()) + " rows" + filter + "; " +
                   std::to_string(spec.test) + " test points were asked for.");
  split.train = take_rows(pool, 0, spec.train);
  split.test = take_rows(test_pool, 0, spec.test);
  return Status::success();
}

}  // namespace

// --- 6. make_dataset ----------------------------------------------------------------------------------

DatasetSplit split_labelled_rows(const std::vector<std::vector<double>>& rows) {
  DatasetSplit split;
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size()), test = n / 4;
  const Eigen::Index dim = rows.empty() ? 0 : static_cast<Eigen::Index>(rows[0].size()) - 1;
  split.train.x.resize(n - test, dim), split.test.x.resize(test, dim);
  Eigen::Index a = 0, b = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::vector<double>& row = rows[static_cast<std::size_t>(i)];
    Dataset& part = i % 4 == 3 ? split.test : split.train;
    const Eigen::Index k = i % 4 == 3 ? b++ : a++;
    for (Eigen::Index j = 0; j < dim; ++j) part.x(k, j) = row[static_cast<std::size_t>(j)];
    part.y.push_back(row.back());
  }
  return split;
}

DatasetSplit make_dataset(const DatasetSpec& spec) {
  DatasetSplit split;
  if (spec.train < 1 || spec.test < 0 || spec.train + static_cast<long long>(spec.test) > DatasetLimits::max_points) {
    split.status = invalid("The numbers of training and test points must be at least 1 and 0, with at most " +
                           std::to_string(DatasetLimits::max_points) + " in all (they are " + std::to_string(spec.train) +
                           " and " + std::to_string(spec.test) + ").");
    return split;
  }
  switch (spec.kind) {
    case DatasetKind::moons:
    case DatasetKind::spirals:
    case DatasetKind::xor_:
    case DatasetKind::circles:
      if (!std::isfinite(spec.noise) || spec.noise < 0 || spec.noise > 10) {
        split.status = invalid("The noise of a toy set must be a number in 0..10.");
        return split;
      }
      split.train = toy_set(spec.kind, spec.noise, spec.seed, 0, spec.train);
      split.test = toy_set(spec.kind, spec.noise, spec.seed, 1, spec.test);
      return split;
    case DatasetKind::fashion_mnist: {
      if (!(spec.downsample == 1 || spec.downsample == 2 || spec.downsample == 4 || spec.downsample == 7 ||
            spec.downsample == 14)) {
        split.status = invalid("Fashion-MNIST downsampling must be 1, 2, 4, 7 or 14 (28 x 28 images pooled to 28/f x 28/f).");
        return split;
      }
      for (int c : spec.classes)
        if (c < 0 || c > 9) {
          split.status = invalid("Fashion-MNIST classes are 0..9 (got " + std::to_string(c) + ").");
          return split;
        }
      const std::string dir = spec.path.empty() ? kFashionMnistDir : spec.path;
      if (!fashion_mnist_available(dir)) {
        split.status = invalid("Fashion-MNIST was not found in \"" + echo_user_text(dir) +
                               "\": install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist).");
        return split;
      }
      split.class_names = fashion_mnist_class_names();
      split.status = fashion_split(dir, kTrainImages, kTrainLabels, spec.train, spec.classes, spec.downsample, spec.standardize,
                                   split.train);
      if (split.status.ok())
        split.status =
            fashion_split(dir, kTestImages, kTestLabels, spec.test, spec.classes, spec.downsample, spec.standardize, split.test);
      return split;
    }
    case DatasetKind::csv: split.status = csv_split(spec, split); return split;
  }
  split.status = invalid("Unknown data set kind.");
  return split;
}

}  // namespace fs
