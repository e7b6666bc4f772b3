// Independent reference integrals for the tests: composite Gauss-Legendre on a truncated range with
// break points at kinks and adaptive refinement. Shares no code with core/gaussian.cpp.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

namespace fs::reference {

struct Legendre {
  std::vector<double> x, w;
  explicit Legendre(int n) : x(n), w(n) {
    for (int i = 0; i < n; ++i) {
      double z = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5)), pp = 0;
      for (int it = 0; it < 100; ++it) {
        double p1 = 1, p2 = 0;
        for (int j = 1; j <= n; ++j) {
          const double p3 = p2;
          p2 = p1;
          p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
        }
        pp = n * (z * p1 - p2) / (z * z - 1);
        const double dz = p1 / pp;
        z -= dz;
        if (std::abs(dz) < 1e-16) break;
      }
      x[i] = z;
      w[i] = 2 / ((1 - z * z) * pp * pp);
    }
  }
};

inline const Legendre& legendre32() {
  static const Legendre rule(32);
  return rule;
}

// Adaptive: a panel is accepted when a 32-point rule on it agrees with the sum over its two halves.
inline double integrate(const std::function<double(double)>& f, double a, double b, double tol, int depth = 0) {
  const Legendre& g = legendre32();
  auto panel = [&](double lo, double hi) {
    const double m = 0.5 * (lo + hi), r = 0.5 * (hi - lo);
    double s = 0;
    for (std::size_t i = 0; i < g.x.size(); ++i) s += g.w[i] * f(m + r * g.x[i]);
    return s * r;
  };
  const double whole = panel(a, b);
  const double m = 0.5 * (a + b);
  const double halves = panel(a, m) + panel(m, b);
  if (std::abs(whole - halves) <= tol || depth > 30) return halves;
  return integrate(f, a, m, 0.5 * tol, depth + 1) + integrate(f, m, b, 0.5 * tol, depth + 1);
}

// Integral over [a, b] split at the given break points (kinks of the integrand).
inline double integrate_split(const std::function<double(double)>& f, double a, double b, std::vector<double> breaks,
                              double tol) {
  std::sort(breaks.begin(), breaks.end());
  double total = 0, lo = a;
  for (double x : breaks) {
    if (x <= lo || x >= b) continue;
    total += integrate(f, lo, x, tol);
    lo = x;
  }
  return total + integrate(f, lo, b, tol);
}

inline double gauss_density(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi); }

// E[f(sqrt(q) z)], with f kinked at 0 at most.
inline double mean_1d(const std::function<double(double)>& f, double q, double tol = 1e-14) {
  const double s = std::sqrt(q);
  return integrate_split([&](double z) { return f(s * z) * gauss_density(z); }, -12, 12, {0.0}, tol);
}

// E[f(u) g(v)] for (u, v) with variances q1, q2 and covariance c; f and g kinked at 0 at most.
inline double mean_2d(const std::function<double(double)>& f, const std::function<double(double)>& g, double q1, double q2,
                      double c, double tol = 1e-13) {
  const double s1 = std::sqrt(q1), s2 = std::sqrt(q2);
  const double rho = std::clamp(c / (s1 * s2), -1.0, 1.0);
  const double rp = std::sqrt(std::max(0.0, 1 - rho * rho));
  auto inner = [&](double z1) {
    // v = s2 (rho z1 + rp z2) changes sign at z2 = -rho z1 / rp.
    std::vector<double> breaks;
    if (rp > 0) breaks.push_back(-rho * z1 / rp);
    const double in = rp > 0 ? integrate_split([&](double z2) { return g(s2 * (rho * z1 + rp * z2)) * gauss_density(z2); }, -12,
                                               12, breaks, 0.1 * tol)
                             : g(s2 * rho * z1);
    return f(s1 * z1) * in * gauss_density(z1);
  };
  return integrate_split(inner, -12, 12, {0.0}, tol);
}

}  // namespace fs::reference
