// Deterministic random numbers: counter-based streams (Philox4x64-10) and standard normals built only
// from correctly rounded IEEE operations, so that the same (seed, counter) gives the same bits natively
// and in wasm, on any thread (STYLE.md guideline 6).
//
// Why our own code: Random123 1.14's feature headers refuse to compile for wasm32, and libm's
// log/sin/cos differ between glibc and musl in the last bit. Only +, -, *, /, sqrt (correctly rounded)
// and bit manipulation/floor (exact) are used below. Series accuracy is a few ulp, far below anything a statistic
// can see. tests/test_scene.cpp and tests/test_ensemble.cpp check the generator against Random123 and
// the Box-Muller transform against libm natively.
#pragma once
#include <cstring>
#include <cmath>
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <utility>

// GCC contracts a * b + c into a fused multiply-add on FMA hardware (its default -ffp-contract=fast),
// which rounds once instead of twice: the series below would then differ from the wasm build (no FMA)
// in the last bit. Contraction is switched off for this header's functions only.
#if defined(__GNUC__) && !defined(__clang__)
#define FS_RANDOM_NO_CONTRACT_BEGIN _Pragma("GCC push_options") _Pragma("GCC optimize(\"fp-contract=off\")")
#define FS_RANDOM_NO_CONTRACT_END _Pragma("GCC pop_options")
#else
#define FS_RANDOM_NO_CONTRACT_BEGIN
#define FS_RANDOM_NO_CONTRACT_END
#endif

namespace fs::random {

// 1/n for the atanh series and 1/n! for the sine/cosine series, folded at compile time (exact IEEE
// rounding, so native and wasm get the same constants).
struct SeriesCoefficients {
  double inverse[24] = {};
  double inverse_factorial[20] = {};
  double signed_sin[10] = {}, signed_cos[10] = {};
  constexpr SeriesCoefficients() {
    for (int n = 1; n < 24; ++n) inverse[n] = 1.0 / n;
    double f = 1.0;
    inverse_factorial[0] = 1.0;
    for (int n = 1; n < 20; ++n) {
      f /= n;
      inverse_factorial[n] = f;
    }
    for (int k = 0; k < 10; ++k) {  // (-1)^k / (2k+1)! and (-1)^k / (2k)!: the sign flip is exact
      signed_sin[k] = (k % 2 == 0 ? 1.0 : -1.0) * inverse_factorial[2 * k + 1];
      signed_cos[k] = (k % 2 == 0 ? 1.0 : -1.0) * inverse_factorial[2 * k];
    }
  }
};
inline constexpr SeriesCoefficients kSeries;

// std::bit_cast is missing from the libc++ of Emscripten 3.1.6: memcpy, which compilers fold away.
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

FS_RANDOM_NO_CONTRACT_BEGIN

// log(u) for u in [2^-53, 1]: log(2^e m) = e log 2 + 2 atanh(s), s = (m - 1)/(m + 1), m in [1/sqrt2, sqrt2).
// The exponent and mantissa are read from the bits (exactly what frexp returns for normal numbers, but
// inline, so that batches of logarithms vectorise).
inline double portable_log(double u) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // fdlibm split: e * kLn2Hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kSqrtHalf = 0.70710678118654752440;
  const std::uint64_t bits = bits_of(u);
  // frexp: u = m 2^e with m in [1/2, 1) (exact integer arithmetic, held in doubles so it vectorises).
  const double exponent = static_cast<double>(static_cast<std::int64_t>((bits >> 52) & 0x7ff)) - 1022.0;
  double m = double_from_bits((bits & 0x000fffffffffffffull) | 0x3fe0000000000000ull);
  const bool low = m < kSqrtHalf;
  m = low ? m * 2.0 : m;
  const double e = low ? exponent - 1.0 : exponent;
  const double f = m - 1.0;
  const double s = f / (2.0 + f);  // |s| <= 0.1716, s^2 <= 0.0295
  const double s2 = s * s;
  double series = kSeries.inverse[23];  // atanh(s)/s = sum s^(2k)/(2k + 1), truncated after s^22 (< 1e-17)
  for (int n = 21; n >= 1; n -= 2) series = series * s2 + kSeries.inverse[n];
  return e * kLn2Hi + (e * kLn2Lo + 2.0 * s * series);
}

// (cos 2 pi t, sin 2 pi t) for t in [0, 1): reduce to theta in [-pi/4, pi/4] around a quarter turn,
// then Taylor series through theta^19 (error < 1e-17).
inline std::pair<double, double> portable_cos_sin_turns(double t) {
  constexpr double kTwoPi = 6.28318530717958647692;
  const double quarter = std::floor(t * 4.0 + 0.5);
  const double theta = (t - quarter * 0.25) * kTwoPi;  // t - quarter/4 is exact
  const double theta2 = theta * theta;
  double sin_series = 0.0, cos_series = 0.0;
  for (int k = 9; k >= 0; --k) {  // sin x = x sum (-1)^k x^2k/(2k+1)!, cos x = sum (-1)^k x^2k/(2k)!
    sin_series = sin_series * theta2 + kSeries.signed_sin[k];
    cos_series = cos_series * theta2 + kSeries.signed_cos[k];
  }
  const double s = theta * sin_series, c = cos_series;
  // (c, s) rotated by quarter * 90 degrees (quarter is 0..4; 4 is a full turn).
  const bool odd = quarter == 1.0 || quarter == 3.0, flip = quarter == 2.0 || quarter == 3.0;
  const double x = odd ? -s : c, y = odd ? c : s;
  return {flip ? -x : x, flip ? -y : y};
}

FS_RANDOM_NO_CONTRACT_END

// Philox4x64-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3"),
// bit-identical to Random123's r123::Philox4x64. The 64x64 -> 128-bit product is exact on every target
// (32-bit halves where there is no 128-bit integer type).
struct Block4 {
  std::uint64_t v[4];
};

inline void multiply_high_low(std::uint64_t a, std::uint64_t b, std::uint64_t& high, std::uint64_t& low) {
#if defined(__SIZEOF_INT128__)
  // The same exact product in one instruction where the compiler has a 128-bit integer type.
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  high = static_cast<std::uint64_t>(product >> 64);
  low = static_cast<std::uint64_t>(product);
#else
  const std::uint64_t a_lo = a & 0xffffffffull, a_hi = a >> 32, b_lo = b & 0xffffffffull, b_hi = b >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffull) + lo_hi;  // < 2^64
  high = hi_hi + (hi_lo >> 32) + (cross >> 32);
  low = (cross << 32) | (lo_lo & 0xffffffffull);
#endif
}

inline Block4 philox4x64(Block4 counter, std::uint64_t key0, std::uint64_t key1) {
  constexpr std::uint64_t kM0 = 0xD2E7470EE14C6C93ull, kM1 = 0xCA5A826395121157ull;  // multipliers
  constexpr std::uint64_t kW0 = 0x9E3779B97F4A7C15ull, kW1 = 0xBB67AE8584CAA73Bull;  // Weyl key bumps
  for (int round = 0; round < 10; ++round) {
    if (round > 0) key0 += kW0, key1 += kW1;
    std::uint64_t hi0, lo0, hi1, lo1;
    multiply_high_low(kM0, counter.v[0], hi0, lo0);
    multiply_high_low(kM1, counter.v[2], hi1, lo1);
    counter = {{hi1 ^ counter.v[1] ^ key0, lo1, hi0 ^ counter.v[3] ^ key1, lo0}};
  }
  return counter;
}

FS_RANDOM_NO_CONTRACT_BEGIN

// Four standard normals from one Philox block: Box-Muller (Box & Muller 1958) on 53-bit uniforms; the
// radius uses u in (0, 1] (never log 0), the angle uses v in [0, 1).
inline void box_muller4(const Block4& bits, double out[4]) {
  constexpr double kTwoM53 = 1.0 / 9007199254740992.0;  // 2^-53
  for (int pair = 0; pair < 2; ++pair) {
    const double u = static_cast<double>((bits.v[2 * pair] >> 11) + 1) * kTwoM53;
    const double v = static_cast<double>(bits.v[2 * pair + 1] >> 11) * kTwoM53;
    const double radius = std::sqrt(-2.0 * portable_log(u));
    const auto [c, s] = portable_cos_sin_turns(v);
    out[2 * pair] = radius * c;
    out[2 * pair + 1] = radius * s;
  }
}

// Four standard normals: counter = (c0, c1, c2, block), key = (seed, stream).
inline void normals4(std::uint64_t seed, std::uint64_t stream, std::uint64_t c0, std::uint64_t c1, std::uint64_t c2,
                     std::uint64_t block, double out[4]) {
  box_muller4(philox4x64({{c0, c1, c2, block}}, seed, stream), out);
}

// Standard normals from `blocks` Philox blocks (4 each), the same numbers as box_muller4 block by block;
// written as loops over independent lanes so that the compiler vectorises them (the series are long
// dependency chains: one at a time they run at a fraction of the machine's speed).
inline void box_muller_blocks(const Block4* blocks, int count, double* out) {
  constexpr int kMaxLanes = 32;  // count <= 16 blocks: 2 pairs each
  constexpr double kTwoM53 = 1.0 / 9007199254740992.0;  // 2^-53
  double u[kMaxLanes], v[kMaxLanes], radius[kMaxLanes], c[kMaxLanes], s[kMaxLanes];
  const int lanes = 2 * count;
  for (int b = 0; b < count; ++b)
    for (int pair = 0; pair < 2; ++pair) {
      u[2 * b + pair] = static_cast<double>((blocks[b].v[2 * pair] >> 11) + 1) * kTwoM53;
      v[2 * b + pair] = static_cast<double>(blocks[b].v[2 * pair + 1] >> 11) * kTwoM53;
    }
  for (int i = 0; i < lanes; ++i) radius[i] = std::sqrt(-2.0 * portable_log(u[i]));
  for (int i = 0; i < lanes; ++i) {
    const auto [cos_value, sin_value] = portable_cos_sin_turns(v[i]);
    c[i] = cos_value;
    s[i] = sin_value;
  }
  for (int i = 0; i < lanes; ++i) {
    out[2 * i] = radius[i] * c[i];
    out[2 * i + 1] = radius[i] * s[i];
  }
}

FS_RANDOM_NO_CONTRACT_END

// One named stream of standard normals: counter words (c0, c1, c2) fixed, the fourth counts blocks of
// four. Element k of the stream is always the same number, however the stream is read.
struct NormalStream {
  std::uint64_t seed = 0, stream = 0, c0 = 0, c1 = 0, c2 = 0;

  // Elements [0, count) times `scale`, converted to T (double or float).
  template <class T>
  void fill(T* out, std::size_t count, double scale = 1.0) const {
    constexpr int kBatch = 16;  // blocks per batch: 64 normals
    Block4 blocks[kBatch];
    double normals[4 * kBatch];
    std::size_t k = 0;
    for (std::uint64_t b = 0; k < count; b += kBatch) {
      const std::size_t left_blocks = (count - k + 3) / 4;
      const int batch = static_cast<int>(std::min<std::size_t>(kBatch, left_blocks));
      for (int j = 0; j < batch; ++j) blocks[j] = philox4x64({{c0, c1, c2, b + std::uint64_t(j)}}, seed, stream);
      box_muller_blocks(blocks, batch, normals);
      const std::size_t take = std::min<std::size_t>(count - k, std::size_t(4) * batch);
      for (std::size_t j = 0; j < take; ++j) out[k + j] = static_cast<T>(scale * normals[j]);
      k += take;
    }
  }
};

}  // namespace fs::random

#undef FS_RANDOM_NO_CONTRACT_BEGIN
#undef FS_RANDOM_NO_CONTRACT_END
