// Gaussian integrals.
//
// Sections
//   1. Gauss-Hermite rules (Newton on the three-term recurrence, with rescaling so n = 2048 works)
//   2. one- and two-dimensional quadrature
//   3. Hermite series (Mehler's formula)
#include "core/gaussian.h"

#include <algorithm>
#include <functional>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <numbers>

#include <Eigen/Eigenvalues>

namespace fs {

// ---------------------------------------------------------------------------------------------------
// 1. Gauss-Hermite rules
// ---------------------------------------------------------------------------------------------------
namespace {

// Physicists' rule (weight e^{-x^2}) for n nodes. Orthonormal Hermite polynomials obey
//   p_j = x sqrt(2/j) p_{j-1} - sqrt((j-1)/j) p_{j-2},   p_n' = sqrt(2n) p_{n-1},   w = 2 / p_n'^2.
// The recurrence is rescaled whenever it grows past 1e150, so large n never overflows.
GaussHermiteRule make_rule(int n) {
  std::vector<double> x(n), w(n);
  const int m = (n + 1) / 2;
  const double log_p0 = -0.25 * std::log(std::numbers::pi);
  constexpr double kBig = 1e150;
  const double log_big = std::log(kBig);
  // Initial nodes: eigenvalues of the Jacobi matrix (Golub & Welsch 1969), then Newton polish.
  Eigen::VectorXd diag = Eigen::VectorXd::Zero(n), sub(std::max(n - 1, 1));
  for (int k = 1; k < n; ++k) sub[k - 1] = std::sqrt(0.5 * k);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver;
  solver.computeFromTridiagonal(diag, sub.head(std::max(n - 1, 0)), Eigen::EigenvaluesOnly);
  const Eigen::VectorXd& roots = solver.eigenvalues();  // ascending
  for (int i = 0; i < m; ++i) {
    double z = roots[n - 1 - i];
    double pp = 0, scale = 0;
    for (int iter = 0; iter < 100; ++iter) {
      double p1 = 1.0, p2 = 0.0;
      scale = 0;
      for (int j = 1; j <= n; ++j) {
        const double p3 = p2;
        p2 = p1;
        p1 = z * std::sqrt(2.0 / j) * p2 - std::sqrt((j - 1.0) / j) * p3;
        if (std::abs(p1) > kBig) {
          p1 /= kBig;
          p2 /= kBig;
          scale += 1;
        }
      }
      pp = std::sqrt(2.0 * n) * p2;
      const double dz = p1 / pp;
      z -= dz;
      if (std::abs(dz) <= 1e-15 * std::max(1.0, std::abs(z))) break;
    }
    x[i] = z;
    x[n - 1 - i] = -z;
    const double log_pp = std::log(std::abs(pp)) + scale * log_big + log_p0;
    w[i] = w[n - 1 - i] = std::exp(std::log(2.0) - 2 * log_pp);
  }
  if (n % 2 == 1) x[m - 1] = 0.0;
  // Probabilists' rule: z = sqrt(2) x, weight w / sqrt(pi).
  GaussHermiteRule rule;
  rule.nodes.resize(n);
  rule.weights.resize(n);
  for (int i = 0; i < n; ++i) {
    rule.nodes[i] = std::numbers::sqrt2 * x[n - 1 - i];
    rule.weights[i] = w[n - 1 - i] / std::sqrt(std::numbers::pi);
  }
  return rule;
}

}  // namespace

const GaussHermiteRule& gauss_hermite(int n) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<GaussHermiteRule>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<GaussHermiteRule>(make_rule(n));
  return *slot;
}

// ---------------------------------------------------------------------------------------------------
// 2. quadrature
// ---------------------------------------------------------------------------------------------------
double gaussian_mean_1d(const std::function<double(double)>& g, double q, double rel_tol) {
  const double s = std::sqrt(std::max(q, 0.0));
  if (s == 0) return g(0.0);
  // Trapezoidal rule in x = sqrt(q) z on [-10 s, 10 s]. For integrands analytic in a strip around the
  // real axis it converges geometrically in 1/h (Trefethen & Weideman 2014), and unlike Gauss-Hermite
  // its cost does not grow with q when phi varies on a fixed scale (tanh at large q). Halving h reuses
  // every previous point; two successive estimates that agree end the refinement.
  const double half_width = 10 * s;
  double h = std::min(0.5, 0.5 * s);
  // At very large q (s > 819) the step grows past 1/2 instead of the count past kMaxInitialPoints: what
  // varies on a scale of 1 near x = 0 is then a part O(1/s) of a mean of size O(s), and the step stays
  // below s/3000. (Without the cap the count overflowed an int for q > 1e16.)
  constexpr double kMaxInitialPoints = 1 << 15;
  int n = static_cast<int>(std::min(kMaxInitialPoints, std::ceil(half_width / h)));
  h = half_width / n;
  const double norm = 1 / (std::sqrt(2 * std::numbers::pi) * s);
  auto term = [&](double x) { return g(x) * std::exp(-0.5 * x * x / q); };
  double sum = term(0.0), abs_sum = std::abs(sum);
  for (int i = 1; i <= n; ++i) {
    const double a = term(i * h), b = term(-i * h);
    sum += a + b;
    abs_sum += std::abs(a) + std::abs(b);
  }
  double estimate = norm * h * sum;
  for (int level = 0; level < 14 && n <= (1 << 22); ++level) {
    // New midpoints at odd multiples of h/2.
    double added = 0;
    for (int i = 0; i < n; ++i) {
      const double x = (i + 0.5) * h;
      const double a = term(x), b = term(-x);
      added += a + b;
      abs_sum += std::abs(a) + std::abs(b);
    }
    sum += added;
    h *= 0.5;
    n *= 2;
    const double refined = norm * h * sum;
    if (std::abs(refined - estimate) <= rel_tol * norm * h * abs_sum) return refined;
    estimate = refined;
  }
  return estimate;
}

double gauss_hermite_pair(const std::function<double(double)>& f, const std::function<double(double)>& g, double q1, double q2,
                          double c, int nodes_per_dim) {
  const std::function<double(double)>* a = &f;
  const std::function<double(double)>* b = &g;
  // Canonical ordering: the result must not depend on which variable comes first.
  if (q1 > q2) {
    std::swap(q1, q2);
    std::swap(a, b);
  }
  q1 = std::max(q1, 0.0);
  q2 = std::max(q2, 0.0);
  const double s1 = std::sqrt(q1), s2 = std::sqrt(q2);
  const double rho = (s1 > 0 && s2 > 0) ? std::clamp(c / (s1 * s2), -1.0, 1.0) : 0.0;
  const double rho_perp = std::sqrt(std::max(0.0, 1 - rho * rho));
  const GaussHermiteRule& rule = gauss_hermite(nodes_per_dim);
  double total = 0;
  for (int i = 0; i < nodes_per_dim; ++i) {
    const double z1 = rule.nodes[i];
    double inner = 0;
    for (int j = 0; j < nodes_per_dim; ++j) inner += rule.weights[j] * (*b)(s2 * (rho * z1 + rho_perp * rule.nodes[j]));
    total += rule.weights[i] * (*a)(s1 * z1) * inner;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------
// 3. Hermite series
// ---------------------------------------------------------------------------------------------------
namespace {

// b_k = sum_i w_i f(sqrt(q) z_i) h_k(z_i) for k = 0..kmax, with the recurrence carried on
// sqrt(w_i) h_k(z_i) (bounded by 1 for k < n, so nothing overflows), vectorised across the nodes:
//   h_{k+1} = (z h_k - sqrt(k) h_{k-1}) / sqrt(k + 1).
// The rule's nodes that matter: since |sqrt(w_i) h_k(z_i)| <= 1, node i moves any coefficient by at most
// |f(z_i)| sqrt(w_i), so the outer nodes with sqrt(w_i) < 1e-20 (two thirds of a 512-node rule) change
// nothing. Returns the first kept index; the kept nodes are [first, n - first).
int first_significant_node(const GaussHermiteRule& rule) {
  const int n = static_cast<int>(rule.nodes.size());
  int first = 0;
  while (first < n / 2 && std::sqrt(rule.weights[first]) < 1e-20) ++first;
  return first;
}

// H(i, k) = sqrt(w_i) h_k(z_i) on the significant nodes, for k < terms, by the recurrence
//   h_{k+1} = (z h_k - sqrt(k) h_{k-1}) / sqrt(k + 1),
// carried on sqrt(w) h_k (bounded by 1 for k < n, so nothing overflows) and vectorised across nodes.
Eigen::MatrixXd hermite_basis(const GaussHermiteRule& rule, int terms) {
  const int first = first_significant_node(rule);
  const int n = static_cast<int>(rule.nodes.size()) - 2 * first;
  Eigen::MatrixXd basis(n, terms);
  const Eigen::ArrayXd z = Eigen::Map<const Eigen::ArrayXd>(rule.nodes.data() + first, n);
  Eigen::ArrayXd h = Eigen::Map<const Eigen::ArrayXd>(rule.weights.data() + first, n).sqrt(), h_prev = Eigen::ArrayXd::Zero(n);
  basis.col(0) = h.matrix();
  for (int k = 0; k + 1 < terms; ++k) {
    const double a = 1.0 / std::sqrt(k + 1.0), b = std::sqrt(k / (k + 1.0));
    Eigen::ArrayXd next = a * z * h - b * h_prev;
    h_prev.swap(h);
    h.swap(next);
    basis.col(k + 1) = h.matrix();
  }
  return basis;
}

// The basis depends only on the rule and the number of terms: each pair is computed once (the phase
// diagram asks for the same few bases in every cell).
const Eigen::MatrixXd& cached_hermite_basis(const GaussHermiteRule& rule, int terms) {
  static std::mutex mutex;
  static std::map<std::pair<const GaussHermiteRule*, int>, std::unique_ptr<const Eigen::MatrixXd>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[{&rule, terms}];
  if (!slot) slot = std::make_unique<const Eigen::MatrixXd>(hermite_basis(rule, terms));
  return *slot;
}

// f(sqrt(q) z_i) sqrt(w_i) on the significant nodes.
Eigen::RowVectorXd weighted_samples(const std::function<double(double)>& f, double q, const GaussHermiteRule& rule) {
  const int first = first_significant_node(rule);
  const int n = static_cast<int>(rule.nodes.size()) - 2 * first;
  const double s = std::sqrt(q);
  Eigen::RowVectorXd out(n);
  for (int i = 0; i < n; ++i) out[i] = f(s * rule.nodes[first + i]) * std::sqrt(rule.weights[first + i]);
  return out;
}

// b_k = sum_i w_i f(sqrt(q) z_i) h_k(z_i) for k = 0..kmax.
void series_coefficients(const std::function<double(double)>& f, double q, const GaussHermiteRule& rule, int kmax,
                         std::vector<double>& coef, double& energy) {
  const Eigen::RowVectorXd samples = weighted_samples(f, q, rule);
  const Eigen::RowVectorXd b = samples * cached_hermite_basis(rule, kmax + 1);
  energy = samples.squaredNorm();
  coef.assign(b.data(), b.data() + b.size());
}

}  // namespace

HermiteSeries hermite_series(const std::function<double(double)>& f, double q, double tolerance, int min_terms) {
  HermiteSeries out;
  out.q = std::max(q, 0.0);
  if (out.q == 0) {
    const double f0 = f(0.0);
    out.coef.assign(std::max(1, min_terms), 0.0);
    out.coef[0] = f0;
    out.energy = f0 * f0;
    return out;
  }
  // Accept the rule with n nodes when its energy agrees with the rule with n/2 nodes (so the
  // quadrature has resolved f) and the truncation tail is below the tolerance within n/2 terms
  // (so every kept coefficient is integrated exactly enough: degree k + resolved part < 2n).
  double previous_energy = -1;
  for (int n = 64; n <= 2 * kMaxSeriesTerms; n *= 2) {
    const int kmax = n / 2;
    std::vector<double> coef;
    double energy = 0;
    series_coefficients(f, out.q, gauss_hermite(n), kmax, coef, energy);
    const bool resolved = previous_energy >= 0 && std::abs(energy - previous_energy) <= 1e-12 * std::max(energy, 1e-300);
    previous_energy = energy;
    // Smallest K with tail <= tolerance * energy.
    double partial = 0;
    int needed = -1;
    for (int k = 0; k <= kmax; ++k) {
      partial += coef[k] * coef[k];
      if (energy - partial <= tolerance * energy) {
        needed = k;
        break;
      }
    }
    const bool last = 2 * n > 2 * kMaxSeriesTerms;
    if ((resolved && needed >= 0 && kmax + 1 >= min_terms) || last) {
      if (needed < 0) needed = kmax;
      double kept = 0;
      for (int k = 0; k <= needed; ++k) kept += coef[k] * coef[k];
      out.energy = energy;
      out.coef = std::move(coef);
      out.terms = needed + 1;
      out.tail_fraction = energy > 0 ? std::max(0.0, (energy - kept) / energy) : 0.0;
      out.converged = resolved && out.tail_fraction <= tolerance;
      out.nodes = n;
      return out;
    }
  }
  return out;
}

std::vector<HermiteSeries> hermite_series_on_rule(const std::function<double(double)>& f, const std::vector<double>& q, int nodes,
                                                  int terms, double tolerance) {
  const int count = static_cast<int>(q.size());
  std::vector<HermiteSeries> out(q.size());
  if (count == 0) return out;
  const GaussHermiteRule& rule = gauss_hermite(nodes);
  const Eigen::MatrixXd& basis = cached_hermite_basis(rule, terms);
  Eigen::MatrixXd samples(count, basis.rows());
  for (int i = 0; i < count; ++i) samples.row(i) = weighted_samples(f, q[static_cast<std::size_t>(i)], rule);
  const Eigen::MatrixXd coef = samples * basis;
  for (int i = 0; i < count; ++i) {
    HermiteSeries& s = out[static_cast<std::size_t>(i)];
    s.q = q[static_cast<std::size_t>(i)];
    s.nodes = nodes;
    s.terms = terms;
    s.energy = samples.row(i).squaredNorm();
    s.coef.assign(terms, 0.0);
    for (int k = 0; k < terms; ++k) s.coef[k] = coef(i, k);
    const double kept = coef.row(i).squaredNorm();
    s.tail_fraction = s.energy > 0 ? std::max(0.0, (s.energy - kept) / s.energy) : 0.0;
    s.converged = s.tail_fraction <= tolerance;
    // This variance's own truncation (smaller variances need fewer terms).
    double partial = 0;
    for (int k = 0; k < terms; ++k) {
      partial += s.coef[k] * s.coef[k];
      if (s.energy - partial <= tolerance * s.energy) {
        s.terms = k + 1;
        break;
      }
    }
  }
  return out;
}

double series_pair(const HermiteSeries& a, const HermiteSeries& b, double rho) {
  rho = std::clamp(rho, -1.0, 1.0);
  const int terms = std::max(a.terms, b.terms);
  double s = 0;
  for (int k = terms - 1; k >= 0; --k) {
    const double ak = k < static_cast<int>(a.coef.size()) ? a.coef[k] : 0.0;
    const double bk = k < static_cast<int>(b.coef.size()) ? b.coef[k] : 0.0;
    s = s * rho + ak * bk;
  }
  return s;
}

}  // namespace fs
