// The finite-width tab's plan and job cache (see ensemble_jobs.h).
//
// Sections
//   1. the plan: widths, sweep values, the pair scene, one point per ensemble
//   2. the job cache: want, work (within the budget), progress, cancel
//   3. the 1/N theory of one kernel entry
#include "app/ensemble_jobs.h"

#include <algorithm>
#include <cmath>

#include "core/job.h"
#include "core/scene_specs.h"

namespace fs::ui {

// --- 1. the plan -------------------------------------------------------------------------------------
std::vector<int> plan_widths(int width_min, int width_max) {
  int lo = std::clamp(std::min(width_min, width_max), 1, EnsembleLimits::max_width);
  int hi = std::clamp(std::max(width_min, width_max), 1, EnsembleLimits::max_width);
  std::vector<int> widths;
  for (int n = 1; n <= hi; n *= 2)
    if (n >= lo) widths.push_back(n);
  if (widths.empty()) {
    widths.push_back(lo);
    if (hi != lo) widths.push_back(hi);
  }
  return widths;
}

std::vector<double> plan_sweep_values(EnsembleSweep parameter, double lo, double hi) {
  constexpr int kValues = 6;
  std::vector<double> values;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return values;
  if (lo > hi) std::swap(lo, hi);
  for (int i = 0; i < kValues; ++i) {
    double v = lo + (hi - lo) * i / (kValues - 1);
    if (parameter == EnsembleSweep::depth) v = std::max(1.0, std::round(v));
    if (values.empty() || v != values.back()) values.push_back(v);
  }
  return values;
}

namespace {

// The scene reduced to what one ensemble depends on, with the pair as explicit inputs (0 = a, 1 = b).
Scene pair_scene(const Scene& scene, const InputSet& pair) {
  Scene s;
  s.network = scene.network;
  s.seed = scene.seed;
  s.inputs.kind = InputKind::points;
  s.inputs.count = pair.count;
  s.inputs.steps = pair.steps();
  s.inputs.points.assign(std::size_t(pair.count), {});
  for (int a = 0; a < pair.count; ++a)
    for (int t = 0; t < pair.steps(); ++t)
      for (int i = 0; i < pair.dim; ++i) s.inputs.points[std::size_t(a)].push_back(pair.x[std::size_t(t)](a, i));
  s.view.input_a = 0;
  s.view.input_b = pair.count - 1;
  s.ensemble.width = scene.ensemble.width;
  s.ensemble.members = scene.ensemble.members;
  s.ensemble.sampler = scene.ensemble.sampler;
  s.ensemble.precision = scene.ensemble.precision;
  return s;
}

// The network part of a pair scene (what the 1/N theory depends on).
std::string theory_key(const Scene& s) {
  Scene t = s;
  t.ensemble = EnsembleViewSpec{};
  return scene_to_query(t);
}

EnsemblePoint make_point(const Scene& s, const InputSet& pair, double x) {
  EnsemblePoint p;
  p.arch = s.network.arch;
  p.x = x;
  p.scene = s;
  p.spec = ensemble_spec(s, pair.count);
  p.ensemble_key = scene_to_query(s);
  if (const Status theory = pair_theory_spec(p.spec, pair.gram(), p.theory); !theory.ok()) {
    p.theory_problem = theory.message;
    return p;
  }
  p.theory_key = theory_key(s);
  return p;
}

}  // namespace

EnsemblePlan make_ensemble_plan(const Scene& scene) {
  EnsemblePlan plan;
  plan.view = scene.ensemble.show;
  const InputsResult inputs = scene_inputs(scene);
  if (!inputs.status.ok()) {
    plan.status = inputs.status;
    return plan;
  }
  const InputSet& all = inputs.inputs;
  if (all.count < 1 || all.steps() < 1) {
    plan.status = Status::error(StatusCode::invalid_input, "There are no inputs.");
    return plan;
  }
  plan.input_a = std::clamp(scene.view.input_a, 0, all.count - 1);
  plan.input_b = std::clamp(scene.view.input_b, 0, all.count - 1);
  std::vector<int> rows = {plan.input_a};
  if (plan.input_b != plan.input_a) rows.push_back(plan.input_b);
  plan.pair.count = static_cast<int>(rows.size());
  plan.pair.dim = all.dim;
  for (const Eigen::MatrixXd& x : all.x) {
    Eigen::MatrixXd rows_x(plan.pair.count, all.dim);
    for (int i = 0; i < plan.pair.count; ++i) rows_x.row(i) = x.row(rows[std::size_t(i)]);
    plan.pair.x.push_back(std::move(rows_x));
  }
  const Scene base = pair_scene(scene, plan.pair);
  const EnsembleView view = plan.view;
  if (view == EnsembleView::width || view == EnsembleView::chaos) {
    plan.widths = plan_widths(scene.ensemble.width_min, scene.ensemble.width_max);
    for (Architecture arch : {Architecture::deep, Architecture::recurrent})
      for (int n : plan.widths) {
        Scene s = base;
        s.network.arch = arch;
        s.ensemble.width = n;
        plan.points.push_back(make_point(s, plan.pair, n));
      }
  } else if (view == EnsembleView::sweep) {
    plan.sweep = scene.ensemble.sweep;
    plan.sweep_values = plan_sweep_values(plan.sweep, scene.ensemble.sweep_min, scene.ensemble.sweep_max);
    for (Architecture arch : {Architecture::deep, Architecture::recurrent})
      for (double v : plan.sweep_values) {
        Scene s = base;
        s.network.arch = arch;
        if (plan.sweep == EnsembleSweep::sigma_w2)
          s.network.sigma_w2 = v;
        else if (plan.sweep == EnsembleSweep::sigma_b2)
          s.network.sigma_b2 = v;
        else
          s.network.depth = static_cast<int>(v);
        plan.points.push_back(make_point(s, plan.pair, v));
      }
  } else {
    plan.points.push_back(make_point(base, plan.pair, scene.ensemble.width));
  }
  return plan;
}

// --- 2. the job cache ---------------------------------------------------------------------------------
namespace {
constexpr std::size_t kKeepFinished = 64;  // finished jobs kept for scenes not shown

template <class Map>
void trim(Map& map, long generation) {
  // Unfinished jobs that the plan no longer wants are dropped (their inputs changed); finished ones
  // stay, the least recently used going first beyond the limit.
  for (auto it = map.begin(); it != map.end();)
    if (it->second.last_used != generation && it->second.job->progress() < 1.0)
      it = map.erase(it);
    else
      ++it;
  while (map.size() > kKeepFinished) {
    auto oldest = map.end();
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->second.last_used != generation && (oldest == map.end() || it->second.last_used < oldest->second.last_used))
        oldest = it;
    if (oldest == map.end()) break;
    map.erase(oldest);
  }
}
}  // namespace

void EnsembleJobs::want(const EnsemblePlan& plan) {
  ++generation_;
  for (const EnsemblePoint& p : plan.points) {
    EnsembleEntry& e = ensembles_[p.ensemble_key];
    if (!e.job) e.job = std::make_unique<EnsembleJob>(p.spec, plan.pair);
    e.last_used = generation_;
    if (p.theory_key.empty()) continue;
    TheoryEntry& t = theories_[p.theory_key];
    if (!t.job) t.job = std::make_unique<FiniteWidthJob>(p.theory);
    t.last_used = generation_;
  }
  trim(ensembles_, generation_);
  trim(theories_, generation_);
}

void EnsembleJobs::work(const EnsemblePlan& plan, double budget_seconds) {
  const auto start = std::chrono::steady_clock::now();
  auto remaining = [&] {
    return budget_seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto first_unfinished_theory = [&]() -> FiniteWidthJob* {
    for (const EnsemblePoint& p : plan.points)
      if (auto it = theories_.find(p.theory_key);
          !p.theory_key.empty() && it != theories_.end() && it->second.job->progress() < 1.0)
        return it->second.job.get();
    return nullptr;
  };
  auto first_unfinished_ensemble = [&]() -> EnsembleJob* {
    for (const EnsemblePoint& p : plan.points)
      if (auto it = ensembles_.find(p.ensemble_key); it != ensembles_.end() && it->second.job->progress() < 1.0)
        return it->second.job.get();
    return nullptr;
  };
  // The theory (a few jobs) and the ensembles advance side by side: the theory gets 40% of the budget
  // while ensembles are pending, everything otherwise.
  bool first = true;
  while (first || remaining() > 0) {
    first = false;
    FiniteWidthJob* theory = first_unfinished_theory();
    EnsembleJob* ensemble = first_unfinished_ensemble();
    if (!theory && !ensemble) return;
    if (theory) theory->step(ensemble ? 0.4 * std::max(remaining(), 0.0) : std::max(remaining(), 0.0));
    if (ensemble && remaining() > 0)
      ensemble->step(remaining());
    else if (ensemble && !theory)
      ensemble->step(0.0);
  }
}

bool EnsembleJobs::busy(const EnsemblePlan& plan) const { return unfinished(plan) > 0; }

int EnsembleJobs::unfinished(const EnsemblePlan& plan) const {
  int count = 0;
  for (const EnsemblePoint& p : plan.points) {
    auto e = ensembles_.find(p.ensemble_key);
    if (e == ensembles_.end() || e->second.job->progress() < 1.0) ++count;
  }
  std::vector<std::string> seen;
  for (const EnsemblePoint& p : plan.points) {
    if (p.theory_key.empty() || std::find(seen.begin(), seen.end(), p.theory_key) != seen.end()) continue;
    seen.push_back(p.theory_key);
    auto t = theories_.find(p.theory_key);
    if (t == theories_.end() || t->second.job->progress() < 1.0) ++count;
  }
  return count;
}

int EnsembleJobs::total(const EnsemblePlan& plan) const {
  std::vector<std::string> seen;
  int count = static_cast<int>(plan.points.size());
  for (const EnsemblePoint& p : plan.points)
    if (!p.theory_key.empty() && std::find(seen.begin(), seen.end(), p.theory_key) == seen.end()) {
      seen.push_back(p.theory_key);
      ++count;
    }
  return count;
}

double EnsembleJobs::progress(const EnsemblePlan& plan) const {
  double sum = 0;
  int count = 0;
  std::vector<std::string> seen;
  for (const EnsemblePoint& p : plan.points) {
    auto e = ensembles_.find(p.ensemble_key);
    sum += e == ensembles_.end() ? 0.0 : e->second.job->progress();
    ++count;
    if (p.theory_key.empty() || std::find(seen.begin(), seen.end(), p.theory_key) != seen.end()) continue;
    seen.push_back(p.theory_key);
    auto t = theories_.find(p.theory_key);
    sum += t == theories_.end() ? 0.0 : t->second.job->progress();
    ++count;
  }
  return count ? sum / count : 1.0;
}

void EnsembleJobs::cancel(const EnsemblePlan& plan) {
  for (const EnsemblePoint& p : plan.points) {
    if (auto e = ensembles_.find(p.ensemble_key); e != ensembles_.end() && e->second.job->progress() < 1.0) {
      e->second.job->cancel();  // the next work() records it (with the partial statistics)
    }
    if (auto t = theories_.find(p.theory_key); !p.theory_key.empty() && t != theories_.end() && t->second.job->progress() < 1.0) {
      t->second.job->cancel();
    }
  }
}

bool EnsembleJobs::any_cancelled(const EnsemblePlan& plan) const {
  for (const EnsemblePoint& p : plan.points) {
    if (const EnsembleResult* r = ensemble(p); r && r->status.code == StatusCode::cancelled) return true;
    if (auto t = theories_.find(p.theory_key); !p.theory_key.empty() && t != theories_.end() && t->second.job->cancelled())
      return true;
  }
  return false;
}

void EnsembleJobs::forget_cancelled(const EnsemblePlan& plan) {
  for (const EnsemblePoint& p : plan.points) {
    if (auto e = ensembles_.find(p.ensemble_key); e != ensembles_.end() && e->second.job->cancelled()) ensembles_.erase(e);
    if (auto t = theories_.find(p.theory_key); !p.theory_key.empty() && t != theories_.end() && t->second.job->cancelled())
      theories_.erase(t);
  }
}

const EnsembleResult* EnsembleJobs::ensemble(const EnsemblePoint& point) const {
  auto e = ensembles_.find(point.ensemble_key);
  return e == ensembles_.end() ? nullptr : &e->second.job->result();
}

bool EnsembleJobs::ensemble_done(const EnsemblePoint& point) const {
  auto e = ensembles_.find(point.ensemble_key);
  return e != ensembles_.end() && e->second.job->progress() >= 1.0;
}

const FiniteWidthResult* EnsembleJobs::theory(const EnsemblePoint& point) const {
  if (point.theory_key.empty()) return nullptr;
  auto t = theories_.find(point.theory_key);
  if (t == theories_.end() || t->second.job->progress() < 1.0) return nullptr;
  return &t->second.job->result();
}

const LyapunovTheory* EnsembleJobs::lyapunov_theory(const EnsemblePoint& point) const {
  const FiniteWidthResult* result = theory(point);
  if (!result) return nullptr;
  const TheoryEntry& t = theories_.at(point.theory_key);
  if (!t.lyapunov) t.lyapunov = std::make_unique<LyapunovTheory>(fs::lyapunov_theory(point.theory.network, *result));
  return t.lyapunov.get();
}

bool EnsembleJobs::theory_done(const EnsemblePoint& point) const {
  if (point.theory_key.empty()) return true;
  auto t = theories_.find(point.theory_key);
  return t != theories_.end() && t->second.job->progress() >= 1.0;
}

}  // namespace fs::ui
