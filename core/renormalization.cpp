// Kernel renormalization (docs/theory.md §10.4-10.6). Sections
//   1. Names, memory, checks
//   2. The evaluator: the data term of S and its gradient G at U_1
//   3. The Wishart chain: the Riccati root of (SP2), the action, its gradient
//   4. Solvers: scalar fast path, damped fixed point, L-BFGS over Cholesky factors
//   5. The predictor, and the ReLU NNGP's
//   6. The job and sweeps
#include "core/renormalization.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <functional>
#include <Eigen/QR>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>

#include "core/criticality.h"  // brent_root
#include "core/deep_kernel.h"  // the ReLU NNGP comparison
#include "core/spd_inverse.h"

namespace fs {

// --- 1. Names, memory, checks ---------------------------------------------------------------------------
const char* renorm_solver_name(RenormSolverKind kind) {
  switch (kind) {
    case RenormSolverKind::automatic: return "auto";
    case RenormSolverKind::fixed_point: return "fixed-point";
    case RenormSolverKind::minimize: return "minimize";
    case RenormSolverKind::scalar: return "scalar";
  }
  return "auto";
}

bool renorm_solver_from_name(const std::string& name, RenormSolverKind& kind) {
  for (RenormSolverKind k :
       {RenormSolverKind::automatic, RenormSolverKind::fixed_point, RenormSolverKind::minimize, RenormSolverKind::scalar})
    if (name == renorm_solver_name(k)) {
      kind = k;
      return true;
    }
  return false;
}

double renorm_memory_bytes(const GatedLinearNetwork& net, int train, int test) {
  const double p = train, q = test, d = net.paths(1);
  // P x P: the base kernel, K_R, its factor, (K_R + T)^-1, Omega o B, and for the fast path the GP kernel's
  // eigenvectors and workspace; Q x P: the test base kernel and K_R; paths; the chain's D x D matrices.
  return 8.0 * (8.0 * p * p + 3.0 * q * p + 2.0 * (p + q) * d + 12.0 * net.hidden_layers() * d * d);
}

Status check_renorm_problem(const RenormSpec& spec, const RenormProblem& problem) {
  const GatedLinearNetwork& net = spec.network;
  if (Status s = net.validate(); !s.ok()) return s;
  const Eigen::Index p = problem.x_train.rows(), dim = problem.x_train.cols();
  if (p < 1 || dim < 1) return Status::error(StatusCode::invalid_input, "The theory needs at least one training point.");
  if (problem.y_train.size() != p) return Status::error(StatusCode::invalid_input, "Every training point needs one target.");
  if (problem.x_test.rows() > 0 && problem.x_test.cols() != dim)
    return Status::error(StatusCode::invalid_input, "Test points have " + std::to_string(problem.x_test.cols()) +
                                                        " components, training points " + std::to_string(dim) + ".");
  if (problem.y_test.size() != problem.x_test.rows())
    return Status::error(StatusCode::invalid_input, "Every test point needs one target.");
  if (!problem.x_train.allFinite() || !problem.x_test.allFinite() || !problem.y_train.allFinite() || !problem.y_test.allFinite())
    return Status::error(StatusCode::invalid_input, "The data contain a value that is not a finite number.");
  if (problem.classification)
    for (const Eigen::VectorXd* y : {&problem.y_train, &problem.y_test})
      for (double v : *y)
        if (v != 1.0 && v != -1.0)
          return Status::error(StatusCode::invalid_input, "Binary classification needs labels -1 and +1.");
  for (int l = 1; l <= net.hidden_layers(); ++l)
    if (net.widths[l - 1] < net.paths(l))
      return Status::error(StatusCode::invalid_input,
                           "Hidden layer " + std::to_string(l) + " has " + std::to_string(net.widths[l - 1]) + " units but " +
                               std::to_string(net.paths(l)) +
                               " paths above it; the theory needs N_l >= D_l (more units or fewer gates).");
  const double bytes = renorm_memory_bytes(net, static_cast<int>(p), static_cast<int>(problem.x_test.rows()));
  if (bytes > static_cast<double>(spec.memory_budget_bytes)) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "The theory at P = %lld needs about %.0f MB, more than the %.0f MB budget; use fewer points.",
                  static_cast<long long>(p), bytes / 1e6, static_cast<double>(spec.memory_budget_bytes) / 1e6);
    return Status::error(StatusCode::too_large, text);
  }
  if (net.temperature == 0) {
    double rank_bound = static_cast<double>(dim);
    for (int m : net.gates) rank_bound *= m;
    if (static_cast<double>(p) > rank_bound)
      return Status::error(StatusCode::invalid_input,
                           "With more training points than the kernel's rank (at most N_0 times the gate "
                           "counts) the temperature T must be positive.");
  }
  if (Status s = check_task_mask(net, problem.tasks, p, problem.x_test.rows()); !s.ok()) return s;
  if (!problem.gate_vectors.empty()) return check_gate_vectors(net, problem.gate_vectors, static_cast<int>(dim));
  return Status::success();
}

// --- 2. The evaluator -----------------------------------------------------------------------------------
namespace {

struct Evaluation {
  bool ok = false;     // K_R + T I positive definite
  double log_det = 0;  // ln det(K_R + T I)
  double fit = 0;      // Y^T (K_R + T I)^-1 Y
  Eigen::MatrixXd g;   // G = c Phi^T (Omega o B) Phi: twice the data term's gradient in U_1
};

Eigen::MatrixXd symmetric(const Eigen::MatrixXd& a) { return 0.5 * (a + a.transpose()); }

// Function of a symmetric matrix through its eigen-decomposition.
template <class F>
Eigen::MatrixXd matrix_function(const Eigen::MatrixXd& a, F f) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(symmetric(a));
  const Eigen::VectorXd values = eig.eigenvalues().unaryExpr(f);
  return eig.eigenvectors() * values.asDiagonal() * eig.eigenvectors().transpose();
}

}  // namespace

// Bias^2, the mean variance, eps_g and (classification) the accuracies from the mean and variance.
void finish_predictor_statistics(PredictorStatistics& out, const Eigen::VectorXd& y_test, bool classification);

class RenormState {
 public:
  GatedLinearNetwork net;
  GatedLinearFeatures features;
  Eigen::VectorXd y_train, y_test;
  bool classification = false;
  double scale = 1;                // c = sigma^{2(L+1)} / D_1
  std::vector<Eigen::MatrixXd> u;  // U_1 .. U_L
  Eigen::MatrixXd u1_inverse;
  Evaluation at_u;   // the evaluation at the current U_1
  double eta = 0.5;  // damping of the fixed point
  double last_residual = std::numeric_limits<double>::infinity();
  int iterations = 0;
  std::string method;

  static constexpr int kAndersonDepth = 6;
  static constexpr double kRejectGrowth = 5;  // an accelerated step that multiplies the residual by more is undone
  static constexpr double kMinDamping = 0.125;
  static constexpr double kMaxDamping = 0.5;
  static constexpr double kMinimizerGradient = 1e-8;  // on |dS/d theta|_inf / N_max
  bool accelerate = true;                             // Anderson acceleration (off for D_1 > 256: its history is D_1^2 long)
  std::deque<Eigen::VectorXd> history_x, history_g;
  std::vector<Eigen::MatrixXd> good;  // the last state whose residual did not jump
  // The scalar path at T > 0: K_GP = Q M Q^T (M tridiagonal: diagonal, sub) and y' = Q^T Y, kept for the
  // predictions (predict_scalar); the GP kernel's test rows k(x*), k(x*, x*) and Q^T k(x*), made once when the
  // first prediction needs them (the theory's kernel is u times the GP's).
  std::unique_ptr<Eigen::Tridiagonalization<Eigen::MatrixXd>> tridiagonal;
  Eigen::VectorXd diagonal, sub, projected;
  Eigen::MatrixXd gp_test_train, projected_test;
  Eigen::VectorXd gp_test_diagonal;

  int layers() const { return net.hidden_layers(); }
  int gates(int weight_layer) const { return net.gates[weight_layer - 1]; }  // M_l, l = 1 .. L+1
  double width(int layer) const { return net.widths[layer - 1]; }

  Evaluation evaluate(const Eigen::MatrixXd& u1) const {
    Evaluation e;
    Eigen::MatrixXd a = scale * (features.paths_train * u1 * features.paths_train.transpose()).cwiseProduct(features.base_train);
    a.diagonal().array() += net.temperature;
    // (K_R + T)^-1 by potrf + potri's recursion (core/spd_inverse.h): P^3 flops.
    Eigen::MatrixXd omega;
    if (!spd_inverse(a, omega, &e.log_det)) return e;
    const Eigen::VectorXd zeta = omega * y_train;
    e.fit = y_train.dot(zeta);
    omega.noalias() -= zeta * zeta.transpose();
    const Eigen::MatrixXd weighted = omega.cwiseProduct(features.base_train) * features.paths_train;
    e.g = symmetric(scale * features.paths_train.transpose() * weighted);
    e.ok = std::isfinite(e.log_det) && std::isfinite(e.fit) && e.g.allFinite();
    return e;
  }

  // --- 3. The Wishart chain ----------------------------------------------------------------------------
  // U_{l+1}^-1 (x) I_{M_{l+1}} for 1 <= l <= L (U_{L+1} = 1).
  Eigen::MatrixXd upper_inverse(int l) const {
    const int inner = gates(l + 1);
    if (l == layers()) return Eigen::MatrixXd::Identity(inner, inner);
    Eigen::MatrixXd inv;
    spd_inverse(u[l], inv);
    return kron_identity(inv, inner);
  }

  // The fixed point's map for U_1: (U_2^-1 (x) I + G / N_1)^-1 (SP1), from its inverse.
  Eigen::MatrixXd sp1_target_inverse(const Evaluation& e) const { return upper_inverse(1) + e.g / width(1); }

  // The PD root of (SP2) for 2 <= l <= L with its neighbours fixed (docs/theory.md §10.6):
  //   N_l [U A' U - U] = N_{l-1} [Tr_{M_l}(U_{l-1}) - M_l U],  A' = U_{l+1}^-1 (x) I.
  // With A = N_l A', b = N_{l-1} M_l - N_l, c' = N_{l-1}, S = Tr_{M_l} U_{l-1}:
  //   U = A^-1/2 V A^-1/2,  V = [-b + (b^2 + 4 c' A^1/2 S A^1/2)^1/2] / 2.
  Eigen::MatrixXd riccati_root(int l) const {
    const Eigen::MatrixXd a = width(l) * upper_inverse(l);
    const double b = width(l - 1) * gates(l) - width(l);
    const double c = width(l - 1);
    const Eigen::MatrixXd s = partial_trace(u[l - 2], gates(l));
    const Eigen::MatrixXd a_half = matrix_function(a, [](double x) { return std::sqrt(std::max(x, 0.0)); });
    const Eigen::MatrixXd a_inv_half = matrix_function(a, [](double x) { return 1.0 / std::sqrt(x); });
    const Eigen::MatrixXd inner = symmetric(4.0 * c * a_half * s * a_half);
    const Eigen::MatrixXd root = matrix_function(inner, [b](double x) { return std::sqrt(std::max(b * b + x, 0.0)); });
    Eigen::MatrixXd v = 0.5 * root;
    v.diagonal().array() -= 0.5 * b;
    return symmetric(a_inv_half * v * a_inv_half);
  }

  // S[U] (docs/theory.md §10.4), or +infinity outside the PD domain.
  double action(const std::vector<Eigen::MatrixXd>& us, const Evaluation& e) const {
    if (!e.ok) return std::numeric_limits<double>::infinity();
    double s = 0.5 * (e.log_det + e.fit);
    std::vector<double> log_dets(layers() + 2, 0.0);
    std::vector<Eigen::MatrixXd> inverses(layers() + 2);
    for (int l = 1; l <= layers(); ++l)
      if (!spd_inverse(us[l - 1], inverses[l], &log_dets[l])) return std::numeric_limits<double>::infinity();
    for (int l = 1; l <= layers(); ++l) {
      const int inner = gates(l + 1);
      const double trace = l == layers() ? us[l - 1].trace() : (inverses[l + 1] * partial_trace(us[l - 1], inner)).trace();
      s += 0.5 * width(l) * (trace - log_dets[l] + inner * log_dets[l + 1]);
    }
    return s;
  }

  // dS/dU_l for l = 1 .. L (docs/theory.md §10.6), from inverses of the U_l.
  std::vector<Eigen::MatrixXd> action_gradient(const std::vector<Eigen::MatrixXd>& us,
                                               const std::vector<Eigen::MatrixXd>& inverses, const Evaluation& e) const {
    std::vector<Eigen::MatrixXd> grad(layers());
    for (int l = 1; l <= layers(); ++l) {
      const int inner = gates(l + 1);
      const Eigen::MatrixXd upper = l == layers() ? Eigen::MatrixXd::Identity(inner, inner) : kron_identity(inverses[l], inner);
      grad[l - 1] = 0.5 * width(l) * (upper - inverses[l - 1]);
      if (l == 1)
        grad[0] += 0.5 * e.g;
      else
        grad[l - 1] += 0.5 * width(l - 1) *
                       (gates(l) * inverses[l - 1] - inverses[l - 1] * partial_trace(us[l - 2], gates(l)) * inverses[l - 1]);
      grad[l - 1] = symmetric(grad[l - 1]);
    }
    return grad;
  }

  // The fixed point's residual at the current U: max |U_1 (U_2^-1 (x) I + G / N_1) - I| for (SP1) (defined
  // also where the map's inverse is not PD, far from the solution) and max |root_l - U_l| for (SP2).
  double residual() const {
    if (!at_u.ok) return std::numeric_limits<double>::infinity();
    Eigen::MatrixXd product = u[0] * sp1_target_inverse(at_u);
    product.diagonal().array() -= 1.0;
    double r = product.cwiseAbs().maxCoeff();
    for (int l = 2; l <= layers(); ++l) r = std::max(r, (riccati_root(l) - u[l - 1]).cwiseAbs().maxCoeff());
    return r;
  }

  // --- 4. Solvers --------------------------------------------------------------------------------------
  // One fixed-point iteration (docs/theory.md §10.6, solver A); returns the residual before it.
  // The state is x = (U_1^-1, U_2, ..., U_L) and the map F(x) = (U_2^-1 (x) I + G / N_1, root_2, ...,
  // root_L), each from the current U (G is the O(P^3) part). Steps are Anderson-accelerated (Walker & Ni
  // 2011: type II over the last kAndersonDepth differences, mixing eta); a step that leaves the PD domain
  // or makes the residual grow is replaced by the plain damped step from the last good state, with the
  // history cleared: U_1 moves towards the map in inverse space (a convex combination of PD matrices is
  // PD; the damping halves until the result factorises), the upper layers mix with their roots.
  double fixed_point_iteration(double tolerance) {
    const double r = residual();
    if (r <= tolerance) {
      last_residual = r;
      return r;
    }
    if (r > kRejectGrowth * last_residual && !good.empty()) {  // the last accelerated step went wrong: back to the good state
      set_order_parameters(good);
      history_x.clear();
      history_g.clear();
      eta = std::max(eta * 0.5, kMinDamping);
      ++iterations;
      return r;
    }
    if (r <= last_residual) eta = std::min(eta * 1.2, kMaxDamping);
    last_residual = r;
    good = u;
    const Eigen::VectorXd x = pack_state(u1_inverse, u);
    std::vector<Eigen::MatrixXd> mapped(layers());
    mapped[0] = sp1_target_inverse(at_u);
    for (int l = 2; l <= layers(); ++l) mapped[l - 1] = riccati_root(l);
    const Eigen::VectorXd g = pack_state(mapped[0], mapped) - x;
    bool accelerated = false;
    if (accelerate) {
      history_x.push_back(x);
      history_g.push_back(g);
      if (static_cast<int>(history_x.size()) > kAndersonDepth + 1) {
        history_x.pop_front();
        history_g.pop_front();
      }
      const int m = static_cast<int>(history_x.size()) - 1;
      if (m >= 1) {
        Eigen::MatrixXd dx(x.size(), m), dg(x.size(), m);
        for (int i = 0; i < m; ++i) {
          dx.col(i) = history_x[i + 1] - history_x[i];
          dg.col(i) = history_g[i + 1] - history_g[i];
        }
        const Eigen::VectorXd gamma = dg.colPivHouseholderQr().solve(g);
        const Eigen::VectorXd next = x + eta * g - (dx + eta * dg) * gamma;
        std::vector<Eigen::MatrixXd> us;
        Eigen::MatrixXd next_u1_inverse;
        unpack_state(next, next_u1_inverse, us);
        Eigen::MatrixXd u1;
        bool pd = next.allFinite() && spd_inverse(next_u1_inverse, u1);
        for (int l = 2; pd && l <= layers(); ++l) pd = Eigen::LLT<Eigen::MatrixXd>(us[l - 1]).info() == Eigen::Success;
        if (pd) {
          Evaluation e = evaluate(u1);
          if (e.ok) {
            us[0] = u1;
            u = std::move(us);
            u1_inverse = next_u1_inverse;
            at_u = std::move(e);
            accelerated = true;
          }
        }
        if (!accelerated) {
          history_x.clear();
          history_g.clear();
        }
      }
    }
    if (!accelerated) {
      for (int attempt = 0; attempt < 60; ++attempt) {
        const Eigen::MatrixXd mixed_inverse = symmetric((1 - eta) * u1_inverse + eta * mapped[0]);
        Eigen::MatrixXd u1;
        if (spd_inverse(mixed_inverse, u1)) {
          Evaluation e = evaluate(u1);
          if (e.ok) {
            u[0] = u1;
            for (int l = 2; l <= layers(); ++l) u[l - 1] = symmetric((1 - eta) * u[l - 1] + eta * mapped[l - 1]);
            u1_inverse = mixed_inverse;
            at_u = std::move(e);
            break;
          }
        }
        eta *= 0.5;
      }
    }
    ++iterations;
    return r;
  }

  // x = (U_1^-1, U_2, ..., U_L), the upper triangles stacked.
  Eigen::VectorXd pack_state(const Eigen::MatrixXd& first, const std::vector<Eigen::MatrixXd>& us) const {
    std::vector<double> v;
    for (int l = 1; l <= layers(); ++l) {
      const Eigen::MatrixXd& m = l == 1 ? first : us[l - 1];
      for (Eigen::Index j = 0; j < m.cols(); ++j)
        for (Eigen::Index i = 0; i <= j; ++i) v.push_back(m(i, j));
    }
    return Eigen::Map<Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
  }
  void unpack_state(const Eigen::VectorXd& v, Eigen::MatrixXd& first, std::vector<Eigen::MatrixXd>& us) const {
    us.assign(layers(), Eigen::MatrixXd());
    Eigen::Index k = 0;
    for (int l = 1; l <= layers(); ++l) {
      const int d = net.paths(l);
      Eigen::MatrixXd m(d, d);
      for (int j = 0; j < d; ++j)
        for (int i = 0; i <= j; ++i) m(i, j) = m(j, i) = v(k++);
      (l == 1 ? first : us[l - 1]) = std::move(m);
    }
  }

  void set_order_parameters(std::vector<Eigen::MatrixXd> us) {
    u = std::move(us);
    accelerate = net.paths(1) <= 256;
    spd_inverse(u[0], u1_inverse);
    at_u = evaluate(u[0]);
  }

  // u M + T for the tridiagonal M of the scalar path: its forward pivots, and Tr (u M + T)^-1 from the forward
  // and backward pivots f, g (the diagonal of a tridiagonal inverse is 1 / (f_i + g_i - a_i)).
  double tridiagonal_pivots(double u, std::vector<double>& forward) const {
    const Eigen::Index n = diagonal.size();
    const double t = net.temperature;
    forward.resize(static_cast<std::size_t>(n));
    std::vector<double> backward(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) {
      const double a = u * diagonal(i) + t;
      forward[i] = i == 0 ? a : a - u * u * sub(i - 1) * sub(i - 1) / forward[i - 1];
    }
    for (Eigen::Index i = n - 1; i >= 0; --i) {
      const double a = u * diagonal(i) + t;
      backward[i] = i == n - 1 ? a : a - u * u * sub(i) * sub(i) / backward[i + 1];
    }
    double trace = 0;
    for (Eigen::Index i = 0; i < n; ++i) trace += 1.0 / (forward[i] + backward[i] - (u * diagonal(i) + t));
    return trace;
  }
  // (u M + T) x = b in place: the Thomas algorithm with the forward pivots.
  void tridiagonal_solve(double u, const std::vector<double>& forward, Eigen::Ref<Eigen::VectorXd> b) const {
    const Eigen::Index n = diagonal.size();
    for (Eigen::Index i = 1; i < n; ++i) b(i) -= u * sub(i - 1) * b(i - 1) / forward[i - 1];
    for (Eigen::Index i = n - 1; i >= 0; --i) b(i) = (b(i) - (i + 1 < n ? u * sub(i) * b(i + 1) : 0.0)) / forward[i];
  }

  // The scalar fast path (D_1 = 1; docs/theory.md §10.5): every U_l = prod_{k >= l} u_k with
  // N_k (1 - u_k) = kappa for all k (SP2's conservation law), and (SP1) becomes kappa = F(U_1),
  //   F(U) = sum_i U l_i / (U l_i + T) - U l_i y_i^2 / (U l_i + T)^2,   K_GP = Q diag(l) Q^T, y~ = Q^T Y.
  // kappa lies below min N_l (U_1 > 0); h(kappa) = kappa - F(U_1(kappa)) is min N_l > 0 there and
  // negative far below zero (F is bounded). Returns false if the bracket is not found.
  bool solve_scalar(double tolerance, int& evaluations) {
    const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(1, 1);
    const Eigen::MatrixXd k_gp =
        scale * (features.paths_train * features.paths_train.transpose()).cwiseProduct(features.base_train);
    const double t = net.temperature;
    auto u_of = [&](double kappa) {
      double prod = 1;
      for (int l = 1; l <= layers(); ++l) prod *= 1.0 - kappa / width(l);
      return prod;
    };
    // F(U) without the eigenvectors: with K_GP = Q M Q^T (M tridiagonal, one Householder reduction) and
    // y' = Q^T Y, F(U) = P - T Tr (U M + T)^-1 - U z^T M z with z = (U M + T)^-1 y', both O(P) per U: the
    // diagonal of a tridiagonal inverse is 1 / (f_i + g_i - a_i) from the forward and backward pivots f, g.
    // At T = 0 the eigenvalues are needed to leave out K's null space: the eigen-decomposition then.
    std::function<double(double)> f_of;
    Eigen::VectorXd lambda, y2;
    double log_det = 0, fit = 0;  // of U M + T at the last U given to f_of (T > 0)
    if (t > 0) {
      tridiagonal = std::make_unique<Eigen::Tridiagonalization<Eigen::MatrixXd>>(k_gp);
      diagonal = tridiagonal->diagonal();
      sub = tridiagonal->subDiagonal();
      projected = tridiagonal->matrixQ().adjoint() * y_train;
      f_of = [&, n = diagonal.size()](double u) {
        std::vector<double> forward;
        const double trace = tridiagonal_pivots(u, forward);
        Eigen::VectorXd z = projected;
        tridiagonal_solve(u, forward, z);
        double quadratic = 0;  // z^T M z
        log_det = fit = 0;
        for (Eigen::Index i = 0; i < n; ++i) {
          quadratic += diagonal(i) * z[i] * z[i];
          if (i + 1 < n) quadratic += 2 * sub(i) * z[i] * z[i + 1];
          log_det += std::log(forward[i]);  // det(U K + T) = prod of the pivots
          fit += projected(i) * z[i];       // Y^T (U K + T)^-1 Y
        }
        return static_cast<double>(n) - t * trace - u * quadratic;
      };
    } else {
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(k_gp);
      lambda = eig.eigenvalues().cwiseMax(0.0);
      y2 = (eig.eigenvectors().transpose() * y_train).array().square();
      f_of = [&](double u) {
        double f = 0;
        for (Eigen::Index i = 0; i < lambda.size(); ++i) {
          const double ul = u * lambda(i);
          if (ul == 0) continue;
          f += ul / (ul + t) - ul * y2(i) / ((ul + t) * (ul + t));
        }
        return f;
      };
    }
    auto h = [&](double kappa) {
      ++evaluations;
      return kappa - f_of(u_of(kappa));
    };
    double hi = width(1);
    for (int l = 2; l <= layers(); ++l) hi = std::min(hi, width(l));
    double lo = -static_cast<double>(y_train.size()) - 1.0;
    int expansions = 0;
    while (h(lo) > 0) {
      lo *= 2;
      if (++expansions > 200) return false;
    }
    double h_hi = h(hi * (1 - 1e-15));
    if (!(h_hi > 0)) return false;
    const double kappa = brent_root(h, lo, hi * (1 - 1e-15), tolerance * std::max(1.0, std::abs(lo)));
    std::vector<Eigen::MatrixXd> us(layers());
    double prod = 1;
    for (int l = layers(); l >= 1; --l) {
      prod *= 1.0 - kappa / width(l);
      us[l - 1] = prod * identity;
    }
    if (!(t > 0)) {
      set_order_parameters(std::move(us));
      return true;
    }
    // The evaluation at the answer from the same tridiagonal form (O(P), not a P^3 inverse): the data term's
    // gradient G = Tr(Omega K_GP) = F(U) / U for one path, log det and Y^T (K_R + T)^-1 Y from the pivots.
    const double u1 = us[0](0, 0);
    const double f = f_of(u1);
    u = std::move(us);
    accelerate = false;
    u1_inverse = identity / u1;
    at_u = Evaluation{};
    at_u.log_det = log_det;
    at_u.fit = fit;
    at_u.g = identity * (f / u1);
    at_u.ok = std::isfinite(log_det) && std::isfinite(fit) && std::isfinite(f);
    return true;
  }

  // L-BFGS (Nocedal & Wright 2006, Algorithm 7.5) on S / N_max over the lower Cholesky factors R_l of
  // U_l = R_l R_l^T with log-diagonals (docs/theory.md §10.6, solver B): dS/dR = 2 (dS/dU) R and
  // dS/d rho_i = R_ii (dS/dR)_ii. Backtracking (Armijo) line search; S is +infinity off the PD domain.
  Eigen::VectorXd pack(const std::vector<Eigen::MatrixXd>& us) const {
    std::vector<double> theta;
    for (const auto& m : us) {
      Eigen::LLT<Eigen::MatrixXd> llt(m);
      const Eigen::MatrixXd r = llt.matrixL();
      for (Eigen::Index j = 0; j < r.cols(); ++j)
        for (Eigen::Index i = j; i < r.rows(); ++i) theta.push_back(i == j ? std::log(r(i, i)) : r(i, j));
    }
    return Eigen::Map<Eigen::VectorXd>(theta.data(), static_cast<Eigen::Index>(theta.size()));
  }
  std::vector<Eigen::MatrixXd> factors(const Eigen::VectorXd& theta) const {
    std::vector<Eigen::MatrixXd> rs;
    Eigen::Index k = 0;
    for (int l = 1; l <= layers(); ++l) {
      const int d = net.paths(l);
      Eigen::MatrixXd r = Eigen::MatrixXd::Zero(d, d);
      for (int j = 0; j < d; ++j)
        for (int i = j; i < d; ++i) r(i, j) = i == j ? std::exp(theta(k++)) : theta(k++);
      rs.push_back(std::move(r));
    }
    return rs;
  }
  // S / N_max and its gradient in theta.
  double objective(const Eigen::VectorXd& theta, Eigen::VectorXd* gradient) const {
    const std::vector<Eigen::MatrixXd> rs = factors(theta);
    std::vector<Eigen::MatrixXd> us, inverses(layers() + 1);
    for (const auto& r : rs) us.push_back(r * r.transpose());
    for (const auto& m : us)
      if (!m.allFinite()) return std::numeric_limits<double>::infinity();
    const Evaluation e = evaluate(us[0]);
    const double s = action(us, e);
    if (!std::isfinite(s)) return s;
    const double n_max = *std::max_element(net.widths.begin(), net.widths.end());
    if (gradient) {
      for (int l = 1; l <= layers(); ++l) spd_inverse(us[l - 1], inverses[l - 1]);
      const std::vector<Eigen::MatrixXd> grad = action_gradient(us, inverses, e);
      gradient->resize(theta.size());
      Eigen::Index k = 0;
      for (int l = 0; l < layers(); ++l) {
        const Eigen::MatrixXd dr = 2.0 * grad[l] * rs[l];
        for (Eigen::Index j = 0; j < dr.cols(); ++j)
          for (Eigen::Index i = j; i < dr.rows(); ++i) (*gradient)(k++) = (i == j ? rs[l](i, i) * dr(i, i) : dr(i, j)) / n_max;
      }
    }
    return s / n_max;
  }

  int minimize(int max_iterations) {
    Eigen::VectorXd theta = pack(u);
    Eigen::VectorXd grad;
    double f = objective(theta, &grad);
    std::deque<std::pair<Eigen::VectorXd, Eigen::VectorXd>> memory;  // (s, y) pairs
    int it = 0;
    for (; it < max_iterations; ++it) {
      if (grad.lpNorm<Eigen::Infinity>() < kMinimizerGradient) break;  // the fixed point polishes from here
      // Two-loop recursion.
      Eigen::VectorXd q = grad;
      std::vector<double> alpha(memory.size());
      for (int i = static_cast<int>(memory.size()) - 1; i >= 0; --i) {
        alpha[i] = memory[i].first.dot(q) / memory[i].second.dot(memory[i].first);
        q -= alpha[i] * memory[i].second;
      }
      if (!memory.empty()) q *= memory.back().first.dot(memory.back().second) / memory.back().second.squaredNorm();
      for (std::size_t i = 0; i < memory.size(); ++i) {
        const double beta = memory[i].second.dot(q) / memory[i].second.dot(memory[i].first);
        q += (alpha[i] - beta) * memory[i].first;
      }
      Eigen::VectorXd direction = -q;
      double slope = grad.dot(direction);
      if (!(slope < 0)) {
        direction = -grad;
        slope = -grad.squaredNorm();
        memory.clear();
      }
      double step = 1;
      if (memory.empty()) step = std::min(1.0, 0.1 / std::max(1e-300, direction.lpNorm<Eigen::Infinity>()));
      Eigen::VectorXd next, next_grad;
      double f_next = std::numeric_limits<double>::infinity();
      bool accepted = false;
      for (int back = 0; back < 60; ++back) {
        next = theta + step * direction;
        f_next = objective(next, &next_grad);
        if (std::isfinite(f_next) && f_next <= f + 1e-4 * step * slope) {
          accepted = true;
          break;
        }
        step *= 0.5;
      }
      if (!accepted) break;
      const Eigen::VectorXd s = next - theta, y = next_grad - grad;
      if (s.dot(y) > 1e-300) {
        memory.emplace_back(s, y);
        if (memory.size() > 10) memory.pop_front();
      }
      const double change = f - f_next;
      theta = next;
      grad = next_grad;
      f = f_next;
      if (change <= 1e-16 * std::max(1.0, std::abs(f))) break;
    }
    std::vector<Eigen::MatrixXd> us;
    for (const auto& r : factors(theta)) us.push_back(r * r.transpose());
    set_order_parameters(std::move(us));
    return it;
  }

  // --- 5. The predictor --------------------------------------------------------------------------------
  // The scalar path's predictor at U_1 = u (u = 1: the GP) from its tridiagonal form, without a P^3
  // factorisation: with (u K + T)^-1 = Q (u M + T)^-1 Q^T, the mean is u k(x*) Q (u M + T)^-1 y', the
  // variance u k(x*, x*) - u^2 r^T (u M + T)^-1 r with r = Q^T k(x*), and Tr (u K + T)^-1 from the pivots.
  bool has_tridiagonal() const { return tridiagonal != nullptr; }
  PredictorStatistics predict_scalar(double u) {
    if (projected_test.rows() != diagonal.size()) {
      GatedLinearKernel k = renormalized_kernel(net, features, Eigen::MatrixXd::Identity(1, 1));
      gp_test_train = std::move(k.test_train);
      gp_test_diagonal = std::move(k.test_diagonal);
      projected_test = tridiagonal->matrixQ().adjoint() * gp_test_train.transpose();
    }
    const Eigen::Index n = diagonal.size(), q = gp_test_train.rows();
    const double t = net.temperature;
    std::vector<double> forward;
    const double trace = tridiagonal_pivots(u, forward);
    auto solve = [&](Eigen::Ref<Eigen::VectorXd> b) { tridiagonal_solve(u, forward, b); };
    Eigen::VectorXd zeta_projected = projected;
    solve(zeta_projected);
    PredictorStatistics out;
    const Eigen::VectorXd zeta = tridiagonal->matrixQ() * zeta_projected;
    out.mean = u * (gp_test_train * zeta);
    out.variance.resize(q);
    for (Eigen::Index j = 0; j < q; ++j) {
      Eigen::VectorXd r = projected_test.col(j);
      solve(r);
      out.variance(j) = std::max(0.0, u * gp_test_diagonal(j) - u * u * projected_test.col(j).dot(r));
    }
    out.training_error =
        (t * t * zeta_projected.squaredNorm() + t * (static_cast<double>(n) - t * trace)) / static_cast<double>(n);
    finish_predictor_statistics(out, y_test, classification);
    return out;
  }

  PredictorStatistics predict(const Eigen::MatrixXd& u1, Status& status) const {
    return gp_predictor_statistics(renormalized_kernel(net, features, u1), y_train, y_test, net.temperature, classification,
                                   status);
  }
};

// --- 5. The predictor (free functions) ------------------------------------------------------------------
PredictorStatistics gp_predictor_statistics(const GatedLinearKernel& k, const Eigen::VectorXd& y_train,
                                            const Eigen::VectorXd& y_test, double temperature, bool classification,
                                            Status& status) {
  PredictorStatistics out;
  Eigen::MatrixXd a = k.train;
  a.diagonal().array() += temperature;
  Eigen::LLT<Eigen::MatrixXd> llt(a);
  if (llt.info() != Eigen::Success) {
    status = Status::error(StatusCode::numerical,
                           "The kernel K_R + T I is not positive definite on the training points; "
                           "use a positive temperature T.");
    return out;
  }
  const Eigen::Index p = y_train.size();
  const Eigen::VectorXd zeta = llt.solve(y_train);
  out.mean = k.test_train * zeta;
  const Eigen::MatrixXd half = llt.matrixL().solve(k.test_train.transpose());  // L^-1 k(x*)
  out.variance = (k.test_diagonal - half.colwise().squaredNorm().transpose()).cwiseMax(0.0);
  Eigen::MatrixXd l_inverse = llt.matrixLLT();
  invert_lower_triangular(l_inverse);
  const double trace_inverse = l_inverse.triangularView<Eigen::Lower>().toDenseMatrix().squaredNorm();  // Tr (K_R + T)^-1
  const double t = temperature;
  // Tr K_R (K_R + T)^-1 = P - T Tr (K_R + T)^-1.
  out.training_error = (t * t * zeta.squaredNorm() + t * (static_cast<double>(p) - t * trace_inverse)) / static_cast<double>(p);
  finish_predictor_statistics(out, y_test, classification);
  return out;
}

void finish_predictor_statistics(PredictorStatistics& out, const Eigen::VectorXd& y_test, bool classification) {
  const Eigen::Index q = y_test.size();
  if (q > 0) {
    out.bias2 = (out.mean - y_test).squaredNorm() / static_cast<double>(q);
    out.variance_mean = out.variance.mean();
    out.generalization_error = out.bias2 + out.variance_mean;
    if (classification) {
      double right = 0, sampled = 0;
      for (Eigen::Index i = 0; i < q; ++i) {
        const double margin = y_test(i) * out.mean(i);
        right += margin > 0 ? 1.0 : margin == 0 ? 0.5 : 0.0;
        const double sd = std::sqrt(out.variance(i));
        sampled += sd > 0 ? 0.5 * std::erfc(-margin / (sd * std::sqrt(2.0))) : (margin > 0 ? 1.0 : margin == 0 ? 0.5 : 0.0);
      }
      out.accuracy = right / static_cast<double>(q);
      out.sampled_accuracy = sampled / static_cast<double>(q);
    }
  }
}

PredictorStatistics relu_nngp_prediction(const GatedLinearNetwork& net, const RenormProblem& problem, Status& status) {
  const Eigen::Index p = problem.x_train.rows(), q = problem.x_test.rows();
  Eigen::MatrixXd x(p + q, problem.x_train.cols());
  x << problem.x_train, problem.x_test;
  DeepKernelSpec spec;
  spec.network = make_network(Activation{ActivationKind::relu, 1.0}, net.sigma2, 0.0);
  spec.network.sigma_in2 = net.sigma2;
  spec.network.depth = net.hidden_layers();
  const DeepKernelResult kernel = deep_kernel(spec, x * x.transpose() / static_cast<double>(x.cols()));
  if (!kernel.status.ok()) {
    status = kernel.status;
    return {};
  }
  const Eigen::MatrixXd& k = kernel.kernel.back();
  const GatedLinearKernel split{k.topLeftCorner(p, p), k.bottomLeftCorner(q, p), k.diagonal().tail(q)};
  return gp_predictor_statistics(split, problem.y_train, problem.y_test, net.temperature, problem.classification, status);
}

// --- 6. The job and sweeps ----------------------------------------------------------------------------
RenormJob::RenormJob(const RenormSpec& spec, const RenormProblem& problem, std::vector<Eigen::MatrixXd> warm_start)
    : spec_(spec), problem_(problem), warm_start_(std::move(warm_start)) {}
RenormJob::~RenormJob() = default;

const char* RenormJob::stage() const {
  static const char* names[] = {"features", "solving", "predicting", "done"};
  return names[phase_];
}

double RenormJob::progress() const {
  if (phase_ == 3) return 1.0;
  if (phase_ != 1 || !state_) return phase_ * 0.1;
  // Linear convergence: the residual's decades from 1 to the tolerance.
  const double r = std::max(state_->last_residual, spec_.tolerance);
  const double decades = std::log10(1.0 / spec_.tolerance);
  const double done = std::isfinite(r) ? std::clamp(std::log10(1.0 / std::max(r, 1e-300)) / decades, 0.0, 1.0) : 0.0;
  return 0.1 + 0.8 * done;
}

bool RenormJob::step(double budget_seconds) {
  SliceTimer timer(budget_seconds);
  auto fail = [this](Status s) {
    result_.status = std::move(s);
    phase_ = 3;
    return true;
  };
  if (cancelled()) {
    if (phase_ < 3) return fail(Status::error(StatusCode::cancelled, "The theory was cancelled."));
    return true;
  }
  if (phase_ == 0) {
    if (Status s = check_renorm_problem(spec_, problem_); !s.ok()) return fail(s);
    std::vector<Eigen::MatrixXd> vectors = problem_.gate_vectors;
    if (vectors.empty()) {
      GateVectors made = make_gate_vectors(spec_.network, spec_.gates, problem_.x_train);
      if (!made.status.ok()) return fail(made.status);
      vectors = std::move(made.layers);
    }
    const bool scalar = spec_.network.scalar_order_parameters();
    if (spec_.solver == RenormSolverKind::scalar && !scalar)
      return fail(Status::error(StatusCode::invalid_input,
                                "The scalar solver needs a single path (D_1 = 1): a deep linear network, "
                                "or gates in the first weight layer only."));
    state_ = std::make_unique<RenormState>();
    RenormState& st = *state_;
    st.net = spec_.network;
    st.features =
        gated_linear_features(st.net, vectors, spec_.gates.threshold, problem_.x_train, problem_.x_test, problem_.tasks);
    st.y_train = problem_.y_train;
    st.y_test = problem_.y_test;
    st.classification = problem_.classification;
    st.scale = std::pow(st.net.sigma2, st.net.hidden_layers() + 1) / static_cast<double>(st.net.paths(1));
    result_.gate_vectors = std::move(vectors);
    result_.memory_bytes =
        renorm_memory_bytes(st.net, static_cast<int>(problem_.x_train.rows()), static_cast<int>(problem_.x_test.rows()));
    const bool use_scalar = spec_.solver == RenormSolverKind::scalar || (spec_.solver == RenormSolverKind::automatic && scalar);
    if (use_scalar) {
      // One tridiagonal reduction serves the solve and, at T > 0, both predictors (no P^3 factorisation).
      int evaluations = 0;
      if (!st.solve_scalar(1e-15, evaluations))
        return fail(Status::error(StatusCode::numerical, "The scalar equation has no root."));
      Status gp_status;
      result_.gp = st.has_tridiagonal() ? st.predict_scalar(1.0) : st.predict(Eigen::MatrixXd::Identity(1, 1), gp_status);
      if (!gp_status.ok()) return fail(gp_status);
      st.method = "scalar";
      st.iterations = evaluations;
      st.last_residual = st.residual();
      phase_ = 2;
      if (timer.expired()) return false;
    }
  }
  RenormState& st = *state_;
  if (phase_ == 0) {
    Status gp_status;
    result_.gp = st.predict(Eigen::MatrixXd::Identity(st.net.paths(1), st.net.paths(1)), gp_status);
    if (!gp_status.ok()) return fail(gp_status);
    const bool warm_fits = static_cast<int>(warm_start_.size()) == st.layers() &&
                           std::all_of(warm_start_.begin(), warm_start_.end(), [&, l = 0](const Eigen::MatrixXd& m) mutable {
                             ++l;
                             return m.rows() == st.net.paths(l) && m.cols() == m.rows() && m.allFinite();
                           });
    std::vector<Eigen::MatrixXd> start;
    for (int l = 1; l <= st.layers(); ++l)
      start.push_back(warm_fits ? warm_start_[l - 1] : Eigen::MatrixXd::Identity(st.net.paths(l), st.net.paths(l)));
    st.set_order_parameters(std::move(start));
    if (!st.at_u.ok) st.set_order_parameters(std::vector<Eigen::MatrixXd>(st.layers()));  // never: U = I is the GP
    st.method = spec_.solver == RenormSolverKind::minimize ? "minimize" : "fixed-point";
    if (spec_.solver == RenormSolverKind::minimize) st.iterations += st.minimize(2000);
    phase_ = 1;
    if (timer.expired()) return false;
  }
  if (phase_ == 1) {
    while (!timer.expired() || st.iterations == 0) {
      const double r = st.fixed_point_iteration(spec_.tolerance);
      if (r <= spec_.tolerance) {  // at the current U, which the iteration left unchanged
        phase_ = 2;
        break;
      }
      const bool stuck = st.iterations >= spec_.max_iterations || !std::isfinite(r);
      if (stuck) {
        if (st.method == "fixed-point" && spec_.solver == RenormSolverKind::automatic) {
          // Solver B as the fallback, from the GP point, then polish with the fixed point.
          std::vector<Eigen::MatrixXd> start;
          for (int l = 1; l <= st.layers(); ++l) start.push_back(Eigen::MatrixXd::Identity(st.net.paths(l), st.net.paths(l)));
          st.set_order_parameters(std::move(start));
          st.method = "minimize";
          st.iterations += st.minimize(2000);
          st.eta = 0.5;
          st.last_residual = std::numeric_limits<double>::infinity();
          continue;
        }
        st.last_residual = st.residual();
        phase_ = 2;
        break;
      }
    }
    if (phase_ == 1) return false;
  }
  if (phase_ == 2) {
    SolverReport& report = result_.report;
    report.method = st.method;
    report.iterations = st.iterations;
    report.residual = st.last_residual;
    report.action = st.action(st.u, st.at_u);
    report.converged = report.residual <= std::max(spec_.tolerance, 1e-9);
    char text[200];
    if (report.converged)
      std::snprintf(text, sizeof text, "%s solver converged in %d iterations (residual %.1e).", report.method.c_str(),
                    report.iterations, report.residual);
    else
      std::snprintf(text, sizeof text,
                    "%s solver did not converge in %d iterations (residual %.1e); the numbers are those of the last iterate.",
                    report.method.c_str(), report.iterations, report.residual);
    report.message = text;
    report.message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(report.message[0])));
    result_.order_parameters = st.u;
    Status status;
    result_.theory =
        st.method == "scalar" && st.has_tridiagonal() ? st.predict_scalar(st.u[0](0, 0)) : st.predict(st.u[0], status);
    if (!status.ok()) return fail(status);
    if (!report.converged) result_.status = Status::error(StatusCode::numerical, report.message);
    phase_ = 3;
  }
  return true;
}

RenormResult renorm_run(const RenormSpec& spec, const RenormProblem& problem, std::vector<Eigen::MatrixXd> warm_start) {
  RenormJob job(spec, problem, std::move(warm_start));
  job.run();
  return job.result();
}

const char* renorm_sweep_parameter_name(RenormSweepParameter p) {
  switch (p) {
    case RenormSweepParameter::width: return "N";
    case RenormSweepParameter::sigma2: return "sigma2";
    case RenormSweepParameter::temperature: return "T";
    case RenormSweepParameter::depth: return "L";
    case RenormSweepParameter::gates: return "M";
    case RenormSweepParameter::tasks: return "K";
  }
  return "N";
}

bool renorm_sweep_parameter_from_name(const std::string& name, RenormSweepParameter& p) {
  for (RenormSweepParameter k : {RenormSweepParameter::width, RenormSweepParameter::sigma2, RenormSweepParameter::temperature,
                                 RenormSweepParameter::depth, RenormSweepParameter::gates, RenormSweepParameter::tasks})
    if (name == renorm_sweep_parameter_name(k)) {
      p = k;
      return true;
    }
  return false;
}

RenormSpec renorm_spec_at(const RenormSpec& spec, RenormSweepParameter parameter, double value) {
  RenormSpec out = spec;
  GatedLinearNetwork& net = out.network;
  const int integer = std::isfinite(value) && std::abs(value) < 2e9 ? static_cast<int>(std::lround(value)) : -1;
  switch (parameter) {
    case RenormSweepParameter::width: std::fill(net.widths.begin(), net.widths.end(), integer); break;
    case RenormSweepParameter::sigma2: net.sigma2 = value; break;
    case RenormSweepParameter::temperature: net.temperature = value; break;
    case RenormSweepParameter::depth: {
      const int readout = net.gates.back();
      const int hidden = net.gates.front();
      const int width = net.widths.front();
      net.widths.assign(std::max(integer, 0), width);
      net.gates.assign(std::max(integer, 0), hidden);
      net.gates.push_back(readout);
      break;
    }
    case RenormSweepParameter::gates: {
      const bool gated_readout = net.gates.back() > 1;
      for (std::size_t l = 0; l + 1 < net.gates.size(); ++l) net.gates[l] = integer;
      if (gated_readout) net.gates.back() = integer;
      break;
    }
    case RenormSweepParameter::tasks: break;
  }
  return out;
}

RenormSweepJob::RenormSweepJob(const RenormSpec& spec, const RenormProblem& problem, RenormSweepParameter parameter,
                               std::vector<double> values)
    : spec_(spec), problem_(problem), parameter_(parameter), values_(std::move(values)) {}

RenormSweepJob::RenormSweepJob(const RenormSpec& spec, std::function<RenormProblem(double)> problem_at,
                               RenormSweepParameter parameter, std::vector<double> values)
    : spec_(spec), problem_at_(std::move(problem_at)), parameter_(parameter), values_(std::move(values)) {}

double RenormSweepJob::progress() const {
  if (values_.empty()) return 1.0;
  const double partial = current_ ? current_->progress() : 0.0;
  return std::min(1.0, (static_cast<double>(points_.size()) + partial) / static_cast<double>(values_.size()));
}

bool RenormSweepJob::step(double budget_seconds) {
  SliceTimer timer(budget_seconds);
  while (points_.size() < values_.size()) {
    if (cancelled()) {
      if (current_) current_->cancel();
      return true;
    }
    if (!current_) {
      std::vector<Eigen::MatrixXd> warm;
      const bool continuation = parameter_ == RenormSweepParameter::width || parameter_ == RenormSweepParameter::sigma2 ||
                                parameter_ == RenormSweepParameter::temperature;
      if (continuation && !points_.empty() && points_.back().result.status.ok()) warm = points_.back().result.order_parameters;
      // Secant continuation: from two previous points, extrapolate each U_l linearly in the parameter (in log for
      // N, sigma^2 and T, which sweeps space evenly in log); kept only where it stays positive definite.
      const std::size_t n = points_.size();
      if (!warm.empty() && n >= 2 && points_[n - 2].result.status.ok() &&
          points_[n - 2].result.order_parameters.size() == warm.size() && values_[n - 2] > 0 && values_[n - 1] > 0 &&
          values_[n] > 0 && values_[n - 1] != values_[n - 2]) {
        const double t = std::log(values_[n] / values_[n - 1]) / std::log(values_[n - 1] / values_[n - 2]);
        std::vector<Eigen::MatrixXd> extrapolated;
        for (std::size_t l = 0; l < warm.size(); ++l) {
          const Eigen::MatrixXd& before = points_[n - 2].result.order_parameters[l];
          if (before.rows() != warm[l].rows()) break;
          Eigen::MatrixXd guess = warm[l] + t * (warm[l] - before);
          if (Eigen::LLT<Eigen::MatrixXd>(guess).info() != Eigen::Success) break;
          extrapolated.push_back(std::move(guess));
        }
        if (extrapolated.size() == warm.size()) warm = std::move(extrapolated);
      }
      if (problem_at_) problem_ = problem_at_(values_[points_.size()]);
      current_ =
          std::make_unique<RenormJob>(renorm_spec_at(spec_, parameter_, values_[points_.size()]), problem_, std::move(warm));
    }
    const double left = std::max(0.0, budget_seconds);
    if (!current_->step(left)) return false;
    RenormSweepPoint point{values_[points_.size()], current_->result(), {}, {}};
    current_.reset();
    // The ReLU NNGP depends on L, sigma^2 and T only: computed again where one of them changed.
    const GatedLinearNetwork& net = renorm_spec_at(spec_, parameter_, point.value).network;
    const GatedLinearNetwork* before = points_.empty() ? nullptr : &relu_network_;
    if (before && !problem_at_ && before->hidden_layers() == net.hidden_layers() && before->sigma2 == net.sigma2 &&
        before->temperature == net.temperature) {
      point.relu = points_.back().relu;
      point.relu_status = points_.back().relu_status;
    } else {
      point.relu = relu_nngp_prediction(net, problem_, point.relu_status);
      relu_network_ = net;
    }
    points_.push_back(std::move(point));
    if (timer.expired()) break;
  }
  return points_.size() >= values_.size();
}

}  // namespace fs
