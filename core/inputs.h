// Network inputs: P points (or P sequences) in R^d, and their Gram matrices G = x x^T / d (docs/theory.md §1).
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fs {

enum class InputKind { circle, gaussian, points, csv };

// Sizes make_inputs and parse_inputs_csv accept (SceneLimits repeats the first three).
struct InputLimits {
  static constexpr int max_inputs = 4096;                             // P
  static constexpr int max_dim = 4096;                                // d
  static constexpr int max_steps = 1001;                              // time steps per input
  static constexpr std::int64_t max_numbers = std::int64_t{1} << 24;  // P x steps x d (128 MiB)
  static constexpr std::int64_t max_csv_bytes = std::int64_t{1} << 28;
};

// How the inputs of a scene are made. Plain data: part of the scene and of the share link.
struct InputsSpec {
  InputKind kind = InputKind::circle;
  int count = 8;                               // P: number of inputs (circle, gaussian)
  int dim = 3;                                 // d: input dimension (gaussian)
  double radius = 1.0;                         // circle: G_aa = radius^2; gaussian: E[G_aa] = radius^2
  double angle_span = 3.14159265358979323846;  // circle: angles theta_a = a * span / (P - 1)
  int steps = 1;                               // time steps per input (sequence input: T + 1)
  // points: P inputs, each `steps` x d numbers, row-major (step, then coordinate).
  std::vector<std::vector<double>> points;
  std::string csv_path;  // csv: a file with one input per row (CLI and desktop)

  bool operator==(const InputsSpec&) const = default;
};

// The materialised inputs. x[t] is P x d: the inputs at time step t (one step unless a sequence).
struct InputSet {
  int count = 0;
  int dim = 0;
  std::vector<Eigen::MatrixXd> x;

  int steps() const { return static_cast<int>(x.size()); }
  // G^{ts}_{ab} = x^t_a . x^s_b / d
  Eigen::MatrixXd gram(int t = 0, int s = 0) const;
};

struct InputsResult {
  InputSet inputs;
  Status status;
};

// Builds the inputs; `seed` keys the counter-based stream used by the gaussian kind, so the same
// spec gives the same numbers natively and in wasm.
InputsResult make_inputs(const InputsSpec& spec, std::uint64_t seed);

// Parses CSV text: one input per row, numbers separated by commas (or semicolons/whitespace), an
// optional header row of non-numeric names, '#' comments. `steps` > 1 splits each row into that many
// equal time steps. Errors name the line and column.
InputsResult parse_inputs_csv(std::string_view text, int steps = 1);

}  // namespace fs
