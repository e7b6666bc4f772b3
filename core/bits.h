// The bits of a double and back. std::bit_cast is missing from the libc++ of Emscripten 3.1.6, so
// these use memcpy, which compilers fold into a register move.
#pragma once

#include <cstdint>
#include <cstring>

namespace fs {

inline std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

inline double double_from_bits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

}  // namespace fs
