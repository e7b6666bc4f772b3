// GP predictions at many depths and on many query points (core/gp_grid.h; docs/theory.md §7).
//
// Sections
//   1. GpBlockKernels: the first n columns of the lower triangle of K^l over [train; query], and the
//      query diagonal, advanced layer by layer
//   2. gp_predict
//   3. GpDepthScanJob and GpPhaseGridJob
//   4. GpSurfaceJob
#include "core/gp_grid.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/deep_kernel.h"  // symmetrize_from_lower, kEntriesPerThread
#include "core/gaussian.h"
#include "core/parallel.h"
#include "core/text.h"

namespace fs {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMeansPerThread = 256;  // one-point means per thread in one unit, as gp.cpp

Status invalid(std::string message) { return Status::error(StatusCode::invalid_input, std::move(message)); }

Status check_common(const GpSpec& spec, const GpProblem& problem) {
  if (Status bad = spec.network.validate(); !bad.ok()) return bad;
  if (!(spec.sigma_n2 >= 0 && spec.sigma_n2 <= 1e6)) return invalid("The noise sigma_n^2 must be a finite number in 0..1e6.");
  if (spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::sequence)
    return invalid("GP inference takes static points: use input at t = 0 or at every step, not a sequence.");
  if (problem.x_train.rows() < 1 || problem.x_train.cols() < 1) return invalid("There are no training points.");
  if (problem.x_test.rows() > 0 && problem.x_test.cols() != problem.x_train.cols())
    return invalid("The training and test points differ in dimension.");
  if (!problem.x_train.allFinite() || !problem.x_test.allFinite()) return invalid("The points must be finite.");
  if (static_cast<Eigen::Index>(problem.y_train.size()) != problem.x_train.rows())
    return invalid("Every training point needs one label.");
  return Status::success();
}
}  // namespace

// --- 1. GpBlockKernels --------------------------------------------------------------------------------
// Layout: c (P x n, column-major) holds K^l(b, a) for train columns a < n and rows b >= a (b < n: train,
// b >= n: query b - n); d (m) the query diagonal. Every entry is computed by the same
// PairIntegrator::row call with the same affine map as GpKernelState's layered path (gp.cpp), and K^0
// and the every-step input term by the same arithmetic. The averaged (deep) readout adds, as gp.cpp, the
// cross-layer terms m_t(a) S_t(b) + S_t(a) m_t(b) of docs/theory.md §7, with m_t(a) = mean_phi(K^t_aa)
// and S_t the sum of m_s over the readout layers s < t; they are skipped for odd phi (all m_t = 0).
class GpBlockKernels {
 public:
  GpBlockKernels(const GpSpec& spec, const Eigen::MatrixXd& x_train, const Eigen::MatrixXd& x_query, int last_layer,
                 int first_readout, bool averaged)
      : spec_(spec), last_(last_layer), first_readout_(first_readout), averaged_(averaged) {
    n_ = static_cast<int>(x_train.rows());
    m_ = static_cast<int>(x_query.rows());
    p_ = n_ + m_;
    Eigen::MatrixXd x(p_, x_train.cols());
    x.topRows(n_) = x_train;
    if (m_ > 0) x.bottomRows(m_) = x_query;
    const double inv_d = 1.0 / static_cast<double>(x.cols());
    c_.resize(p_, n_);
    c_.noalias() = x * x_train.transpose();
    c_ *= inv_d;
    d_.resize(m_);
    for (int s = 0; s < m_; ++s) d_(s) = x.row(n_ + s).squaredNorm() * inv_d;
    if (spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::every_step) {
      // As gp.cpp: (sigma_in^2 G + sigma_b^2) - sigma_b^2.
      extra_c_ = ((spec.network.input_variance() * c_).array() + spec.network.sigma_b2 - spec.network.sigma_b2).matrix();
      extra_d_ = ((spec.network.input_variance() * d_).array() + spec.network.sigma_b2 - spec.network.sigma_b2).matrix();
    }
    c_ = spec.network.input_kernel(c_);  // K^0 of the train columns and of the query diagonal
    d_ = spec.network.input_kernel(d_);
    integrator_ = std::make_unique<PairIntegrator>(spec.network.activation, PairFunction::phi);
    if (averaged_) accum_c_ = Eigen::MatrixXd::Zero(p_, n_), accum_d_ = Eigen::VectorXd::Zero(m_);
    cross_layers_ = averaged_ && spec.network.arch == Architecture::deep && !spec.network.activation.odd();
    if (cross_layers_)
      layer_mean_.assign(static_cast<std::size_t>(p_), 0.0), earlier_means_.assign(static_cast<std::size_t>(p_), 0.0);
    const double entries = 0.5 * double(n_) * (n_ + 1) + double(n_) * m_ + m_;
    const double readouts = averaged_ ? (last_ - first_readout_ + 1.0) : 0.0;
    total_ = entries * (last_ + 1.0 + readouts) + (cross_layers_ ? readouts * p_ : 0.0);  // a mean counts as an entry
    pass_ = averaged_ && first_readout_ == 0 ? 0 : 1;
  }

  // Works until the slice ends or a readout kernel is ready; true when one is (readout(), depth()).
  bool advance(const SliceTimer& timer) {
    ready_ = false;
    while (!finished_ && !ready_) {
      chunk();
      if (timer.expired()) break;
    }
    return ready_;
  }
  bool finished() const { return finished_; }
  const Status& status() const { return status_; }
  double progress() const { return finished_ ? 1.0 : std::min(1.0, done_ / total_); }
  int depth() const { return readout_depth_; }
  int inexact() const { return inexact_; }
  // The readout kernel blocks just completed: K_XX (symmetric), K_*X and the query diagonal.
  Eigen::MatrixXd train_block() const {
    Eigen::MatrixXd k = readout_c().topRows(n_);
    symmetrize_from_lower(k);
    return k;
  }
  auto query_block() const { return readout_c().bottomRows(m_); }
  const Eigen::VectorXd& query_diagonal() const { return averaged_ ? out_d_ : next_d_; }

 private:
  const Eigen::MatrixXd& readout_c() const { return averaged_ ? out_c_ : next_c_; }

  void chunk() {
    if (!started_) {
      std::vector<double> q(static_cast<std::size_t>(p_));
      for (int a = 0; a < n_; ++a) q[static_cast<std::size_t>(a)] = c_(a, a);
      for (int s = 0; s < m_; ++s) q[static_cast<std::size_t>(n_ + s)] = d_(s);
      integrator_->set_variances(q);
      inexact_ = std::max(inexact_, integrator_->inexact_variances());
      if (pass_ == 1) next_c_.resize(p_, n_), next_d_.resize(m_);
      row_ = 0;
      mean_row_ = pass_ == 0 && cross_layers_ ? 0 : p_;
      started_ = true;
    }
    if (mean_row_ < p_) {
      // m_t(a) = E[phi(h^t_a)] over N(0, K^t_aa) for the cross-layer terms (docs/theory.md §7), as gp.cpp.
      const int count = std::min(p_ - mean_row_, kMeansPerThread * thread_count()), from = mean_row_;
      parallel_for(
          count,
          [&](int begin, int end) {
            for (int a = from + begin; a < from + end; ++a)
              layer_mean_[static_cast<std::size_t>(a)] = mean_phi(spec_.network.activation, a < n_ ? c_(a, a) : d_(a - n_));
          },
          kMeansPerThread / 4);
      mean_row_ += count;
      done_ += count;
      return;
    }
    const double scale = pass_ == 1 ? spec_.network.sigma_w2 : 1.0, shift = pass_ == 1 ? spec_.network.sigma_b2 : 0.0;
    if (row_ < n_) {
      const int rows = triangle_chunk(row_, n_, p_), first = row_;
      parallel_for(rows, [&](int begin, int end) {
        std::vector<double> out(static_cast<std::size_t>(p_));
        for (int a = first + begin; a < first + end; ++a) {
          const double* cov = c_.data() + static_cast<std::size_t>(a) * p_ + a;
          if (pass_ == 1) {
            integrator_->row(a, a, p_ - a, cov, next_c_.data() + static_cast<std::size_t>(a) * p_ + a, scale, shift);
          } else {
            integrator_->row(a, a, p_ - a, cov, out.data());
            double* dst = accum_c_.data() + static_cast<std::size_t>(a) * p_ + a;
            if (cross_layers_) {
              const double m_a = layer_mean_[static_cast<std::size_t>(a)], s_a = earlier_means_[static_cast<std::size_t>(a)];
              const double* m = layer_mean_.data() + a;
              const double* s = earlier_means_.data() + a;
              for (int b = 0; b < p_ - a; ++b) dst[b] += out[static_cast<std::size_t>(b)] + (m_a * s[b] + s_a * m[b]);
            } else {
              for (int b = 0; b < p_ - a; ++b) dst[b] += out[static_cast<std::size_t>(b)];
            }
          }
        }
      });
      for (int a = first; a < first + rows; ++a) done_ += p_ - a;
      row_ += rows;
      return;
    }
    // The query diagonal, then the end of the pass.
    for (int s = 0; s < m_; ++s) {
      double value = 0;
      integrator_->row(n_ + s, n_ + s, 1, &d_(s), &value, scale, shift);
      if (pass_ == 1) {
        next_d_(s) = value;
      } else if (cross_layers_) {
        const std::size_t i = static_cast<std::size_t>(n_ + s);
        accum_d_(s) += value + (layer_mean_[i] * earlier_means_[i] + earlier_means_[i] * layer_mean_[i]);
      } else {
        accum_d_(s) += value;
      }
    }
    done_ += m_;
    started_ = false;
    if (pass_ == 0) {  // averaged readout: E[phi phi] of layer_ (and its cross-layer terms) accumulated
      for (std::size_t i = 0; i < earlier_means_.size(); ++i) earlier_means_[i] += layer_mean_[i];
      if (layer_ == last_) {
        const double count = last_ - first_readout_ + 1.0, w = spec_.network.sigma_w2 / (count * count);
        // As gp.cpp: symmetric lower triangle, then w * accum + sigma_b^2.
        out_c_ = ((w * accum_c_.array()) + spec_.network.sigma_b2).matrix();
        out_d_ = ((w * accum_d_.array()) + spec_.network.sigma_b2).matrix();
        readout_depth_ = last_;
        ready_ = true;
        finished_ = true;
        return;
      }
      pass_ = 1;
      return;
    }
    // next = sigma_b^2 + sigma_w^2 E[phi phi] over K^layer_: the single-time readout at depth layer_.
    // Only the entries computed are read: column a from row a down (the train block's upper triangle is
    // never written, and reading it made whole grid columns fail at random).
    double q_max = 0;
    bool finite = next_d_.allFinite();
    for (int a = 0; a < n_; ++a)
      q_max = std::max(q_max, next_c_(a, a)), finite = finite && next_c_.col(a).tail(p_ - a).allFinite();
    if (m_ > 0) q_max = std::max(q_max, next_d_.maxCoeff());
    if (!finite || !(q_max <= kDivergence)) {
      status_ = divergence_status(spec_.network, q_max, "layer/time " + std::to_string(layer_ + 1));
      finished_ = true;
      return;
    }
    if (!averaged_ && layer_ >= first_readout_) readout_depth_ = layer_, ready_ = true;
    if (layer_ == last_) {
      finished_ = true;
      return;
    }
    // K^{layer+1} = the readout kernel [+ sigma_in^2 G for input at every step].
    c_ = next_c_;
    d_ = next_d_;
    if (extra_c_.size()) {
      for (int a = 0; a < n_; ++a)
        for (int b = a; b < p_; ++b) c_(b, a) += extra_c_(b, a);
      d_ += extra_d_;
    }
    ++layer_;
    pass_ = averaged_ && layer_ >= first_readout_ ? 0 : 1;
  }

  GpSpec spec_;
  int n_ = 0, m_ = 0, p_ = 0, last_ = 0, first_readout_ = 1;
  bool averaged_ = false, cross_layers_ = false;
  std::vector<double> layer_mean_, earlier_means_;  // m_t and S_t of the averaged readout (cross_layers_)
  int mean_row_ = 0;                                // next point whose m_t is computed
  Eigen::MatrixXd c_, next_c_, extra_c_, accum_c_, out_c_;
  Eigen::VectorXd d_, next_d_, extra_d_, accum_d_, out_d_;
  std::unique_ptr<PairIntegrator> integrator_;
  int layer_ = 0, pass_ = 1, row_ = 0, readout_depth_ = -1, inexact_ = 0;
  bool started_ = false, ready_ = false, finished_ = false;
  double done_ = 0, total_ = 1;
  Status status_;
};

double gp_block_kernel_bytes(int train, int query, int dim, bool averaged) {
  const double p = double(train) + query, n = train;
  // c, next, extra (or accum and out), the training block copied for the solve and its factor.
  return 8.0 * (p * n * (averaged ? 5 : 3) + 3.0 * n * n + 2.0 * n * query + p * dim);
}

// --- 2. gp_predict ------------------------------------------------------------------------------------

GpPrediction gp_predict(const Eigen::MatrixXd& mean, const GpTargets& targets, const std::vector<double>& labels,
                        bool classification) {
  GpPrediction r;
  const Eigen::Index m = mean.rows(), outputs = mean.cols();
  r.predicted.resize(static_cast<std::size_t>(m));
  double right = 0;
  for (Eigen::Index a = 0; a < m; ++a) {
    double p = mean(a, 0);
    if (classification && outputs == 1)
      p = mean(a, 0) > 0 ? targets.classes[1] : targets.classes[0];
    else if (classification) {
      Eigen::Index best = 0;
      mean.row(a).maxCoeff(&best);
      p = targets.classes[static_cast<std::size_t>(best)];
    }
    r.predicted[static_cast<std::size_t>(a)] = p;
    if (static_cast<std::size_t>(a) < labels.size()) right += p == labels[static_cast<std::size_t>(a)];
  }
  r.accuracy = classification && m > 0 ? right / double(m) : kNaN;
  r.mse = m > 0 && targets.test.rows() == m && targets.test.cols() == outputs
              ? (mean - targets.test).squaredNorm() / double(m * outputs)
              : kNaN;
  return r;
}

// --- 3. GpDepthScanJob and GpPhaseGridJob -------------------------------------------------------------

GpDepthScanJob::GpDepthScanJob(const GpSpec& spec, const GpProblem& problem, int max_depth)
    : spec_(spec), problem_(problem), max_depth_(max_depth) {
  auto fail = [&](Status s) {
    status_ = std::move(s);
    done_ = true;
  };
  if (max_depth < 0 || max_depth > 1000) {
    fail(invalid("The deepest readout of a scan must be 0..1000."));
    return;
  }
  if (Status s = check_common(spec, problem); !s.ok()) {
    fail(s);
    return;
  }
  if (static_cast<Eigen::Index>(problem.y_test.size()) != problem.x_test.rows()) {
    fail(invalid("Every test point needs one label."));
    return;
  }
  targets_ = gp_targets(problem_, spec.centred_targets);
  if (!targets_.status.ok()) {
    fail(targets_.status);
    return;
  }
  const int n = static_cast<int>(problem.x_train.rows()), m = static_cast<int>(problem.x_test.rows());
  const double bytes = gp_block_kernel_bytes(n, m, static_cast<int>(problem.x_train.cols()), false);
  if (bytes > double(spec.memory_budget_bytes)) {
    fail(Status::error(StatusCode::too_large,
                       "The depth scan needs about " + short_number(bytes / 1048576.0) + " MiB, more than the budget of " +
                           short_number(double(spec.memory_budget_bytes) / 1048576.0) + " MiB: use fewer points."));
    return;
  }
  kernels_ = std::make_unique<GpBlockKernels>(spec_, problem_.x_train, problem_.x_test, max_depth_, 0, false);
}

GpDepthScanJob::~GpDepthScanJob() = default;

bool GpDepthScanJob::step(double budget_seconds) {
  const SliceTimer timer(budget_seconds);
  while (!done_) {
    if (cancelled()) {
      status_ = Status::error(StatusCode::cancelled, "Cancelled.");
      done_ = true;
      break;
    }
    if (kernels_->advance(timer)) {
      GpDepthPoint point;
      point.depth = kernels_->depth();
      const GpSolveResult solve = gp_solve(kernels_->train_block(), kernels_->query_block(), kernels_->query_diagonal(),
                                           targets_.train, spec_.sigma_n2, false);
      point.status = solve.status;
      point.log_evidence = solve.log_evidence;
      point.jitter = solve.jitter;
      point.condition_number = solve.condition_number;
      if (solve.status.ok()) {
        const GpPrediction pred = gp_predict(solve.mean, targets_, problem_.y_test, problem_.classification);
        point.accuracy = pred.accuracy;
        point.mse = pred.mse;
      } else {
        point.accuracy = point.mse = point.log_evidence = kNaN;
      }
      points_.push_back(std::move(point));
    }
    if (kernels_->finished()) {
      // Depths the recursion did not reach (it diverged) get its status.
      for (int l = static_cast<int>(points_.size()); l <= max_depth_; ++l) {
        GpDepthPoint point;
        point.depth = l;
        point.accuracy = point.mse = point.log_evidence = point.jitter = point.condition_number = kNaN;
        point.status = kernels_->status().ok() ? Status::error(StatusCode::numerical, "Not computed.") : kernels_->status();
        points_.push_back(std::move(point));
      }
      done_ = true;
    }
    if (timer.expired()) break;
  }
  return done_;
}

double GpDepthScanJob::progress() const {
  if (done_) return 1.0;
  return kernels_ ? kernels_->progress() : 0.0;
}

GpPhaseGridJob::GpPhaseGridJob(const GpSpec& spec, const GpProblem& problem, std::vector<double> sigma_w2_values, int max_depth)
    : spec_(spec), problem_(problem), values_(std::move(sigma_w2_values)), max_depth_(max_depth) {
  points_.resize(values_.size());
}

bool GpPhaseGridJob::step(double budget_seconds) {
  const SliceTimer timer(budget_seconds);
  while (column_ < static_cast<int>(values_.size())) {
    if (cancelled()) {
      status_ = Status::error(StatusCode::cancelled, "Cancelled.");
      column_ = static_cast<int>(values_.size());
      break;
    }
    if (!current_) {
      GpSpec s = spec_;
      s.network.sigma_w2 = values_[static_cast<std::size_t>(column_)];  // an unset sigma_in^2 follows it
      current_ = std::make_unique<GpDepthScanJob>(s, problem_, max_depth_);
    }
    const bool finished = current_->step(std::max(0.0, budget_seconds));
    points_[static_cast<std::size_t>(column_)] = current_->points();
    if (finished) {
      if (!current_->status().ok() && status_.ok()) status_ = current_->status();
      current_.reset();
      ++column_;
    }
    if (timer.expired()) break;
  }
  return column_ >= static_cast<int>(values_.size());
}

double GpPhaseGridJob::progress() const {
  if (values_.empty() || column_ >= static_cast<int>(values_.size())) return 1.0;
  return (column_ + (current_ ? current_->progress() : 0.0)) / double(values_.size());
}

// --- 4. GpSurfaceJob ----------------------------------------------------------------------------------

bool GpSurfaceJob::supports(const GpSpec& spec) {
  const bool averaged = spec.readout_from >= 0 && spec.readout_from < spec.network.depth;
  return !(averaged && spec.network.arch == Architecture::recurrent) && !spec.two_time_kernel;
}

GpSurfaceJob::GpSurfaceJob(const GpSpec& spec, const GpProblem& problem, bool with_variance)
    : spec_(spec), problem_(problem), with_variance_(with_variance) {
  auto fail = [&](Status s) {
    result_.status = std::move(s);
    done_ = true;
  };
  if (!supports(spec)) {
    fail(invalid("The recurrent network's time-averaged readout needs the two-time kernel: use GpJob."));
    return;
  }
  if (spec.network.depth < 0 || spec.network.depth > 1000) {
    fail(invalid("The depth L (or the number of steps T) must be in 0..1000."));
    return;
  }
  if (spec.readout_from < -1 || spec.readout_from > spec.network.depth) {
    fail(invalid("The first readout layer/time is out of range."));
    return;
  }
  if (Status s = check_common(spec, problem); !s.ok()) {
    fail(s);
    return;
  }
  // Labels of the query points are not used: targets from the training labels only.
  GpProblem train_only = problem_;
  train_only.x_test.resize(0, problem_.x_train.cols());
  train_only.y_test.clear();
  targets_ = gp_targets(train_only, spec.centred_targets);
  if (!targets_.status.ok()) {
    fail(targets_.status);
    return;
  }
  result_.classes = targets_.classes;
  const bool averaged = spec.readout_from >= 0 && spec.readout_from < spec.network.depth;
  const int n = static_cast<int>(problem.x_train.rows()), m = static_cast<int>(problem.x_test.rows());
  const double bytes = gp_block_kernel_bytes(n, m, static_cast<int>(problem.x_train.cols()), averaged);
  if (bytes > double(spec.memory_budget_bytes)) {
    fail(Status::error(StatusCode::too_large, "The surface needs about " + short_number(bytes / 1048576.0) +
                                                  " MiB, more than the budget of " +
                                                  short_number(double(spec.memory_budget_bytes) / 1048576.0) + " MiB."));
    return;
  }
  kernels_ = std::make_unique<GpBlockKernels>(spec_, problem_.x_train, problem_.x_test, spec.network.depth,
                                              averaged ? spec.readout_from : spec.network.depth, averaged);
}

GpSurfaceJob::~GpSurfaceJob() = default;

bool GpSurfaceJob::step(double budget_seconds) {
  const SliceTimer timer(budget_seconds);
  while (!done_) {
    if (cancelled()) {
      result_.status = Status::error(StatusCode::cancelled, "Cancelled.");
      done_ = true;
      break;
    }
    if (kernels_->advance(timer)) {
      result_.solve = gp_solve(kernels_->train_block(), kernels_->query_block(), kernels_->query_diagonal(), targets_.train,
                               spec_.sigma_n2, with_variance_);
      result_.status = result_.solve.status;
      result_.mean = result_.solve.mean;
      result_.variance = result_.solve.variance;
      done_ = true;
    } else if (kernels_->finished()) {
      result_.status = kernels_->status().ok() ? Status::error(StatusCode::numerical, "No readout kernel.") : kernels_->status();
      done_ = true;
    }
    if (timer.expired()) break;
  }
  return done_;
}

double GpSurfaceJob::progress() const {
  if (done_) return 1.0;
  return kernels_ ? 0.95 * kernels_->progress() : 0.0;
}

}  // namespace fs
