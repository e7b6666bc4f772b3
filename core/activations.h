// Activation functions phi with phi', phi'' and their Gaussian expectations.
//
// For (u, v) bivariate normal with variances q1, q2 and covariance c:
//   pair_expectation(act, q1, q2, c)            = E[phi(u) phi(v)]
//   pair_derivative_expectation(act, q1, q2, c) = E[phi'(u) phi'(v)]
// Closed forms where they exist (docs/theory.md §2.2); otherwise accurate quadrature and Hermite
// series (gaussian.h, which knows nothing of activations). PairIntegrator (below) is the vectorised
// fast path of the same expectations that the kernel recursions use.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/gaussian.h"

namespace fs {

enum class ActivationKind {
  linear,
  relu,
  leaky_relu,
  erf,
  tanh,
  sigmoid,
  sign,
  step,
  sin,
  cos,
  softplus,
  gelu,
};

struct Activation {
  ActivationKind kind = ActivationKind::tanh;
  // Shape parameter: the scale a of erf(a x), the negative slope of leaky ReLU; ignored otherwise.
  double param = 1.0;

  bool operator==(const Activation&) const = default;

  double phi(double x) const;
  double dphi(double x) const;   // phi'  (0 at kinks of step/sign: the delta parts are handled analytically)
  double d2phi(double x) const;  // phi'' (smooth activations; 0 for piecewise-linear ones)
  // y[i] = phi(x[i]) for a batch, in the batch's precision: vectorised for tanh (fast_math.h, a few
  // ulp) and the piecewise-linear kinds (exact), phi() element by element otherwise. x and y may alias.
  void phi_batch(const double* x, double* y, std::size_t count) const;
  void phi_batch(const float* x, float* y, std::size_t count) const;

  // Smooth (analytic on the real line): quadrature converges spectrally.
  bool smooth() const;
  // E[phi phi] has a closed form (docs/theory.md §2.2).
  bool closed_form() const;
  // phi' is a function (not a delta): E[phi' phi'] and chi_1 are finite. False for sign and step.
  bool has_derivative() const;
  // Odd: phi(-x) = -phi(x).
  bool odd() const;
  // |phi| bounded: the length map has a fixed point for any sigma_w^2.
  bool bounded() const;
  // Slope phi'(0), sets the critical point at sigma_b^2 = 0.
  double slope_at_zero() const;
  // lim E[phi(sqrt(q) z)^2] / q for q -> infinity: (k+^2 + k-^2) / 2 for phi ~ k+- x at +-infinity;
  // 0 for bounded phi. sigma_w^2 times this >= 1 means the length map has no finite fixed point.
  double growth() const;

  std::string name() const;     // "tanh", "erf", "leaky_relu", ...
  std::string formula() const;  // human-readable, e.g. "erf(a x), a = 1"
};

std::optional<ActivationKind> activation_kind_from_name(std::string_view name);
const std::vector<std::string>& activation_names();
// The admissible range of Activation::param for this kind, and whether it is used at all.
bool activation_has_param(ActivationKind kind);
const char* activation_param_name(ActivationKind kind);  // "a" for erf, "alpha" for leaky ReLU

// One-variable expectations over z ~ N(0,1) at variance q: u = sqrt(q) z.
double mean_phi(const Activation& act, double q);        // E[phi(u)]
double mean_phi_sq(const Activation& act, double q);     // E[phi(u)^2]
double mean_dphi_sq(const Activation& act, double q);    // E[phi'(u)^2] (infinite for sign/step)
double mean_phi_d2phi(const Activation& act, double q);  // E[phi(u) phi''(u)]
// d/dq E[phi(u)^2] = E[phi'^2] + E[phi phi''] (Price), with the closed forms for kinked phi.
double mean_phi_sq_slope(const Activation& act, double q);

// Two-variable expectations (scalar reference path; see PairIntegrator for the fast path).
double pair_expectation(const Activation& act, double q1, double q2, double c);
double pair_derivative_expectation(const Activation& act, double q1, double q2, double c);

// Closed form of E[phi(u)phi(v)] (and of E[phi'phi']) if the activation has one; nullopt otherwise.
std::optional<double> closed_pair_expectation(const Activation& act, double q1, double q2, double c);
std::optional<double> closed_pair_derivative_expectation(const Activation& act, double q1, double q2, double c);

// --- Hermite series and the vectorised pair integrator (Mehler's formula: gaussian.h) ----------------

// Which function of the activation a series expands.
enum class PairFunction { phi, dphi };

// The Hermite series of phi(sqrt(q) z) or phi'(sqrt(q) z) to kSeriesTolerance.
HermiteSeries hermite_series(const Activation& act, PairFunction which, double q, int min_terms = 0);

// E[f(u) f(v)] for all pairs of a set of variables that share their variances q_a: the fast path of
// the kernel recursions. Closed forms are used where they exist; otherwise Hermite series.
class PairIntegrator {
 public:
  PairIntegrator(const Activation& act, PairFunction which);

  // Prepares for variables with variances q (one per input/time). Cost O(P * nodes * terms).
  void set_variances(const std::vector<double>& q);

  // out[j] = shift + scale * E[f(u_a) f(u_{b0+j})] for covariances cov[j] (j = 0..count-1). The affine
  // map is the recursion's sigma_b^2 + sigma_w^2 E[...], applied in the same pass over memory.
  void row(int a, int b0, int count, const double* cov, double* out, double scale = 1.0, double shift = 0.0) const;
  double operator()(int a, int b, double cov) const;

  // Variances so large (q >~ 10 for tanh) that the series could not reach kSeriesTolerance within
  // kMaxSeriesTerms: their entries are computed with the best series available, less accurately.
  int inexact_variances() const { return inexact_count_; }
  int terms() const { return terms_; }
  bool closed_form() const { return closed_; }

 private:
  bool closed_row(int a, int b0, int count, const double* cov, double* out, double scale, double shift) const;

  Activation act_;
  PairFunction which_;
  bool closed_ = false;
  std::vector<double> q_;
  std::vector<double> sqrt_q_;
  std::vector<double> inv_sqrt_q_;  // 1 / sqrt(q), 0 where q = 0
  std::vector<double> erf_norm_;    // erf: 1 / sqrt(1 + 2 a^2 q)
  std::vector<HermiteSeries> series_;
  std::vector<double> coef_by_term_;  // terms_ x P, term-major: coefficient k of variable b at k*P + b
  std::vector<int> own_terms_;        // terms each variable's own series needs for the tolerance
  int terms_ = 0;
  int inexact_count_ = 0;
};

}  // namespace fs
