// Gated deep linear networks (docs/theory.md §10.1-10.3): the GP kernel against a gate-by-gate computation,
// the path order, many gates against the arc-cosine overlap, the fraction of active gates, PCA and k-means
// gate vectors, the partial trace, and the checks of the network description.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/gated_linear.h"
#include "core/teacher_tasks.h"

using namespace fs;

namespace {

constexpr double kPi = 3.14159265358979323846;

TeacherData small_task(int dim = 6, int train = 9, int test = 5) {
  TeacherSpec spec;
  spec.dim = dim;
  spec.train = train;
  spec.test = test;
  spec.seed = 11;
  return make_teacher_data(spec);
}

// The GP kernel entry by its definition: sigma^{2(L+1)} (x . x' / N_0) prod_l (1/M_l) sum_m g_m(x) g_m(x'),
// each gate evaluated on its own.
double kernel_by_definition(const GatedLinearNetwork& net, const std::vector<Eigen::MatrixXd>& vectors, double threshold,
                            const Eigen::VectorXd& x, const Eigen::VectorXd& x2) {
  const double dim = static_cast<double>(x.size());
  double k = std::pow(net.sigma2, net.hidden_layers() + 1) * x.dot(x2) / dim;
  for (const Eigen::MatrixXd& v : vectors) {
    if (v.rows() == 0) continue;
    double overlap = 0;
    for (Eigen::Index m = 0; m < v.rows(); ++m) {
      const bool on = v.row(m).dot(x) / std::sqrt(dim) > threshold;
      const bool on2 = v.row(m).dot(x2) / std::sqrt(dim) > threshold;
      overlap += (on && on2) ? 1.0 : 0.0;
    }
    k *= overlap / static_cast<double>(v.rows());
  }
  return k;
}

}  // namespace

TEST_CASE("GP kernel of a gated network equals its gate-by-gate definition") {
  const TeacherData data = small_task();
  for (bool shared : {true, false})
    for (int layers : {1, 2, 3}) {
      GatedLinearNetwork net = make_gated_linear(layers, 50, 3, true);
      net.shared_gates = shared;
      net.gates[0] = shared ? 3 : 2;  // unshared: the first layer's gate count differs
      net.sigma2 = 1.3;
      REQUIRE(net.validate().ok());
      GateSpec gs;
      gs.threshold = 0.2;
      const GateVectors vectors = make_gate_vectors(net, gs, data.x_train);
      REQUIRE(vectors.status.ok());
      const GatedLinearFeatures f = gated_linear_features(net, vectors.layers, gs.threshold, data.x_train, data.x_test);
      const int d1 = net.paths(1);
      CHECK(f.paths_train.cols() == d1);
      const GatedLinearKernel k = renormalized_kernel(net, f, Eigen::MatrixXd::Identity(d1, d1));
      double worst = 0, scale = 0;
      for (Eigen::Index i = 0; i < data.x_train.rows(); ++i)
        for (Eigen::Index j = 0; j < data.x_train.rows(); ++j) {
          const double want = kernel_by_definition(net, vectors.layers, gs.threshold, data.x_train.row(i), data.x_train.row(j));
          worst = std::max(worst, std::abs(k.train(i, j) - want));
          scale = std::max(scale, std::abs(want));
        }
      for (Eigen::Index i = 0; i < data.x_test.rows(); ++i) {
        for (Eigen::Index j = 0; j < data.x_train.rows(); ++j) {
          const double want = kernel_by_definition(net, vectors.layers, gs.threshold, data.x_test.row(i), data.x_train.row(j));
          worst = std::max(worst, std::abs(k.test_train(i, j) - want));
        }
        const double want = kernel_by_definition(net, vectors.layers, gs.threshold, data.x_test.row(i), data.x_test.row(i));
        worst = std::max(worst, std::abs(k.test_diagonal(i) - want));
      }
      CAPTURE(layers);
      CAPTURE(shared);
      CHECK(worst <= 1e-12 * scale);
      // Shared gates: every gated layer has the same vectors; unshared ones differ.
      if (layers >= 2) CHECK((vectors.layers[0] == vectors.layers[1]) == shared);
    }
}

TEST_CASE("Paths: the lower gate runs fastest, as numpy's kron") {
  const TeacherData data = small_task();
  GatedLinearNetwork net = make_gated_linear(3, 80, 2, true);
  net.gates = {2, 3, 2, 4};  // M_1 .. M_4: D_1 = 3 * 2 * 4 = 24
  net.shared_gates = false;
  GateSpec gs;
  const GateVectors vectors = make_gate_vectors(net, gs, data.x_train);
  REQUIRE(vectors.status.ok());
  const GatedLinearFeatures f = gated_linear_features(net, vectors.layers, 0.0, data.x_train, data.x_test);
  REQUIRE(f.paths_train.cols() == 24);
  for (Eigen::Index mu = 0; mu < data.x_train.rows(); ++mu)
    for (int m4 = 0; m4 < 4; ++m4)
      for (int m3 = 0; m3 < 2; ++m3)
        for (int m2 = 0; m2 < 3; ++m2) {
          const int p = (m4 * 2 + m3) * 3 + m2;
          CHECK(f.paths_train(mu, p) == f.gates_train[3](mu, m4) * f.gates_train[2](mu, m3) * f.gates_train[1](mu, m2));
        }
}

TEST_CASE("Many random gates approach the arc-cosine overlap (pi - theta) / 2 pi") {
  // Gamma_infinity(x, x') = P(v.x > 0, v.x' > 0) for v ~ N(0, I) (docs/theory.md §10.2). With M gates the
  // overlap is a mean of M Bernoulli variables: standard error <= 0.5 / sqrt(M).
  const TeacherData data = small_task(5, 6, 0);
  const int gates = 1024, seeds = 40;  // the most gates a layer may have, over 40 independent gate sets
  GatedLinearNetwork net = make_gated_linear(1, 100, gates, false);
  Eigen::MatrixXd overlap = Eigen::MatrixXd::Zero(data.x_train.rows(), data.x_train.rows());
  Eigen::MatrixXd vectors_b;
  for (int seed = 1; seed <= seeds; ++seed) {
    GateSpec gs;
    gs.seed = seed;
    const GateVectors vectors = make_gate_vectors(net, gs, data.x_train);
    REQUIRE(vectors.status.ok());
    const Eigen::MatrixXd g = gate_values(vectors.layers[0], 0.0, data.x_train);
    overlap += g * g.transpose() / (double(gates) * seeds);
    vectors_b.conservativeResize(seed * gates, data.x_train.cols());
    vectors_b.bottomRows(gates) = vectors.layers[0];
  }
  const double tolerance = 5 * 0.5 / std::sqrt(static_cast<double>(gates) * seeds);
  for (Eigen::Index i = 0; i < data.x_train.rows(); ++i)
    for (Eigen::Index j = 0; j < data.x_train.rows(); ++j) {
      const double rho = data.x_train.row(i).dot(data.x_train.row(j)) / (data.x_train.row(i).norm() * data.x_train.row(j).norm());
      const double theta = std::acos(std::clamp(rho, -1.0, 1.0));
      CHECK(std::abs(overlap(i, j) - (kPi - theta) / (2 * kPi)) < tolerance);
    }
  // With a threshold b the fraction of active gates is Phi(-b / s_x), s_x = |x| / sqrt(N_0).
  const double b = 0.7;
  const Eigen::MatrixXd gb = gate_values(vectors_b, b, data.x_train);
  for (Eigen::Index i = 0; i < data.x_train.rows(); ++i) {
    const double s = data.x_train.row(i).norm() / std::sqrt(5.0);
    CHECK(std::abs(gb.row(i).mean() - 0.5 * std::erfc(b / s / std::sqrt(2.0))) < tolerance);
  }
}

TEST_CASE("PCA and k-means gate vectors") {
  // Inputs with variances 9, 4, 1, 0.25, ... along the axes: the principal directions are the axes in order.
  TeacherData data = small_task(6, 4000, 0);
  for (int k = 0; k < 6; ++k) data.x_train.col(k) *= 3.0 / std::pow(1.5, k) / 1.0;
  GatedLinearNetwork net = make_gated_linear(2, 100, 2, false);
  net.shared_gates = false;
  GateSpec gs;
  gs.kind = GateKind::pca;
  const GateVectors pca = make_gate_vectors(net, gs, data.x_train);
  REQUIRE(pca.status.ok());
  for (int layer = 0; layer < 2; ++layer)
    for (int m = 0; m < 2; ++m) {
      const int axis = layer * 2 + m;
      CHECK(pca.layers[layer].row(m).norm() == doctest::Approx(std::sqrt(6.0)));
      CHECK(std::abs(pca.layers[layer](m, axis)) / std::sqrt(6.0) > 0.99);
    }
  CHECK(pca.layers[2].rows() == 0);
  // Too many PCA gates for the dimension: a sentence.
  net.gates = {4, 4, 1};
  CHECK(make_gate_vectors(net, gs, data.x_train).status.code == StatusCode::invalid_input);
  // k-means on three well separated clusters finds their centres (as directions).
  Eigen::MatrixXd x(300, 3);
  const Eigen::Matrix3d centres = Eigen::Matrix3d::Identity() * 10.0;
  for (int i = 0; i < 300; ++i) x.row(i) = centres.row(i % 3) + 0.1 * data.x_train.row(i).head(3);
  GatedLinearNetwork one = make_gated_linear(1, 100, 3, false);
  gs.kind = GateKind::kmeans;
  const GateVectors km = make_gate_vectors(one, gs, x);
  REQUIRE(km.status.ok());
  for (int c = 0; c < 3; ++c) {
    double best = 0;
    for (int m = 0; m < 3; ++m) best = std::max(best, km.layers[0].row(m).dot(centres.row(c).normalized()) / std::sqrt(3.0));
    CHECK(best > 0.999);
  }
}

TEST_CASE("Partial trace and Kronecker product in path order") {
  const TeacherData data = small_task(6, 12, 0);
  const Eigen::MatrixXd u = data.x_train.transpose() * data.x_train;                                                // 6 x 6, SPD
  const Eigen::MatrixXd a = data.x_train.topRows(3).leftCols(2).transpose() * data.x_train.topRows(3).leftCols(2);  // 2 x 2
  // Tr[(A (x) I_3) U] = Tr[A Tr_3 U].
  CHECK((kron_identity(a, 3) * u).trace() == doctest::Approx((a * partial_trace(u, 3)).trace()).epsilon(1e-13));
  CHECK(partial_trace(kron_identity(a, 3), 3).isApprox(3.0 * a, 1e-15));
}

TEST_CASE("Network checks name the parameter") {
  GatedLinearNetwork net = make_gated_linear(2, 50, 4, true);
  CHECK(net.validate().ok());
  CHECK(net.paths(1) == 16);
  CHECK(net.paths(2) == 4);
  CHECK(!net.scalar_order_parameters());
  CHECK(make_gated_linear(1, 50, 4, false).scalar_order_parameters());
  CHECK(make_gated_linear(3, 50, 1, true).is_deep_linear());
  net.sigma2 = -1;
  CHECK(net.validate().message.find("sigma^2") != std::string::npos);
  net = make_gated_linear(0, 50, 4, true);
  CHECK(net.validate().code == StatusCode::invalid_input);
  net = make_gated_linear(4, 50, 20, true);  // D_1 = 20^4
  CHECK(net.validate().code == StatusCode::too_large);
  net = make_gated_linear(2, 50, 4, true);
  net.gates = {4, 3, 4};  // shared gates need equal counts
  CHECK(net.validate().code == StatusCode::invalid_input);
  net.shared_gates = false;
  CHECK(net.validate().ok());
  const TeacherData data = small_task();
  std::vector<Eigen::MatrixXd> vectors = {Eigen::MatrixXd::Zero(4, 6), Eigen::MatrixXd::Zero(3, 6), Eigen::MatrixXd::Zero(4, 5)};
  CHECK(check_gate_vectors(net, vectors, 6).message.find("readout") != std::string::npos);
  vectors[2] = Eigen::MatrixXd::Zero(4, 6);
  CHECK(check_gate_vectors(net, vectors, 6).ok());
  vectors[1](0, 0) = std::nan("");
  CHECK(!check_gate_vectors(net, vectors, 6).ok());
}

TEST_CASE("Task-masked gates: gate m open only for task m mod K, no gate shared across tasks") {
  const TeacherData d = small_task(6, 12, 6);
  GatedLinearNetwork net = make_gated_linear(1, 20, 4, true);
  GateSpec gates;
  const GateVectors v = make_gate_vectors(net, gates, d.x_train);
  REQUIRE(v.status.ok());
  TaskMask mask;
  mask.tasks = 2;
  for (int i = 0; i < 12; ++i) mask.train.push_back(i % 2);
  for (int i = 0; i < 6; ++i) mask.test.push_back(i / 3);
  REQUIRE(check_task_mask(net, mask, 12, 6).ok());
  const GatedLinearFeatures plain = gated_linear_features(net, v.layers, 0.0, d.x_train, d.x_test);
  const GatedLinearFeatures masked = gated_linear_features(net, v.layers, 0.0, d.x_train, d.x_test, mask);
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i < 12; ++i)
      for (int m = 0; m < 4; ++m) CHECK(masked.gates_train[l](i, m) == (m % 2 == i % 2 ? plain.gates_train[l](i, m) : 0.0));
  // The GP kernel has no entry between points of different tasks, and within a task it is the plain kernel
  // with the other task's gates closed.
  const GatedLinearKernel k = renormalized_kernel(net, masked, Eigen::MatrixXd::Identity(net.paths(1), net.paths(1)));
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 12; ++j)
      if (i % 2 != j % 2) CHECK(k.train(i, j) == 0.0);
  for (int q = 0; q < 6; ++q)
    for (int i = 0; i < 12; ++i)
      if (q / 3 != i % 2) CHECK(k.test_train(q, i) == 0.0);
  CHECK(k.train.diagonal().minCoeff() >= 0.0);
  CHECK((k.train - renormalized_kernel(net, plain, Eigen::MatrixXd::Identity(4, 4)).train).cwiseAbs().maxCoeff() > 0.0);

  // Refusals: too few gates for the tasks, a task id out of range, a size that does not match.
  TaskMask many = mask;
  many.tasks = 5;
  CHECK(check_task_mask(net, many, 12, 6).message.find("M >= K") != std::string::npos);
  TaskMask bad = mask;
  bad.train[3] = 2;
  CHECK_FALSE(check_task_mask(net, bad, 12, 6).ok());
  CHECK_FALSE(check_task_mask(net, mask, 11, 6).ok());
  CHECK_FALSE(check_task_mask(make_gated_linear(1, 20, 1, false), mask, 12, 6).ok());  // a DLN has no gates to mask
}

TEST_CASE("The forward pass of random networks has the GP kernel as its covariance (Monte Carlo)") {
  // E f(x) f(x') over weights ~ N(0, sigma^2) is K_GP, for a gated readout, unshared gates and L = 2.
  const TeacherData d = small_task(5, 6, 1);
  GatedLinearNetwork net = make_gated_linear(2, 6, 3, true);
  net.shared_gates = false;
  net.sigma2 = 1.3;
  GateSpec spec;
  spec.seed = 2;
  const GateVectors v = make_gate_vectors(net, spec, d.x_train);
  REQUIRE(v.status.ok());
  const GatedLinearFeatures f = gated_linear_features(net, v.layers, -0.6, d.x_train, d.x_test);  // most gates open
  const Eigen::MatrixXd k = renormalized_kernel(net, f, Eigen::MatrixXd::Identity(net.paths(1), net.paths(1))).train;
  const int draws = 40000;
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(6, 6), square = Eigen::MatrixXd::Zero(6, 6);
  std::uint64_t state = 12345;
  auto normal = [&state] {  // Box-Muller on a 64-bit LCG: independent of the library's own streams
    auto uniform = [&state] {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return (static_cast<double>(state >> 11) + 0.5) * 0x1p-53;
    };
    const double r = std::sqrt(-2 * std::log(uniform())), a = 2 * kPi * uniform();
    return r * std::cos(a);
  };
  const int widths[] = {5, 6, 6};
  const int rows[] = {6, 6, 1};
  for (int draw = 0; draw < draws; ++draw) {
    std::vector<Eigen::MatrixXd> w;
    for (int l = 0; l < 3; ++l) {
      Eigen::MatrixXd m(rows[l], net.gates[l] * widths[l]);
      for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = std::sqrt(net.sigma2) * normal();
      w.push_back(std::move(m));
    }
    const Eigen::VectorXd out = gated_linear_forward(net, w, d.x_train, f.gates_train).output;
    const Eigen::MatrixXd outer = out * out.transpose();
    sum += outer;
    square += outer.cwiseProduct(outer);
  }
  const Eigen::MatrixXd mean = sum / draws;
  const Eigen::MatrixXd se = ((square / draws - mean.cwiseProduct(mean)) / draws).cwiseSqrt();
  for (int a = 0; a < 6; ++a)
    for (int b = 0; b < 6; ++b) {
      CAPTURE(a);
      CAPTURE(b);
      CHECK(std::abs(mean(a, b) - k(a, b)) < 5 * se(a, b) + 1e-12);
    }
  CHECK((k.diagonal().array() > 0.05).count() >= 4);  // not a vacuous comparison (an input with every gate of a layer off has 0)
}
