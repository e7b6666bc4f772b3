// Branch-free elementary functions that compilers vectorise inside loops (the C library's are
// scalar calls). Used on the hot paths of the closed-form kernels; tests/test_gaussian.cpp checks
// them against the C library over their whole domain.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>

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

}  // namespace fs
