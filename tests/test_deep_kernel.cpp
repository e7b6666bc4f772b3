// Deep kernel recursion and NTK.
#include <doctest/doctest.h>

#include <Eigen/Eigenvalues>
#include <cmath>

#include "core/criticality.h"
#include "core/deep_kernel.h"
#include "tests/example_inputs.h"

using namespace fs;

namespace {
// The example inputs x1, x2, x3 (d = 3) of the reference values in docs/theory.md §2.
Eigen::MatrixXd example_gram() { return fs::testing::example_inputs().gram(); }

Eigen::MatrixXd random_gram(int p, int d, unsigned seed) {
  // A fixed, deterministic pseudo-random design (the test needs variety, not a distribution).
  Eigen::MatrixXd x(p, d);
  unsigned s = seed;
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < d; ++j) {
      s = s * 1664525u + 1013904223u;
      x(i, j) = (s >> 8) / double(1 << 24) * 2 - 1;
    }
  return x * x.transpose() / d;
}
}  // namespace

TEST_CASE("tanh at (1.5, 0.05): K^10 matches the reference and converges to q*") {
  DeepKernelSpec spec;
  spec.network.activation = {ActivationKind::tanh, 1};
  spec.network.sigma_w2 = 1.5;
  spec.network.sigma_in2 = 1.5;
  spec.network.sigma_b2 = 0.05;
  spec.network.depth = 10;
  const auto r = deep_kernel(spec, example_gram());
  REQUIRE(r.status.ok());
  REQUIRE(r.kernel.size() == 11);
  CHECK(r.kernel[10](0, 0) == doctest::Approx(0.41877).epsilon(2e-5));
  CHECK(r.kernel[10](1, 1) == doctest::Approx(0.41908).epsilon(2e-5));
  CHECK(r.kernel[10](2, 2) == doctest::Approx(0.41899).epsilon(2e-5));
  spec.network.depth = 200;
  const auto deep = deep_kernel(spec, example_gram());
  const double q_star = fixed_point(make_network(spec.network.activation, 1.5, 0.05)).q_star;
  CHECK(q_star == doctest::Approx(0.418037).epsilon(1e-6));
  for (int a = 0; a < 3; ++a) CHECK(deep.kernel[200](a, a) == doctest::Approx(q_star).epsilon(1e-10));
  // Ordered phase: every pair becomes fully correlated, the gap closing by chi_1 per layer.
  const double chi_1 = fixed_point(make_network(spec.network.activation, 1.5, 0.05)).chi_1;
  // (asymptotically: at layer 150 the gap is ~1e-5 of q*, so both the curvature of the c-map and
  // the 1e-10 accuracy of the entries enter at ~1e-5)
  CHECK((q_star - deep.kernel[150](0, 1)) / (q_star - deep.kernel[149](0, 1)) == doctest::Approx(chi_1).epsilon(2e-4));
}

TEST_CASE("ReLU and linear: the diagonal follows the closed-form length map") {
  for (auto kind : {ActivationKind::relu, ActivationKind::linear}) {
    DeepKernelSpec spec;
    spec.network.activation = {kind, 1};
    spec.network.sigma_w2 = 0.9;
    spec.network.sigma_in2 = 1.1;
    spec.network.sigma_b2 = 0.2;
    spec.network.depth = 12;
    const Eigen::MatrixXd g = example_gram();
    const auto r = deep_kernel(spec, g);
    const double kappa = kind == ActivationKind::relu ? 0.5 : 1.0;
    double q = spec.network.input_variance() * g(1, 1) + spec.network.sigma_b2;
    for (int l = 1; l <= 12; ++l) {
      q = spec.network.sigma_b2 + spec.network.sigma_w2 * kappa * q;
      CHECK(r.kernel[l](1, 1) == doctest::Approx(q).epsilon(1e-14));
    }
  }
}

TEST_CASE("kernels are exactly symmetric and positive semi-definite for every activation") {
  const Eigen::MatrixXd g = random_gram(24, 5, 7);
  for (const auto& name : activation_names()) {
    DeepKernelSpec spec;
    spec.network.activation = {*activation_kind_from_name(name), 1};
    spec.network.sigma_w2 = 1.7;
    spec.network.sigma_in2 = 1.7;
    spec.network.sigma_b2 = 0.1;
    spec.network.depth = 6;
    spec.with_ntk = spec.network.activation.has_derivative();
    const auto r = deep_kernel(spec, g);
    INFO(name, " ", r.status.message);
    REQUIRE(r.status.ok());
    for (std::size_t l = 0; l < r.kernel.size(); ++l) {
      const Eigen::MatrixXd& k = r.kernel[l];
      CHECK((k - k.transpose()).cwiseAbs().maxCoeff() == 0.0);
      const double min_eig = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(k).eigenvalues().minCoeff();
      CHECK(min_eig >= -1e-12 * k.diagonal().maxCoeff());
    }
    if (spec.with_ntk) {
      REQUIRE(r.ntk.size() == r.kernel.size());
      const double min_eig = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(r.ntk.back()).eigenvalues().minCoeff();
      CHECK(min_eig >= -1e-12 * r.ntk.back().diagonal().maxCoeff());
    }
  }
}

TEST_CASE("NTK of linear and ReLU networks follows the closed-form recursion") {
  const Eigen::MatrixXd g = example_gram();
  DeepKernelSpec spec;
  spec.network.sigma_w2 = 1.3;
  spec.network.sigma_in2 = 0.8;
  spec.network.sigma_b2 = 0.1;
  spec.network.depth = 5;
  spec.with_ntk = true;
  spec.network.activation = {ActivationKind::linear, 1};
  auto r = deep_kernel(spec, g);
  Eigen::MatrixXd k = spec.network.input_variance() * g;
  k.array() += spec.network.sigma_b2;
  Eigen::MatrixXd theta = k;
  for (int l = 1; l <= 5; ++l) {
    k = (spec.network.sigma_w2 * k).array() + spec.network.sigma_b2;
    theta = k + spec.network.sigma_w2 * theta;  // E[phi' phi'] = 1
    CHECK((r.ntk[l] - theta).cwiseAbs().maxCoeff() <= 1e-12 * theta.cwiseAbs().maxCoeff());
  }
  // ReLU, one input: Theta^l = q^l + sigma_w^2 / 2 * Theta^{l-1}.
  spec.network.activation = {ActivationKind::relu, 1};
  r = deep_kernel(spec, g);
  double q = r.kernel[0](0, 0), th = q;
  for (int l = 1; l <= 5; ++l) {
    q = spec.network.sigma_b2 + spec.network.sigma_w2 * q / 2;
    th = q + spec.network.sigma_w2 / 2 * th;
    CHECK(r.ntk[l](0, 0) == doctest::Approx(th).epsilon(1e-13));
  }
  spec.network.activation = {ActivationKind::step, 1};
  r = deep_kernel(spec, g);
  CHECK(r.status.ok());
  CHECK(r.ntk_status.code == StatusCode::not_defined);
  CHECK(r.ntk.empty());
}

TEST_CASE("divergence and size limits come back as a status, never as inf or NaN") {
  DeepKernelSpec spec;
  spec.network.activation = {ActivationKind::relu, 1};
  spec.network.sigma_w2 = 2.5;
  spec.network.sigma_in2 = 2.5;
  spec.network.sigma_b2 = 0.1;
  spec.network.depth = 2000;
  auto r = deep_kernel(spec, example_gram());
  CHECK(r.status.code == StatusCode::diverged);
  CHECK(r.status.message.find("relu") != std::string::npos);
  for (const auto& k : r.kernel) CHECK(k.allFinite());
  CHECK(r.kernel.size() < 2001);

  spec.network.depth = 100;
  r = deep_kernel(spec, Eigen::MatrixXd::Identity(5000, 5000));
  CHECK(r.status.code == StatusCode::too_large);
  CHECK(r.kernel.empty());

  Eigen::MatrixXd bad = example_gram();
  bad(0, 1) = std::nan("");
  spec.network.depth = 3;
  r = deep_kernel(spec, bad);
  CHECK(r.status.code == StatusCode::invalid_input);
  spec.network.sigma_w2 = -1;
  r = deep_kernel(spec, example_gram());
  CHECK(r.status.code == StatusCode::invalid_input);
}

TEST_CASE("the job: time-sliced steps give the same numbers as one run; progress grows; cancel stops") {
  DeepKernelSpec spec;
  spec.network.activation = {ActivationKind::tanh, 1};
  spec.network.depth = 4;
  spec.with_ntk = true;
  const Eigen::MatrixXd g = random_gram(256, 4, 3);
  const auto whole = deep_kernel(spec, g);
  DeepKernelJob job(spec, g);
  double last = -1;
  int slices = 0;
  while (!job.step(0.0)) {
    CHECK(job.progress() >= last);
    last = job.progress();
    ++slices;
  }
  CHECK(slices >= spec.network.depth - 1);  // a zero budget returns after every chunk of rows (a layer or less)
  CHECK(job.progress() == 1.0);
  for (int l = 0; l <= 4; ++l) {
    CHECK(job.result().kernel[l] == whole.kernel[l]);
    CHECK(job.result().ntk[l] == whole.ntk[l]);
  }
  DeepKernelJob cancelled(spec, g);
  cancelled.step(0.0);
  cancelled.cancel();
  CHECK(cancelled.step(1.0));
  CHECK(cancelled.result().status.code == StatusCode::cancelled);
}
