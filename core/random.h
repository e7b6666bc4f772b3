// Deterministic random numbers: counter-based streams (Philox4x64-10) and standard normals built only
// from correctly rounded IEEE operations, so that the same (seed, counter) gives the same bits natively
// and in wasm, on any thread (STYLE.md guideline 6).
//
// Why our own code: Random123 1.14's feature headers refuse to compile for wasm32, and libm's
// log/sin/cos differ between glibc and musl in the last bit. Only +, -, *, /, sqrt (correctly rounded)
// and bit manipulation/floor (exact) are used below. Series accuracy is a few ulp, far below anything a statistic
// can see. tests/test_inputs.cpp and tests/test_ensemble.cpp check the generator against Random123 and
// the Box-Muller transform against libm natively.
//
// Sections
//   1. Portable log and sin/cos from correctly rounded operations only
//   2. Philox4x64-10 and Box-Muller: the normals of inputs and fast samplers (NormalStream)
//   3. Fast weight streams: Philox4x32-10 and Box-Muller in the output's own precision
#pragma once
#include <cstring>
#include <cmath>
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "core/bits.h"
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

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

// --- 1. Portable log and sin/cos ----------------------------------------------------------------------
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

// --- 2. Philox4x64-10 and Box-Muller -----------------------------------------------------------------
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
  constexpr int kMaxLanes = 32;                         // count <= 16 blocks: 2 pairs each
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

// --- 3. Fast weight streams: Philox4x32-10 and Box-Muller in the output's own precision ------------------
// The explicit-weight ensemble draws N^2 normals per layer and network and multiplies them with only P
// inputs (2 P flops per normal), so the generator, not the matrix product, sets its speed. Philox4x32-10
// (the same paper; bit-identical to Random123's r123::Philox4x32) needs only 32 x 32 -> 64-bit products,
// which SIMD units have (AVX2/AVX-512 vpmuludq, wasm SIMD i64x2.extmul): written over independent blocks,
// the compiler vectorises it natively (in wasm it is written with intrinsics), and then the Box-Muller transform, in float for float output. Uniforms:
// 32 bits per variate for double output (radius u in [2^-32, 1]: |z| <= 6.66, P(|z| > 6.66) = 2.7e-11),
// the top 24 bits for float output (u in [2^-24, 1]: |z| <= 5.77, P = 8e-9); both far below anything an
// ensemble statistic resolves. Float and double outputs read the same bits, so they agree to float
// rounding. Exact IEEE operations only (no contraction), as above: the same numbers natively and in wasm.

struct Block4x32 {
  std::uint32_t v[4];
};

inline constexpr std::uint32_t kPhiloxM32[2] = {0xD2511F53u, 0xCD9E8D57u};  // multipliers
inline constexpr std::uint32_t kPhiloxW32[2] = {0x9E3779B9u, 0xBB67AE85u};  // Weyl key bumps

inline Block4x32 philox4x32_10(Block4x32 counter, std::uint32_t key0, std::uint32_t key1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) key0 += kPhiloxW32[0], key1 += kPhiloxW32[1];
    const std::uint64_t p0 = std::uint64_t(kPhiloxM32[0]) * counter.v[0], p1 = std::uint64_t(kPhiloxM32[1]) * counter.v[2];
    counter = {{std::uint32_t(p1 >> 32) ^ counter.v[1] ^ key0, std::uint32_t(p1), std::uint32_t(p0 >> 32) ^ counter.v[3] ^ key1,
                std::uint32_t(p0)}};
  }
  return counter;
}

// philox4x32_10 of the blocks (c0, c1, c2, first + j), j < count, word k of block j at words[k * stride + j]:
// the same arithmetic over independent lanes for the vectoriser. The 32-bit words live in 64-bit lanes
// and are masked before each product, so that it is one widening 32 x 32 multiply per lane (vpmuludq);
// 32-bit lanes made GCC shuffle halves and use the slow 64 x 64 multiply (3.6x slower here).
inline void philox4x32_blocks(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t first, int count,
                              std::uint32_t key0, std::uint32_t key1, std::uint32_t* words, int stride) {
  constexpr std::uint64_t kLow = 0xffffffffull;
  std::uint64_t keys0[10], keys1[10];
  for (int round = 0; round < 10; ++round) {  // the repeated += of philox4x32_10, mod 2^32
    keys0[round] = std::uint32_t(key0 + std::uint32_t(round) * kPhiloxW32[0]);
    keys1[round] = std::uint32_t(key1 + std::uint32_t(round) * kPhiloxW32[1]);
  }
  int j = 0;
#if defined(__wasm_simd128__)
  // wasm SIMD by hand: the compiler does not find i64x2.extmul_{low,high}_i32x4_u (one widening 32 x 32
  // multiply per lane, pmuludq in the engines) and emulates 64-bit lane products instead. Four blocks per
  // vector; each product's high and low words are gathered back into i32x4 lanes by one shuffle each.
  {
    const v128_t m0 = wasm_i32x4_splat(std::int32_t(kPhiloxM32[0])), m1 = wasm_i32x4_splat(std::int32_t(kPhiloxM32[1]));
    const v128_t lane = wasm_i32x4_make(0, 1, 2, 3);
    for (; j + 4 <= count; j += 4) {
      v128_t x0 = wasm_i32x4_splat(std::int32_t(c0)), x1 = wasm_i32x4_splat(std::int32_t(c1));
      v128_t x2 = wasm_i32x4_splat(std::int32_t(c2));
      v128_t x3 = wasm_i32x4_add(wasm_i32x4_splat(std::int32_t(first + std::uint32_t(j))), lane);
      for (int round = 0; round < 10; ++round) {
        const v128_t p0_low = wasm_u64x2_extmul_low_u32x4(m0, x0), p0_high = wasm_u64x2_extmul_high_u32x4(m0, x0);
        const v128_t p1_low = wasm_u64x2_extmul_low_u32x4(m1, x2), p1_high = wasm_u64x2_extmul_high_u32x4(m1, x2);
        const v128_t hi0 = wasm_i32x4_shuffle(p0_low, p0_high, 1, 3, 5, 7), lo0 = wasm_i32x4_shuffle(p0_low, p0_high, 0, 2, 4, 6);
        const v128_t hi1 = wasm_i32x4_shuffle(p1_low, p1_high, 1, 3, 5, 7), lo1 = wasm_i32x4_shuffle(p1_low, p1_high, 0, 2, 4, 6);
        x0 = wasm_v128_xor(wasm_v128_xor(hi1, x1), wasm_i32x4_splat(std::int32_t(keys0[round])));
        x2 = wasm_v128_xor(wasm_v128_xor(hi0, x3), wasm_i32x4_splat(std::int32_t(keys1[round])));
        x1 = lo1;
        x3 = lo0;
      }
      wasm_v128_store(words + j, x0);
      wasm_v128_store(words + stride + j, x1);
      wasm_v128_store(words + 2 * stride + j, x2);
      wasm_v128_store(words + 3 * stride + j, x3);
    }
  }
#endif
#if defined(__wasm__)
  // The remaining blocks (and wasm without SIMD): the plain 32-bit formulation, which the engines run
  // better than 64-bit lanes (no i64x2.mul: they expand it into a long sequence); the same arithmetic.
  for (; j < count; ++j) {
    std::uint32_t x0 = c0, x1 = c1, x2 = c2, x3 = first + std::uint32_t(j);
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t(kPhiloxM32[0]) * x0, p1 = std::uint64_t(kPhiloxM32[1]) * x2;
      const std::uint32_t y0 = std::uint32_t(p1 >> 32) ^ x1 ^ std::uint32_t(keys0[round]);
      const std::uint32_t y2 = std::uint32_t(p0 >> 32) ^ x3 ^ std::uint32_t(keys1[round]);
      x1 = std::uint32_t(p1);
      x3 = std::uint32_t(p0);
      x0 = y0;
      x2 = y2;
    }
    words[j] = x0;
    words[stride + j] = x1;
    words[2 * stride + j] = x2;
    words[3 * stride + j] = x3;
  }
#endif
  for (; j < count; ++j) {
    std::uint64_t x0 = c0, x1 = c1, x2 = c2, x3 = std::uint32_t(first + std::uint32_t(j));
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t(kPhiloxM32[0]) * (x0 & kLow), p1 = std::uint64_t(kPhiloxM32[1]) * (x2 & kLow);
      const std::uint64_t y0 = (p1 >> 32) ^ x1 ^ keys0[round], y2 = (p0 >> 32) ^ x3 ^ keys1[round];
      x1 = p1 & kLow;
      x3 = p0 & kLow;
      x0 = y0;
      x2 = y2;
    }
    words[j] = std::uint32_t(x0);
    words[stride + j] = std::uint32_t(x1);
    words[2 * stride + j] = std::uint32_t(x2);
    words[3 * stride + j] = std::uint32_t(x3);
  }
}

FS_RANDOM_NO_CONTRACT_BEGIN

// log(u) in float for u in [2^-24, 1], as portable_log: e log 2 + 2 atanh(s), series through s^8
// (truncation < 2e-9 relative).
inline float portable_log(float u) {
  constexpr float kLn2Hi = 0.693145751953125f;      // 16 bits: e * kLn2Hi is exact for |e| < 2^8
  constexpr float kLn2Lo = 1.428606765330187e-06f;  // ln 2 - kLn2Hi
  constexpr float kSqrtHalf = 0.70710678f;
  std::uint32_t bits;
  std::memcpy(&bits, &u, sizeof bits);
  const float exponent = static_cast<float>(static_cast<std::int32_t>((bits >> 23) & 0xffu)) - 126.0f;
  const std::uint32_t m_bits = (bits & 0x007fffffu) | 0x3f000000u;
  float m;
  std::memcpy(&m, &m_bits, sizeof m);
  const bool low = m < kSqrtHalf;
  m = low ? m * 2.0f : m;
  const float e = low ? exponent - 1.0f : exponent;
  const float f = m - 1.0f;
  const float s = f / (2.0f + f);
  const float s2 = s * s;
  float series = float(kSeries.inverse[9]);
  for (int n = 7; n >= 1; n -= 2) series = series * s2 + float(kSeries.inverse[n]);
  return e * kLn2Hi + (e * kLn2Lo + 2.0f * s * series);
}

// (cos 2 pi t, sin 2 pi t) in float for t in [0, 1), as portable_cos_sin_turns: series through theta^9
// and theta^10 on [-pi/4, pi/4] (truncation < 2e-9).
inline std::pair<float, float> portable_cos_sin_turns(float t) {
  constexpr float kTwoPi = 6.28318548f;
  const float quarter = std::floor(t * 4.0f + 0.5f);
  const float theta = (t - quarter * 0.25f) * kTwoPi;  // t - quarter/4 is exact
  const float theta2 = theta * theta;
  float sin_series = float(kSeries.signed_sin[4]), cos_series = float(kSeries.signed_cos[5]);
  for (int k = 3; k >= 0; --k) sin_series = sin_series * theta2 + float(kSeries.signed_sin[k]);
  for (int k = 4; k >= 0; --k) cos_series = cos_series * theta2 + float(kSeries.signed_cos[k]);
  const float s = theta * sin_series, c = cos_series;
  const bool odd = quarter == 1.0f || quarter == 3.0f, flip = quarter == 2.0f || quarter == 3.0f;
  const float x = odd ? -s : c, y = odd ? c : s;
  return {flip ? -x : x, flip ? -y : y};
}

// The double versions for the fast stream: the same reductions as portable_log and portable_cos_sin_turns,
// with just enough terms (log through s^18: truncation < 3e-17; sin through theta^15, cos through
// theta^16: < 7e-17) evaluated by Estrin's scheme: the powers w, w^2, w^4, w^8 make the polynomial a tree
// of depth 4 instead of a chain of 9, so the lanes' latency does not serialise the loop.
inline double fast_log(double u) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kSqrtHalf = 0.70710678118654752440;
  const std::uint64_t bits = bits_of(u);
  // The exponent through 32-bit integers: wasm SIMD converts i32 lanes to double, not i64 lanes.
  const double exponent = static_cast<double>(static_cast<std::int32_t>((std::uint32_t(bits >> 32) >> 20) & 0x7ffu)) - 1022.0;
  double m = double_from_bits((bits & 0x000fffffffffffffull) | 0x3fe0000000000000ull);
  const bool low = m < kSqrtHalf;
  m = low ? m * 2.0 : m;
  const double e = low ? exponent - 1.0 : exponent;
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s, z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
  const auto& c = kSeries.inverse;  // atanh(s)/s = sum z^k / (2k + 1), k = 0..9
  const double series = ((1.0 + z * c[3]) + z2 * (c[5] + z * c[7])) + z4 * ((c[9] + z * c[11]) + z2 * (c[13] + z * c[15])) +
                        z8 * (c[17] + z * c[19]);
  return e * kLn2Hi + (e * kLn2Lo + 2.0 * s * series);
}

inline std::pair<double, double> fast_cos_sin_turns(double t) {
  constexpr double kTwoPi = 6.28318530717958647692;
  const double quarter = std::floor(t * 4.0 + 0.5);
  const double theta = (t - quarter * 0.25) * kTwoPi;
  const double w = theta * theta, w2 = w * w, w4 = w2 * w2, w8 = w4 * w4;
  const auto& sn = kSeries.signed_sin;
  const auto& cs = kSeries.signed_cos;
  const double sin_series =
      ((sn[0] + w * sn[1]) + w2 * (sn[2] + w * sn[3])) + w4 * ((sn[4] + w * sn[5]) + w2 * (sn[6] + w * sn[7]));
  const double cos_series =
      ((cs[0] + w * cs[1]) + w2 * (cs[2] + w * cs[3])) + w4 * ((cs[4] + w * cs[5]) + w2 * (cs[6] + w * cs[7])) + w8 * cs[8];
  const double s = theta * sin_series, c = cos_series;
  const bool odd = quarter == 1.0 || quarter == 3.0, flip = quarter == 2.0 || quarter == 3.0;
  const double x = odd ? -s : c, y = odd ? c : s;
  return {flip ? -x : x, flip ? -y : y};
}
inline float fast_log(float u) { return portable_log(u); }
inline std::pair<float, float> fast_cos_sin_turns(float t) { return portable_cos_sin_turns(t); }

// Uniforms from 32-bit words: radius variate in (0, 1], angle variate in [0, 1).
inline double radius_uniform(std::uint32_t w, double) { return (double(w) + 1.0) * 0x1p-32; }
inline double angle_uniform(std::uint32_t w, double) { return double(w) * 0x1p-32; }
inline float radius_uniform(std::uint32_t w, float) { return float((w >> 8) + 1u) * 0x1p-24f; }
inline float angle_uniform(std::uint32_t w, float) { return float(w >> 8) * 0x1p-24f; }

// 256 standard normals times `scale` from 64 blocks laid out as philox4x32_blocks writes them: slot 0
// (r c from words 0, 1) of every block, then slot 1 (r s), slot 2 (r c from words 2, 3), slot 3 (r s),
// each written contiguously, so that every loop is a plain vector loop.
template <class T>
inline void box_muller_group(const std::uint32_t* words, T scale, T* out) {
  constexpr int kBlocks = 64;
  for (int pair = 0; pair < 2; ++pair) {
    const std::uint32_t* wu = words + 2 * pair * kBlocks;
    const std::uint32_t* wv = wu + kBlocks;
    T radius[kBlocks];
    for (int j = 0; j < kBlocks; ++j) radius[j] = std::sqrt(T(-2) * fast_log(radius_uniform(wu[j], T()))) * scale;
    T* out_c = out + 2 * pair * kBlocks;
    T* out_s = out_c + kBlocks;
    for (int j = 0; j < kBlocks; ++j) {
      const auto [cos_value, sin_value] = fast_cos_sin_turns(angle_uniform(wv[j], T()));
      out_c[j] = radius[j] * cos_value;
      out_s[j] = radius[j] * sin_value;
    }
  }
}

FS_RANDOM_NO_CONTRACT_END

// One named stream of standard normals from Philox4x32-10: key = the seed's two halves, counter
// (c0, c1, c2, block). Element k is slot (k / 64) % 4 of block 64 (k / 256) + k % 64 (box_muller_group):
// the same number however the stream is read (any offset, any length), natively and in wasm. Double and
// float output differ only by float rounding.
struct FastNormalStream {
  std::uint64_t seed = 0;
  std::uint32_t c0 = 0, c1 = 0, c2 = 0;

  // Elements [first, first + count) times `scale`; first + count <= 2^32.
  template <class T>
  void fill(T* out, std::size_t count, double scale = 1.0, std::size_t first = 0) const {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    constexpr std::size_t kGroup = 256;  // normals per group of 64 blocks
    alignas(64) std::uint32_t words[4 * 64];
    alignas(64) T partial[kGroup];
    const std::uint32_t key0 = std::uint32_t(seed), key1 = std::uint32_t(seed >> 32);
    const std::size_t end = first + count;
    for (std::size_t k = first; k < end;) {
      const std::size_t group = k / kGroup, begin = group * kGroup;
      philox4x32_blocks(c0, c1, c2, std::uint32_t(group * 64), 64, key0, key1, words, 64);
      if (k == begin && end - k >= kGroup) {  // a whole group: straight into the output
        box_muller_group(words, static_cast<T>(scale), out + (k - first));
        k += kGroup;
      } else {
        box_muller_group(words, static_cast<T>(scale), partial);
        const std::size_t take = std::min(end, begin + kGroup) - k;
        std::memcpy(out + (k - first), partial + (k - begin), take * sizeof(T));
        k += take;
      }
    }
  }
};

}  // namespace fs::random

#undef FS_RANDOM_NO_CONTRACT_BEGIN
#undef FS_RANDOM_NO_CONTRACT_END
