// Deep linear networks at finite width, exactly (docs/theory.md §5.7): anchors for the 1/N theory of
// criticality. With W^l ~ N(0, sigma_w^2 / N) fresh in every layer, |W v|^2 = (sigma_w^2 / N) |v|^2 chi^2_N for
// any vector v independent of W, so
//   - a tangent vector (and, without biases, the signal) grows by independent factors sigma_w^2 chi^2_N / N
//     per layer: the finite-depth Lyapunov exponent lambda_L = (1 / 2L) sum_l ln(sigma_w^2 chi^2_N / N) has
//     mean (1/2)[ln sigma_w^2 + psi(N/2) - ln(N/2)] and variance psi'(N/2) / (4L) at every N;
//   - the pre-activation Gram G^l = |h^l|^2 / N of one input follows G^l = (sigma_w^2 G^{l-1} + sigma_b^2) X_l
//     with X_l = chi^2_N / N independent, which gives its mean and variance exactly at every depth.
#pragma once
#include <vector>

#include "core/network.h"
#include "core/status.h"

namespace fs {

// Whether these results apply: a deep network (fresh weights per layer) with the linear activation.
bool linear_exact_applies(const Network& network);

struct LinearLyapunov {
  int width = 0;              // N
  double mean_field = 0;      // (1/2) ln sigma_w^2
  double mean = 0;            // E lambda = mean_field + (1/2)[psi(N/2) - ln(N/2)], at every depth
  double first_order = 0;     // its 1/N expansion to first order: mean_field - 1/(2N)
  double layer_variance = 0;  // Var of one layer's (1/2) ln(sigma_w^2 chi^2_N / N) = psi'(N/2) / 4
  // Var of the exponent of a depth-L network over networks: layer_variance / L (Hanin & Nica's L/N).
  double variance(int depth) const { return layer_variance / depth; }
};
LinearLyapunov linear_lyapunov(double sigma_w2, int width);

// The sigma_w^2 where the finite-width exponent vanishes: (N/2) exp(-psi(N/2)) = 1 + 1/N + 5/(6N^2) + ...
// (the mean-field critical point is sigma_w^2 = 1, at any sigma_b^2).
double linear_critical_sigma_w2(int width);

// Exact mean and variance of G^l, l = 0..depth, for one input of input Gram g = |x|^2 / d (h^0 = U x + b^0).
// The mean is the mean-field kernel K^l; width * variance tends to the 1/N theory's N Var(G^l) as N grows
// (the expansion of (1 + 2/N)^(l+1) - 1 in L/N; docs/theory.md §5.7).
struct LinearGramMoments {
  Status status;  // invalid_input for a non-linear or recurrent network, a width below 1 or g < 0
  std::vector<double> mean, variance;
};
LinearGramMoments linear_gram_moments(const Network& network, double input_gram, int width);

}  // namespace fs
