// DEFLATE (RFC 1951) and gzip (RFC 1952) decoding.
//
// Sections
//   1. CRC-32 (RFC 1952 §8)
//   2. Bit reader and canonical Huffman codes (RFC 1951 §3.1.1, §3.2.2)
//   3. DEFLATE blocks: stored, fixed and dynamic Huffman (RFC 1951 §3.2.4-3.2.7)
//   4. gzip members (RFC 1952 §2.3)
#include "core/deflate.h"

#include <algorithm>
#include <array>
#include <string>

namespace fs {

namespace {
Status invalid(std::string message) { return Status::error(StatusCode::invalid_input, std::move(message)); }
}  // namespace

// --- 1. CRC-32 ----------------------------------------------------------------------------------------

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

// --- 2. Bit reader and canonical Huffman codes -------------------------------------------------------
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

// --- 3. DEFLATE blocks --------------------------------------------------------------------------------

// RFC 1951 §3.2.5: base lengths and distances with their extra bits.
constexpr std::uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                           31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::uint16_t kDistanceBase[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                             33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                             1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::uint8_t kDistanceExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
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
      // Past the end the reader yields zero bits: where the all-zero code is a literal, a truncated
      // stream would otherwise repeat that literal until memory runs out.
      if (in.overrun()) return corrupt("it ends in the middle of a block");
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
      for (int s = 0; s < distance_count; ++s)
        dist[static_cast<std::size_t>(s)] = code_lengths[static_cast<std::size_t>(literal_count + s)];
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

// --- 4. gzip members ----------------------------------------------------------------------------------

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
  const std::uint32_t crc =
      trailer[0] | (std::uint32_t(trailer[1]) << 8) | (std::uint32_t(trailer[2]) << 16) | (std::uint32_t(trailer[3]) << 24);
  const std::uint32_t isize =
      trailer[4] | (std::uint32_t(trailer[5]) << 8) | (std::uint32_t(trailer[6]) << 16) | (std::uint32_t(trailer[7]) << 24);
  // ISIZE is the length modulo 2^32: a hint for the allocation, capped by the limit. It is also capped
  // at 16 bytes per compressed byte (more than the idx files need), so that a damaged or truncated
  // file, whose last 4 bytes can say anything up to 4 GiB, cannot make us reserve gigabytes; a larger
  // output still decodes, the vector growing as it goes.
  const std::uint64_t plausible = std::min<std::uint64_t>(isize, std::uint64_t{16} * (size - pos));
  r.bytes.reserve(max_output ? std::min<std::uint64_t>(max_output + 258, plausible) : plausible);
  BitReader in(data + pos, size - pos);
  r.status = inflate_into(in, r.bytes, max_output, r.truncated);
  if (!r.status.ok()) return r;
  if (r.truncated) {
    r.bytes.resize(max_output);
    return r;
  }
  // A complete member (the trailer of a single-member file sits at the end of the data).
  if (static_cast<std::uint32_t>(r.bytes.size()) != isize)
    r.status = corrupt("the decoded length differs from the gzip trailer");
  else if (crc32(r.bytes.data(), r.bytes.size()) != crc)
    r.status = corrupt("the CRC-32 check fails");
  if (r.status.ok() && max_output && r.bytes.size() > max_output) r.bytes.resize(max_output);
  return r;
}

}  // namespace fs
