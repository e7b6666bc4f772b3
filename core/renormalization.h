// Kernel renormalization: the finite-width theory of learning in deep linear and globally gated deep linear
// networks in the proportional limit (P, N_l -> infinity at P/N_l fixed; docs/theory.md §10.4-10.6;
// Li & Sompolinsky, PRX 11, 031059 (2021), arXiv:2012.04030; NeurIPS 2022, arXiv:2210.17449).
//
// The posterior over the network's output is, to leading order, a GP whose kernel K_R (core/gated_linear.h)
// depends on the data through the order parameters U_1 .. U_L, the saddle point of
//   S[U] = sum_l N_l/2 { Tr[(U_{l+1}^-1 (x) I_{M_{l+1}}) U_l] - ln det U_l + M_{l+1} ln det U_{l+1} }
//          + 1/2 ln det(K_R + T I) + 1/2 Y^T (K_R + T I)^-1 Y,          U_{L+1} = 1.
// Solvers: the scalar fast path (one eigen-decomposition of K_GP, Brent on one unknown) where D_1 = 1; the
// damped fixed point of the stationarity equations (default otherwise); minimisation of S with L-BFGS over
// Cholesky factors, polished by the fixed point, where the fixed point does not converge.
#pragma once
#include <Eigen/Core>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/gated_linear.h"
#include "core/job.h"
#include "core/status.h"

namespace fs {

enum class RenormSolverKind {
  automatic,    // the fast path where D_1 = 1, else the fixed point with the minimiser as fallback
  fixed_point,  // the damped fixed point (docs/theory.md §10.6, solver A)
  minimize,     // L-BFGS on S, then the fixed point to polish (solver B)
  scalar,       // the fast path; an error where D_1 > 1
};
const char* renorm_solver_name(RenormSolverKind kind);  // "auto" | "fixed-point" | "minimize" | "scalar"
bool renorm_solver_from_name(const std::string& name, RenormSolverKind& kind);

struct RenormSpec {
  GatedLinearNetwork network;
  GateSpec gates;  // how make_gate_vectors builds the vectors when the problem brings none
  RenormSolverKind solver = RenormSolverKind::automatic;
  double tolerance = 1e-12;    // on the fixed point's residual (SolverReport::residual)
  int max_iterations = 20000;  // fixed-point iterations (L-BFGS has its own cap)
  std::size_t memory_budget_bytes = std::size_t(1) << 30;
};

// Scalar targets (regression, or +-1 labels for binary classification) on training and test inputs.
struct RenormProblem {
  Eigen::MatrixXd x_train, x_test;  // rows are points
  Eigen::VectorXd y_train, y_test;
  bool classification = false;                // +-1 labels: accuracies are reported
  std::vector<Eigen::MatrixXd> gate_vectors;  // per weight layer (core/gated_linear.h); empty: made from the spec
  TaskMask tasks;                             // several tasks with task-masked gates (core/gated_linear.h)
};

// What the solver did, in numbers and in one sentence.
struct SolverReport {
  std::string method;   // "scalar" | "fixed-point" | "minimize"
  int iterations = 0;   // fixed-point iterations, Brent evaluations, or L-BFGS + polishing iterations
  double residual = 0;  // at the end: max |U_1 map(U)_1^-1 - I| and max |map(U)_l - U_l| (l >= 2)
  double action = 0;    // S at the solution
  bool converged = false;
  std::string message;  // e.g. "Fixed-point solver converged in 41 iterations (residual 3.1e-13)."
};

// The posterior predictor on the test points and its errors (docs/theory.md §10.4).
struct PredictorStatistics {
  Eigen::VectorXd mean, variance;   // <f(x*)> and Var f(x*) (latent f: without T)
  double bias2 = 0;                 // mean over test points of (<f> - y)^2
  double variance_mean = 0;         // mean over test points of Var f
  double generalization_error = 0;  // bias2 + variance_mean
  double training_error = 0;        // (1/P)[T^2 zeta^T zeta + T Tr(K (K + T)^-1)]
  double accuracy = 0;              // classification: fraction of sign(<f>) = y (a zero mean counts 1/2)
  double sampled_accuracy = 0;      // classification: mean of Phi(y <f> / sqrt(Var f)), a sampled network's
};

struct RenormResult {
  Status status;
  std::vector<Eigen::MatrixXd> order_parameters;  // U_1 .. U_L (D_l x D_l)
  PredictorStatistics theory, gp;                 // at the solution, and in the GP limit (U = I)
  SolverReport report;
  std::vector<Eigen::MatrixXd> gate_vectors;  // the ones used
  double memory_bytes = 0;
};

// Bytes the theory needs at its peak for P training and Q test points, for the check against the budget.
double renorm_memory_bytes(const GatedLinearNetwork& net, int train, int test);

// Checks the spec and the problem (sizes, finite values, T > 0 where the GP kernel is singular) before any
// work; the sentence names what to change.
Status check_renorm_problem(const RenormSpec& spec, const RenormProblem& problem);

class RenormState;  // features, the evaluator and the solver's iterate (renormalization.cpp)

// The theory as a job: features and the GP limit, then solver iterations (one per unit of work), then the
// predictor. A warm start (order parameters of the same shapes, e.g. the previous point of a sweep) replaces
// U = I as the starting point.
class RenormJob : public Job {
 public:
  RenormJob(const RenormSpec& spec, const RenormProblem& problem, std::vector<Eigen::MatrixXd> warm_start = {});
  ~RenormJob() override;
  bool step(double budget_seconds) override;
  double progress() const override;
  const char* stage() const;  // "features" | "solving" | "predicting" | "done"
  const RenormResult& result() const { return result_; }

 private:
  RenormSpec spec_;
  RenormProblem problem_;
  std::vector<Eigen::MatrixXd> warm_start_;
  RenormResult result_;
  std::unique_ptr<RenormState> state_;
  int phase_ = 0;  // 0 features, 1 solving, 2 predicting, 3 done
};

// GP regression with kernel k and noise variance T: the posterior mean and variance on the test points, the
// errors and, with +-1 labels, the accuracies (docs/theory.md §10.4). Not ok where K + T I is not positive
// definite.
PredictorStatistics gp_predictor_statistics(const GatedLinearKernel& k, const Eigen::VectorXd& y_train,
                                            const Eigen::VectorXd& y_test, double temperature, bool classification,
                                            Status& status);
// The comparison the gates approach as M grows (docs/theory.md §10.2): GP regression with the NNGP kernel of a
// ReLU network with the same hidden layers L, every weight of prior variance sigma^2 and no biases (the
// arc-cosine recursion of core/deep_kernel.h), at the same T on the same data.
PredictorStatistics relu_nngp_prediction(const GatedLinearNetwork& net, const RenormProblem& problem, Status& status);

RenormResult renorm_run(const RenormSpec& spec, const RenormProblem& problem, std::vector<Eigen::MatrixXd> warm_start = {});

// --- Sweeps -----------------------------------------------------------------------------------------------
// tasks: the number K of tasks, which changes the data rather than the network (a sweep with a problem per value).
enum class RenormSweepParameter { width, sigma2, temperature, depth, gates, tasks };
const char* renorm_sweep_parameter_name(RenormSweepParameter p);  // "N" | "sigma2" | "T" | "L" | "M" | "K"
bool renorm_sweep_parameter_from_name(const std::string& name, RenormSweepParameter& p);
// The spec with one parameter set: every width N_l, sigma^2, T, the depth L (hidden layers of the first
// layer's width, the gate counts of the hidden layers extended), or every gated layer's M; K leaves the spec alone.
RenormSpec renorm_spec_at(const RenormSpec& spec, RenormSweepParameter parameter, double value);

struct RenormSweepPoint {
  double value = 0;
  RenormResult result;
  PredictorStatistics relu;  // relu_nngp_prediction at this point's L, sigma^2 and T
  Status relu_status;
};
// One solve per value, in the given order; along N, sigma^2 and T each solve starts from the previous
// point's order parameters (continuation: give N from large to small).
class RenormSweepJob : public Job {
 public:
  RenormSweepJob(const RenormSpec& spec, const RenormProblem& problem, RenormSweepParameter parameter,
                 std::vector<double> values);
  // A sweep whose values change the data (K tasks): the problem at each value. A problem without training
  // points stands for data that could not be made; its point fails with the theory's sentence.
  RenormSweepJob(const RenormSpec& spec, std::function<RenormProblem(double)> problem_at, RenormSweepParameter parameter,
                 std::vector<double> values);
  bool step(double budget_seconds) override;
  double progress() const override;
  const std::vector<RenormSweepPoint>& points() const { return points_; }

 private:
  RenormSpec spec_;
  RenormProblem problem_;  // the current point's
  std::function<RenormProblem(double)> problem_at_;
  RenormSweepParameter parameter_;
  std::vector<double> values_;
  std::vector<RenormSweepPoint> points_;
  std::unique_ptr<RenormJob> current_;
  GatedLinearNetwork relu_network_;  // the network of the last ReLU NNGP computed
};

}  // namespace fs
