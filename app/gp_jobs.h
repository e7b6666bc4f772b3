// The GP tab's computations (no ImGui): from a scene to its data set (a GpProblem), and the fit, decision
// surface, sigma_w^2 x depth grid and evidence-curve jobs the tab's views need, each kept with the key of
// the scene fields it depends on and restarted only when that key changes; memory estimates against the
// platform's budget; the numbers the views draw (grid cells and guides, the regression band, the evidence
// curve, the confusion matrix, class boundaries). The panel
// (app/gp_panel.cpp) draws these results and edits the scene.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "app/platform.h"
#include "core/criticality.h"
#include "core/gp.h"
#include "core/gp_grid.h"
#include "core/scene.h"

namespace fs::ui {

// ---- Keys: a Scene holding only the fields a result depends on (everything else at its default), so
// that == tells whether a result is still current. ----------------------------------------------------
Scene gp_data_key(const Scene& scene);
Scene gp_fit_key(const Scene& scene);    // the data and the network, sigma_n^2 and the readout
Scene gp_grid_key(const Scene& scene);   // the fit's, without sigma_w^2 and depth (the grid spans them)
Scene gp_sweep_key(const Scene& scene);  // the fit's with the swept parameter and its range

bool gp_is_toy(GpData data);  // moons, spirals, XOR, circles
// The readout's first layer/time, or -1 for a single-time readout (also when it is out of range).
int gp_effective_readout_from(const Scene& scene);
// The evidence curve's values of scene.gp.sweep, and the scene's own value of that parameter.
std::vector<double> gp_sweep_values(const Scene& scene);
double gp_scene_sweep_value(const Scene& scene);
// Bytes as "0.17 MiB" / "512 MiB".
std::string gp_mib(double bytes);

// ---- Results ----------------------------------------------------------------------------------------

// The scene's data set.
struct GpTabData {
  Scene key;
  bool valid = false;    // key holds the scene this was made for
  bool loading = false;  // Fashion-MNIST: the platform is still fetching it
  Status status;
  GpProblem problem;
  std::vector<std::string> class_names;
  std::vector<double> classes;  // the distinct training labels, ascending (classification)
  int dim = 0, image_side = 0;
  // 2-D sets: the decision surface's plane (the data's bounding box and 10% on each side).
  bool surface = false;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  int outputs() const;  // GP outputs: 1 (regression, two classes) or one per class
};

// The fit of the scene's data set (gv=fit) and, on 2-D sets, its decision surface.
struct GpFitState {
  Scene key;
  std::unique_ptr<GpJob> job;
  GpResult result;
  bool done = false;
  Status refused;  // not started: over the memory budget
  double memory_bytes = 0;
  bool cancelled = false;
  // Decision surface: the block-kernel job on a side x side grid of the plane, or GpJob on a coarser grid
  // when the readout needs the full two-time kernel. Row-major cells from y0, columns from x0.
  std::unique_ptr<GpSurfaceJob> surface_job;
  std::unique_ptr<GpJob> surface_full;
  int surface_side = 0;
  std::vector<double> surface_values;          // the posterior mean f (one output) or the margin between the two largest outputs
  std::vector<int> surface_class;              // predicted class index per cell
  std::vector<double> boundary_x, boundary_y;  // more than two classes: cell edges between classes, NaN-separated segments
  Status surface_status;
  bool surface_done = false;
  // Classification: the k x k confusion matrix, row = true class index, column = predicted, fraction of the row.
  std::vector<double> confusion;
  int k = 0;

  const Job* surface_running() const;  // the surface job under way, nullptr when none
  bool surface_ready() const;          // surface_values cover the surface_side^2 cells
};

// The last finished fit, kept on screen while the next one computes (so nothing jumps during a drag).
struct GpShownFit {
  GpResult result;
  std::vector<double> x;  // 1-D sets: the test points' x
  GpData dataset = GpData::points;
  bool has = false;
};

// The 1-D regression view's curve: posterior mean and the predictive band mean ± 2 sqrt(var f* + sigma_n^2).
struct GpRegressionBand {
  std::vector<double> x, mean, lower, upper;
};

// Accuracy and evidence over sigma_w^2 x depth (gv=grid).
struct GpGridState {
  Scene key;
  std::unique_ptr<GpPhaseGridJob> job;
  bool cancelled = false;
  Status refused;
  // Cells of the points computed so far, depth-major (row = depth, from 0), NaN where missing; log
  // evidence per training point.
  int columns = 0, rows = 0;
  std::vector<double> accuracy, evidence;
  // Guides: the critical sigma_w^2 at the grid's sigma_b^2, and the trainable depth 6 xi_c over the
  // sigma_w^2 range (capped at 100 x rows, so that the curve leaves the plot continuously).
  CriticalPoint critical;
  std::vector<double> depth_scale_x, depth_scale_y;
};

// The log-evidence curve over one hyperparameter (gv=sweep).
struct GpSweepState {
  Scene key;
  std::unique_ptr<GpEvidenceCurveJob> job;
  bool cancelled = false;
  Status refused;
};
struct GpSweepCurve {
  std::vector<double> x, y;  // y NaN where the point failed
  int best = -1;             // the maximum, -1 when no point succeeded
  int first_failure = -1;    // the first failed point, -1 when none
};
GpSweepCurve gp_sweep_curve(const std::vector<GpEvidencePoint>& points);

struct GpMemoryEstimate {
  bool known = false;  // the data are ready
  double bytes = 0, budget = 0;
  bool over() const { return bytes > budget; }
};

// ---- The jobs ---------------------------------------------------------------------------------------
class GpJobs {
 public:
  explicit GpJobs(const Platform& platform) : platform_(platform) {}
  // Makes the data when their key changed, (re)starts the shown view's job when its key changed (or the
  // data became ready) and advances it for about budget_seconds. Hidden views' jobs pause.
  void update(const Scene& scene, double budget_seconds);
  bool busy(const Scene& scene) const;  // work is pending for the scene's view
  std::size_t budget_bytes() const;     // 512 MiB in the browser, 1 GiB on the desktop

  const GpTabData& data() const { return data_; }
  const GpFitState& fit() const { return fit_; }
  const GpShownFit& shown() const { return shown_; }
  const GpGridState& grid() const { return grid_; }
  const GpSweepState& sweep() const { return sweep_; }
  bool fit_current(const Scene& scene) const { return fit_.key == gp_fit_key(scene); }
  bool grid_current(const Scene& scene) const { return grid_.job && grid_.key == gp_grid_key(scene); }
  bool sweep_current(const Scene& scene) const { return sweep_.job && sweep_.key == gp_sweep_key(scene); }

  // The fit's peak memory before it runs (unknown until the data are ready).
  GpMemoryEstimate memory_estimate(const Scene& scene) const;
  // The shown fit's curve on the 1-D set (empty when there is none) with the band for this sigma_n^2.
  GpRegressionBand regression_band(double sigma_n2) const;

  // Cancel stops a view's job (the partial grid and curve stay); restart forgets it, so that the next
  // update starts it again.
  void cancel_fit();
  void restart_fit() { fit_ = GpFitState{}; }
  void cancel_grid();
  void restart_grid() { grid_ = GpGridState{}; }
  void cancel_sweep();
  void restart_sweep() { sweep_ = GpSweepState{}; }

 private:
  GpSpec spec_for(const Scene& scene) const;
  void make_data(const Scene& scene);
  void start_fit(const Scene& scene);
  void finish_fit();
  void finish_surface();
  void start_grid(const Scene& scene);
  void refresh_grid_cells();
  void start_sweep(const Scene& scene);
  bool fit_busy(const Scene& scene) const;
  bool grid_busy(const Scene& scene) const;
  bool sweep_busy(const Scene& scene) const;

  const Platform& platform_;
  GpTabData data_;
  GpFitState fit_;
  GpShownFit shown_;
  GpGridState grid_;
  GpSweepState sweep_;
};

}  // namespace fs::ui
