// The inputs of docs/theory.md §2.2 that several tests share: x1 = (1.2, 0, -0.6), x2 = (0.3, 1.5, 0.9) and
// x3 = (-0.9, 0.6, 1.2) in d = 3 (G_11 = 0.6).
#pragma once
#include <Eigen/Core>

#include "core/inputs.h"

namespace fs::testing {

// The first `count` of x1, x2, x3.
inline InputSet example_inputs(int count = 3) {
  Eigen::MatrixXd x(3, 3);
  x << 1.2, 0, -0.6, 0.3, 1.5, 0.9, -0.9, 0.6, 1.2;
  InputSet in;
  in.count = count;
  in.dim = 3;
  in.x = {x.topRows(count)};
  return in;
}

// x1 alone: with sigma_in^2 = 2, sigma_b^2 = 0.1 the input kernel is 1.3 (docs/theory.md §4.3).
inline InputSet single_input() { return example_inputs(1); }

}  // namespace fs::testing
