// Data sets for GP inference: the idx reader and Fashion-MNIST against the data set's documented facts,
// the checks of a received copy of its files, the toy sets' geometry and noise, labelled CSV. (The gzip
// decoder under the idx reader has its own tests: tests/test_deflate.cpp.)
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/datasets.h"
#include "core/deflate.h"  // crc32, to write gzip files

using namespace fs;

namespace {

// A file name no other test run uses at the same time.
std::string temp_path(const std::string& stem) {
  static int counter = 0;
  return "/tmp/fieldscope_test_" + stem + "_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
         "_" + std::to_string(counter++) + ".csv";
}

struct TempFile {
  std::string path;
  TempFile(const std::string& stem, const std::string& text) : path(temp_path(stem)) {
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

void put_big_endian32(std::string& bytes, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((v >> shift) & 0xff));
}

// An unsigned-byte idx file (magic 0x0000 08 <ndims>, big-endian sizes) whose item a is filled with a.
std::string idx_bytes(const std::vector<std::uint32_t>& dims) {
  std::string bytes = {0, 0, 8, static_cast<char>(dims.size())};
  std::size_t item_size = 1;
  for (std::size_t k = 0; k < dims.size(); ++k) {
    put_big_endian32(bytes, dims[k]);
    if (k > 0) item_size *= dims[k];
  }
  for (std::uint32_t a = 0; a < dims[0]; ++a) bytes.append(item_size, static_cast<char>(a));
  return bytes;
}

// `bytes` (< 64 KiB) as a gzip member holding one stored block (RFC 1952 §2.3, RFC 1951 §3.2.4).
std::string gzip_stored(const std::string& bytes) {
  REQUIRE(bytes.size() < 65536);
  const auto len = static_cast<std::uint16_t>(bytes.size()), nlen = static_cast<std::uint16_t>(~len);
  std::string out = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, '\xff', 1};
  for (std::uint16_t v : {len, nlen}) out += {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  out += bytes;
  const std::uint32_t crc = crc32(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  for (std::uint32_t v : {crc, static_cast<std::uint32_t>(bytes.size())})
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
  return out;
}

}  // namespace

TEST_CASE("idx parsing: header, item limit, malformed files") {
  // A 3 x 2 x 2 unsigned-byte file.
  std::vector<std::uint8_t> idx = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
  for (int v = 0; v < 12; ++v) idx.push_back(static_cast<std::uint8_t>(10 + v));
  const IdxData all = parse_idx(idx.data(), idx.size(), "x");
  REQUIRE(all.status.ok());
  CHECK(all.dims == std::vector<std::uint32_t>{3, 2, 2});
  CHECK(all.items == 3);
  CHECK(all.values.size() == 12);
  CHECK(all.values[11] == 21);
  const IdxData two = parse_idx(idx.data(), idx.size(), "x", 2);
  CHECK(two.items == 2);
  CHECK(two.values.size() == 8);
  std::vector<std::uint8_t> short_file(idx.begin(), idx.end() - 1);
  CHECK(parse_idx(short_file.data(), short_file.size(), "x").status.message.find("shorter") != std::string::npos);
  std::vector<std::uint8_t> bad_magic = idx;
  bad_magic[2] = 0x0D;  // float data
  CHECK_FALSE(parse_idx(bad_magic.data(), bad_magic.size(), "x").status.ok());
  CHECK_FALSE(read_idx_file("/nonexistent/file").status.ok());
}

TEST_CASE("Fashion-MNIST from Debian's package: sizes, balanced classes, first labels, pooling, standardisation") {
  if (!fashion_mnist_available()) {
    MESSAGE("skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string dir = kFashionMnistDir;
  // The data set's documented facts: 10000 test images, 1000 per class; the first test image is an
  // ankle boot (9), the second a pullover (2).
  const IdxData labels = read_idx_file(dir + "/t10k-labels-idx1-ubyte.gz");
  REQUIRE(labels.status.ok());
  REQUIRE(labels.items == 10000);
  std::map<int, int> counts;
  for (std::uint8_t v : labels.values) ++counts[v];
  CHECK(counts.size() == 10);
  for (const auto& [c, k] : counts) CHECK(k == 1000);
  CHECK(labels.values[0] == 9);
  CHECK(labels.values[1] == 2);
  // The partial read of the images equals the head of the full read.
  const IdxData head = read_idx_file(dir + "/t10k-images-idx3-ubyte.gz", 5);
  REQUIRE(head.status.ok());
  CHECK(head.dims == std::vector<std::uint32_t>{10000, 28, 28});
  CHECK(head.items == 5);
  const IdxData full = read_idx_file(dir + "/t10k-images-idx3-ubyte.gz");  // CRC-checked
  REQUIRE(full.status.ok());
  REQUIRE(full.values.size() == 7840000u);
  CHECK(std::equal(head.values.begin(), head.values.end(), full.values.begin()));

  DatasetSpec spec;
  spec.kind = DatasetKind::fashion_mnist;
  spec.train = 30;
  spec.test = 20;
  spec.classes = {2, 9};
  spec.downsample = 2;
  spec.standardize = false;
  const DatasetSplit split = make_dataset(spec);
  REQUIRE(split.status.ok());
  CHECK(split.train.x.rows() == 30);
  CHECK(split.train.x.cols() == 196);
  CHECK(split.test.x.rows() == 20);
  for (double y : split.test.y) CHECK((y == 2 || y == 9));
  // Test points are the first images of the chosen classes in file order: image 0 (9), image 1 (2), ...
  std::vector<std::size_t> chosen;
  for (std::size_t i = 0; chosen.size() < 20; ++i)
    if (full.values.size() && (labels.values[i] == 2 || labels.values[i] == 9)) chosen.push_back(i);
  for (int a = 0; a < 20; ++a) {
    const std::uint8_t* img = full.values.data() + chosen[static_cast<std::size_t>(a)] * 784;
    CHECK(split.test.y[static_cast<std::size_t>(a)] == labels.values[chosen[static_cast<std::size_t>(a)]]);
    // Pixel (r, c) of the 14 x 14 image: the mean of a 2 x 2 block of the original, scaled to [0, 1].
    for (int r : {0, 6, 13})
      for (int c : {0, 7, 13}) {
        const double mean = (img[(2 * r) * 28 + 2 * c] + img[(2 * r) * 28 + 2 * c + 1] + img[(2 * r + 1) * 28 + 2 * c] +
                             img[(2 * r + 1) * 28 + 2 * c + 1]) /
                            (4 * 255.0);
        CHECK(split.test.x(a, r * 14 + c) == doctest::Approx(mean).epsilon(1e-15));
      }
  }
  spec.standardize = true;
  const DatasetSplit standard = make_dataset(spec);
  REQUIRE(standard.status.ok());
  for (int a = 0; a < 20; ++a) {
    CHECK(std::fabs(standard.test.x.row(a).mean()) < 1e-12);
    CHECK(standard.test.x.row(a).squaredNorm() / 196 == doctest::Approx(1.0).epsilon(1e-12));
  }
  spec.classes = {11};
  CHECK(make_dataset(spec).status.message.find("0..9") != std::string::npos);
  spec.classes = {};
  spec.downsample = 3;
  CHECK_FALSE(make_dataset(spec).status.ok());
  spec.downsample = 1;
  spec.path = "/nonexistent";
  CHECK(make_dataset(spec).status.message.find("dataset-fashion-mnist") != std::string::npos);
}

TEST_CASE("toy sets without noise lie exactly on their curves; labels are balanced; the seed decides") {
  DatasetSpec spec;
  spec.noise = 0;
  spec.train = 400;
  spec.test = 100;
  for (DatasetKind kind : {DatasetKind::moons, DatasetKind::spirals, DatasetKind::circles, DatasetKind::xor_}) {
    spec.kind = kind;
    const DatasetSplit s = make_dataset(spec);
    REQUIRE(s.status.ok());
    REQUIRE(s.train.x.rows() == 400);
    REQUIRE(s.train.x.cols() == 2);
    int ones = 0;
    for (int a = 0; a < 400; ++a) {
      const double x = s.train.x(a, 0), y = s.train.x(a, 1);
      const int label = static_cast<int>(s.train.y[static_cast<std::size_t>(a)]);
      ones += label;
      switch (kind) {
        case DatasetKind::moons:
          // Upper half circle of radius 1 around (-0.5, -0.25), or the lower one around (0.5, 0.25).
          if (label == 0)
            CHECK((std::hypot(x + 0.5, y + 0.25) == doctest::Approx(1.0).epsilon(1e-14) && y + 0.25 >= -1e-15));
          else
            CHECK((std::hypot(x - 0.5, y - 0.25) == doctest::Approx(1.0).epsilon(1e-14) && y - 0.25 <= 1e-15));
          break;
        case DatasetKind::circles: CHECK(std::hypot(x, y) == doctest::Approx(label == 0 ? 1.0 : 0.5).epsilon(1e-14)); break;
        case DatasetKind::spirals: {
          // r = u in [0.05, 1] at angle 1.25 u turns (+ half a turn for the second arm).
          const double r = std::hypot(x, y);
          CHECK((r >= 0.05 - 1e-15 && r <= 1 + 1e-15));
          const double turns = 1.25 * r + 0.5 * label;
          CHECK(x == doctest::Approx(r * std::cos(2 * M_PI * turns)).epsilon(1e-12).scale(1));
          CHECK(y == doctest::Approx(r * std::sin(2 * M_PI * turns)).epsilon(1e-12).scale(1));
          break;
        }
        default: CHECK(label == (x * y > 0 ? 0 : 1)); break;
      }
    }
    if (kind != DatasetKind::xor_)
      CHECK(ones == 200);
    else
      CHECK(std::abs(ones - 200) < 4 * 10);  // binomial(400, 1/2): sd 10
  }
  spec.kind = DatasetKind::moons;
  const DatasetSplit a = make_dataset(spec), b = make_dataset(spec);
  CHECK(a.train.x == b.train.x);
  CHECK(a.train.x != a.test.x.topRows(100).replicate(4, 1));
  spec.seed = 2;
  CHECK(make_dataset(spec).train.x != a.train.x);
}

TEST_CASE("toy-set noise has the requested standard deviation (radial spread of the circles)") {
  DatasetSpec spec;
  spec.kind = DatasetKind::circles;
  spec.noise = 0.01;
  spec.train = 4000;
  spec.test = 0;
  const DatasetSplit s = make_dataset(spec);
  REQUIRE(s.status.ok());
  // |x| - r0 = radial noise + O(noise^2 / r0): mean 0, standard deviation `noise`.
  double sum = 0, sum2 = 0;
  for (int a = 0; a < 4000; ++a) {
    const double r0 = s.train.y[static_cast<std::size_t>(a)] == 0 ? 1.0 : 0.5;
    const double d = std::hypot(s.train.x(a, 0), s.train.x(a, 1)) - r0;
    sum += d;
    sum2 += d * d;
  }
  const double mean = sum / 4000, sd = std::sqrt(sum2 / 4000 - mean * mean);
  CHECK(std::fabs(mean) < 5 * 0.01 / std::sqrt(4000.0) + 1e-4);  // 5 standard errors + the O(noise^2) bias
  CHECK(std::fabs(sd - 0.01) < 5 * 0.01 / std::sqrt(2 * 4000.0));
}

TEST_CASE("labelled CSV: features and labels, header and comments, errors with line and column") {
  const LabelledCsv ok = parse_labelled_csv("x,y,label\n# a comment\n0.5,1,0\n\n-1,2e-1,1\n3;4;2\n");
  REQUIRE(ok.status.ok());
  CHECK(ok.data.x.rows() == 3);
  CHECK(ok.data.x.cols() == 2);
  CHECK(ok.data.x(1, 1) == 0.2);
  CHECK(ok.data.y == std::vector<double>{0, 1, 2});
  // A non-integer class label: the message names the text line (header and comment lines counted).
  const LabelledCsv frac = parse_labelled_csv("a,b,c\n# comment\n1,2,0\n\n3,4,0.5\n");
  CHECK(frac.status.code == StatusCode::invalid_input);
  CHECK(frac.status.message.find("line 5, column 3") != std::string::npos);
  CHECK(parse_labelled_csv("1,2,0\n3,4,0.5\n", true).status.ok());  // real targets for regression
  CHECK(parse_labelled_csv("1\n2\n").status.message.find("two columns") != std::string::npos);
  const LabelledCsv ragged = parse_labelled_csv("1,2,0\n3,4\n");
  CHECK(ragged.status.message.find("line 2") != std::string::npos);
  const LabelledCsv word = parse_labelled_csv("1,2,0\n3,x,1\n");
  CHECK(word.status.message.find("line 2, column 2") != std::string::npos);
  CHECK(parse_labelled_csv("1,nan,0\n").status.message.find("finite") != std::string::npos);
  CHECK_FALSE(parse_labelled_csv("").status.ok());
  CHECK_FALSE(parse_labelled_csv("a,b,c\n").status.ok());
}

TEST_CASE("CSV data sets: seeded split, class filter, separate test file, clear errors") {
  std::string text = "f1,f2,label\n";
  for (int i = 0; i < 30; ++i) text += std::to_string(i) + "," + std::to_string(i * 0.5) + "," + std::to_string(i % 3) + "\n";
  const TempFile file("labelled", text);
  DatasetSpec spec;
  spec.kind = DatasetKind::csv;
  spec.path = file.path;
  spec.train = 12;
  spec.test = 8;
  const DatasetSplit s = make_dataset(spec);
  REQUIRE(s.status.ok());
  CHECK(s.train.x.rows() == 12);
  CHECK(s.test.x.rows() == 8);
  // Every point keeps its own label (row i holds (i, i/2) with label i mod 3), and no row is used twice.
  std::vector<int> used(30, 0);
  for (const Dataset* d : {&s.train, &s.test})
    for (int a = 0; a < d->x.rows(); ++a) {
      const int i = static_cast<int>(d->x(a, 0));
      CHECK(d->x(a, 1) == i * 0.5);
      CHECK(d->y[static_cast<std::size_t>(a)] == i % 3);
      ++used[static_cast<std::size_t>(i)];
    }
  for (int u : used) CHECK(u <= 1);
  // Shuffled: the training rows are not simply the first 12.
  bool in_order = true;
  for (int a = 0; a < 12; ++a) in_order = in_order && s.train.x(a, 0) == a;
  CHECK_FALSE(in_order);

  spec.classes = {0, 2};
  const DatasetSplit filtered = make_dataset(spec);
  REQUIRE(filtered.status.ok());
  for (double y : filtered.train.y) CHECK(y != 1);
  spec.train = 15;  // 20 rows of classes 0 and 2
  CHECK(make_dataset(spec).status.message.find("20 rows of the chosen classes") != std::string::npos);

  spec.classes = {};
  spec.train = 10;
  spec.test = 5;
  const TempFile test_file("labelled_test", "100,50,1\n101,50.5,2\n102,51,0\n103,51.5,1\n104,52,2\n");
  spec.test_path = test_file.path;
  const DatasetSplit separate = make_dataset(spec);
  REQUIRE(separate.status.ok());
  for (int a = 0; a < 5; ++a) CHECK(separate.test.x(a, 0) >= 100);
  const TempFile wide("labelled_wide", "1,2,3,0\n");
  spec.test_path = wide.path;
  spec.test = 1;
  CHECK(make_dataset(spec).status.message.find("features") != std::string::npos);
  spec.test_path = "";
  spec.path = "/nonexistent.csv";
  CHECK(make_dataset(spec).status.message.find("Could not open") != std::string::npos);
}

TEST_CASE("Fashion-MNIST from a smaller directory (the web build's subset): a request beyond it is refused clearly") {
  // Plain (not gzipped) idx files with 30 training and 12 test images; labels cycle through 0..9 and
  // image a is filled with the byte a.
  const std::string dir = temp_path("fashion_subset") + ".d";
  REQUIRE(std::filesystem::create_directories(dir));
  auto write_idx = [&](const std::string& stem, int items, bool images) {
    std::string bytes = {0, 0, 8, static_cast<char>(images ? 3 : 1)};
    auto put32 = [&](std::uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((v >> shift) & 0xff));
    };
    put32(static_cast<std::uint32_t>(items));
    if (images) put32(28), put32(28);
    for (int a = 0; a < items; ++a) {
      if (images)
        bytes.append(784, static_cast<char>(a));
      else
        bytes.push_back(static_cast<char>(a % 10));
    }
    std::ofstream(dir + "/" + stem, std::ios::binary) << bytes;
  };
  write_idx("train-images-idx3-ubyte", 30, true);
  write_idx("train-labels-idx1-ubyte", 30, false);
  write_idx("t10k-images-idx3-ubyte", 12, true);
  write_idx("t10k-labels-idx1-ubyte", 12, false);
  REQUIRE(fashion_mnist_available(dir));
  DatasetSpec spec;
  spec.kind = DatasetKind::fashion_mnist;
  spec.path = dir;
  spec.train = 30;
  spec.test = 12;
  spec.standardize = false;
  const DatasetSplit all = make_dataset(spec);
  REQUIRE(all.status.ok());
  CHECK(all.train.x.rows() == 30);
  CHECK(all.test.x.rows() == 12);
  CHECK(all.train.y[13] == 3);
  CHECK(all.train.x(13, 400) == doctest::Approx(13.0 / 255).epsilon(1e-15));
  // A constant image has nothing to standardise: it becomes zeros, not rounding noise blown up to +-1.
  spec.standardize = true;
  const DatasetSplit flat = make_dataset(spec);
  REQUIRE(flat.status.ok());
  CHECK(flat.train.x.cwiseAbs().maxCoeff() == 0.0);
  spec.standardize = false;
  spec.train = 31;
  const Status too_many = make_dataset(spec).status;
  CHECK(too_many.code == StatusCode::invalid_input);
  CHECK(too_many.message.find("training set") != std::string::npos);
  CHECK(too_many.message.find("only 30 images") != std::string::npos);
  CHECK(too_many.message.find("31 were asked for") != std::string::npos);
  CHECK(too_many.message.find("at most 30 training points") != std::string::npos);
  spec.train = 30;
  spec.test = 13;
  CHECK(make_dataset(spec).status.message.find("test set") != std::string::npos);
  CHECK(make_dataset(spec).status.message.find("at most 12 test points") != std::string::npos);
  spec.test = 2;
  spec.train = 4;
  spec.classes = {0};  // images 0, 10, 20
  const Status filtered = make_dataset(spec).status;
  CHECK(filtered.message.find("only 3 images of the chosen classes") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a received copy of the Fashion-MNIST files: matching files pass; missing, short or foreign ones are refused") {
  const std::vector<std::string>& names = fashion_mnist_file_names();
  REQUIRE(names == std::vector<std::string>{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"});
  if (fashion_mnist_available()) {
    // Debian's package itself, with its files' sizes as the received counts.
    std::vector<long long> sizes;
    for (const std::string& name : names)
      sizes.push_back(static_cast<long long>(std::filesystem::file_size(kFashionMnistDir + ("/" + name))));
    CHECK(check_fashion_mnist_files(kFashionMnistDir, sizes).ok());
  }
  const std::string dir = temp_path("fashion_received") + ".d";
  REQUIRE(std::filesystem::create_directories(dir));
  const std::vector<std::string> good = {gzip_stored(idx_bytes({3, 28, 28})), gzip_stored(idx_bytes({3})),
                                         gzip_stored(idx_bytes({2, 28, 28})), gzip_stored(idx_bytes({2}))};
  auto write = [&](std::size_t k, const std::string& bytes) { std::ofstream(dir + "/" + names[k], std::ios::binary) << bytes; };
  auto check_with = [&](std::size_t k, const std::string& bytes) {
    write(k, bytes);
    std::vector<long long> sizes;
    for (std::size_t j = 0; j < 4; ++j) sizes.push_back(static_cast<long long>(j == k ? bytes.size() : good[j].size()));
    const Status status = check_fashion_mnist_files(dir, sizes);
    write(k, good[k]);
    return status;
  };
  for (std::size_t k = 0; k < 4; ++k) write(k, good[k]);
  const std::vector<long long> sizes = {static_cast<long long>(good[0].size()), static_cast<long long>(good[1].size()),
                                        static_cast<long long>(good[2].size()), static_cast<long long>(good[3].size())};
  CHECK(check_fashion_mnist_files(dir, sizes).ok());
  // Bytes that did not all arrive: a count that differs from the file, a missing or zero count, a missing file.
  std::vector<long long> differs = sizes;
  differs[0] += 1;
  CHECK(check_fashion_mnist_files(dir, differs).message == "train-images-idx3-ubyte.gz arrived incomplete");
  CHECK(check_fashion_mnist_files(dir, {sizes[0], sizes[1], sizes[2]}).message == "t10k-labels-idx1-ubyte.gz arrived incomplete");
  CHECK(check_fashion_mnist_files(dir, {sizes[0], 0, sizes[2], sizes[3]}).message ==
        "train-labels-idx1-ubyte.gz arrived incomplete");
  std::filesystem::remove(dir + "/" + names[1]);
  const Status missing = check_fashion_mnist_files(dir, sizes);
  CHECK(missing.code == StatusCode::invalid_input);
  CHECK(missing.message == "train-labels-idx1-ubyte.gz arrived incomplete");
  write(1, good[1]);
  REQUIRE(check_fashion_mnist_files(dir, sizes).ok());
  // Complete as received, but damaged: a gzip member cut short, a file that is not idx, a wrong data type.
  CHECK(check_with(2, good[2].substr(0, good[2].size() / 2)).message.find("The compressed data is corrupt") != std::string::npos);
  std::string not_idx = idx_bytes({3});
  not_idx[0] = 'P';
  CHECK(check_with(1, gzip_stored(not_idx)).message.find("does not start with an idx signature") != std::string::npos);
  std::string floats = idx_bytes({2});
  floats[2] = 0x0D;
  CHECK(check_with(3, gzip_stored(floats)).message.find("data type other than unsigned bytes") != std::string::npos);
  // Well-formed idx files that do not belong together.
  CHECK(check_with(1, gzip_stored(idx_bytes({4}))).message == "train files do not hold matching labels and 28 x 28 images");
  CHECK(check_with(2, gzip_stored(idx_bytes({2, 27, 28}))).message ==
        "t10k files do not hold matching labels and 28 x 28 images");
  CHECK(check_with(3, gzip_stored(idx_bytes({2, 1}))).message == "t10k files do not hold matching labels and 28 x 28 images");
  CHECK(check_fashion_mnist_files(dir, sizes).ok());
  std::filesystem::remove_all(dir);
}
