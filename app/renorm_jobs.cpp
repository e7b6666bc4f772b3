// The finite-width learning tab's jobs (app/renorm_jobs.h).
#include "app/renorm_jobs.h"

#include "core/job.h"
#include "core/renorm_scene.h"

namespace fs::ui {

// Interactive tolerances, far below what the table (5 digits) and the curves resolve: the fixed point's
// residual moves eps_g by about as much.
constexpr double kSolveTolerance = 1e-10;
constexpr double kSweepTolerance = 1e-8;

Scene renorm_data_key(const Scene& scene) {
  Scene key;
  const RenormViewSpec& r = scene.renorm;
  key.seed = scene.seed;
  key.renorm.task = r.task;
  switch (r.task) {
    case RenormTask::teacher:
    case RenormTask::template_model:
      key.renorm.dim = r.dim;
      key.renorm.noise = r.noise;
      key.renorm.tasks = r.tasks;
      key.renorm.task_gates = r.task_gates;
      [[fallthrough]];
    case RenormTask::fashion_mnist:
      key.renorm.train = r.train;
      key.renorm.test = r.test;
      if (r.task == RenormTask::fashion_mnist) key.renorm.classes = r.classes, key.renorm.downsample = r.downsample;
      break;
    case RenormTask::csv: key.renorm.points = r.points; break;
  }
  return key;
}

Scene renorm_solve_key(const Scene& scene) {
  Scene key = renorm_data_key(scene);
  const RenormViewSpec& r = scene.renorm;
  RenormViewSpec& k = key.renorm;
  k.layers = r.layers;
  k.width = r.width;
  k.gates = r.gates;
  k.readout = r.readout;
  k.sharing = r.sharing;
  k.sigma2 = r.sigma2;
  k.temperature = r.temperature;
  k.gate_kind = r.gate_kind;
  k.threshold = r.threshold;
  return key;
}

Scene renorm_sweep_key(const Scene& scene) {
  Scene key = renorm_solve_key(scene);
  RenormViewSpec& k = key.renorm;
  const RenormViewSpec defaults;
  switch (scene.renorm.sweep) {
    case RenormSweepParameter::width: k.width = defaults.width; break;
    case RenormSweepParameter::sigma2: k.sigma2 = defaults.sigma2; break;
    case RenormSweepParameter::temperature: k.temperature = defaults.temperature; break;
    case RenormSweepParameter::depth: k.layers = defaults.layers; break;
    case RenormSweepParameter::gates: k.gates = defaults.gates; break;
    case RenormSweepParameter::tasks: k.tasks = defaults.tasks; break;
  }
  k.sweep = scene.renorm.sweep;
  k.sweep_min = scene.renorm.sweep_min;
  k.sweep_max = scene.renorm.sweep_max;
  k.sweep_points = scene.renorm.sweep_points;
  return key;
}

Scene renorm_simulation_key(const Scene& scene) {
  Scene key = renorm_solve_key(scene);
  key.renorm.width = RenormViewSpec{}.width;
  key.renorm.simulation = scene.renorm.simulation;
  key.renorm.chains = scene.renorm.chains;
  key.renorm.samples = scene.renorm.samples;
  return key;
}

std::size_t RenormJobs::budget_bytes() const { return platform_.name == "web" ? std::size_t(512) << 20 : std::size_t(1) << 30; }

const RenormResult* RenormJobs::solve(const Scene& scene) const {
  return has_solve_ && solve_done_ && solve_key_ == renorm_solve_key(scene) ? &solve_result_ : nullptr;
}

const RenormSweepJob* RenormJobs::sweep(const Scene& scene) const {
  return has_sweep_ && sweep_job_ && sweep_key_ == renorm_sweep_key(scene) ? sweep_job_.get() : nullptr;
}

const RenormSweepJob* RenormJobs::comparison(const Scene& scene, GateKind kind) const {
  const int k = static_cast<int>(kind);
  if (k < 0 || k >= kGateKinds || kind == scene.renorm.gate_kind || scene.renorm.compare != RenormCompare::gate_kinds)
    return nullptr;
  return sweep(scene) ? comparison_jobs_[k].get() : nullptr;
}

const RenormSweepJob* RenormJobs::other_task_gates(const Scene& scene) const {
  return sweep(scene) && scene.renorm.sweep == RenormSweepParameter::tasks ? other_task_gates_job_.get() : nullptr;
}

const std::vector<RenormSimulationPoint>& RenormJobs::simulations(const Scene& scene) const {
  static const std::vector<RenormSimulationPoint> none;
  return has_simulation_key_ && simulation_key_ == renorm_simulation_key(scene) ? simulations_ : none;
}

const PosteriorSamplingJob* RenormJobs::simulation_running(const Scene& scene) const {
  return simulation_job_ && has_simulation_key_ && simulation_key_ == renorm_simulation_key(scene) &&
                 simulation_width_ == scene.renorm.width
             ? simulation_job_.get()
             : nullptr;
}

void RenormJobs::cancel_simulation() {
  simulation_job_.reset();
  simulation_cancelled_ = true;  // for this width (simulation_width_) until a setting changes
}

void RenormJobs::cancel_sweep() {
  if (sweep_job_) sweep_job_->cancel();
  if (other_task_gates_job_) other_task_gates_job_->cancel();
  for (auto& job : comparison_jobs_)
    if (job) job->cancel();
  sweep_cancelled_ = true;
}

bool RenormJobs::busy(const Scene& scene) const {
  if (!has_data_ || !(data_key_ == renorm_data_key(scene)) || data_loading_) return true;
  if (!data_.status.ok()) return false;
  if (!solve(scene) && !(has_solve_ && solve_key_ == renorm_solve_key(scene) && solve_done_)) return true;
  const RenormSweepJob* s = sweep(scene);
  if (!s && !sweep_cancelled_) return true;
  if (s && s->progress() < 1.0 && !sweep_cancelled_) return true;
  if (s && other_task_gates_job_ && other_task_gates_job_->progress() < 1.0 && !sweep_cancelled_) return true;
  if (s && !sweep_cancelled_ && scene.renorm.compare == RenormCompare::gate_kinds)
    for (int k = 0; k < kGateKinds; ++k)
      if (static_cast<GateKind>(k) != scene.renorm.gate_kind && (!comparison_jobs_[k] || comparison_jobs_[k]->progress() < 1.0))
        return true;
  if (scene.renorm.simulation == RenormSimulation::off || !solve_result_.status.ok()) return false;
  if (simulation_cancelled_ && simulation_width_ == scene.renorm.width) return false;
  for (const RenormSimulationPoint& p : simulations(scene))
    if (p.width == scene.renorm.width) return false;
  return true;
}

void RenormJobs::update(const Scene& scene, double budget_seconds) {
  SliceTimer timer(budget_seconds);
  // The data.
  const Scene data_key = renorm_data_key(scene);
  if (!has_data_ || !(data_key_ == data_key) || data_loading_) {
    data_key_ = data_key;
    has_data_ = true;
    data_loading_ = false;
    std::string dir = kFashionMnistDir, error;
    if (scene.renorm.task == RenormTask::fashion_mnist) dir = packaged_data_dir(platform_, "fashion-mnist", error);
    if (dir.empty()) {
      data_loading_ = error.empty();
      data_ = RenormSceneData{data_loading_ ? Status::success() : Status::error(StatusCode::invalid_input, error), {}};
    } else {
      data_ = renorm_scene_data(scene, dir);
    }
    has_solve_ = has_sweep_ = false;
    has_simulation_key_ = false;
    solve_job_.reset();
    sweep_job_.reset();
    simulation_job_.reset();
    simulations_.clear();
  }
  if (!data_.status.ok() || data_loading_) return;
  const RenormProblem& problem = data_.problem;
  RenormSpec spec = renorm_spec(scene);
  spec.memory_budget_bytes = budget_bytes();
  spec.tolerance = kSolveTolerance;
  // The theory at the tab's width.
  const Scene solve_key = renorm_solve_key(scene);
  if (!has_solve_ || !(solve_key_ == solve_key)) {
    solve_key_ = solve_key;
    has_solve_ = true;
    solve_done_ = false;
    // Warm start from the last answer when only the width, sigma^2 or T moved (the shapes then agree).
    std::vector<Eigen::MatrixXd> warm;
    if (solve_result_.status.ok()) warm = solve_result_.order_parameters;
    solve_job_ = std::make_unique<RenormJob>(spec, problem, std::move(warm));
  }
  if (!solve_done_) {
    if (!solve_job_->step(std::max(0.0, budget_seconds))) return;
    solve_result_ = solve_job_->result();
    solve_done_ = true;
    solve_job_.reset();
    if (timer.expired()) return;
  }
  // The sweep, drawn as it goes.
  const Scene sweep_key = renorm_sweep_key(scene);
  if (!has_sweep_ || !(sweep_key_ == sweep_key)) {
    sweep_key_ = sweep_key;
    has_sweep_ = true;
    sweep_cancelled_ = false;
    sweep_values_ = renorm_sweep_values(scene);
    RenormSpec sweep_spec = spec;
    sweep_spec.tolerance = kSweepTolerance;
    if (scene.renorm.sweep == RenormSweepParameter::tasks) {
      sweep_job_ = std::make_unique<RenormSweepJob>(sweep_spec, renorm_tasks_problem(scene), scene.renorm.sweep, sweep_values_);
      // The other way of gating the tasks, beside it.
      Scene other = scene;
      other.renorm.task_gates = scene.renorm.task_gates == RenormTaskGates::own ? RenormTaskGates::shared : RenormTaskGates::own;
      other_task_gates_job_ =
          std::make_unique<RenormSweepJob>(sweep_spec, renorm_tasks_problem(other), scene.renorm.sweep, sweep_values_);
    } else {
      sweep_job_ = std::make_unique<RenormSweepJob>(sweep_spec, problem, scene.renorm.sweep, sweep_values_);
      other_task_gates_job_.reset();
    }
    for (auto& job : comparison_jobs_) job.reset();
  }
  if (sweep_job_ && !sweep_cancelled_ && sweep_job_->progress() < 1.0) {
    if (!sweep_job_->step(std::max(0.0, budget_seconds * 0.5))) return;
    if (timer.expired()) return;
  }
  if (other_task_gates_job_ && !sweep_cancelled_ && other_task_gates_job_->progress() < 1.0) {
    if (!other_task_gates_job_->step(std::max(0.0, budget_seconds * 0.5))) return;
    if (timer.expired()) return;
  }
  // The other kinds of gate vectors over the same sweep, one after the other.
  if (sweep_job_ && !sweep_cancelled_ && scene.renorm.compare == RenormCompare::gate_kinds)
    for (int k = 0; k < kGateKinds; ++k) {
      if (static_cast<GateKind>(k) == scene.renorm.gate_kind) continue;
      if (!comparison_jobs_[k]) {
        RenormSpec other = spec;
        other.tolerance = kSweepTolerance;
        other.gates.kind = static_cast<GateKind>(k);
        comparison_jobs_[k] = std::make_unique<RenormSweepJob>(other, problem, scene.renorm.sweep, sweep_values_);
      }
      if (comparison_jobs_[k]->progress() < 1.0) {
        if (!comparison_jobs_[k]->step(std::max(0.0, budget_seconds * 0.5))) return;
        if (timer.expired()) return;
      }
    }
  // Finite networks at the tab's width, with the solve's gate vectors.
  if (scene.renorm.simulation == RenormSimulation::off || !solve_result_.status.ok()) return;
  const Scene simulation_key = renorm_simulation_key(scene);
  if (!has_simulation_key_ || !(simulation_key_ == simulation_key)) {
    simulation_key_ = simulation_key;
    has_simulation_key_ = true;
    simulations_.clear();
    simulation_job_.reset();
    simulation_cancelled_ = false;
  }
  for (const RenormSimulationPoint& p : simulations_)
    if (p.width == scene.renorm.width) return;
  if (simulation_width_ != scene.renorm.width) {
    simulation_job_.reset();
    simulation_cancelled_ = false;
  }
  if (simulation_cancelled_) return;
  if (!simulation_job_) {
    const SamplingSpec sampling = renorm_sampling_spec(scene);
    const SamplingProblem sp{problem.x_train,      problem.x_test, problem.y_train, problem.y_test, solve_result_.gate_vectors,
                             spec.gates.threshold, problem.tasks};
    simulation_width_ = scene.renorm.width;
    simulation_job_ = std::make_unique<PosteriorSamplingJob>(spec.network, sampling, sp);
    const double bytes = sampling_memory_bytes(spec.network, sampling, static_cast<int>(problem.x_train.rows()),
                                               static_cast<int>(problem.x_test.rows()), static_cast<int>(problem.x_train.cols()));
    if (bytes > double(budget_bytes())) {
      simulations_.push_back({simulation_width_, SamplingResult{}, solve_result_});
      simulations_.back().result.status =
          Status::error(StatusCode::too_large, "The simulation would need more memory than the budget.");
      simulation_job_.reset();
      return;
    }
  }
  if (simulation_job_->step(std::max(0.0, budget_seconds))) {
    simulations_.push_back({simulation_width_, simulation_job_->result(), solve_result_});
    simulation_job_.reset();
  }
}

}  // namespace fs::ui
