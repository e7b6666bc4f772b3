// Gaussian-process inference with NNGP readout kernels (docs/theory.md §7).
//
// Sections
//   1. Helpers (messages, checks, fixed tiles and the resumable item sweep)
//   2. Targets from labels
//   3. The readout kernel as a sliced state machine (Gram tiles, layered recursion or the two-time job)
//   4. The solve as a sliced state machine (GpSolver): tiled Cholesky with jitter escalation, condition
//      estimate, triangular sweeps, posterior and evidence; gp_solve runs it to the end
//   5. Memory estimate
//   6. GpJob and gp_run
//   7. Evidence curves
#include "core/gp.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/deep_kernel.h"  // propagate_rows, symmetrize_from_lower, kEntriesPerThread
#include "core/parallel.h"
#include "core/text.h"

namespace fs {

// --- 1. Helpers ---------------------------------------------------------------------------------------
namespace {

constexpr double kLog2Pi = 1.83787706640934548356;
// Work of one kernel entry per layer/time in flop equivalents (a 2-D Gaussian integral), for progress().
constexpr double kKernelEntryFlops = 400;

std::string mib(double bytes) { return short_number(bytes / 1048576.0) + " MiB"; }

Status invalid(std::string message) { return Status::error(StatusCode::invalid_input, std::move(message)); }

bool finite_non_negative(double v) { return std::isfinite(v) && v >= 0; }

bool averaged_readout(const GpSpec& spec) { return spec.readout_from >= 0 && spec.readout_from < spec.network.depth; }
int readout_first(const GpSpec& spec) { return averaged_readout(spec) ? spec.readout_from : spec.network.depth; }

Status check_spec(const GpSpec& spec) {
  if (Status bad = spec.network.validate(); !bad.ok()) return bad;
  if (!finite_non_negative(spec.sigma_n2) || spec.sigma_n2 > 1e6)
    return invalid("The noise sigma_n^2 must be a finite number in 0..1e6.");
  if (spec.network.depth < 0 || spec.network.depth > 1000)
    return invalid("The depth L (or the number of steps T) must be in 0..1000.");
  if (spec.readout_from < -1 || spec.readout_from > spec.network.depth)
    return invalid("The first readout layer/time must be in 0.." + std::to_string(spec.network.depth) +
                   " (or -1 for the last one only).");
  if (spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::sequence)
    return invalid("GP inference takes static points: use input at t = 0 or at every step, not a sequence.");
  return Status::success();
}

// Work is cut into fixed tiles that never depend on the slicing or the thread count, and each tile
// writes only its own entries: every digit is the same however the work is cut (docs/theory.md §8).
// The factorisation's and the solves' tiles: kCholeskyBlock rows or columns.
constexpr int kCholeskyBlock = 192;
// Copies and scans go by kMemoryColumns columns at a time.
constexpr int kMemoryColumns = 16;
// The kernel's input Gram matrix and its final symmetrisation: kKernelTile x kKernelTile tiles.
constexpr int kKernelTile = 128;
// Work per thread in one unit, in flops: about a millisecond natively, a few in wasm.
constexpr double kUnitFlops = 1.5e7;
// A double read or written by a copy or a scan costs about this many flops of a matrix product.
constexpr double kMemoryFlops = 50;
// Below this work a range stays on one thread (waking the pool would cost more than it saves).
constexpr double kMinRangeFlops = 1e6;
// One-point means E[phi(u)] per thread in one unit of the averaged deep readout: up to a few
// microseconds each (a 1-D quadrature for softplus), so a unit stays well within a millisecond or so.
constexpr int kMeansPerThread = 256;

int block_count(Eigen::Index n, int block = kCholeskyBlock) { return static_cast<int>((n + block - 1) / block); }
Eigen::Index block_start(int i, int block = kCholeskyBlock) { return Eigen::Index(i) * block; }
Eigen::Index block_size(Eigen::Index n, int i, int block = kCholeskyBlock) {
  return std::min<Eigen::Index>(block, n - block_start(i, block));
}

// Lower-triangle tile q (row-major: (0,0), (1,0), (1,1), (2,0), ...) -> (row, column).
std::pair<int, int> lower_tile(int q) {
  int row = static_cast<int>((std::sqrt(8.0 * q + 1.0) - 1.0) / 2.0);
  while (row * (row + 1) / 2 > q) --row;
  while ((row + 1) * (row + 2) / 2 <= q) ++row;
  return {row, q - row * (row + 1) / 2};
}

// `count` independent items of about `item_flops` each, done group by group on the pool.
struct ItemSweep {
  int next = 0, count = 0;
  double item_flops = 1;
  void reset(int items, double flops) {
    next = 0;
    count = items;
    item_flops = std::max(1.0, flops);
  }
  bool finished() const { return next >= count; }
  // Does the next group; returns its nominal flops.
  template <class Item>
  double run_group(const Item& item) {
    const int threads = thread_count();
    const int group = std::max(threads, static_cast<int>(kUnitFlops * threads / item_flops));
    const int begin = next, end = std::min(count, next + group);
    parallel_for(
        end - begin,
        [&](int b, int e) {
          for (int i = b; i < e; ++i) item(begin + i);
        },
        std::max(1, static_cast<int>(kMinRangeFlops / item_flops)));
    next = end;
    return double(end - begin) * item_flops;
  }
};

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
  // optionally centred to 1 - 1/k and -1/k (docs/theory.md §7).
  const int outputs = k == 2 ? 1 : k;
  const double off = k == 2 ? -1.0 : (centred ? -1.0 / k : 0.0), on = k == 2 ? 1.0 : (centred ? 1.0 - 1.0 / k : 1.0);
  auto fill = [&](const std::vector<double>& labels, Eigen::MatrixXd& out, const char* which) {
    out.setConstant(static_cast<Eigen::Index>(labels.size()), outputs, off);
    for (std::size_t a = 0; a < labels.size(); ++a) {
      const int c = index_of(labels[a]);
      if (c < 0) {
        t.status = invalid("The " + std::string(which) + " label " + six_digit_number(labels[a]) + " (point " +
                           std::to_string(a + 1) + ") is not among the training classes.");
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
// over K^{l-1} (docs/theory.md §2 / §4.1 equal-time blocks: the same step, propagate_rows, as the deep and
// recurrent jobs), keeping only two P x P matrices. A single readout is one more such step. An averaged
// one (deep only: the recurrent one takes the two-time path) accumulates, for t in the readout range R,
//   sum_{t,s in R} E[phi(h^t_a) phi(h^s_b)] = sum_t E_t[phi phi](a, b) + sum_{t != s} m_t(a) m_s(b),
// m_t(a) = E[phi(h^t_a)] = mean_phi(K^t_aa): at N = infinity the layers of the deep network are
// independent Gaussians, so a cross-layer term is a product of one-point means (docs/theory.md §2, §7).
// Layer t adds E_t + m_t(a) S_t(b) + S_t(a) m_t(b), S_t = sum of m_s over s in R, s < t: every pair once,
// without cancellation. For odd phi every m_t is 0 and the cross terms are skipped altogether.
// Two-time path (recurrent, averaged or asked for): RecurrentKernelJob, then
//   K_y = sigma_b^2 + sigma_w^2 / n^2 sum_{t,s in R} E[phi(h^t) phi(h^s)]   with the cross-time blocks.

class GpKernelState {
 public:
  GpSpec spec;
  int p = 0;
  bool two_time = false;
  Eigen::MatrixXd x;      // P x d points (train then test)
  Eigen::MatrixXd extra;  // every-step input term sigma_in^2 G (recurrent, layered path)
  Eigen::MatrixXd cur, next, accum;
  std::unique_ptr<PairIntegrator> integrator;
  // Layered path: `layer` is the layer whose kernel `cur` holds; pass -1 = the input Gram matrix and
  // K^0 (tiles), 0 = the readout E-pass of `layer` (averaged readout), 1 = the step to layer + 1 (or
  // the final readout step), 2 = the readout map and the upper triangle (tiles).
  int layer = 0, pass = 0, row = 0;
  bool pass_started = false;
  ItemSweep items;
  int tile_items = 0;
  double gram_tile_flops = 1, final_tile_flops = 1;
  std::vector<char> row_finite;  // per row of the last step: its lower-triangle entries are finite
  // Averaged deep readout with a non-odd phi: the cross-layer terms. Each E-pass first computes
  // layer_mean (m_t per point, kMeansPerThread points per thread at a time, from mean_row on); at its
  // end layer_mean is added to earlier_means (S_t).
  bool cross_layers = false;
  std::vector<double> layer_mean, earlier_means;
  int mean_row = 0;
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
    two_time = spec.network.arch == Architecture::recurrent && (averaged_readout(spec) || spec.two_time_kernel);
    const int first = readout_first(spec);
    for (int t = first; t <= spec.network.depth; ++t) times.push_back(t);
    const double entries = 0.5 * double(p) * (p + 1);
    if (two_time) {
      InputSet inputs;
      inputs.count = p;
      inputs.dim = static_cast<int>(x.cols());
      inputs.x = {x};
      RecurrentKernelSpec rs;
      rs.network = spec.network;
      rs.memory_budget_bytes = spec.memory_budget_bytes;
      recurrent = std::make_unique<RecurrentKernelJob>(rs, inputs);
      return;
    }
    cross_layers = averaged_readout(spec) && spec.network.arch == Architecture::deep && !spec.network.activation.odd();
    // A one-point mean counts as one kernel entry.
    work_total = entries * (spec.network.depth + 1.0 + (averaged_readout(spec) ? double(times.size()) : 0.0)) +
                 (cross_layers ? double(times.size()) * p : 0.0);
    if (cross_layers) {
      layer_mean.assign(static_cast<std::size_t>(p), 0.0);
      earlier_means.assign(static_cast<std::size_t>(p), 0.0);
    }
    integrator = std::make_unique<PairIntegrator>(spec.network.activation, PairFunction::phi);
    // Lower triangles only until the end: propagate_rows and the readout pass read column a from the
    // diagonal down, set_variances the diagonal.
    cur.resize(p, p);
    if (spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::every_step) extra.resize(p, p);
    if (averaged_readout(spec)) accum.resize(p, p);
    row_finite.assign(static_cast<std::size_t>(p), 1);
    const int tiles = block_count(p, kKernelTile);
    tile_items = tiles * (tiles + 1) / 2;
    gram_tile_flops = 2.0 * kKernelTile * kKernelTile * double(x.cols());
    final_tile_flops = 2.0 * kKernelTile * kKernelTile * kMemoryFlops;
    work_total += tile_items * (gram_tile_flops + final_tile_flops) / kKernelEntryFlops;
    pass = -1;
    items.reset(tile_items, gram_tile_flops);
  }

  // Pass -1, one lower tile of kKernelTile x kKernelTile: G = x x^T / d, the every-step input term
  // (sigma_in^2 G + sigma_b^2) - sigma_b^2 (as RecurrentKernelJob::input_term), K^0 = sigma_in^2 G +
  // sigma_b^2 (as DeepKernelJob), and zeros for the readout average.
  void gram_tile(int q) {
    const auto [i, j] = lower_tile(q);
    const Eigen::Index r0 = block_start(i, kKernelTile), c0 = block_start(j, kKernelTile);
    const Eigen::Index rows = block_size(p, i, kKernelTile), cols = block_size(p, j, kKernelTile);
    auto g = cur.block(r0, c0, rows, cols);
    g.noalias() = x.middleRows(r0, rows) * x.middleRows(c0, cols).transpose();
    g *= 1.0 / static_cast<double>(x.cols());
    if (extra.size())
      extra.block(r0, c0, rows, cols) =
          ((spec.network.input_variance() * g.array() + spec.network.sigma_b2) - spec.network.sigma_b2).matrix();
    g = (spec.network.input_variance() * g.array() + spec.network.sigma_b2).matrix();
    if (accum.size()) accum.block(r0, c0, rows, cols).setZero();
  }

  // Pass 2, one lower tile: the averaged readout's map from the accumulated E[phi phi] (if any), then
  // its mirror image above the diagonal (the solve reads whole blocks).
  void final_tile(int q) {
    const auto [i, j] = lower_tile(q);
    const Eigen::Index r0 = block_start(i, kKernelTile), c0 = block_start(j, kKernelTile);
    const Eigen::Index rows = block_size(p, i, kKernelTile), cols = block_size(p, j, kKernelTile);
    auto lower = next.block(r0, c0, rows, cols);
    if (accum.size()) {
      const double n = static_cast<double>(times.size());
      lower = ((spec.network.sigma_w2 / (n * n)) * accum.block(r0, c0, rows, cols).array() + spec.network.sigma_b2).matrix();
    }
    if (i > j) {
      next.block(c0, r0, cols, rows) = lower.transpose();
    } else {
      for (Eigen::Index b = 1; b < cols; ++b)
        for (Eigen::Index a = 0; a < b; ++a) lower(a, b) = lower(b, a);
    }
  }

  void prepare_integrator(const Eigen::MatrixXd& k) {
    std::vector<double> q(static_cast<std::size_t>(p));
    for (int a = 0; a < p; ++a) q[static_cast<std::size_t>(a)] = k(a, a);
    integrator->set_variances(q);
    inexact = std::max(inexact, integrator->inexact_variances());
  }

  void start_final_pass() {
    pass = 2;
    items.reset(tile_items, final_tile_flops);
  }

  // From the lower triangle of the step just done (row_finite) and its diagonal.
  bool diverged(const Eigen::MatrixXd& k, int l) {
    const double q_max = k.diagonal().maxCoeff();
    const bool finite = std::find(row_finite.begin(), row_finite.end(), 0) == row_finite.end();
    if (finite && q_max <= kDivergence) return false;
    status = divergence_status(spec.network, q_max, "layer/time " + std::to_string(l));
    done = true;
    return true;
  }

  // One chunk of the layered path.
  void layered_chunk() {
    if (pass == -1 || pass == 2) {
      work_done += items.run_group([&](int q) { pass == -1 ? gram_tile(q) : final_tile(q); }) / kKernelEntryFlops;
      if (!items.finished()) return;
      if (pass == 2) {
        accum.resize(0, 0);
        cur.resize(0, 0);
        done = true;
        return;
      }
      x.resize(0, 0);
      pass = (averaged_readout(spec) && spec.readout_from == 0) ? 0 : 1;
      return;
    }
    const bool final_step = pass == 1 && layer == spec.network.depth;
    if (!pass_started) {
      prepare_integrator(cur);
      if (pass == 1) next.resize(p, p);
      row = 0;
      mean_row = pass == 0 && cross_layers ? 0 : p;
      pass_started = true;
    }
    if (mean_row < p) {
      // m_t(a) = E[phi(h^t_a)] over N(0, K^t_aa) for the cross-layer terms (docs/theory.md §7).
      const int count = std::min(p - mean_row, kMeansPerThread * thread_count()), from = mean_row;
      parallel_for(
          count,
          [&](int begin, int end) {
            for (int a = from + begin; a < from + end; ++a)
              layer_mean[static_cast<std::size_t>(a)] = mean_phi(spec.network.activation, cur(a, a));
          },
          kMeansPerThread / 4);
      mean_row += count;
      work_done += count;
      return;
    }
    const int chunk = triangle_chunk(row, p, p), first = row;
    if (pass == 1) {
      // K^{l+1} = sigma_b^2 [+ sigma_in^2 G] + sigma_w^2 E[phi phi] over K^l; the final step has no input term.
      const Eigen::MatrixXd* add = (!final_step && extra.size()) ? &extra : nullptr;
      parallel_for(chunk, [&](int begin, int end) {
        propagate_rows(cur, *integrator, spec.network.sigma_w2, spec.network.sigma_b2, add, first + begin, first + end, next);
        for (int a = first + begin; a < first + end; ++a)
          row_finite[static_cast<std::size_t>(a)] = next.col(a).tail(p - a).allFinite();
      });
    } else {
      // accum += E[phi phi] over K^l, plus the cross-layer terms m_l(a) S_l(b) + S_l(a) m_l(b) (lower
      // triangle; each row writes only its own column).
      parallel_for(chunk, [&](int begin, int end) {
        std::vector<double> out(static_cast<std::size_t>(p));
        for (int a = first + begin; a < first + end; ++a) {
          integrator->row(a, a, p - a, cur.data() + static_cast<std::size_t>(a) * p + a, out.data());
          double* dst = accum.data() + static_cast<std::size_t>(a) * p + a;
          if (cross_layers) {
            const double m_a = layer_mean[static_cast<std::size_t>(a)], s_a = earlier_means[static_cast<std::size_t>(a)];
            const double* m = layer_mean.data() + a;
            const double* s = earlier_means.data() + a;
            for (int b = 0; b < p - a; ++b) dst[b] += out[static_cast<std::size_t>(b)] + (m_a * s[b] + s_a * m[b]);
          } else {
            for (int b = 0; b < p - a; ++b) dst[b] += out[static_cast<std::size_t>(b)];
          }
        }
      });
    }
    for (int a = first; a < first + chunk; ++a) work_done += p - a;
    row += chunk;
    if (row < p) return;
    pass_started = false;
    if (pass == 0) {
      for (int a = 0; a < static_cast<int>(earlier_means.size()); ++a)
        earlier_means[static_cast<std::size_t>(a)] += layer_mean[static_cast<std::size_t>(a)];
      if (layer == spec.network.depth) {  // the averaged readout is complete
        next.resize(p, p);
        start_final_pass();
        return;
      }
      pass = 1;
      return;
    }
    if (diverged(next, layer + 1)) return;
    if (final_step) {
      start_final_pass();
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
      integrator = std::make_unique<PairIntegrator>(spec.network.activation, PairFunction::phi);
      std::vector<double> q(static_cast<std::size_t>(n) * p);
      for (int i = 0; i < n; ++i)
        for (int a = 0; a < p; ++a)
          q[static_cast<std::size_t>(i) * p + a] =
              r.at(times[static_cast<std::size_t>(i)], times[static_cast<std::size_t>(i)], a, a);
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
    parallel_for(
        p,
        [&](int begin, int end) {
          std::vector<double> cov(static_cast<std::size_t>(p)), out(static_cast<std::size_t>(p));
          for (int a = begin; a < end; ++a) {
            for (int b = 0; b < p; ++b) cov[static_cast<std::size_t>(b)] = block(a, b);
            integrator->row(i * p + a, j * p, p, cov.data(), out.data());
            for (int b = 0; b < p; ++b) e(a, b) = out[static_cast<std::size_t>(b)];
          }
        },
        16);
    accum += e;
    if (i != j) accum += e.transpose();  // E[phi(h^s) phi(h^t)] = (E[phi(h^t) phi(h^s)])^T
    if (++pair < n * (n + 1) / 2) return;
    // Exact symmetry, then the readout map.
    next = 0.5 * (accum + accum.transpose());
    next = ((spec.network.sigma_w2 / (double(n) * n)) * next.array() + spec.network.sigma_b2).matrix();
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
// The solve is a resumable state machine (GpSolver) so that a job can stop after any unit of work: a
// unit is one group of fixed tiles handed to the thread pool at once. The tiles (kCholeskyBlock rows
// or columns) never depend on the slicing or the thread count, and each tile writes only its own
// entries, so every digit is the same however the work is cut.
namespace {

// Blocked right-looking Cholesky A = L L^T of the lower triangle, in place (Golub & Van Loan 2013,
// Alg. 4.2.4), panel by panel: the diagonal block by Eigen's LLT, the panel below it by a triangular
// solve per row block, the trailing update A22 -= L21 L21^T per lower tile. Fails if A is not
// numerically positive definite. The strict upper triangle is left as scratch.
class BlockedCholesky {
 public:
  void start(Eigen::MatrixXd* a) {
    a_ = a;
    blocks_ = block_count(a->rows());
    panel_ = 0;
    phase_ = 0;
    failed_ = false;
    work_ = 0;
  }
  bool finished() const { return failed_ || panel_ >= blocks_; }
  bool failed() const { return failed_; }
  double work() const { return work_; }
  static double total_work(Eigen::Index n) {
    const double nb = kCholeskyBlock, t = block_count(n);
    double total = 0;
    for (int k = 0; k < t; ++k) {
      const double rest = t - k - 1;
      total += nb * nb * nb / 3 + rest * nb * nb * nb + rest * (rest + 1) / 2 * 2 * nb * nb * nb;
    }
    return total;
  }

  void unit() {
    Eigen::MatrixXd& a = *a_;
    const Eigen::Index n = a.rows(), k0 = block_start(panel_), b = block_size(n, panel_);
    const int rest = blocks_ - panel_ - 1;
    const double nb3 = double(kCholeskyBlock) * kCholeskyBlock * kCholeskyBlock;
    if (phase_ == 0) {
      Eigen::Ref<Eigen::MatrixXd> diagonal = a.block(k0, k0, b, b);
      Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>, Eigen::Lower> llt(diagonal);
      work_ += nb3 / 3;
      if (llt.info() != Eigen::Success || !diagonal.diagonal().allFinite()) {
        failed_ = true;
        return;
      }
      if (rest == 0) {
        ++panel_;
        return;
      }
      phase_ = 1;
      items_.reset(rest, nb3);
    } else if (phase_ == 1) {
      work_ += items_.run_group([&](int i) {  // L21 = A21 L11^{-T}, one row block each
        const int r = panel_ + 1 + i;
        auto rows = a.block(block_start(r), k0, block_size(n, r), b);
        a.block(k0, k0, b, b).transpose().triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(rows);
      });
      if (items_.finished()) {
        phase_ = 2;
        items_.reset(rest * (rest + 1) / 2, 2 * nb3);
      }
    } else {
      work_ += items_.run_group([&](int q) {  // A22 -= L21 L21^T, one lower tile each
        const auto [i, j] = lower_tile(q);
        const int r = panel_ + 1 + i, c = panel_ + 1 + j;
        const Eigen::Index r0 = block_start(r), c0 = block_start(c), rows = block_size(n, r), cols = block_size(n, c);
        a.block(r0, c0, rows, cols).noalias() -= a.block(r0, k0, rows, b) * a.block(c0, k0, cols, b).transpose();
      });
      if (items_.finished()) {
        phase_ = 0;
        ++panel_;
      }
    }
  }

 private:
  Eigen::MatrixXd* a_ = nullptr;
  int blocks_ = 0, panel_ = 0, phase_ = 0;
  bool failed_ = false;
  double work_ = 0;
  ItemSweep items_;
};

// X := L^{-1} X (forward) or L^{-T} X (backward) in place for the Cholesky factor L (lower triangle of
// `factor`), tile by tile: for each row block I in order, its diagonal solve per right-hand-side
// block, then the update of the row blocks still to come, X_R -= L_RI X_I (or L_IR^T X_I).
class TriangularSweep {
 public:
  void start(const Eigen::MatrixXd* factor, Eigen::MatrixXd* x, bool transposed) {
    factor_ = factor;
    x_ = x;
    transposed_ = transposed;
    blocks_ = block_count(factor->rows());
    rhs_blocks_ = block_count(x->cols());
    step_ = 0;
    phase_ = 0;
    items_.reset(rhs_blocks_, item_flops(x_->cols()));
  }
  bool finished() const { return step_ >= blocks_; }
  static double total_work(Eigen::Index n, Eigen::Index columns) {
    const double t = block_count(n);
    return t * t * block_count(columns) * item_flops(columns);
  }

  // Returns the nominal flops done.
  double unit() {
    const Eigen::MatrixXd& l = *factor_;
    Eigen::MatrixXd& x = *x_;
    const Eigen::Index n = l.rows(), w = x.cols();
    const int i = transposed_ ? blocks_ - 1 - step_ : step_;
    const Eigen::Index i0 = block_start(i), bi = block_size(n, i);
    auto rhs = [&](int c) { return std::pair{block_start(c), block_size(w, c)}; };
    double done = 0;
    if (phase_ == 0) {
      done = items_.run_group([&](int c) {
        const auto [c0, cols] = rhs(c);
        auto xi = x.block(i0, c0, bi, cols);
        if (transposed_)
          l.block(i0, i0, bi, bi).transpose().triangularView<Eigen::Upper>().solveInPlace(xi);
        else
          l.block(i0, i0, bi, bi).triangularView<Eigen::Lower>().solveInPlace(xi);
      });
      if (!items_.finished()) return done;
      const int others = transposed_ ? i : blocks_ - 1 - i;
      if (others == 0) return ++step_, done;
      phase_ = 1;
      items_.reset(others * rhs_blocks_, 2 * item_flops(x_->cols()));
      return done;
    }
    done = items_.run_group([&](int q) {
      const int other = q / rhs_blocks_, c = q % rhs_blocks_;
      const int r = transposed_ ? other : i + 1 + other;
      const Eigen::Index r0 = block_start(r), br = block_size(n, r);
      const auto [c0, cols] = rhs(c);
      if (transposed_)
        x.block(r0, c0, br, cols).noalias() -= l.block(i0, r0, bi, br).transpose() * x.block(i0, c0, bi, cols);
      else
        x.block(r0, c0, br, cols).noalias() -= l.block(r0, i0, br, bi) * x.block(i0, c0, bi, cols);
    });
    if (items_.finished()) {
      ++step_;
      phase_ = 0;
      items_.reset(rhs_blocks_, item_flops(x_->cols()));
    }
    return done;
  }

 private:
  // A tile's product: a flop per entry of L per right-hand side, but at least the cost of reading L
  // (a sweep over one vector is bound by memory).
  static double item_flops(Eigen::Index columns) {
    return double(kCholeskyBlock) * kCholeskyBlock *
           std::max(0.5 * kMemoryFlops, double(std::min<Eigen::Index>(kCholeskyBlock, columns)));
  }
  const Eigen::MatrixXd* factor_ = nullptr;
  Eigen::MatrixXd* x_ = nullptr;
  bool transposed_ = false;
  int blocks_ = 0, rhs_blocks_ = 0, step_ = 0, phase_ = 0;
  ItemSweep items_;
};

}  // namespace

// The solve as stages, each resumable unit by unit:
//   check       the inputs are finite (column blocks)
//   copy        A = K + (sigma_n^2 + jitter) I and its 1-norm (column blocks)
//   factor      A = L L^T (BlockedCholesky)
//   condition   |A^{-1}|_1 estimated by Hager's method, one triangular sweep per unit; a failed
//               factorisation or too small a reciprocal condition number escalates the jitter by a
//               decade and goes back to `copy`
//   alpha       A^{-1} Y by a forward and a backward sweep, then the evidence
//   means       K_XX alpha and K_*X alpha (row blocks)
//   variance    K_X* copied, L^{-1} K_X* by a forward sweep, var_* = k_** - |L^{-1} k_X*|^2
class GpSolver {
 public:
  using ConstMatrixMap = Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>>;

  // The maps must stay valid until the solver is finished.
  GpSolver(ConstMatrixMap k_train, ConstMatrixMap k_test_train, Eigen::VectorXd k_test_diag, Eigen::MatrixXd targets,
           double sigma_n2, bool with_variance)
      : k_train_(k_train),
        k_test_train_(k_test_train),
        k_test_diag_(std::move(k_test_diag)),
        targets_(std::move(targets)),
        sigma_n2_(sigma_n2),
        with_variance_(with_variance) {
    const Eigen::Index n = k_train_.rows(), m = k_test_train_.rows(), k = targets_.cols();
    if (n == 0 || k_train_.cols() != n || targets_.rows() != n || (m > 0 && k_test_train_.cols() != n) ||
        k_test_diag_.size() != m) {
      stop(invalid("The kernel blocks and the targets do not match in size."));
      return;
    }
    if (!k_train_.diagonal().allFinite() || !k_test_diag_.allFinite() || !targets_.allFinite()) {
      stop(non_finite());
      return;
    }
    scale_ = k_train_.diagonal().mean();
    if (!(scale_ > 0)) {
      stop(Status::error(StatusCode::numerical, "The training kernel has no positive variance: the prior is degenerate."));
      return;
    }
    // Nominal flops of the two halves, for progress().
    const double memory_item = double(n) * kMemoryColumns * kMemoryFlops;
    const int train_chunks = block_count(n, kMemoryColumns), test_chunks = block_count(m, kMemoryColumns);
    check_work_ = (train_chunks + test_chunks) * memory_item;
    attempt_work_ = train_chunks * memory_item + BlockedCholesky::total_work(n) + 10 * TriangularSweep::total_work(n, 1);
    predict_work_ = 2 * TriangularSweep::total_work(n, k) + (block_count(n) + block_count(m)) * means_item_flops(n, k) +
                    (with_variance_ && m > 0 ? 2 * test_chunks * memory_item + TriangularSweep::total_work(n, m) : 0);
    stage_ = Stage::check;
    items_.reset(train_chunks + test_chunks, memory_item);
    check_failed_.assign(static_cast<std::size_t>(items_.count), 0);
  }

  bool finished() const { return stage_ == Stage::finished; }
  bool predicting() const { return stage_ >= Stage::alpha_forward; }
  GpSolveResult take_result() { return std::move(r_); }

  // In [0, 1]; a jitter retry spreads the rest of the factorisation share over the new attempt.
  double progress() const {
    if (finished()) return 1.0;
    const double total = check_work_ + attempt_work_ + predict_work_;
    const double attempt = std::min(1.0, attempt_done_ / attempt_work_);
    const double factor_share = check_done_ + attempt_work_ * (attempt_base_ + (1 - attempt_base_) * attempt);
    return std::min(1.0, (factor_share + predict_done_) / total);
  }

  // One unit of work; true when finished (r_.status says how).
  bool unit() {
    switch (stage_) {
      case Stage::check: check_unit(); break;
      case Stage::copy: copy_unit(); break;
      case Stage::factor: factor_unit(); break;
      case Stage::condition: condition_unit(); break;
      case Stage::alpha_forward:
      case Stage::alpha_backward: alpha_unit(); break;
      case Stage::means: means_unit(); break;
      case Stage::variance_copy:
      case Stage::variance_sweep:
      case Stage::variance_norms: variance_unit(); break;
      case Stage::finished: break;
    }
    return finished();
  }

 private:
  enum class Stage {
    check,
    copy,
    factor,
    condition,
    alpha_forward,
    alpha_backward,
    means,
    variance_copy,
    variance_sweep,
    variance_norms,
    finished
  };

  // A row block times alpha: 2 k flops per kernel entry, but at least the cost of reading it.
  static double means_item_flops(Eigen::Index n, Eigen::Index k) {
    return double(kCholeskyBlock) * double(n) * std::max(2.0 * double(k), kMemoryFlops);
  }

  static Status non_finite() {
    return Status::error(StatusCode::numerical, "The kernel or the targets contain a non-finite number.");
  }

  void stop(Status s) {
    r_.status = std::move(s);
    r_.jitter = 0;
    a_.resize(0, 0);
    stage_ = Stage::finished;
  }

  void check_unit() {
    const Eigen::Index n = k_train_.rows(), m = k_test_train_.rows();
    const int train_chunks = block_count(n, kMemoryColumns), c = kMemoryColumns;
    check_done_ += items_.run_group([&](int i) {
      const bool finite =
          i < train_chunks
              ? k_train_.middleCols(block_start(i, c), block_size(n, i, c)).allFinite()
              : k_test_train_.middleRows(block_start(i - train_chunks, c), block_size(m, i - train_chunks, c)).allFinite();
      check_failed_[static_cast<std::size_t>(i)] = !finite;
    });
    if (!items_.finished()) return;
    if (std::find(check_failed_.begin(), check_failed_.end(), 1) != check_failed_.end()) return stop(non_finite());
    start_attempt();
  }

  void start_attempt() {
    const Eigen::Index n = k_train_.rows();
    if (a_.rows() != n) a_.resize(n, n);
    column_norms_.resize(n);
    attempt_done_ = 0;
    stage_ = Stage::copy;
    items_.reset(block_count(n, kMemoryColumns), double(n) * kMemoryColumns * kMemoryFlops);
  }

  void copy_unit() {
    const Eigen::Index n = k_train_.rows();
    const double shift = sigma_n2_ + r_.jitter;
    attempt_done_ += items_.run_group([&](int i) {
      const Eigen::Index c0 = block_start(i, kMemoryColumns), cols = block_size(n, i, kMemoryColumns);
      a_.middleCols(c0, cols) = k_train_.middleCols(c0, cols);
      for (Eigen::Index c = c0; c < c0 + cols; ++c) {
        a_(c, c) += shift;
        column_norms_(c) = a_.col(c).lpNorm<1>();
      }
    });
    if (!items_.finished()) return;
    norm1_ = column_norms_.maxCoeff();
    cholesky_.start(&a_);
    stage_ = Stage::factor;
  }

  void factor_unit() {
    const double before = cholesky_.work();
    cholesky_.unit();
    attempt_done_ += cholesky_.work() - before;
    if (!cholesky_.finished()) return;
    if (cholesky_.failed()) return escalate_jitter();
    // Hager 1984; Higham 1988 (LAPACK's xLACON): x = (1/n, ..., 1/n) first.
    const Eigen::Index n = a_.rows();
    hager_x_ = Eigen::VectorXd::Constant(n, 1.0 / double(n));
    hager_estimate_ = 0;
    hager_previous_ = -1;
    hager_iteration_ = 0;
    hager_what_ = Hager::y;
    start_hager_solve(hager_x_);
    stage_ = Stage::condition;
  }

  // |A^{-1}|_1 by Hager's method from the factor: y = A^{-1} x, z = A^{-1} sign(y), then x = e_j at
  // the largest |z_j| until that stops growing (at most five rounds); Higham's alternating-sign vector
  // gives a second lower bound. A is symmetric, so A^{-T} = A^{-1}.
  enum class Hager { y, z, alternating };

  void start_hager_solve(const Eigen::VectorXd& v) {
    hager_v_ = v;
    hager_backward_ = false;
    sweep_.start(&a_, &hager_v_, false);
  }

  void condition_unit() {
    attempt_done_ += sweep_.unit();
    if (!sweep_.finished()) return;
    if (!hager_backward_) {
      hager_backward_ = true;
      sweep_.start(&a_, &hager_v_, true);
      return;
    }
    const Eigen::Index n = a_.rows();
    switch (hager_what_) {
      case Hager::y:
        hager_estimate_ = std::max(hager_estimate_, hager_v_.col(0).lpNorm<1>());
        hager_what_ = Hager::z;
        start_hager_solve(hager_v_.col(0).unaryExpr([](double v) { return v >= 0 ? 1.0 : -1.0; }));
        return;
      case Hager::z: {
        Eigen::Index j = 0;
        const double z_max = hager_v_.col(0).cwiseAbs().maxCoeff(&j);
        const bool converged = hager_iteration_ > 0 && (z_max <= hager_v_.col(0).dot(hager_x_) || j == hager_previous_);
        if (!converged && hager_iteration_ < 4) {
          hager_x_.setZero();
          hager_x_(j) = 1;
          hager_previous_ = j;
          ++hager_iteration_;
          hager_what_ = Hager::y;
          start_hager_solve(hager_x_);
          return;
        }
        Eigen::VectorXd alternating(n);
        for (Eigen::Index i = 0; i < n; ++i)
          alternating(i) = (i % 2 ? -1.0 : 1.0) * (1.0 + double(i) / double(std::max<Eigen::Index>(1, n - 1)));
        hager_what_ = Hager::alternating;
        start_hager_solve(alternating);
        return;
      }
      case Hager::alternating: {
        const double inverse_norm1 = std::max(hager_estimate_, 2.0 * hager_v_.col(0).lpNorm<1>() / (3.0 * double(n)));
        const double rcond = 1.0 / (norm1_ * inverse_norm1);
        if (!(rcond >= kMinReciprocalCondition)) return escalate_jitter();
        r_.condition_number = 1.0 / rcond;
        hager_v_.resize(0, 0);
        hager_x_.resize(0);
        alpha_ = targets_;  // A^{-1} Y = L^{-T} L^{-1} Y
        sweep_.start(&a_, &alpha_, false);
        stage_ = Stage::alpha_forward;
        return;
      }
    }
  }

  void escalate_jitter() {
    r_.jitter = r_.jitter == 0 ? 1e-12 * scale_ : r_.jitter * 10;
    ++r_.jitter_attempts;
    if (r_.jitter > kMaxRelativeJitter * scale_ * 1.0000001)
      return stop(Status::error(StatusCode::numerical, "The training kernel is not positive definite even with a jitter of " +
                                                           short_number(kMaxRelativeJitter) +
                                                           " times its mean variance: raise sigma_n^2 or reduce the depth."));
    attempt_base_ += (1 - attempt_base_) * std::min(1.0, attempt_done_ / attempt_work_);
    start_attempt();
  }

  void alpha_unit() {
    predict_done_ += sweep_.unit();
    if (!sweep_.finished()) return;
    if (stage_ == Stage::alpha_forward) {
      sweep_.start(&a_, &alpha_, true);
      stage_ = Stage::alpha_backward;
      return;
    }
    // log p(y_k) = -1/2 y_k^T alpha_k - sum log L_ii - n/2 log 2 pi   (Rasmussen & Williams, Alg. 2.1)
    const Eigen::Index n = a_.rows(), m = k_test_train_.rows(), k = targets_.cols();
    double half_log_det = 0;
    for (Eigen::Index i = 0; i < n; ++i) half_log_det += std::log(a_(i, i));
    r_.log_evidence = 0;
    for (Eigen::Index c = 0; c < k; ++c) {
      const double v = -0.5 * targets_.col(c).dot(alpha_.col(c)) - half_log_det - 0.5 * double(n) * kLog2Pi;
      r_.log_evidence_per_output.push_back(v);
      r_.log_evidence += v;
    }
    r_.train_mean.resize(n, k);
    r_.mean.resize(m, k);
    stage_ = Stage::means;
    items_.reset(block_count(n) + block_count(m), means_item_flops(n, k));
  }

  void means_unit() {
    const Eigen::Index n = k_train_.rows(), m = k_test_train_.rows();
    const int train_blocks = block_count(n);
    predict_done_ += items_.run_group([&](int i) {
      if (i < train_blocks) {
        const Eigen::Index r0 = block_start(i), rows = block_size(n, i);
        r_.train_mean.middleRows(r0, rows).noalias() = k_train_.middleRows(r0, rows) * alpha_;
      } else {
        const Eigen::Index r0 = block_start(i - train_blocks), rows = block_size(m, i - train_blocks);
        r_.mean.middleRows(r0, rows).noalias() = k_test_train_.middleRows(r0, rows) * alpha_;
      }
    });
    if (!items_.finished()) return;
    alpha_.resize(0, 0);
    if (!with_variance_ || m == 0) return finish();
    v_.resize(n, m);
    stage_ = Stage::variance_copy;
    items_.reset(block_count(m, kMemoryColumns), double(n) * kMemoryColumns * kMemoryFlops);
  }

  void variance_unit() {
    const Eigen::Index n = k_train_.rows(), m = k_test_train_.rows();
    if (stage_ == Stage::variance_copy) {
      predict_done_ += items_.run_group([&](int i) {
        const Eigen::Index c0 = block_start(i, kMemoryColumns), cols = block_size(m, i, kMemoryColumns);
        v_.middleCols(c0, cols) = k_test_train_.middleRows(c0, cols).transpose();
      });
      if (!items_.finished()) return;
      sweep_.start(&a_, &v_, false);  // L^{-1} K_X*: test points are independent right-hand sides
      stage_ = Stage::variance_sweep;
    } else if (stage_ == Stage::variance_sweep) {
      predict_done_ += sweep_.unit();
      if (!sweep_.finished()) return;
      r_.variance.resize(m);
      stage_ = Stage::variance_norms;
      items_.reset(block_count(m, kMemoryColumns), double(n) * kMemoryColumns * kMemoryFlops);
    } else {
      // var_* = k_** - |L^{-1} k_X*|^2
      predict_done_ += items_.run_group([&](int i) {
        const Eigen::Index c0 = block_start(i, kMemoryColumns), cols = block_size(m, i, kMemoryColumns);
        for (Eigen::Index c = c0; c < c0 + cols; ++c) r_.variance(c) = k_test_diag_(c) - v_.col(c).squaredNorm();
      });
      if (!items_.finished()) return;
      v_.resize(0, 0);
      finish();
    }
  }

  void finish() {
    if (r_.jitter > 0) {
      r_.status = Status{StatusCode::ok, "The training kernel needed a jitter of " + significant_number(r_.jitter, 3) + " (" +
                                             significant_number(r_.jitter / scale_, 3) +
                                             " of its mean variance) on top of sigma_n^2 to factorise; condition number " +
                                             significant_number(r_.condition_number, 3) + "."};
    }
    a_.resize(0, 0);
    stage_ = Stage::finished;
  }

  ConstMatrixMap k_train_, k_test_train_;
  Eigen::VectorXd k_test_diag_;
  Eigen::MatrixXd targets_;
  double sigma_n2_ = 0;
  bool with_variance_ = true;
  GpSolveResult r_;
  Stage stage_ = Stage::finished;
  double scale_ = 0, norm1_ = 0;
  Eigen::MatrixXd a_, alpha_, v_;  // A (then L), A^{-1} Y, L^{-1} K_X*
  Eigen::VectorXd column_norms_;
  std::vector<char> check_failed_;
  ItemSweep items_;
  BlockedCholesky cholesky_;
  TriangularSweep sweep_;
  Eigen::VectorXd hager_x_;
  Eigen::MatrixXd hager_v_;  // the vector being solved for, as one column
  double hager_estimate_ = 0;
  Eigen::Index hager_previous_ = -1;
  int hager_iteration_ = 0;
  bool hager_backward_ = false;
  Hager hager_what_ = Hager::y;
  double check_work_ = 1, attempt_work_ = 1, predict_work_ = 1;
  double check_done_ = 0, attempt_done_ = 0, attempt_base_ = 0, predict_done_ = 0;
};

GpSolveResult gp_solve(const Eigen::Ref<const Eigen::MatrixXd>& k_train, const Eigen::Ref<const Eigen::MatrixXd>& k_test_train,
                       const Eigen::Ref<const Eigen::VectorXd>& k_test_diag, const Eigen::MatrixXd& targets, double sigma_n2,
                       bool with_variance) {
  using Map = GpSolver::ConstMatrixMap;
  GpSolver solver(
      Map(k_train.data(), k_train.rows(), k_train.cols(), Eigen::OuterStride<>(k_train.outerStride())),
      Map(k_test_train.data(), k_test_train.rows(), k_test_train.cols(), Eigen::OuterStride<>(k_test_train.outerStride())),
      k_test_diag, targets, sigma_n2, with_variance);
  while (!solver.unit()) {}
  return solver.take_result();
}

// --- 5. Memory estimate -------------------------------------------------------------------------------

double gp_memory_bytes(const GpSpec& spec, int train, int test, int outputs, int dim) {
  const double p = double(train) + test, pp = p * p, n = train, m = test;
  double kernel_phase = 0;
  const bool two_time = spec.network.arch == Architecture::recurrent && (averaged_readout(spec) || spec.two_time_kernel);
  if (two_time) {
    kernel_phase = recurrent_kernel_bytes(static_cast<int>(p), spec.network.depth) + 8.0 * (3 * pp + p * dim);
  } else {
    const bool extra = spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::every_step;
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
  solver_.reset();
  done_ = true;
  phase_ = 2;
}

GpJob::GpJob(const GpSpec& spec, const GpProblem& problem) : spec_(spec) {
  // Only the labels are kept here; the points go into the kernel state.
  problem_.y_train = problem.y_train;
  problem_.y_test = problem.y_test;
  problem_.classification = problem.classification;
  result_.accuracy = std::numeric_limits<double>::quiet_NaN();
  if (Status s = check_spec(spec); !s.ok()) {
    fail(s);
    return;
  }
  const Eigen::Index n = problem.x_train.rows(), m = problem.x_test.rows(), d = problem.x_train.cols();
  if (n < 1 || d < 1) {
    fail(invalid("There are no training points."));
    return;
  }
  if (m > 0 && problem.x_test.cols() != d) {
    fail(invalid("The test points have " + std::to_string(problem.x_test.cols()) + " coordinates, the training points " +
                 std::to_string(d) + "."));
    return;
  }
  if (static_cast<Eigen::Index>(problem.y_train.size()) != n || static_cast<Eigen::Index>(problem.y_test.size()) != m) {
    fail(invalid("Every point needs exactly one label."));
    return;
  }
  if (!problem.x_train.allFinite() || !problem.x_test.allFinite()) {
    fail(invalid("The points contain a non-finite number."));
    return;
  }
  targets_ = gp_targets(problem, spec.centred_targets);
  if (!targets_.status.ok()) {
    fail(targets_.status);
    return;
  }
  result_.classes = targets_.classes;
  result_.memory_bytes = gp_memory_bytes(spec, static_cast<int>(n), static_cast<int>(m), static_cast<int>(targets_.train.cols()),
                                         static_cast<int>(d));
  if (result_.memory_bytes > double(spec.memory_budget_bytes)) {
    fail(Status::error(
        StatusCode::too_large,
        "GP inference with " + std::to_string(n) + " training and " + std::to_string(m) + " test points needs about " +
            mib(result_.memory_bytes) + ", over the budget of " + mib(double(spec.memory_budget_bytes)) + ": use fewer points" +
            (spec.network.arch == Architecture::recurrent && averaged_readout(spec) ? " or fewer time steps." : ".")));
    return;
  }
  Eigen::MatrixXd x(n + m, d);
  x.topRows(n) = problem.x_train;
  if (m > 0) x.bottomRows(m) = problem.x_test;
  kernel_ = std::make_unique<GpKernelState>(spec, std::move(x));
  // Shares of progress() by estimated work in flops: a kernel entry costs about kKernelEntryFlops per
  // layer/time (a Gaussian integral), the solve n^3/3 + n^2 m (variances) + 2 (n + m) n k.
  const double p = double(n + m), entries = 0.5 * p * (p + 1), nd = double(n), md = double(m);
  const double passes =
      spec.network.depth + 1.0 + (averaged_readout(spec) ? std::pow(spec.network.depth + 1.0 - readout_first(spec), 2) : 0.0);
  const double kernel_work = entries * passes * kKernelEntryFlops + p * p * double(d);
  const double solve_work =
      nd * nd * nd / 3 + (spec.with_variance ? nd * nd * md : 0.0) + 2 * (nd + md) * nd * double(targets_.train.cols());
  kernel_share_ = kernel_work / (kernel_work + solve_work);
}

void GpJob::start_solve() {
  const Eigen::Index n = targets_.train.rows(), m = targets_.test.rows(), stride = result_.kernel.rows();
  const double* k = result_.kernel.data();
  using Map = GpSolver::ConstMatrixMap;
  solver_ = std::make_unique<GpSolver>(Map(k, n, n, Eigen::OuterStride<>(stride)), Map(k + n, m, n, Eigen::OuterStride<>(stride)),
                                       result_.kernel.diagonal().tail(m), targets_.train, spec_.sigma_n2, spec_.with_variance);
  phase_ = 1;
}

GpResult GpJob::take_result() {
  solver_.reset();  // it reads result_.kernel
  kernel_.reset();
  done_ = true;
  phase_ = 2;
  return std::move(result_);
}

const char* GpJob::stage() const {
  if (done_) return "done";
  if (phase_ == 0) return "kernel";
  return solver_ && solver_->predicting() ? "predicting" : "factorising";
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
        start_solve();
      }
    } else if (solver_->unit()) {
      result_.solve = solver_->take_result();
      solver_.reset();
      finish();
    }
    if (timer.expired()) break;
  }
  return done_;
}

void GpJob::finish() {
  const Eigen::Index n = targets_.train.rows(), m = targets_.test.rows();
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
    for (Eigen::Index a = 0; a < n; ++a)
      train_right += predict(result_.solve.train_mean, a) == problem_.y_train[static_cast<std::size_t>(a)];
    result_.train_accuracy = train_right / double(n);
  }
}

double GpJob::progress() const {
  if (done_) return 1.0;
  if (phase_ == 0) return kernel_ ? kernel_share_ * kernel_->progress() : 0.0;
  return kernel_share_ + (1 - kernel_share_) * (solver_ ? solver_->progress() : 1.0);
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
  const auto start = std::chrono::steady_clock::now();
  while (points_.size() < values_.size()) {
    if (cancelled()) return true;
    const double value = values_[points_.size()];
    if (!current_) {
      GpSpec s = spec_;
      switch (parameter_) {
        case GpSweepParameter::sigma_w2:
          s.network.sigma_w2 = value;  // an unset sigma_in^2 follows it
          break;
        case GpSweepParameter::sigma_b2: s.network.sigma_b2 = value; break;
        case GpSweepParameter::depth:
          s.network.depth = static_cast<int>(std::lround(value));
          if (s.readout_from > s.network.depth) s.readout_from = -1;
          break;
        case GpSweepParameter::sigma_n2: s.sigma_n2 = value; break;
      }
      current_ = std::make_unique<GpJob>(s, problem_);
    }
    // The runs share the slice: each gets what is left of it.
    const double left =
        std::max(0.0, budget_seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
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
