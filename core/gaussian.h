// Gaussian integrals: Gauss-Hermite rules, Hermite (Mehler) series for E[f(u) g(v)], and the
// vectorised pair integrator used by the kernel recursions.
//
// Why a Hermite series: with h_k = He_k / sqrt(k!) orthonormal under N(0,1) and
// b_k(q) = E[f(sqrt(q) z) h_k(z)], Mehler's formula gives, for (u, v) with variances q1, q2 and
// correlation rho,
//     E[f(u) f(v)] = sum_k b_k(q1) b_k(q2) rho^k.
// The coefficients depend on one variance only, so a P x P kernel needs P short 1-D quadratures and
// then one short polynomial per entry (Horner, vectorised across a row). Parseval,
// sum_k b_k(q)^2 = E[f(sqrt(q) z)^2], gives a rigorous truncation bound through Cauchy-Schwarz:
//     |sum_{k>K} b_k(q1) b_k(q2) rho^k| <= |rho|^{K+1} sqrt(T_K(q1) T_K(q2)),
// with T_K the energy left after K terms. Closed forms (docs/theory.md §2.2) bypass all of this.
#pragma once
#include <functional>
#include <vector>

#include "core/activations.h"

namespace fs {

// Probabilists' Gauss-Hermite rule: sum_i w_i g(z_i) ~ E[g(z)], z ~ N(0,1). Cached, thread-safe.
struct GaussHermiteRule {
  std::vector<double> nodes;
  std::vector<double> weights;
};
const GaussHermiteRule& gauss_hermite(int n);

// E[g(sqrt(q) z)] by Gauss-Hermite, doubling the node count until two successive estimates agree to
// `rel_tol` (relative to `scale` when given, else to the estimate itself).
double gaussian_mean_1d(const std::function<double(double)>& g, double q, double rel_tol = 1e-14);

// Reference 2-D tensor-product Gauss-Hermite over the Cholesky parameterisation (docs/theory.md §2.1),
// evaluated in a canonical ordering so that the result is symmetric under (q1, f) <-> (q2, g) exactly.
double gauss_hermite_pair(const std::function<double(double)>& f, const std::function<double(double)>& g,
                          double q1, double q2, double c, int nodes_per_dim);

// Which function of the activation a series expands.
enum class PairFunction { phi, dphi };

// The Hermite coefficients of f(sqrt(q) z) for one variance q.
struct HermiteSeries {
  double q = 0;
  double energy = 0;            // E[f(sqrt(q) z)^2]
  std::vector<double> coef;     // b_0 .. b_kmax: every coefficient the accepted rule resolves
  int terms = 1;                // b_0 .. b_{terms-1} reach the tolerance
  double tail_fraction = 0;     // (energy - sum_{k<terms} b_k^2) / energy
  bool converged = true;        // false: the truncation bound could not reach the tolerance
  int nodes = 0;                // Gauss-Hermite nodes of the accepted rule
};

// Tolerance on the relative truncation error (relative to sqrt(E[f(u)^2] E[f(v)^2])).
inline constexpr double kSeriesTolerance = 1e-10;
inline constexpr int kMaxSeriesTerms = 1024;

// `min_terms`: resolve at least this many coefficients (so that series of different variances can be
// paired with a common truncation).
HermiteSeries hermite_series(const std::function<double(double)>& f, double q,
                             double tolerance = kSeriesTolerance, int min_terms = 0);
HermiteSeries hermite_series(const Activation& act, PairFunction which, double q, int min_terms = 0);

// sum_k a_k b_k rho^k over k < max(a.terms, b.terms) (Horner); rho is clamped to [-1, 1].
double series_pair(const HermiteSeries& a, const HermiteSeries& b, double rho);

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
  std::vector<double> erf_norm_;     // erf: 1 / sqrt(1 + 2 a^2 q)
  std::vector<HermiteSeries> series_;
  std::vector<double> coef_by_term_;  // terms_ x P, term-major: coefficient k of variable b at k*P + b
  std::vector<int> own_terms_;        // terms each variable's own series needs for the tolerance
  int terms_ = 0;
  int inexact_count_ = 0;
};

}  // namespace fs
