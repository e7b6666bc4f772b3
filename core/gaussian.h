// Gaussian integrals of plain functions: Gauss-Hermite rules, one- and two-dimensional quadrature,
// and Hermite (Mehler) series for E[f(u) g(v)]. Nothing here knows about activations: they build on
// this file (core/activations.h holds the expectations of phi and the vectorised PairIntegrator that
// the kernel recursions use).
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
double gauss_hermite_pair(const std::function<double(double)>& f, const std::function<double(double)>& g, double q1, double q2,
                          double c, int nodes_per_dim);

// The Hermite coefficients of f(sqrt(q) z) for one variance q.
struct HermiteSeries {
  double q = 0;
  double energy = 0;         // E[f(sqrt(q) z)^2]
  std::vector<double> coef;  // b_0 .. b_kmax: every coefficient the accepted rule resolves
  int terms = 1;             // b_0 .. b_{terms-1} reach the tolerance
  double tail_fraction = 0;  // (energy - sum_{k<terms} b_k^2) / energy
  bool converged = true;     // false: the truncation bound could not reach the tolerance
  int nodes = 0;             // Gauss-Hermite nodes of the accepted rule
};

// Tolerance on the relative truncation error (relative to sqrt(E[f(u)^2] E[f(v)^2])).
inline constexpr double kSeriesTolerance = 1e-10;
inline constexpr int kMaxSeriesTerms = 1024;

// `min_terms`: resolve at least this many coefficients (so that series of different variances can be
// paired with a common truncation).
HermiteSeries hermite_series(const std::function<double(double)>& f, double q, double tolerance = kSeriesTolerance,
                             int min_terms = 0);

// The series of f(sqrt(q_i) z) for several variances at once on a given rule (`nodes`) and truncation
// (`terms`), typically those hermite_series chose for the largest variance: with
// H(i, k) = sqrt(w_i) h_k(z_i) all coefficients are one matrix product, one pass over the nodes per
// variance instead of an adaptive search each. Each result keeps `terms` coefficients; its own `terms`
// is where its tail first drops below `tolerance` (`terms` if it never does), and `converged` says
// whether the tail after all `terms` coefficients is below it.
std::vector<HermiteSeries> hermite_series_on_rule(const std::function<double(double)>& f, const std::vector<double>& q, int nodes,
                                                  int terms, double tolerance = kSeriesTolerance);

// sum_k a_k b_k rho^k over k < max(a.terms, b.terms) (Horner); rho is clamped to [-1, 1].
double series_pair(const HermiteSeries& a, const HermiteSeries& b, double rho);

}  // namespace fs
