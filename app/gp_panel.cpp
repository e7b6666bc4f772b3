// The "GP inference" tab (docs/theory.md §7): Gaussian-process predictions with the network's NNGP kernel on
// 1-D regression points the user edits, 2-D toy sets (decision surfaces), Fashion-MNIST (confusion matrix
// and test images) and labelled CSV rows; accuracy and log evidence over sigma_w^2 x depth with the
// critical line ("what the phase means for learning"); the log-evidence curve over one hyperparameter.
// The network comes from the global controls; the tab's own settings live in scene.gp (docs/scene.md).
//
// Sections
//   1. helpers: formatting, sliders, which scene fields each result depends on (keys)
//   2. data: the scene's data set as a GpProblem (toy sets, Fashion-MNIST from the platform, 1-D points,
//      CSV rows carried by the link)
//   3. jobs: fit (GpJob + decision surface), grid (GpPhaseGridJob), sweep (GpEvidenceCurveJob);
//      update, busy, progress and cancel
//   4. controls
//   5. gv=fit   1-D regression with draggable points; 2-D surfaces; Fashion-MNIST; CSV
//   6. gv=grid  accuracy / evidence over sigma_w^2 x depth with the critical line and 6 xi_c
//   7. gv=sweep the log-evidence curve
//   8. files (CSV upload) and the snapshot for tests
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "app/colormap.h"
#include "app/plot.h"
#include "app/view_panel.h"
#include "app/widgets.h"
#include "core/criticality.h"
#include "core/datasets.h"
#include "core/gp.h"
#include "core/gp_grid.h"
#include "core/report_json.h"
#include "core/scene_specs.h"

namespace fs::ui {
namespace {

// ---- 1. helpers ------------------------------------------------------------------------------------
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kCurvePoints = 161;       // 1-D regression: the dense x grid
constexpr int kSurfaceSide = 64;        // 2-D: query points per side of the decision surface
constexpr int kFullSurfaceSide = 32;    // ... when the surface needs the full kernel (recurrent averaged readout)
constexpr int kGridColumns = 20;        // sigma_w^2 columns of the grid view
constexpr int kMaxRegressionPoints = 200;
constexpr std::size_t kMaxLinkQuery = 32000;  // as app.cpp: what a share link carries safely
constexpr int kStripImages = 24;

std::string fmt(double v, const char* format = "%.6g") { return format_number(v, format); }
std::string mib(double bytes) { return fmt(bytes / 1048576.0, bytes < 10 * 1048576.0 ? "%.2g MiB" : "%.0f MiB"); }

void error_text(const std::string& text) {
  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.5f, 0.4f, 1));
  ImGui::TextWrapped("%s", text.c_str());
  ImGui::PopStyleColor();
}

bool is_toy(GpData d) { return d == GpData::moons || d == GpData::spirals || d == GpData::xor_ || d == GpData::circles; }

int effective_readout_from(const Scene& s) { return s.gp.readout_from >= 0 && s.gp.readout_from < s.network.depth ? s.gp.readout_from : -1; }

// Keys: a Scene holding only the fields a result depends on (everything else at its default), so that
// == tells whether a result is still current.
Scene data_key(const Scene& s) {
  Scene k;
  k.gp.dataset = s.gp.dataset;
  k.seed = s.seed;
  const GpData d = s.gp.dataset;
  if (d == GpData::points || d == GpData::csv) k.gp.points = s.gp.points;
  if (is_toy(d) || d == GpData::fashion_mnist) k.gp.train = s.gp.train, k.gp.test = s.gp.test;
  if (is_toy(d)) k.gp.noise = s.gp.noise;
  if (d == GpData::fashion_mnist) k.gp.classes = s.gp.classes, k.gp.downsample = s.gp.downsample;
  return k;
}
Scene network_key(const Scene& s, Scene k) {
  const Network defaults = k.network;
  k.network = s.network;
  if (s.network.arch != Architecture::recurrent)  // the deep network reads neither switch
    k.network.bias_mode = defaults.bias_mode, k.network.input_mode = defaults.input_mode;
  k.gp.sigma_n2 = s.gp.sigma_n2;
  k.gp.readout_from = effective_readout_from(s);
  return k;
}
Scene fit_key(const Scene& s) { return network_key(s, data_key(s)); }
Scene grid_key(const Scene& s) {
  Scene k = fit_key(s);
  k.network.sigma_w2 = 0, k.network.depth = 0, k.gp.readout_from = -1;  // the grid spans sigma_w^2 and depth, single-time readouts
  k.phase.sigma_w2_min = s.phase.sigma_w2_min, k.phase.sigma_w2_max = s.phase.sigma_w2_max;
  k.gp.grid_depth = s.gp.grid_depth;
  return k;
}
Scene sweep_key(const Scene& s) {
  Scene k = fit_key(s);
  k.gp.sweep = s.gp.sweep;
  k.phase = s.phase;
  k.gp.grid_depth = s.gp.grid_depth;
  return k;
}

std::vector<double> sweep_values(const Scene& s) {
  std::vector<double> v;
  const GpSweepParameter p = s.gp.sweep;
  if (p == GpSweepParameter::depth) {
    const int top = std::max(2, s.gp.grid_depth), step = std::max(1, top / 40);
    for (int l = 1; l <= top; l += step) v.push_back(l);
  } else if (p == GpSweepParameter::sigma_n2) {
    for (int i = 0; i <= 20; ++i) v.push_back(std::pow(10.0, -6.0 + 0.4 * i));  // 1e-6 .. 1e2
  } else {
    const bool b2 = p == GpSweepParameter::sigma_b2;
    const double lo = b2 ? s.phase.sigma_b2_min : s.phase.sigma_w2_min, hi = b2 ? s.phase.sigma_b2_max : s.phase.sigma_w2_max;
    for (int i = 0; i < 25; ++i) v.push_back(lo + (hi - lo) * i / 24.0);
  }
  return v;
}
double scene_sweep_value(const Scene& s) {
  switch (s.gp.sweep) {
    case GpSweepParameter::sigma_b2: return s.network.sigma_b2;
    case GpSweepParameter::depth: return double(s.network.depth);
    case GpSweepParameter::sigma_n2: return s.gp.sigma_n2;
    case GpSweepParameter::sigma_w2: break;
  }
  return s.network.sigma_w2;
}
const char* sweep_label(GpSweepParameter p) {
  switch (p) {
    case GpSweepParameter::sigma_b2: return "σ_b²";
    case GpSweepParameter::depth: return "depth L";
    case GpSweepParameter::sigma_n2: return "σ_n²";
    case GpSweepParameter::sigma_w2: break;
  }
  return "σ_w²";
}

// The packaged data set's directory (Platform::data_dir): "" while it loads, `error` when unavailable.
std::string packaged_data_dir(const Platform& platform, const std::string& name, std::string& error) {
  if (platform.data_dir) return platform.data_dir(name, error);
  error = "This build has no packaged data sets.";
  return "";
}

// ---- 2. data ---------------------------------------------------------------------------------------

struct Data {
  Scene key;
  bool valid = false;    // key holds the scene this was made for
  bool loading = false;  // Fashion-MNIST: the platform is still fetching it
  Status status;
  GpProblem problem;
  std::vector<std::string> class_names;
  int dim = 0, image_side = 0;
  // 2-D sets: the decision surface's query grid (kSurfaceSide^2 points, row-major from y.min).
  bool surface = false;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
};

void add_surface_grid(Data& d, const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Eigen::MatrixXd* m : {&a, &b})
    for (Eigen::Index i = 0; i < m->rows(); ++i) {
      x0 = std::min(x0, (*m)(i, 0)), x1 = std::max(x1, (*m)(i, 0));
      y0 = std::min(y0, (*m)(i, 1)), y1 = std::max(y1, (*m)(i, 1));
    }
  const double px = 0.1 * std::max(x1 - x0, 1e-3), py = 0.1 * std::max(y1 - y0, 1e-3);
  d.x0 = x0 - px, d.x1 = x1 + px, d.y0 = y0 - py, d.y1 = y1 + py;
  d.surface = true;
}

Eigen::MatrixXd surface_points(const Data& d, int side) {
  Eigen::MatrixXd q(side * side, 2);
  for (int r = 0; r < side; ++r)
    for (int c = 0; c < side; ++c) {
      q(r * side + c, 0) = d.x0 + (d.x1 - d.x0) * c / (side - 1);
      q(r * side + c, 1) = d.y0 + (d.y1 - d.y0) * r / (side - 1);
    }
  return q;
}

// ---- 3. jobs ---------------------------------------------------------------------------------------

struct Fit {
  Scene key;
  std::unique_ptr<GpJob> job;
  GpResult result;
  bool done = false;
  Status refused;  // not started: over the memory budget
  double memory_bytes = 0;
  // Decision surface (2-D sets): the block-kernel job, or GpJob on a coarser grid when it cannot.
  std::unique_ptr<GpSurfaceJob> surface_job;
  std::unique_ptr<GpJob> surface_full;
  int surface_side = 0;
  std::vector<double> surface_values;  // kSurfaceSide^2 cells for the heat map
  std::vector<int> surface_class;      // predicted class index per cell (more than two classes)
  Status surface_status;
  bool surface_done = false;
  bool cancelled = false;
  std::vector<double> confusion;  // k x k, row = true class index, column = predicted, fraction of the row
  int k = 0;
};

struct Grid {
  Scene key;
  std::unique_ptr<GpPhaseGridJob> job;
  bool cancelled = false;
  Status refused;
  std::vector<double> accuracy, evidence;  // depth-major cells: row = depth - 1
};

struct Sweep {
  Scene key;
  std::unique_ptr<GpEvidenceCurveJob> job;
  bool cancelled = false;
  Status refused;
};

class Panel final : public ViewPanel {
 public:
  explicit Panel(const Platform& platform) : platform_(platform) {}
  void update(const Scene& scene, double budget_seconds) override;
  void draw(Scene& scene) override;
  bool busy(const Scene& scene) const override;
  nlohmann::ordered_json snapshot(const Scene& scene) const override;
  bool load_file(Scene& scene, const std::string& name, const std::string& text, const std::string& error) override;

 private:
  std::size_t budget_bytes() const { return platform_.name == "web" ? std::size_t(512) << 20 : std::size_t(1) << 30; }
  GpSpec spec_for(const Scene& scene) const {
    GpSpec spec = gp_spec(scene);
    spec.readout_from = effective_readout_from(scene);
    spec.memory_budget_bytes = budget_bytes();
    spec.with_variance = scene.gp.dataset == GpData::points;
    return spec;
  }
  int outputs() const;
  void make_data(const Scene& scene);
  void start_fit(const Scene& scene);
  void start_grid(const Scene& scene);
  void start_sweep(const Scene& scene);
  void finish_fit();
  void finish_surface();
  bool fit_busy(const Scene& scene) const;
  bool grid_busy(const Scene& scene) const;
  bool sweep_busy(const Scene& scene) const;

  void controls(Scene& scene);
  void progress_row(const char* what, double progress, const char* stage, const std::function<void()>& cancel);
  void results_table(const Scene& scene);
  void fit_view(Scene& scene);
  void regression_view(Scene& scene);
  void surface_view(const Scene& scene);
  void fashion_view(const Scene& scene);
  void grid_view(const Scene& scene);
  void sweep_view(const Scene& scene);
  void csv_loader(bool csv_shown);
  void apply_csv(Scene& scene, const std::string& name, const std::string& text, const std::string& error);

  const Platform& platform_;
  Data data_;
  Fit fit_;
  Grid grid_;
  Sweep sweep_;
  // Files picked through our own button arrive later, outside draw(): kept until the next draw.
  struct PendingFile {
    std::string name, text, error;
  };
  std::shared_ptr<std::vector<PendingFile>> pending_ = std::make_shared<std::vector<PendingFile>>();
  std::string csv_message_;
  bool csv_failed_ = false;
  char csv_path_[1024] = {};
  float load_button_[4] = {0, 0, 0, 0};
  // 1-D view: the axes are frozen while a point is dragged; the plot's last area, for tests.
  bool dragging_ = false;
  Range frozen_x_{-3, 3}, frozen_y_{-2, 2};
  PlotEvents last_plot_;
  std::string point_message_;
  // Deferred edits of sliders that restart expensive work (written into the scene on release).
  int edit_train_ = 0, edit_test_ = 0;
  bool mistakes_only_ = false;
  // The last finished fit, kept on screen while the next one computes (so nothing jumps during a drag).
  GpResult shown_;
  std::vector<double> shown_x_;
  GpData shown_dataset_ = GpData::points;
  bool has_shown_ = false;
  bool editing_train_ = false, editing_test_ = false;
};

int Panel::outputs() const {
  if (!data_.problem.classification) return 1;
  std::vector<double> c = data_.problem.y_train;
  std::sort(c.begin(), c.end());
  const int k = static_cast<int>(std::unique(c.begin(), c.end()) - c.begin());
  return k <= 2 ? 1 : k;
}

void Panel::make_data(const Scene& scene) {
  const Scene key = data_key(scene);
  if (data_.valid && data_.key == key && !data_.loading) return;
  Data d;
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
  if (d.status.ok() && kind == GpData::fashion_mnist) d.image_side = 28 / std::max(1, scene.gp.downsample);
  if (d.status.ok() && kind != GpData::points && d.dim == 2) add_surface_grid(d, d.problem.x_train, d.problem.x_test);
  data_ = std::move(d);
}

void Panel::start_fit(const Scene& scene) {
  Fit next;
  if (data_key(fit_.key) == data_key(scene)) {  // the same plane: the old surface stays until the new one is ready
    next.surface_values = std::move(fit_.surface_values);
    next.surface_class = std::move(fit_.surface_class);
    next.surface_side = fit_.surface_side;
    next.k = fit_.k;
  }
  fit_ = std::move(next);
  fit_.key = fit_key(scene);
  if (!data_.status.ok() || data_.loading) return;
  const GpSpec spec = spec_for(scene);
  const GpProblem& p = data_.problem;
  fit_.memory_bytes = gp_memory_bytes(spec, static_cast<int>(p.x_train.rows()), static_cast<int>(p.x_test.rows()), outputs(), data_.dim);
  if (fit_.memory_bytes > double(budget_bytes())) {
    fit_.refused = Status::error(StatusCode::too_large,
                                 "This solve needs about " + mib(fit_.memory_bytes) + ", more than the " + mib(double(budget_bytes())) + " budget" +
                                     (platform_.name == "web" ? " of the browser's memory" : "") + ": use fewer training or test points.");
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

void Panel::finish_fit() {
  fit_.result = fit_.job->take_result();
  fit_.job.reset();
  fit_.done = true;
  shown_ = fit_.result;
  shown_dataset_ = data_.key.gp.dataset;
  has_shown_ = true;
  shown_x_.clear();
  if (data_.dim == 1)
    for (Eigen::Index i = 0; i < data_.problem.x_test.rows(); ++i) shown_x_.push_back(data_.problem.x_test(i, 0));
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
      fit_.confusion[static_cast<std::size_t>(t) * k + p] = row_total[static_cast<std::size_t>(t)] > 0
                                                                ? fit_.confusion[static_cast<std::size_t>(t) * k + p] / row_total[static_cast<std::size_t>(t)]
                                                                : kNaN;
}

void Panel::finish_surface() {
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
}

void Panel::start_grid(const Scene& scene) {
  grid_ = Grid{};
  grid_.key = grid_key(scene);
  if (!data_.status.ok() || data_.loading) return;
  GpSpec spec = spec_for(scene);
  spec.readout_from = -1;
  spec.with_variance = false;
  const GpProblem& p = data_.problem;
  const double bytes = gp_block_kernel_bytes(static_cast<int>(p.x_train.rows()), static_cast<int>(p.x_test.rows()), data_.dim, false);
  if (bytes > double(budget_bytes())) {
    grid_.refused = Status::error(StatusCode::too_large, "The grid needs about " + mib(bytes) + ", more than the " + mib(double(budget_bytes())) +
                                                             " budget: use fewer points.");
    return;
  }
  std::vector<double> w2(kGridColumns);
  for (int i = 0; i < kGridColumns; ++i)
    w2[static_cast<std::size_t>(i)] = scene.phase.sigma_w2_min + (scene.phase.sigma_w2_max - scene.phase.sigma_w2_min) * i / (kGridColumns - 1.0);
  grid_.job = std::make_unique<GpPhaseGridJob>(spec, p, std::move(w2), std::max(1, scene.gp.grid_depth));
}

void Panel::start_sweep(const Scene& scene) {
  sweep_ = Sweep{};
  sweep_.key = sweep_key(scene);
  if (!data_.status.ok() || data_.loading) return;
  GpSpec spec = spec_for(scene);
  spec.with_variance = false;
  const GpProblem& p = data_.problem;
  const double bytes = gp_memory_bytes(spec, static_cast<int>(p.x_train.rows()), 0, outputs(), data_.dim);
  if (bytes > double(budget_bytes())) {
    sweep_.refused = Status::error(StatusCode::too_large, "The evidence curve needs about " + mib(bytes) + ", more than the " +
                                                              mib(double(budget_bytes())) + " budget: use fewer training points.");
    return;
  }
  if (scene.gp.sweep == GpSweepParameter::depth) spec.readout_from = -1;  // a readout range would not fit every depth
  sweep_.job = std::make_unique<GpEvidenceCurveJob>(spec, p, scene.gp.sweep, sweep_values(scene));
}

void Panel::update(const Scene& scene, double budget_seconds) {
  make_data(scene);
  const SliceTimer timer(budget_seconds);
  const GpView view = scene.gp.show;
  if (view == GpView::grid) {
    // (Re)start when the inputs changed, or when the data became ready after the key was set.
    const bool ready = data_.status.ok() && !data_.loading;
    if (!(grid_.key == grid_key(scene)) || (ready && !grid_.job && grid_.refused.ok() && !grid_.cancelled)) start_grid(scene);
    if (grid_.job && !grid_.cancelled && grid_.job->progress() < 1.0) grid_.job->step(budget_seconds);
  } else if (view == GpView::sweep) {
    const bool ready = data_.status.ok() && !data_.loading;
    if (!(sweep_.key == sweep_key(scene)) || (ready && !sweep_.job && sweep_.refused.ok() && !sweep_.cancelled)) start_sweep(scene);
    if (sweep_.job && !sweep_.cancelled && sweep_.job->progress() < 1.0) sweep_.job->step(budget_seconds);
  } else {
    if (!(fit_.key == fit_key(scene)) || (data_.valid && !data_.loading && !fit_.job && !fit_.done && fit_.refused.ok() && data_.status.ok() &&
                                          !fit_.cancelled))
      start_fit(scene);
    if (fit_.cancelled) return;
    if (fit_.job) {
      if (fit_.job->step(budget_seconds)) finish_fit();
    }
    Job* surface = fit_.surface_job ? static_cast<Job*>(fit_.surface_job.get()) : fit_.surface_full.get();
    if (surface && !timer.expired() && surface->step(budget_seconds)) finish_surface();
  }
}

bool Panel::fit_busy(const Scene& scene) const {
  if (!(fit_.key == fit_key(scene))) return true;
  if (fit_.cancelled) return false;
  if (!fit_.done && !fit_.job && fit_.refused.ok() && data_.status.ok() && !data_.loading) return true;  // starts next frame
  return fit_.job || fit_.surface_job || fit_.surface_full;
}
bool Panel::grid_busy(const Scene& scene) const {
  if (!(grid_.key == grid_key(scene))) return true;
  if (!grid_.job && grid_.refused.ok() && !grid_.cancelled && data_.status.ok()) return true;  // starts next frame
  return grid_.job && !grid_.cancelled && grid_.job->progress() < 1.0;
}
bool Panel::sweep_busy(const Scene& scene) const {
  if (!(sweep_.key == sweep_key(scene))) return true;
  if (!sweep_.job && sweep_.refused.ok() && !sweep_.cancelled && data_.status.ok()) return true;
  return sweep_.job && !sweep_.cancelled && sweep_.job->progress() < 1.0;
}

bool Panel::busy(const Scene& scene) const {
  if (!data_.valid || !(data_.key == data_key(scene)) || data_.loading) return true;
  if (!pending_->empty()) return true;
  if (scene.gp.show == GpView::grid) return grid_busy(scene);
  if (scene.gp.show == GpView::sweep) return sweep_busy(scene);
  return fit_busy(scene);
}

void Panel::progress_row(const char* what, double progress, const char* stage, const std::function<void()>& cancel) {
  char overlay[160];
  std::snprintf(overlay, sizeof overlay, "%s%s%s  %.0f%%", what, stage && *stage ? ": " : "", stage ? stage : "", 100.0 * progress);
  ImGui::ProgressBar(float(progress), ImVec2(ImGui::GetContentRegionAvail().x - ImGui::GetFontSize() * 5, 0), overlay);
  ImGui::SameLine();
  if (ImGui::Button("Cancel")) cancel();
  help_marker("Stops this computation; change a setting or press Recompute to start again.");
}

// ---- 4. controls -----------------------------------------------------------------------------------

// A slider whose value reaches the scene only when released (the data set is rebuilt on each change).
bool deferred_slider_int(const char* label, int& scene_value, int& edit, bool& editing, int lo, int hi, const char* tooltip) {
  if (!editing) edit = scene_value;
  ImGui::SliderInt(label, &edit, lo, hi, "%d", ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_Logarithmic);
  editing = ImGui::IsItemActive();
  help_marker(tooltip);
  if (ImGui::IsItemDeactivatedAfterEdit() || (!editing && edit != scene_value)) {
    scene_value = edit;
    return true;
  }
  return false;
}

void Panel::controls(Scene& scene) {
  GpViewSpec& g = scene.gp;
  ImGui::TextUnformatted("Data");
  ImGui::Separator();
  struct Kind {
    GpData data;
    const char* label;
  };
  const Kind kinds[] = {{GpData::points, "1-D regression"}, {GpData::moons, "two moons"}, {GpData::spirals, "spirals"},
                        {GpData::xor_, "XOR"}, {GpData::circles, "circles"}, {GpData::fashion_mnist, "Fashion-MNIST"},
                        {GpData::csv, "labelled CSV (load a file below)"}};
  const char* shown = gp_data_name(g.dataset);
  for (const Kind& k : kinds)
    if (g.dataset == k.data) shown = k.label;
  if (g.dataset == GpData::csv) shown = "labelled CSV";
  const auto carries_rows = [](GpData d) { return d == GpData::points || d == GpData::csv; };
  if (ImGui::BeginCombo("data set", shown)) {
    for (const Kind& k : kinds)
      // Labelled CSV rows come from a file (the button below); the entry only shows them once loaded.
      if (ImGui::Selectable(k.label, g.dataset == k.data,
                            k.data == GpData::csv && g.dataset != GpData::csv ? ImGuiSelectableFlags_Disabled : 0)) {
        if (g.dataset != k.data && (carries_rows(g.dataset) || carries_rows(k.data)))
          g.points.clear();  // the rows belong to one kind of set
        g.dataset = k.data;
      }
    ImGui::EndCombo();
  }
  help_marker("1-D regression: click to add points, drag to move, right-click (or Shift+click) to remove. Toy sets: 2-D "
              "classification. Fashion-MNIST: 28 x 28 clothing images, 10 classes. CSV: your labelled rows (features..., label).");
  const bool toy = is_toy(g.dataset), fashion = g.dataset == GpData::fashion_mnist;
  if (toy || fashion) {
    const int max_train = fashion ? 4000 : 2000;
    deferred_slider_int("train points", g.train, edit_train_, editing_train_, 10, max_train,
                        "Training points n. The solve costs n³/3 operations and 8 n² bytes.");
    deferred_slider_int("test points", g.test, edit_test_, editing_test_, 10, 2000, "Test points for the accuracy and the MSE.");
    if (g.train + g.test > SceneLimits::max_gp_points) g.test = SceneLimits::max_gp_points - g.train;
  }
  if (toy) {
    const double noise_lo = 0.0, noise_hi = 1.0;
    ImGui::SliderScalar("noise", ImGuiDataType_Double, &g.noise, &noise_lo, &noise_hi, "%.3g", ImGuiSliderFlags_AlwaysClamp);
    help_marker("Standard deviation of the Gaussian noise added to each coordinate.");
  }
  if (fashion) {
    const auto& names = fashion_mnist_class_names();
    ImGui::TextDisabled("classes (none ticked: all ten)");
    bool changed = false;
    std::vector<bool> on(10, g.classes.empty());
    for (int c : g.classes)
      if (c >= 0 && c < 10) on[static_cast<std::size_t>(c)] = true;
    if (ImGui::BeginTable("fm-classes", 2)) {
      for (int c = 0; c < 10; ++c) {
        ImGui::TableNextColumn();
        bool v = on[static_cast<std::size_t>(c)];
        if (ImGui::Checkbox((std::to_string(c) + " " + names[static_cast<std::size_t>(c)]).c_str(), &v)) on[static_cast<std::size_t>(c)] = v, changed = true;
      }
      ImGui::EndTable();
    }
    if (changed) {
      std::vector<int> kept;
      for (int c = 0; c < 10; ++c)
        if (on[static_cast<std::size_t>(c)]) kept.push_back(c);
      g.classes = kept.size() == 10 ? std::vector<int>{} : kept;
    }
    const int factors[] = {1, 2, 4, 7, 14};
    const char* labels[] = {"28 × 28 (none)", "14 × 14 (2 × 2 pooling)", "7 × 7 (4 × 4)", "4 × 4 (7 × 7)", "2 × 2 (14 × 14)"};
    int current = 1;
    for (int i = 0; i < 5; ++i)
      if (factors[i] == g.downsample) current = i;
    if (ImGui::Combo("images", &current, labels, 5)) g.downsample = factors[current];
    help_marker("Average pooling of the 28 x 28 images. Each image is then scaled to zero mean and unit mean square, so every input has G_aa = 1.");
  }
  csv_loader(g.dataset == GpData::csv);
  if (g.dataset == GpData::points) {
    ImGui::TextDisabled("%d points · click the plot to add one", static_cast<int>(gp_regression_points(scene).size()));
    if (!g.points.empty() && ImGui::SmallButton("Default points")) g.points.clear();
  }

  // Memory estimate before the solve.
  if (data_.valid && data_.status.ok() && !data_.loading && data_.problem.x_train.rows() > 0) {
    const GpSpec spec = spec_for(scene);
    const double bytes = gp_memory_bytes(spec, static_cast<int>(data_.problem.x_train.rows()), static_cast<int>(data_.problem.x_test.rows()), outputs(), data_.dim);
    const bool over = bytes > double(budget_bytes());
    (over ? ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "memory ≈ %s of %s", mib(bytes).c_str(), mib(double(budget_bytes())).c_str())
          : ImGui::TextDisabled("memory ≈ %s of %s", mib(bytes).c_str(), mib(double(budget_bytes())).c_str()));
    help_marker("Peak memory of the kernel and the Cholesky solve (8 bytes per kernel entry), against this platform's budget.");
  }

  ImGui::Spacing();
  ImGui::TextUnformatted("Inference");
  ImGui::Separator();
  double sn2 = std::max(g.sigma_n2, 1e-8);
  const double sn_lo = 1e-8, sn_hi = 1e2;
  if (ImGui::SliderScalar("σ_n²", ImGuiDataType_Double, &sn2, &sn_lo, &sn_hi, "%.3g", ImGuiSliderFlags_Logarithmic | ImGuiSliderFlags_AlwaysClamp))
    g.sigma_n2 = sn2;
  help_marker("Observation noise (ridge) added to the training kernel's diagonal: mean f* = K*X (KXX + σ_n² I)⁻¹ y.");
  bool averaged = g.readout_from >= 0;
  const char* arch = scene.network.arch == Architecture::deep ? "layer" : "time";
  if (ImGui::RadioButton((std::string("single ") + arch + " L").c_str(), !averaged)) g.readout_from = -1;
  help_marker("Readout y = w·φ(h^L) + b from the last layer (deep) or the last time step (recurrent): identical kernels for both (docs/theory.md §4.2).");
  ImGui::SameLine();
  if (ImGui::RadioButton("averaged", averaged) && !averaged) g.readout_from = std::max(0, scene.network.depth / 2);
  help_marker("Readout from the average of φ(h^t) over layers/times from the first one chosen to L.");
  if (g.readout_from >= 0) {
    int from = std::min(g.readout_from, scene.network.depth);
    if (ImGui::SliderInt("from", &from, 0, std::max(0, scene.network.depth - 1), "%d", ImGuiSliderFlags_AlwaysClamp)) g.readout_from = from;
    help_marker("First layer/time of the averaged readout.");
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", scene.network.arch == Architecture::recurrent
                                  ? "Averaged over times, the recurrent net's readout includes cross-time covariances: its predictions differ "
                                    "from the deep net's (set architecture to deep to compare)."
                                  : "Averaged over layers, the deep net's readout has cross-layer terms only through the means "
                                    "E[φ(h^t)] E[φ(h^s)] (zero for odd φ), the recurrent net's through the full cross-time "
                                    "covariances: their predictions differ (set architecture to recurrent to compare).");
    ImGui::PopTextWrapPos();
  } else if (scene.network.arch == Architecture::deep || scene.network.input_mode == InputMode::first_step) {
    ImGui::TextDisabled("deep and recurrent (input at t = 0): identical predictions (docs/theory.md §4.2)");
  } else {
    ImGui::TextDisabled("input at every step: the recurrent kernel differs from the deep one (docs/theory.md §4.2)");
  }

  ImGui::Spacing();
  ImGui::TextUnformatted("View");
  ImGui::Separator();
  int vi = static_cast<int>(g.show);
  if (ImGui::Combo("view", &vi, "predictions\0σ_w² × depth grid\0evidence curve\0")) g.show = static_cast<GpView>(vi);
  help_marker("Predictions: the posterior on the data set. σ_w² × depth: what the phase means for learning, with the critical "
              "line. Evidence curve: log p(y | X) over one hyperparameter, to choose it.");
  if (g.show == GpView::grid) {
    int qi = static_cast<int>(g.grid_quantity);
    if (ImGui::Combo("colour", &qi, "test accuracy\0log evidence per point\0")) g.grid_quantity = static_cast<GpGridQuantity>(qi);
    ImGui::SliderInt("max depth", &g.grid_depth, 1, 60, "%d", ImGuiSliderFlags_AlwaysClamp);
    help_marker("Depths 1..this. The σ_w² range is the phase diagram's (w2min..w2max).");
  }
  if (g.show == GpView::sweep) {
    int si = static_cast<int>(g.sweep);  // GpSweepParameter: sigma_w2, sigma_b2, depth, sigma_n2
    if (ImGui::Combo("parameter", &si, "σ_w² (phase diagram range)\0σ_b² (phase diagram range)\0depth L (1..max depth)\0σ_n² (1e-6..1e2)\0"))
      g.sweep = static_cast<GpSweepParameter>(si);
    if (g.sweep == GpSweepParameter::depth) ImGui::SliderInt("max depth", &g.grid_depth, 2, 200, "%d", ImGuiSliderFlags_AlwaysClamp);
  }
}

// ---- 5. gv=fit -------------------------------------------------------------------------------------

void Panel::results_table(const Scene& scene) {
  const GpResult& r = shown_;
  const bool classification = data_.problem.classification;
  if (ImGui::BeginTable("gp-results", 4, ImGuiTableFlags_SizingStretchProp)) {
    auto cell = [](const char* name, const std::string& value, const char* meaning) {
      ImGui::TableNextColumn();
      ImGui::TextDisabled("%s", name);
      help_marker(meaning);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(value.c_str());
      help_marker(meaning);
    };
    const int n = static_cast<int>(data_.problem.x_train.rows()), m = static_cast<int>(data_.problem.x_test.rows());
    if (classification) {
      cell("test accuracy", fmt(r.accuracy, "%.4f"), "Fraction of test points classified right: sign of f* (two classes) or argmax over one-hot outputs.");
      cell("train accuracy", fmt(r.train_accuracy, "%.4f"), "The same on the training points (posterior mean at them).");
    }
    if (scene.gp.dataset != GpData::points) cell("MSE", fmt(r.mse, "%.4g"), "Mean over test points and outputs of (f* - y)².");
    cell("log evidence", fmt(r.solve.log_evidence, "%.6g"), "log p(y | X) of the training targets, summed over outputs (Rasmussen & Williams, eq. 2.30).");
    cell("per point", fmt(r.solve.log_evidence / std::max(1, n), "%.4g"), "Log evidence divided by n.");
    cell("jitter", r.solve.jitter > 0 ? fmt(r.solve.jitter, "%.2g") : std::string("none"),
         "Added to the diagonal on top of σ_n² when K + σ_n² I was not numerically positive definite.");
    cell("condition", fmt(r.solve.condition_number, "%.3g"), "Estimated 1-norm condition number of K + (σ_n² + jitter) I.");
    cell("n train", std::to_string(n), "Training points.");
    if (scene.gp.dataset != GpData::points) cell("n test", std::to_string(m), "Test points.");
    ImGui::EndTable();
  }
  if (r.inexact_variances > 0) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("%d points have variances q beyond the accurate range of the kernel series: their entries are less accurate.",
                       r.inexact_variances);
    ImGui::PopStyleColor();
  }
}

void Panel::regression_view(Scene& scene) {
  const auto pts = gp_regression_points(scene);
  PlotSpec spec;
  spec.id = "gp-regression";
  spec.title = "GP regression: posterior mean ± 2σ (predictive: √(latent variance + σ_n²))";
  spec.x.label = "x";
  spec.y.label = "y";
  spec.size = ImVec2(-1, std::max(ImGui::GetContentRegionAvail().y - ImGui::GetFontSize() * 5.5f, ImGui::GetFontSize() * 16));
  spec.export_name = "fieldscope-gp-regression";
  // Axes: fixed while a point is dragged, so that the plot does not move under the mouse.
  if (!dragging_) {
    const auto [lo_x, hi_x] = gp_regression_range(pts);
    frozen_x_ = {lo_x, hi_x};
    double lo = -2, hi = 2;
    for (const auto& p : pts) lo = std::min(lo, p[1] - 0.5), hi = std::max(hi, p[1] + 0.5);
    frozen_y_ = {lo, hi};
  }
  spec.x.fixed = spec.y.fixed = true;
  spec.x.min = frozen_x_.min, spec.x.max = frozen_x_.max, spec.y.min = frozen_y_.min, spec.y.max = frozen_y_.max;
  std::vector<Series> series;
  Series mean;
  mean.label = "posterior mean ± 2σ";
  mean.color = qualitative_color(0);
  const GpResult& r = shown_;
  if (has_shown_ && shown_dataset_ == GpData::points && r.status.ok() && r.solve.mean.rows() == static_cast<Eigen::Index>(shown_x_.size())) {
    for (Eigen::Index i = 0; i < r.solve.mean.rows(); ++i) {
      const double x = shown_x_[static_cast<std::size_t>(i)], f = r.solve.mean(i, 0);
      const double var = i < r.solve.variance.size() ? std::max(0.0, r.solve.variance(i)) : kNaN;
      const double sd = std::sqrt(var + scene.gp.sigma_n2);
      mean.x.push_back(x), mean.y.push_back(f), mean.lower.push_back(f - 2 * sd), mean.upper.push_back(f + 2 * sd);
    }
  }
  Series points;
  points.label = "training points";
  points.color = qualitative_color(1);
  points.markers = true;
  points.line = false;
  points.thickness = 3.f;
  for (const auto& p : pts) points.x.push_back(p[0]), points.y.push_back(p[1]);
  series.push_back(std::move(mean));
  series.push_back(std::move(points));
  spec.editable = 1;
  const PlotEvents e = line_plot(spec, series);
  last_plot_ = e;
  dragging_ = e.dragged >= 0;
  auto rounded = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  std::vector<std::vector<double>> next = pts;
  bool changed = false;
  if (e.dragged >= 0 && e.dragged < static_cast<int>(next.size())) {
    next[static_cast<std::size_t>(e.dragged)] = {rounded(e.drag_x), rounded(e.drag_y)};
    changed = next != pts;
  } else if (e.removed >= 0 && e.removed < static_cast<int>(next.size())) {
    if (next.size() <= 1) point_message_ = "At least one point is needed.";
    else next.erase(next.begin() + e.removed), changed = true, point_message_.clear();
  } else if (e.clicked) {
    if (static_cast<int>(next.size()) >= kMaxRegressionPoints) point_message_ = "At most " + std::to_string(kMaxRegressionPoints) + " points.";
    else next.push_back({rounded(e.x), rounded(e.y)}), changed = true, point_message_.clear();
  }
  if (changed) scene.gp.points = next;
  ImGui::TextDisabled("Click to add a point · drag a point to move it · right-click or Shift+click a point to remove it.");
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("In 1-D, K⁰(x, x') = σ_in² x x' + σ_b²: points on one side of 0 look alike unless σ_b² is large. Many ξ_c deep "
                     "in the ordered phase all inputs become alike (c → 1) and the mean flattens: try a smaller L or σ_w² near the "
                     "critical line.");
  ImGui::PopStyleColor();
  if (!point_message_.empty()) error_text(point_message_);
}

void Panel::surface_view(const Scene& scene) {
  const GpProblem& p = data_.problem;
  const int side = fit_.surface_side;
  HeatMapSpec h;
  h.id = "gp-surface";
  const bool two = fit_.k <= 2 || !p.classification;
  h.title = !p.classification ? "Posterior mean over the plane" : two ? "Decision surface: posterior mean f (sign = predicted class)"
                                                                      : "Confidence: margin between the two largest outputs (lines: class boundaries)";
  h.x.label = "x₁";
  h.y.label = "x₂";
  h.x.min = data_.x0, h.x.max = data_.x1, h.y.min = data_.y0, h.y.max = data_.y1;
  h.value_label = !p.classification ? "mean" : two ? "f" : "margin";
  h.diverging = p.classification && two;
  const bool ready = !fit_.surface_values.empty() && fit_.surface_values.size() == static_cast<std::size_t>(side) * side;
  h.values = ready ? fit_.surface_values.data() : nullptr;
  h.columns = h.rows = side;
  h.size = ImVec2(-1, std::max(ImGui::GetContentRegionAvail().y - ImGui::GetFontSize() * 6.5f, ImGui::GetFontSize() * 16));
  h.export_name = std::string("fieldscope-gp-") + gp_data_name(scene.gp.dataset);
  std::vector<Series> overlays;
  if (p.classification) {
    std::vector<double> classes = p.y_train;
    std::sort(classes.begin(), classes.end());
    classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
    for (std::size_t c = 0; c < classes.size(); ++c) {
      Series s;
      const int id = static_cast<int>(classes[c]);
      s.label = "class " + std::to_string(id) + (id >= 0 && id < static_cast<int>(data_.class_names.size()) ? " (" + data_.class_names[static_cast<std::size_t>(id)] + ")" : "");
      s.markers = true;
      s.line = false;
      s.thickness = 2.2f;
      s.color = two ? (c == 0 ? rgba8(40, 70, 170) : rgba8(180, 40, 30)) : qualitative_color(static_cast<int>(c));
      for (Eigen::Index a = 0; a < p.x_train.rows(); ++a)
        if (p.y_train[static_cast<std::size_t>(a)] == classes[c]) s.x.push_back(p.x_train(a, 0)), s.y.push_back(p.x_train(a, 1));
      // A light halo under each dot keeps it visible on its own class's colour.
      Series halo = s;
      halo.label.clear();
      halo.color = IM_COL32(255, 255, 255, 210);
      halo.thickness = 3.2f;
      overlays.push_back(std::move(halo));
      overlays.push_back(std::move(s));
    }
    if (ready && !two) {
      // Class boundaries: a segment on every cell edge between cells of different predicted classes.
      Series b;
      b.color = IM_COL32(255, 255, 255, 220);
      b.thickness = 1.5f;
      const double dx = (data_.x1 - data_.x0) / (side - 1), dy = (data_.y1 - data_.y0) / (side - 1);
      for (int r = 0; r < side; ++r)
        for (int c = 0; c < side; ++c) {
          const int k = fit_.surface_class[static_cast<std::size_t>(r * side + c)];
          const double x = data_.x0 + dx * c, y = data_.y0 + dy * r;
          if (c + 1 < side && fit_.surface_class[static_cast<std::size_t>(r * side + c + 1)] != k)
            b.x.insert(b.x.end(), {x + dx / 2, x + dx / 2, kNaN}), b.y.insert(b.y.end(), {y - dy / 2, y + dy / 2, kNaN});
          if (r + 1 < side && fit_.surface_class[static_cast<std::size_t>((r + 1) * side + c)] != k)
            b.x.insert(b.x.end(), {x - dx / 2, x + dx / 2, kNaN}), b.y.insert(b.y.end(), {y + dy / 2, y + dy / 2, kNaN});
        }
      overlays.push_back(std::move(b));
    }
  } else {
    Series s;
    s.label = "training points";
    s.markers = true;
    s.line = false;
    s.color = IM_COL32(255, 255, 255, 230);
    for (Eigen::Index a = 0; a < p.x_train.rows(); ++a) s.x.push_back(p.x_train(a, 0)), s.y.push_back(p.x_train(a, 1));
    overlays.push_back(std::move(s));
  }
  heat_map(h, overlays);
  if (fit_.surface_done && !fit_.surface_status.ok()) error_text("Surface: " + fit_.surface_status.message);
}

void Panel::fashion_view(const Scene& scene) {
  (void)scene;
  const GpResult& r = fit_.result;
  const auto& names = data_.class_names;
  auto name_of = [&](double id) {
    const int i = static_cast<int>(id);
    return i >= 0 && i < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(i)] : std::to_string(i);
  };
  const float em = ImGui::GetFontSize();
  const float strip_height = 8.5f * em;
  const float avail = ImGui::GetContentRegionAvail().y;
  // Confusion matrix.
  if (fit_.k > 0) {
    HeatMapSpec h;
    h.id = "gp-confusion";
    h.title = "Confusion matrix (each row: one true class)";
    h.x.label = "predicted class (index)";
    h.y.label = "true class (index)";
    h.x.integer = h.y.integer = true;
    h.x.min = h.y.min = 0;
    h.x.max = h.y.max = std::max(1, fit_.k - 1);
    h.value_label = "fraction";
    h.vmin = 0, h.vmax = 1;
    h.values = fit_.confusion.data();
    h.columns = h.rows = fit_.k;
    const float height = std::max(avail - strip_height - 3.5f * em, 14 * em);
    h.size = ImVec2(std::min(ImGui::GetContentRegionAvail().x - 10 * em, height * 1.2f), height);
    h.export_name = "fieldscope-gp-confusion";
    const PlotEvents e = heat_map(h);
    if (e.column >= 0 && e.row >= 0 && e.column < fit_.k && e.row < fit_.k) {
      ImGui::BeginTooltip();
      ImGui::Text("true: %s", name_of(r.classes[static_cast<std::size_t>(e.row)]).c_str());
      ImGui::Text("predicted: %s", name_of(r.classes[static_cast<std::size_t>(e.column)]).c_str());
      ImGui::EndTooltip();
    }
    ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::TextDisabled("index  class");
    for (int i = 0; i < fit_.k; ++i) ImGui::Text("%5d  %s", i, name_of(r.classes[static_cast<std::size_t>(i)]).c_str());
    ImGui::EndGroup();
  }
  // A strip of test images with their predictions; mistakes framed in red.
  const GpProblem& p = data_.problem;
  const int side = data_.image_side;
  if (side <= 0 || p.x_test.cols() != side * side || r.predicted.size() != static_cast<std::size_t>(p.x_test.rows())) return;
  ImGui::TextDisabled("Test images: predicted, then (true) label; red = mistake");
  ImGui::SameLine();
  ImGui::Checkbox("mistakes only", &mistakes_only_);
  std::vector<int> chosen;
  for (int i = 0; i < static_cast<int>(p.x_test.rows()) && static_cast<int>(chosen.size()) < kStripImages; ++i)
    if (!mistakes_only_ || r.predicted[static_cast<std::size_t>(i)] != p.y_test[static_cast<std::size_t>(i)]) chosen.push_back(i);
  const float cell = 5.0f * em, gap = 0.4f * em;
  const int per_row = std::max(1, static_cast<int>((ImGui::GetContentRegionAvail().x + gap) / (cell + gap)));
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const int shown = std::min(static_cast<int>(chosen.size()), per_row);
  for (int k = 0; k < shown; ++k) {
    const int i = chosen[static_cast<std::size_t>(k)];
    const ImVec2 at(origin.x + k * (cell + gap), origin.y);
    const auto img = p.x_test.row(i);
    const double lo = img.minCoeff(), hi = img.maxCoeff(), span = hi > lo ? hi - lo : 1.0;
    const float px = cell / side;
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        const int v = static_cast<int>(std::lround(255.0 * (img(y * side + x) - lo) / span));
        draw->AddRectFilled(ImVec2(at.x + x * px, at.y + y * px), ImVec2(at.x + (x + 1) * px, at.y + (y + 1) * px), IM_COL32(v, v, v, 255));
      }
    const bool right = r.predicted[static_cast<std::size_t>(i)] == p.y_test[static_cast<std::size_t>(i)];
    draw->AddRect(ImVec2(at.x - 1, at.y - 1), ImVec2(at.x + cell + 1, at.y + cell + 1), right ? IM_COL32(120, 120, 120, 255) : IM_COL32(235, 60, 50, 255),
                  0, 0, right ? 1.f : 2.5f);
    const std::string predicted = name_of(r.predicted[static_cast<std::size_t>(i)]), truth = "(" + name_of(p.y_test[static_cast<std::size_t>(i)]) + ")";
    draw->PushClipRect(ImVec2(at.x, at.y + cell), ImVec2(at.x + cell + 0.8f * gap, at.y + cell + 3 * em), true);
    draw->AddText(ImVec2(at.x, at.y + cell + 0.2f * em), right ? IM_COL32(215, 215, 215, 255) : IM_COL32(255, 115, 100, 255), predicted.c_str());
    draw->AddText(ImVec2(at.x, at.y + cell + 1.3f * em), ImGui::GetColorU32(ImGuiCol_TextDisabled), truth.c_str());
    draw->PopClipRect();
    if (ImGui::IsMouseHoveringRect(at, ImVec2(at.x + cell, at.y + cell + 2.5f * em)))
      ImGui::SetTooltip("test image %d\npredicted: %s\ntrue: %s", i + 1, predicted.c_str(), truth.c_str());
  }
  if (chosen.empty()) ImGui::TextDisabled(mistakes_only_ ? "No mistakes." : "No test images.");
  else ImGui::Dummy(ImVec2(1, cell + 2.6f * em));
}

void Panel::fit_view(Scene& scene) {
  const GpData kind = scene.gp.dataset;
  // A fixed slot for progress and messages, so that nothing below moves while a fit recomputes.
  if (fit_.job) {
    const GpJob& job = *fit_.job;
    progress_row("GP solve", job.progress(), job.stage(), [this] {
      if (fit_.job) fit_.job->cancel();
      fit_.cancelled = true;
      fit_.job.reset();
      fit_.surface_job.reset();
      fit_.surface_full.reset();
    });
  } else if (fit_.surface_job || fit_.surface_full) {
    const Job* s = fit_.surface_job ? static_cast<const Job*>(fit_.surface_job.get()) : fit_.surface_full.get();
    progress_row("decision surface", s->progress(), "kernel on the plane", [this] {
      fit_.cancelled = true;
      fit_.surface_job.reset();
      fit_.surface_full.reset();
    });
  } else if (fit_.cancelled) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("Cancelled.");
    ImGui::SameLine();
    if (ImGui::Button("Recompute")) fit_ = Fit{};
  } else if (!fit_.refused.ok()) {
    error_text(fit_.refused.message);
  } else if (fit_.done && !fit_.result.status.ok()) {
    error_text(fit_.result.status.message);
  } else {
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("%s", data_.problem.classification ? "Classification as GP regression on ±1 (two classes) or one-hot targets (docs/theory.md §7)."
                                                           : "GP regression with the network's NNGP kernel (docs/theory.md §7).");
  }
  const bool current_kind = has_shown_ && shown_dataset_ == kind;
  if (current_kind && shown_.status.ok() && (fit_.done || fit_.job)) results_table(scene);
  if (kind == GpData::points) regression_view(scene);
  else if (data_.surface) surface_view(scene);
  else if (kind == GpData::fashion_mnist && fit_.done && fit_.result.status.ok()) fashion_view(scene);
  else if (kind == GpData::csv && fit_.done && fit_.result.status.ok())
    ImGui::TextDisabled("%d features per row: only 2-D data are drawn as a surface.", data_.dim);
}

// ---- 6. gv=grid ------------------------------------------------------------------------------------

void Panel::grid_view(const Scene& scene) {
  if (!grid_.refused.ok()) error_text(grid_.refused.message);
  if (!grid_.job) return;
  const GpPhaseGridJob& job = *grid_.job;
  if (job.progress() < 1.0 && !grid_.cancelled)
    progress_row("σ_w² × depth grid", job.progress(), "one kernel recursion per σ_w² column", [this] {
      if (grid_.job) grid_.job->cancel();
      grid_.cancelled = true;
    });
  if (grid_.cancelled) {
    ImGui::TextDisabled("Cancelled.");
    ImGui::SameLine();
    if (ImGui::SmallButton("Recompute")) grid_ = Grid{};
    if (!grid_.job) return;
  }
  const int columns = static_cast<int>(job.sigma_w2_values().size()), rows = job.max_depth();
  const int n = std::max<int>(1, static_cast<int>(data_.problem.x_train.rows()));
  grid_.accuracy.assign(static_cast<std::size_t>(columns) * rows, kNaN);
  grid_.evidence.assign(static_cast<std::size_t>(columns) * rows, kNaN);
  for (int c = 0; c < columns; ++c)
    for (const GpDepthPoint& p : job.points()[static_cast<std::size_t>(c)]) {
      if (p.depth < 1 || p.depth > rows) continue;
      grid_.accuracy[static_cast<std::size_t>(p.depth - 1) * columns + c] = p.accuracy;
      grid_.evidence[static_cast<std::size_t>(p.depth - 1) * columns + c] = p.log_evidence / n;
    }
  const bool evidence = scene.gp.grid_quantity == GpGridQuantity::evidence || !data_.problem.classification;
  HeatMapSpec h;
  h.id = "gp-grid";
  h.title = evidence ? "Log evidence per training point over σ_w² and depth" : "Test accuracy over σ_w² and depth";
  h.x.label = "σ_w²";
  h.y.label = "depth L";
  h.y.integer = true;
  h.x.min = job.sigma_w2_values().front(), h.x.max = job.sigma_w2_values().back();
  h.y.min = 1, h.y.max = std::max(2, rows);
  h.value_label = evidence ? "log p(y)/n" : "accuracy";
  h.values = evidence ? grid_.evidence.data() : grid_.accuracy.data();
  h.columns = columns, h.rows = rows;
  if (rows == 1) h.y.max = 1;
  h.size = ImVec2(-1, std::max(ImGui::GetContentRegionAvail().y - ImGui::GetFontSize() * 5.5f, ImGui::GetFontSize() * 16));
  h.marker = DataPoint{scene.network.sigma_w2, double(scene.network.depth)};
  h.export_name = "fieldscope-gp-grid";
  std::vector<Series> overlays;
  const CriticalPoint cp = critical_point(scene.network.activation, scene.network.sigma_b2);
  if (cp.status.ok()) {
    Series line;
    line.label = "critical σ_w² at σ_b² = " + fmt(scene.network.sigma_b2, "%.3g");
    line.x = {cp.sigma_w2, cp.sigma_w2};
    line.y = {0.5, rows + 0.5};
    line.color = IM_COL32(255, 255, 255, 235);
    line.dashed = true;
    overlays.push_back(std::move(line));
  }
  Series depth_scale;
  depth_scale.label = "6 ξ_c (trainable depth)";
  depth_scale.color = IM_COL32(120, 230, 255, 240);
  for (int i = 0; i <= 160; ++i) {
    const double w2 = h.x.min + (h.x.max - h.x.min) * i / 160.0;
    const FixedPoint fp = fixed_point(make_network(scene.network.activation, w2, scene.network.sigma_b2));
    double v = 6 * fp.xi_c;
    if (!std::isfinite(v) || v > 100.0 * rows) v = 100.0 * rows;  // off the top: keeps the curve continuous
    depth_scale.x.push_back(w2);
    depth_scale.y.push_back(v);
  }
  overlays.push_back(std::move(depth_scale));
  heat_map(h, overlays);
  ImGui::PushTextWrapPos(0);
  if (scene.network.sigma_in2)
    ImGui::TextDisabled("σ_in² = %s in every column; single-time readouts at every depth (one kernel recursion per column).",
                        fmt(*scene.network.sigma_in2, "%.4g").c_str());
  else
    ImGui::TextDisabled("σ_in² = σ_w² in every column; single-time readouts at every depth (one kernel recursion per column).");
  ImGui::TextDisabled("Near the critical line correlations survive "
                      "to depth ≈ ξ_c; deep in the ordered or chaotic phase the kernel forgets the inputs and accuracy falls "
                      "(Schoenholz et al. 2017: trainable to ≈ 6 ξ_c).");
  ImGui::PopTextWrapPos();
  if (!job.status().ok() && job.status().code != StatusCode::cancelled) ImGui::TextDisabled("Note: %s", job.status().message.c_str());
}

// ---- 7. gv=sweep -----------------------------------------------------------------------------------

void Panel::sweep_view(const Scene& scene) {
  if (!sweep_.refused.ok()) error_text(sweep_.refused.message);
  if (!sweep_.job) return;
  const GpEvidenceCurveJob& job = *sweep_.job;
  if (job.progress() < 1.0 && !sweep_.cancelled)
    progress_row("evidence curve", job.progress(), sweep_label(scene.gp.sweep), [this] {
      if (sweep_.job) sweep_.job->cancel();
      sweep_.cancelled = true;
    });
  if (sweep_.cancelled) {
    ImGui::TextDisabled("Cancelled.");
    ImGui::SameLine();
    if (ImGui::SmallButton("Recompute")) sweep_ = Sweep{};
    if (!sweep_.job) return;
  }
  Series curve;
  curve.label = "log evidence";
  curve.markers = true;
  int best = -1;
  std::string problem;
  for (const GpEvidencePoint& p : job.points()) {
    curve.x.push_back(p.value);
    curve.y.push_back(p.status.ok() ? p.log_evidence : kNaN);
    if (p.status.ok() && (best < 0 || p.log_evidence > curve.y[static_cast<std::size_t>(best)])) best = static_cast<int>(curve.y.size()) - 1;
    if (!p.status.ok() && problem.empty()) problem = "at " + fmt(p.value, "%.3g") + ": " + p.status.message;
  }
  PlotSpec spec;
  spec.id = "gp-sweep";
  spec.title = std::string("Log evidence log p(y | X) over ") + sweep_label(scene.gp.sweep);
  spec.x.label = sweep_label(scene.gp.sweep);
  spec.x.log = scene.gp.sweep == GpSweepParameter::sigma_n2;
  spec.y.label = "log evidence";
  spec.x_lines = {scene_sweep_value(scene)};
  if (best >= 0) spec.marker = DataPoint{curve.x[static_cast<std::size_t>(best)], curve.y[static_cast<std::size_t>(best)]};
  spec.size = ImVec2(-1, std::max(ImGui::GetContentRegionAvail().y - ImGui::GetFontSize() * 3.5f, ImGui::GetFontSize() * 16));
  spec.export_name = "fieldscope-gp-sweep";
  line_plot(spec, {curve});
  if (scene.gp.sweep == GpSweepParameter::sigma_w2) {
    if (scene.network.sigma_in2) ImGui::TextDisabled("σ_in² stays at %s for every σ_w².", fmt(*scene.network.sigma_in2, "%.4g").c_str());
    else ImGui::TextDisabled("σ_in² = σ_w² at every point (σ_in² is not set separately).");
  }
  if (best >= 0)
    ImGui::Text("maximum: %s = %s (log evidence %s); dashed line: the scene's value %s", sweep_label(scene.gp.sweep),
                fmt(curve.x[static_cast<std::size_t>(best)], "%.4g").c_str(), fmt(curve.y[static_cast<std::size_t>(best)], "%.6g").c_str(),
                fmt(scene_sweep_value(scene), "%.4g").c_str());
  if (!problem.empty()) ImGui::TextDisabled("Missing points: %s", problem.c_str());
}

// ---- 8. files and snapshot -------------------------------------------------------------------------

void Panel::csv_loader(bool csv_shown) {
  if (platform_.open_file) {
    if (ImGui::Button("Load labelled CSV...")) {
      auto pending = pending_;
      platform_.open_file(".csv,.txt,.tsv,text/csv,text/plain", [pending](const std::string& name, const std::string& text, const std::string& error) {
        pending->push_back({name, text, error});
      });
    }
    const ImVec2 lo = ImGui::GetItemRectMin(), hi = ImGui::GetItemRectMax();
    load_button_[0] = lo.x, load_button_[1] = lo.y, load_button_[2] = hi.x, load_button_[3] = hi.y;
    help_marker("A labelled CSV file: one point per row, features then the label (an integer class id, or a real target "
                "for regression); optional header and # comments. You can also drop a file on the window.");
  }
  if (platform_.read_file) {
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - ImGui::GetFontSize() * 4);
    const bool enter = ImGui::InputTextWithHint("##gp-csv-path", "labelled CSV path (or drop a file)", csv_path_, sizeof csv_path_, ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if ((ImGui::Button("Load##gp-csv") || enter) && csv_path_[0] != '\0') {
      std::string error;
      std::string text = platform_.read_file(csv_path_, error);
      pending_->push_back({csv_path_, std::move(text), error});
    }
  }
  if (!csv_message_.empty()) {
    if (csv_failed_) error_text(csv_message_);
    else ImGui::TextWrapped("%s", csv_message_.c_str());
  }
  if (csv_shown) ImGui::TextDisabled("Every 4th row is a test point.");
}

bool Panel::load_file(Scene& scene, const std::string& name, const std::string& text, const std::string& error) {
  apply_csv(scene, name, text, error);
  return true;
}

void Panel::apply_csv(Scene& scene, const std::string& name, const std::string& text, const std::string& error) {
  const std::string file = "\"" + echo_user_text(name) + "\"";
  csv_failed_ = true;
  if (!error.empty()) {
    csv_message_ = error;
    return;
  }
  LabelledCsv parsed = parse_labelled_csv(text, false);
  bool regression = false;
  if (!parsed.status.ok()) {
    LabelledCsv real = parse_labelled_csv(text, true);
    if (!real.status.ok()) {
      csv_message_ = file + ": " + real.status.message + " The data were not changed.";
      return;
    }
    parsed = std::move(real);
    regression = true;
  }
  const Dataset& d = parsed.data;
  Scene next = scene;
  next.gp.dataset = GpData::csv;
  next.gp.points.assign(static_cast<std::size_t>(d.x.rows()), {});
  for (Eigen::Index a = 0; a < d.x.rows(); ++a) {
    auto& row = next.gp.points[static_cast<std::size_t>(a)];
    for (Eigen::Index j = 0; j < d.x.cols(); ++j) row.push_back(d.x(a, j));
    row.push_back(d.y[static_cast<std::size_t>(a)]);
  }
  if (const Status valid = validate_scene(next); !valid.ok()) {
    csv_message_ = file + ": " + valid.message + " The data were not changed.";
    return;
  }
  const std::size_t link = scene_to_query(next).size();
  if (link > kMaxLinkQuery) {
    csv_message_ = file + " holds " + std::to_string(d.x.rows()) + " rows of " + std::to_string(d.x.cols() + 1) +
                   " numbers: as a share link that is " + std::to_string(link) + " characters, more than the " + std::to_string(kMaxLinkQuery) +
                   " a link carries safely. Use fewer rows or fewer digits, or the command line (fieldscope-cli gp --dataset csv "
                   "--csv FILE). The data were not changed.";
    return;
  }
  scene = std::move(next);
  csv_failed_ = false;
  csv_message_ = "Loaded " + std::to_string(d.x.rows()) + " rows with " + std::to_string(d.x.cols()) + " features (" +
                 (regression ? "real targets: regression" : "class labels") + ") from " + file + ".";
}

void Panel::draw(Scene& scene) {
  if (!pending_->empty()) {
    const std::vector<PendingFile> files = std::move(*pending_);
    pending_->clear();
    for (const PendingFile& f : files) apply_csv(scene, f.name, f.text, f.error);
  }
  const float em = ImGui::GetFontSize();
  ImGui::BeginChild("gp-controls", ImVec2(std::min(20 * em, ImGui::GetContentRegionAvail().x * 0.38f), 0), true);
  controls(scene);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("gp-view", ImVec2(0, 0), false);
  if (data_.loading) {
    ImGui::TextUnformatted("loading Fashion-MNIST...");
  } else if (!data_.status.ok()) {
    error_text(data_.status.message);
  } else if (scene.gp.show == GpView::grid) {
    grid_view(scene);
  } else if (scene.gp.show == GpView::sweep) {
    sweep_view(scene);
  } else {
    fit_view(scene);
  }
  ImGui::EndChild();
}

nlohmann::ordered_json Panel::snapshot(const Scene& scene) const {
  nlohmann::ordered_json j;
  j["dataset"] = gp_data_name(scene.gp.dataset);
  j["view"] = gp_view_name(scene.gp.show);
  j["loading"] = data_.loading;
  j["data_status"] = data_.status.message;
  j["train"] = static_cast<int>(data_.problem.x_train.rows());
  j["test"] = static_cast<int>(data_.problem.x_test.rows());
  j["dim"] = data_.dim;
  j["classification"] = data_.problem.classification;
  j["budget_mib"] = double(budget_bytes()) / 1048576.0;
  j["csv_message"] = csv_message_;
  j["csv_failed"] = csv_failed_;
  j["load_button"] = {load_button_[0], load_button_[1], load_button_[2], load_button_[3]};
  j["points"] = static_cast<int>(gp_regression_points(scene).size());
  const bool fit_current = fit_.key == fit_key(scene);
  nlohmann::ordered_json f;
  f["current"] = fit_current;
  f["done"] = fit_.done;
  f["cancelled"] = fit_.cancelled;
  f["refused"] = fit_.refused.message;
  f["memory_mib"] = fit_.memory_bytes / 1048576.0;
  if (fit_.done) {
    const GpResult& r = fit_.result;
    f["status"] = r.status.message;
    f["accuracy"] = json::number(r.accuracy);
    f["train_accuracy"] = json::number(r.train_accuracy);
    f["mse"] = json::number(r.mse);
    f["log_evidence"] = json::number(r.solve.log_evidence);
    f["jitter"] = json::number(r.solve.jitter);
    f["condition_number"] = json::number(r.solve.condition_number);
    if (fit_.k > 0) f["classes"] = fit_.k;
  }
  if (fit_.surface_done) f["surface"] = fit_.surface_status.ok() ? std::string("ok") : fit_.surface_status.message;
  j["fit"] = f;
  j["plot"] = {{"area", {last_plot_.area_min.x, last_plot_.area_min.y, last_plot_.area_max.x, last_plot_.area_max.y}},
               {"x", {last_plot_.view_x_min, last_plot_.view_x_max}},
               {"y", {last_plot_.view_y_min, last_plot_.view_y_max}}};
  if (grid_.job && grid_.key == grid_key(scene)) {
    nlohmann::ordered_json g;
    g["sigma_w2"] = grid_.job->sigma_w2_values();
    g["depths"] = grid_.job->max_depth();
    g["done"] = grid_.job->progress() >= 1.0;
    nlohmann::ordered_json acc = nlohmann::ordered_json::array(), ev = nlohmann::ordered_json::array();
    for (const auto& column : grid_.job->points()) {
      nlohmann::ordered_json a = nlohmann::ordered_json::array(), e = nlohmann::ordered_json::array();
      for (const GpDepthPoint& p : column) a.push_back(json::number(p.accuracy)), e.push_back(json::number(p.log_evidence));
      acc.push_back(a), ev.push_back(e);
    }
    g["accuracy"] = acc;
    g["log_evidence"] = ev;
    const CriticalPoint cp = critical_point(scene.network.activation, scene.network.sigma_b2);
    g["critical_sigma_w2"] = cp.status.ok() ? json::number(cp.sigma_w2) : nlohmann::ordered_json(nullptr);
    j["grid"] = g;
  }
  if (sweep_.job && sweep_.key == sweep_key(scene)) {
    nlohmann::ordered_json s;
    s["parameter"] = gp_sweep_parameter_name(scene.gp.sweep);
    nlohmann::ordered_json values = nlohmann::ordered_json::array(), le = nlohmann::ordered_json::array();
    for (const GpEvidencePoint& p : sweep_.job->points()) values.push_back(p.value), le.push_back(p.status.ok() ? json::number(p.log_evidence) : nullptr);
    s["values"] = values;
    s["log_evidence"] = le;
    j["sweep"] = s;
  }
  return j;
}

}  // namespace

std::unique_ptr<ViewPanel> make_gp_panel(const Platform& platform) { return std::make_unique<Panel>(platform); }

}  // namespace fs::ui
