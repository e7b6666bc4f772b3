// Gaussian-process (Bayesian) inference with the NNGP kernel of a deep or recurrent network
// (docs/theory.md §7; Lee et al. 2018; Rasmussen & Williams 2006, ch. 2). Classification is GP regression on
// the labels: +-1 for two classes, one-hot for more, one GP per output sharing the kernel.
//
// Readout kernel (docs/theory.md §7, with sigma_out^2 = sigma_w^2 and sigma_b,out^2 = sigma_b^2):
//   single layer/time R:  K_y = sigma_b^2 + sigma_w^2 E[phi(h^R) phi(h^R)]  (= K^{R+1} of the deep net)
//   time average over t in [R0, R], one readout vector shared by all times, y = w . (1/n) sum_t phi(h^t):
//                         K_y = sigma_b^2 + sigma_w^2 / n^2 sum_{t,s} E[phi(h^t) phi(h^s)]
// The deep network's pre-activations of different layers are uncorrelated, and at infinite width
// independent (docs/theory.md §2), so its terms t != s are products of one-point means,
//   E[phi(h^t(x)) phi(h^s(x'))] = E[phi(h^t(x))] E[phi(h^s(x'))]   (t != s; zero only for odd phi);
// the recurrent one keeps its cross-time blocks (docs/theory.md §4.3). At a single time both are identical
// (docs/theory.md §4.2); averaged over times they differ already at infinite width.
//
// Posterior (Rasmussen & Williams 2006, Algorithm 2.1), A = K_XX + (sigma_n^2 + jitter) I = L L^T:
//   mean  f_* = K_*X A^{-1} Y,   variance  K_** - |L^{-1} K_X*|^2,
//   log p(y_k) = -1/2 y_k^T A^{-1} y_k - sum_i log L_ii - n/2 log 2 pi   (per output k; summed)
// Cholesky in double precision. If A is not numerically positive definite (the factorisation fails,
// or its reciprocal condition estimate is below kMinReciprocalCondition), a jitter of 1e-12, 1e-11, ...
// up to 1e-2 times the mean diagonal is added and reported with the condition number.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/activations.h"
#include "core/gaussian.h"
#include "core/job.h"
#include "core/network.h"
#include "core/recurrent_kernel.h"  // RecurrentKernelJob
#include "core/status.h"

namespace fs {

// Below this reciprocal condition number (1-norm estimate) the solve would keep fewer than about four
// significant digits: jitter is added.
inline constexpr double kMinReciprocalCondition = 1e-12;
inline constexpr double kMaxRelativeJitter = 1e-2;

struct GpSpec {
  // The network read out: L layers (deep) or T steps (recurrent; input at t = 0 or at every step). An
  // unset sigma_in^2 follows sigma_w^2, also along sweeps of sigma_w^2 (the evidence curve, the
  // sigma_w^2 x depth grid), as the scene defines it (docs/scene.md).
  Network network;
  // Readout: from layer/time `readout_from` through `depth`, averaged (docs/theory.md §7); -1 (or = depth):
  // the single layer/time `depth`.
  int readout_from = -1;
  // Recurrent only: compute the readout kernel from the full two-time recursion even for a single
  // readout time (otherwise only the equal-time blocks are propagated: docs/theory.md §4.2). For tests.
  bool two_time_kernel = false;
  double sigma_n2 = 1e-2;        // observation noise / ridge on the training kernel's diagonal
  bool centred_targets = false;  // one-hot targets as 1 - 1/k and -1/k (docs/theory.md §7)
  bool with_variance = true;     // posterior variances (costs n^2 m)
  std::size_t memory_budget_bytes = std::size_t(1) << 30;
};

// A labelled problem: points are rows; labels are class ids (classification) or targets.
struct GpProblem {
  Eigen::MatrixXd x_train, x_test;
  std::vector<double> y_train, y_test;
  bool classification = true;
};

// Targets of a classification problem: the classes (sorted distinct training labels) and the n x k
// target matrix (k = 1 with -1/+1 for two classes, one-hot columns otherwise). A test label that is not
// a training class gives an error.
struct GpTargets {
  std::vector<double> classes;
  Eigen::MatrixXd train, test;
  Status status;
};
GpTargets gp_targets(const GpProblem& problem, bool centred);

// Solving for a given readout kernel: the posterior and evidence from K (train block, test x train
// block, test diagonal).
struct GpSolveResult {
  Eigen::MatrixXd mean;        // m x k posterior means at the test points
  Eigen::VectorXd variance;    // m posterior variances (latent f, without sigma_n^2), if asked for
  Eigen::MatrixXd train_mean;  // n x k posterior means at the training points
  std::vector<double> log_evidence_per_output;
  double log_evidence = 0;      // sum over outputs
  double jitter = 0;            // added to the diagonal on top of sigma_n^2
  double condition_number = 0;  // estimate of cond_1(K_XX + (sigma_n^2 + jitter) I)
  int jitter_attempts = 0;      // factorisations tried after the first
  Status status;
};
GpSolveResult gp_solve(const Eigen::Ref<const Eigen::MatrixXd>& k_train, const Eigen::Ref<const Eigen::MatrixXd>& k_test_train,
                       const Eigen::Ref<const Eigen::VectorXd>& k_test_diag, const Eigen::MatrixXd& targets, double sigma_n2,
                       bool with_variance);

// Bytes a GP run needs at its peak, for the memory check before the kernel and the solve.
double gp_memory_bytes(const GpSpec& spec, int train, int test, int outputs, int dim);

struct GpResult {
  Status status;
  // The readout kernel over [train; test] points (kept: the UI and the tests read it).
  Eigen::MatrixXd kernel;
  GpSolveResult solve;
  std::vector<double> classes;    // classification: the class ids, in the order of the outputs
  std::vector<double> predicted;  // per test point: the predicted class id (classification) or mean
  double accuracy = 0;            // fraction of test points classified right (NaN for regression)
  double mse = 0;                 // mean over test points and outputs of (f_* - y_*)^2
  double train_accuracy = 0;
  double memory_bytes = 0;  // the estimate checked against the budget
  int inexact_variances = 0;
};

class GpKernelState;  // the readout-kernel recursion (gp.cpp)
class GpSolver;       // the factorisation and the prediction (gp.cpp)

// Kernel, solve and prediction as a job. step() returns after about its budget in every stage: the
// kernel recursion goes row block by row block, the factorisation panel by panel (tiles on the thread
// pool), the condition estimate and the jitter retries one triangular sweep at a time, the prediction
// block by block. The results are the same to the last bit for any slicing and any thread count.
class GpJob : public Job {
 public:
  GpJob(const GpSpec& spec, const GpProblem& problem);
  ~GpJob() override;
  bool step(double budget_seconds) override;
  double progress() const override;  // the kernel, factorisation and prediction by their estimated work
  // What step() works on now: "kernel", "factorising" (with the condition estimate and any jitter
  // retries), "predicting" (solves, means, variances) or "done" (also after a failure or cancel()).
  const char* stage() const;
  const GpResult& result() const { return result_; }
  GpResult take_result();  // once done (the solve reads the kernel held in the result)

 private:
  void start_solve();
  void finish();
  void fail(Status s);

  GpSpec spec_;
  GpProblem problem_;
  GpTargets targets_;
  GpResult result_;
  std::unique_ptr<GpKernelState> kernel_;
  std::unique_ptr<GpSolver> solver_;
  double kernel_share_ = 0.5;  // of progress()
  int phase_ = 0;              // 0 kernel, 1 solve, 2 done
  bool done_ = false;
};

GpResult gp_run(const GpSpec& spec, const GpProblem& problem);

// The readout kernel alone over the rows of x (docs/theory.md §7): a job with the same recursion.
struct GpKernelResult {
  Eigen::MatrixXd kernel;
  Status status;
  int inexact_variances = 0;
};
GpKernelResult gp_readout_kernel(const GpSpec& spec, const Eigen::MatrixXd& x);

// The log evidence over a sweep of one hyperparameter (to choose it): each value re-runs the kernel
// and the training factorisation (no test points).
enum class GpSweepParameter { sigma_w2, sigma_b2, depth, sigma_n2 };
const char* gp_sweep_parameter_name(GpSweepParameter p);  // "w2" | "b2" | "L" | "sn2"
struct GpEvidencePoint {
  double value = 0;
  double log_evidence = 0;
  double jitter = 0;
  double condition_number = 0;
  Status status;
};
class GpEvidenceCurveJob : public Job {
 public:
  GpEvidenceCurveJob(const GpSpec& spec, const GpProblem& problem, GpSweepParameter parameter, std::vector<double> values);
  bool step(double budget_seconds) override;
  double progress() const override;
  const std::vector<GpEvidencePoint>& points() const { return points_; }

 private:
  GpSpec spec_;
  GpProblem problem_;
  GpSweepParameter parameter_;
  std::vector<double> values_;
  std::vector<GpEvidencePoint> points_;
  std::unique_ptr<GpJob> current_;
};
std::vector<GpEvidencePoint> gp_evidence_curve(const GpSpec& spec, const GpProblem& problem, GpSweepParameter parameter,
                                               const std::vector<double>& values);

}  // namespace fs
