// Digamma and trigamma: the recurrences psi(x) = psi(x + 1) - 1/x and psi'(x) = psi'(x + 1) + 1/x^2 move
// the argument to x >= 16, where the asymptotic (Stirling) series in 1/x^2 with Bernoulli-number
// coefficients reaches double precision after seven terms (the first term left out is below 1e-16).
#include "core/special_functions.h"

#include <cmath>
#include <limits>

namespace fs {

namespace {
constexpr double kShift = 16;

// psi(x) - ln x for x >= kShift: -1/(2x) - sum_k B_2k / (2k x^2k).
double asymptotic_digamma_minus_log(double x) {
  const double r = 1 / (x * x);
  const double series =
      r * (1.0 / 12 - r * (1.0 / 120 - r * (1.0 / 252 - r * (1.0 / 240 - r * (1.0 / 132 - r * (691.0 / 32760 - r / 12))))));
  return -0.5 / x - series;
}
}  // namespace

double digamma_minus_log(double x) {
  if (!(x > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (x >= kShift) return asymptotic_digamma_minus_log(x);
  // psi(x) - ln x = [psi(x + n) - ln(x + n)] + ln((x + n) / x) - sum_{k < n} 1 / (x + k)
  double sum = 0, y = x;
  while (y < kShift) {
    sum += 1 / y;
    y += 1;
  }
  return asymptotic_digamma_minus_log(y) + std::log(y / x) - sum;
}

double digamma(double x) {
  if (!(x > 0)) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0, y = x;
  while (y < kShift) {
    sum += 1 / y;
    y += 1;
  }
  return std::log(y) + asymptotic_digamma_minus_log(y) - sum;
}

double trigamma(double x) {
  if (!(x > 0)) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0, y = x;
  while (y < kShift) {
    sum += 1 / (y * y);
    y += 1;
  }
  // 1/y + 1/(2y^2) + sum_k B_2k / y^(2k+1)
  const double r = 1 / (y * y);
  const double series =
      r * (1.0 / 6 - r * (1.0 / 30 - r * (1.0 / 42 - r * (1.0 / 30 - r * (5.0 / 66 - r * (691.0 / 2730 - r * 7.0 / 6))))));
  return sum + 1 / y + 0.5 * r + series / y;
}

}  // namespace fs
