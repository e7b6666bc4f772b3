// The finite-width learning tab's computations (no ImGui): the data set of the scene, the theory at
// the tab's width (order parameters, predictions), the theory over the sweep (drawn as it goes), and finite
// networks sampled from the posterior at the tab's width. Each is kept with the key of the scene fields it
// depends on and restarted only when that key changes; simulations of earlier widths are kept while
// nothing else changes, so the error-vs-N view gathers simulation points as the user moves the width.
// The panel (app/renorm_panel.cpp) draws these results and edits the scene.
#pragma once
#include <memory>
#include <vector>

#include "app/platform.h"
#include "core/posterior_sampling.h"
#include "core/renorm_scene.h"
#include "core/renormalization.h"
#include "core/scene.h"

namespace fs::ui {

// Keys: a Scene holding only the fields a result depends on.
Scene renorm_data_key(const Scene& scene);
Scene renorm_solve_key(const Scene& scene);       // the data, the network, sigma^2, T, the gates
Scene renorm_sweep_key(const Scene& scene);       // the solve's without the swept field, with the sweep
Scene renorm_simulation_key(const Scene& scene);  // the solve's without the width, with the simulation settings

struct RenormSimulationPoint {
  int width = 0;
  SamplingResult result;
  RenormResult theory;  // at this width, for chi^2 and U-hat - U
};

class RenormJobs {
 public:
  explicit RenormJobs(const Platform& platform) : platform_(platform) {}
  // Starts or restarts what the scene needs and works for about `budget_seconds`: the data, the solve at
  // the tab's width, the sweep, then the simulation.
  void update(const Scene& scene, double budget_seconds);
  bool busy(const Scene& scene) const;
  std::size_t budget_bytes() const;  // 512 MiB in the browser, 1 GiB on the desktop

  const Status& data_status() const { return data_.status; }
  bool data_loading() const { return data_loading_; }  // Fashion-MNIST: the platform is still fetching it
  const RenormProblem& data() const { return data_.problem; }
  // The theory at the tab's width: null until done for the scene's solve key.
  const RenormResult* solve(const Scene& scene) const;
  const RenormSweepJob* sweep(const Scene& scene) const;  // null unless made for the scene's sweep key
  // rcmp=gates: the sweep with the other kinds of gate vectors (random, PCA, k-means), run after the
  // scene's own; null for the scene's kind and until started.
  const RenormSweepJob* comparison(const Scene& scene, GateKind kind) const;
  // A sweep over the number of tasks K: the same sweep with the other way of gating the tasks (own or shared).
  const RenormSweepJob* other_task_gates(const Scene& scene) const;
  const std::vector<double>& sweep_values() const { return sweep_values_; }
  // Finished simulations for the scene's simulation key (one per width), and the one under way.
  const std::vector<RenormSimulationPoint>& simulations(const Scene& scene) const;
  const PosteriorSamplingJob* simulation_running(const Scene& scene) const;
  bool simulation_cancelled() const { return simulation_cancelled_; }
  void cancel_simulation();
  void cancel_sweep();
  bool sweep_cancelled() const { return sweep_cancelled_; }

 private:
  const Platform& platform_;
  Scene data_key_, solve_key_, sweep_key_, simulation_key_;
  bool has_data_ = false, has_solve_ = false, has_sweep_ = false, has_simulation_key_ = false;
  RenormSceneData data_;
  bool data_loading_ = false;
  std::unique_ptr<RenormJob> solve_job_;
  RenormResult solve_result_;
  bool solve_done_ = false;
  std::unique_ptr<RenormSweepJob> sweep_job_;
  static constexpr int kGateKinds = 3;                           // hyperplane, pca, kmeans
  std::unique_ptr<RenormSweepJob> comparison_jobs_[kGateKinds];  // made for sweep_key_ (rcmp=gates)
  std::unique_ptr<RenormSweepJob> other_task_gates_job_;         // made for sweep_key_ (rsw=K)
  std::vector<double> sweep_values_;
  bool sweep_cancelled_ = false;
  std::vector<RenormSimulationPoint> simulations_;
  std::unique_ptr<PosteriorSamplingJob> simulation_job_;
  int simulation_width_ = 0;
  bool simulation_cancelled_ = false;
};

}  // namespace fs::ui
