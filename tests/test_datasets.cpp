// Data sets for GP inference: our gzip/DEFLATE decoder against zlib-made streams, the idx reader and
// Fashion-MNIST against the data set's documented facts, the toy sets' geometry and noise, labelled CSV.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/datasets.h"

using namespace fs;

namespace {

// gzip streams written by Python's zlib (an independent encoder) for the text of `lines_text()`:
// BTYPE 2 (dynamic Huffman, with an FNAME field), BTYPE 1 (fixed Huffman) and BTYPE 0 (stored, the
// first 200 bytes).
const std::vector<std::uint8_t> kDynamic = {
    0x1f, 0x8b, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x6c, 0x69, 0x6e, 0x65, 0x73, 0x2e, 0x74, 0x78, 0x74, 0x00,
    0x4d, 0x94, 0x4b, 0x72, 0x05, 0x21, 0x08, 0x45, 0xe7, 0x59, 0x85, 0x4b, 0x10, 0x91, 0x9f, 0xfb, 0xc9, 0x20, 0x55, 0xa9,
    0xec, 0x7f, 0x18, 0x7c, 0x8d, 0xde, 0x9e, 0x51, 0x36, 0xcd, 0xe1, 0x7b, 0x7f, 0x7f, 0xfe, 0xbe, 0x5b, 0x5f, 0xad, 0x7f,
    0xfd, 0x6e, 0x8b, 0x56, 0xa3, 0xc7, 0x1a, 0xab, 0xcd, 0xc7, 0xe2, 0xd5, 0xe2, 0xb1, 0x66, 0x7e, 0xd5, 0xc7, 0x94, 0xd5,
    0x86, 0x3c, 0xa6, 0xae, 0xc6, 0xf5, 0x6a, 0xf9, 0x53, 0xf9, 0xfa, 0x6a, 0x5a, 0x01, 0x62, 0x35, 0xaf, 0xa8, 0x94, 0x28,
    0x2e, 0x33, 0x59, 0xa3, 0x3c, 0x68, 0xd3, 0xac, 0xec, 0xe4, 0xd9, 0x28, 0x3b, 0x89, 0xc7, 0x4c, 0x22, 0x9f, 0x28, 0x89,
    0xd4, 0xf3, 0x9e, 0xcc, 0xa8, 0x4c, 0x28, 0xa1, 0x7c, 0xc2, 0x27, 0xd5, 0xaa, 0xaa, 0x91, 0x54, 0x2a, 0xff, 0x91, 0x58,
    0x29, 0x9f, 0x91, 0xd8, 0xa8, 0xd4, 0x47, 0x62, 0x67, 0xa5, 0x33, 0x12, 0x1b, 0xa7, 0x0f, 0xc9, 0x9d, 0xc7, 0x3f, 0xb9,
    0x71, 0x7c, 0x92, 0x2b, 0x27, 0x7e, 0x72, 0xbd, 0xcc, 0xc4, 0x6a, 0xa5, 0xc3, 0x89, 0x1d, 0x55, 0x15, 0x27, 0xd6, 0xcb,
    0x87, 0x13, 0x2b, 0xa7, 0xb9, 0x89, 0x1d, 0x95, 0x1a, 0x27, 0xd6, 0xab, 0x7d, 0x9c, 0x58, 0xad, 0x14, 0x78, 0x77, 0xf8,
    0xc4, 0x4c, 0x2c, 0x9d, 0xf7, 0x8d, 0xad, 0xf4, 0x79, 0x73, 0xcb, 0x9e, 0xc9, 0x9d, 0xc5, 0x9a, 0xc9, 0xe5, 0x8a, 0x3f,
    0x93, 0x4b, 0xe7, 0x3d, 0xb9, 0xc7, 0x7d, 0x57, 0x5b, 0x15, 0xce, 0xc4, 0x7a, 0xa1, 0x66, 0x62, 0xed, 0x4c, 0x3e, 0xb1,
    0x76, 0xde, 0x13, 0x6b, 0xc7, 0x3f, 0x60, 0x4b, 0x87, 0x8f, 0x10, 0xfe, 0x95, 0x81, 0x98, 0xc2, 0x60, 0xc9, 0xbc, 0x29,
    0x88, 0x20, 0x33, 0x51, 0x64, 0x2c, 0x86, 0x4a, 0xc4, 0x51, 0xa1, 0x04, 0x2a, 0xd7, 0x8e, 0x8e, 0x28, 0xa1, 0x53, 0x3a,
    0xd0, 0x41, 0x65, 0x74, 0x56, 0x27, 0x3a, 0xae, 0x82, 0x49, 0xa8, 0x62, 0x42, 0x6a, 0x98, 0x9c, 0x3a, 0x26, 0xaa, 0x71,
    0x07, 0x6d, 0x1d, 0xf3, 0x37, 0xc2, 0x5e, 0xd8, 0xc0, 0xbe, 0x18, 0x63, 0x8f, 0x6c, 0x62, 0xbf, 0x4c, 0xb0, 0x77, 0xa6,
    0xd8, 0x47, 0x33, 0xec, 0xa9, 0x39, 0xf6, 0xd7, 0x02, 0x7b, 0xed, 0x1d, 0xfb, 0xee, 0x84, 0x3b, 0xf0, 0x81, 0xfb, 0x70,
    0xbe, 0x67, 0xe3, 0x13, 0xd7, 0xe4, 0x82, 0x2b, 0x73, 0xc5, 0xf5, 0xb9, 0xdd, 0xa3, 0x74, 0xc7, 0xad, 0x7a, 0xbc, 0x4e,
    0xb8, 0xe3, 0xb2, 0x83, 0x70, 0xf0, 0x31, 0xa0, 0x03, 0xc1, 0x90, 0x87, 0x98, 0x57, 0x34, 0x42, 0xae, 0x92, 0x84, 0x5e,
    0x79, 0x09, 0xbb, 0x9a, 0x13, 0x8e, 0xd7, 0xb8, 0xbe, 0xd4, 0xfb, 0x0d, 0x41, 0x9d, 0x10, 0x9a, 0xfa, 0x8b, 0x49, 0x9d,
    0x91, 0x0c, 0xf5, 0x89, 0x2c, 0xa9, 0x0b, 0xd2, 0xa7, 0xae, 0x6f, 0x0d, 0x42, 0xbd, 0xd4, 0xfd, 0xa5, 0x42, 0x3d, 0x5e,
    0x32, 0xb4, 0xa5, 0xea, 0xea, 0xd0, 0x47, 0xac, 0x8e, 0xfd, 0xea, 0x34, 0x6d, 0xb5, 0xba, 0x52, 0xb4, 0xe5, 0xea, 0x6a,
    0xd1, 0x47, 0xb0, 0xae, 0xd6, 0x29, 0xa6, 0x49, 0xf4, 0x1a, 0x33, 0x6d, 0xcd, 0x92, 0xeb, 0x16, 0x9f, 0xc5, 0xf8, 0x07,
    0x0d, 0x88, 0xa5, 0x3c, 0x95, 0x05, 0x00, 0x00,
};
const std::vector<std::uint8_t> kFixed = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0xc9, 0xcc, 0x4b, 0x55, 0x30, 0xb0, 0x52, 0x30, 0xe0,
    0xca, 0x01, 0xb1, 0x0c, 0xad, 0x14, 0x0c, 0x21, 0x2c, 0x23, 0x2b, 0x05, 0x13, 0x08, 0xcb, 0xd8, 0x4a, 0xc1, 0x12, 0xc2,
    0x32, 0x01, 0xca, 0x9a, 0x41, 0x98, 0xa6, 0x56, 0x0a, 0x46, 0xa6, 0x10, 0xa6, 0x99, 0x95, 0x82, 0x31, 0x54, 0xd4, 0x1c,
    0xa8, 0x09, 0xaa, 0xd6, 0xc2, 0x4a, 0xc1, 0x0c, 0x6a, 0x80, 0xa5, 0x95, 0x82, 0x05, 0xd4, 0x54, 0x43, 0xa0, 0x55, 0xc6,
    0x50, 0x26, 0xd0, 0x2e, 0x23, 0xa8, 0x0a, 0x43, 0x90, 0x6d, 0xe6, 0x50, 0x36, 0xd0, 0x3e, 0x73, 0x23, 0x28, 0x1b, 0x68,
    0x23, 0x8c, 0x09, 0xb4, 0xd1, 0x18, 0x66, 0x0a, 0xd0, 0x4a, 0x33, 0x98, 0x38, 0xd0, 0x4e, 0x4b, 0xa8, 0x4b, 0x0c, 0x81,
    0x96, 0x1a, 0xc3, 0x8c, 0x07, 0xda, 0x6a, 0x0e, 0xf5, 0x95, 0x11, 0xd0, 0x56, 0x43, 0xa8, 0x7a, 0x23, 0xa0, 0xb5, 0xa6,
    0x50, 0x35, 0x46, 0x40, 0x6b, 0x2d, 0xa1, 0x4e, 0x37, 0x02, 0x5a, 0x6b, 0x02, 0x75, 0x8e, 0x11, 0xd0, 0x5a, 0x4b, 0x58,
    0x38, 0x00, 0xed, 0x35, 0x81, 0xa9, 0x07, 0xda, 0x6b, 0x09, 0x53, 0x03, 0xb4, 0xd7, 0x14, 0x66, 0x3e, 0xd0, 0x5e, 0x0b,
    0x28, 0x13, 0x68, 0xad, 0x19, 0xd4, 0x39, 0xc6, 0x40, 0x6b, 0x8d, 0xa0, 0xbe, 0x32, 0x06, 0x5a, 0x6b, 0x01, 0x55, 0x63,
    0x0c, 0xb4, 0xd6, 0x14, 0x16, 0xb8, 0x40, 0x6b, 0x8d, 0xa0, 0x4e, 0x33, 0x06, 0x5a, 0x6b, 0x01, 0x0d, 0x3e, 0x63, 0xa0,
    0xb5, 0x66, 0x50, 0x27, 0x18, 0x83, 0x42, 0x18, 0x66, 0x26, 0xd0, 0x5a, 0x43, 0x98, 0x38, 0xc8, 0x5a, 0xa8, 0xf3, 0x8d,
    0x41, 0xf6, 0x42, 0xd9, 0x26, 0x40, 0x7b, 0x4d, 0xa0, 0x76, 0x99, 0x00, 0xed, 0x35, 0x86, 0x9a, 0x6f, 0x02, 0xb4, 0xd7,
    0x10, 0x26, 0x0e, 0xb4, 0x17, 0xa6, 0x1c, 0xe4, 0x5b, 0xa8, 0x0f, 0x4d, 0x80, 0xd6, 0x5a, 0x40, 0xad, 0x32, 0x01, 0x5a,
    0x6b, 0x0e, 0x8b, 0x79, 0xa0, 0xb5, 0xe6, 0x30, 0x71, 0xa0, 0xb5, 0xe6, 0x30, 0xf5, 0x96, 0x08, 0xb6, 0xa9, 0x01, 0x42,
    0x8d, 0xa9, 0x21, 0x42, 0xaf, 0xa9, 0x11, 0xc2, 0x4c, 0x53, 0x63, 0x84, 0x5d, 0xa6, 0x26, 0x70, 0x27, 0x98, 0x9a, 0x22,
    0x5c, 0x66, 0x6a, 0x86, 0x70, 0xb1, 0xa9, 0x39, 0xc2, 0x27, 0xa6, 0x16, 0x08, 0x1f, 0x9a, 0x5a, 0x22, 0x7c, 0x6e, 0x66,
    0x80, 0x08, 0x11, 0x33, 0x43, 0x44, 0x48, 0x99, 0x19, 0x21, 0x42, 0xd0, 0xcc, 0x18, 0x11, 0xb2, 0x66, 0x26, 0x88, 0x10,
    0x37, 0x33, 0x45, 0xc4, 0x84, 0x99, 0x19, 0x22, 0x86, 0xcc, 0xcc, 0x11, 0x31, 0x67, 0x66, 0x81, 0x88, 0x51, 0x33, 0x4b,
    0x78, 0x44, 0x9b, 0x1b, 0x20, 0xe2, 0xdf, 0xdc, 0x10, 0x91, 0x2e, 0xcc, 0x8d, 0x10, 0xe9, 0xc5, 0xdc, 0x18, 0x91, 0x8e,
    0xcc, 0x4d, 0x10, 0xe9, 0xcb, 0xdc, 0x14, 0x91, 0xee, 0xcc, 0xcd, 0x10, 0xe9, 0xd1, 0xdc, 0x1c, 0x91, 0x4e, 0xcd, 0x2d,
    0x10, 0xe9, 0xd7, 0xdc, 0x12, 0x91, 0xae, 0x2d, 0x0c, 0x10, 0xe9, 0xdd, 0xc2, 0x10, 0x91, 0x0f, 0x2c, 0x8c, 0x10, 0xf9,
    0xc3, 0xc2, 0x18, 0x9e, 0x6d, 0x2c, 0x4c, 0x10, 0xb9, 0xc9, 0xc2, 0x14, 0x91, 0xcb, 0x2c, 0xcc, 0x10, 0xb9, 0xcf, 0xc2,
    0x1c, 0x9e, 0x29, 0x2d, 0x2c, 0x10, 0x79, 0xd5, 0xc2, 0x12, 0x29, 0x0b, 0x1b, 0x20, 0x72, 0xb6, 0xa5, 0x21, 0x22, 0xc3,
    0x5b, 0x1a, 0x21, 0xca, 0x01, 0x4b, 0x63, 0x44, 0xf1, 0x60, 0x69, 0x02, 0x2f, 0x34, 0x2c, 0x4d, 0xe1, 0x25, 0x89, 0xa5,
    0x19, 0xbc, 0x78, 0xb1, 0x34, 0x87, 0x97, 0x39, 0x96, 0x16, 0x08, 0x51, 0x4b, 0xb8, 0x5a, 0x43, 0x03, 0x03, 0xb8, 0x11,
    0x86, 0x06, 0x86, 0x08, 0xa3, 0x0d, 0x0d, 0x90, 0xec, 0x34, 0x34, 0x30, 0x46, 0x38, 0xc6, 0xd0, 0xc0, 0x04, 0xe1, 0x4a,
    0x43, 0x03, 0x53, 0x84, 0xf3, 0x0d, 0x0d, 0xcc, 0x90, 0xcb, 0x20, 0x84, 0x7f, 0x0d, 0x0d, 0x2c, 0x90, 0x4a, 0x21, 0x03,
    0x4b, 0xa4, 0x62, 0x08, 0x54, 0x54, 0xc1, 0xcb, 0x21, 0x70, 0x61, 0x05, 0x63, 0x23, 0x85, 0xb4, 0x21, 0xa8, 0xb4, 0x82,
    0x17, 0x45, 0xa0, 0xe2, 0x0a, 0x5e, 0x16, 0x81, 0x0b, 0x2c, 0x78, 0x59, 0x67, 0x86, 0x88, 0x4d, 0x43, 0x43, 0xa4, 0x68,
    0x36, 0x04, 0x95, 0x59, 0xa6, 0x70, 0x65, 0x96, 0xe0, 0x84, 0x01, 0x00, 0x0d, 0x88, 0xa5, 0x3c, 0x95, 0x05, 0x00, 0x00,
};
const std::vector<std::uint8_t> kStored = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0xc8, 0x00, 0x37, 0xff, 0x6c, 0x69, 0x6e, 0x65, 0x20,
    0x30, 0x3a, 0x20, 0x30, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x31, 0x3a, 0x20, 0x31, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20,
    0x32, 0x3a, 0x20, 0x34, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x33, 0x3a, 0x20, 0x39, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20,
    0x34, 0x3a, 0x20, 0x31, 0x36, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x35, 0x3a, 0x20, 0x32, 0x35, 0x0a, 0x6c, 0x69, 0x6e,
    0x65, 0x20, 0x36, 0x3a, 0x20, 0x33, 0x36, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x37, 0x3a, 0x20, 0x34, 0x39, 0x0a, 0x6c,
    0x69, 0x6e, 0x65, 0x20, 0x38, 0x3a, 0x20, 0x36, 0x34, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x39, 0x3a, 0x20, 0x38, 0x31,
    0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x31, 0x30, 0x3a, 0x20, 0x33, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x31, 0x31, 0x3a,
    0x20, 0x32, 0x34, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x31, 0x32, 0x3a, 0x20, 0x34, 0x37, 0x0a, 0x6c, 0x69, 0x6e, 0x65,
    0x20, 0x31, 0x33, 0x3a, 0x20, 0x37, 0x32, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x31, 0x34, 0x3a, 0x20, 0x32, 0x0a, 0x6c,
    0x69, 0x6e, 0x65, 0x20, 0x31, 0x35, 0x3a, 0x20, 0x33, 0x31, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x31, 0x36, 0x3a, 0x20,
    0x36, 0x32, 0x0a, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x31, 0x37, 0x3a, 0x20, 0x39, 0x35, 0x0a, 0xb3, 0x4c, 0xad, 0x28, 0xc8,
    0x00, 0x00, 0x00,
};

std::string lines_text() {
  std::string text;
  char line[64];
  for (int i = 0; i < 120; ++i) {
    std::snprintf(line, sizeof line, "line %d: %d\n", i, i * i % 97);
    text += line;
  }
  return text;
}

std::string as_string(const std::vector<std::uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

// A file name no other test run uses at the same time.
std::string temp_path(const std::string& stem) {
  static int counter = 0;
  return "/tmp/fieldscope_test_" + stem + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "_" + std::to_string(counter++) + ".csv";
}

struct TempFile {
  std::string path;
  TempFile(const std::string& stem, const std::string& text) : path(temp_path(stem)) { std::ofstream(path, std::ios::binary) << text; }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("CRC-32 of the standard check string") {
  const std::string check = "123456789";
  CHECK(crc32(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()) == 0xCBF43926u);
}

TEST_CASE("gunzip decodes zlib's dynamic, fixed and stored blocks") {
  const std::string text = lines_text();
  REQUIRE(text.size() == 1429);
  const InflateResult dynamic = gunzip(kDynamic.data(), kDynamic.size());
  REQUIRE(dynamic.status.ok());
  CHECK(as_string(dynamic.bytes) == text);
  CHECK_FALSE(dynamic.truncated);
  const InflateResult fixed = gunzip(kFixed.data(), kFixed.size());
  REQUIRE(fixed.status.ok());
  CHECK(as_string(fixed.bytes) == text);
  const InflateResult stored = gunzip(kStored.data(), kStored.size());
  REQUIRE(stored.status.ok());
  CHECK(as_string(stored.bytes) == text.substr(0, 200));
}

TEST_CASE("gunzip stops early at max_output with the right prefix") {
  const std::string text = lines_text();
  for (std::size_t limit : {1u, 100u, 777u}) {
    const InflateResult r = gunzip(kDynamic.data(), kDynamic.size(), limit);
    REQUIRE(r.status.ok());
    CHECK(r.truncated);
    CHECK(as_string(r.bytes) == text.substr(0, limit));
  }
  // A limit at or beyond the length decodes everything and checks the CRC.
  const InflateResult all = gunzip(kDynamic.data(), kDynamic.size(), 5000);
  CHECK(all.status.ok());
  CHECK_FALSE(all.truncated);
  CHECK(all.bytes.size() == text.size());
}

TEST_CASE("gunzip reports corrupt, truncated and foreign data with a status, never a crash") {
  // Not gzip at all.
  const std::vector<std::uint8_t> plain(40, 'a');
  const InflateResult foreign = gunzip(plain.data(), plain.size());
  CHECK(foreign.status.code == StatusCode::invalid_input);
  CHECK(foreign.status.message.find("gzip") != std::string::npos);
  // A flipped bit in the CRC trailer.
  std::vector<std::uint8_t> bad_crc = kDynamic;
  bad_crc[bad_crc.size() - 6] ^= 0x10;
  CHECK(gunzip(bad_crc.data(), bad_crc.size()).status.message.find("CRC") != std::string::npos);
  // Every single-byte corruption of the compressed body and every truncation: an error or (rarely) a
  // different text of the right length is acceptable; a crash or a silent "ok" with the CRC failing is not.
  int errors = 0;
  for (std::size_t i = 20; i + 8 < kDynamic.size(); i += 7) {
    std::vector<std::uint8_t> bytes = kDynamic;
    bytes[i] ^= 0xA5;
    const InflateResult r = gunzip(bytes.data(), bytes.size());
    if (!r.status.ok()) ++errors;
    else CHECK(as_string(r.bytes) == lines_text());  // ok means the CRC matched
  }
  CHECK(errors > 0);
  for (std::size_t cut : {std::size_t(12), std::size_t(30), kDynamic.size() / 2, kDynamic.size() - 9}) {
    std::vector<std::uint8_t> bytes(kDynamic.begin(), kDynamic.begin() + static_cast<std::ptrdiff_t>(cut));
    CHECK_FALSE(gunzip(bytes.data(), bytes.size()).status.ok());
  }
}

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
                             img[(2 * r + 1) * 28 + 2 * c + 1]) / (4 * 255.0);
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
          if (label == 0) CHECK((std::hypot(x + 0.5, y + 0.25) == doctest::Approx(1.0).epsilon(1e-14) && y + 0.25 >= -1e-15));
          else CHECK((std::hypot(x - 0.5, y - 0.25) == doctest::Approx(1.0).epsilon(1e-14) && y - 0.25 <= 1e-15));
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
    if (kind != DatasetKind::xor_) CHECK(ones == 200);
    else CHECK(std::abs(ones - 200) < 4 * 10);  // binomial(400, 1/2): sd 10
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
      if (images) bytes.append(784, static_cast<char>(a));
      else bytes.push_back(static_cast<char>(a % 10));
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
