// Gauss-Hermite rules, Hermite series and the vectorised pair integrator.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/fast_math.h"
#include "core/activations.h"
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

TEST_CASE("Hermite series: Parseval and Mehler at rho = 1") {
  const Activation act{ActivationKind::tanh, 1};
  for (double q : {0.01, 0.4, 3.0}) {
    const HermiteSeries s = hermite_series(act, PairFunction::phi, q);
    CHECK(s.converged);
    CHECK(s.tail_fraction <= kSeriesTolerance);
    // tanh is odd: every even coefficient vanishes.
    for (int k = 0; k < s.terms; k += 2) CHECK(std::abs(s.coef[k]) < 1e-14);
    // sum_k b_k^2 = E[tanh^2]
    CHECK(series_pair(s, s, 1.0) == doctest::Approx(mean_phi_sq(act, q)).epsilon(1e-10));
  }
}

TEST_CASE("PairIntegrator rows equal the scalar expectations, for closed forms and series") {
  for (auto kind : {ActivationKind::tanh, ActivationKind::gelu, ActivationKind::relu, ActivationKind::erf}) {
    const Activation act{kind, 1.0};
    const std::vector<double> q{0.3, 1.2, 0.3, 2.5, 0.0};
    PairIntegrator integrator(act, PairFunction::phi);
    integrator.set_variances(q);
    CHECK(integrator.inexact_variances() == 0);
    std::vector<double> cov, out(q.size());
    for (std::size_t b = 0; b < q.size(); ++b) cov.push_back(0.6 * std::sqrt(q[1] * q[b]));
    integrator.row(1, 0, static_cast<int>(q.size()), cov.data(), out.data());
    for (std::size_t b = 0; b < q.size(); ++b) {
      INFO(act.name(), " b=", b);
      CHECK(out[b] == doctest::Approx(pair_expectation(act, q[1], q[b], cov[b])).epsilon(1e-11).scale(1));
    }
  }
}

TEST_CASE("very large variances are flagged as inexact, and still close to the reference") {
  const Activation act{ActivationKind::tanh, 1};
  PairIntegrator integrator(act, PairFunction::phi);
  integrator.set_variances({40.0, 1.0});
  CHECK(integrator.inexact_variances() == 1);
  const double c = 0.9 * std::sqrt(40.0);
  const double ref = reference::mean_2d([](double x) { return std::tanh(x); }, [](double x) { return std::tanh(x); }, 40.0, 1.0, c);
  CHECK(integrator(0, 1, c) == doctest::Approx(ref).epsilon(1e-6));
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
      if (ref != 0) worst = std::max(worst, std::abs(got - ref) / std::abs(ref) / double(std::numeric_limits<T>::epsilon()));
      else worst = std::max(worst, std::abs(got) > 0 ? 1e300 : 0.0);
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
