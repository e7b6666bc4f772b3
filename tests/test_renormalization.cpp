// Kernel renormalization (docs/theory.md §10.4-10.7): the saddle-point equations checked directly at every
// solver's answer, U -> I as N -> infinity, the deep linear closed form at T -> 0, gates that are always on
// == the deep linear network, the scalar fast path == the general solvers, fixed point == minimiser, the
// GP limit and the training error against their definitions, sweeps with continuation, and the refusals.
#include <doctest/doctest.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/gated_linear.h"
#include "core/datasets.h"
#include "core/renorm_scene.h"
#include "core/renormalization.h"
#include "core/teacher_tasks.h"

using namespace fs;

namespace {

RenormProblem teacher_problem(int train = 60, int test = 40, int dim = 30, std::uint64_t seed = 3) {
  TeacherSpec t;
  t.dim = dim;
  t.train = train;
  t.test = test;
  t.seed = seed;
  const TeacherData d = make_teacher_data(t);
  REQUIRE(d.status.ok());
  RenormProblem p;
  p.x_train = d.x_train;
  p.x_test = d.x_test;
  p.y_train = d.y_train;
  p.y_test = d.y_test;
  return p;
}

RenormSpec spec_of(const GatedLinearNetwork& net, RenormSolverKind solver = RenormSolverKind::automatic) {
  RenormSpec s;
  s.network = net;
  s.solver = solver;
  s.tolerance = 1e-12;
  return s;
}

Eigen::MatrixXd inverse(const Eigen::MatrixXd& a) { return a.partialPivLu().inverse(); }

// The largest violation of (SP1) and (SP2) at the order parameters of `r`, computed from their definitions
// (docs/theory.md §10.4) with LU inverses, relative to the size of the terms.
double saddle_point_violation(const RenormSpec& spec, const RenormProblem& problem, const RenormResult& r) {
  const GatedLinearNetwork& net = spec.network;
  const int layers = net.hidden_layers();
  const GatedLinearFeatures f = gated_linear_features(net, r.gate_vectors, spec.gates.threshold, problem.x_train, problem.x_test);
  const std::vector<Eigen::MatrixXd>& u = r.order_parameters;
  const double c = std::pow(net.sigma2, layers + 1) / net.paths(1);
  const Eigen::Index p = problem.y_train.size();
  const Eigen::MatrixXd a = c * (f.paths_train * u[0] * f.paths_train.transpose()).cwiseProduct(f.base_train) +
                            net.temperature * Eigen::MatrixXd::Identity(p, p);
  const Eigen::MatrixXd a_inv = inverse(a);
  const Eigen::VectorXd zeta = a_inv * problem.y_train;
  const Eigen::MatrixXd omega = a_inv - zeta * zeta.transpose();
  const Eigen::MatrixXd g = c * f.paths_train.transpose() * omega.cwiseProduct(f.base_train) * f.paths_train;
  auto upper = [&](int l) {  // U_{l+1}^-1 (x) I_{M_{l+1}}
    return l == layers ? Eigen::MatrixXd(Eigen::MatrixXd::Identity(net.gates[l], net.gates[l]))
                       : kron_identity(inverse(u[l]), net.gates[l]);
  };
  const Eigen::MatrixXd sp1 = inverse(u[0]) - upper(1) - g / net.widths[0];
  double worst = sp1.cwiseAbs().maxCoeff() / inverse(u[0]).cwiseAbs().maxCoeff();
  for (int l = 2; l <= layers; ++l) {
    const Eigen::MatrixXd& ul = u[l - 1];
    const Eigen::MatrixXd lhs = net.widths[l - 1] * (ul * upper(l) * ul - ul);
    const Eigen::MatrixXd rhs = net.widths[l - 2] * (partial_trace(u[l - 2], net.gates[l - 1]) - net.gates[l - 1] * ul);
    worst = std::max(worst, (lhs - rhs).cwiseAbs().maxCoeff() / (net.widths[l - 1] * ul.cwiseAbs().maxCoeff()));
  }
  return worst;
}

double max_difference(const std::vector<Eigen::MatrixXd>& a, const std::vector<Eigen::MatrixXd>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t l = 0; l < a.size(); ++l) {
    REQUIRE(a[l].rows() == b[l].rows());
    worst = std::max(worst, (a[l] - b[l]).cwiseAbs().maxCoeff());
  }
  return worst;
}

}  // namespace

TEST_CASE("Every solver's answer satisfies the saddle-point equations") {
  const RenormProblem problem = teacher_problem();
  struct Case {
    int layers, width, gates;
    bool gated_readout;
    RenormSolverKind solver;
  };
  for (const Case& c : {Case{1, 40, 4, true, RenormSolverKind::fixed_point}, Case{2, 40, 2, true, RenormSolverKind::fixed_point},
                        Case{2, 50, 4, false, RenormSolverKind::fixed_point},
                        Case{3, 60, 2, false, RenormSolverKind::fixed_point}, Case{2, 40, 2, true, RenormSolverKind::minimize},
                        Case{2, 30, 1, false, RenormSolverKind::scalar}, Case{1, 20, 4, false, RenormSolverKind::scalar}}) {
    GatedLinearNetwork net = make_gated_linear(c.layers, c.width, c.gates, c.gated_readout);
    net.temperature = 0.05;
    const RenormSpec spec = spec_of(net, c.solver);
    const RenormResult r = renorm_run(spec, problem);
    CAPTURE(c.layers);
    CAPTURE(c.gates);
    CAPTURE(renorm_solver_name(c.solver));
    CAPTURE(r.status.message);
    REQUIRE(r.status.ok());
    CHECK(r.report.converged);
    CHECK(saddle_point_violation(spec, problem, r) < 1e-9);
    // Finite width renormalizes: U moves away from the GP's identity at N ~ P.
    CHECK((r.order_parameters[0] - Eigen::MatrixXd::Identity(net.paths(1), net.paths(1))).cwiseAbs().maxCoeff() > 1e-3);
  }
}

TEST_CASE("U -> I as N -> infinity, with N (U - I) converging") {
  const RenormProblem problem = teacher_problem();
  for (bool gated_readout : {true, false}) {
    std::vector<double> scaled;
    for (int width : {100000, 1000000}) {
      GatedLinearNetwork net = make_gated_linear(2, width, 2, gated_readout);
      const RenormResult r = renorm_run(spec_of(net), problem);
      REQUIRE(r.status.ok());
      double worst = 0;
      for (int l = 1; l <= 2; ++l)
        worst = std::max(
            worst, (r.order_parameters[l - 1] - Eigen::MatrixXd::Identity(net.paths(l), net.paths(l))).cwiseAbs().maxCoeff());
      scaled.push_back(width * worst);
      CHECK((r.theory.mean - r.gp.mean).cwiseAbs().maxCoeff() < 1e-2 * 1e5 / width);
    }
    CHECK(scaled[1] > 0);
    CHECK(std::abs(scaled[1] / scaled[0] - 1) < 1e-3);  // the 1/N law: N (U - I) is flat in N
  }
}

TEST_CASE("Deep linear network at T -> 0: u^(L+1) - (1 - alpha) u^L - r0 = 0") {
  // P <= N_0 keeps K_GP invertible (docs/theory.md §10.5): r0 = Y^T K_GP^-1 Y / N, alpha = P / N, U_1 = u^L.
  const RenormProblem problem = teacher_problem(20, 10, 30);
  for (int layers : {1, 2, 3})
    for (int width : {15, 40, 200}) {
      GatedLinearNetwork net = make_gated_linear(layers, width, 1, false);
      net.temperature = 1e-9;
      net.sigma2 = 0.8;
      const Eigen::MatrixXd k = std::pow(net.sigma2, layers + 1) * problem.x_train * problem.x_train.transpose() / 30.0;
      const double r0 = problem.y_train.dot(k.ldlt().solve(problem.y_train)) / width;
      const double alpha = 20.0 / width;
      auto poly = [&](double u) { return std::pow(u, layers + 1) - (1 - alpha) * std::pow(u, layers) - r0; };
      double lo = 0, hi = 1;
      while (poly(hi) < 0) hi *= 2;
      for (int i = 0; i < 200; ++i) ((poly(0.5 * (lo + hi)) < 0) ? lo : hi) = 0.5 * (lo + hi);
      const double u_closed = std::pow(0.5 * (lo + hi), layers);
      for (RenormSolverKind solver : {RenormSolverKind::scalar, RenormSolverKind::fixed_point}) {
        const RenormResult r = renorm_run(spec_of(net, solver), problem);
        REQUIRE(r.status.ok());
        CAPTURE(layers);
        CAPTURE(width);
        CHECK(r.order_parameters[0](0, 0) == doctest::Approx(u_closed).epsilon(1e-6));
      }
    }
}

TEST_CASE("Gates that are always on give the deep linear network, through the matrix theory") {
  // With every gate on, sum_m W^{l,m} / sqrt(M) is one Gaussian matrix: the GGDLN is a DLN. Its order
  // parameter is a 16 x 16 matrix here, the DLN's a number; the predictors must agree.
  const RenormProblem problem = teacher_problem();
  GatedLinearNetwork dln = make_gated_linear(2, 40, 1, false);
  GatedLinearNetwork always_on = make_gated_linear(2, 40, 4, true);
  RenormSpec gated = spec_of(always_on, RenormSolverKind::fixed_point);
  gated.gates.threshold = -1e9;
  const RenormResult a = renorm_run(spec_of(dln, RenormSolverKind::scalar), problem);
  const RenormResult b = renorm_run(gated, problem);
  REQUIRE(a.status.ok());
  REQUIRE(b.status.ok());
  CHECK((a.theory.mean - b.theory.mean).cwiseAbs().maxCoeff() < 1e-8);
  CHECK((a.theory.variance - b.theory.variance).cwiseAbs().maxCoeff() < 1e-8);
  CHECK(b.order_parameters[0].sum() / 16.0 == doctest::Approx(a.order_parameters[0](0, 0)).epsilon(1e-8));
  CHECK(a.theory.generalization_error == doctest::Approx(b.theory.generalization_error).epsilon(1e-8));
}

TEST_CASE("The scalar fast path equals the general solvers; the fixed point equals the minimiser") {
  const RenormProblem problem = teacher_problem();
  for (GatedLinearNetwork net : {make_gated_linear(2, 30, 1, false), make_gated_linear(1, 25, 4, false)}) {
    if (net.hidden_layers() == 2) net.widths = {30, 70};  // unequal widths: the conservation law's kappa
    const RenormResult fast = renorm_run(spec_of(net, RenormSolverKind::scalar), problem);
    const RenormResult fixed = renorm_run(spec_of(net, RenormSolverKind::fixed_point), problem);
    const RenormResult minimised = renorm_run(spec_of(net, RenormSolverKind::minimize), problem);
    REQUIRE(fast.status.ok());
    REQUIRE(fixed.status.ok());
    REQUIRE(minimised.status.ok());
    CHECK(max_difference(fast.order_parameters, fixed.order_parameters) < 1e-10);
    CHECK(max_difference(fast.order_parameters, minimised.order_parameters) < 1e-10);
    CHECK(fast.report.method == "scalar");
    // The scalar path's S and residual come from its tridiagonal form: the same as the dense evaluation's.
    CHECK(fast.report.action == doctest::Approx(fixed.report.action).epsilon(1e-12));
    CHECK(fast.report.residual < 1e-12);
    // So do its predictors (theory and GP), against the dense Cholesky path's.
    for (const auto& [a, b] : {std::pair{&fast.theory, &fixed.theory}, std::pair{&fast.gp, &fixed.gp}}) {
      CHECK((a->mean - b->mean).cwiseAbs().maxCoeff() < 1e-10);
      CHECK((a->variance - b->variance).cwiseAbs().maxCoeff() < 1e-10);
      CHECK(a->training_error == doctest::Approx(b->training_error).epsilon(1e-10));
      CHECK(a->generalization_error == doctest::Approx(b->generalization_error).epsilon(1e-10));
    }
  }
  for (GatedLinearNetwork net : {make_gated_linear(1, 30, 4, true), make_gated_linear(2, 40, 2, true)}) {
    const RenormResult fixed = renorm_run(spec_of(net, RenormSolverKind::fixed_point), problem);
    const RenormResult minimised = renorm_run(spec_of(net, RenormSolverKind::minimize), problem);
    REQUIRE(fixed.status.ok());
    REQUIRE(minimised.status.ok());
    CHECK(max_difference(fixed.order_parameters, minimised.order_parameters) < 1e-9);
    CHECK(fixed.report.action == doctest::Approx(minimised.report.action).epsilon(1e-12));
  }
}

TEST_CASE("The GP limit and the training error from their definitions") {
  RenormProblem problem = teacher_problem(50, 30);
  GatedLinearNetwork net = make_gated_linear(2, 40, 3, true);
  net.temperature = 0.1;
  const RenormSpec spec = spec_of(net);
  const RenormResult r = renorm_run(spec, problem);
  REQUIRE(r.status.ok());
  const GatedLinearFeatures f = gated_linear_features(net, r.gate_vectors, 0.0, problem.x_train, problem.x_test);
  for (int gp = 0; gp < 2; ++gp) {
    const int d = net.paths(1);
    const Eigen::MatrixXd u = gp ? Eigen::MatrixXd::Identity(d, d) : r.order_parameters[0];
    const GatedLinearKernel k = renormalized_kernel(net, f, u);
    const Eigen::MatrixXd a_inv = inverse(k.train + net.temperature * Eigen::MatrixXd::Identity(50, 50));
    const Eigen::VectorXd mean = k.test_train * a_inv * problem.y_train;
    const Eigen::VectorXd var = k.test_diagonal - (k.test_train * a_inv * k.test_train.transpose()).diagonal();
    const PredictorStatistics& s = gp ? r.gp : r.theory;
    CHECK((s.mean - mean).cwiseAbs().maxCoeff() < 1e-10);
    CHECK((s.variance - var).cwiseAbs().maxCoeff() < 1e-10);
    CHECK(s.bias2 == doctest::Approx((mean - problem.y_test).squaredNorm() / 30).epsilon(1e-10));
    CHECK(s.generalization_error == doctest::Approx(s.bias2 + var.mean()).epsilon(1e-10));
    // Training error: the posterior mean of (f(x^mu) - y^mu)^2, i.e. squared residual plus variance.
    const Eigen::MatrixXd post = k.train - k.train * a_inv * k.train;
    const Eigen::VectorXd train_mean = k.train * a_inv * problem.y_train;
    CHECK(s.training_error == doctest::Approx(((train_mean - problem.y_train).squaredNorm() + post.trace()) / 50).epsilon(1e-9));
  }
  // Classification: +-1 labels give accuracies in [0, 1]; a sampled network is right less often than the mean.
  problem.y_train = problem.y_train.unaryExpr([](double v) { return v >= 0 ? 1.0 : -1.0; });
  problem.y_test = problem.y_test.unaryExpr([](double v) { return v >= 0 ? 1.0 : -1.0; });
  problem.classification = true;
  const RenormResult c = renorm_run(spec, problem);
  REQUIRE(c.status.ok());
  CHECK(c.theory.accuracy > 0.5);
  CHECK(c.theory.sampled_accuracy < c.theory.accuracy);
  CHECK(c.theory.sampled_accuracy > 0.5);
}

TEST_CASE("A sweep along N with continuation gives the cold solves") {
  const RenormProblem problem = teacher_problem(40, 20);
  GatedLinearNetwork net = make_gated_linear(2, 40, 2, true);
  const RenormSpec spec = spec_of(net);
  const std::vector<double> widths = {400, 100, 40, 20};
  RenormSweepJob job(spec, problem, RenormSweepParameter::width, widths);
  while (!job.step(0.01)) {}
  REQUIRE(job.points().size() == widths.size());
  for (const RenormSweepPoint& point : job.points()) {
    REQUIRE(point.result.status.ok());
    const RenormResult cold = renorm_run(renorm_spec_at(spec, RenormSweepParameter::width, point.value), problem);
    CHECK(max_difference(point.result.order_parameters, cold.order_parameters) < 1e-10);
  }
  // Depth and gate sweeps change the shapes.
  CHECK(renorm_spec_at(spec, RenormSweepParameter::depth, 3).network.paths(1) == 8);
  CHECK(renorm_spec_at(spec, RenormSweepParameter::gates, 4).network.paths(1) == 16);
}

TEST_CASE("The ReLU NNGP beside a sweep: the arc-cosine GP at each point's L, sigma^2 and T") {
  // L = 1 from the closed form written out here: K = sigma^2 |x||x'| sigma^2/N0 (sin t + (pi - t) cos t) / 2 pi.
  const RenormProblem problem = teacher_problem(30, 15, 8);
  GatedLinearNetwork net = make_gated_linear(1, 40, 3, false);
  net.sigma2 = 1.4;
  net.temperature = 0.08;
  Eigen::MatrixXd x(45, 8);
  x << problem.x_train, problem.x_test;
  Eigen::MatrixXd k(45, 45);
  for (int a = 0; a < 45; ++a)
    for (int b = 0; b < 45; ++b) {
      const double na = x.row(a).norm(), nb = x.row(b).norm();
      const double c = std::clamp(x.row(a).dot(x.row(b)) / (na * nb), -1.0, 1.0), t = std::acos(c);
      k(a, b) = net.sigma2 * net.sigma2 * na * nb / 8.0 * (std::sin(t) + (M_PI - t) * c) / (2 * M_PI);
    }
  Eigen::MatrixXd a = k.topLeftCorner(30, 30);
  a.diagonal().array() += net.temperature;
  const Eigen::VectorXd mean = k.bottomLeftCorner(15, 30) * a.llt().solve(problem.y_train);
  Status status;
  const PredictorStatistics relu = relu_nngp_prediction(net, problem, status);
  REQUIRE(status.ok());
  CHECK((relu.mean - mean).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(relu.bias2 == doctest::Approx((mean - problem.y_test).squaredNorm() / 15).epsilon(1e-12));

  // A sweep carries it at every point: the same along N, recomputed along L.
  RenormSweepJob widths(spec_of(net), problem, RenormSweepParameter::width, {200, 50});
  while (!widths.step(0.01)) {}
  REQUIRE(widths.points().size() == 2);
  CHECK(widths.points()[1].relu.generalization_error == relu.generalization_error);
  RenormSweepJob depths(spec_of(net), problem, RenormSweepParameter::depth, {1, 2});
  while (!depths.step(0.01)) {}
  REQUIRE(depths.points().size() == 2);
  CHECK(depths.points()[0].relu.generalization_error == relu.generalization_error);
  Status deep_status;
  const PredictorStatistics deep =
      relu_nngp_prediction(renorm_spec_at(spec_of(net), RenormSweepParameter::depth, 2).network, problem, deep_status);
  CHECK(depths.points()[1].relu.generalization_error == deep.generalization_error);
  CHECK(deep.generalization_error != relu.generalization_error);
}

TEST_CASE("The tab's data sets: labelled rows (every 4th a test point), Fashion-MNIST as +-1 labels") {
  Scene scene;
  scene.renorm.task = RenormTask::csv;
  for (int i = 0; i < 10; ++i) scene.renorm.points.push_back({double(i), 2.0 * i, i % 3 == 0 ? 7.0 : 3.0});
  RenormSceneData d = renorm_scene_data(scene);
  REQUIRE(d.status.ok());
  REQUIRE(d.problem.x_train.rows() == 8);
  REQUIRE(d.problem.x_test.rows() == 2);
  CHECK(d.problem.x_test(0, 0) == 3);  // rows 3 and 7
  CHECK(d.problem.x_test(1, 1) == 14);
  CHECK(d.problem.classification);
  CHECK(d.problem.y_train(0) == 1);  // 7 is the larger label: +1
  CHECK(d.problem.y_train(1) == -1);
  CHECK(d.problem.y_test(0) == 1);       // row 3: 3 % 3 == 0
  scene.renorm.points[4].back() = 0.25;  // a real target: regression, targets as given
  d = renorm_scene_data(scene);
  REQUIRE(d.status.ok());
  CHECK_FALSE(d.problem.classification);
  CHECK(d.problem.y_train(3) == 0.25);
  scene.renorm.points.resize(5);
  CHECK(renorm_scene_data(scene).status.code == StatusCode::invalid_input);

  if (!fashion_mnist_available()) {
    MESSAGE("skipped the Fashion-MNIST part: apt-get install dataset-fashion-mnist");
    return;
  }
  Scene images;
  images.renorm.task = RenormTask::fashion_mnist;
  images.renorm.classes = {7, 1};
  images.renorm.train = 40;
  images.renorm.test = 30;
  d = renorm_scene_data(images);
  REQUIRE(d.status.ok());
  CHECK(d.problem.x_train.rows() == 40);
  CHECK(d.problem.x_test.rows() == 30);
  CHECK(d.problem.x_train.cols() == 49);  // 7 x 7 after 4 x 4 pooling
  CHECK(d.problem.classification);
  CHECK(d.problem.y_train.cwiseAbs().minCoeff() == 1);
  CHECK(d.problem.y_train.cwiseAbs().maxCoeff() == 1);
  CHECK(d.problem.x_train.row(0).squaredNorm() / 49 == doctest::Approx(1.0));  // standardised: G_aa = 1
}

TEST_CASE("Several tasks with their own gates: independent in the GP limit, coupled at finite width") {
  TeacherSpec t;
  t.dim = 10;
  t.train = 30;
  t.test = 20;
  t.seed = 4;
  Status status;
  const RenormProblem one = multitask_problem(t, 1, true, status);
  REQUIRE(status.ok());
  const TeacherData single = make_teacher_data(t);
  CHECK(one.x_train == single.x_train);  // K = 1 is the single task
  CHECK_FALSE(one.tasks.active());
  RenormProblem two = multitask_problem(t, 2, true, status);
  REQUIRE(status.ok());
  REQUIRE(two.x_train.rows() == 60);
  CHECK(two.x_train.topRows(30) == single.x_train);
  CHECK(two.tasks.active());
  CHECK(multitask_problem(t, 2, false, status).tasks.active() == false);  // shared gates: no mask

  // Scale the second task's labels by 3: the GP, block-diagonal across tasks, predicts the first task exactly as
  // before; at finite width the tasks meet through the order parameter and the first task's predictions move.
  // (An ungated readout: with a gated one and L = 1, U_1 splits into one block per task's readout gates and
  // the tasks stay apart at every width.)
  RenormSpec spec = spec_of(make_gated_linear(1, 30, 4, false));
  const RenormResult a = renorm_run(spec, two);
  RenormProblem flipped = two;
  flipped.y_train.tail(30) *= 3.0;
  const RenormResult b = renorm_run(spec, flipped);
  REQUIRE(a.status.ok());
  REQUIRE(b.status.ok());
  const double gp_change = (a.gp.mean.head(20) - b.gp.mean.head(20)).cwiseAbs().maxCoeff();
  const double theory_change = (a.theory.mean.head(20) - b.theory.mean.head(20)).cwiseAbs().maxCoeff();
  CAPTURE(gp_change);
  CAPTURE(theory_change);
  CHECK(gp_change < 1e-12);
  CHECK(theory_change > 1e-4);
  // With shared gates the GP itself couples the tasks.
  RenormProblem shared = multitask_problem(t, 2, false, status), shared_flipped = shared;
  shared_flipped.y_train.tail(30) *= 3.0;
  CHECK((renorm_run(spec, shared).gp.mean.head(20) - renorm_run(spec, shared_flipped).gp.mean.head(20)).cwiseAbs().maxCoeff() >
        1e-3);
  // Too many tasks for the gates: a sentence.
  const RenormResult refused = renorm_run(spec, multitask_problem(t, 5, true, status));
  CHECK(refused.status.message.find("M >= K") != std::string::npos);
}

TEST_CASE("Refusals come with a sentence and no numbers") {
  RenormProblem problem = teacher_problem(60, 10, 5);
  GatedLinearNetwork net = make_gated_linear(1, 40, 1, false);
  net.temperature = 0;  // P = 60 > N_0 = 5: the DLN kernel is singular
  RenormResult r = renorm_run(spec_of(net), problem);
  CHECK(r.status.code == StatusCode::invalid_input);
  CHECK(r.status.message.find("temperature") != std::string::npos);
  net = make_gated_linear(2, 10, 4, true);  // D_1 = 16 > N_1 = 10
  r = renorm_run(spec_of(net), problem);
  CHECK(r.status.message.find("N_l >= D_l") != std::string::npos);
  RenormSpec spec = spec_of(make_gated_linear(1, 40, 2, true));
  spec.memory_budget_bytes = 1000;
  CHECK(renorm_run(spec, problem).status.code == StatusCode::too_large);
  spec = spec_of(make_gated_linear(2, 40, 2, true), RenormSolverKind::scalar);
  CHECK(renorm_run(spec, problem).status.message.find("scalar") != std::string::npos);
  problem.y_train(3) = std::nan("");
  CHECK(renorm_run(spec_of(make_gated_linear(1, 40, 1, false)), problem).status.code == StatusCode::invalid_input);
  problem = teacher_problem(60, 10, 5);
  problem.classification = true;
  CHECK(renorm_run(spec_of(make_gated_linear(1, 40, 1, false)), problem).status.message.find("-1 and +1") != std::string::npos);
  // A cancelled job ends with the cancelled status.
  RenormJob job(spec_of(make_gated_linear(2, 40, 2, true)), teacher_problem());
  job.cancel();
  CHECK(job.step(1.0));
  CHECK(job.result().status.code == StatusCode::cancelled);
}

TEST_CASE("The papers' findings: optimal finite width, narrow is better at large sigma^2, bias flat only for the DLN") {
  // The teacher task of docs/theory.md §10.8 (N_0 = 30, P = 100, T = 0.05).
  const RenormProblem problem = teacher_problem(100, 100, 30, 1);
  auto error_at = [&](GatedLinearNetwork net, int width) {
    std::fill(net.widths.begin(), net.widths.end(), width);
    const RenormResult r = renorm_run(spec_of(net), problem);
    REQUIRE(r.status.ok());
    return r.theory;
  };
  // A gated network with sigma^2 = 0.5 generalizes best at a finite width: eps_g(N) is not monotonic.
  GatedLinearNetwork gated = make_gated_linear(2, 100, 4, true);
  gated.sigma2 = 0.5;
  const double wide = error_at(gated, 100000).generalization_error, middle = error_at(gated, 400).generalization_error,
               narrow = error_at(gated, 50).generalization_error;
  CHECK(middle < wide - 0.01);
  CHECK(middle < narrow - 0.1);
  // At sigma^2 = 2 narrower is better.
  GatedLinearNetwork ungated = make_gated_linear(2, 100, 4, false);
  ungated.sigma2 = 2;
  CHECK(error_at(ungated, 25).generalization_error < error_at(ungated, 100000).generalization_error - 0.2);
  // bias^2 moves with N for the gated network but hardly for the deep linear one (exactly flat at T -> 0).
  ungated.sigma2 = 1;
  CHECK(std::abs(error_at(ungated, 25).bias2 - error_at(ungated, 100000).bias2) > 0.03);
  GatedLinearNetwork dln = make_gated_linear(2, 100, 1, false);
  const double dln_shift = std::abs(error_at(dln, 25).bias2 - error_at(dln, 100000).bias2);
  CHECK(dln_shift < 0.003);
}

TEST_CASE("Deep linear network: wider is better exactly when Y^T K_GP^-1 Y / P > 1") {
  // At T -> 0 the DLN's mean predictor is the GP's at every width, and U_1 = u^L > 1 (the variance grows as
  // N shrinks) iff r = Y^T K_GP^-1 Y / P > 1 (docs/theory.md §10.5). K_GP scales as sigma^{2(L+1)}, so the
  // critical sigma^2 is r(sigma^2 = 1)^{1/(L+1)}.
  const RenormProblem problem = teacher_problem(20, 20, 30);
  const int layers = 2;
  const Eigen::MatrixXd k1 = problem.x_train * problem.x_train.transpose() / 30.0;
  const double r1 = problem.y_train.dot(k1.ldlt().solve(problem.y_train)) / 20.0;
  const double critical = std::pow(r1, 1.0 / (layers + 1));
  for (double factor : {0.8, 1.25}) {
    GatedLinearNetwork net = make_gated_linear(layers, 40, 1, false);
    net.temperature = 1e-10;
    net.sigma2 = critical * factor;
    const RenormResult narrow = renorm_run(spec_of(net), problem);
    REQUIRE(narrow.status.ok());
    CHECK((narrow.order_parameters[0](0, 0) > 1) == (factor < 1));
    CHECK((narrow.theory.variance_mean > narrow.gp.variance_mean) == (factor < 1));
    CHECK((narrow.theory.mean - narrow.gp.mean).cwiseAbs().maxCoeff() < 1e-6);  // the same mean predictor
  }
}
