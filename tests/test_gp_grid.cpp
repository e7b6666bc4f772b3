// Depth scans and query-point surfaces (core/gp_grid.h) against independent runs of GpJob (core/gp.h),
// which builds the full (n + m)^2 kernel one depth at a time: one recursion must give every depth,
// and skipping the query x query cross terms must not change any prediction (docs/theory.md §7), also for
// the averaged deep readout with its cross-layer terms.
#include <doctest/doctest.h>

#include <cmath>

#include "core/datasets.h"
#include "core/gp.h"
#include "core/gp_grid.h"
#include "core/parallel.h"

using namespace fs;

namespace {

GpSpec spec_of(ActivationKind kind, Architecture arch = Architecture::deep) {
  GpSpec spec;
  spec.network.arch = arch;
  spec.network.activation = {kind, 1.0};
  spec.network.sigma_w2 = 1.6;
  spec.network.sigma_in2 = 1.6;
  spec.network.sigma_b2 = 0.1;
  spec.network.depth = 3;
  spec.sigma_n2 = 1e-2;
  return spec;
}

GpProblem toy(DatasetKind kind, int train, int test) {
  DatasetSpec d;
  d.kind = kind;
  d.train = train;
  d.test = test;
  d.seed = 5;
  const DatasetSplit split = make_dataset(d);
  REQUIRE(split.status.ok());
  return {split.train.x, split.test.x, split.train.y, split.test.y, true};
}

double relative(double a, double b) { return std::abs(a - b) / std::max(1e-300, std::max(std::abs(a), std::abs(b))); }

// The decision-surface job's posterior means, variances and evidence are GpJob's, to rounding.
void check_surface_against_gp_run(const GpSpec& spec, const GpProblem& problem) {
  REQUIRE(GpSurfaceJob::supports(spec));
  GpSurfaceJob surface(spec, problem, true);
  surface.run();
  REQUIRE(surface.result().status.ok());
  const GpResult reference = gp_run(spec, problem);
  REQUIRE(reference.status.ok());
  const Eigen::MatrixXd& a = surface.result().mean;
  const Eigen::MatrixXd& b = reference.solve.mean;
  REQUIRE(a.rows() == b.rows());
  CHECK((a - b).cwiseAbs().maxCoeff() < 1e-9 * b.cwiseAbs().maxCoeff());
  CHECK((surface.result().variance - reference.solve.variance).cwiseAbs().maxCoeff() < 1e-9);
  CHECK(relative(surface.result().solve.log_evidence, reference.solve.log_evidence) < 1e-9);
}

void check_scan_against_gp_run(const GpSpec& spec, const GpProblem& problem, int max_depth) {
  GpDepthScanJob scan(spec, problem, max_depth);
  scan.run();
  REQUIRE(scan.status().ok());
  REQUIRE(scan.points().size() == static_cast<std::size_t>(max_depth) + 1);
  for (int depth : {0, 1, 2, max_depth}) {
    GpSpec single = spec;
    single.network.depth = depth;
    const GpResult reference = gp_run(single, problem);
    REQUIRE(reference.status.ok());
    const GpDepthPoint& p = scan.points()[static_cast<std::size_t>(depth)];
    CAPTURE(depth);
    CHECK(p.depth == depth);
    CHECK(p.status.ok());
    CHECK(p.accuracy == reference.accuracy);
    CHECK(relative(p.log_evidence, reference.solve.log_evidence) < 1e-9);
    CHECK(relative(p.mse, reference.mse) < 1e-9);
    CHECK(p.jitter == reference.solve.jitter);
  }
}

}  // namespace

TEST_CASE("a depth scan equals GpJob at every depth (deep, tanh, two classes)") {
  check_scan_against_gp_run(spec_of(ActivationKind::tanh), toy(DatasetKind::moons, 60, 40), 5);
}

TEST_CASE("a depth scan equals GpJob for relu, four classes and the recurrent net with input at every step") {
  check_scan_against_gp_run(spec_of(ActivationKind::relu), toy(DatasetKind::circles, 50, 30), 4);
  GpSpec rec = spec_of(ActivationKind::erf, Architecture::recurrent);
  rec.network.input_mode = InputMode::every_step;
  check_scan_against_gp_run(rec, toy(DatasetKind::xor_, 40, 30), 4);
}

TEST_CASE("a surface on query points equals GpJob's test predictions, single and averaged deep readouts") {
  const GpProblem problem = toy(DatasetKind::moons, 50, 35);
  for (int from : {-1, 1}) {
    GpSpec spec = spec_of(ActivationKind::tanh);
    spec.network.depth = 4;
    spec.readout_from = from;
    CAPTURE(from);
    check_surface_against_gp_run(spec, problem);
  }
  GpSpec recurrent = spec_of(ActivationKind::tanh, Architecture::recurrent);
  recurrent.network.depth = 3;
  recurrent.readout_from = 1;
  CHECK_FALSE(GpSurfaceJob::supports(recurrent));
}

TEST_CASE("averaged deep readouts with cross-layer terms (relu, softplus, gelu): the surface equals GpJob") {
  // The cross-layer terms E[phi(h^t)] E[phi(h^s)] of docs/theory.md §7 enter both paths; the surface job
  // computes them on its blocks only (train columns and the query diagonal).
  const GpProblem problem = toy(DatasetKind::circles, 45, 30);
  for (auto kind : {ActivationKind::relu, ActivationKind::softplus, ActivationKind::gelu}) {
    for (int from : {0, 2}) {
      GpSpec spec = spec_of(kind);
      spec.network.depth = 4;
      spec.readout_from = from;
      CAPTURE(from);
      CAPTURE(static_cast<int>(kind));
      check_surface_against_gp_run(spec, problem);
    }
  }
}

TEST_CASE("the averaged surface is sliced: the same bits for any budget and thread count") {
  // 700 points: the one-point means of each readout layer take several units.
  const GpProblem problem = toy(DatasetKind::moons, 300, 400);
  GpSpec spec = spec_of(ActivationKind::softplus);
  spec.readout_from = 1;
  const int previous = thread_count();
  GpSurfaceJob whole(spec, problem, true);
  whole.run();
  REQUIRE(whole.result().status.ok());
  for (int threads : {1, std::min(2, max_thread_count())}) {
    CAPTURE(threads);
    set_thread_count(threads);
    GpSurfaceJob sliced(spec, problem, true);
    int slices = 0;
    double last = 0;
    while (!sliced.step(1e-6)) {
      CHECK(sliced.progress() >= last);
      last = sliced.progress();
      ++slices;
    }
    CHECK(slices > 10);
    CHECK(sliced.result().mean == whole.result().mean);
    CHECK(sliced.result().variance == whole.result().variance);
    CHECK(sliced.result().solve.log_evidence == whole.result().solve.log_evidence);
  }
  set_thread_count(previous);
}

TEST_CASE("a diverging relu scan reports the divergence at the depths it cannot reach") {
  GpSpec spec = spec_of(ActivationKind::relu);
  spec.network.sigma_w2 = 1e4;  // q grows by 5000x per layer: past 1e100 within about 30 layers
  GpDepthScanJob scan(spec, toy(DatasetKind::moons, 20, 10), 60);
  scan.run();
  REQUIRE(scan.points().size() == 61u);
  CHECK(scan.points().front().status.ok());
  CHECK(scan.points().back().status.code == StatusCode::diverged);
  CHECK(std::isnan(scan.points().back().accuracy));
}

TEST_CASE("a phase grid runs one scan per sigma_w^2 column; bad labels and budgets are refused") {
  const GpProblem problem = toy(DatasetKind::moons, 30, 20);
  GpPhaseGridJob grid(spec_of(ActivationKind::tanh), problem, {0.8, 1.6, 3.2}, 3);
  grid.run();
  CHECK(grid.progress() == 1.0);
  REQUIRE(grid.points().size() == 3u);
  GpSpec mid = spec_of(ActivationKind::tanh);
  mid.network.sigma_w2 = 3.2;
  mid.network.depth = 3;
  const GpResult reference = gp_run(mid, problem);
  CHECK(relative(grid.points()[2][3].log_evidence, reference.solve.log_evidence) < 1e-9);
  // sigma_in^2 unset in the scene: each column uses sigma_in^2 = sigma_w^2.
  GpSpec follows = spec_of(ActivationKind::tanh);
  follows.network.sigma_in2.reset();
  GpPhaseGridJob tracked(follows, problem, {0.8, 3.2}, 3);
  tracked.run();
  mid.network.sigma_in2 = 3.2;
  CHECK(relative(tracked.points()[1][3].log_evidence, gp_run(mid, problem).solve.log_evidence) < 1e-9);

  GpProblem one_class = problem;
  for (double& y : one_class.y_train) y = 0;
  GpDepthScanJob bad(spec_of(ActivationKind::tanh), one_class, 2);
  bad.run();
  CHECK(bad.status().code == StatusCode::invalid_input);

  GpSpec tiny = spec_of(ActivationKind::tanh);
  tiny.memory_budget_bytes = 1000;
  GpDepthScanJob refused(tiny, problem, 2);
  refused.run();
  CHECK(refused.status().code == StatusCode::too_large);
}
