// Gaussian-process inference with NNGP readout kernels (mft.md §7).
//
// Sections
//   1. Helpers (messages, checks)
//   2. Targets from labels
//   3. The readout kernel as a sliced state machine (layered recursion or the two-time job)
//   4. Cholesky with jitter escalation, posterior and evidence (gp_solve)
//   5. Memory estimate
//   6. GpJob and gp_run
//   7. Evidence curves
#include "core/gp.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/deep_kernel.h"  // propagate_rows, symmetrize_from_lower, kEntriesPerThread
#include "core/parallel.h"

namespace fs {

// --- 1. Helpers ---------------------------------------------------------------------------------------
namespace {

constexpr double kDivergence = 1e100;
constexpr double kLog2Pi = 1.83787706640934548356;

std::string short_number(double v) {
  std::ostringstream os;
  os.precision(4);
  os << v;
  return os.str();
}

std::string mib(double bytes) { return short_number(bytes / 1048576.0) + " MiB"; }

Status invalid(std::string message) { return Status::error(StatusCode::invalid_input, std::move(message)); }

bool finite_non_negative(double v) { return std::isfinite(v) && v >= 0; }

bool averaged_readout(const GpSpec& spec) { return spec.readout_from >= 0 && spec.readout_from < spec.depth; }
int readout_first(const GpSpec& spec) { return averaged_readout(spec) ? spec.readout_from : spec.depth; }

Status check_spec(const GpSpec& spec) {
  if (!finite_non_negative(spec.sigma_w2) || !finite_non_negative(spec.sigma_b2) || !finite_non_negative(spec.sigma_in2))
    return invalid("The variances sigma_w^2, sigma_b^2 and sigma_in^2 must be finite and non-negative.");
  if (!finite_non_negative(spec.sigma_n2) || spec.sigma_n2 > 1e6)
    return invalid("The noise sigma_n^2 must be a finite number in 0..1e6.");
  if (spec.depth < 0 || spec.depth > 1000) return invalid("The depth L (or the number of steps T) must be in 0..1000.");
  if (spec.readout_from < -1 || spec.readout_from > spec.depth)
    return invalid("The first readout layer/time must be in 0.." + std::to_string(spec.depth) + " (or -1 for the last one only).");
  if (spec.arch == Architecture::recurrent && spec.input_mode == InputMode::sequence)
    return invalid("GP inference takes static points: use input at t = 0 or at every step, not a sequence.");
  return Status::success();
}

}  // namespace

// --- 2. Targets from labels ---------------------------------------------------------------------------

GpTargets gp_targets(const GpProblem& problem, bool centred) {
  GpTargets t;
  const int n = static_cast<int>(problem.y_train.size()), m = static_cast<int>(problem.y_test.size());
  if (!problem.classification) {
    t.train = Eigen::Map<const Eigen::VectorXd>(problem.y_train.data(), n);
    t.test = Eigen::Map<const Eigen::VectorXd>(problem.y_test.data(), m);
    return t;
  }
  t.classes = problem.y_train;
  std::sort(t.classes.begin(), t.classes.end());
  t.classes.erase(std::unique(t.classes.begin(), t.classes.end()), t.classes.end());
  const int k = static_cast<int>(t.classes.size());
  if (k < 2) {
    t.status = invalid("The training labels hold only one class: classification needs at least two.");
    return t;
  }
  auto index_of = [&](double y) {
    const auto it = std::lower_bound(t.classes.begin(), t.classes.end(), y);
    return it != t.classes.end() && *it == y ? static_cast<int>(it - t.classes.begin()) : -1;
  };
  // Two classes: one output, -1 for the first class and +1 for the second. More: one-hot columns,
  // optionally centred to 1 - 1/k and -1/k (mft.md §7).
  const int outputs = k == 2 ? 1 : k;
  const double off = k == 2 ? -1.0 : (centred ? -1.0 / k : 0.0), on = k == 2 ? 1.0 : (centred ? 1.0 - 1.0 / k : 1.0);
  auto fill = [&](const std::vector<double>& labels, Eigen::MatrixXd& out, const char* which) {
    out.setConstant(static_cast<Eigen::Index>(labels.size()), outputs, off);
    for (std::size_t a = 0; a < labels.size(); ++a) {
      const int c = index_of(labels[a]);
      if (c < 0) {
        std::ostringstream os;
        os << "The " << which << " label " << labels[a] << " (point " << a + 1 << ") is not among the training classes.";
        t.status = invalid(os.str());
        return;
      }
      out(static_cast<Eigen::Index>(a), k == 2 ? 0 : c) = k == 2 ? (c == 1 ? on : off) : on;
    }
  };
  fill(problem.y_train, t.train, "training");
  if (t.status.ok()) fill(problem.y_test, t.test, "test");
  return t;
}

// --- 3. The readout kernel ----------------------------------------------------------------------------
// Layered path: K^0 = sigma_in^2 G + sigma_b^2, then K^l = sigma_b^2 [+ sigma_in^2 G] + sigma_w^2 E[phi phi]
// over K^{l-1} (mft.md §2 / §4.1 equal-time blocks: the same step, propagate_rows, as the deep and
// recurrent jobs), keeping only two P x P matrices. A single readout is one more such step; an
// averaged one accumulates E[phi phi] over K^l for l in the readout range (no cross terms: mft.md §2).
// Two-time path (recurrent, averaged or asked for): RecurrentKernelJob, then
//   K_y = sigma_b^2 + sigma_w^2 / n^2 sum_{t,s in R} E[phi(h^t) phi(h^s)]   with the cross-time blocks.

class GpKernelState {
 public:
  GpSpec spec;
  int p = 0;
  bool two_time = false;
  Eigen::MatrixXd x;       // P x d points (train then test)
  Eigen::MatrixXd extra;   // every-step input term sigma_in^2 G (recurrent, layered path)
  Eigen::MatrixXd cur, next, accum;
  std::unique_ptr<PairIntegrator> integrator;
  // Layered path: `layer` is the layer whose kernel `cur` holds; pass 0 = the readout E-pass of
  // `layer` (averaged readout), pass 1 = the step to layer + 1 (or the final readout step).
  int layer = 0, pass = 0, row = 0;
  bool pass_started = false;
  // Two-time path.
  std::unique_ptr<RecurrentKernelJob> recurrent;
  std::vector<int> times;
  int pair = 0;
  double work_done = 0, work_total = 1;  // layered path: kernel entries
  bool done = false;
  Status status;
  int inexact = 0;

  GpKernelState(const GpSpec& s, Eigen::MatrixXd points) : spec(s), x(std::move(points)) {
    p = static_cast<int>(x.rows());
    two_time = spec.arch == Architecture::recurrent && (averaged_readout(spec) || spec.two_time_kernel);
    const int first = readout_first(spec);
    for (int t = first; t <= spec.depth; ++t) times.push_back(t);
    const double entries = 0.5 * double(p) * (p + 1);
    if (two_time) {
      InputSet inputs;
      inputs.count = p;
      inputs.dim = static_cast<int>(x.cols());
      inputs.x = {x};
      RecurrentKernelSpec rs;
      rs.activation = spec.activation;
      rs.sigma_w2 = spec.sigma_w2;
      rs.sigma_b2 = spec.sigma_b2;
      rs.sigma_in2 = spec.sigma_in2;
      rs.steps = spec.depth;
      rs.bias_mode = spec.bias_mode;
      rs.input_mode = spec.input_mode;
      rs.memory_budget_bytes = spec.memory_budget_bytes;
      recurrent = std::make_unique<RecurrentKernelJob>(rs, inputs);
      return;
    }
    work_total = entries * (spec.depth + 1.0 + (averaged_readout(spec) ? double(times.size()) : 0.0));
    integrator = std::make_unique<PairIntegrator>(spec.activation, PairFunction::phi);
    // G = x x^T / d, lower triangle, in fixed blocks of 256 columns (the same arithmetic for any thread
    // count; wide blocks keep Eigen's matrix product efficient), as K^0.
    const int block = 256, blocks = (p + block - 1) / block;
    const double inv_d = 1.0 / static_cast<double>(x.cols());
    cur.resize(p, p);
    parallel_for(blocks, [&](int begin, int end) {
      for (int b = begin; b < end; ++b) {
        const int c0 = b * block, cols = std::min(block, p - c0);
        cur.block(c0, c0, p - c0, cols).noalias() = x.middleRows(c0, p - c0) * x.middleRows(c0, cols).transpose();
      }
    });
    symmetrize_from_lower(cur);
    cur *= inv_d;
    if (spec.arch == Architecture::recurrent && spec.input_mode == InputMode::every_step) {
      // As RecurrentKernelJob::input_term: (sigma_in^2 G + sigma_b^2) - sigma_b^2, symmetrised.
      extra = spec.sigma_in2 * cur;
      extra.array() += spec.sigma_b2;
      symmetrize_from_lower(extra);
      extra.array() -= spec.sigma_b2;
    }
    // K^0 = sigma_in^2 G + sigma_b^2 (as DeepKernelJob).
    cur *= spec.sigma_in2;
    cur.array() += spec.sigma_b2;
    symmetrize_from_lower(cur);
    if (averaged_readout(spec)) accum = Eigen::MatrixXd::Zero(p, p);
    pass = (averaged_readout(spec) && spec.readout_from == 0) ? 0 : 1;
  }

  // Rows per parallel chunk: about kEntriesPerThread entries per thread (as DeepKernelJob).
  int chunk_rows(int from) const {
    const double wanted = kEntriesPerThread * thread_count();
    int chunk = 0;
    for (double entries = 0; from + chunk < p && entries < wanted; ++chunk) entries += p - (from + chunk);
    return chunk;
  }

  void prepare_integrator(const Eigen::MatrixXd& k) {
    std::vector<double> q(static_cast<std::size_t>(p));
    for (int a = 0; a < p; ++a) q[static_cast<std::size_t>(a)] = k(a, a);
    integrator->set_variances(q);
    inexact = std::max(inexact, integrator->inexact_variances());
  }

  bool diverged(const Eigen::MatrixXd& k, int l) {
    const double q_max = k.diagonal().maxCoeff();
    if (k.allFinite() && q_max <= kDivergence) return false;
    status = Status::error(StatusCode::diverged,
                           spec.activation.bounded()
                               ? "The kernel left the range of floating point numbers."
                               : "The variance q grows without bound (q = " + short_number(q_max) + " at layer/time " +
                                     std::to_string(l) + "): for " + spec.activation.name() + " with sigma_w^2 = " +
                                     short_number(spec.sigma_w2) + " the length map has no finite fixed point.");
    done = true;
    return true;
  }

  // One chunk of the layered path.
  void layered_chunk() {
    const bool final_step = pass == 1 && layer == spec.depth;
    if (!pass_started) {
      prepare_integrator(cur);
      if (pass == 1) next.resize(p, p);
      row = 0;
      pass_started = true;
    }
    const int chunk = chunk_rows(row), first = row;
    if (pass == 1) {
      // K^{l+1} = sigma_b^2 [+ sigma_in^2 G] + sigma_w^2 E[phi phi] over K^l; the final step has no input term.
      const Eigen::MatrixXd* add = (!final_step && extra.size()) ? &extra : nullptr;
      parallel_for(chunk, [&](int begin, int end) {
        propagate_rows(cur, *integrator, spec.sigma_w2, spec.sigma_b2, add, first + begin, first + end, next);
      });
    } else {
      // accum += E[phi phi] over K^l (lower triangle; each row writes only its own column).
      parallel_for(chunk, [&](int begin, int end) {
        std::vector<double> out(static_cast<std::size_t>(p));
        for (int a = first + begin; a < first + end; ++a) {
          integrator->row(a, a, p - a, cur.data() + static_cast<std::size_t>(a) * p + a, out.data());
          double* dst = accum.data() + static_cast<std::size_t>(a) * p + a;
          for (int b = 0; b < p - a; ++b) dst[b] += out[static_cast<std::size_t>(b)];
        }
      });
    }
    for (int a = first; a < first + chunk; ++a) work_done += p - a;
    row += chunk;
    if (row < p) return;
    pass_started = false;
    if (pass == 0) {
      if (layer == spec.depth) {  // the averaged readout is complete
        symmetrize_from_lower(accum);
        const double n = static_cast<double>(times.size());
        next = ((spec.sigma_w2 / (n * n)) * accum.array() + spec.sigma_b2).matrix();
        accum.resize(0, 0);
        cur.resize(0, 0);
        done = true;
        return;
      }
      pass = 1;
      return;
    }
    symmetrize_from_lower(next);
    if (diverged(next, layer + 1)) return;
    if (final_step) {
      cur.resize(0, 0);
      done = true;
      return;
    }
    cur.swap(next);
    ++layer;
    const bool in_range = averaged_readout(spec) && layer >= spec.readout_from;
    pass = in_range ? 0 : 1;
  }

  // One chunk of the two-time readout: the pair (t, s) of readout times, all rows at once.
  void two_time_chunk() {
    const RecurrentKernelResult& r = recurrent->result();
    const int n = static_cast<int>(times.size());
    if (pair == 0 && accum.size() == 0) {
      // One integrator over the variances of all readout times: variable (i, a) = i * P + a.
      integrator = std::make_unique<PairIntegrator>(spec.activation, PairFunction::phi);
      std::vector<double> q(static_cast<std::size_t>(n) * p);
      for (int i = 0; i < n; ++i)
        for (int a = 0; a < p; ++a) q[static_cast<std::size_t>(i) * p + a] = r.at(times[static_cast<std::size_t>(i)], times[static_cast<std::size_t>(i)], a, a);
      integrator->set_variances(q);
      inexact = std::max(inexact, integrator->inexact_variances());
      accum = Eigen::MatrixXd::Zero(p, p);
    }
    // Pairs i >= j in order; pair index -> (i, j).
    int i = 0, j = pair;
    while (j > i) j -= ++i;
    const int t = times[static_cast<std::size_t>(i)], s = times[static_cast<std::size_t>(j)];
    const Eigen::MatrixXd block = r.block(t, s);  // K^{ts}_{ab}
    Eigen::MatrixXd e(p, p);                      // e(a, b) = E[phi(h^t_a) phi(h^s_b)]
    parallel_for(p, [&](int begin, int end) {
      std::vector<double> cov(static_cast<std::size_t>(p)), out(static_cast<std::size_t>(p));
      for (int a = begin; a < end; ++a) {
        for (int b = 0; b < p; ++b) cov[static_cast<std::size_t>(b)] = block(a, b);
        integrator->row(i * p + a, j * p, p, cov.data(), out.data());
        for (int b = 0; b < p; ++b) e(a, b) = out[static_cast<std::size_t>(b)];
      }
    }, 16);
    accum += e;
    if (i != j) accum += e.transpose();  // E[phi(h^s) phi(h^t)] = (E[phi(h^t) phi(h^s)])^T
    if (++pair < n * (n + 1) / 2) return;
    // Exact symmetry, then the readout map.
    next = 0.5 * (accum + accum.transpose());
    next = ((spec.sigma_w2 / (double(n) * n)) * next.array() + spec.sigma_b2).matrix();
    accum.resize(0, 0);
    recurrent.reset();
    done = true;
  }

  // In [0, 1]: the two-time path counts the recurrent job as 70% and the readout pairs as 30%.
  double progress() const {
    if (done) return 1.0;
    if (!two_time) return std::min(1.0, work_done / work_total);
    const double pairs = 0.5 * times.size() * (times.size() + 1.0);
    return recurrent ? 0.7 * recurrent->progress() + 0.3 * pair / pairs : 1.0;
  }

  // Works until the slice ends; true when the kernel (in `next`) is complete or failed.
  bool step(const SliceTimer& timer) {
    while (!done) {
      if (two_time && recurrent && !recurrent->step(0.0)) {
        // the recurrent job did one unit
      } else if (two_time) {
        const RecurrentKernelResult& r = recurrent->result();
        if (pair == 0 && accum.size() == 0) {
          inexact = std::max(inexact, r.inexact_variances);
          if (!r.status.ok()) {
            status = r.status;
            done = true;
            break;
          }
        }
        two_time_chunk();
      } else {
        layered_chunk();
      }
      if (timer.expired()) break;
    }
    return done;
  }
};

// --- 4. Cholesky with jitter escalation, posterior and evidence ---------------------------------------
namespace {

// Block size of the factorisation and of the right-hand-side blocks: fixed, so that the arithmetic (and
// so every digit) does not depend on the thread count.
constexpr int kCholeskyBlock = 192;

// Blocked right-looking Cholesky A = L L^T of the lower triangle, in place (Golub & Van Loan 2013,
// Alg. 4.2.4): each diagonal block by Eigen's LLT, the panel below it by a triangular solve (rows
// independent), the trailing update A22 -= L21 L21^T by block columns (independent) on the thread pool.
// False if A is not numerically positive definite. The strict upper triangle is left as scratch.
bool blocked_cholesky(Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows()), nb = kCholeskyBlock;
  for (int k = 0; k < n; k += nb) {
    const int b = std::min(nb, n - k), rest = n - k - b;
    Eigen::Ref<Eigen::MatrixXd> diagonal = a.block(k, k, b, b);
    Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>, Eigen::Lower> llt(diagonal);
    if (llt.info() != Eigen::Success || !diagonal.diagonal().allFinite()) return false;
    if (rest == 0) break;
    const int blocks = (rest + nb - 1) / nb;
    parallel_for(blocks, [&](int begin, int end) {
      for (int i = begin; i < end; ++i) {
        const int r0 = k + b + i * nb;
        auto panel = a.block(r0, k, std::min(nb, n - r0), b);
        a.block(k, k, b, b).transpose().triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(panel);  // L21 = A21 L11^{-T}
      }
    });
    parallel_for(blocks, [&](int begin, int end) {
      for (int j = begin; j < end; ++j) {
        const int c0 = k + b + j * nb, cols = std::min(nb, n - c0);
        a.block(c0, c0, n - c0, cols).noalias() -= a.block(c0, k, n - c0, b) * a.block(c0, k, cols, b).transpose();
      }
    });
  }
  return true;
}

// Estimate of |A^{-1}|_1 from the Cholesky factor (Hager 1984; Higham 1988, the method of LAPACK's
// xLACON), with Higham's alternating-sign vector as a second guess. Both are lower bounds.
double inverse_norm1_estimate(const Eigen::MatrixXd& factor_matrix) {
  const Eigen::Index n = factor_matrix.rows();
  auto solve = [&](Eigen::VectorXd v) {  // A^{-1} v (A symmetric, so also A^{-T} v)
    factor_matrix.triangularView<Eigen::Lower>().solveInPlace(v);
    factor_matrix.transpose().triangularView<Eigen::Upper>().solveInPlace(v);
    return v;
  };
  Eigen::VectorXd x = Eigen::VectorXd::Constant(n, 1.0 / double(n));
  double estimate = 0;
  Eigen::Index previous = -1;
  for (int iteration = 0; iteration < 5; ++iteration) {
    const Eigen::VectorXd y = solve(x);
    estimate = std::max(estimate, y.lpNorm<1>());
    const Eigen::VectorXd z = solve(y.unaryExpr([](double v) { return v >= 0 ? 1.0 : -1.0; }));
    Eigen::Index j = 0;
    const double z_max = z.cwiseAbs().maxCoeff(&j);
    if (iteration > 0 && (z_max <= z.dot(x) || j == previous)) break;
    x.setZero();
    x(j) = 1;
    previous = j;
  }
  Eigen::VectorXd alternating(n);
  for (Eigen::Index i = 0; i < n; ++i) alternating(i) = (i % 2 ? -1.0 : 1.0) * (1.0 + double(i) / double(std::max<Eigen::Index>(1, n - 1)));
  return std::max(estimate, 2.0 * solve(alternating).lpNorm<1>() / (3.0 * double(n)));
}

}  // namespace

GpSolveResult gp_solve(const Eigen::Ref<const Eigen::MatrixXd>& k_train, const Eigen::Ref<const Eigen::MatrixXd>& k_test_train,
                       const Eigen::Ref<const Eigen::VectorXd>& k_test_diag, const Eigen::MatrixXd& targets, double sigma_n2,
                       bool with_variance) {
  GpSolveResult r;
  const Eigen::Index n = k_train.rows(), m = k_test_train.rows(), k = targets.cols();
  if (n == 0 || k_train.cols() != n || targets.rows() != n || (m > 0 && k_test_train.cols() != n) || k_test_diag.size() != m) {
    r.status = invalid("The kernel blocks and the targets do not match in size.");
    return r;
  }
  if (!k_train.allFinite() || !k_test_train.allFinite() || !k_test_diag.allFinite() || !targets.allFinite()) {
    r.status = Status::error(StatusCode::numerical, "The kernel or the targets contain a non-finite number.");
    return r;
  }
  const double scale = k_train.diagonal().mean();
  if (!(scale > 0)) {
    r.status = Status::error(StatusCode::numerical, "The training kernel has no positive variance: the prior is degenerate.");
    return r;
  }
  // Factorise A = K + (sigma_n^2 + jitter) I in place; escalate the jitter by decades while the
  // factorisation fails or the condition estimate says too few digits would survive.
  Eigen::MatrixXd a_matrix;
  double rcond = 0;
  while (true) {
    a_matrix = k_train;
    a_matrix.diagonal().array() += sigma_n2 + r.jitter;
    const double norm1 = a_matrix.cwiseAbs().colwise().sum().maxCoeff();
    if (blocked_cholesky(a_matrix)) {
      rcond = 1.0 / (norm1 * inverse_norm1_estimate(a_matrix));
      if (rcond >= kMinReciprocalCondition) break;
    }
    r.jitter = r.jitter == 0 ? 1e-12 * scale : r.jitter * 10;
    ++r.jitter_attempts;
    if (r.jitter > kMaxRelativeJitter * scale * 1.0000001) {
      r.status = Status::error(StatusCode::numerical,
                               "The training kernel is not positive definite even with a jitter of " +
                                   short_number(kMaxRelativeJitter) + " times its mean variance: raise sigma_n^2 or reduce the depth.");
      r.jitter = 0;
      return r;
    }
  }
  r.condition_number = 1.0 / rcond;
  const auto factor = a_matrix.triangularView<Eigen::Lower>();
  Eigen::MatrixXd alpha = targets;  // A^{-1} Y = L^{-T} L^{-1} Y
  factor.solveInPlace(alpha);
  a_matrix.transpose().triangularView<Eigen::Upper>().solveInPlace(alpha);
  // log p(y_k) = -1/2 y_k^T alpha_k - sum log L_ii - n/2 log 2 pi   (Rasmussen & Williams, Alg. 2.1)
  double half_log_det = 0;
  for (Eigen::Index i = 0; i < n; ++i) half_log_det += std::log(a_matrix(i, i));
  r.log_evidence = 0;
  for (Eigen::Index c = 0; c < k; ++c) {
    const double v = -0.5 * targets.col(c).dot(alpha.col(c)) - half_log_det - 0.5 * double(n) * kLog2Pi;
    r.log_evidence_per_output.push_back(v);
    r.log_evidence += v;
  }
  r.train_mean.noalias() = k_train * alpha;
  if (m > 0) r.mean.noalias() = k_test_train * alpha;
  else r.mean.resize(0, k);
  if (with_variance && m > 0) {
    // var_* = k_** - |L^{-1} k_X*|^2
    // Columns are independent right-hand sides: fixed blocks of them go to the thread pool.
    Eigen::MatrixXd v = k_test_train.transpose();
    const int blocks = static_cast<int>((m + kCholeskyBlock - 1) / kCholeskyBlock);
    parallel_for(blocks, [&](int begin, int end) {
      for (int b = begin; b < end; ++b) {
        auto columns = v.middleCols(Eigen::Index(b) * kCholeskyBlock, std::min<Eigen::Index>(kCholeskyBlock, m - Eigen::Index(b) * kCholeskyBlock));
        factor.solveInPlace(columns);
      }
    });
    r.variance = k_test_diag - v.colwise().squaredNorm().transpose();
  }
  if (r.jitter > 0) {
    std::ostringstream os;
    os.precision(3);
    os << "The training kernel needed a jitter of " << r.jitter << " (" << r.jitter / scale
       << " of its mean variance) on top of sigma_n^2 to factorise; condition number " << r.condition_number << ".";
    r.status = Status{StatusCode::ok, os.str()};
  }
  return r;
}

// --- 5. Memory estimate -------------------------------------------------------------------------------

double gp_memory_bytes(const GpSpec& spec, int train, int test, int outputs, int dim) {
  const double p = double(train) + test, pp = p * p, n = train, m = test;
  double kernel_phase = 0;
  const bool two_time = spec.arch == Architecture::recurrent && (averaged_readout(spec) || spec.two_time_kernel);
  if (two_time) {
    kernel_phase = recurrent_kernel_bytes(static_cast<int>(p), spec.depth) + 8.0 * (3 * pp + p * dim);
  } else {
    const bool extra = spec.arch == Architecture::recurrent && spec.input_mode == InputMode::every_step;
    kernel_phase = 8.0 * pp * (2 + (extra ? 1 : 0) + (averaged_readout(spec) ? 1 : 0));
  }
  // Solve: the kept kernel, A (factorised in place), the blocks copied out, L^{-1} K_X*, small vectors.
  const double solve_phase = 8.0 * (pp + n * n + n * n + 2 * n * m + m + (n + m) * 3.0 * outputs);
  return std::max(kernel_phase, solve_phase) + 8.0 * p * dim * 2;
}

// --- 6. GpJob and gp_run ------------------------------------------------------------------------------

GpJob::~GpJob() = default;

void GpJob::fail(Status s) {
  result_.status = std::move(s);
  kernel_.reset();
  done_ = true;
  phase_ = 2;
}

GpJob::GpJob(const GpSpec& spec, const GpProblem& problem) : spec_(spec), problem_(problem) {
  result_.accuracy = std::numeric_limits<double>::quiet_NaN();
  if (Status s = check_spec(spec); !s.ok()) { fail(s); return; }
  const Eigen::Index n = problem.x_train.rows(), m = problem.x_test.rows(), d = problem.x_train.cols();
  if (n < 1 || d < 1) { fail(invalid("There are no training points.")); return; }
  if (m > 0 && problem.x_test.cols() != d)
    { fail(invalid("The test points have " + std::to_string(problem.x_test.cols()) + " coordinates, the training points " +
                        std::to_string(d) + ".")); return; }
  if (static_cast<Eigen::Index>(problem.y_train.size()) != n || static_cast<Eigen::Index>(problem.y_test.size()) != m)
    { fail(invalid("Every point needs exactly one label.")); return; }
  if (!problem.x_train.allFinite() || !problem.x_test.allFinite()) { fail(invalid("The points contain a non-finite number.")); return; }
  targets_ = gp_targets(problem, spec.centred_targets);
  if (!targets_.status.ok()) { fail(targets_.status); return; }
  result_.classes = targets_.classes;
  result_.memory_bytes = gp_memory_bytes(spec, static_cast<int>(n), static_cast<int>(m), static_cast<int>(targets_.train.cols()),
                                         static_cast<int>(d));
  if (result_.memory_bytes > double(spec.memory_budget_bytes))
    { fail(Status::error(StatusCode::too_large,
                              "GP inference with " + std::to_string(n) + " training and " + std::to_string(m) +
                                  " test points needs about " + mib(result_.memory_bytes) + ", over the budget of " +
                                  mib(double(spec.memory_budget_bytes)) + ": use fewer points" +
                                  (spec.arch == Architecture::recurrent && averaged_readout(spec) ? " or fewer time steps." : "."))); return; }
  Eigen::MatrixXd x(n + m, d);
  x.topRows(n) = problem.x_train;
  if (m > 0) x.bottomRows(m) = problem.x_test;
  kernel_ = std::make_unique<GpKernelState>(spec, std::move(x));
  problem_.x_train.resize(0, 0);  // the points now live in the kernel state
  problem_.x_test.resize(0, 0);
}

bool GpJob::step(double budget_seconds) {
  if (done_) return true;
  SliceTimer timer(budget_seconds);
  while (!done_) {
    if (cancelled()) {
      fail(Status::error(StatusCode::cancelled, "Cancelled."));
      break;
    }
    if (phase_ == 0) {
      if (kernel_->step(timer)) {
        result_.inexact_variances = kernel_->inexact;
        if (!kernel_->status.ok()) {
          fail(kernel_->status);
          break;
        }
        result_.kernel = std::move(kernel_->next);
        kernel_.reset();
        phase_ = 1;
      }
    } else {
      finish();
    }
    if (timer.expired()) break;
  }
  return done_;
}

void GpJob::finish() {
  const Eigen::Index n = targets_.train.rows(), m = targets_.test.rows();
  const Eigen::MatrixXd& k = result_.kernel;
  result_.solve = gp_solve(k.topLeftCorner(n, n), k.bottomLeftCorner(m, n), k.diagonal().tail(m), targets_.train, spec_.sigma_n2,
                           spec_.with_variance);
  phase_ = 2;
  done_ = true;
  result_.status = result_.solve.status;
  if (!result_.status.ok()) return;
  const Eigen::MatrixXd& f = result_.solve.mean;
  const Eigen::Index outputs = f.cols();
  auto predict = [&](const Eigen::MatrixXd& means, Eigen::Index a) {
    if (!problem_.classification) return means(a, 0);
    if (outputs == 1) return means(a, 0) > 0 ? result_.classes[1] : result_.classes[0];
    Eigen::Index best = 0;
    means.row(a).maxCoeff(&best);
    return result_.classes[static_cast<std::size_t>(best)];
  };
  result_.predicted.resize(static_cast<std::size_t>(m));
  double right = 0;
  for (Eigen::Index a = 0; a < m; ++a) {
    result_.predicted[static_cast<std::size_t>(a)] = predict(f, a);
    right += result_.predicted[static_cast<std::size_t>(a)] == problem_.y_test[static_cast<std::size_t>(a)];
  }
  result_.mse = m > 0 ? (f - targets_.test).squaredNorm() / double(m * outputs) : std::numeric_limits<double>::quiet_NaN();
  if (problem_.classification) {
    result_.accuracy = m > 0 ? right / double(m) : std::numeric_limits<double>::quiet_NaN();
    double train_right = 0;
    for (Eigen::Index a = 0; a < n; ++a) train_right += predict(result_.solve.train_mean, a) == problem_.y_train[static_cast<std::size_t>(a)];
    result_.train_accuracy = train_right / double(n);
  }
}

double GpJob::progress() const {
  if (done_) return 1.0;
  if (phase_ == 0 && kernel_) return 0.8 * kernel_->progress();
  return 0.8;
}

GpResult gp_run(const GpSpec& spec, const GpProblem& problem) {
  GpJob job(spec, problem);
  job.run();
  return job.take_result();
}

GpKernelResult gp_readout_kernel(const GpSpec& spec, const Eigen::MatrixXd& x) {
  GpKernelResult r;
  if (Status s = check_spec(spec); !s.ok()) return r.status = s, r;
  if (x.rows() < 1 || x.cols() < 1 || !x.allFinite()) return r.status = invalid("The points must be finite and non-empty."), r;
  GpKernelState state(spec, x);
  SliceTimer never(1e9);
  state.step(never);
  r.status = state.status;
  r.inexact_variances = state.inexact;
  if (r.status.ok()) r.kernel = std::move(state.next);
  return r;
}

// --- 7. Evidence curves -------------------------------------------------------------------------------

const char* gp_sweep_parameter_name(GpSweepParameter p) {
  switch (p) {
    case GpSweepParameter::sigma_w2: return "w2";
    case GpSweepParameter::sigma_b2: return "b2";
    case GpSweepParameter::depth: return "L";
    case GpSweepParameter::sigma_n2: return "sn2";
  }
  return "?";
}

GpEvidenceCurveJob::GpEvidenceCurveJob(const GpSpec& spec, const GpProblem& problem, GpSweepParameter parameter,
                                       std::vector<double> values)
    : spec_(spec), problem_(problem), parameter_(parameter), values_(std::move(values)) {
  spec_.with_variance = false;
  problem_.x_test.resize(0, problem_.x_train.cols());  // the evidence needs the training points only
  problem_.y_test.clear();
}

bool GpEvidenceCurveJob::step(double budget_seconds) {
  SliceTimer timer(budget_seconds);
  while (points_.size() < values_.size()) {
    if (cancelled()) return true;
    const double value = values_[points_.size()];
    if (!current_) {
      GpSpec s = spec_;
      switch (parameter_) {
        case GpSweepParameter::sigma_w2: s.sigma_w2 = value; break;
        case GpSweepParameter::sigma_b2: s.sigma_b2 = value; break;
        case GpSweepParameter::depth:
          s.depth = static_cast<int>(std::lround(value));
          if (s.readout_from > s.depth) s.readout_from = -1;
          break;
        case GpSweepParameter::sigma_n2: s.sigma_n2 = value; break;
      }
      current_ = std::make_unique<GpJob>(s, problem_);
    }
    const double left = std::max(0.0, budget_seconds);  // each slice shares the caller's budget
    if (current_->step(left)) {
      const GpResult& r = current_->result();
      GpEvidencePoint point;
      point.value = value;
      point.status = r.status;
      point.log_evidence = r.status.ok() ? r.solve.log_evidence : std::numeric_limits<double>::quiet_NaN();
      point.jitter = r.solve.jitter;
      point.condition_number = r.solve.condition_number;
      points_.push_back(std::move(point));
      current_.reset();
    }
    if (timer.expired()) break;
  }
  return points_.size() >= values_.size();
}

double GpEvidenceCurveJob::progress() const {
  if (values_.empty()) return 1.0;
  const double inner = current_ ? current_->progress() : 0.0;
  return std::min(1.0, (points_.size() + inner) / double(values_.size()));
}

std::vector<GpEvidencePoint> gp_evidence_curve(const GpSpec& spec, const GpProblem& problem, GpSweepParameter parameter,
                                               const std::vector<double>& values) {
  GpEvidenceCurveJob job(spec, problem, parameter, values);
  job.run();
  return job.points();
}

}  // namespace fs
