// GP predictions at many depths in one pass, and on many query points without their cross terms
// (docs/theory.md §7: "what the phase means for learning").
//
// The single-time readout at depth L is K_y = sigma_b^2 + sigma_w^2 E[phi(h^L) phi(h^L)] (gp.h), i.e.
// one more step of the recursion that gives K^{L+1}. So one recursion to depth L_max yields the readout
// kernel of every depth 0..L_max (for the deep network and the recurrent one alike: docs/theory.md §4.2).
// Prediction needs only three blocks of it: K_XX (train x train), K_*X (query x train) and the query
// diagonal; each entry of K^{l+1} depends only on the same entry and the two variances of K^l, so the
// query x query cross terms are never needed. That makes a dense decision surface (thousands of query
// points) cost n^2/2 + n m entries per layer instead of (n + m)^2 / 2.
//
// The arithmetic of every entry is that of GpJob's layered path (the same PairIntegrator::row calls
// with the same affine map), so the numbers agree with gp_run to rounding (tests/test_gp_grid.cpp).
#pragma once
#include <Eigen/Core>
#include <memory>
#include <vector>

#include "core/gp.h"
#include "core/job.h"
#include "core/status.h"

namespace fs {

// The three kernel blocks of one recursion over train and query points, advanced layer by layer.
class GpBlockKernels;

// Prediction quality of one readout depth.
struct GpDepthPoint {
  int depth = 0;
  double accuracy = 0;  // NaN for regression or without test points
  double mse = 0;
  double log_evidence = 0;
  double jitter = 0;
  double condition_number = 0;
  Status status;
};

// Classification/regression outcome of posterior means (gp.h's decision rule: sign for one output with
// the two classes in order, argmax over one-hot outputs otherwise).
struct GpPrediction {
  std::vector<double> predicted;  // per row: class id or the mean
  double accuracy = 0;            // NaN for regression or without rows
  double mse = 0;                 // mean over rows and outputs of (f - y)^2; NaN without rows
};
GpPrediction gp_predict(const Eigen::MatrixXd& mean, const GpTargets& targets, const std::vector<double>& labels,
                        bool classification);

// Accuracy, MSE and log evidence for the single-time readout at every depth 0..max_depth (0: the
// one-hidden-layer readout), from one recursion over [train; test] (the spec's depth and readout_from
// are ignored). Time-sliced by rows of the kernel blocks; each depth's solve is one unit.
class GpDepthScanJob : public Job {
 public:
  GpDepthScanJob(const GpSpec& spec, const GpProblem& problem, int max_depth);
  ~GpDepthScanJob() override;
  bool step(double budget_seconds) override;
  double progress() const override;
  const std::vector<GpDepthPoint>& points() const { return points_; }  // depths done so far: points()[L] is depth L
  const Status& status() const { return status_; }                     // a failure before any depth (bad spec, labels, size)

 private:
  GpSpec spec_;
  GpProblem problem_;
  GpTargets targets_;
  int max_depth_ = 0;
  std::unique_ptr<GpBlockKernels> kernels_;
  std::vector<GpDepthPoint> points_;
  Status status_;
  bool done_ = false;
};

// The grid of depth scans over sigma_w^2 values (one scan per column, done column by column).
class GpPhaseGridJob : public Job {
 public:
  GpPhaseGridJob(const GpSpec& spec, const GpProblem& problem, std::vector<double> sigma_w2_values, int max_depth);
  bool step(double budget_seconds) override;
  double progress() const override;
  const std::vector<double>& sigma_w2_values() const { return values_; }
  int max_depth() const { return max_depth_; }
  // points()[column][L] is depth L of that column, once done.
  const std::vector<std::vector<GpDepthPoint>>& points() const { return points_; }
  const Status& status() const { return status_; }  // the first failure of a whole column, if any

 private:
  GpSpec spec_;
  GpProblem problem_;
  std::vector<double> values_;
  int max_depth_ = 0;
  std::vector<std::vector<GpDepthPoint>> points_;
  std::unique_ptr<GpDepthScanJob> current_;
  int column_ = 0;
  Status status_;
};

// Posterior means (and latent variances) at many query points for the single-time readout at the
// spec's depth, or, for the deep network, the readout averaged over layers readout_from..L (gp.h);
// the recurrent network's averaged readout needs the cross-time blocks: use GpJob for it.
struct GpSurfaceResult {
  Eigen::MatrixXd mean;      // m x outputs
  Eigen::VectorXd variance;  // m (latent, without sigma_n^2), when asked for
  GpSolveResult solve;       // the solve on the training points (evidence, jitter, condition number)
  std::vector<double> classes;
  Status status;
};
class GpSurfaceJob : public Job {
 public:
  // problem.x_test are the query points (their labels are not used).
  GpSurfaceJob(const GpSpec& spec, const GpProblem& problem, bool with_variance);
  ~GpSurfaceJob() override;
  bool step(double budget_seconds) override;
  double progress() const override;
  const GpSurfaceResult& result() const { return result_; }
  // The spec's readout can be computed by this job.
  static bool supports(const GpSpec& spec);

 private:
  GpSpec spec_;
  GpProblem problem_;
  GpTargets targets_;
  bool with_variance_ = false;
  std::unique_ptr<GpBlockKernels> kernels_;
  GpSurfaceResult result_;
  bool done_ = false;
};

// Bytes the block kernels of n training and m query points in dimension d need at their peak.
double gp_block_kernel_bytes(int train, int query, int dim, bool averaged);

}  // namespace fs
