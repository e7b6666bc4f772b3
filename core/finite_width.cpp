// The 1/N theory of finite-width deep and recurrent networks (docs/theory.md §5). See finite_width.h.
//
// Sections
//   1. Node counts and quadrature rules (Golub-Welsch for Gauss-Legendre and Gauss-Laguerre)
//   2. Gaussian expectations over up to 4 sites: nested Gauss-Hermite (smooth), polar rule (kinked)
//   3. Pair moments: F_p, Sigma_pq, and the finite-difference jet of F_p (value, dF/dK, d2F/dK2)
//   4. The job: validation, work estimate, phases
//   5. Deep network: one layer per unit (the Roberts-Yaida-Hanin recursions)
//   6. Recurrent network: pairs, M^-1, equal-time Sigma, tau, assembly
//   7. Correlation length (docs/theory.md §5.6)
#include "core/finite_width.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/deep_kernel.h"  // kDivergence
#include "core/gaussian.h"
#include "core/parallel.h"
#include "core/text.h"

namespace fs {

namespace {

constexpr double kPi = 3.14159265358979323846;

// A site whose residual variance (after conditioning on the earlier sites) is below this fraction of
// its own variance is treated as a linear combination of them (rank-deficient covariance).
constexpr double kRankTolerance = 1e-12;
// Relative central-difference steps: first derivatives (error ~ step^2 + 1e-16 / step) and second
// derivatives (~ step^2 + 1e-16 / step^2); both differentiate a fixed quadrature rule, which is a
// smooth function of the covariance.
constexpr double kGradientStep = 1e-5;
constexpr double kHessianStep = 2e-4;
constexpr double kTauStep = 1e-4;

// Nodes per dimension. tanh and erf have Gauss-Hermite errors that fall only like exp(-c sqrt(n)) (poles,
// or growth along the imaginary axis): measured on the recurrent mean shift (tanh 1.5/0.3, erf 1/0.5,
// T = 8), 3-D rules with n = 20 / 24 / 32 / 48 / 96 give -0.0154 / -0.0122 / -0.0110 / -0.01086 /
// -0.01085 and -0.044 / -0.034 / -0.0296 / -0.0291 / -0.0291. So 3-D uses 48 (docs/theory.md §8.1's 20-24 is not
// enough for the tau term), 4-D 28; 1-D and 2-D are far inside their converged range.
int hermite_nodes_for_rank(int rank) {
  switch (rank) {
    case 1: return 128;
    case 2: return 64;
    case 3: return 48;
    default: return 28;
  }
}

// ---------------------------------------------------------------------------------------------------
// 1. Quadrature rules
// ---------------------------------------------------------------------------------------------------
struct Rule {
  std::vector<double> x, w;
};

// Golub-Welsch: the nodes are the eigenvalues of the Jacobi matrix, the weights mu0 times the squared
// first components of its eigenvectors.
Rule golub_welsch(const std::vector<double>& diag, const std::vector<double>& off, double mu0) {
  const int n = static_cast<int>(diag.size());
  Eigen::MatrixXd jacobi = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i) {
    jacobi(i, i) = diag[i];
    if (i + 1 < n) jacobi(i, i + 1) = jacobi(i + 1, i) = off[i];
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(jacobi);
  Rule rule;
  for (int i = 0; i < n; ++i) {
    rule.x.push_back(solver.eigenvalues()(i));
    rule.w.push_back(mu0 * solver.eigenvectors()(0, i) * solver.eigenvectors()(0, i));
  }
  return rule;
}

// Gauss-Legendre on [-1, 1], 16 nodes: exact on each arc between kinks, where the polar integrand is a
// trigonometric polynomial of degree <= 4 (entire: the error is at rounding level).
const Rule& legendre_rule() {
  static const Rule rule = [] {
    const int n = 16;
    std::vector<double> diag(n, 0.0), off(n - 1);
    for (int k = 1; k < n; ++k) off[k - 1] = k / std::sqrt(4.0 * k * k - 1.0);
    return golub_welsch(diag, off, 2.0);
  }();
  return rule;
}

// Gauss-Laguerre for the weight e^{-s} on [0, inf), 6 nodes: exact for polynomials of degree <= 11 in
// s = r^2 / 2, i.e. for every radial factor r^D (D even, <= 4 here) of a homogeneous integrand.
const Rule& laguerre_rule() {
  static const Rule rule = [] {
    const int n = 6;
    std::vector<double> diag(n), off(n - 1);
    for (int k = 0; k < n; ++k) diag[k] = 2.0 * k + 1.0;
    for (int k = 1; k < n; ++k) off[k - 1] = k;
    return golub_welsch(diag, off, 1.0);
  }();
  return rule;
}

// ---------------------------------------------------------------------------------------------------
// 2. Gaussian expectations over up to 4 sites
// ---------------------------------------------------------------------------------------------------
constexpr int kMaxSites = 4;

// h = L z with z ~ N(0, I_rank): a Cholesky factor taking the sites in the order `order`. The order is
// canonical (decreasing variance, then index), so that permuting the inputs permutes the results exactly,
// and finite differences reuse the order of their base point, so that the rule stays a smooth function of
// the covariance. A site whose conditional variance vanishes is a combination of the earlier ones and adds
// no dimension.
struct SiteFactor {
  int sites = 0;
  int rank = 0;
  double L[kMaxSites][kMaxSites] = {};
  int level[kMaxSites] = {};  // the level (column) after which site j is known
};

struct SiteOrder {
  int index[kMaxSites] = {0, 1, 2, 3};
};

SiteOrder canonical_order(const double cov[kMaxSites][kMaxSites], int sites) {
  SiteOrder o;
  std::stable_sort(o.index, o.index + sites, [&](int a, int b) { return cov[a][a] > cov[b][b]; });
  return o;
}

SiteFactor factor_sites(const double cov[kMaxSites][kMaxSites], int sites, const SiteOrder& order) {
  SiteFactor f;
  f.sites = sites;
  double residual[kMaxSites][kMaxSites];
  for (int i = 0; i < sites; ++i)
    for (int j = 0; j < sites; ++j) residual[i][j] = cov[i][j];
  int column = 0;
  bool pivot[kMaxSites] = {};
  for (int n = 0; n < sites; ++n) {
    const int j = order.index[n];
    const double d = residual[j][j];
    if (!(d > kRankTolerance * std::max(cov[j][j], 0.0)) || !(d > 0)) continue;
    const double root = std::sqrt(d);
    pivot[j] = true;
    f.level[j] = column;
    f.L[j][column] = root;
    for (int m = n + 1; m < sites; ++m) f.L[order.index[m]][column] = residual[order.index[m]][j] / root;
    for (int m = n + 1; m < sites; ++m)
      for (int k = n + 1; k < sites; ++k) {
        const int a = order.index[m], b = order.index[k];
        residual[a][b] -= f.L[a][column] * f.L[b][column];
      }
    ++column;
  }
  f.rank = column;
  // Dependent sites are known once every column is: at the last level.
  for (int j = 0; j < sites; ++j)
    if (!pivot[j]) f.level[j] = column - 1;
  return f;
}

// One level of the nested rule; the level is a template argument so that the recursion is finite.
template <int Level, class Visit>
void hermite_nest(const Activation& act, const SiteFactor& f, const GaussHermiteRule& rule, double weight, const double* h_outer,
                  double* phi, Visit& visit) {
  const int n = static_cast<int>(rule.nodes.size());
  double h[kMaxSites];
  for (int i = 0; i < n; ++i) {
    const double z = rule.nodes[i];
    for (int j = 0; j < f.sites; ++j) h[j] = h_outer[j] + f.L[j][Level] * z;
    for (int j = 0; j < f.sites; ++j)
      if (f.level[j] == Level) phi[j] = act.phi(h[j]);
    const double w = weight * rule.weights[i];
    if constexpr (Level + 1 < kMaxSites) {
      if (Level + 1 < f.rank) {
        hermite_nest<Level + 1>(act, f, rule, w, h, phi, visit);
        continue;
      }
    }
    visit(phi, w);
  }
}

// Polar rule for positively homogeneous phi (ReLU, leaky ReLU, step, sign) and rank <= 2:
// E[g(h)] = (1/2pi) int dtheta int ds e^{-s} g(sqrt(2 s) L omega(theta)). Between consecutive kink angles
// (where some L_j . omega = 0) each phi is r^kappa times a trigonometric polynomial, so Gauss-Legendre
// per arc and Gauss-Laguerre in s are exact up to rounding.
template <class Visit>
void polar_rule(const Activation& act, const SiteFactor& f, double* phi, Visit& visit) {
  std::vector<double> angles;
  for (int j = 0; j < f.sites; ++j) {
    const double a0 = f.L[j][0], a1 = f.rank > 1 ? f.L[j][1] : 0.0;
    if (a0 == 0 && a1 == 0) continue;
    double theta = std::atan2(-a0, a1);  // a0 cos(theta) + a1 sin(theta) = 0
    if (theta < 0) theta += 2 * kPi;
    angles.push_back(theta);
    angles.push_back(theta >= kPi ? theta - kPi : theta + kPi);
  }
  if (angles.empty()) angles.push_back(0.0);
  std::sort(angles.begin(), angles.end());
  const Rule& legendre = legendre_rule();
  const Rule& laguerre = laguerre_rule();
  const int arcs = static_cast<int>(angles.size());
  for (int arc = 0; arc < arcs; ++arc) {
    const double begin = angles[arc];
    const double end = arc + 1 < arcs ? angles[arc + 1] : angles[0] + 2 * kPi;
    const double half = 0.5 * (end - begin), mid = 0.5 * (end + begin);
    if (!(half > 0)) continue;
    for (std::size_t i = 0; i < legendre.x.size(); ++i) {
      const double theta = mid + half * legendre.x[i];
      const double c = std::cos(theta), s = std::sin(theta);
      const double w_angle = half * legendre.w[i] / (2 * kPi);
      for (std::size_t k = 0; k < laguerre.x.size(); ++k) {
        const double r = std::sqrt(2 * laguerre.x[k]);
        for (int j = 0; j < f.sites; ++j) phi[j] = act.phi(r * (f.L[j][0] * c + (f.rank > 1 ? f.L[j][1] * s : 0.0)));
        visit(phi, w_angle * laguerre.w[k]);
      }
    }
  }
}

// Visits the nodes of a rule for E[.] over N(0, cov) with visit(phi values per site, weight). False when
// no exact rule is implemented (a kinked phi with rank > 2).
template <class Visit>
bool integrate_sites(const Activation& act, const double cov[kMaxSites][kMaxSites], int sites, const SiteOrder* order,
                     Visit&& visit) {
  const SiteFactor f = factor_sites(cov, sites, order ? *order : canonical_order(cov, sites));
  double phi[kMaxSites] = {};
  if (f.rank == 0) {
    for (int j = 0; j < sites; ++j) phi[j] = act.phi(0.0);
    visit(phi, 1.0);
    return true;
  }
  if (!act.smooth()) {
    if (f.rank > 2) return false;
    polar_rule(act, f, phi, visit);
    return true;
  }
  const double zero[kMaxSites] = {};
  // Linear phi: every integrand is a polynomial of degree <= 4, which 4 nodes per dimension integrate exactly.
  const int nodes = act.kind == ActivationKind::linear ? 4 : hermite_nodes_for_rank(f.rank);
  hermite_nest<0>(act, f, gauss_hermite(nodes), 1.0, zero, phi, visit);
  return true;
}

// Nodes visited for `rank` dimensions (work estimates).
double nodes_for_rank(const Activation& act, int rank) {
  if (rank <= 0) return 1;
  if (!act.smooth()) return 8.0 * 16 * 6;
  if (act.kind == ActivationKind::linear) return std::pow(4.0, rank);
  return std::pow(double(hermite_nodes_for_rank(rank)), rank);
}

// ---------------------------------------------------------------------------------------------------
// 3. Pair moments
// ---------------------------------------------------------------------------------------------------
// A local block: distinct sites and their covariance, with each pair of the calculation mapped to two
// local site indices.
struct LocalBlock {
  int sites = 0;
  int global[kMaxSites] = {};
  double cov[kMaxSites][kMaxSites] = {};
  int add(int global_site) {
    for (int j = 0; j < sites; ++j)
      if (global[j] == global_site) return j;
    global[sites] = global_site;
    return sites++;
  }
};

// sigma_w^2 E[phi_a phi_b] over a local block (the MFT map F_p of docs/theory.md §5.1).
bool pair_mean(const Activation& act, double sigma_w2, const double cov[kMaxSites][kMaxSites], int sites, int a, int b,
               double& out, const SiteOrder* order = nullptr) {
  double sum = 0;
  const bool ok = integrate_sites(act, cov, sites, order, [&](const double* phi, double w) { sum += w * phi[a] * phi[b]; });
  out = sigma_w2 * sum;
  return ok;
}

// Sigma_pq = sigma_w^4 (E[phi_a phi_b phi_c phi_d] - E[phi_a phi_b] E[phi_c phi_d]) from one set of nodes
// (docs/theory.md §5.2), so that Sigma is the covariance of the rule's own discrete measure.
bool pair_covariance(const Activation& act, double sigma_w2, const double cov[kMaxSites][kMaxSites], int sites, int a, int b,
                     int c, int d, double& out, const SiteOrder* order = nullptr) {
  double joint = 0, first = 0, second = 0;
  const bool ok = integrate_sites(act, cov, sites, order, [&](const double* phi, double w) {
    const double fp = phi[a] * phi[b], fq = phi[c] * phi[d];
    joint += w * fp * fq;
    first += w * fp;
    second += w * fq;
  });
  out = sigma_w2 * sigma_w2 * (joint - first * second);
  return ok;
}

// F_p for a pair of sites (a, b) as a function of its local covariance entries e = (K_aa, K_ab, K_bb)
// (only K_aa when a == b): value, gradient and Hessian by central differences. Each unordered entry is one
// variable (docs/theory.md §5.2).
struct PairJet {
  int entries = 1;
  double value = 0;
  double grad[3] = {};
  double hess[3][3] = {};
};

struct Entries {
  double e[3];  // K_aa, K_ab, K_bb
};

bool pair_value(const Activation& act, double sigma_w2, bool same_site, const Entries& x, const SiteOrder& order, double& out) {
  double cov[kMaxSites][kMaxSites] = {};
  if (same_site) {
    cov[0][0] = x.e[0];
    return pair_mean(act, sigma_w2, cov, 1, 0, 0, out);
  }
  cov[0][0] = x.e[0];
  cov[0][1] = cov[1][0] = x.e[1];
  cov[1][1] = x.e[2];
  return pair_mean(act, sigma_w2, cov, 2, 0, 1, out, &order);
}

// Status sentence or empty on success.
std::string pair_jet(const Activation& act, double sigma_w2, bool same_site, double kaa, double kab, double kbb,
                     bool with_hessian, PairJet& jet) {
  jet = PairJet();
  jet.entries = same_site ? 1 : 3;
  Entries base{{kaa, same_site ? kaa : kab, same_site ? kaa : kbb}};
  if (!(kaa > 0) || (!same_site && !(kbb > 0)))
    return "a pre-activation variance is zero, so the 1/N expansion in the kernel is singular there";
  const double scale_ab = std::sqrt(kaa * kbb);
  double relative_cap = 1.0;
  if (!same_site) {
    const double gap = scale_ab - std::fabs(kab);  // distance from a singular 2 x 2 kernel
    if (!(gap > 1e-7 * scale_ab))
      return "two pre-activations are perfectly correlated (correlation within 1e-7 of 1), where the 1/N terms "
             "cannot be evaluated: use a single input";
    relative_cap = gap / (8 * scale_ab);
  }
  double scale[3] = {kaa, scale_ab, kbb};
  SiteOrder order;
  if (!same_site && kbb > kaa) std::swap(order.index[0], order.index[1]);  // canonical at the base point
  if (!pair_value(act, sigma_w2, same_site, base, order, jet.value)) return "unsupported integral";
  auto value_at = [&](int i, double di, int j, double dj) {
    Entries x = base;
    x.e[i] += di;
    if (j >= 0) x.e[j] += dj;
    double v = 0;
    pair_value(act, sigma_w2, same_site, x, order, v);
    return v;
  };
  const int n = jet.entries;
  const int index[3] = {0, 1, 2};
  const double hg = std::min(kGradientStep, relative_cap);
  for (int i = 0; i < n; ++i) {
    const double h = hg * scale[index[i]];
    jet.grad[i] = (value_at(i, h, -1, 0) - value_at(i, -h, -1, 0)) / (2 * h);
  }
  if (!with_hessian) return {};
  const double hh = std::min(kHessianStep, relative_cap);
  for (int i = 0; i < n; ++i) {
    const double h = hh * scale[i];
    jet.hess[i][i] = (value_at(i, h, -1, 0) - 2 * jet.value + value_at(i, -h, -1, 0)) / (h * h);
    for (int j = 0; j < i; ++j) {
      const double k = hh * scale[j];
      const double v =
          (value_at(i, h, j, k) - value_at(i, h, j, -k) - value_at(i, -h, j, k) + value_at(i, -h, j, -k)) / (4 * h * k);
      jet.hess[i][j] = jet.hess[j][i] = v;
    }
  }
  return {};
}

}  // namespace

int pair_basis_index(int a, int b, int inputs) {
  if (a > b) std::swap(a, b);
  // Row-major upper triangle: (0,0), (0,1), ..., (0,P-1), (1,1), ...
  return a * inputs - a * (a - 1) / 2 + (b - a);
}

// ---------------------------------------------------------------------------------------------------
// 4. The job
// ---------------------------------------------------------------------------------------------------
struct FiniteWidthJob::Impl {
  FiniteWidthSpec spec;
  FiniteWidthResult result;
  int P = 1;  // inputs
  int Q = 1;  // pairs per layer: P (P + 1) / 2
  int depth = 0;
  bool done = false;
  bool want_mean = true;
  double work_done = 0, work_total = 1;

  // Deep state
  int layer = 0;
  Eigen::MatrixXd deep_D, deep_m;  // D^{l-1}, m^{l-1} in the pair basis (Q x Q, Q)

  // Recurrent state
  enum class Phase { pairs, inverse, sigma, tau_setup, tau, finish } phase = Phase::pairs;
  int S = 0;      // sites (t, a) -> t * P + a
  int pairs = 0;  // S (S + 1) / 2, causal order
  int next_pair = 0;
  std::vector<double> cbar;                                   // C-bar_p
  std::vector<std::vector<std::pair<int, double>>> jacobian;  // A_pq, sparse rows
  std::vector<PairJet> eq_jet;                                // jets of the equal-time pairs (with Hessians)
  std::vector<int> eq_pairs;                                  // equal-time pair -> global pair, ordered by time then basis
  Eigen::MatrixXd minv;                                       // M^-1 (pairs x pairs)
  Eigen::MatrixXd sigma_eq;                                   // Sigma between equal-time pairs
  std::vector<std::pair<int, int>> sigma_units;
  std::size_t next_sigma = 0;
  struct TauUnit {
    int eq, d;
  };
  std::vector<TauUnit> tau_units;
  std::vector<double> tau_values;
  std::size_t next_tau = 0;

  void fail(StatusCode code, std::string message) {
    result.status = Status::error(code, std::move(message));
    done = true;
  }

  // --- helpers shared by both architectures
  int site_time(int s) const { return s / P; }
  int site_input(int s) const { return s % P; }
  static int pair_index(int a, int b) {
    if (a > b) std::swap(a, b);
    return b * (b + 1) / 2 + a;
  }
  // The deterministic part of K between sites x and y: bias and input terms (docs/theory.md §4.1).
  double base_kernel(int x, int y) const {
    const int t = site_time(x), s = site_time(y), a = site_input(x), b = site_input(y);
    const bool deep = spec.network.arch == Architecture::deep;
    double k = 0;
    if (deep) {
      if (t != s) return 0;  // independent layers
      k = spec.network.sigma_b2;
      if (t == 0) k += spec.network.input_variance() * spec.input_gram(a, b);
      return k;
    }
    k = (spec.network.bias_mode == BiasMode::shared || t == s) ? spec.network.sigma_b2 : 0.0;
    if (spec.network.input_mode == InputMode::every_step || (t == 0 && s == 0))
      k += spec.network.input_variance() * spec.input_gram(a, b);
    return k;
  }
  // The pair of C that feeds K(x, y), or -1 (docs/theory.md §5.1: K(C) is linear in C).
  int feeding_pair(int x, int y) const {
    if (site_time(x) == 0 || site_time(y) == 0) return -1;
    if (spec.network.arch == Architecture::deep && site_time(x) != site_time(y)) return -1;
    return pair_index(x - P, y - P);
  }
  double kernel_at(int x, int y) const {
    const int p = feeding_pair(x, y);
    return base_kernel(x, y) + (p >= 0 ? cbar[p] : 0.0);
  }

  bool validate();
  void deep_step();
  void recurrent_pairs_step();
  void recurrent_inverse();
  void recurrent_tau_setup();
  void recurrent_finish();
  double sigma_unit(int i, int j) const;
  double tau_unit(const TauUnit& u, bool& ok) const;
  void fill_relative(FiniteWidthLayer& layer) const;
};

bool FiniteWidthJob::Impl::validate() {
  const FiniteWidthSpec& s = spec;
  P = static_cast<int>(s.input_gram.rows());
  result.inputs = P;
  result.architecture = s.network.arch;
  depth = s.network.depth;
  if (s.input_gram.rows() != s.input_gram.cols() || P < 1) {
    fail(StatusCode::invalid_input, "The input Gram matrix must be square with 1 or 2 inputs.");
    return false;
  }
  if (P > 2) {
    fail(StatusCode::invalid_input,
         "The 1/N theory is implemented for one or two inputs (P = 1 or 2); got P = " + std::to_string(P) + ".");
    return false;
  }
  if (!s.input_gram.allFinite()) {
    fail(StatusCode::invalid_input, "The input Gram matrix contains a non-finite number.");
    return false;
  }
  for (int a = 0; a < P; ++a)
    if (!(s.input_gram(a, a) >= 0)) {
      fail(StatusCode::invalid_input, "The input Gram matrix has a negative diagonal entry.");
      return false;
    }
  if (P == 2 && (std::fabs(s.input_gram(0, 1) - s.input_gram(1, 0)) > 1e-12 * (1 + std::fabs(s.input_gram(0, 1))) ||
                 s.input_gram(0, 1) * s.input_gram(0, 1) > s.input_gram(0, 0) * s.input_gram(1, 1) * (1 + 1e-12))) {
    fail(StatusCode::invalid_input, "The input Gram matrix must be symmetric and positive semi-definite.");
    return false;
  }
  if (Status bad = s.network.validate(); !bad.ok()) {
    fail(bad.code, std::move(bad.message));
    return false;
  }
  if (s.network.arch == Architecture::recurrent && s.network.input_mode == InputMode::sequence) {
    fail(StatusCode::not_defined, "The 1/N theory supports input at t = 0 or at every step, not input sequences.");
    return false;
  }
  Q = P * (P + 1) / 2;
  const Activation& act = s.network.activation;
  if (s.network.arch == Architecture::deep) {
    const double layers = depth + 1.0;
    // Per layer: the jets (about 1 + 6 + 12 evaluations of each of Q pairs) and Q (Q + 1) / 2 Sigma entries.
    work_total = layers * (Q * 19.0 * nodes_for_rank(act, P) + Q * (Q + 1) / 2.0 * nodes_for_rank(act, P));
    const double bytes = layers * 8.0 * (4.0 * P * P + 2.0 * Q * Q);
    if (bytes > double(s.memory_budget_bytes)) {
      fail(StatusCode::too_large, "Storing " + std::to_string(depth + 1) + " layers needs " + short_number(bytes / 1048576.0) +
                                      " MiB, over the budget: use fewer layers.");
      return false;
    }
  } else {
    S = (depth + 1) * P;
    const double pair_count = S * (S + 1.0) / 2;
    const double bytes = 8.0 * pair_count * pair_count;
    if (bytes > double(s.memory_budget_bytes)) {
      fail(StatusCode::too_large, "The 1/N theory of a recurrent network with T = " + std::to_string(depth) +
                                      " and P = " + std::to_string(P) + " needs " + short_number(bytes / 1048576.0) +
                                      " MiB for the response matrix M^-1, over the budget of " +
                                      short_number(double(s.memory_budget_bytes) / 1048576.0) + " MiB: use fewer steps.");
      return false;
    }
    if (!act.smooth() && P > 1) {
      fail(StatusCode::not_defined, "For " + act.name() +
                                        " (a kinked activation) the recurrent 1/N variance at P = 2 needs "
                                        "4-D integrals across kinks, for which no exact rule is implemented: use P = 1.");
      return false;
    }
    const int eq = (depth + 1) * Q;
    const double sigma_work = eq * (eq + 1) / 2.0 * nodes_for_rank(act, 2 * P);
    // Upper bound on the tau units (pruned later): every equal-time pair against every pair, twice.
    const double tau_work = act.smooth() ? eq * pair_count * 2.0 * nodes_for_rank(act, std::min(4, 2 + P)) : 0.0;
    work_total = pair_count * 7.0 * nodes_for_rank(act, 2) + sigma_work + tau_work;
    if (sigma_work + pair_count * 7.0 * nodes_for_rank(act, 2) > s.max_node_visits) {
      fail(StatusCode::too_large, "The recurrent 1/N variance for T = " + std::to_string(depth) +
                                      " and P = " + std::to_string(P) + " needs about " + short_number(sigma_work) +
                                      " quadrature nodes, over the limit of " + short_number(s.max_node_visits) +
                                      ": use fewer steps.");
      return false;
    }
    if (!act.smooth()) {
      want_mean = false;
      result.mean_shift_status = Status::error(
          StatusCode::not_defined, "The recurrent mean shift needs 3-D integrals (the tau term) across the kinks of " +
                                       act.name() + ", for which no exact rule is implemented; the variance is exact.");
    } else if (work_total > s.max_node_visits) {
      want_mean = false;
      work_total -= tau_work;
      result.mean_shift_status = Status::error(
          StatusCode::too_large, "The recurrent mean shift (tau term) for T = " + std::to_string(depth) + " would need up to " +
                                     short_number(tau_work) + " quadrature nodes, over the limit of " +
                                     short_number(s.max_node_visits) + ": use fewer steps.");
    }
    result.gram_status = Status::error(StatusCode::not_defined,
                                       "The pre-activation Gram of a recurrent network has a mean shift from the dependence "
                                       "of W and phi(h^{t-1}) that this theory does not cover (docs/theory.md §5.5).");
  }
  std::ostringstream q;
  if (act.smooth())
    q << "tensor Gauss-Hermite over a Cholesky factor (nodes per dimension: 1-D 128, 2-D 64, 3-D 48, 4-D 28)";
  else
    q << "exact polar rule for the kinked " << act.name() << " (Gauss-Legendre between kink angles, Gauss-Laguerre in r^2/2)";
  q << "; derivatives by central differences";
  result.quadrature = q.str();
  return true;
}

void FiniteWidthJob::Impl::fill_relative(FiniteWidthLayer& layer) const {
  layer.relative_variance.resize(P, P);
  for (int a = 0; a < P; ++a)
    for (int b = 0; b < P; ++b) {
      const int p = pair_basis_index(a, b, P);
      const double c = layer.aux(a, b);
      layer.relative_variance(a, b) = c != 0 ? layer.covariance(p, p) / (c * c) : std::numeric_limits<double>::infinity();
    }
}

// ---------------------------------------------------------------------------------------------------
// 5. Deep network
// ---------------------------------------------------------------------------------------------------
// Layer l: K^l from C-bar^{l-1}; F at K^l gives C-bar^l, A_l = dF/dC^{l-1} and F''; Sigma^l over layer l;
// then D^l = Sigma^l + A_l D^{l-1} A_l^T and m^l = A_l m^{l-1} + 1/2 F''_l : D^{l-1} (docs/theory.md §5.2-5.3,
// Roberts-Yaida-Hanin). The Gram: N Cov(G-hat^l) = D^{l-1} + K K + K K, N (E G-hat^l - K^l) = m^{l-1} (§5.5).
void FiniteWidthJob::Impl::deep_step() {
  const int l = layer;
  const Activation& act = spec.network.activation;
  FiniteWidthLayer out;
  out.kernel.resize(P, P);
  for (int a = 0; a < P; ++a)
    for (int b = 0; b < P; ++b) {
      double k = spec.network.sigma_b2 +
                 (l == 0 ? spec.network.input_variance() * spec.input_gram(a, b) : result.layers[l - 1].aux(a, b));
      out.kernel(a, b) = k;
    }
  if (!out.kernel.allFinite() || out.kernel.cwiseAbs().maxCoeff() > kDivergence) {
    fail(StatusCode::diverged, "The kernel diverges at layer " + std::to_string(l) + " (sigma_w^2 = " +
                                   short_number(spec.network.sigma_w2) + " is beyond the stable range of " + act.name() + ").");
    return;
  }
  // Jets of F_p at K^l; entries (aa, ab, bb) map to pairs (aa), (ab), (bb) of the previous layer.
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(Q, Q);
  std::vector<PairJet> jets(Q);
  out.aux.resize(P, P);
  for (int a = 0; a < P; ++a)
    for (int b = a; b < P; ++b) {
      const int p = pair_basis_index(a, b, P);
      const std::string problem =
          pair_jet(act, spec.network.sigma_w2, a == b, out.kernel(a, a), out.kernel(a, b), out.kernel(b, b), l > 0, jets[p]);
      if (!problem.empty()) {
        fail(StatusCode::numerical, "At layer " + std::to_string(l) + " " + problem + ".");
        return;
      }
      out.aux(a, b) = out.aux(b, a) = jets[p].value;
      const int feeds[3] = {pair_basis_index(a, a, P), pair_basis_index(a, b, P), pair_basis_index(b, b, P)};
      for (int e = 0; e < jets[p].entries; ++e) A(p, feeds[e]) += jets[p].grad[e];
    }
  // Sigma^l between the pairs of this layer (at most 2 sites: 1-D or 2-D integrals).
  // Only the distinct sites an entry uses enter its rule (1-D for (11, 11), as at P = 1).
  Eigen::MatrixXd sigma(Q, Q);
  for (int a = 0; a < P; ++a)
    for (int b = a; b < P; ++b)
      for (int c = 0; c < P; ++c)
        for (int d = c; d < P; ++d) {
          const int p = pair_basis_index(a, b, P), q = pair_basis_index(c, d, P);
          if (q > p) continue;
          LocalBlock block;
          const int la = block.add(a), lb = block.add(b), lc = block.add(c), ld = block.add(d);
          for (int u = 0; u < block.sites; ++u)
            for (int v = 0; v < block.sites; ++v) block.cov[u][v] = out.kernel(block.global[u], block.global[v]);
          double v = 0;
          pair_covariance(act, spec.network.sigma_w2, block.cov, block.sites, la, lb, lc, ld, v);
          sigma(p, q) = sigma(q, p) = v;
        }
  Eigen::MatrixXd mean(Q, 1);
  if (l == 0) {
    out.covariance = sigma;
    mean.setZero();  // C-hat^0 is an average of N iid terms: unbiased
  } else {
    out.covariance = sigma + A * deep_D * A.transpose();
    mean = A * deep_m;
    for (int a = 0; a < P; ++a)
      for (int b = a; b < P; ++b) {
        const int p = pair_basis_index(a, b, P);
        const int feeds[3] = {pair_basis_index(a, a, P), pair_basis_index(a, b, P), pair_basis_index(b, b, P)};
        double second = 0;
        for (int i = 0; i < jets[p].entries; ++i)
          for (int j = 0; j < jets[p].entries; ++j) second += jets[p].hess[i][j] * deep_D(feeds[i], feeds[j]);
        mean(p) += 0.5 * second;
      }
  }
  out.mean_shift.resize(P, P);
  for (int a = 0; a < P; ++a)
    for (int b = 0; b < P; ++b) out.mean_shift(a, b) = mean(pair_basis_index(a, b, P));
  // Gram of the pre-activations h^l (docs/theory.md §5.5): Wishart noise around sigma_b^2 + C-hat^{l-1}.
  out.gram_covariance.resize(Q, Q);
  for (int a = 0; a < P; ++a)
    for (int b = a; b < P; ++b)
      for (int c = 0; c < P; ++c)
        for (int d = c; d < P; ++d) {
          const int p = pair_basis_index(a, b, P), q = pair_basis_index(c, d, P);
          const Eigen::MatrixXd& K = out.kernel;
          out.gram_covariance(p, q) = K(a, c) * K(b, d) + K(a, d) * K(b, c) + (l > 0 ? deep_D(p, q) : 0.0);
        }
  out.gram_mean_shift = l > 0 ? result.layers[l - 1].mean_shift : Eigen::MatrixXd::Zero(P, P);
  fill_relative(out);
  if (!out.covariance.allFinite() || !mean.allFinite()) {
    fail(StatusCode::numerical, "The 1/N terms overflowed at layer " + std::to_string(l) + ".");
    return;
  }
  deep_D = out.covariance;
  deep_m = mean;
  result.layers.push_back(std::move(out));
  ++layer;
  work_done += Q * 19.0 * nodes_for_rank(act, P) + Q * (Q + 1) / 2.0 * nodes_for_rank(act, P);
  if (layer > depth) done = true;
}

// ---------------------------------------------------------------------------------------------------
// 6. Recurrent network
// ---------------------------------------------------------------------------------------------------
// Pairs of sites (x <= y) in causal order: index y (y + 1) / 2 + x, so every pair comes after the pairs
// feeding its kernel entries (their sites are one step earlier).
void FiniteWidthJob::Impl::recurrent_pairs_step() {
  const int p = next_pair;
  int y = 0;
  while ((y + 1) * (y + 2) / 2 <= p) ++y;
  const int x = p - y * (y + 1) / 2;
  const bool eq = site_time(x) == site_time(y);
  const double kxx = kernel_at(x, x), kxy = kernel_at(x, y), kyy = kernel_at(y, y);
  if (!std::isfinite(kxx) || !std::isfinite(kyy) || kxx > kDivergence || kyy > kDivergence) {
    fail(StatusCode::diverged, "The kernel diverges by time " + std::to_string(site_time(y)) +
                                   " (sigma_w^2 = " + short_number(spec.network.sigma_w2) + " is beyond the stable range of " +
                                   spec.network.activation.name() + ").");
    return;
  }
  PairJet jet;
  const std::string problem = pair_jet(spec.network.activation, spec.network.sigma_w2, x == y, kxx, kxy, kyy, eq, jet);
  if (!problem.empty()) {
    fail(StatusCode::numerical, "At time " + std::to_string(site_time(y)) + " " + problem + ".");
    return;
  }
  cbar[p] = jet.value;
  const int feeds[3] = {feeding_pair(x, x), feeding_pair(x, y), feeding_pair(y, y)};
  for (int e = 0; e < jet.entries; ++e)
    if (feeds[e] >= 0 && jet.grad[e] != 0) jacobian[p].push_back({feeds[e], jet.grad[e]});
  if (eq) {
    const int t = site_time(y);
    eq_jet[t * Q + pair_basis_index(site_input(x), site_input(y), P)] = jet;
  }
  work_done += 7.0 * nodes_for_rank(spec.network.activation, 2);
  if (++next_pair == pairs) phase = Phase::inverse;
}

// M^-1 = I + A + A^2 + ... by forward substitution: row p = e_p + sum_q A_pq row q (q < p).
void FiniteWidthJob::Impl::recurrent_inverse() {
  minv = Eigen::MatrixXd::Zero(pairs, pairs);
  for (int p = 0; p < pairs; ++p) {
    minv(p, p) = 1;
    for (const auto& [q, a] : jacobian[p]) minv.row(p).head(q + 1) += a * minv.row(q).head(q + 1);
  }
  const int eq = static_cast<int>(eq_pairs.size());
  sigma_eq = Eigen::MatrixXd::Zero(eq, eq);
  for (int i = 0; i < eq; ++i)
    for (int j = 0; j <= i; ++j) sigma_units.push_back({i, j});
  phase = Phase::sigma;
}

// Sigma between equal-time pairs i and j (different times: the cross-time kernel enters, docs/theory.md §5.2).
double FiniteWidthJob::Impl::sigma_unit(int i, int j) const {
  LocalBlock block;
  auto sites_of = [&](int pair, int& x, int& y) {
    int yy = 0;
    while ((yy + 1) * (yy + 2) / 2 <= pair) ++yy;
    y = yy;
    x = pair - yy * (yy + 1) / 2;
  };
  int x1, y1, x2, y2;
  sites_of(eq_pairs[i], x1, y1);
  sites_of(eq_pairs[j], x2, y2);
  const int a = block.add(x1), b = block.add(y1), c = block.add(x2), d = block.add(y2);
  for (int u = 0; u < block.sites; ++u)
    for (int v = 0; v < block.sites; ++v) block.cov[u][v] = kernel_at(block.global[u], block.global[v]);
  double out = 0;
  pair_covariance(spec.network.activation, spec.network.sigma_w2, block.cov, block.sites, a, b, c, d, out);
  return out;
}

// tau_b = sum_{c,d} (dSigma_bd / dC_c) (M^-1)_cd (docs/theory.md §5.3): one unit per (equal-time b, pair d), the
// derivative of Sigma_bd along C-bar + eps M^-1 e_d. Units whose direction does not touch the kernel of
// their sites are pruned here.
void FiniteWidthJob::Impl::recurrent_tau_setup() {
  const int eq = static_cast<int>(eq_pairs.size());
  double work = 0;
  for (int i = 0; i < eq; ++i) {
    const int b = eq_pairs[i];
    int yb = 0;
    while ((yb + 1) * (yb + 2) / 2 <= b) ++yb;
    const int xb = b - yb * (yb + 1) / 2;
    for (int d = 0; d < pairs; ++d) {
      int yd = 0;
      while ((yd + 1) * (yd + 2) / 2 <= d) ++yd;
      const int xd = d - yd * (yd + 1) / 2;
      const int sites[4] = {xb, yb, xd, yd};
      bool touches = false;
      for (int u = 0; u < 4 && !touches; ++u)
        for (int v = u; v < 4 && !touches; ++v) {
          const int c = feeding_pair(sites[u], sites[v]);
          if (c >= 0 && minv(c, d) != 0) touches = true;
        }
      if (!touches) continue;
      tau_units.push_back({i, d});
      int distinct = 0;
      LocalBlock block;
      for (int s : sites) block.add(s);
      distinct = block.sites;
      work += 2 * nodes_for_rank(spec.network.activation, distinct);
    }
  }
  tau_values.assign(tau_units.size(), 0.0);
  // Replace the upper bound of the estimate by the pruned count.
  const double tau_bound = eq * double(pairs) * 2.0 * nodes_for_rank(spec.network.activation, std::min(4, 2 + P));
  work_total += work - tau_bound;
  if (work_done + work > spec.max_node_visits * 1.0000001 + 1) {
    want_mean = false;
    result.mean_shift_status =
        Status::error(StatusCode::too_large, "The recurrent mean shift (tau term) needs " + short_number(work) +
                                                 " quadrature nodes, over the limit of " + short_number(spec.max_node_visits) +
                                                 ": use fewer steps.");
    work_total -= work;
    tau_units.clear();
    tau_values.clear();
  }
  phase = tau_units.empty() ? Phase::finish : Phase::tau;
}

double FiniteWidthJob::Impl::tau_unit(const TauUnit& u, bool& ok) const {
  const int b = eq_pairs[u.eq];
  auto sites_of = [&](int pair, int& x, int& y) {
    int yy = 0;
    while ((yy + 1) * (yy + 2) / 2 <= pair) ++yy;
    y = yy;
    x = pair - yy * (yy + 1) / 2;
  };
  int xb, yb, xd, yd;
  sites_of(b, xb, yb);
  sites_of(u.d, xd, yd);
  LocalBlock block;
  const int a1 = block.add(xb), a2 = block.add(yb), a3 = block.add(xd), a4 = block.add(yd);
  const int n = block.sites;
  double base[kMaxSites][kMaxSites], dir[kMaxSites][kMaxSites];
  double dir_max = 0, trace = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      base[i][j] = kernel_at(block.global[i], block.global[j]);
      const int c = feeding_pair(block.global[i], block.global[j]);
      dir[i][j] = c >= 0 ? minv(c, u.d) : 0.0;
      dir_max = std::max(dir_max, std::fabs(dir[i][j]));
    }
  for (int i = 0; i < n; ++i) trace += base[i][i];
  if (dir_max == 0) return 0;
  // Step: relative to the kernel's scale, and small enough to keep K +- eps dK positive semi-definite.
  Eigen::MatrixXd k(n, n), dk(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) k(i, j) = base[i][j], dk(i, j) = dir[i][j];
  const double lambda_min = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(k, Eigen::EigenvaluesOnly).eigenvalues()(0);
  const double dk_norm =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(dk, Eigen::EigenvaluesOnly).eigenvalues().cwiseAbs().maxCoeff();
  double eps = kTauStep * trace / n / dir_max;
  if (dk_norm > 0) eps = std::min(eps, 0.25 * lambda_min / dk_norm);
  if (!(eps > 1e-9 * trace / n / dir_max)) {
    ok = false;
    return 0;
  }
  double plus[kMaxSites][kMaxSites] = {}, minus[kMaxSites][kMaxSites] = {};
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      plus[i][j] = base[i][j] + eps * dir[i][j];
      minus[i][j] = base[i][j] - eps * dir[i][j];
    }
  double vp = 0, vm = 0;
  const SiteOrder order = canonical_order(base, n);
  ok = pair_covariance(spec.network.activation, spec.network.sigma_w2, plus, n, a1, a2, a3, a4, vp, &order) &&
       pair_covariance(spec.network.activation, spec.network.sigma_w2, minus, n, a1, a2, a3, a4, vm, &order);
  return (vp - vm) / (2 * eps);
}

// D_eq = (M^-1)_eq Sigma_eq (M^-1)_eq^T and m_eq = (M^-1)_eq [1/2 F'' : D + tau] (docs/theory.md §5.2-5.3):
// equal-time pairs are fed only by equal-time pairs, so the equal-time block of M^-1 is closed.
void FiniteWidthJob::Impl::recurrent_finish() {
  const int eq = static_cast<int>(eq_pairs.size());
  Eigen::MatrixXd minv_eq(eq, eq);
  for (int i = 0; i < eq; ++i)
    for (int j = 0; j < eq; ++j) minv_eq(i, j) = minv(eq_pairs[i], eq_pairs[j]);
  const Eigen::MatrixXd D = minv_eq * sigma_eq * minv_eq.transpose();
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(eq);
  if (want_mean) {
    for (int t = 1; t <= depth; ++t)
      for (int a = 0; a < P; ++a)
        for (int b = a; b < P; ++b) {
          const int i = t * Q + pair_basis_index(a, b, P);
          const PairJet& jet = eq_jet[i];
          const int prev = (t - 1) * Q;
          const int feeds[3] = {prev + pair_basis_index(a, a, P), prev + pair_basis_index(a, b, P),
                                prev + pair_basis_index(b, b, P)};
          double second = 0;
          for (int u = 0; u < jet.entries; ++u)
            for (int v = 0; v < jet.entries; ++v) second += jet.hess[u][v] * D(feeds[u], feeds[v]);
          rhs(i) = 0.5 * second;
        }
    for (std::size_t k = 0; k < tau_units.size(); ++k) rhs(tau_units[k].eq) += tau_values[k];
  }
  const Eigen::VectorXd mean = minv_eq * rhs;
  if (!D.allFinite() || !mean.allFinite()) {
    fail(StatusCode::numerical, "The 1/N terms overflowed.");
    return;
  }
  for (int t = 0; t <= depth; ++t) {
    FiniteWidthLayer out;
    out.kernel.resize(P, P);
    out.aux.resize(P, P);
    if (want_mean) out.mean_shift.resize(P, P);  // left empty when mean_shift_status says why not
    for (int a = 0; a < P; ++a)
      for (int b = 0; b < P; ++b) {
        const int x = t * P + a, y = t * P + b;
        out.kernel(a, b) = kernel_at(x, y);
        out.aux(a, b) = cbar[pair_index(x, y)];
        if (want_mean) out.mean_shift(a, b) = mean(t * Q + pair_basis_index(a, b, P));
      }
    out.covariance = D.block(t * Q, t * Q, Q, Q);
    fill_relative(out);
    result.layers.push_back(std::move(out));
  }
  done = true;
}

FiniteWidthJob::FiniteWidthJob(const FiniteWidthSpec& spec) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.spec = spec;
  if (!m.validate()) return;
  if (spec.network.arch == Architecture::recurrent) {
    m.pairs = m.S * (m.S + 1) / 2;
    m.cbar.assign(m.pairs, 0.0);
    m.jacobian.assign(m.pairs, {});
    m.eq_jet.assign((m.depth + 1) * m.Q, PairJet());
    for (int t = 0; t <= m.depth; ++t)
      for (int a = 0; a < m.P; ++a)
        for (int b = a; b < m.P; ++b) m.eq_pairs.push_back(Impl::pair_index(t * m.P + a, t * m.P + b));
  }
}

FiniteWidthJob::~FiniteWidthJob() = default;

const FiniteWidthResult& FiniteWidthJob::result() const { return impl_->result; }
FiniteWidthResult FiniteWidthJob::take_result() { return std::move(impl_->result); }

double FiniteWidthJob::progress() const {
  if (impl_->done) return 1.0;
  return std::clamp(impl_->work_done / std::max(impl_->work_total, 1.0), 0.0, 0.999);
}

bool FiniteWidthJob::step(double budget_seconds) {
  Impl& m = *impl_;
  if (m.done) return true;
  SliceTimer timer(budget_seconds);
  while (!m.done) {
    if (cancelled()) {
      m.fail(StatusCode::cancelled, "Cancelled.");
      break;
    }
    if (m.spec.network.arch == Architecture::deep) {
      m.deep_step();
    } else {
      switch (m.phase) {
        case Impl::Phase::pairs: m.recurrent_pairs_step(); break;
        case Impl::Phase::inverse: m.recurrent_inverse(); break;
        case Impl::Phase::sigma: {
          // A batch of independent Sigma entries over the worker pool; each writes its own entry.
          const int batch = static_cast<int>(std::min<std::size_t>(m.sigma_units.size() - m.next_sigma, 16 * thread_count()));
          const std::size_t first = m.next_sigma;
          parallel_for(batch, [&](int begin, int end) {
            for (int k = begin; k < end; ++k) {
              const auto [i, j] = m.sigma_units[first + k];
              m.sigma_eq(i, j) = m.sigma_eq(j, i) = m.sigma_unit(i, j);
            }
          });
          for (int k = 0; k < batch; ++k) {
            const auto [i, j] = m.sigma_units[first + k];
            const int ti = i / m.Q, tj = j / m.Q;
            m.work_done += nodes_for_rank(m.spec.network.activation, ti == tj ? m.P : 2 * m.P);
          }
          m.next_sigma += batch;
          if (m.next_sigma == m.sigma_units.size()) m.phase = m.want_mean ? Impl::Phase::tau_setup : Impl::Phase::finish;
          break;
        }
        case Impl::Phase::tau_setup: m.recurrent_tau_setup(); break;
        case Impl::Phase::tau: {
          const int batch = static_cast<int>(std::min<std::size_t>(m.tau_units.size() - m.next_tau, 16 * thread_count()));
          const std::size_t first = m.next_tau;
          std::vector<char> ok(batch, 1);
          parallel_for(batch, [&](int begin, int end) {
            for (int k = begin; k < end; ++k) {
              bool unit_ok = true;
              m.tau_values[first + k] = m.tau_unit(m.tau_units[first + k], unit_ok);
              ok[k] = unit_ok;
            }
          });
          for (int k = 0; k < batch; ++k)
            if (!ok[k] && m.want_mean) {
              m.want_mean = false;
              m.result.mean_shift_status =
                  Status::error(StatusCode::numerical,
                                "The recurrent mean shift needs derivatives at a (nearly) singular kernel of several "
                                "times, which could not be evaluated.");
            }
          m.work_done += batch * 2.0 * nodes_for_rank(m.spec.network.activation, 3);
          m.next_tau += batch;
          if (m.next_tau == m.tau_units.size()) m.phase = Impl::Phase::finish;
          break;
        }
        case Impl::Phase::finish: m.recurrent_finish(); break;
      }
    }
    if (timer.expired()) break;
  }
  return m.done;
}

FiniteWidthResult finite_width(const FiniteWidthSpec& spec) {
  FiniteWidthJob job(spec);
  job.run();
  return job.take_result();
}

// ---------------------------------------------------------------------------------------------------
// 7. Correlation length (docs/theory.md §5.6)
// ---------------------------------------------------------------------------------------------------
namespace {
// Least-squares slope of log|c^{l+1} - c^l| against l over [begin, end); xi = -1 / slope.
double fit_xi(const std::vector<double>& c, int begin, int end, int& points) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  points = 0;
  for (int l = begin; l < end && l + 1 < static_cast<int>(c.size()); ++l) {
    const double diff = std::fabs(c[l + 1] - c[l]);
    if (!(diff > 1e-13)) continue;  // at rounding level: no information on the decay
    const double y = std::log(diff);
    sx += l, sy += y, sxx += double(l) * l, sxy += l * y;
    ++points;
  }
  if (points < 3) return std::numeric_limits<double>::quiet_NaN();
  const double slope = (points * sxy - sx * sy) / (points * sxx - sx * sx);
  return slope < 0 ? -1.0 / slope : std::numeric_limits<double>::infinity();
}
}  // namespace

CorrelationLength finite_width_correlation_length(const FiniteWidthResult& result, double width, int fit_begin, int fit_end) {
  CorrelationLength out;
  if (result.inputs != 2) {
    out.status = Status::error(StatusCode::not_defined, "The correlation length needs two inputs (P = 2).");
    return out;
  }
  if (!result.mean_shift_status.ok()) {
    out.status = Status::error(StatusCode::not_defined,
                               "The correlation length correction needs the mean shift: " + result.mean_shift_status.message);
    return out;
  }
  if (!(width >= 1) || !std::isfinite(width)) {
    out.status = Status::error(StatusCode::invalid_input, "The width N must be a finite number of at least 1.");
    return out;
  }
  const int layers = static_cast<int>(result.layers.size());
  for (const FiniteWidthLayer& layer : result.layers) {
    const Eigen::MatrixXd& c = layer.aux;
    const Eigen::MatrixXd cn = c + layer.mean_shift / width;
    out.correlation_mft.push_back(c(0, 1) / std::sqrt(c(0, 0) * c(1, 1)));
    out.correlation_finite.push_back(cn(0, 1) / std::sqrt(std::max(cn(0, 0) * cn(1, 1), 1e-300)));
  }
  const int begin = fit_begin >= 0 ? fit_begin : layers / 2;
  const int end = fit_end >= 0 ? std::min(fit_end, layers - 1) : layers - 1;
  int points_mft = 0;
  out.xi_mft = fit_xi(out.correlation_mft, begin, end, points_mft);
  out.xi_finite = fit_xi(out.correlation_finite, begin, end, out.points);
  if (std::isnan(out.xi_mft) || std::isnan(out.xi_finite)) {
    out.xi_mft = out.xi_finite = 0;
    out.status = Status::error(StatusCode::numerical,
                               "Fewer than 3 layers in the fit window have a correlation change above rounding level: "
                               "use a window closer to the input, or more layers.");
  }
  return out;
}

FiniteWidthEntry finite_width_entry(const FiniteWidthResult& result, bool gram, int layer, int i, int j) {
  FiniteWidthEntry v;
  if (layer < 0 || std::size_t(layer) >= result.layers.size()) return v;
  const FiniteWidthLayer& l = result.layers[std::size_t(layer)];
  const int p = static_cast<int>(l.kernel.rows());
  if (i < 0 || j < 0 || i >= p || j >= p) return v;
  const int k = pair_basis_index(i, j, p);
  if (gram) {
    v.mean_field = l.kernel(i, j);
    if (!result.gram_status.ok()) return v;
    if (l.gram_covariance.rows() > k) v.n_variance = l.gram_covariance(k, k);
    if (l.gram_mean_shift.rows() > std::max(i, j)) v.n_shift = l.gram_mean_shift(i, j);
    return v;
  }
  if (l.aux.rows() > std::max(i, j)) v.mean_field = l.aux(i, j);
  if (l.covariance.rows() > k) v.n_variance = l.covariance(k, k);
  if (l.mean_shift.rows() > std::max(i, j)) v.n_shift = l.mean_shift(i, j);
  return v;
}

}  // namespace fs
