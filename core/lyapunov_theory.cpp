// The 1/N theory of the Lyapunov exponent (lyapunov_theory.h, docs/theory.md §5.8).
#include "core/lyapunov_theory.h"

#include <cmath>
#include <vector>

#include "core/activations.h"
#include "core/gaussian.h"

namespace fs {

LyapunovTheory lyapunov_theory(const Network& network, const FiniteWidthResult& theory, int input) {
  LyapunovTheory out;
  const Activation& act = network.activation;
  if (network.arch != Architecture::deep) {
    out.status = Status::error(StatusCode::not_defined,
                               "The exponent of a recurrent network at fixed width is not a 1/N series at long times "
                               "(docs/theory.md §5.6): the points are measurements.");
    return out;
  }
  if (!act.has_derivative()) {
    out.status = Status::error(StatusCode::not_defined, "The Lyapunov exponent of " + act.name() + " is not defined.");
    return out;
  }
  if (!theory.status.ok() || !theory.mean_shift_status.ok()) {
    out.status = theory.status.ok() ? theory.mean_shift_status : theory.status;
    return out;
  }
  const int depth = static_cast<int>(theory.layers.size()) - 1;
  if (depth < 1 || input < 0 || input >= theory.inputs) {
    out.status = Status::error(StatusCode::invalid_input, "The Lyapunov theory needs at least one layer.");
    return out;
  }
  const int p = pair_basis_index(input, input, theory.inputs);
  // E[g(h)], h ~ N(0, q). Every g below is, for the piecewise-linear activations (ReLU, leaky ReLU), a constant
  // times h^0 or h^2 on each half-line, whose mean is then (g(sqrt q) + g(-sqrt q)) / 2 exactly.
  auto mean = [&](double q, auto g) {
    if (act.smooth()) return gaussian_mean_1d(g, q);
    const double s = std::sqrt(q);
    return 0.5 * (g(s) + g(-s));
  };
  auto dphi2 = [&](double q) { return mean_dphi_sq(act, q); };  // chi_1 / sigma_w^2, as the ensembles' mean field
  std::vector<double> q(depth + 1), slope2(depth + 1);
  for (int l = 0; l <= depth; ++l) {
    q[l] = theory.layers[l].kernel(input, input);
    slope2[l] = dphi2(q[l]);
  }
  // N E[a_k^2], a_k = (1/N) sum_i phi(h_i) phi'(h_i) v~_i (v~ = sqrt(N) v): the overlap of signal and tangent,
  // a_k = gamma_k a_{k-1} + noise of variance E[phi^2 phi'^2] / N, from a random start vector at k = 0.
  std::vector<double> overlap(depth + 1);
  const double sw = std::sqrt(network.sigma_w2);
  for (int k = 0; k <= depth; ++k) {
    const double noise = mean(q[k], [&](double h) {
      const double v = act.phi(h) * act.dphi(h);
      return v * v;
    });
    if (k == 0) {
      overlap[k] = noise;
      continue;
    }
    const double gamma =
        q[k] > 0 ? sw * mean(q[k], [&](double h) { return h * act.phi(h) * act.dphi(h); }) / (q[k] * std::sqrt(slope2[k - 1]))
                 : 0.0;
    overlap[k] = gamma * gamma * overlap[k - 1] + noise;
  }
  double mf = 0, c = 0;
  for (int l = 1; l <= depth; ++l) {
    const double ql = q[l - 1], s2 = slope2[l - 1];
    mf += 0.5 * std::log(network.sigma_w2 * s2);
    const double fourth = mean(ql, [&](double h) {
      const double d = act.dphi(h);
      return d * d * d * d;
    });
    double term = -1 + 1.5 - 1.5 * fourth / (s2 * s2);  // chi^2_N of |W u|; the ratio of two sums over units
    if (l >= 2 && ql > 0) {
      // The variance of h^{l-1} is C-hat^{l-2} + sigma_b^2: its mean shift m and covariance D at O(1/N) enter
      // through f(q) = ln E[phi'^2](q) to second order (central differences).
      const double dq = 1e-3 * ql, f0 = std::log(s2), fp = std::log(dphi2(ql + dq)), fm = std::log(dphi2(ql - dq));
      const FiniteWidthLayer& prev = theory.layers[l - 2];
      term += (fp - fm) / (2 * dq) * prev.mean_shift(input, input) + 0.5 * (fp - 2 * f0 + fm) / (dq * dq) * prev.covariance(p, p);
      // The correlation r of h^{l-1}_i and the tangent's image z_i raises E[phi'(h)^2 z^2] by
      // r^2 (E[h^2 phi'^2] / (q E[phi'^2]) - 1), with N E r^2 = sigma_w^2 N E[a^2] / (q E[phi'^2](q^{l-2})).
      const double h2 = mean(ql, [&](double h) {
        const double d = act.dphi(h);
        return h * h * d * d;
      });
      term += network.sigma_w2 * overlap[l - 2] / (ql * slope2[l - 2]) * (h2 / (ql * s2) - 1);
    }
    c += 0.5 * term;
  }
  out.mean_field = mf / depth;
  out.coefficient = c / depth;
  if (!std::isfinite(out.mean_field) || !std::isfinite(out.coefficient))
    out.status = Status::error(StatusCode::numerical, "The 1/N theory of the Lyapunov exponent is not finite here.");
  return out;
}

}  // namespace fs
