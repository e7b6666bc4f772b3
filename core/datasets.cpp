// Labelled data sets for GP inference: toy 2-D sets, Fashion-MNIST, labelled CSV (docs/theory.md §7).
//
// Sections
//   1. Names
//   2. Deterministic draws for the toy sets (core/random.h)
//   3. Toy sets: two moons, spirals, XOR, circles
//   4. CRC-32, DEFLATE and gzip decoding (RFC 1951, RFC 1952)
//   5. idx files and Fashion-MNIST
//   6. Labelled CSV
//   7. make_dataset
#include "core/datasets.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/inputs.h"
#include "core/random.h"

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
void toy_point(DatasetKind kind, double noise, std::uint64_t seed, std::uint64_t split, std::uint64_t index,
               double& x0, double& x1, int& label) {
  const PointDraws d = point_draws(seed, split, index);
  label = static_cast<int>(index % 2);
  switch (kind) {
    case DatasetKind::moons: {
      // Two interleaved half circles (the geometry of scikit-learn's make_moons), centred on 0.
      const auto [c, s] = cos_sin_turns(0.5 * d.uniform[0]);
      if (label == 0) x0 = c - 0.5, x1 = s - 0.25;
      else x0 = 0.5 - c, x1 = 0.25 - s;
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

// --- 4. CRC-32, DEFLATE and gzip decoding -------------------------------------------------------------

std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  // The reflected CRC-32 of gzip (RFC 1952 §8), polynomial 0xEDB88320, one table lookup per byte.
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

namespace {

// Bits are read least-significant first (RFC 1951 §3.1.1).
class BitReader {
 public:
  BitReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  // The next n <= 32 bits without consuming them; past the end they read as 0 and `overrun` is set
  // when they are consumed.
  std::uint32_t peek(int n) {
    while (count_ < n) {
      const std::uint64_t byte = pos_ < size_ ? data_[pos_] : 0;
      buffer_ |= byte << count_;
      ++pos_;
      count_ += 8;
    }
    return static_cast<std::uint32_t>(buffer_ & ((std::uint64_t{1} << n) - 1));
  }
  void consume(int n) {
    buffer_ >>= n;
    count_ -= n;
    if (pos_ > size_ && static_cast<std::int64_t>(pos_ - size_) * 8 > count_) overrun_ = true;
  }
  std::uint32_t bits(int n) {
    if (n == 0) return 0;
    const std::uint32_t v = peek(n);
    consume(n);
    return v;
  }
  void align_to_byte() { consume(count_ % 8); }
  bool overrun() const { return overrun_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::uint64_t buffer_ = 0;
  int count_ = 0;
  bool overrun_ = false;
};

// A canonical Huffman code (RFC 1951 §3.2.2) from code lengths. Codes up to kFastBits long decode with
// one table lookup; longer ones walk the canonical code length by length.
class Huffman {
 public:
  static constexpr int kFastBits = 9;

  // False if the lengths over-subscribe the code space (not a prefix code).
  bool build(const std::uint8_t* lengths, int n) {
    count_.fill(0);
    for (int s = 0; s < n; ++s) ++count_[lengths[s]];
    count_[0] = 0;
    int left = 1;
    for (int len = 1; len <= 15; ++len) {
      left = 2 * left - count_[len];
      if (left < 0) return false;
    }
    std::array<int, 16> offset{};
    for (int len = 1; len < 15; ++len) offset[len + 1] = offset[len] + count_[len];
    symbol_.assign(static_cast<std::size_t>(n), 0);
    for (int s = 0; s < n; ++s)
      if (lengths[s]) symbol_[static_cast<std::size_t>(offset[lengths[s]]++)] = static_cast<std::uint16_t>(s);
    // Fast table: each code of length <= kFastBits fills every slot whose low bits are the code read
    // LSB-first (the code's bits reversed).
    fast_.fill(0);
    int code = 0;
    std::array<int, 16> next{};
    for (int len = 1; len <= 15; ++len) {
      code = (code + count_[len - 1]) << 1;
      next[len] = code;
    }
    for (int s = 0; s < n; ++s) {
      const int len = lengths[s];
      if (len == 0 || len > kFastBits) continue;
      const int c = next[len]++;
      int reversed = 0;
      for (int b = 0; b < len; ++b) reversed |= ((c >> b) & 1) << (len - 1 - b);
      for (int slot = reversed; slot < (1 << kFastBits); slot += 1 << len)
        fast_[static_cast<std::size_t>(slot)] = static_cast<std::uint16_t>((s << 4) | len);
    }
    return true;
  }

  // The next symbol, or -1 for a bit pattern that is not a code.
  int decode(BitReader& in) const {
    const std::uint32_t window = in.peek(15);
    const std::uint16_t entry = fast_[window & ((1u << kFastBits) - 1)];
    if (entry) {
      in.consume(entry & 15);
      return entry >> 4;
    }
    // Canonical walk: codes of one length are consecutive integers, read MSB-first (RFC 1951 §3.2.2).
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= 15; ++len) {
      code |= static_cast<int>((window >> (len - 1)) & 1);
      const int count = count_[len];
      if (code - first < count) {
        in.consume(len);
        return symbol_[static_cast<std::size_t>(index + code - first)];
      }
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    return -1;
  }

 private:
  std::array<int, 16> count_{};
  std::vector<std::uint16_t> symbol_;
  std::array<std::uint16_t, 1 << kFastBits> fast_{};
};

// RFC 1951 §3.2.5: base lengths and distances with their extra bits.
constexpr std::uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                           31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                           2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::uint16_t kDistanceBase[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                             33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                             1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::uint8_t kDistanceExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                             6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

Status corrupt(const std::string& what) {
  return Status::error(StatusCode::invalid_input, "The compressed data is corrupt (" + what + ").");
}

// Decodes literal/length and distance symbols until the end-of-block code.
// Stops early (setting `stopped`) once max_output bytes are out.
Status inflate_block(BitReader& in, const Huffman& lengths, const Huffman& distances, std::vector<std::uint8_t>& out,
                     std::size_t max_output, bool& stopped) {
  while (true) {
    if (max_output && out.size() >= max_output) {
      stopped = true;
      return Status::success();
    }
    const int symbol = lengths.decode(in);
    if (symbol < 0) return corrupt("an invalid literal/length code");
    if (symbol < 256) {
      out.push_back(static_cast<std::uint8_t>(symbol));
      continue;
    }
    if (symbol == 256) return Status::success();
    if (symbol > 285) return corrupt("a length symbol above 285");
    const int length = kLengthBase[symbol - 257] + static_cast<int>(in.bits(kLengthExtra[symbol - 257]));
    const int dsym = distances.decode(in);
    if (dsym < 0 || dsym > 29) return corrupt("an invalid distance code");
    const std::size_t distance = kDistanceBase[dsym] + in.bits(kDistanceExtra[dsym]);
    if (in.overrun()) return corrupt("it ends in the middle of a block");
    if (distance > out.size()) return corrupt("a distance before the start of the data");
    // Byte by byte: a match may overlap the bytes it produces (distance < length repeats them).
    std::size_t from = out.size() - distance;
    for (int k = 0; k < length; ++k) out.push_back(out[from++]);
  }
}

Status inflate_into(BitReader& in, std::vector<std::uint8_t>& out, std::size_t max_output, bool& truncated) {
  Huffman lengths, distances;
  bool last = false;
  while (!last) {
    if (max_output && out.size() >= max_output) {
      truncated = true;
      return Status::success();
    }
    last = in.bits(1) != 0;
    const std::uint32_t type = in.bits(2);
    if (in.overrun()) return corrupt("it ends before the last block");
    if (type == 0) {  // stored: LEN, NLEN = ~LEN, then LEN raw bytes (§3.2.4)
      in.align_to_byte();
      const std::uint32_t len = in.bits(16), nlen = in.bits(16);
      if (in.overrun()) return corrupt("a stored block without its length");
      if ((len ^ 0xFFFFu) != nlen) return corrupt("a stored block whose length check fails");
      for (std::uint32_t k = 0; k < len; ++k) out.push_back(static_cast<std::uint8_t>(in.bits(8)));
      if (in.overrun()) return corrupt("a stored block longer than the data");
      continue;
    }
    std::array<std::uint8_t, 320> code_lengths{};
    int literal_count = 288, distance_count = 30;
    if (type == 1) {  // fixed Huffman codes (§3.2.6)
      for (int s = 0; s < 288; ++s) code_lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
      for (int s = 0; s < 30; ++s) code_lengths[288 + s] = 5;
    } else if (type == 2) {  // dynamic Huffman codes (§3.2.7)
      literal_count = static_cast<int>(in.bits(5)) + 257;
      distance_count = static_cast<int>(in.bits(5)) + 1;
      const int code_length_count = static_cast<int>(in.bits(4)) + 4;
      if (literal_count > 286 || distance_count > 30) return corrupt("too many length or distance codes");
      static constexpr std::uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
      std::array<std::uint8_t, 19> cl{};
      for (int k = 0; k < code_length_count; ++k) cl[kOrder[k]] = static_cast<std::uint8_t>(in.bits(3));
      Huffman cl_code;
      if (!cl_code.build(cl.data(), 19)) return corrupt("an over-subscribed code-length code");
      const int total = literal_count + distance_count;
      int k = 0;
      while (k < total) {
        const int symbol = cl_code.decode(in);
        if (symbol < 0) return corrupt("an invalid code-length code");
        if (symbol < 16) {
          code_lengths[static_cast<std::size_t>(k++)] = static_cast<std::uint8_t>(symbol);
          continue;
        }
        std::uint8_t value = 0;
        int repeat = 0;
        if (symbol == 16) {
          if (k == 0) return corrupt("a repeat with no previous length");
          value = code_lengths[static_cast<std::size_t>(k - 1)];
          repeat = 3 + static_cast<int>(in.bits(2));
        } else if (symbol == 17) {
          repeat = 3 + static_cast<int>(in.bits(3));
        } else {
          repeat = 11 + static_cast<int>(in.bits(7));
        }
        if (k + repeat > total) return corrupt("code lengths beyond the declared count");
        while (repeat--) code_lengths[static_cast<std::size_t>(k++)] = value;
      }
      if (in.overrun()) return corrupt("it ends inside a block header");
      if (code_lengths[256] == 0) return corrupt("a block without an end-of-block code");
      // The distance lengths follow the literal/length ones; move them to the fixed offset 288.
      std::array<std::uint8_t, 30> dist{};
      for (int s = 0; s < distance_count; ++s) dist[static_cast<std::size_t>(s)] = code_lengths[static_cast<std::size_t>(literal_count + s)];
      for (int s = literal_count; s < 320; ++s) code_lengths[static_cast<std::size_t>(s)] = 0;
      for (int s = 0; s < 30; ++s) code_lengths[static_cast<std::size_t>(288 + s)] = dist[static_cast<std::size_t>(s)];
    } else {
      return corrupt("a block of the reserved type 3");
    }
    if (!lengths.build(code_lengths.data(), literal_count)) return corrupt("an over-subscribed literal/length code");
    if (!distances.build(code_lengths.data() + 288, distance_count)) return corrupt("an over-subscribed distance code");
    if (Status s = inflate_block(in, lengths, distances, out, max_output, truncated); !s.ok()) return s;
    if (in.overrun()) return corrupt("it ends in the middle of a block");
    if (truncated) return Status::success();
  }
  return Status::success();
}

}  // namespace

InflateResult inflate(const std::uint8_t* data, std::size_t size, std::size_t max_output) {
  InflateResult r;
  BitReader in(data, size);
  r.status = inflate_into(in, r.bytes, max_output, r.truncated);
  if (max_output && r.bytes.size() > max_output) r.bytes.resize(max_output);
  return r;
}

InflateResult gunzip(const std::uint8_t* data, std::size_t size, std::size_t max_output) {
  InflateResult r;
  // RFC 1952 §2.3: ID1 ID2 CM FLG MTIME(4) XFL OS, optional fields, DEFLATE data, CRC32, ISIZE.
  if (size < 18 || data[0] != 0x1f || data[1] != 0x8b) {
    r.status = invalid("The data is not gzip-compressed (no gzip signature).");
    return r;
  }
  if (data[2] != 8) {
    r.status = invalid("The gzip data uses an unknown compression method.");
    return r;
  }
  const std::uint8_t flags = data[3];
  std::size_t pos = 10;
  auto need = [&](std::size_t n) { return pos + n <= size; };
  if (flags & 4) {  // FEXTRA
    if (!need(2)) return r.status = corrupt("a truncated gzip header"), r;
    pos += 2 + (data[pos] | (std::size_t(data[pos + 1]) << 8));
  }
  for (int field : {8, 16}) {  // FNAME, FCOMMENT: zero-terminated
    if (!(flags & field)) continue;
    while (pos < size && data[pos] != 0) ++pos;
    ++pos;
  }
  if (flags & 2) pos += 2;  // FHCRC
  if (pos + 8 > size) return r.status = corrupt("a truncated gzip header"), r;
  const std::uint8_t* trailer = data + size - 8;
  const std::uint32_t crc = trailer[0] | (std::uint32_t(trailer[1]) << 8) | (std::uint32_t(trailer[2]) << 16) |
                            (std::uint32_t(trailer[3]) << 24);
  const std::uint32_t isize = trailer[4] | (std::uint32_t(trailer[5]) << 8) | (std::uint32_t(trailer[6]) << 16) |
                              (std::uint32_t(trailer[7]) << 24);
  // ISIZE is the length modulo 2^32: a hint for the allocation, capped by the limit.
  r.bytes.reserve(max_output ? std::min<std::size_t>(max_output + 258, isize) : isize);
  BitReader in(data + pos, size - pos);
  r.status = inflate_into(in, r.bytes, max_output, r.truncated);
  if (!r.status.ok()) return r;
  if (r.truncated) {
    r.bytes.resize(max_output);
    return r;
  }
  // A complete member (the trailer of a single-member file sits at the end of the data).
  if (static_cast<std::uint32_t>(r.bytes.size()) != isize) r.status = corrupt("the decoded length differs from the gzip trailer");
  else if (crc32(r.bytes.data(), r.bytes.size()) != crc) r.status = corrupt("the CRC-32 check fails");
  if (r.status.ok() && max_output && r.bytes.size() > max_output) r.bytes.resize(max_output);
  return r;
}

// --- 5. idx files and Fashion-MNIST -------------------------------------------------------------------

IdxData parse_idx(const std::uint8_t* data, std::size_t size, const std::string& name, std::size_t max_items) {
  IdxData r;
  const std::string file = "The idx file \"" + echo_user_text(name) + "\"";
  // Magic: two zero bytes, the data type (0x08: unsigned byte), the number of dimensions.
  if (size < 4 || data[0] != 0 || data[1] != 0) return r.status = invalid(file + " does not start with an idx signature."), r;
  if (data[2] != 0x08) return r.status = invalid(file + " holds a data type other than unsigned bytes."), r;
  const int ndims = data[3];
  if (ndims < 1 || ndims > 4 || size < 4 + 4 * std::size_t(ndims)) return r.status = invalid(file + " has a malformed header."), r;
  std::size_t item_size = 1;
  for (int k = 0; k < ndims; ++k) {
    const std::uint8_t* p = data + 4 + 4 * k;
    const std::uint32_t d = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
    r.dims.push_back(d);
    if (k > 0) {
      if (d == 0 || d > 65536 || item_size > (std::size_t(1) << 24)) return r.status = invalid(file + " has implausible dimensions."), r;
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
      if (!head.status.ok()) return r.status = Status::error(head.status.code, "\"" + echo_user_text(path) + "\": " + head.status.message), r;
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
                   "\" has only " + std::to_string(chosen.size()) + " images" + (classes.empty() ? "" : " of the chosen classes") + ", but " +
                   std::to_string(count) + " were asked for: use at most " + std::to_string(chosen.size()) + " " +
                   (training ? "training" : "test") + " points.");
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
      if (rms > 1e-9) out.x.row(a) /= rms;
      else out.x.row(a).setZero();
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

// --- 6. Labelled CSV ----------------------------------------------------------------------------------
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
      std::ostringstream os;
      os.precision(10);
      os << "CSV line " << data_row_line(text, static_cast<std::size_t>(a)) << ", column " << dim + 1 << ": the label "
         << label << " is not an integer class id (for real-valued targets use regression).";
      r.status = invalid(os.str());
      r.data = {};
      return r;
    }
    r.data.y[static_cast<std::size_t>(a)] = label;
  }
  return r;
}

namespace {

Status read_text_file(const std::string& path, std::string& text) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return invalid("Could not open the CSV file \"" + echo_user_text(path) + "\".");
  std::ostringstream buffer;
  buffer << file.rdbuf();
  text = buffer.str();
  return Status::success();
}

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
  if (!train_file.status.ok()) return Status::error(train_file.status.code, "\"" + echo_user_text(spec.path) + "\": " + train_file.status.message);
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

// --- 7. make_dataset ----------------------------------------------------------------------------------

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
      if (!(spec.downsample == 1 || spec.downsample == 2 || spec.downsample == 4 || spec.downsample == 7 || spec.downsample == 14)) {
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
      split.status = fashion_split(dir, kTrainImages, kTrainLabels, spec.train, spec.classes, spec.downsample, spec.standardize, split.train);
      if (split.status.ok())
        split.status = fashion_split(dir, kTestImages, kTestLabels, spec.test, spec.classes, spec.downsample, spec.standardize, split.test);
      return split;
    }
    case DatasetKind::csv: split.status = csv_split(spec, split); return split;
  }
  split.status = invalid("Unknown data set kind.");
  return split;
}

}  // namespace fs
