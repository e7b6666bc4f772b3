// The 1/N theory of the largest Lyapunov exponent of deep networks (docs/theory.md §5.8): the exponent
// lambda = (1/L) sum_l ln |J^l v^{l-1}| that the ensembles measure (core/ensemble.h) has the mean
// lambda_MF + c / N + O(1/N^2), with lambda_MF the layer average of (1/2) ln chi_1(q^{l-1}) and c from four
// sources per layer: the chi-square of |W u| (-1), the fluctuation of the tangent's share on each unit
// (3/2 - (3/2) E[phi'^4] / E[phi'^2]^2), the kernel's fluctuation and mean shift at O(1/N) (D and m of
// core/finite_width.h), and the correlation between the signal and the tangent built up over the
// layers. For linear networks c = -1/2 (exact: core/linear_exact.h), for ReLU -5/4.
#pragma once
#include "core/finite_width.h"
#include "core/network.h"
#include "core/status.h"

namespace fs {

struct LyapunovTheory {
  Status status;           // not_defined for recurrent networks, sign and step; else the 1/N theory's own
  double mean_field = 0;   // the layer average of (1/2) ln chi_1(q^{l-1}), l = 1..L
  double coefficient = 0;  // c = N (E lambda - mean_field) at O(1/N)
  double at_width(int width) const { return mean_field + coefficient / width; }
};

// From the 1/N theory of the same network and inputs (depth >= 1), for the tangent of input `input`.
LyapunovTheory lyapunov_theory(const Network& network, const FiniteWidthResult& theory, int input = 0);

}  // namespace fs
