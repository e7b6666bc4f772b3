// Recurrent two-time kernel: deep equivalence, reference values, structure, Monte Carlo.
#include <doctest/doctest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <random>

#include "core/deep_kernel.h"
#include "core/recurrent_kernel.h"
#include "tests/example_inputs.h"

using namespace fs;
using fs::testing::example_inputs;

namespace {
RecurrentKernelSpec reference_spec(BiasMode bias, InputMode input) {
  RecurrentKernelSpec spec;
  spec.network.activation = {ActivationKind::tanh, 1};
  spec.network.sigma_w2 = 2.0;
  spec.network.sigma_in2 = 2.0;
  spec.network.sigma_b2 = 0.1;
  spec.network.depth = 5;
  spec.network.bias_mode = bias;
  spec.network.input_mode = input;
  return spec;
}
}  // namespace

TEST_CASE("equal-time blocks equal the deep kernel exactly, for both bias modes (docs/theory.md §4.2)") {
  for (auto kind : {ActivationKind::tanh, ActivationKind::relu, ActivationKind::gelu}) {
    for (auto bias : {BiasMode::shared, BiasMode::independent}) {
      RecurrentKernelSpec rs = reference_spec(bias, InputMode::first_step);
      rs.network.activation = {kind, 1};
      rs.network.depth = 7;
      const InputSet in = example_inputs();
      const auto rnn = recurrent_kernel(rs, in);
      REQUIRE(rnn.status.ok());
      DeepKernelSpec ds;
      ds.network.activation = rs.network.activation;
      ds.network.sigma_w2 = rs.network.sigma_w2;
      ds.network.sigma_b2 = rs.network.sigma_b2;
      ds.network.sigma_in2 = rs.network.input_variance();
      ds.network.depth = 7;
      const auto dnn = deep_kernel(ds, in.gram());
      for (int t = 0; t <= 7; ++t) CHECK(rnn.block(t, t) == dnn.kernel[t]);
    }
  }
}

TEST_CASE("tanh (2, 0.1), shared bias, input at t = 0: reference values (docs/theory.md §4.3)") {
  const auto r = recurrent_kernel(reference_spec(BiasMode::shared, InputMode::first_step), example_inputs());
  REQUIRE(r.status.ok());
  const double diag[] = {1.3, 0.98439, 0.88287, 0.84349, 0.82709, 0.82006};
  for (int t = 0; t <= 5; ++t) CHECK(r.at(t, t, 0, 0) == doctest::Approx(diag[t]).epsilon(1e-5));
  for (int t = 1; t <= 5; ++t) CHECK(r.at(t, 0, 0, 0) == doctest::Approx(0.1).epsilon(1e-15));
  CHECK(r.at(2, 1, 0, 0) == doctest::Approx(0.16793).epsilon(3e-5));
  CHECK(r.at(5, 4, 0, 0) == doctest::Approx(0.33241).epsilon(3e-5));
  // K^{st} = (K^{ts})^T
  CHECK(r.block(2, 4) == r.block(4, 2).transpose());
}

TEST_CASE("odd phi, independent biases, input at t = 0: no cross-time correlation (docs/theory.md §4.3)") {
  const auto r = recurrent_kernel(reference_spec(BiasMode::independent, InputMode::first_step), example_inputs());
  for (int t = 1; t <= 5; ++t)
    for (int s = 0; s < t; ++s) CHECK(r.block(t, s).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("linear network: every input mode follows the closed-form two-time recursion") {
  for (auto mode : {InputMode::first_step, InputMode::every_step, InputMode::sequence}) {
    for (auto bias : {BiasMode::shared, BiasMode::independent}) {
      RecurrentKernelSpec spec = reference_spec(bias, mode);
      spec.network.activation = {ActivationKind::linear, 1};
      spec.network.sigma_w2 = 0.7;
      spec.network.sigma_in2 = 1.3;
      spec.network.depth = 4;
      InputSet in = example_inputs(2);
      if (mode == InputMode::sequence) {
        in.x.clear();
        for (int t = 0; t <= 4; ++t)
          in.x.push_back(example_inputs(2).x[0] * (1.0 + 0.3 * t) + Eigen::MatrixXd::Constant(2, 3, 0.1 * t));
      }
      const auto r = recurrent_kernel(spec, in);
      REQUIRE(r.status.ok());
      auto input = [&](int t, int s) -> Eigen::MatrixXd {
        Eigen::MatrixXd m = Eigen::MatrixXd::Zero(2, 2);
        if (mode == InputMode::every_step || (t == 0 && s == 0)) m = spec.network.input_variance() * in.gram(0, 0);
        if (mode == InputMode::sequence) m = spec.network.input_variance() * in.gram(t, s);
        return (m.array() + ((bias == BiasMode::shared || t == s) ? spec.network.sigma_b2 : 0.0)).matrix();
      };
      // K^{ts} = B + I + sigma_w^2 K^{t-1,s-1} for t, s >= 1 (E[phi phi] = covariance for phi = x)
      for (int t = 0; t <= 4; ++t)
        for (int s = 0; s <= t; ++s) {
          Eigen::MatrixXd expected = input(t, s);
          if (s >= 1) expected += spec.network.sigma_w2 * r.block(t - 1, s - 1);
          CHECK((r.block(t, s) - expected).cwiseAbs().maxCoeff() < 1e-13);
        }
    }
  }
}

TEST_CASE("the full two-time kernel is positive semi-definite") {
  for (auto bias : {BiasMode::shared, BiasMode::independent}) {
    for (auto mode : {InputMode::first_step, InputMode::every_step}) {
      RecurrentKernelSpec spec = reference_spec(bias, mode);
      spec.network.activation = {ActivationKind::relu, 1};
      spec.network.sigma_w2 = 1.6;
      spec.network.depth = 6;
      const auto r = recurrent_kernel(spec, example_inputs());
      const int p = 3, n = 7 * p;
      Eigen::MatrixXd big(n, n);
      for (int t = 0; t <= 6; ++t)
        for (int s = 0; s <= 6; ++s) big.block(t * p, s * p, p, p) = r.block(t, s);
      CHECK((big - big.transpose()).cwiseAbs().maxCoeff() == 0.0);
      CHECK(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(big).eigenvalues().minCoeff() > -1e-12);
    }
  }
}

TEST_CASE("Monte Carlo: wide random RNNs with one shared W reproduce K^{ts} within 4 standard errors") {
  const RecurrentKernelSpec spec = reference_spec(BiasMode::shared, InputMode::first_step);
  const InputSet in = example_inputs(2);
  const auto theory = recurrent_kernel(spec, in);
  const int n = 1000, networks = 40, T = spec.network.depth;
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> normal;
  // Per-network estimates of K^{ts}_{01} and K^{ts}_{00}: mean over neurons of h^t_0 h^s_b.
  std::vector<Eigen::MatrixXd> est00(networks), est01(networks);
  for (int m = 0; m < networks; ++m) {
    Eigen::MatrixXd w(n, n), u(n, 3);
    Eigen::VectorXd b(n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) w(i, j) = normal(rng) * std::sqrt(spec.network.sigma_w2 / n);
      for (int j = 0; j < 3; ++j) u(i, j) = normal(rng) * std::sqrt(spec.network.input_variance() / 3);
      b[i] = normal(rng) * std::sqrt(spec.network.sigma_b2);
    }
    std::vector<Eigen::MatrixXd> h(T + 1);  // n x 2
    h[0] = u * in.x[0].transpose();
    h[0].colwise() += b;
    for (int t = 1; t <= T; ++t) {
      h[t] = w * h[t - 1].array().tanh().matrix();
      h[t].colwise() += b;
    }
    est00[m].resize(T + 1, T + 1);
    est01[m].resize(T + 1, T + 1);
    for (int t = 0; t <= T; ++t)
      for (int s = 0; s <= T; ++s) {
        est00[m](t, s) = h[t].col(0).dot(h[s].col(0)) / n;
        est01[m](t, s) = h[t].col(0).dot(h[s].col(1)) / n;
      }
  }
  for (int t = 0; t <= T; ++t)
    for (int s = 0; s <= t; ++s)
      for (int pair = 0; pair < 2; ++pair) {
        const auto& est = pair == 0 ? est00 : est01;
        double mean = 0, sq = 0;
        for (int m = 0; m < networks; ++m) mean += est[m](t, s) / networks;
        for (int m = 0; m < networks; ++m) sq += (est[m](t, s) - mean) * (est[m](t, s) - mean);
        const double se = std::sqrt(sq / (networks - 1) / networks);
        const double expected = theory.at(t, s, 0, pair);
        INFO("t=", t, " s=", s, " pair=", pair, " MC=", mean, " +- ", se, " theory=", expected);
        // 4 standard errors plus the O(1/N) finite-width mean shift (|N shift| < 2 here, docs/theory.md §5.5).
        CHECK(std::abs(mean - expected) <= 4 * se + 2.0 / n);
      }
}

TEST_CASE("bad input: sequence length, size budget, divergence") {
  RecurrentKernelSpec spec = reference_spec(BiasMode::shared, InputMode::sequence);
  auto r = recurrent_kernel(spec, example_inputs());
  CHECK(r.status.code == StatusCode::invalid_input);
  CHECK(r.status.message.find("T + 1") != std::string::npos);
  spec.network.input_mode = InputMode::first_step;
  spec.network.depth = 400;
  InputSet many = example_inputs();
  many.count = 300;
  many.x = {Eigen::MatrixXd::Ones(300, 3)};
  r = recurrent_kernel(spec, many);
  CHECK(r.status.code == StatusCode::too_large);
  spec.network.depth = 700;  // q grows like 1.5^t and passes 1e100 near t = 570
  spec.network.activation = {ActivationKind::relu, 1};
  spec.network.sigma_w2 = 3.0;
  r = recurrent_kernel(spec, example_inputs());
  CHECK(r.status.code == StatusCode::diverged);
  for (const auto& block : r.blocks)
    if (block.size() > 0) CHECK(block.allFinite());
  // The partial result says which blocks it holds: the equal-time ones before the divergence, no more.
  int equal_time = 0;
  while (equal_time <= spec.network.depth && r.has(equal_time, equal_time)) ++equal_time;
  CHECK(equal_time > 500);
  CHECK(equal_time < 700);
  CHECK_FALSE(r.has(equal_time, equal_time));
  CHECK_FALSE(r.has(2, 1));  // the cross-time blocks after t = 1 come after every equal-time one
  CHECK_FALSE(r.has(-1, 0));
  CHECK_FALSE(r.has(701, 0));
}

TEST_CASE("block(t, s) is the transpose of block(s, t)") {
  RecurrentKernelSpec spec = reference_spec(BiasMode::shared, InputMode::every_step);
  const RecurrentKernelResult r = recurrent_kernel(spec, example_inputs());
  REQUIRE(r.status.ok());
  for (int t = 0; t <= r.steps; ++t)
    for (int s = 0; s <= r.steps; ++s) {
      REQUIRE(r.has(t, s));
      CHECK(r.block(t, s) == r.block(s, t).transpose());
      CHECK(r.at(t, s, 0, 2) == r.block(t, s)(0, 2));
    }
}
