// The GP tab's data, jobs and derived numbers (see gp_jobs.h).
//
// Sections
//   1. keys: which scene fields each result depends on; the evidence curve's values; formatting
//   2. data: the scene's data set as a GpProblem (toy sets, Fashion-MNIST from the platform, 1-D points,
//      CSV rows carried by the link) and the decision surface's plane
//   3. fit: GpJob and the decision surface (GpSurfaceJob, or GpJob on a coarser grid); the confusion
//      matrix, class boundaries, the shown fit and its regression band
//   4. grid: GpPhaseGridJob over sigma_w^2 x depth, its cells and guides (critical line, 6 xi_c)
//   5. sweep: GpEvidenceCurveJob and its curve
//   6. update, busy, cancel, memory estimate
//   7. labelled CSV files
#include "app/gp_jobs.h"

#include "core/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/datasets.h"
#include "core/job.h"
#include "core/scene_specs.h"

namespace fs::ui {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kCurvePoints = 161;       // 1-D regression: the dense x grid
constexpr int kSurfaceSide = 64;        // 2-D: query points per side of the decision surface
constexpr int kFullSurfaceSide = 32;    // ... when the surface needs the full kernel (recurrent averaged readout)
constexpr int kGridColumns = 20;        // sigma_w^2 columns of the grid view
constexpr int kDepthScalePoints = 161;  // points of the 6 xi_c curve

std::string fmt(double v, const char* format) { return format_number(v, format); }

}  // namespace

// ---- 1. keys ----------------------------------------------------------------------------------------

bool gp_is_toy(GpData d) { return d == GpData::moons || d == GpData::spirals || d == GpData::xor_ || d == GpData::circles; }

int gp_effective_readout_from(const Scene& s) {
  return s.gp.readout_from >= 0 && s.gp.readout_from < s.network.depth ? s.gp.readout_from : -1;
}

Scene gp_data_key(const Scene& s) {
  Scene k;
  k.gp.dataset = s.gp.dataset;
  k.seed = s.seed;
  const GpData d = s.gp.dataset;
  if (d == GpData::points || d == GpData::csv) k.gp.points = s.gp.points;
  if (gp_is_toy(d) || d == GpData::fashion_mnist) k.gp.train = s.gp.train, k.gp.test = s.gp.test;
  if (gp_is_toy(d)) k.gp.noise = s.gp.noise;
  if (d == GpData::fashion_mnist) k.gp.classes = s.gp.classes, k.gp.downsample = s.gp.downsample;
  return k;
}

namespace {
// The data key `k` with the network, sigma_n^2 and the readout.
Scene network_key(const Scene& s, Scene k) {
  const Network defaults = k.network;
  k.network = s.network;
  if (s.network.arch != Architecture::recurrent)  // the deep network reads neither switch
    k.network.bias_mode = defaults.bias_mode, k.network.input_mode = defaults.input_mode;
  k.gp.sigma_n2 = s.gp.sigma_n2;
  k.gp.readout_from = gp_effective_readout_from(s);
  return k;
}
}  // namespace

Scene gp_fit_key(const Scene& s) { return network_key(s, gp_data_key(s)); }

Scene gp_grid_key(const Scene& s) {
  Scene k = gp_fit_key(s);
  k.network.sigma_w2 = 0, k.network.depth = 0,
  k.gp.readout_from = -1;  // the grid spans sigma_w^2 and depth, single-time readouts
  k.phase.sigma_w2_min = s.phase.sigma_w2_min, k.phase.sigma_w2_max = s.phase.sigma_w2_max;
  k.gp.grid_depth = s.gp.grid_depth;
  return k;
}

Scene gp_sweep_key(const Scene& s) {
  Scene k = gp_fit_key(s);
  k.gp.sweep = s.gp.sweep;
  k.phase = s.phase;
  k.gp.grid_depth = s.gp.grid_depth;
  return k;
}

std::vector<double> gp_sweep_values(const Scene& s) {
  std::vector<double> v;
  const GpSweepParameter p = s.gp.sweep;
  if (p == GpSweepParameter::depth) {
    const int top = std::max(2, s.gp.grid_depth), step = std::max(1, top / 40);
    for (int l = 0; l <= top; l += step) v.push_back(l);  // from the one-hidden-layer readout
  } else if (p == GpSweepParameter::sigma_n2) {
    for (int i = 0; i <= 20; ++i) v.push_back(std::pow(10.0, -6.0 + 0.4 * i));  // 1e-6 .. 1e2
  } else {
    const bool b2 = p == GpSweepParameter::sigma_b2;
    const double lo = b2 ? s.phase.sigma_b2_min : s.phase.sigma_w2_min, hi = b2 ? s.phase.sigma_b2_max : s.phase.sigma_w2_max;
    for (int i = 0; i < 25; ++i) v.push_back(lo + (hi - lo) * i / 24.0);
  }
  return v;
}

double gp_scene_sweep_value(const Scene& s) {
  switch (s.gp.sweep) {
    case GpSweepParameter::sigma_b2: return s.network.sigma_b2;
    case GpSweepParameter::depth: return double(s.network.depth);
    case GpSweepParameter::sigma_n2: return s.gp.sigma_n2;
    case GpSweepParameter::sigma_w2: break;
  }
  return s.network.sigma_w2;
}

std::string gp_mib(double bytes) { return fmt(bytes / 1048576.0, bytes < 10 * 1048576.0 ? "%.2g MiB" : "%.0f MiB"); }

// ---- 2. data ----------------------------------------------------------------------------------------

int GpTabData::outputs() const {
  if (!problem.classification) return 1;
  const int k = static_cast<int>(classes.size());
  return k <= 2 ? 1 : k;
}

namespace {

void add_surface_plane(GpTabData& d) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Eigen::MatrixXd* m : {&d.problem.x_train, &d.problem.x_test})
    for (Eigen::Index i = 0; i < m->rows(); ++i) {
      x0 = std::min(x0, (*m)(i, 0)), x1 = std::max(x1, (*m)(i, 0));
      y0 = std::min(y0, (*m)(i, 1)), y1 = std::max(y1, (*m)(i, 1));
    }
  const double px = 0.1 * std::max(x1 - x0, 1e-3), py = 0.1 * std::max(y1 - y0, 1e-3);
  d.x0 = x0 - px, d.x1 = x1 + px, d.y0 = y0 - py, d.y1 = y1 + py;
  d.surface = true;
}

// side x side query points over the plane, row-major from y0.
Eigen::MatrixXd surface_points(const GpTabData& d, int side) {
  Eigen::MatrixXd q(side * side, 2);
  for (int r = 0; r < side; ++r)
    for (int c = 0; c < side; ++c) {
      q(r * side + c, 0) = d.x0 + (d.x1 - d.x0) * c / (side - 1);
      q(r * side + c, 1) = d.y0 + (d.y1 - d.y0) * r / (side - 1);
    }
  return q;
}

}  // namespace

void GpJobs::make_data(const Scene& scene) {
  const Scene key = gp_data_key(scene);
  if (data_.valid && data_.key == key && !data_.loading) return;
  GpTabData d;
  d.key = key;
  d.valid = true;
  const GpData kind = scene.gp.dataset;
  std::string dir = kFashionMnistDir;
  if (kind == GpData::fashion_mnist) {
    std::string error;
    dir = packaged_data_dir(platform_, "fashion-mnist", error);
    if (dir.empty()) {
      d.loading = error.empty();
      d.status = error.empty() ? Status::success() : Status::error(StatusCode::invalid_input, error);
      data_ = std::move(d);
      return;
    }
  }
  GpSceneData data = gp_scene_data(scene, dir, kCurvePoints);
  d.status = data.status;
  d.problem = std::move(data.problem);
  d.class_names = std::move(data.class_names);
  d.dim = data.dim;
  if (d.problem.classification) {
    d.classes = d.problem.y_train;
    std::sort(d.classes.begin(), d.classes.end());
    d.classes.erase(std::unique(d.classes.begin(), d.classes.end()), d.classes.end());
  }
  if (d.status.ok() && kind == GpData::fashion_mnist) d.image_side = 28 / std::max(1, scene.gp.downsample);
  if (d.status.ok() && kind != GpData::points && d.dim == 2) add_surface_plane(d);
  data_ = std::move(d);
}

// ---- 3. fit -----------------------------------------------------------------------------------------

const Job* GpFitState::surface_running() const {
  return surface_job ? static_cast<const Job*>(surface_job.get()) : surface_full.get();
}

bool GpFitState::surface_ready() const {
  return !surface_values.empty() && surface_values.size() == static_cast<std::size_t>(surface_side) * surface_side;
}

std::size_t GpJobs::budget_bytes() const { return platform_.name == "web" ? std::size_t(512) << 20 : std::size_t(1) << 30; }

GpSpec GpJobs::spec_for(const Scene& scene) const {
  GpSpec spec = gp_spec(scene);
  spec.readout_from = gp_effective_readout_from(scene);
  spec.memory_budget_bytes = budget_bytes();
  spec.with_variance = scene.gp.dataset == GpData::points;
  return spec;
}

void GpJobs::start_fit(const Scene& scene) {
  GpFitState next;
  if (gp_data_key(fit_.key) == gp_data_key(scene)) {  // the same plane: the old surface stays until the new one is ready
    next.surface_values = std::move(fit_.surface_values);
    next.surface_class = std::move(fit_.surface_class);
    next.boundary_x = std::move(fit_.boundary_x);
    next.boundary_y = std::move(fit_.boundary_y);
    next.surface_side = fit_.surface_side;
    next.k = fit_.k;
  }
  fit_ = std::move(next);
  fit_.key = gp_fit_key(scene);
  if (!data_.status.ok() || data_.loading) return;
  const GpSpec spec = spec_for(scene);
  const GpProblem& p = data_.problem;
  fit_.memory_bytes =
      gp_memory_bytes(spec, static_cast<int>(p.x_train.rows()), static_cast<int>(p.x_test.rows()), data_.outputs(), data_.dim);
  if (fit_.memory_bytes > double(budget_bytes())) {
    fit_.refused = Status::error(StatusCode::too_large, "This solve needs about " + gp_mib(fit_.memory_bytes) +
                                                            ", more than the " + gp_mib(double(budget_bytes())) + " budget" +
                                                            (platform_.name == "web" ? " of the browser's memory" : "") +
                                                            ": use fewer training or test points.");
    return;
  }
  fit_.job = std::make_unique<GpJob>(spec, p);
  if (data_.surface) {
    if (GpSurfaceJob::supports(spec)) {
      GpProblem q{p.x_train, surface_points(data_, kSurfaceSide), p.y_train, {}, p.classification};
      GpSpec s = spec;
      s.with_variance = false;
      if (fit_.surface_side != kSurfaceSide) fit_.surface_values.clear();
      fit_.surface_side = kSurfaceSide;
      fit_.surface_job = std::make_unique<GpSurfaceJob>(s, q, false);
    } else {
      // The recurrent network's averaged readout needs the full two-time kernel: a coarser grid.
      GpProblem q{p.x_train, surface_points(data_, kFullSurfaceSide), p.y_train, {}, p.classification};
      q.y_test.assign(static_cast<std::size_t>(q.x_test.rows()), p.y_train.empty() ? 0.0 : p.y_train.front());
      GpSpec s = spec;
      s.with_variance = false;
      if (fit_.surface_side != kFullSurfaceSide) fit_.surface_values.clear();
      fit_.surface_side = kFullSurfaceSide;
      fit_.surface_full = std::make_unique<GpJob>(s, q);
    }
  }
}

void GpJobs::finish_fit() {
  fit_.result = fit_.job->take_result();
  fit_.job.reset();
  fit_.done = true;
  shown_.result = fit_.result;
  shown_.dataset = data_.key.gp.dataset;
  shown_.has = true;
  shown_.x.clear();
  if (data_.dim == 1)
    for (Eigen::Index i = 0; i < data_.problem.x_test.rows(); ++i) shown_.x.push_back(data_.problem.x_test(i, 0));
  const GpResult& r = fit_.result;
  if (!r.status.ok() || !data_.problem.classification || r.classes.empty()) return;
  const int k = static_cast<int>(r.classes.size());
  fit_.k = k;
  fit_.confusion.assign(static_cast<std::size_t>(k) * k, 0.0);
  std::vector<double> row_total(static_cast<std::size_t>(k), 0.0);
  auto index_of = [&](double c) {
    const auto it = std::find(r.classes.begin(), r.classes.end(), c);
    return it == r.classes.end() ? -1 : static_cast<int>(it - r.classes.begin());
  };
  for (std::size_t a = 0; a < r.predicted.size() && a < data_.problem.y_test.size(); ++a) {
    const int t = index_of(data_.problem.y_test[a]), p = index_of(r.predicted[a]);
    if (t < 0 || p < 0) continue;
    fit_.confusion[static_cast<std::size_t>(t) * k + p] += 1;
    row_total[static_cast<std::size_t>(t)] += 1;
  }
  for (int t = 0; t < k; ++t)
    for (int p = 0; p < k; ++p)
      fit_.confusion[static_cast<std::size_t>(t) * k + p] =
          row_total[static_cast<std::size_t>(t)] > 0
              ? fit_.confusion[static_cast<std::size_t>(t) * k + p] / row_total[static_cast<std::size_t>(t)]
              : kNaN;
}

void GpJobs::finish_surface() {
  Eigen::MatrixXd mean;
  std::vector<double> classes;
  if (fit_.surface_job) {
    const GpSurfaceResult& r = fit_.surface_job->result();
    fit_.surface_status = r.status;
    mean = r.mean;
    classes = r.classes;
    fit_.surface_job.reset();
  } else if (fit_.surface_full) {
    const GpResult& r = fit_.surface_full->result();
    fit_.surface_status = r.status;
    mean = r.solve.mean;
    classes = r.classes;
    fit_.surface_full.reset();
  }
  fit_.surface_done = true;
  fit_.surface_values.clear();
  fit_.surface_class.clear();
  fit_.boundary_x.clear();
  fit_.boundary_y.clear();
  if (!fit_.surface_status.ok() || mean.rows() == 0) return;
  const Eigen::Index cells = mean.rows();
  fit_.surface_values.assign(static_cast<std::size_t>(cells), kNaN);
  fit_.surface_class.assign(static_cast<std::size_t>(cells), -1);
  for (Eigen::Index i = 0; i < cells; ++i) {
    if (mean.cols() == 1) {
      fit_.surface_values[static_cast<std::size_t>(i)] = mean(i, 0);
      fit_.surface_class[static_cast<std::size_t>(i)] = mean(i, 0) > 0 ? 1 : 0;
    } else {
      // More classes: the margin between the two largest outputs (confidence), and the argmax.
      Eigen::Index best = 0;
      const double top = mean.row(i).maxCoeff(&best);
      double second = -INFINITY;
      for (Eigen::Index c = 0; c < mean.cols(); ++c)
        if (c != best) second = std::max(second, mean(i, c));
      fit_.surface_values[static_cast<std::size_t>(i)] = top - second;
      fit_.surface_class[static_cast<std::size_t>(i)] = static_cast<int>(best);
    }
  }
  if (mean.cols() == 1 || !fit_.surface_ready()) return;
  // Class boundaries: a segment on every cell edge between cells of different predicted classes.
  const int side = fit_.surface_side;
  const double dx = (data_.x1 - data_.x0) / (side - 1), dy = (data_.y1 - data_.y0) / (side - 1);
  std::vector<double>& bx = fit_.boundary_x;
  std::vector<double>& by = fit_.boundary_y;
  for (int r = 0; r < side; ++r)
    for (int c = 0; c < side; ++c) {
      const int k = fit_.surface_class[static_cast<std::size_t>(r * side + c)];
      const double x = data_.x0 + dx * c, y = data_.y0 + dy * r;
      if (c + 1 < side && fit_.surface_class[static_cast<std::size_t>(r * side + c + 1)] != k)
        bx.insert(bx.end(), {x + dx / 2, x + dx / 2, kNaN}), by.insert(by.end(), {y - dy / 2, y + dy / 2, kNaN});
      if (r + 1 < side && fit_.surface_class[static_cast<std::size_t>((r + 1) * side + c)] != k)
        bx.insert(bx.end(), {x - dx / 2, x + dx / 2, kNaN}), by.insert(by.end(), {y + dy / 2, y + dy / 2, kNaN});
    }
}

GpRegressionBand GpJobs::regression_band(double sigma_n2) const {
  GpRegressionBand band;
  const GpResult& r = shown_.result;
  if (!shown_.has || shown_.dataset != GpData::points || !r.status.ok() ||
      r.solve.mean.rows() != static_cast<Eigen::Index>(shown_.x.size()))
    return band;
  for (Eigen::Index i = 0; i < r.solve.mean.rows(); ++i) {
    const double x = shown_.x[static_cast<std::size_t>(i)], f = r.solve.mean(i, 0);
    const double var = i < r.solve.variance.size() ? std::max(0.0, r.solve.variance(i)) : kNaN;
    const double sd = std::sqrt(var + sigma_n2);  // predictive: latent variance + observation noise
    band.x.push_back(x), band.mean.push_back(f), band.lower.push_back(f - 2 * sd), band.upper.push_back(f + 2 * sd);
  }
  return band;
}

// ---- 4. grid ----------------------------------------------------------------------------------------

void GpJobs::start_grid(const Scene& scene) {
  grid_ = GpGridState{};
  grid_.key = gp_grid_key(scene);
  if (!data_.status.ok() || data_.loading) return;
  GpSpec spec = spec_for(scene);
  spec.readout_from = -1;
  spec.with_variance = false;
  const GpProblem& p = data_.problem;
  const double bytes =
      gp_block_kernel_bytes(static_cast<int>(p.x_train.rows()), static_cast<int>(p.x_test.rows()), data_.dim, false);
  if (bytes > double(budget_bytes())) {
    grid_.refused = Status::error(StatusCode::too_large, "The grid needs about " + gp_mib(bytes) + ", more than the " +
                                                             gp_mib(double(budget_bytes())) + " budget: use fewer points.");
    return;
  }
  std::vector<double> w2(kGridColumns);
  for (int i = 0; i < kGridColumns; ++i)
    w2[static_cast<std::size_t>(i)] =
        scene.phase.sigma_w2_min + (scene.phase.sigma_w2_max - scene.phase.sigma_w2_min) * i / (kGridColumns - 1.0);
  grid_.job = std::make_unique<GpPhaseGridJob>(spec, p, std::move(w2), std::max(1, scene.gp.grid_depth));

  // The guides: where order meets chaos at this sigma_b^2, and how deep signals propagate there
  // (Schoenholz et al. 2017: networks train to a depth of about 6 xi_c).
  const GpPhaseGridJob& job = *grid_.job;
  const int rows = job.max_depth() + 1;
  const double lo = job.sigma_w2_values().front(), hi = job.sigma_w2_values().back();
  grid_.critical = critical_point(scene.network.activation, scene.network.sigma_b2);
  for (int i = 0; i < kDepthScalePoints; ++i) {
    const double w2 = lo + (hi - lo) * i / double(kDepthScalePoints - 1);
    const FixedPoint fp = fixed_point(make_network(scene.network.activation, w2, scene.network.sigma_b2));
    double v = 6 * fp.xi_c;
    if (!std::isfinite(v) || v > 100.0 * rows) v = 100.0 * rows;  // off the top: keeps the curve continuous
    grid_.depth_scale_x.push_back(w2);
    grid_.depth_scale_y.push_back(v);
  }
  refresh_grid_cells();
}

void GpJobs::refresh_grid_cells() {
  if (!grid_.job) return;
  const GpPhaseGridJob& job = *grid_.job;
  const int columns = static_cast<int>(job.sigma_w2_values().size()), rows = job.max_depth() + 1;
  const int n = std::max<int>(1, static_cast<int>(data_.problem.x_train.rows()));
  grid_.columns = columns, grid_.rows = rows;
  grid_.accuracy.assign(static_cast<std::size_t>(columns) * rows, kNaN);
  grid_.evidence.assign(static_cast<std::size_t>(columns) * rows, kNaN);
  for (int c = 0; c < columns; ++c)
    for (const GpDepthPoint& p : job.points()[static_cast<std::size_t>(c)]) {
      if (p.depth < 0 || p.depth >= rows) continue;
      grid_.accuracy[static_cast<std::size_t>(p.depth) * columns + c] = p.accuracy;
      grid_.evidence[static_cast<std::size_t>(p.depth) * columns + c] = p.log_evidence / n;
    }
}

// ---- 5. sweep ---------------------------------------------------------------------------------------

void GpJobs::start_sweep(const Scene& scene) {
  sweep_ = GpSweepState{};
  sweep_.key = gp_sweep_key(scene);
  if (!data_.status.ok() || data_.loading) return;
  GpSpec spec = spec_for(scene);
  spec.with_variance = false;
  const GpProblem& p = data_.problem;
  const double bytes = gp_memory_bytes(spec, static_cast<int>(p.x_train.rows()), 0, data_.outputs(), data_.dim);
  if (bytes > double(budget_bytes())) {
    sweep_.refused =
        Status::error(StatusCode::too_large, "The evidence curve needs about " + gp_mib(bytes) + ", more than the " +
                                                 gp_mib(double(budget_bytes())) + " budget: use fewer training points.");
    return;
  }
  if (scene.gp.sweep == GpSweepParameter::depth) spec.readout_from = -1;  // a readout range would not fit every depth
  sweep_.job = std::make_unique<GpEvidenceCurveJob>(spec, p, scene.gp.sweep, gp_sweep_values(scene));
}

GpSweepCurve gp_sweep_curve(const std::vector<GpEvidencePoint>& points) {
  GpSweepCurve curve;
  for (const GpEvidencePoint& p : points) {
    curve.x.push_back(p.value);
    curve.y.push_back(p.status.ok() ? p.log_evidence : kNaN);
    const int index = static_cast<int>(curve.y.size()) - 1;
    if (p.status.ok() && (curve.best < 0 || p.log_evidence > curve.y[static_cast<std::size_t>(curve.best)])) curve.best = index;
    if (!p.status.ok() && curve.first_failure < 0) curve.first_failure = index;
  }
  return curve;
}

// ---- 6. update, busy, cancel, memory ------------------------------------------------------------------

void GpJobs::update(const Scene& scene, double budget_seconds) {
  make_data(scene);
  const SliceTimer timer(budget_seconds);
  const GpView view = scene.gp.show;
  if (view == GpView::grid) {
    // (Re)start when the inputs changed, or when the data became ready after the key was set.
    const bool ready = data_.status.ok() && !data_.loading;
    if (!(grid_.key == gp_grid_key(scene)) || (ready && !grid_.job && grid_.refused.ok() && !grid_.cancelled)) start_grid(scene);
    if (grid_.job && !grid_.cancelled && grid_.job->progress() < 1.0) {
      grid_.job->step(budget_seconds);
      refresh_grid_cells();
    }
  } else if (view == GpView::sweep) {
    const bool ready = data_.status.ok() && !data_.loading;
    if (!(sweep_.key == gp_sweep_key(scene)) || (ready && !sweep_.job && sweep_.refused.ok() && !sweep_.cancelled))
      start_sweep(scene);
    if (sweep_.job && !sweep_.cancelled && sweep_.job->progress() < 1.0) sweep_.job->step(budget_seconds);
  } else {
    if (!(fit_.key == gp_fit_key(scene)) ||
        (data_.valid && !data_.loading && !fit_.job && !fit_.done && fit_.refused.ok() && data_.status.ok() && !fit_.cancelled))
      start_fit(scene);
    if (fit_.cancelled) return;
    if (fit_.job) {
      if (fit_.job->step(budget_seconds)) finish_fit();
    }
    Job* surface = fit_.surface_job ? static_cast<Job*>(fit_.surface_job.get()) : fit_.surface_full.get();
    if (surface && !timer.expired() && surface->step(budget_seconds)) finish_surface();
  }
}

bool GpJobs::fit_busy(const Scene& scene) const {
  if (!(fit_.key == gp_fit_key(scene))) return true;
  if (fit_.cancelled) return false;
  if (!fit_.done && !fit_.job && fit_.refused.ok() && data_.status.ok() && !data_.loading) return true;  // starts next frame
  return fit_.job || fit_.surface_job || fit_.surface_full;
}

bool GpJobs::grid_busy(const Scene& scene) const {
  if (!(grid_.key == gp_grid_key(scene))) return true;
  if (!grid_.job && grid_.refused.ok() && !grid_.cancelled && data_.status.ok()) return true;  // starts next frame
  return grid_.job && !grid_.cancelled && grid_.job->progress() < 1.0;
}

bool GpJobs::sweep_busy(const Scene& scene) const {
  if (!(sweep_.key == gp_sweep_key(scene))) return true;
  if (!sweep_.job && sweep_.refused.ok() && !sweep_.cancelled && data_.status.ok()) return true;
  return sweep_.job && !sweep_.cancelled && sweep_.job->progress() < 1.0;
}

bool GpJobs::busy(const Scene& scene) const {
  if (!data_.valid || !(data_.key == gp_data_key(scene)) || data_.loading) return true;
  if (scene.gp.show == GpView::grid) return grid_busy(scene);
  if (scene.gp.show == GpView::sweep) return sweep_busy(scene);
  return fit_busy(scene);
}

void GpJobs::cancel_fit() {
  if (fit_.job) fit_.job->cancel();
  fit_.cancelled = true;
  fit_.job.reset();
  fit_.surface_job.reset();
  fit_.surface_full.reset();
}

void GpJobs::cancel_grid() {
  if (grid_.job) grid_.job->cancel();
  grid_.cancelled = true;
}

void GpJobs::cancel_sweep() {
  if (sweep_.job) sweep_.job->cancel();
  sweep_.cancelled = true;
}

GpMemoryEstimate GpJobs::memory_estimate(const Scene& scene) const {
  GpMemoryEstimate m;
  m.budget = double(budget_bytes());
  if (!data_.valid || !data_.status.ok() || data_.loading || data_.problem.x_train.rows() == 0) return m;
  m.known = true;
  m.bytes = gp_memory_bytes(spec_for(scene), static_cast<int>(data_.problem.x_train.rows()),
                            static_cast<int>(data_.problem.x_test.rows()), data_.outputs(), data_.dim);
  return m;
}

}  // namespace fs::ui
