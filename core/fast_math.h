// Branch-free elementary functions that compilers vectorise inside loops (the C library's are
// scalar calls). Used on the hot paths of the closed-form kernels; tests/test_gaussian.cpp checks
// them against the C library over their whole domain.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace fs {

namespace detail {
// Taylor coefficients of asin(t)/t in t^2: c_k = (2k)! / (4^k (k!)^2 (2k + 1)). On |t| <= 1/2 the
// terms fall below 4^-k / (k^1.5 sqrt(pi)), so 27 of them reach double precision.
constexpr int kAsinTerms = 27;
constexpr std::array<double, kAsinTerms> asin_coefficients() {
  std::array<double, kAsinTerms> c{};
  double central = 1;  // (2k)! / (4^k (k!)^2), built as a running product
  for (int k = 0; k < kAsinTerms; ++k) {
    if (k > 0) central *= (2.0 * k - 1) / (2.0 * k);
    c[k] = central / (2.0 * k + 1);
  }
  return c;
}
inline constexpr std::array<double, kAsinTerms> kAsin = asin_coefficients();

// Horner's scheme unrolled at compile time, so that the loop around a call has no inner loop.
template <int K>
inline double asin_series(double t2) {
  if constexpr (K == kAsinTerms - 1)
    return kAsin[K];
  else
    return kAsin[K] + t2 * asin_series<K + 1>(t2);
}
}  // namespace detail

// asin(x) for x in [-1, 1], to a few ulp. For |x| > 1/2 it uses asin(x) = pi/2 - 2 asin(sqrt((1-x)/2)),
// which maps the argument back into [0, 1/2] where the series converges fast.
inline double asin_vectorizable(double x) {
  const double ax = std::abs(x);
  const bool far = ax > 0.5;
  const double t_far = std::sqrt(std::max(0.0, 0.5 * (1.0 - ax)));  // computed unconditionally: no branch
  const double t = far ? t_far : ax;
  const double t2 = t * t;
  const double r = t * detail::asin_series<0>(t2);
  const double y = far ? 1.5707963267948966 - 2.0 * r : r;
  return std::copysign(y, x);
}

// tanh(x) to a few ulp in double or float, branch-free. For a = |x|: tanh a = e / (e + 2) with
// e = expm1(2a), which keeps full relative accuracy near 0 (no 1 - t cancellation). expm1 by Cody-Waite
// reduction 2a = k ln 2 + r, |r| <= ln2/2: expm1(2a) = 2^k expm1(r) + (2^k - 1), the series of expm1(r)
// through r^13 (double; the first omitted term is < 2e-17 of expm1 r) or r^8 (float; < 1e-9). a is capped where tanh
// rounds to 1 (19.1 in double, 9.1 in float), so 2^k stays a normal number; NaN passes through.
template <class T>
inline T tanh_vectorizable(T x) {
  static_assert(std::is_same_v<T, double> || std::is_same_v<T, float>);
  constexpr bool kDouble = std::is_same_v<T, double>;
  using Bits = std::conditional_t<kDouble, std::uint64_t, std::uint32_t>;
  constexpr T kCap = kDouble ? T(19.1) : T(9.1);
  constexpr T kInvLn2 = T(1.44269504088896340736);
  // ln 2 split so that k ln2_hi is exact for |k| < 2^10 (fdlibm's split in double, 16 bits in float).
  constexpr T kLn2Hi = kDouble ? T(6.93147180369123816490e-01) : T(0.693145751953125);
  constexpr T kLn2Lo = kDouble ? T(1.90821492927058770002e-10) : T(1.428606765330187e-06);
  const T a = std::abs(x);
  const T y = 2 * (a < kCap ? a : (a == a ? kCap : a));  // NaN stays NaN
  const T k = std::floor(y * kInvLn2 + T(0.5));
  const T r = (y - k * kLn2Hi) - k * kLn2Lo;
  // expm1(r) = r sum_{n < terms} r^n / (n + 1)!, Horner with the coefficients folded at compile time.
  constexpr int kTerms = kDouble ? 13 : 8;
  constexpr auto kCoefficients = [] {
    std::array<T, kTerms> c{};
    double f = 1.0;
    for (int n = 0; n < kTerms; ++n) {
      f /= (n + 1);
      c[std::size_t(n)] = T(f);
    }
    return c;
  }();
  T p = kCoefficients[kTerms - 1];
  for (int n = kTerms - 2; n >= 0; --n) p = p * r + kCoefficients[std::size_t(n)];
  p *= r;
  // 2^k from its bits; k <= 56 (double) or 27 (float). Through a 32-bit integer: wasm SIMD converts f64
  // lanes to i32 lanes only.
  const std::int32_t ki = static_cast<std::int32_t>(k == k ? k : T(0));
  T two_k;
  if constexpr (kDouble) {
    const Bits bits = static_cast<Bits>(static_cast<std::uint32_t>(ki + 1023)) << 52;
    std::memcpy(&two_k, &bits, sizeof two_k);
  } else {
    const Bits bits = static_cast<Bits>(ki + 127) << 23;
    std::memcpy(&two_k, &bits, sizeof two_k);
  }
  const T e = two_k * p + (two_k - 1);
  return std::copysign(e / (e + 2), x);
}

}  // namespace fs
