// Recurrent network two-time kernel K^{ts}_{ab} with W shared over time (docs/theory.md §4).
#pragma once
#include <Eigen/Core>
#include <memory>
#include <vector>

#include "core/activations.h"
#include "core/gaussian.h"
#include "core/inputs.h"
#include "core/job.h"
#include "core/network.h"
#include "core/status.h"

namespace fs {

struct RecurrentKernelSpec {
  Network network;  // its depth is T: times 0..T (the architecture field is not read)
  std::size_t memory_budget_bytes = std::size_t(1) << 30;
};

struct RecurrentKernelResult {
  int steps = 0;   // T
  int inputs = 0;  // P
  // Blocks K^{ts} for s <= t, stored at t (t + 1) / 2 + s; K^{st} = (K^{ts})^T.
  std::vector<Eigen::MatrixXd> blocks;
  Status status;
  int inexact_variances = 0;

  bool has(int t, int s) const;  // K^{ts} was computed (a partial result holds fewer blocks)
  // K^{ts} (P x P) for any t, s in 0..T.
  Eigen::MatrixXd block(int t, int s) const;
  double at(int t, int s, int a, int b) const;
};

class RecurrentKernelJob : public Job {
 public:
  RecurrentKernelJob(const RecurrentKernelSpec& spec, const InputSet& inputs);
  bool step(double budget_seconds) override;
  double progress() const override;
  const RecurrentKernelResult& result() const { return result_; }
  RecurrentKernelResult take_result() { return std::move(result_); }

 private:
  Eigen::MatrixXd input_term(int t, int s) const;  // B^{ts} + I^{ts}
  Eigen::MatrixXd& block_ref(int t, int s) { return result_.blocks[t * (t + 1) / 2 + s]; }

  RecurrentKernelSpec spec_;
  InputSet inputs_;
  RecurrentKernelResult result_;
  std::unique_ptr<PairIntegrator> equal_time_;  // variances of one time
  std::unique_ptr<PairIntegrator> cross_time_;  // variances of all times 0..T-1
  int p_ = 0;
  int t_ = 1, row_ = 0;      // next time t and row (equal-time phase) or (s, a) item (cross-time phase)
  bool equal_phase_ = true;  // first every K^{tt}, then the cross-time blocks
  bool block_started_ = false;
  long long rows_done_ = 0, rows_total_ = 0;
  bool done_ = false;
};

RecurrentKernelResult recurrent_kernel(const RecurrentKernelSpec& spec, const InputSet& inputs);

double recurrent_kernel_bytes(int inputs, int steps);

}  // namespace fs
