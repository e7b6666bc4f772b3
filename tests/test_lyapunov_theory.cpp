// The 1/N theory of the Lyapunov exponent (core/lyapunov_theory.h) against ensembles of simulated deep
// networks: tanh in the chaotic and the ordered phase, erf and ReLU, within 4 standard errors at N = 64,
// with the O(1/N^2) remainder visible at N = 16; the linear and ReLU coefficients in closed form.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ensemble.h"
#include "core/lyapunov_theory.h"
#include "tests/example_inputs.h"

using namespace fs;
using fs::testing::single_input;

namespace {
Network deep(ActivationKind kind, double w2, double b2, int depth) {
  Network n;
  n.activation = {kind, 1.0};
  n.sigma_w2 = w2;
  n.sigma_b2 = b2;
  n.depth = depth;
  return n;
}

LyapunovTheory theory_of(const Network& n) {
  FiniteWidthSpec spec;
  spec.network = n;
  spec.input_gram = single_input().gram();
  FiniteWidthJob job(spec);
  job.run();
  return lyapunov_theory(n, job.result());
}

EnsembleResult ensemble_of(const Network& n, int width, int members) {
  EnsembleSpec s;
  s.network = n;
  s.width = width;
  s.members = members;
  s.sampler = EnsembleSampler::fast;
  s.input_b = 0;
  s.seed = 11;
  EnsembleJob job(s, single_input());
  job.run();
  return job.result();
}
}  // namespace

TEST_CASE("Lyapunov 1/N theory: closed-form coefficients for linear and ReLU networks") {
  const LyapunovTheory linear = theory_of(deep(ActivationKind::linear, 0.9, 0.1, 12));
  REQUIRE(linear.status.ok());
  CHECK(linear.coefficient == doctest::Approx(-0.5).epsilon(1e-9));  // -1/(2N): core/linear_exact.h
  CHECK(linear.mean_field == doctest::Approx(0.5 * std::log(0.9)).epsilon(1e-12));
  // ReLU: E[phi'^k] = 1/2 at every q, so only the chi-square and the units' shares count: -1 + 3/2 - 3 = -5/2 per
  // layer for ln |J v|^2.
  const LyapunovTheory relu = theory_of(deep(ActivationKind::relu, 2.0, 0.1, 12));
  REQUIRE(relu.status.ok());
  CHECK(relu.coefficient == doctest::Approx(-1.25).epsilon(1e-9));
  Network recurrent = deep(ActivationKind::tanh, 2.0, 0.1, 6);
  recurrent.arch = Architecture::recurrent;
  CHECK(lyapunov_theory(recurrent, FiniteWidthResult{}).status.code == StatusCode::not_defined);
  CHECK(lyapunov_theory(deep(ActivationKind::sign, 2.0, 0.1, 6), FiniteWidthResult{}).status.code == StatusCode::not_defined);
}

TEST_CASE("Lyapunov 1/N theory against ensembles: tanh chaotic and ordered, erf, ReLU (L = 20)") {
  struct Case {
    ActivationKind kind;
    double w2, b2;
  };
  for (const Case c : {Case{ActivationKind::tanh, 4.0, 0.05}, Case{ActivationKind::tanh, 1.2, 0.05},
                       Case{ActivationKind::erf, 1.5, 0.1}, Case{ActivationKind::relu, 2.0, 0.1}}) {
    const Network n = deep(c.kind, c.w2, c.b2, 20);
    CAPTURE(n.activation.name());
    CAPTURE(c.w2);
    const LyapunovTheory t = theory_of(n);
    REQUIRE(t.status.ok());
    const EnsembleResult r = ensemble_of(n, 64, 16000);
    REQUIRE(r.status.ok());
    // The same mean field from two kernel recursions that share no quadrature (the kernels' Hermite series
    // at 1e-10, the 1/N theory's Gauss-Hermite rules).
    CHECK(r.lyapunov.mean_field == doctest::Approx(t.mean_field).epsilon(1e-7));
    // The finite-width shift is resolved (tens of standard errors) and the theory predicts it.
    CHECK(std::abs(r.lyapunov.mean - t.mean_field) > 20 * r.lyapunov.mean_se);
    CHECK(std::abs(r.lyapunov.mean - t.at_width(64)) < 4 * r.lyapunov.mean_se);
    if (c.kind == ActivationKind::relu) {  // the O(1/N^2) remainder shows at N = 16
      const EnsembleResult small = ensemble_of(n, 16, 16000);
      CHECK(std::abs(small.lyapunov.mean - t.at_width(16)) > 4 * small.lyapunov.mean_se);
      CHECK(std::abs(small.lyapunov.mean - t.mean_field) > 10 * std::abs(small.lyapunov.mean - t.at_width(16)) / 2);
    }
  }
}
