// Order-to-chaos: fixed points, depth scales, Lyapunov exponent, critical line, phase diagrams.
//
// Sections
//   1. Brent's root finder
//   2. maps and trajectories
//   3. fixed points (docs/theory.md §3)
//   4. critical line
//   5. phase diagram job
#include "core/criticality.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <utility>

#include "core/gaussian.h"
#include "core/gaussian_table.h"
#include "core/parallel.h"
#include "core/text.h"

namespace fs {

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::ordered: return "ordered";
    case Phase::critical: return "critical";
    case Phase::chaotic: return "chaotic";
    case Phase::diverged: return "diverged";
  }
  return "";
}

namespace {
// Homogeneous activations: E[phi(sqrt(q) z)^2] = kappa q exactly.
bool homogeneous(const Activation& act, double& kappa) {
  switch (act.kind) {
    case ActivationKind::linear: kappa = 1.0; return true;
    case ActivationKind::relu: kappa = 0.5; return true;
    case ActivationKind::leaky_relu: kappa = 0.5 * (1 + act.param * act.param); return true;
    default: return false;
  }
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// 1. Brent's method (Brent 1973, ch. 4): inverse quadratic interpolation guarded by bisection.
// ---------------------------------------------------------------------------------------------------
double brent_root(const std::function<double(double)>& f, double a, double b, double tolerance, int max_iterations) {
  double fa = f(a), fb = f(b);
  if (fa == 0) return a;
  if (fb == 0) return b;
  double c = a, fc = fa, d = b - a, e = d;
  for (int iter = 0; iter < max_iterations; ++iter) {
    if ((fb > 0) == (fc > 0)) {
      c = a;
      fc = fa;
      d = e = b - a;
    }
    if (std::abs(fc) < std::abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const double tol = 2 * 2.2e-16 * std::abs(b) + 0.5 * tolerance;
    const double m = 0.5 * (c - b);
    if (std::abs(m) <= tol || fb == 0) return b;
    if (std::abs(e) >= tol && std::abs(fa) > std::abs(fb)) {
      double p, q, r;
      const double s = fb / fa;
      if (a == c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        q = fa / fc;
        r = fb / fc;
        p = s * (2 * m * q * (q - r) - (b - a) * (r - 1));
        q = (q - 1) * (r - 1) * (s - 1);
      }
      if (p > 0)
        q = -q;
      else
        p = -p;
      if (2 * p < std::min(3 * m * q - std::abs(tol * q), std::abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = m;
      }
    } else {
      d = m;
      e = m;
    }
    a = b;
    fa = fb;
    b += std::abs(d) > tol ? d : (m > 0 ? tol : -tol);
    fb = f(b);
  }
  return b;
}

// ---------------------------------------------------------------------------------------------------
// 2. maps and trajectories
// ---------------------------------------------------------------------------------------------------
double q_map(const Network& p, double q) { return p.sigma_b2 + p.sigma_w2 * mean_phi_sq(p.activation, q); }

double c_map(const Network& p, double q, double c) {
  if (!(q > 0)) return 1.0;
  return (p.sigma_b2 + p.sigma_w2 * pair_expectation(p.activation, q, q, c * q)) / q;
}

SignalTrajectory signal_trajectory(const Network& p, double q1, double q2, double covariance, int layers) {
  SignalTrajectory out;
  auto push = [&](double a, double b, double c) {
    out.q1.push_back(a);
    out.q2.push_back(b);
    out.covariance.push_back(c);
    const double s = std::sqrt(a * b);
    out.correlation.push_back(s > 0 ? std::clamp(c / s, -1.0, 1.0) : 1.0);
  };
  push(q1, q2, covariance);
  for (int l = 1; l <= layers; ++l) {
    const double a = q_map(p, q1), b = q_map(p, q2);
    const double c = p.sigma_b2 + p.sigma_w2 * pair_expectation(p.activation, q1, q2, covariance);
    if (!std::isfinite(a) || !std::isfinite(b) || std::max(a, b) > 1e100) {
      out.status =
          Status::error(StatusCode::diverged, "The variance q grows without bound after layer " + std::to_string(l - 1) + ".");
      break;
    }
    q1 = a;
    q2 = b;
    covariance = c;
    push(a, b, c);
  }
  return out;
}

std::vector<double> q_iterates(const Network& p, double q0, int steps) {
  std::vector<double> out{q0};
  for (int i = 0; i < steps; ++i) {
    const double next = q_map(p, out.back());
    if (!std::isfinite(next) || next > 1e100) break;
    out.push_back(next);
  }
  return out;
}

std::vector<double> c_iterates(const Network& p, double q_star, double c0, int steps) {
  std::vector<double> out{c0};
  for (int i = 0; i < steps; ++i) out.push_back(c_map(p, q_star, out.back()));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 3. fixed points
// ---------------------------------------------------------------------------------------------------
namespace {

// The stable fixed point of the length map reached from small q, or a diverged status.
Status solve_q_star(const Network& p, const GaussianMeans& means, double& q_star) {
  const Activation& act = p.activation;
  double kappa = 0;
  if (homogeneous(act, kappa)) {
    const double gain = p.sigma_w2 * kappa;
    if (gain < 1) {
      q_star = p.sigma_b2 / (1 - gain);  // linear: sigma_b^2 / (1 - sigma_w^2); ReLU: sigma_b^2 / (1 - sigma_w^2/2)
      return {};
    }
    if (gain == 1 && p.sigma_b2 == 0) {
      q_star = 0;
      return Status::error(StatusCode::ok, "The length map is the identity: every q is a fixed point (marginal).");
    }
    q_star = kInfinity;
    return Status::error(StatusCode::diverged,
                         "q diverges: for " + act.name() + " the length map has no finite fixed point when sigma_w^2 >= " +
                             six_digit_number(1 / kappa) + (p.sigma_b2 > 0 ? " (or = with sigma_b^2 > 0)." : "."));
  }
  auto g = [&](double q) { return p.sigma_b2 + p.sigma_w2 * means.phi_sq(std::max(q, 0.0)) - q; };  // q_map(p, q) - q
  const double g0 = g(0.0);
  double lo = 0;
  if (g0 <= 0) {
    // q = 0 is a fixed point (sigma_b = 0, phi(0) = 0). It is the attracting one unless the map
    // rises above the diagonal right next to it.
    const double slope0 = act.has_derivative() ? p.sigma_w2 * act.slope_at_zero() * act.slope_at_zero() : kInfinity;
    if (slope0 <= 1) {
      q_star = 0;
      return {};
    }
    lo = 1e-12;
    while (g(lo) <= 0 && lo < 1e-3) lo *= 10;
    if (g(lo) <= 0) {
      q_star = 0;
      return {};
    }
  }
  // Upper bracket. If the map is still above the diagonal at large q and grows at least linearly
  // there (sigma_w^2 * growth >= 1), there is no finite fixed point: stop before integrating at
  // astronomically large q.
  double hi = std::max(1.0, 2 * std::abs(g0));
  while (g(hi) > 0) {
    lo = hi;
    hi *= 2;
    if (hi > 1e4 && p.sigma_w2 * act.growth() >= 1) {
      q_star = kInfinity;
      return Status::error(StatusCode::diverged,
                           "q diverges: the length map of " + act.name() +
                               " has no finite fixed point for sigma_w^2 = " + six_digit_number(p.sigma_w2) + ".");
    }
    if (hi > 1e6) {  // a fixed point this far out is divergence for every practical purpose
      q_star = kInfinity;
      return Status::error(StatusCode::diverged, "q* of " + act.name() + " exceeds 1e6 at sigma_w^2 = " +
                                                     six_digit_number(p.sigma_w2) + ": treated as divergence.");
    }
  }
  q_star = brent_root(g, lo, hi, 1e-15);
  return {};
}

// The stable fixed point of the c-map in the chaotic phase from h(c) = c_map(c) - c.
double stable_correlation(const std::function<double(double)>& h) {
  const double top = 1 - 1e-7;
  if (h(top) >= 0) return 1;  // chi_1 so close to 1 that c* is indistinguishable from 1
  return h(0.0) <= 0 ? 0.0 : brent_root(h, 0.0, top, 1e-15);
}

// c* and chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at c* from the Hermite coefficients b_0 .. b_{m-1} of phi
// at q* (b is overwritten with b_k^2) and E[phi(u)^2] = `energy`: c_map(c) = (sigma_b^2 + sigma_w^2
// sum_k b_k^2 c^k) / q* and, by Price's theorem, E[phi'(u1) phi'(u2)] = (1/q*) sum_k k b_k^2 c^(k-1).
// The terms beyond the m coefficients hold at most the energy they miss, T = energy - sum_k b_k^2, so
// they add at most T |c|^m to the c-map's sum and T max_{k >= m} k |c|^(k-1) to the slope's. False
// when either bound exceeds 1e-13 of its sum (the coefficients are too few for this c*).
bool correlation_from_coefficients(const Network& p, double q, std::vector<double>& b2, double energy, double& c_star,
                                   double& slope) {
  if (b2.empty()) return false;
  for (double& v : b2) v *= v;
  b2.resize((b2.size() + 3) / 4 * 4, 0.0);  // whole blocks for the sum below (the zeros are exact coefficients)
  // sum_k b2[k] c^k by Horner on four interleaved chains (in c^4), which do not wait on each other.
  auto sum = [&](double c) {
    const double c4 = (c * c) * (c * c);
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t k = b2.size(); k > 0;) {
      k -= 4;
      s0 = s0 * c4 + b2[k];
      s1 = s1 * c4 + b2[k + 1];
      s2 = s2 * c4 + b2[k + 2];
      s3 = s3 * c4 + b2[k + 3];
    }
    return ((s3 * c + s2) * c + s1) * c + s0;
  };
  const double c = stable_correlation([&](double c) { return (p.sigma_b2 + p.sigma_w2 * sum(c)) / q - c; });
  const int m = static_cast<int>(b2.size());
  double derivative = 0, kept = 0;
  for (int k = m - 1; k >= 1; --k) derivative = derivative * c + k * b2[k];
  for (double v : b2) kept += v;
  const double tail = std::max(0.0, energy - kept) + 4e-16 * energy;  // (the difference is only that exact)
  const double r = std::abs(c);
  if (!(r < 1)) return false;
  double peak = m;  // k r^(k-1) over k >= m peaks at k = m, or near 1 / ln(1/r) when that is larger
  if (r > 0) peak = std::max<double>(m, std::floor(-1 / std::log(r)));
  const double bound_sum = tail * std::pow(r, m);
  const double bound_slope = tail * std::max(peak * std::pow(r, peak - 1), (peak + 1) * std::pow(r, peak));
  if (!(bound_sum <= 1e-13 * sum(c)) || !(derivative > 0) || !(bound_slope <= 1e-13 * derivative)) return false;
  c_star = c;
  slope = p.sigma_w2 * derivative / q;
  return true;
}

// The reference: closed forms (GELU's too, accurate at any q, also next to the divergence of q where no
// series converges); or the Hermite series of phi at q* itself, with every coefficient its
// rule resolves, where it converged (its default truncation, a tail of 1e-10 of the energy, would move
// c* by up to 1e-8 where c* is close to 1), or a longer series where the truncation bounds need it; else
// the series as it is for c* and the series of phi' or a 512 x 512 product rule for chi_c.
void direct_correlation(const Network& p, double q, double& c_star, double& slope) {
  const Activation& act = p.activation;
  if (act.closed_form()) {
    c_star = stable_correlation([&](double c) { return c_map(p, q, c) - c; });
    slope = p.sigma_w2 * pair_derivative_expectation(act, q, q, c_star * q);
    return;
  }
  HermiteSeries series = hermite_series(act, PairFunction::phi, q);
  std::vector<double> b2 = series.coef;
  if (series.converged && correlation_from_coefficients(p, q, b2, series.energy, c_star, slope)) return;
  // Close to c* = 1 the bounds need more coefficients: a series resolved to a tail of 1e-15 (where the
  // default one converged: else no rule resolves phi here, and a longer series would not either).
  if (series.converged) {
    const HermiteSeries longer =
        hermite_series([&](double x) { return act.phi(x); }, q, 1e-15, 2 * static_cast<int>(series.coef.size()));
    b2 = longer.coef;
    if (longer.converged && correlation_from_coefficients(p, q, b2, longer.energy, c_star, slope)) return;
  }
  series.terms = static_cast<int>(series.coef.size());
  c_star = stable_correlation([&](double c) { return (p.sigma_b2 + p.sigma_w2 * series_pair(series, series, c)) / q - c; });
  // chi_c from phi''s own series with every coefficient its rule resolves (its default truncation is
  // 3.6e-11 off at c* = 0.996 for tanh), or the product rule where that series does not converge.
  HermiteSeries d = hermite_series(act, PairFunction::dphi, q);
  d.terms = static_cast<int>(d.coef.size());
  const auto dphi = [&](double x) { return act.dphi(x); };
  slope = p.sigma_w2 * (d.converged ? series_pair(d, d, c_star) : gauss_hermite_pair(dphi, dphi, q, q, c_star * q, 512));
}

// The same from the tabulated coefficients (rows exist where the series of phi converged), for q* in
// the table (b_k ~ q^(k/2) is not polynomial at 0); false where the reference must be used.
bool tabulated_correlation(const Network& p, double q, const GaussianMeans& means, double& c_star, double& slope) {
  if (q < GaussianTable::kSmallestEdge) return false;
  thread_local std::vector<double> b2;
  means.phi_coefficients(q, b2);
  return correlation_from_coefficients(p, q, b2, means.phi_sq(q), c_star, slope);
}

}  // namespace

GaussianMeans direct_means(const Activation& act) {
  GaussianMeans m;
  m.phi_sq = [act](double q) { return mean_phi_sq(act, q); };
  m.dphi_sq = [act](double q) { return mean_dphi_sq(act, q); };
  m.phi_sq_slope = [act](double q) { return mean_phi_sq_slope(act, q); };
  return m;
}

std::shared_ptr<const GaussianMeans> tabulated_means(const Activation& act) {
  // Closed forms are already cheap, and their shape parameters (erf's a, leaky ReLU's alpha) would make
  // a cache keyed by them grow with every value a slider passes through.
  if (act.closed_form()) return std::make_shared<const GaussianMeans>(direct_means(act));
  static std::mutex mutex;
  static std::map<int, std::shared_ptr<const GaussianMeans>> cache;  // by kind: these kinds have no parameter
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[static_cast<int>(act.kind)];
  if (!slot) {
    const GaussianMeans direct = direct_means(act);
    auto table = [](std::function<double(double)> f) {
      auto t = std::make_shared<const GaussianTable>(std::move(f));
      return [t](double q) { return (*t)(q); };
    };
    GaussianMeans m;
    m.phi_sq = table(direct.phi_sq);
    m.dphi_sq = table(direct.dphi_sq);
    m.phi_sq_slope = table(direct.phi_sq_slope);
    // The coefficients of a piece all come from the rule and truncation its largest q needs.
    auto coefficients = std::make_shared<const GaussianTable>(
        GaussianTable::RowReference([act](const std::vector<double>& q) {
          const auto phi = [&](double x) { return act.phi(x); };
          const HermiteSeries top = hermite_series(phi, std::max(*std::max_element(q.begin(), q.end()), 0.0));
          if (!top.converged) return GaussianTable::Rows{0, {}};  // no rows: the cells use the reference
          const int width = static_cast<int>(top.coef.size());
          if (top.nodes == 0) return GaussianTable::Rows{width, top.coef};  // q = 0 alone: phi(0) is b_0
          const std::vector<HermiteSeries> all = hermite_series_on_rule(phi, q, top.nodes, width);
          // Trailing coefficients that hold less than 1e-18 of every row's energy are left out (the
          // correlation's truncation bound counts them): tanh's rows shrink from 1025 to a few hundred.
          int used = 1;
          for (const HermiteSeries& s : all) {
            double tail = 0;
            int k = width;
            while (k > 1 && tail + s.coef[k - 1] * s.coef[k - 1] <= 1e-18 * s.energy) {
              tail += s.coef[k - 1] * s.coef[k - 1];
              --k;
            }
            used = std::max(used, k);
          }
          GaussianTable::Rows rows{used, std::vector<double>(q.size() * used)};
          for (std::size_t i = 0; i < q.size(); ++i) std::copy_n(all[i].coef.begin(), used, &rows.values[i * used]);
          return rows;
        }),
        1e-13, 1e-300);
    m.phi_coefficients = [coefficients](double q, std::vector<double>& b) { (*coefficients)(q, b); };
    slot = std::make_shared<const GaussianMeans>(std::move(m));
  }
  return slot;
}

FixedPoint fixed_point(const Network& p) { return fixed_point(p, direct_means(p.activation)); }

FixedPoint fixed_point(const Network& p, const GaussianMeans& means) {
  FixedPoint fp;
  const Activation& act = p.activation;
  if (Status bad = p.validate(); !bad.ok()) {
    fp.status = std::move(bad);
    fp.phase = Phase::diverged;
    return fp;
  }
  Status qs = solve_q_star(p, means, fp.q_star);
  if (qs.code == StatusCode::diverged) {
    fp.status = qs;
    fp.phase = Phase::diverged;
    fp.chi_1 = fp.chi_c = fp.xi_c = fp.xi_q = fp.lambda_max = kInfinity;
    fp.c_star = 1;
    return fp;
  }
  fp.status = qs;  // ok, possibly with a note
  const double q = fp.q_star;
  fp.chi_1 = p.sigma_w2 * means.dphi_sq(q);
  fp.q_slope = p.sigma_w2 * means.phi_sq_slope(q);
  fp.xi_q = fp.q_slope <= 0 ? 0.0 : (fp.q_slope >= 1 ? kInfinity : -1 / std::log(fp.q_slope));
  fp.lambda_max = 0.5 * std::log(fp.chi_1);
  const double kCriticalBand = 1e-10;
  if (std::abs(fp.chi_1 - 1) <= kCriticalBand)
    fp.phase = Phase::critical;
  else
    fp.phase = fp.chi_1 < 1 ? Phase::ordered : Phase::chaotic;

  if (fp.phase != Phase::chaotic || !(q > 0)) {
    fp.c_star = 1;
    fp.chi_c = fp.chi_1;
  } else {
    // Chaotic: c = 1 is unstable; the stable c* < 1 solves c_map(c) = c on [0, 1) (c_map(0) >= 0).
    double slope = 0;
    if (!(means.phi_coefficients && tabulated_correlation(p, q, means, fp.c_star, slope)))
      direct_correlation(p, q, fp.c_star, slope);
    fp.chi_c = fp.c_star >= 1 ? fp.chi_1 : slope;
  }
  fp.xi_c = fp.chi_c >= 1 ? kInfinity : (fp.chi_c <= 0 ? 0.0 : -1 / std::log(fp.chi_c));
  if (!std::isfinite(fp.chi_1)) {
    fp.status = Status::error(
        StatusCode::ok, act.name() + " has a delta-function derivative: chi_1 is infinite and the network is always chaotic.");
  }
  return fp;
}

// ---------------------------------------------------------------------------------------------------
// 4. critical line
// ---------------------------------------------------------------------------------------------------
CriticalPoint critical_point(const Activation& act, double sigma_b2) { return critical_point(act, sigma_b2, direct_means(act)); }

namespace {
// chi_1 at the fixed point (infinite where q diverges): the critical search needs nothing else.
double chi_1_at(const Network& p, const GaussianMeans& means) {
  double q = 0;
  if (solve_q_star(p, means, q).code == StatusCode::diverged) return kInfinity;
  return p.sigma_w2 * means.dphi_sq(q);
}
}  // namespace

CriticalPoint critical_point(const Activation& act, double sigma_b2, const GaussianMeans& means) {
  CriticalPoint cp;
  cp.sigma_b2 = sigma_b2;
  if (!act.has_derivative()) {
    cp.status = Status::error(StatusCode::not_defined, act.name() + " is chaotic for every sigma_w^2 > 0: chi_1 is infinite.");
    return cp;
  }
  double kappa = 0;
  if (homogeneous(act, kappa)) {
    const double slope2 = mean_dphi_sq(act, 1.0);  // E[phi'^2], independent of q
    if (sigma_b2 == 0) {
      cp.sigma_w2 = 1 / slope2;
    } else {
      cp.status =
          Status::error(StatusCode::diverged,
                        "For " + act.name() + " with sigma_b^2 > 0, q diverges at sigma_w^2 = " + six_digit_number(1 / kappa) +
                            " before chi_1 reaches 1; the only critical point is (" + six_digit_number(1 / slope2) + ", 0).");
    }
    return cp;
  }
  if (sigma_b2 == 0 && act.odd()) {
    // Odd phi without bias: q* = 0 in the whole ordered phase, so chi_1 = sigma_w^2 phi'(0)^2 there.
    // (Approached from the chaotic side chi_1 - 1 is only quadratic in the distance: a root finder
    // would lose half the digits.)
    cp.sigma_w2 = 1 / (act.slope_at_zero() * act.slope_at_zero());
    return cp;
  }
  auto chi = [&](double w2) { return chi_1_at(make_network(act, w2, sigma_b2), means); };
  double lo = 1e-6, hi = 1.0;
  if (chi(lo) >= 1) {
    cp.status = Status::error(StatusCode::not_defined, "chi_1 >= 1 already at sigma_w^2 = 1e-6: no order-to-chaos transition.");
    return cp;
  }
  // Activations that grow linearly diverge for sigma_w^2 >= 1 / growth whatever sigma_b^2: search
  // below that edge only (q* is huge right at the edge, and integrals there are costly).
  const double edge = act.growth() > 0 ? 1 / act.growth() : kInfinity;
  while (chi(hi) < 1) {
    lo = hi;
    hi *= 2;
    if (hi >= edge) {
      hi = edge * (1 - 1e-3);
      if (chi(hi) < 1) {
        cp.status =
            Status::error(StatusCode::diverged, "For " + act.name() + " q diverges at sigma_w^2 = " + six_digit_number(edge) +
                                                    " before chi_1 reaches 1.");
        return cp;
      }
      break;
    }
    if (hi > 1e4) {
      cp.status = Status::error(StatusCode::not_defined, "chi_1 stays below 1 up to sigma_w^2 = 1e4: no critical point.");
      return cp;
    }
  }
  auto f = [&](double w2) {
    const double c = chi(w2);
    return std::isfinite(c) ? c - 1 : 1.0;
  };
  cp.sigma_w2 = brent_root(f, lo, hi, 1e-13);
  if (!(std::abs(chi(cp.sigma_w2) - 1) <= 1e-6))
    cp.status = Status::error(StatusCode::diverged,
                              "q diverges at sigma_w^2 = " + six_digit_number(cp.sigma_w2) + " before chi_1 reaches 1.");
  return cp;
}

std::vector<CriticalPoint> critical_line(const Activation& act, const std::vector<double>& sigma_b2_values) {
  const std::shared_ptr<const GaussianMeans> means = tabulated_means(act);
  std::vector<CriticalPoint> out;
  out.reserve(sigma_b2_values.size());
  for (double b2 : sigma_b2_values) out.push_back(critical_point(act, b2, *means));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 5. phase diagram
// ---------------------------------------------------------------------------------------------------
double PhaseDiagram::sigma_w2(int column) const {
  return spec.columns > 1 ? spec.sigma_w2_min + (spec.sigma_w2_max - spec.sigma_w2_min) * column / (spec.columns - 1)
                          : spec.sigma_w2_min;
}
double PhaseDiagram::sigma_b2(int row) const {
  return spec.rows > 1 ? spec.sigma_b2_min + (spec.sigma_b2_max - spec.sigma_b2_min) * row / (spec.rows - 1) : spec.sigma_b2_min;
}

PhaseDiagramJob::PhaseDiagramJob(const PhaseDiagramSpec& spec) {
  result_.spec = spec;
  if (spec.columns < 1 || spec.rows < 1 || spec.columns > 4096 || spec.rows > 4096) {
    status_ = Status::error(StatusCode::invalid_input, "The phase-diagram grid must have 1 to 4096 columns and rows.");
    result_.spec.columns = result_.spec.rows = 0;
    return;
  }
  if (!(spec.sigma_w2_min > 0) || !(spec.sigma_w2_max >= spec.sigma_w2_min) || !(spec.sigma_b2_min >= 0) ||
      !(spec.sigma_b2_max >= spec.sigma_b2_min) || !std::isfinite(spec.sigma_w2_max) || !std::isfinite(spec.sigma_b2_max)) {
    status_ = Status::error(StatusCode::invalid_input,
                            "The phase-diagram ranges need 0 < sigma_w^2 min <= max and 0 <= sigma_b^2 min <= max.");
    result_.spec.columns = result_.spec.rows = 0;
    return;
  }
  const std::size_t n = static_cast<std::size_t>(spec.columns) * spec.rows;
  for (auto* v : {&result_.q_star, &result_.c_star, &result_.chi_1, &result_.chi_c, &result_.xi_c, &result_.lambda_max})
    v->assign(n, 0.0);
  result_.phase.assign(n, Phase::ordered);
  result_.done.assign(n, 0);
  means_ = tabulated_means(spec.activation);
  int stride = 1;
  while ((std::max(spec.columns, spec.rows) + stride - 1) / stride > 32) stride *= 2;
  order_.reserve(n);
  for (int s = stride; s >= 1; s /= 2) {
    for (int j = 0; j < spec.rows; j += s)
      for (int i = 0; i < spec.columns; i += s)
        if (s == stride || i % (2 * s) != 0 || j % (2 * s) != 0) order_.push_back(j * spec.columns + i);
    level_end_.push_back(static_cast<int>(order_.size()));
    level_stride_.push_back(s);
  }
}

int PhaseDiagram::shown_cell(int k) const {
  if (done[static_cast<std::size_t>(k)]) return k;
  if (complete_stride < 1) return -1;
  const int i = k % spec.columns, j = k / spec.columns;
  for (int s = 2;; s *= 2) {  // ends at complete_stride at the latest, whose corners are all done
    const int corner = (j - j % s) * spec.columns + (i - i % s);
    if (s >= complete_stride || done[static_cast<std::size_t>(corner)]) return corner;
  }
}

bool PhaseDiagramJob::step(double budget_seconds) {
  const int n = result_.spec.columns * result_.spec.rows;
  SliceTimer timer(budget_seconds);
  // Cells are independent fixed-point solves: a batch of a few per thread at a time, each cell
  // writing only its own entries, so the grid does not depend on the thread count.
  const int batch = 4 * thread_count();
  while (next_ < n) {
    if (cancelled()) {
      status_ = Status::error(StatusCode::cancelled, "Cancelled.");
      return true;
    }
    const int first = next_, count = std::min(batch, n - next_);
    parallel_for(count, [&](int begin, int end) {
      for (int o = first + begin; o < first + end; ++o) {
        const int k = order_[static_cast<std::size_t>(o)];
        const int i = k % result_.spec.columns, j = k / result_.spec.columns;
        const FixedPoint fp =
            fixed_point(make_network(result_.spec.activation, result_.sigma_w2(i), result_.sigma_b2(j)), *means_);
        result_.q_star[k] = fp.q_star;
        result_.c_star[k] = fp.c_star;
        result_.chi_1[k] = fp.chi_1;
        result_.chi_c[k] = fp.chi_c;
        result_.xi_c[k] = fp.xi_c;
        result_.lambda_max[k] = fp.lambda_max;
        result_.phase[k] = fp.phase;
        result_.done[k] = 1;
      }
    });
    next_ += count;
    for (std::size_t l = 0; l < level_end_.size(); ++l)
      if (next_ >= level_end_[l]) result_.complete_stride = level_stride_[l];
    if (timer.expired()) break;
  }
  return next_ >= n;
}

double PhaseDiagramJob::progress() const {
  const int n = result_.spec.columns * result_.spec.rows;
  return n > 0 ? double(next_) / n : 1.0;
}

PhaseDiagram phase_diagram(const PhaseDiagramSpec& spec) {
  PhaseDiagramJob job(spec);
  job.run();
  return job.take_result();
}

}  // namespace fs
