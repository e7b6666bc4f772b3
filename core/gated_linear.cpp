// Gated deep linear networks: the model, gate vectors, features on points and the renormalized kernel
// (docs/theory.md §10). Sections
//   1. The network description
//   2. Gate vectors: random hyperplanes, PCA directions, k-means centroids, given vectors
//   3. Features on points: gates, paths, the base kernel Gamma_1 o C0; the renormalized kernel
#include "core/gated_linear.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/random.h"

namespace fs {

// --- 1. The network description ---------------------------------------------------------------------------
namespace {
constexpr int kMaxHiddenLayers = 8;
constexpr int kMaxGates = 1024;
constexpr int kMaxPaths = 4096;
constexpr double kMaxWidth = 1e9;
}  // namespace

bool GatedLinearNetwork::is_deep_linear() const {
  return std::all_of(gates.begin(), gates.end(), [](int m) { return m == 1; });
}

int GatedLinearNetwork::paths(int layer) const {
  long long d = 1;
  for (int k = layer + 1; k <= hidden_layers() + 1; ++k) {
    d *= gates[k - 1];
    if (d > kMaxPaths) return kMaxPaths + 1;
  }
  return static_cast<int>(d);
}

Status GatedLinearNetwork::validate() const {
  const int depth = hidden_layers();
  if (depth < 1 || depth > kMaxHiddenLayers)
    return Status::error(StatusCode::invalid_input,
                         "The number of hidden layers L must be between 1 and " + std::to_string(kMaxHiddenLayers) + ".");
  for (int w : widths)
    if (w < 1 || w > kMaxWidth) return Status::error(StatusCode::invalid_input, "Every width N_l must be between 1 and 1e9.");
  if (static_cast<int>(gates.size()) != depth + 1)
    return Status::error(StatusCode::invalid_input, "Give the gate count M_l of each of the L + 1 weight layers.");
  for (int m : gates)
    if (m < 1 || m > kMaxGates)
      return Status::error(StatusCode::invalid_input,
                           "Every gate count M_l must be between 1 and " + std::to_string(kMaxGates) + ".");
  if (paths(1) > kMaxPaths)
    return Status::error(StatusCode::too_large,
                         "The order parameter U_1 would have more than " + std::to_string(kMaxPaths) +
                             " paths (the product of the gate counts above the first layer); use fewer gates or layers.");
  if (shared_gates) {
    int common = 0;
    for (int m : gates)
      if (m > 1) {
        if (common != 0 && m != common)
          return Status::error(StatusCode::invalid_input, "Shared gates need the same gate count in every gated layer.");
        common = m;
      }
  }
  if (!(std::isfinite(sigma2) && sigma2 > 0 && sigma2 <= 1e3))
    return Status::error(StatusCode::invalid_input, "The prior variance sigma^2 must be in (0, 1000].");
  if (!(std::isfinite(temperature) && temperature >= 0 && temperature <= 1e6))
    return Status::error(StatusCode::invalid_input, "The temperature T must be in [0, 1e6].");
  return Status::success();
}

GatedLinearNetwork make_gated_linear(int hidden_layers, int width, int gates, bool gated_readout) {
  GatedLinearNetwork net;
  net.widths.assign(std::max(hidden_layers, 0), width);
  net.gates.assign(std::max(hidden_layers, 0) + 1, gates);
  if (!gated_readout) net.gates.back() = 1;
  return net;
}

// --- 2. Gate vectors ----------------------------------------------------------------------------------
const char* gate_kind_name(GateKind kind) {
  switch (kind) {
    case GateKind::hyperplane: return "random";
    case GateKind::pca: return "pca";
    case GateKind::kmeans: return "kmeans";
    case GateKind::given: return "file";
  }
  return "random";
}

bool gate_kind_from_name(std::string_view name, GateKind& kind) {
  for (GateKind k : {GateKind::hyperplane, GateKind::pca, GateKind::kmeans, GateKind::given})
    if (name == gate_kind_name(k)) {
      kind = k;
      return true;
    }
  return false;
}

namespace {

constexpr std::uint64_t kGateStream = 0x6761746573ull;  // "gates"

// Uniform in [0, 1) from the counter-based generator (53 bits).
double uniform(std::uint64_t seed, std::uint64_t c0, std::uint64_t c1, std::uint64_t c2) {
  const random::Block4 bits = random::philox4x64({{c0, c1, c2, 0}}, seed, kGateStream + 1);
  return static_cast<double>(bits.v[0] >> 11) * 0x1.0p-53;
}

void scale_rows_to_dimension(Eigen::MatrixXd& v) {
  const double target = std::sqrt(static_cast<double>(v.cols()));
  for (Eigen::Index m = 0; m < v.rows(); ++m) {
    const double norm = v.row(m).norm();
    if (norm > 0) v.row(m) *= target / norm;
  }
}

Eigen::MatrixXd hyperplane_vectors(int count, int dim, std::uint64_t seed, int layer) {
  Eigen::MatrixXd v(count, dim);
  std::vector<double> row(dim);
  for (int m = 0; m < count; ++m) {
    random::NormalStream{seed, kGateStream, std::uint64_t(layer), std::uint64_t(m), 0}.fill(row.data(), row.size());
    for (int k = 0; k < dim; ++k) v(m, k) = row[k];
  }
  return v;
}

// The principal directions `first` .. `first + count - 1` of the rows of x (centred covariance).
Eigen::MatrixXd pca_vectors(const Eigen::MatrixXd& x, int first, int count) {
  const Eigen::RowVectorXd mean = x.colwise().mean();
  const Eigen::MatrixXd centred = x.rowwise() - mean;
  const Eigen::MatrixXd covariance = centred.transpose() * centred / std::max<double>(1.0, x.rows());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(covariance);
  Eigen::MatrixXd v(count, x.cols());
  for (int m = 0; m < count; ++m) {
    Eigen::VectorXd d = eig.eigenvectors().col(x.cols() - 1 - first - m);  // eigenvalues ascend
    Eigen::Index largest = 0;
    d.cwiseAbs().maxCoeff(&largest);
    if (d(largest) < 0) d = -d;
    v.row(m) = d.transpose();
  }
  scale_rows_to_dimension(v);
  return v;
}

// Lloyd's k-means from a k-means++ start (Arthur & Vassilvitskii 2007), seeded by the counter stream.
Eigen::MatrixXd kmeans_vectors(const Eigen::MatrixXd& x, int count, std::uint64_t seed, int layer) {
  const int n = static_cast<int>(x.rows());
  Eigen::MatrixXd centres(count, x.cols());
  Eigen::VectorXd nearest = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::infinity());
  int pick = std::min(n - 1, static_cast<int>(uniform(seed, layer, 0, 0) * n));
  for (int m = 0; m < count; ++m) {
    centres.row(m) = x.row(pick);
    for (int i = 0; i < n; ++i) nearest(i) = std::min(nearest(i), (x.row(i) - centres.row(m)).squaredNorm());
    const double total = nearest.sum();
    if (m + 1 == count) break;
    if (!(total > 0)) {
      pick = (pick + 1) % n;
      continue;
    }
    double target = uniform(seed, layer, m + 1, 0) * total;
    pick = n - 1;
    for (int i = 0; i < n; ++i) {
      target -= nearest(i);
      if (target < 0) {
        pick = i;
        break;
      }
    }
  }
  std::vector<int> assignment(n, -1);
  for (int iteration = 0; iteration < 100; ++iteration) {
    bool changed = false;
    for (int i = 0; i < n; ++i) {
      Eigen::Index best = 0;
      (centres.rowwise() - x.row(i)).rowwise().squaredNorm().minCoeff(&best);
      if (assignment[i] != best) {
        assignment[i] = static_cast<int>(best);
        changed = true;
      }
    }
    if (!changed) break;
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(count, x.cols());
    std::vector<int> members(count, 0);
    for (int i = 0; i < n; ++i) {
      sums.row(assignment[i]) += x.row(i);
      ++members[assignment[i]];
    }
    for (int m = 0; m < count; ++m)
      if (members[m] > 0) centres.row(m) = sums.row(m) / members[m];
  }
  scale_rows_to_dimension(centres);
  return centres;
}

}  // namespace

GateVectors make_gate_vectors(const GatedLinearNetwork& net, const GateSpec& spec, const Eigen::MatrixXd& x_train) {
  GateVectors out;
  if (Status s = net.validate(); !s.ok()) {
    out.status = s;
    return out;
  }
  const int dim = static_cast<int>(x_train.cols());
  if (dim < 1 || x_train.rows() < 1) {
    out.status = Status::error(StatusCode::invalid_input, "Gates need at least one training input.");
    return out;
  }
  if (spec.kind == GateKind::given) {
    out.status = Status::error(StatusCode::invalid_input, "Gate vectors of kind \"file\" come from a file, not from the data.");
    return out;
  }
  if (!std::isfinite(spec.threshold)) {
    out.status = Status::error(StatusCode::invalid_input, "The gate threshold must be a finite number.");
    return out;
  }
  const int layers = net.hidden_layers() + 1;
  out.layers.assign(layers, Eigen::MatrixXd(0, dim));
  int pca_used = 0;
  const Eigen::MatrixXd* shared = nullptr;  // shared gates: the first gated layer's vectors serve every layer
  for (int l = 0; l < layers; ++l) {
    const int count = net.gates[l];
    if (count == 1) continue;
    if (shared) {
      out.layers[l] = *shared;
      continue;
    }
    const int stream_layer = net.shared_gates ? 0 : l + 1;
    switch (spec.kind) {
      case GateKind::hyperplane: out.layers[l] = hyperplane_vectors(count, dim, spec.seed, stream_layer); break;
      case GateKind::pca:
        if (pca_used + count > dim) {
          out.status = Status::error(StatusCode::invalid_input, "PCA gates need at most as many gates (" +
                                                                    std::to_string(pca_used + count) + ") as input dimensions (" +
                                                                    std::to_string(dim) + ").");
          out.layers.clear();
          return out;
        }
        out.layers[l] = pca_vectors(x_train, pca_used, count);
        pca_used += count;
        break;
      case GateKind::kmeans:
        if (count > x_train.rows()) {
          out.status = Status::error(StatusCode::invalid_input, "k-means gates need at least as many training inputs as gates.");
          out.layers.clear();
          return out;
        }
        out.layers[l] = kmeans_vectors(x_train, count, spec.seed, stream_layer);
        break;
      case GateKind::given: break;
    }
    if (net.shared_gates) shared = &out.layers[l];
  }
  return out;
}

Status check_gate_vectors(const GatedLinearNetwork& net, const std::vector<Eigen::MatrixXd>& vectors, int input_dim) {
  const int layers = net.hidden_layers() + 1;
  if (static_cast<int>(vectors.size()) != layers)
    return Status::error(StatusCode::invalid_input, "Gate vectors are needed for each of the " + std::to_string(layers) +
                                                        " weight layers (none for an ungated one).");
  for (int l = 0; l < layers; ++l) {
    const int want = net.gates[l] == 1 ? 0 : net.gates[l];
    const std::string name = l + 1 == layers ? "the readout" : "weight layer " + std::to_string(l + 1);
    if (vectors[l].rows() != want)
      return Status::error(StatusCode::invalid_input, "Gate vectors of " + name + ": " + std::to_string(vectors[l].rows()) +
                                                          " given, " + std::to_string(want) + " needed.");
    if (want > 0 && vectors[l].cols() != input_dim)
      return Status::error(StatusCode::invalid_input, "Gate vectors of " + name + " have " + std::to_string(vectors[l].cols()) +
                                                          " components, the inputs " + std::to_string(input_dim) + ".");
    if (!vectors[l].allFinite())
      return Status::error(StatusCode::invalid_input,
                           "Gate vectors of " + name + " contain a value that is not a finite number.");
  }
  return Status::success();
}

Eigen::MatrixXd gate_values(const Eigen::MatrixXd& vectors, double threshold, const Eigen::MatrixXd& x) {
  if (vectors.rows() == 0) return Eigen::MatrixXd::Ones(x.rows(), 1);
  const Eigen::MatrixXd field = x * vectors.transpose() / std::sqrt(static_cast<double>(x.cols()));
  return (field.array() > threshold).cast<double>().matrix();
}

// --- 3. Features and the renormalized kernel -----------------------------------------------------------
namespace {

// Phi on the rows of the per-layer gate values: start with the readout's gates, then append the gates of
// layers L, ..., 2 as the fastest index.
Eigen::MatrixXd path_values(const std::vector<Eigen::MatrixXd>& gates) {
  const int layers = static_cast<int>(gates.size());
  Eigen::MatrixXd phi = gates[layers - 1];
  for (int k = layers - 2; k >= 1; --k) {
    const Eigen::MatrixXd& g = gates[k];
    Eigen::MatrixXd next(phi.rows(), phi.cols() * g.cols());
    for (Eigen::Index p = 0; p < phi.cols(); ++p)
      for (Eigen::Index m = 0; m < g.cols(); ++m) next.col(p * g.cols() + m) = phi.col(p).cwiseProduct(g.col(m));
    phi.swap(next);
  }
  return phi;
}

}  // namespace

Eigen::MatrixXd gated_input(const Eigen::MatrixXd& x, const Eigen::MatrixXd& gates) {
  Eigen::MatrixXd out(x.rows(), gates.cols() * x.cols());
  for (Eigen::Index m = 0; m < gates.cols(); ++m) out.middleCols(m * x.cols(), x.cols()) = gates.col(m).asDiagonal() * x;
  return out;
}

GatedLinearForward gated_linear_forward(const GatedLinearNetwork& net, const std::vector<Eigen::MatrixXd>& weights,
                                        const Eigen::MatrixXd& x, const std::vector<Eigen::MatrixXd>& gates) {
  GatedLinearForward out;
  out.activations.push_back(x);
  const int layers = net.hidden_layers();
  for (int l = 1; l <= layers + 1; ++l) {
    const Eigen::MatrixXd input = gated_input(out.activations.back(), gates[l - 1]);
    const double scale = 1.0 / std::sqrt(static_cast<double>(weights[l - 1].cols()));
    Eigen::MatrixXd next = input * weights[l - 1].transpose() * scale;
    if (l == layers + 1)
      out.output = next.col(0);
    else
      out.activations.push_back(std::move(next));
  }
  return out;
}

void mask_gates_by_task(Eigen::MatrixXd& gates, const std::vector<int>& task, int tasks) {
  if (tasks <= 1 || gates.cols() <= 1 || task.empty()) return;
  for (Eigen::Index i = 0; i < gates.rows(); ++i)
    for (Eigen::Index m = 0; m < gates.cols(); ++m)
      if (m % tasks != task[static_cast<std::size_t>(i)]) gates(i, m) = 0.0;
}

Status check_task_mask(const GatedLinearNetwork& net, const TaskMask& mask, Eigen::Index train, Eigen::Index test) {
  if (!mask.active()) return Status::success();
  if (static_cast<Eigen::Index>(mask.train.size()) != train || static_cast<Eigen::Index>(mask.test.size()) != test)
    return Status::error(StatusCode::invalid_input, "Every point needs its task for task-masked gates.");
  for (const std::vector<int>* ids : {&mask.train, &mask.test})
    for (int t : *ids)
      if (t < 0 || t >= mask.tasks) return Status::error(StatusCode::invalid_input, "A point names a task that does not exist.");
  for (int m : net.gates)
    if (m > 1 && m < mask.tasks)
      return Status::error(StatusCode::invalid_input,
                           "Task-masked gates give each of the K = " + std::to_string(mask.tasks) +
                               " tasks its own gates: every gated layer needs M >= K (got M = " + std::to_string(m) +
                               "); use more gates, fewer tasks, or gates shared by the tasks.");
  if (net.is_deep_linear()) return Status::error(StatusCode::invalid_input, "Task-masked gates need gates: M > 1 in some layer.");
  return Status::success();
}

GatedLinearFeatures gated_linear_features(const GatedLinearNetwork& net, const std::vector<Eigen::MatrixXd>& gate_vectors,
                                          double threshold, const Eigen::MatrixXd& x_train, const Eigen::MatrixXd& x_test,
                                          const TaskMask& mask) {
  GatedLinearFeatures f;
  const int layers = net.hidden_layers() + 1;
  for (int l = 0; l < layers; ++l) {
    f.gates_train.push_back(gate_values(gate_vectors[l], threshold, x_train));
    f.gates_test.push_back(gate_values(gate_vectors[l], threshold, x_test));
    if (mask.active()) {
      mask_gates_by_task(f.gates_train.back(), mask.train, mask.tasks);
      mask_gates_by_task(f.gates_test.back(), mask.test, mask.tasks);
    }
  }
  f.paths_train = path_values(f.gates_train);
  f.paths_test = path_values(f.gates_test);
  const double inv_dim = 1.0 / static_cast<double>(x_train.cols());
  const double inv_gates = 1.0 / static_cast<double>(f.gates_train[0].cols());
  // C0 = x x'^T / N_0 and Gamma_1 = g g'^T / M_1.
  f.base_train =
      (x_train * x_train.transpose() * inv_dim).cwiseProduct(f.gates_train[0] * f.gates_train[0].transpose() * inv_gates);
  f.base_test_train =
      (x_test * x_train.transpose() * inv_dim).cwiseProduct(f.gates_test[0] * f.gates_train[0].transpose() * inv_gates);
  f.base_test_diagonal =
      (x_test.rowwise().squaredNorm() * inv_dim).cwiseProduct(f.gates_test[0].rowwise().squaredNorm() * inv_gates);
  return f;
}

GatedLinearKernel renormalized_kernel(const GatedLinearNetwork& net, const GatedLinearFeatures& features,
                                      const Eigen::MatrixXd& order_parameter) {
  const double scale = std::pow(net.sigma2, net.hidden_layers() + 1) / static_cast<double>(features.paths_train.cols());
  const Eigen::MatrixXd weighted_train = features.paths_train * order_parameter;
  const Eigen::MatrixXd weighted_test = features.paths_test * order_parameter;
  GatedLinearKernel k;
  k.train = scale * (weighted_train * features.paths_train.transpose()).cwiseProduct(features.base_train);
  k.test_train = scale * (weighted_test * features.paths_train.transpose()).cwiseProduct(features.base_test_train);
  k.test_diagonal =
      scale * weighted_test.cwiseProduct(features.paths_test).rowwise().sum().cwiseProduct(features.base_test_diagonal);
  return k;
}

Eigen::MatrixXd partial_trace(const Eigen::MatrixXd& u, int inner) {
  const Eigen::Index outer = u.rows() / inner;
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(outer, outer);
  for (Eigen::Index q = 0; q < outer; ++q)
    for (Eigen::Index p = 0; p < outer; ++p)
      for (int m = 0; m < inner; ++m) t(p, q) += u(p * inner + m, q * inner + m);
  return t;
}

Eigen::MatrixXd kron_identity(const Eigen::MatrixXd& a, int inner) {
  Eigen::MatrixXd k = Eigen::MatrixXd::Zero(a.rows() * inner, a.cols() * inner);
  for (Eigen::Index q = 0; q < a.cols(); ++q)
    for (Eigen::Index p = 0; p < a.rows(); ++p)
      for (int m = 0; m < inner; ++m) k(p * inner + m, q * inner + m) = a(p, q);
  return k;
}

}  // namespace fs
