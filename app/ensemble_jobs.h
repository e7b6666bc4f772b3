// The finite-width tab's computations (no ImGui): from a scene to the ensembles and 1/N-theory jobs its
// view needs (the "plan"), and a cache of those jobs keyed by everything they depend on, advanced within
// the frame's budget. Panels read the results; the cache keeps finished jobs of recent scenes, so going
// back to a view or a parameter shows it at once, and restarts a job only when its inputs change.
//
// Every ensemble simulates the followed pair (a, b) only (P = 2, or P = 1 when a = b): the 1/N theory of
// core/finite_width.h covers P <= 2, and the pair is all the views show. Its "pair scene" is the scene
// with the two inputs as explicit points, so `fieldscope-cli ensemble --link PAIR_LINK` reproduces it.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/ensemble.h"
#include "core/finite_width.h"
#include "core/lyapunov_theory.h"
#include "core/scene.h"

namespace fs::ui {

// One ensemble of the plan and, where it applies, its 1/N theory.
struct EnsemblePoint {
  Architecture arch = Architecture::deep;
  double x = 0;              // the plotted coordinate: N (width, chaos), the swept parameter (sweep)
  Scene scene;               // the pair scene of this point (its link reproduces the ensemble in the CLI)
  EnsembleSpec spec;         // width, members, sampler, precision set
  std::string ensemble_key;  // cache keys
  std::string theory_key;    // empty: no 1/N theory (theory_problem says why)
  FiniteWidthSpec theory;
  std::string theory_problem;
};

struct EnsemblePlan {
  EnsembleView view = EnsembleView::histograms;
  Status status;                 // e.g. the inputs could not be made: nothing runs
  InputSet pair;                 // the followed pair's inputs (1 or 2 of them)
  int input_a = 0, input_b = 0;  // the pair in the scene's numbering
  std::vector<EnsemblePoint> points;
  EnsembleSweep sweep = EnsembleSweep::sigma_w2;  // the sweep view's parameter
  std::vector<double> sweep_values;
  std::vector<int> widths;  // width / chaos views
};

// The plan of the scene's finite-width view. Widths: the powers of two in [width_min, width_max] (the two
// ends when there are none); sweep: 6 values evenly spread (integers for depth).
EnsemblePlan make_ensemble_plan(const Scene& scene);
std::vector<int> plan_widths(int width_min, int width_max);
std::vector<double> plan_sweep_values(EnsembleSweep parameter, double lo, double hi);

class EnsembleJobs {
 public:
  // Creates the plan's missing jobs, drops unfinished jobs it no longer needs and forgets the least
  // recently used finished ones beyond a limit.
  void want(const EnsemblePlan& plan);
  // Advances the plan's unfinished jobs, in plan order, for about budget_seconds.
  void work(const EnsemblePlan& plan, double budget_seconds);
  bool busy(const EnsemblePlan& plan) const;
  double progress(const EnsemblePlan& plan) const;  // mean progress over the plan's jobs
  int unfinished(const EnsemblePlan& plan) const;
  int total(const EnsemblePlan& plan) const;
  void cancel(const EnsemblePlan& plan);
  bool any_cancelled(const EnsemblePlan& plan) const;
  void forget_cancelled(const EnsemblePlan& plan);  // they start again at the next want()

  // Results (nullptr when the job does not exist); the ensemble's is partial while it runs.
  const EnsembleResult* ensemble(const EnsemblePoint& point) const;
  bool ensemble_done(const EnsemblePoint& point) const;
  // The theory only once complete (FiniteWidthJob fills its layers at the end).
  const FiniteWidthResult* theory(const EnsemblePoint& point) const;
  // The 1/N theory of the Lyapunov exponent of input a from that theory (core/lyapunov_theory.h): computed
  // once per finished theory (a few ms of quadrature), nullptr until the theory is complete.
  const LyapunovTheory* lyapunov_theory(const EnsemblePoint& point) const;
  bool theory_done(const EnsemblePoint& point) const;

 private:
  struct EnsembleEntry {
    std::unique_ptr<EnsembleJob> job;
    long last_used = 0;
  };
  struct TheoryEntry {
    std::unique_ptr<FiniteWidthJob> job;
    long last_used = 0;
    mutable std::unique_ptr<LyapunovTheory> lyapunov;  // from the finished job, on first use
  };
  std::map<std::string, EnsembleEntry> ensembles_;
  std::map<std::string, TheoryEntry> theories_;
  long generation_ = 0;
};

}  // namespace fs::ui
