// DEFLATE (RFC 1951) and gzip (RFC 1952) decoding: our own decoder, so that the wasm build needs no
// zlib. It reads stored, fixed-Huffman and dynamic-Huffman blocks; core/datasets.cpp uses it for the
// gzipped idx files of Fashion-MNIST.
//
// Limits:
//   - gzip: only the first member is decoded, and its CRC-32 and length are read from the last 8 bytes
//     of the data, so a file holding more than one member (or anything after the member) fails the
//     check unless the last trailer happens to match the first member.
//   - `max_output` stops decoding once that many bytes are out (the caller needs only a prefix, e.g.
//     an idx header and its first images); the result is the exact prefix. If decoding stopped inside
//     the member, `truncated` is set and the CRC-32 is not checked (a stored block is copied whole
//     first, so a member that ends with it is complete and checked). Stopping early is not an error.
//   - Corrupt, truncated or foreign data gives an invalid_input status whose message says what was
//     wrong ("The data is not gzip-compressed ...", "The compressed data is corrupt (...)."); `bytes`
//     then holds whatever was decoded before the problem and must not be used.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace fs {

struct InflateResult {
  std::vector<std::uint8_t> bytes;
  bool truncated = false;  // stopped early at max_output: the CRC-32 of the whole member was not checked
  Status status;
};

// Decodes the first gzip member of `data`; stops once `max_output` bytes are out (0: no limit).
// A complete member is checked against its CRC-32 and length.
InflateResult gunzip(const std::uint8_t* data, std::size_t size, std::size_t max_output = 0);
// A raw DEFLATE stream (no gzip header or trailer, nothing checked beyond the stream's own structure).
InflateResult inflate(const std::uint8_t* data, std::size_t size, std::size_t max_output = 0);
// The reflected CRC-32 of gzip and zlib (polynomial 0xEDB88320; crc32("123456789") = 0xCBF43926).
std::uint32_t crc32(const std::uint8_t* data, std::size_t size);

}  // namespace fs
