// Deep linear networks at finite width (linear_exact.h, docs/theory.md §5.7).
#include "core/linear_exact.h"

#include <cmath>

#include "core/special_functions.h"

namespace fs {

bool linear_exact_applies(const Network& network) {
  return network.arch == Architecture::deep && network.activation.kind == ActivationKind::linear;
}

LinearLyapunov linear_lyapunov(double sigma_w2, int width) {
  LinearLyapunov l;
  l.width = width;
  const double half = 0.5 * width;
  l.mean_field = 0.5 * std::log(sigma_w2);
  l.mean = l.mean_field + 0.5 * digamma_minus_log(half);
  l.first_order = l.mean_field - 0.5 / width;
  l.layer_variance = 0.25 * trigamma(half);
  return l;
}

double linear_critical_sigma_w2(int width) { return std::exp(-digamma_minus_log(0.5 * width)); }

LinearGramMoments linear_gram_moments(const Network& network, double input_gram, int width) {
  LinearGramMoments m;
  if (!linear_exact_applies(network)) {
    m.status = Status::error(StatusCode::invalid_input, "The exact finite-width moments are for deep linear networks.");
    return m;
  }
  if (Status bad = network.validate(); !bad.ok()) {
    m.status = bad;
    return m;
  }
  if (width < 1 || !(input_gram >= 0) || !std::isfinite(input_gram)) {
    m.status =
        Status::error(StatusCode::invalid_input, "The width must be at least 1 and the input Gram finite and non-negative.");
    return m;
  }
  // E X = 1 and E X^2 = 1 + 2/N for X = chi^2_N / N; the layer's scale a = sigma_w^2 G + sigma_b^2 is
  // independent of X, so E G = E a and E G^2 = (1 + 2/N) E a^2.
  const double growth = 1 + 2.0 / width;
  const double a0 = network.input_variance() * input_gram + network.sigma_b2;
  double first = a0, second = growth * a0 * a0;
  const double w = network.sigma_w2, b = network.sigma_b2;
  for (int l = 0; l <= network.depth; ++l) {
    if (l > 0) {
      const double next_second = growth * (w * w * second + 2 * w * b * first + b * b);
      first = w * first + b;
      second = next_second;
    }
    m.mean.push_back(first);
    m.variance.push_back(std::max(0.0, second - first * first));
  }
  return m;
}

}  // namespace fs
