// Activations: closed forms, the Hermite series and the vectorised pair integrator against independent
// adaptive quadrature.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/activations.h"
#include "core/gaussian.h"
#include "tests/reference_quadrature.h"

using namespace fs;

namespace {
std::vector<Activation> all_activations() {
  std::vector<Activation> out;
  for (const auto& name : activation_names()) out.push_back({*activation_kind_from_name(name), 1.0});
  out.push_back({ActivationKind::erf, 0.7});
  out.push_back({ActivationKind::erf, std::sqrt(std::numbers::pi) / 2});
  out.push_back({ActivationKind::leaky_relu, 0.1});
  return out;
}

struct Point {
  double q1, q2, rho;
};
const Point kPoints[] = {{1.0, 1.0, 0.3},    {0.5, 2.0, -0.7}, {0.02, 0.3, 0.95}, {3.0, 0.7, 0.999},
                         {1.3, 1.3, -0.999}, {0.8, 0.4, 0.0},  {2.0, 2.0, 1.0},   {4.0, 6.0, 0.5}};

std::function<double(double)> phi_of(const Activation& a) {
  return [a](double x) { return a.phi(x); };
}
std::function<double(double)> dphi_of(const Activation& a) {
  return [a](double x) { return a.dphi(x); };
}
}  // namespace

TEST_CASE("E[phi(u) phi(v)]: closed forms and Hermite series agree with adaptive quadrature") {
  for (const Activation& act : all_activations()) {
    for (const Point& pt : kPoints) {
      const double c = pt.rho * std::sqrt(pt.q1 * pt.q2);
      const double ref = reference::mean_2d(phi_of(act), phi_of(act), pt.q1, pt.q2, c);
      const double scale = std::sqrt(reference::mean_1d([&](double x) { return act.phi(x) * act.phi(x); }, pt.q1) *
                                     reference::mean_1d([&](double x) { return act.phi(x) * act.phi(x); }, pt.q2));
      const double got = pair_expectation(act, pt.q1, pt.q2, c);
      INFO(act.name(), " a=", act.param, " q1=", pt.q1, " q2=", pt.q2, " rho=", pt.rho, " got=", got, " ref=", ref);
      CHECK(std::abs(got - ref) <= 1e-9 * scale + 1e-13);
    }
  }
}

TEST_CASE("E[phi'(u) phi'(v)]: closed forms and Hermite series agree with adaptive quadrature") {
  for (const Activation& act : all_activations()) {
    if (!act.has_derivative()) continue;
    for (const Point& pt : kPoints) {
      if (std::abs(pt.rho) == 1.0 && !act.smooth()) continue;  // ReLU' is a step: E at rho = 1 is a limit
      const double c = pt.rho * std::sqrt(pt.q1 * pt.q2);
      const double ref = reference::mean_2d(dphi_of(act), dphi_of(act), pt.q1, pt.q2, c);
      const double got = pair_derivative_expectation(act, pt.q1, pt.q2, c);
      INFO(act.name(), " q1=", pt.q1, " q2=", pt.q2, " rho=", pt.rho, " got=", got, " ref=", ref);
      CHECK(std::abs(got - ref) <= 1e-9 * (std::abs(ref) + 1e-3));
    }
  }
}

namespace {
// GELU's Gaussian smoothings, E[f(a + b w)] for w ~ N(0, 1) (X = a + b w, s^2 = 1 + b^2, t = a / s):
// E[X Phi(X)] = a Phi(t) + (b^2 / s) phi_N(t) and E[Phi(X) + X phi_N(X)] = Phi(t) + a phi_N(t) / s^3.
double gelu_smoothed(PairFunction which, double a, double b) {
  const double s = std::sqrt(1 + b * b), t = a / s;
  const double cdf = 0.5 * std::erfc(-t / std::numbers::sqrt2), pdf = reference::gauss_density(t);
  return which == PairFunction::phi ? a * cdf + b * b / s * pdf : cdf + a * pdf / (s * s * s);
}

// E[f(u) f(v)] as one integral: given u, v is Gaussian with mean (c / q1) u and variance q2 - c^2 / q1.
// Unlike the 2-D rules it stays accurate at large q and correlations next to 1.
double gelu_pair_1d(PairFunction which, double q1, double q2, double c) {
  const Activation gelu{ActivationKind::gelu, 1};
  const double slope = c / q1, spread = std::sqrt(std::max(0.0, q2 - c * c / q1)), s = std::sqrt(q1);
  const auto f = [&](double x) { return which == PairFunction::phi ? gelu.phi(x) : gelu.dphi(x); };
  return reference::integrate_split(
      [&](double z) { return f(s * z) * gelu_smoothed(which, slope * s * z, spread) * reference::gauss_density(z); }, -12, 12,
      {-1 / s, 0.0, 1 / s}, 2e-14 * (which == PairFunction::phi ? std::sqrt(q1 * q2) + 1e-3 : 1.0));
}
}  // namespace

TEST_CASE("GELU's closed forms equal one-dimensional integrals of its Gaussian smoothings, at any variance") {
  const Activation gelu{ActivationKind::gelu, 1};
  for (const double a : {0.3, -1.2, 2.5})
    for (const double b : {0.0, 0.7, 3.0})
      for (const PairFunction which : {PairFunction::phi, PairFunction::dphi}) {
        const auto f = which == PairFunction::phi ? phi_of(gelu) : dphi_of(gelu);
        const double direct = reference::mean_1d([&](double w) { return f(a + w); }, b * b);
        CHECK(gelu_smoothed(which, a, b) == doctest::Approx(direct).epsilon(1e-12));
      }
  // From the origin to the large variances next to the divergence of q (q* ~ 1e2 .. 1e4), with
  // correlations of both signs up to 1.
  for (const double q1 : {1e-3, 0.4, 3.0, 100.0, 1e4})
    for (const double ratio : {1.0, 0.3})
      for (const double rho : {-1.0, -0.9, 0.0, 0.5, 0.99, 0.999999, 1.0}) {
        const double q2 = ratio * q1, c = rho * std::sqrt(q1 * q2);
        const double ref_phi = gelu_pair_1d(PairFunction::phi, q1, q2, c), ref_dphi = gelu_pair_1d(PairFunction::dphi, q1, q2, c);
        INFO("q1=", q1, " q2=", q2, " rho=", rho, " phi ", pair_expectation(gelu, q1, q2, c), " vs ", ref_phi, ", dphi ",
             pair_derivative_expectation(gelu, q1, q2, c), " vs ", ref_dphi);
        // On the scale of the means: sqrt(q1 q2) for phi (E[GELU^2] ~ q/2), 1 for phi'.
        CHECK(std::abs(pair_expectation(gelu, q1, q2, c) - ref_phi) <= 1e-13 * std::sqrt(q1 * q2) + 1e-16);
        CHECK(std::abs(pair_derivative_expectation(gelu, q1, q2, c) - ref_dphi) <= 1e-13);
        // Price's theorem: d/dc E[phi phi] = E[phi' phi'] (central difference away from |rho| = 1).
        if (std::abs(rho) < 0.995) {
          const double h = 1e-4 * std::sqrt(q1 * q2);
          const double slope = (pair_expectation(gelu, q1, q2, c + h) - pair_expectation(gelu, q1, q2, c - h)) / (2 * h);
          CHECK(slope == doctest::Approx(ref_dphi).epsilon(1e-7));
        }
      }
  CHECK(mean_phi_sq(gelu, 0) == 0);
  CHECK(mean_dphi_sq(gelu, 0) == 0.25);
  for (const double q : {1e-3, 0.7, 40.0, 1e4}) {
    INFO("q=", q);
    CHECK(mean_phi_sq(gelu, q) == doctest::Approx(gelu_pair_1d(PairFunction::phi, q, q, q)).epsilon(1e-13).scale(1e-3));
    CHECK(mean_dphi_sq(gelu, q) == doctest::Approx(gelu_pair_1d(PairFunction::dphi, q, q, q)).epsilon(1e-13));
    // d/dq E[phi^2] against a central difference of the closed form and against Price: E[phi'^2] + E[phi phi''].
    const double h = 1e-4 * q;
    CHECK(mean_phi_sq_slope(gelu, q) ==
          doctest::Approx((mean_phi_sq(gelu, q + h) - mean_phi_sq(gelu, q - h)) / (2 * h)).epsilon(1e-7));
    const double phi_d2phi = reference::mean_1d([&](double x) { return gelu.phi(x) * gelu.d2phi(x); }, q);
    CHECK(mean_phi_sq_slope(gelu, q) == doctest::Approx(mean_dphi_sq(gelu, q) + phi_d2phi).epsilon(1e-11));
  }
}

TEST_CASE("sign and step: E[phi' phi'] = k^2 p(0,0), infinite on the diagonal") {
  const Activation sign{ActivationKind::sign, 1}, step{ActivationKind::step, 1};
  const double q1 = 0.7, q2 = 1.9, rho = 0.4, c = rho * std::sqrt(q1 * q2);
  const double p00 = 1 / (2 * std::numbers::pi * std::sqrt(q1 * q2 * (1 - rho * rho)));
  CHECK(pair_derivative_expectation(sign, q1, q2, c) == doctest::Approx(4 * p00).epsilon(1e-14));
  CHECK(pair_derivative_expectation(step, q1, q2, c) == doctest::Approx(p00).epsilon(1e-14));
  CHECK(std::isinf(pair_derivative_expectation(sign, 1, 1, 1)));
}

TEST_CASE("one-variable expectations agree with adaptive quadrature") {
  for (const Activation& act : all_activations()) {
    for (double q : {0.0, 1e-4, 0.3, 1.0, 4.0}) {
      INFO(act.name(), " q=", q);
      if (q == 0) {
        CHECK(mean_phi_sq(act, q) == doctest::Approx(act.phi(0) * act.phi(0)).epsilon(1e-15));
        continue;
      }
      CHECK(mean_phi(act, q) == doctest::Approx(reference::mean_1d(phi_of(act), q)).epsilon(1e-11).scale(1));
      CHECK(mean_phi_sq(act, q) ==
            doctest::Approx(reference::mean_1d([&](double x) { return act.phi(x) * act.phi(x); }, q)).epsilon(1e-11).scale(1));
      if (!act.has_derivative()) continue;
      CHECK(mean_dphi_sq(act, q) ==
            doctest::Approx(reference::mean_1d([&](double x) { return act.dphi(x) * act.dphi(x); }, q)).epsilon(1e-11).scale(1));
      // Price's theorem: d/dq E[phi^2] = E[phi'^2] + E[phi phi''], checked by a central difference.
      const double h = 1e-4 * q;
      const double fd = (mean_phi_sq(act, q + h) - mean_phi_sq(act, q - h)) / (2 * h);
      CHECK(mean_phi_sq_slope(act, q) == doctest::Approx(fd).epsilon(1e-6).scale(1));
    }
  }
}

TEST_CASE("Price's theorem: dE[phi phi]/dc = E[phi' phi']") {
  for (const Activation& act : all_activations()) {
    if (!act.has_derivative()) continue;
    const double q1 = 0.9, q2 = 1.4, c = 0.5, h = 1e-5;
    const double fd = (pair_expectation(act, q1, q2, c + h) - pair_expectation(act, q1, q2, c - h)) / (2 * h);
    INFO(act.name());
    CHECK(pair_derivative_expectation(act, q1, q2, c) == doctest::Approx(fd).epsilon(1e-6));
  }
}

TEST_CASE("degenerate limits: q = 0 and rho = +-1") {
  for (const Activation& act : all_activations()) {
    INFO(act.name());
    // u = 0 exactly: E[phi(0) phi(v)] = phi(0) E[phi(v)].
    const double expected = act.phi(0) * mean_phi(act, 1.3);
    CHECK(pair_expectation(act, 0.0, 1.3, 0.0) == doctest::Approx(expected).epsilon(1e-10).scale(1));
    // rho = 1 with equal variances: E[phi(u)^2].
    CHECK(pair_expectation(act, 0.8, 0.8, 0.8) == doctest::Approx(mean_phi_sq(act, 0.8)).epsilon(1e-10));
    // A covariance slightly outside the Cauchy-Schwarz bound (rounding) is clamped, not NaN.
    CHECK(std::isfinite(pair_expectation(act, 0.8, 0.8, 0.8 * (1 + 1e-15))));
    // Exactly symmetric in the two variables.
    CHECK(pair_expectation(act, 0.3, 2.1, 0.5) == pair_expectation(act, 2.1, 0.3, 0.5));
  }
}

TEST_CASE("erf: Hermite series at a tight tolerance equals Williams' closed form to 1e-13") {
  for (double a : {0.5, 1.0, 2.0}) {
    const Activation act{ActivationKind::erf, a};
    const auto f = [&](double x) { return act.phi(x); };
    for (double q : {0.05, 0.5, 2.0}) {
      for (double rho : {-0.9, 0.0, 0.5, 0.99}) {
        const HermiteSeries s1 = hermite_series(f, q, 1e-15);
        const HermiteSeries s2 = hermite_series(f, 1.7 * q, 1e-15);
        INFO("a=", a, " q=", q, " rho=", rho);
        const double closed = *closed_pair_expectation(act, q, 1.7 * q, rho * std::sqrt(1.7) * q);
        CHECK(series_pair(s1, s2, rho) == doctest::Approx(closed).epsilon(1e-13).scale(1));
        // At the default tolerance the error stays within its bound.
        const double scale = std::sqrt(mean_phi_sq(act, q) * mean_phi_sq(act, 1.7 * q));
        const double fast =
            series_pair(hermite_series(act, PairFunction::phi, q), hermite_series(act, PairFunction::phi, 1.7 * q), rho);
        CHECK(std::abs(fast - closed) <= kSeriesTolerance * scale);
      }
    }
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
  const double ref =
      reference::mean_2d([](double x) { return std::tanh(x); }, [](double x) { return std::tanh(x); }, 40.0, 1.0, c);
  CHECK(integrator(0, 1, c) == doctest::Approx(ref).epsilon(1e-6));
}

TEST_CASE("names round-trip and properties are consistent") {
  for (const auto& name : activation_names()) {
    const auto kind = activation_kind_from_name(name);
    REQUIRE(kind.has_value());
    const Activation act{*kind, 1.0};
    CHECK(act.name() == name);
    if (act.odd()) CHECK(act.phi(-0.7) == doctest::Approx(-act.phi(0.7)));
    if (act.smooth()) {  // phi' and phi'' by central differences
      for (double x : {-1.3, 0.2, 2.0}) {
        CHECK(act.dphi(x) == doctest::Approx((act.phi(x + 1e-6) - act.phi(x - 1e-6)) / 2e-6).epsilon(1e-7));
        CHECK(act.d2phi(x) == doctest::Approx((act.dphi(x + 1e-6) - act.dphi(x - 1e-6)) / 2e-6).epsilon(1e-6).scale(1e-3));
      }
    }
  }
  CHECK_FALSE(activation_kind_from_name("tanhh").has_value());
}

TEST_CASE("phi_batch gives phi() for every activation, in double and float, including non-finite inputs") {
  std::vector<double> xs;
  for (int i = -4000; i <= 4000; ++i) xs.push_back(i * 0.01);  // [-40, 40]
  for (double x : {0.0, -0.0, 1e-300, -1e-300, 1e-8, -3e-12, 1e300, -1e300, std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()})
    xs.push_back(x);
  std::vector<float> xf(xs.begin(), xs.end());
  for (const Activation& act : all_activations()) {
    CAPTURE(act.formula());
    std::vector<double> yd(xs.size());
    std::vector<float> yf(xs.size());
    act.phi_batch(xs.data(), yd.data(), xs.size());
    act.phi_batch(xf.data(), yf.data(), xf.size());
    double worst_d = 0, worst_f = 0;
    bool same_nan = true;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const double ref = act.phi(xs[i]), ref_f = act.phi(double(xf[i]));
      if (std::isnan(ref) || std::isnan(ref_f)) {
        same_nan = same_nan && std::isnan(yd[i]) == std::isnan(ref) && std::isnan(double(yf[i])) == std::isnan(ref_f);
        continue;
      }
      // Relative error in epsilons, with an absolute floor at the precision's smallest normal number.
      worst_d = std::max(worst_d, std::abs(yd[i] - ref) / std::max(std::abs(ref), 1e-300) / 2.220446049250313e-16);
      worst_f = std::max(worst_f, std::abs(double(yf[i]) - ref_f) / std::max(std::abs(ref_f), 1e-37) / 1.1920928955078125e-7);
    }
    CHECK(same_nan);
    CHECK(worst_d <= 4);
    CHECK(worst_f <= 4);
  }
}
