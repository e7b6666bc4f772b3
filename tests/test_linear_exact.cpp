// Deep linear networks at finite width (core/linear_exact.h): the digamma and trigamma functions against
// known values and an independent difference of lgamma; the exact Lyapunov exponent, its spread over
// networks and the Gram's variance against ensembles of simulated networks at N = 4 to 1024; their
// large-N expansions and the 1/N theory (core/finite_width.h) as N grows.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "core/ensemble.h"
#include "core/finite_width.h"
#include "core/linear_exact.h"
#include "core/special_functions.h"
#include "tests/example_inputs.h"

using namespace fs;
using fs::testing::single_input;

namespace {
constexpr double kEulerGamma = 0.57721566490153286061;

Network linear_network(double w2, double b2, int depth) {
  Network n;
  n.activation = {ActivationKind::linear, 1.0};
  n.sigma_w2 = w2;
  n.sigma_b2 = b2;
  n.depth = depth;
  return n;
}
}  // namespace

TEST_CASE("digamma and trigamma: known values, and a difference of lgamma") {
  CHECK(digamma(1) == doctest::Approx(-kEulerGamma).epsilon(1e-15));
  CHECK(digamma(0.5) == doctest::Approx(-kEulerGamma - 2 * std::numbers::ln2).epsilon(1e-15));
  CHECK(trigamma(1) == doctest::Approx(std::numbers::pi * std::numbers::pi / 6).epsilon(1e-15));
  CHECK(trigamma(0.5) == doctest::Approx(std::numbers::pi * std::numbers::pi / 2).epsilon(1e-15));
  double harmonic = 0, squares = 0;  // psi(n) = -gamma + H_(n-1), psi'(n) = pi^2/6 - sum_(k<n) 1/k^2
  for (int n = 1; n <= 600; ++n) {
    CAPTURE(n);
    CHECK(digamma(n) == doctest::Approx(-kEulerGamma + harmonic).epsilon(1e-15));
    CHECK(trigamma(n) == doctest::Approx(std::numbers::pi * std::numbers::pi / 6 - squares).epsilon(1e-14));
    harmonic += 1.0 / n;
    squares += 1.0 / (n * double(n));
  }
  for (double x : {0.013, 0.37, 2.9, 15.99, 16.0, 41.5, 1234.5}) {
    CAPTURE(x);
    const double h = 1e-4 * x;  // fourth-order central differences of ln Gamma
    const double d1 =
        (8 * (std::lgamma(x + h) - std::lgamma(x - h)) - (std::lgamma(x + 2 * h) - std::lgamma(x - 2 * h))) / (12 * h);
    CHECK(digamma(x) == doctest::Approx(d1).epsilon(1e-9).scale(1));
    const double d2 = (std::lgamma(x + h) - 2 * std::lgamma(x) + std::lgamma(x - h)) / (h * h);
    CHECK(trigamma(x) == doctest::Approx(d2).epsilon(1e-5));
    CHECK(std::abs(digamma_minus_log(x) - (digamma(x) - std::log(x))) <=
          1e-15 * (1 + std::abs(digamma(x)) + std::abs(std::log(x))));
  }
  // Far out the difference keeps its digits: -1/(2x) - 1/(12 x^2) + 1/(120 x^4).
  for (double x : {1e4, 1e8}) CHECK(digamma_minus_log(x) == doctest::Approx(-0.5 / x - 1 / (12 * x * x)).epsilon(1e-15));
  CHECK(std::isnan(digamma(0)));
  CHECK(std::isnan(trigamma(-1)));
}

TEST_CASE(
    "deep linear networks: the exact Lyapunov exponent, its spread and the Gram's variance equal ensembles at N = 4 to 1024") {
  // sigma_w^2 = 1.5 and sigma_b^2 = 0.1: the tangent's law does not depend on the biases, the Gram's does.
  const int depth = 8;
  const Network net = linear_network(1.5, 0.1, depth);
  struct Case {
    int width, members;
    EnsembleSampler sampler;
  };
  for (const Case c : {Case{4, 8000, EnsembleSampler::explicit_weights}, Case{16, 4000, EnsembleSampler::explicit_weights},
                       Case{64, 2000, EnsembleSampler::explicit_weights}, Case{256, 2000, EnsembleSampler::fast},
                       Case{1024, 2000, EnsembleSampler::fast}}) {
    CAPTURE(c.width);
    EnsembleSpec spec;
    spec.network = net;
    spec.width = c.width;
    spec.members = c.members;
    spec.sampler = c.sampler;
    spec.input_b = 0;
    spec.seed = 7;
    EnsembleJob job(spec, single_input());
    job.run();
    const EnsembleResult& r = job.result();
    REQUIRE(r.status.ok());
    const LinearLyapunov exact = linear_lyapunov(net.sigma_w2, c.width);
    const EnsembleStat& lambda = r.lyapunov;
    CHECK(lambda.mean_field == doctest::Approx(exact.mean_field).epsilon(1e-12));
    CHECK(std::abs(lambda.mean - exact.mean) < 4 * lambda.mean_se);
    CHECK(std::abs(lambda.variance - exact.variance(depth)) < 4 * lambda.variance_se);
    if (c.width == 4) {
      // The ensemble resolves the O(1/N^2) residual of the first-order expansion, and the shift itself.
      CHECK(std::abs(lambda.mean - exact.first_order) > 4 * lambda.mean_se);
      CHECK(exact.mean_field - lambda.mean > 20 * lambda.mean_se);
    }
    const LinearGramMoments gram = linear_gram_moments(net, single_input().gram()(0, 0), c.width);
    REQUIRE(gram.status.ok());
    for (int l = 0; l <= depth; ++l) {
      CAPTURE(l);
      const EnsembleStat& g = r.gram[l].at(0, 0);
      CHECK(g.mean_field == doctest::Approx(gram.mean[l]).epsilon(1e-12));  // the mean is the mean-field kernel
      CHECK(std::abs(g.mean - gram.mean[l]) < 4 * g.mean_se);
      CHECK(std::abs(g.variance - gram.variance[l]) < 4 * g.variance_se);
    }
  }
}

TEST_CASE("deep linear networks: large-N expansions, the critical point at width N, and the 1/N theory's limit") {
  for (int n : {4, 10, 100, 1000, 100000}) {
    CAPTURE(n);
    const LinearLyapunov l = linear_lyapunov(2.0, n);
    // lambda(N) = lambda_MF - 1/(2N) - 1/(6N^2) + O(N^-4); Var = psi'(N/2)/4 = 1/(2N) + 1/(2N^2) + O(N^-3).
    CHECK(std::abs(l.mean - (l.mean_field - 0.5 / n - 1 / (6.0 * n * n))) <= 0.2 / std::pow(n, 4));
    CHECK(std::abs(l.layer_variance - (0.5 / n + 0.5 / (double(n) * n))) <= 0.5 / std::pow(n, 3));
    const double critical = linear_critical_sigma_w2(n);
    CHECK(std::abs(linear_lyapunov(critical, n).mean) < 1e-15);
    CHECK(critical > 1 + 1.0 / n);  // finite width pushes towards order: the line moves to larger sigma_w^2
    CHECK(std::abs(critical - (1 + 1.0 / n + 5 / (6.0 * n * n))) <= 1.5 / std::pow(n, 3));
  }
  // Without biases the Gram's relative variance is (1 + 2/N)^(l+1) - 1 exactly.
  const Network bare = linear_network(1.7, 0.0, 40);
  const LinearGramMoments m = linear_gram_moments(bare, 0.6, 16);
  for (int l = 0; l <= 40; l += 8)
    CHECK(m.variance[l] / (m.mean[l] * m.mean[l]) == doctest::Approx(std::pow(1 + 2.0 / 16, l + 1) - 1).epsilon(1e-12));
  // N Var(G^l) tends to the 1/N theory's, with a remainder that falls like 1/N (and grows with depth: L/N).
  FiniteWidthSpec spec;
  spec.network = linear_network(1.5, 0.1, 12);
  spec.input_gram = Eigen::MatrixXd::Constant(1, 1, 0.6);
  FiniteWidthJob theory(spec);
  theory.run();
  REQUIRE(theory.result().status.ok());
  for (int l : {0, 4, 12}) {
    CAPTURE(l);
    const double t = theory.result().layers[l].gram_covariance(0, 0);
    const double r3 = 1e3 * linear_gram_moments(spec.network, 0.6, 1000).variance[l] - t;
    const double r4 = 1e4 * linear_gram_moments(spec.network, 0.6, 10000).variance[l] - t;
    if (l == 0) {  // the input layer's N Var G^0 = 2 (K^0)^2 is exact in both
      CHECK(std::abs(r3) <= 1e-12 * t);
      CHECK(std::abs(r4) <= 1e-11 * t);
    } else {
      CHECK(r3 > 0);
      CHECK(r4 == doctest::Approx(r3 / 10).epsilon(0.02));
    }
  }
  Network tanh = linear_network(1.5, 0.1, 3);
  tanh.activation = {ActivationKind::tanh, 1.0};
  CHECK(linear_gram_moments(tanh, 0.6, 16).status.code == StatusCode::invalid_input);
  CHECK(linear_gram_moments(bare, 0.6, 0).status.code == StatusCode::invalid_input);
}
