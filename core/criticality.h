// Signal propagation and the order-to-chaos transition (docs/theory.md §3; Poole et al. 2016,
// Schoenholz et al. 2017): length and correlation maps, fixed points, chi_1, chi_c, depth scales,
// the largest Lyapunov exponent, the critical line and phase-diagram grids.
#pragma once
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "core/activations.h"
#include "core/job.h"
#include "core/network.h"
#include "core/status.h"

namespace fs {

// The maps read the network's activation, sigma_w^2 and sigma_b^2 (the fixed point does not depend on the
// input layer or the depth).

enum class Phase { ordered, critical, chaotic, diverged };
const char* phase_name(Phase phase);

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct FixedPoint {
  double q_star = 0;      // fixed point of the length map
  double c_star = 1;      // stable fixed point of the correlation map (1 in the ordered phase)
  double chi_1 = 0;       // slope of the c-map at c = 1: sigma_w^2 E[phi'(u)^2]
  double chi_c = 0;       // slope of the c-map at c*: sigma_w^2 E[phi'(u1) phi'(u2)]
  double q_slope = 0;     // slope of the length map at q*
  double xi_q = 0;        // -1 / ln(q_slope)
  double xi_c = 0;        // -1 / ln(chi_c); infinite on the critical line
  double lambda_max = 0;  // (1/2) ln chi_1 per layer: growth rate of perturbation amplitudes
  Phase phase = Phase::ordered;
  Status status;  // diverged (q* infinite) or a note on degenerate cases
};

// Length map q -> sigma_b^2 + sigma_w^2 E[phi(sqrt(q) z)^2].
double q_map(const Network& p, double q);
// Correlation map at fixed variance q: c -> (sigma_b^2 + sigma_w^2 E[phi(u1) phi(u2)]) / q, corr(u1,u2) = c.
double c_map(const Network& p, double q, double c);

FixedPoint fixed_point(const Network& p);

// The one-variable Gaussian means a fixed point needs, as functions of q (u ~ N(0, q)). The direct set
// evaluates each by quadrature or closed form (activations.h) and is the reference; the tabulated set
// interpolates the same functions (core/gaussian_table.h) for the activations without closed forms,
// with q*, c* and chi_1 within 1e-10 of the reference (tests/test_criticality.cpp); `fieldscope bench`
// times both on a phase diagram.
struct GaussianMeans {
  std::function<double(double)> phi_sq;        // E[phi(u)^2]
  std::function<double(double)> dphi_sq;       // E[phi'(u)^2]
  std::function<double(double)> phi_sq_slope;  // d/dq E[phi(u)^2]
  // The Hermite coefficients b_0(q) .. b_{m-1}(q) of phi(sqrt(q) z) (core/gaussian.h), every one the
  // quadrature resolves, for the correlation map of the chaotic phase: E[phi(u1) phi(u2)] =
  // sum_k b_k^2 c^k and, by Price's theorem, E[phi'(u1) phi'(u2)] = (1/q) sum_k k b_k^2 c^(k-1).
  // Unset in the direct set: fixed_point then expands phi at q* itself (and phi' for chi_c).
  std::function<void(double, std::vector<double>&)> phi_coefficients;
};
GaussianMeans direct_means(const Activation& act);
// Tables are cached per activation (built lazily, octave by octave, and kept for the process); the
// activations with closed forms get their direct means. Thread-safe.
std::shared_ptr<const GaussianMeans> tabulated_means(const Activation& act);
// fixed_point(p) is fixed_point(p, direct_means(p.activation)).
FixedPoint fixed_point(const Network& p, const GaussianMeans& means);

// Two inputs propagated through the mean-field recursion: q^l of each and their correlation c^l.
struct SignalTrajectory {
  std::vector<double> q1, q2, covariance, correlation;  // index = layer 0..L
  Status status;
};
SignalTrajectory signal_trajectory(const Network& p, double q1, double q2, double covariance, int layers);

// Iterates of a one-dimensional map (the cobweb of the q-map or the c-map at q*).
std::vector<double> q_iterates(const Network& p, double q0, int steps);
std::vector<double> c_iterates(const Network& p, double q_star, double c0, int steps);

// sigma_w^2 at which chi_1 = 1 for this sigma_b^2.
struct CriticalPoint {
  double sigma_b2 = 0;
  double sigma_w2 = 0;  // valid when status is ok
  Status status;
};
// critical_point(act, b2) is the reference (direct means); the line uses the tabulated means (the
// phase diagram's), a few microseconds a point instead of milliseconds, within 1e-10 of the reference.
CriticalPoint critical_point(const Activation& act, double sigma_b2);
CriticalPoint critical_point(const Activation& act, double sigma_b2, const GaussianMeans& means);
std::vector<CriticalPoint> critical_line(const Activation& act, const std::vector<double>& sigma_b2_values);

// Phase diagram over a (sigma_w^2, sigma_b^2) grid; cell (i, j) = (column i, row j) at index j * columns + i.
struct PhaseDiagramSpec {
  Activation activation;
  double sigma_w2_min = 0.5, sigma_w2_max = 4.0;
  double sigma_b2_min = 0.0, sigma_b2_max = 1.0;
  int columns = 64, rows = 64;
};
struct PhaseDiagram {
  PhaseDiagramSpec spec;
  std::vector<double> q_star, c_star, chi_1, chi_c, xi_c, lambda_max;
  std::vector<Phase> phase;
  std::vector<char> done;  // cells computed so far (the job fills the grid coarse to fine)
  // Every cell (i, j) with i and j multiples of this stride is done (0: not even the coarsest level).
  int complete_stride = 0;
  double sigma_w2(int column) const;
  double sigma_b2(int row) const;
  // The cell whose values stand in for cell k while the grid fills: the corner of k's block at the
  // finest stride (1, 2, 4, ...) whose corner is done, so that a level in progress shows whole blocks
  // of its own (not single cells among coarser blocks); -1 before the coarsest level is done.
  int shown_cell(int k) const;
};

// The job computes the grid coarse to fine: first every cell whose column and row are multiples of a
// stride chosen so that this level has at most 32 x 32 cells (a whole, blocky picture a few tens of ms
// after a change), then the cells of each halved stride, down to 1. The values do not depend on the
// order, the thread count or the slicing.
class PhaseDiagramJob : public Job {
 public:
  explicit PhaseDiagramJob(const PhaseDiagramSpec& spec);
  bool step(double budget_seconds) override;
  double progress() const override;
  const PhaseDiagram& result() const { return result_; }
  PhaseDiagram take_result() { return std::move(result_); }
  const Status& status() const { return status_; }

 private:
  PhaseDiagram result_;
  Status status_;
  std::vector<int> order_;                     // cell indices, coarse to fine
  std::vector<int> level_end_, level_stride_;  // order_[.. level_end_[l]) completes stride level_stride_[l]
  int next_ = 0;
  std::shared_ptr<const GaussianMeans> means_;  // tabulated_means of the activation
};

PhaseDiagram phase_diagram(const PhaseDiagramSpec& spec);

// Brent's method on [a, b] with f(a), f(b) of opposite signs (or one zero).
double brent_root(const std::function<double(double)>& f, double a, double b, double tolerance = 1e-14, int max_iterations = 200);

}  // namespace fs
