// Gauss-Hermite rules and quadrature of plain functions (core/gaussian.h); the branch-free asin and tanh of
// core/fast_math.h against the C library.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/fast_math.h"
#include "core/gaussian.h"
#include "tests/reference_quadrature.h"

using namespace fs;

TEST_CASE("Gauss-Hermite rules reproduce the Gaussian moments E z^(2k) = (2k-1)!!") {
  for (int n : {1, 2, 7, 16, 64, 129, 256, 1024, 2048}) {
    const GaussHermiteRule& rule = gauss_hermite(n);
    REQUIRE(static_cast<int>(rule.nodes.size()) == n);
    for (int k = 0; k <= std::min(n - 1, 8); ++k) {  // exact for polynomial degree 2n - 1
      double moment = 0, odd = 0;
      for (int i = 0; i < n; ++i) {
        moment += rule.weights[i] * std::pow(rule.nodes[i], 2 * k);
        odd += rule.weights[i] * std::pow(rule.nodes[i], 2 * k + 1);
      }
      double expected = 1;
      for (int j = 2 * k - 1; j > 0; j -= 2) expected *= j;
      INFO("n=", n, " k=", k);
      CHECK(moment == doctest::Approx(expected).epsilon(1e-12));
      CHECK(std::abs(odd) <= 1e-12 * expected * 10);
    }
  }
}

TEST_CASE("gaussian_mean_1d converges for smooth functions at large variance") {
  for (double q : {0.1, 1.0, 10.0, 50.0}) {
    const double ref = reference::mean_1d([](double x) { return std::tanh(x) * std::tanh(x); }, q);
    CHECK(gaussian_mean_1d([](double x) { return std::tanh(x) * std::tanh(x); }, q) == doctest::Approx(ref).epsilon(1e-12));
  }
}

TEST_CASE("gaussian_mean_1d at huge variances: finite, bounded work, the right size") {
  // softplus(x) = relu(x) + log1p(exp(-|x|)), so for u ~ N(0, s^2) E[softplus(u)] = s / sqrt(2 pi) +
  // 2 (pi^2 / 12) / (sqrt(2 pi) s) + O(1 / s^3) (the integral of log1p(exp(-x)) over x > 0 is pi^2 / 12).
  const double pi = 3.14159265358979323846;
  const auto softplus = [](double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); };
  for (double q : {1e6, 1e12, 1e17, 1e40, 1e300}) {
    CAPTURE(q);
    const double s = std::sqrt(q);
    const double expected = s / std::sqrt(2 * pi) + pi * pi / 6 / (std::sqrt(2 * pi) * s);
    const double mean = gaussian_mean_1d(softplus, q, 1e-12);
    CHECK(std::isfinite(mean));
    CHECK(std::abs(mean / expected - 1) < 1e-9);
  }
}

TEST_CASE("asin_vectorizable agrees with the C library to a few ulp on [-1, 1]") {
  double worst = 0;
  for (int i = -200000; i <= 200000; ++i) {
    const double x = i / 200000.0;
    worst = std::max(worst, std::abs(asin_vectorizable(x) - std::asin(x)));
  }
  for (double x : {1.0, -1.0, 0.5, -0.5, 0.5000000000000001, 1e-300, 0.0, 1 - 1e-16})
    worst = std::max(worst, std::abs(asin_vectorizable(x) - std::asin(x)));
  CHECK(worst <= 8.0 * 2.220446049250313e-16);
  CHECK(asin_vectorizable(-0.3) == -asin_vectorizable(0.3));
}

TEST_CASE("tanh_vectorizable agrees with the C library to a few ulp, in double and float") {
  // Relative error in units of the precision's epsilon, against libm's tanh in double (for float,
  // against the double value: the float result may be off by its own rounding plus the series).
  auto worst_ulps = [](auto x0, auto x1, int steps) {
    using T = decltype(x0);
    double worst = 0;
    for (int i = 0; i <= steps; ++i) {
      const T x = static_cast<T>(x0 + (x1 - x0) * (double(i) / steps));
      const double ref = std::tanh(double(x));
      const double got = double(tanh_vectorizable(x));
      if (ref != 0)
        worst = std::max(worst, std::abs(got - ref) / std::abs(ref) / double(std::numeric_limits<T>::epsilon()));
      else
        worst = std::max(worst, std::abs(got) > 0 ? 1e300 : 0.0);
    }
    return worst;
  };
  // Dense grids over the range where tanh is not yet 1, and around 0 where relative accuracy is the point.
  CHECK(worst_ulps(-20.0, 20.0, 400000) <= 4);
  CHECK(worst_ulps(-1e-3, 1e-3, 20001) <= 4);
  CHECK(worst_ulps(-10.0f, 10.0f, 400000) <= 4);
  CHECK(worst_ulps(-1e-3f, 1e-3f, 20001) <= 4);
  // Edges: signed zeros, subnormals, saturation, infinities and NaN.
  CHECK(tanh_vectorizable(0.0) == 0.0);
  CHECK(std::signbit(tanh_vectorizable(-0.0)));
  CHECK(tanh_vectorizable(4.9e-324) == 4.9e-324);
  CHECK(tanh_vectorizable(1e-300) == 1e-300);
  CHECK(tanh_vectorizable(30.0) == 1.0);
  CHECK(tanh_vectorizable(-1e300) == -1.0);
  CHECK(tanh_vectorizable(std::numeric_limits<double>::infinity()) == 1.0);
  CHECK(tanh_vectorizable(-std::numeric_limits<float>::infinity()) == -1.0f);
  CHECK(tanh_vectorizable(12.0f) == 1.0f);
  CHECK(std::isnan(tanh_vectorizable(std::numeric_limits<double>::quiet_NaN())));
  CHECK(std::isnan(tanh_vectorizable(std::numeric_limits<float>::quiet_NaN())));
  CHECK(tanh_vectorizable(-0.7) == -tanh_vectorizable(0.7));
}
