// Gaussian integrals.
//
// Sections
//   1. Gauss-Hermite rules (Newton on the three-term recurrence, with rescaling so n = 2048 works)
//   2. one- and two-dimensional quadrature
//   3. Hermite series (Mehler's formula)
//   4. PairIntegrator: the vectorised fast path
#include "core/gaussian.h"

#include <algorithm>
#include <functional>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <unordered_map>

#include <Eigen/Eigenvalues>

#include "core/fast_math.h"

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
  int n = static_cast<int>(std::ceil(half_width / h));
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

double gauss_hermite_pair(const std::function<double(double)>& f, const std::function<double(double)>& g,
                          double q1, double q2, double c, int nodes_per_dim) {
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
void series_coefficients(const std::function<double(double)>& f, double q, const GaussHermiteRule& rule,
                         int kmax, std::vector<double>& coef, double& energy) {
  const Eigen::RowVectorXd samples = weighted_samples(f, q, rule);
  const Eigen::RowVectorXd b = samples * hermite_basis(rule, kmax + 1);
  energy = samples.squaredNorm();
  coef.assign(b.data(), b.data() + b.size());
}

}  // namespace

HermiteSeries hermite_series(const std::function<double(double)>& f, double q, double tolerance,
                             int min_terms) {
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
    const bool resolved = previous_energy >= 0 &&
                          std::abs(energy - previous_energy) <= 1e-12 * std::max(energy, 1e-300);
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

HermiteSeries hermite_series(const Activation& act, PairFunction which, double q, int min_terms) {
  if (which == PairFunction::phi)
    return hermite_series([&](double x) { return act.phi(x); }, q, kSeriesTolerance, min_terms);
  return hermite_series([&](double x) { return act.dphi(x); }, q, kSeriesTolerance, min_terms);
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

// ---------------------------------------------------------------------------------------------------
// 4. PairIntegrator
// ---------------------------------------------------------------------------------------------------
PairIntegrator::PairIntegrator(const Activation& act, PairFunction which) : act_(act), which_(which) {
  closed_ = act.closed_form();
}

void PairIntegrator::set_variances(const std::vector<double>& q) {
  const int p = static_cast<int>(q.size());
  q_.resize(p);
  sqrt_q_.resize(p);
  inv_sqrt_q_.resize(p);
  erf_norm_.resize(p);
  const double a2 = act_.param * act_.param;
  for (int a = 0; a < p; ++a) {
    q_[a] = std::max(q[a], 0.0);
    sqrt_q_[a] = std::sqrt(q_[a]);
    inv_sqrt_q_[a] = q_[a] > 0 ? 1 / sqrt_q_[a] : 0.0;
    erf_norm_[a] = 1 / std::sqrt(1 + 2 * a2 * q_[a]);
  }
  inexact_count_ = 0;
  if (closed_) return;

  // One series per distinct variance (inputs of equal norm share theirs). The largest variance needs
  // the most nodes and terms; its rule and truncation then serve every smaller one, which costs one
  // pass over the nodes per variance instead of an adaptive search each.
  std::vector<double> distinct(q_.begin(), q_.end());
  std::sort(distinct.begin(), distinct.end(), std::greater<>());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const std::function<double(double)> f = [this](double x) { return which_ == PairFunction::phi ? act_.phi(x) : act_.dphi(x); };
  series_.assign(distinct.size(), HermiteSeries{});
  std::unordered_map<double, int> index;
  for (std::size_t i = 0; i < distinct.size(); ++i) index.emplace(distinct[i], static_cast<int>(i));
  terms_ = 1;
  if (!distinct.empty()) {
    series_[0] = hermite_series(f, distinct[0], kSeriesTolerance);
    terms_ = series_[0].terms;
  }
  // Every smaller variance on the largest one's rule and truncation, all at once: with the basis
  // H(i, k) = sqrt(w_i) h_k(z_i), the coefficients of all variances are one matrix product.
  std::vector<char> pending(distinct.size(), 1);
  if (distinct.size() > 1 && distinct.back() > 0 && series_[0].converged) {
    const GaussHermiteRule& rule = gauss_hermite(series_[0].nodes);
    const Eigen::MatrixXd basis = hermite_basis(rule, terms_);
    Eigen::MatrixXd samples(static_cast<int>(distinct.size()) - 1, basis.rows());
    for (std::size_t i = 1; i < distinct.size(); ++i) samples.row(static_cast<int>(i) - 1) = weighted_samples(f, distinct[i], rule);
    const Eigen::MatrixXd coef = samples * basis;
    for (std::size_t i = 1; i < distinct.size(); ++i) {
      HermiteSeries& s = series_[i];
      s.q = distinct[i];
      s.nodes = series_[0].nodes;
      s.terms = terms_;
      s.energy = samples.row(static_cast<int>(i) - 1).squaredNorm();
      s.coef.assign(terms_, 0.0);
      for (int k = 0; k < terms_; ++k) s.coef[k] = coef(static_cast<int>(i) - 1, k);
      const double kept = coef.row(static_cast<int>(i) - 1).squaredNorm();
      s.tail_fraction = s.energy > 0 ? std::max(0.0, (s.energy - kept) / s.energy) : 0.0;
      s.converged = s.tail_fraction <= kSeriesTolerance;
      // This variance's own truncation (smaller variances need fewer terms).
      double partial = 0;
      for (int k = 0; k < terms_; ++k) {
        partial += s.coef[k] * s.coef[k];
        if (s.energy - partial <= kSeriesTolerance * s.energy) {
          s.terms = k + 1;
          break;
        }
      }
      pending[i] = !s.converged;
    }
  }
  pending[0] = 0;
  for (std::size_t i = 1; i < distinct.size(); ++i)
    if (pending[i]) series_[i] = hermite_series(f, distinct[i], kSeriesTolerance, terms_);
  for (const auto& s : series_) terms_ = std::max(terms_, s.terms);
  // A series truncated before terms_ gets the coefficients up to terms_ (a smaller variance that
  // happened to need more terms than the largest: unusual).
  for (auto& s : series_)
    if (static_cast<int>(s.coef.size()) < terms_) s = hermite_series(f, s.q, kSeriesTolerance, terms_);
  std::vector<int> which_series(p);
  for (int a = 0; a < p; ++a) which_series[a] = index.at(q_[a]);
  coef_by_term_.assign(static_cast<std::size_t>(terms_) * p, 0.0);
  own_terms_.assign(p, terms_);
  for (int a = 0; a < p; ++a) {
    own_terms_[a] = std::clamp(series_[which_series[a]].terms, 1, terms_);
    const HermiteSeries& s = series_[which_series[a]];
    if (!s.converged) ++inexact_count_;
    const int kept = std::min<int>(terms_, static_cast<int>(s.coef.size()));
    for (int k = 0; k < kept; ++k) coef_by_term_[static_cast<std::size_t>(k) * p + a] = s.coef[k];
  }
}

void PairIntegrator::row(int a, int b0, int count, const double* cov, double* out, double scale, double shift) const {
  if (closed_) {
    if (closed_row(a, b0, count, cov, out, scale, shift)) return;
    for (int j = 0; j < count; ++j) {
      const int b = b0 + j;
      const auto v = which_ == PairFunction::phi ? closed_pair_expectation(act_, q_[a], q_[b], cov[j])
                                                 : closed_pair_derivative_expectation(act_, q_[a], q_[b], cov[j]);
      out[j] = shift + scale * *v;
    }
    return;
  }
  const int p = static_cast<int>(q_.size());
  thread_local std::vector<double> rho;
  rho.resize(count);
  const double sa = sqrt_q_[a];
  for (int j = 0; j < count; ++j) {
    const double s = sa * sqrt_q_[b0 + j];
    rho[j] = s > 0 ? std::clamp(cov[j] / s, -1.0, 1.0) : 0.0;
    out[j] = 0.0;
  }
  // Horner across the row, s_j <- s_j rho_j + b_k(a) b_k(b0 + j), in blocks of kBlock entries that
  // stay in registers for all k (the coefficients of a block are one cache line per k).
  // A pair needs max(K_a, K_b) terms: with both tails below tolerance the Cauchy-Schwarz bound holds
  // (gaussian.h), so a block starts its Horner scheme at the largest own truncation in it.
  constexpr int kBlock = 16;
  const double* coef_a = coef_by_term_.data() + a;
  const int* own = own_terms_.data() + b0;
  int j0 = 0;
  for (; j0 + kBlock <= count; j0 += kBlock) {
    int block_terms = own_terms_[a];
    for (int j = 0; j < kBlock; ++j) block_terms = std::max(block_terms, own[j0 + j]);
    double acc[kBlock] = {};
    const double* r = rho.data() + j0;
    for (int k = block_terms - 1; k >= 0; --k) {
      const double* ck = coef_by_term_.data() + static_cast<std::size_t>(k) * p + b0 + j0;
      const double cak = coef_a[static_cast<std::size_t>(k) * p];
      for (int j = 0; j < kBlock; ++j) acc[j] = acc[j] * r[j] + cak * ck[j];
    }
    for (int j = 0; j < kBlock; ++j) out[j0 + j] = shift + scale * acc[j];
  }
  for (int k = terms_ - 1; k >= 0 && j0 < count; --k) {
    const double* ck = coef_by_term_.data() + static_cast<std::size_t>(k) * p + b0;
    const double cak = coef_a[static_cast<std::size_t>(k) * p];
    for (int j = j0; j < count; ++j) out[j] = out[j] * rho[j] + cak * ck[j];
  }
  for (int j = j0; j < count; ++j) out[j] = shift + scale * out[j];
}

// Vectorised closed forms for the activations the recursions meet most (docs/theory.md §2.2): the same
// formulas as closed_pair_expectation, written as straight-line loops over a row.
bool PairIntegrator::closed_row(int a, int b0, int count, const double* cov, double* out, double scale, double shift) const {
  constexpr double kPi = 3.14159265358979323846;
  const double* sq = sqrt_q_.data() + b0;
  const double sa = sqrt_q_[a];
  const bool phi = which_ == PairFunction::phi;
  switch (act_.kind) {
    case ActivationKind::relu:
    case ActivationKind::leaky_relu: {
      const double alpha = act_.kind == ActivationKind::relu ? 0.0 : act_.param;
      const double lin = alpha * alpha + alpha * (1 - alpha), arc = (1 - alpha) * (1 - alpha);
      const double ia = inv_sqrt_q_[a];
      const double* ib = inv_sqrt_q_.data() + b0;
      thread_local std::vector<double> rho;
      rho.resize(count);
      for (int j = 0; j < count; ++j) rho[j] = std::min(1.0, std::max(-1.0, cov[j] * ia * ib[j]));
      // On the diagonal rho is 1 exactly: asin is so steep at 1 that one ulp in rho would move the
      // result by 1e-8.
      if (b0 <= a && a < b0 + count && q_[a] > 0 && cov[a - b0] == q_[a]) rho[a - b0] = 1.0;
      if (phi) {
        // (sqrt(q1 q2) / 2 pi) (sin theta + (pi - theta) cos theta), theta = acos rho = pi/2 - asin rho
        for (int j = 0; j < count; ++j) {
          const double s = sa * sq[j], r = rho[j];
          const double e = lin * r * s + arc * s * (1 / (2 * kPi)) * (std::sqrt(std::max(0.0, 1 - r * r)) + (0.5 * kPi + asin_vectorizable(r)) * r);
          out[j] = shift + scale * e;
        }
      } else {
        for (int j = 0; j < count; ++j)  // (pi - theta) / 2 pi
          out[j] = shift + scale * (lin + arc * (0.25 + asin_vectorizable(rho[j]) * (1 / (2 * kPi))));
      }
      return true;
    }
    case ActivationKind::erf: {
      const double a2 = act_.param * act_.param;
      const double na = erf_norm_[a];
      const double* nb = erf_norm_.data() + b0;
      if (phi) {
        for (int j = 0; j < count; ++j) {  // Williams 1997: (2/pi) asin(2 a^2 c / sqrt((1 + 2 a^2 q1)(1 + 2 a^2 q2)))
          const double s = sa * sq[j];
          const double c = std::min(s, std::max(-s, cov[j]));
          const double x = 2 * a2 * c * na * nb[j];
          out[j] = shift + scale * (2 / kPi) * asin_vectorizable(std::min(1.0, std::max(-1.0, x)));
        }
      } else {
        const double* qb = q_.data() + b0;
        const double da = 1 + 2 * a2 * q_[a];
        for (int j = 0; j < count; ++j) {
          const double s = sa * sq[j];
          const double c = std::min(s, std::max(-s, cov[j]));
          const double det = da * (1 + 2 * a2 * qb[j]) - 4 * a2 * a2 * c * c;
          out[j] = shift + scale * 4 * a2 / kPi / std::sqrt(std::max(det, 1e-300));
        }
      }
      return true;
    }
    default: return false;
  }
}

double PairIntegrator::operator()(int a, int b, double cov) const {
  double out = 0;
  row(a, b, 1, &cov, &out);
  return out;
}

}  // namespace fs
