// Deep linear networks (DLN) and globally gated deep linear networks (GGDLN): the model, its gates, its
// infinite-width (GP) kernel and the path structure of its finite-width theory (docs/theory.md §10;
// Li & Sompolinsky, PRX 11, 031059 (2021), arXiv:2012.04030; NeurIPS 2022, arXiv:2210.17449).
//
// Weight layer l = 1..L+1 (L + 1 is the readout) has M_l weight matrices, one per gate; gate m of layer l
// multiplies its matrix's contribution and is shared by all units of the layer:
//   x^l_i = 1/sqrt(M_l N_{l-1}) sum_m g^l_m(x) sum_j W^{l,m}_ij x^{l-1}_j,
//   f(x)  = 1/sqrt(M_{L+1} N_L) sum_m g^{L+1}_m(x) sum_i a^m_i x^L_i,      every weight ~ N(0, sigma^2).
// M_l = 1 means "ungated" (g = 1); all M_l = 1 is the DLN. The gates are fixed functions of the network
// input: g^l_m(x) = Theta(v^l_m . x / sqrt(N_0) - b) with gate vectors v^l_m (random, from the data, or
// read from a file) and a threshold b that sets the fraction of active gates.
//
// Paths (docs/theory.md §10.3): a path at hidden layer l is (m_{L+1}, ..., m_{l+1}), one gate per weight
// layer above l, with flat index p * M_l + m for the path (p, m) one layer down (the lower gate runs
// fastest, as numpy's kron). There are D_l = prod_{k > l} M_k of them; phi_p(x) is the product of their
// gates, and Phi the P x D_1 matrix of phi_p on the points.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fs {

struct GatedLinearNetwork {
  std::vector<int> widths{100};  // N_1 .. N_L: the hidden layers (L = widths.size() >= 1)
  std::vector<int> gates{4, 4};  // M_1 .. M_{L+1}: gates of each weight layer, the readout last (1 = ungated)
  bool shared_gates = true;      // one set of gate vectors for every gated layer (their M must agree)
  double sigma2 = 1.0;           // prior variance of every weight
  double temperature = 0.05;     // T: the likelihood's noise variance; the L2 amplitude is T / sigma^2

  bool operator==(const GatedLinearNetwork&) const = default;

  int hidden_layers() const { return static_cast<int>(widths.size()); }
  bool is_deep_linear() const;  // every M_l = 1
  // D_l = prod_{k = l+1}^{L+1} M_k, the number of paths at hidden layer l (1 <= l <= L); D_{L+1} = 1.
  int paths(int layer) const;
  // Scalar order parameters: D_1 = 1, i.e. every layer above the first ungated (the DLN, or one hidden
  // layer with an ungated readout). The theory is then one equation in one unknown (docs/theory.md §10.5).
  bool scalar_order_parameters() const { return paths(1) == 1; }
  Status validate() const;
};

// L hidden layers of width N; M gates in every hidden weight layer and, if `gated_readout`, in the readout.
GatedLinearNetwork make_gated_linear(int hidden_layers, int width, int gates, bool gated_readout);

// --- Gates ------------------------------------------------------------------------------------------------
enum class GateKind {
  hyperplane,  // v ~ N(0, I_{N_0}) from the counter-based stream (seed, layer, gate)
  pca,         // the top principal directions of the training inputs
  kmeans,      // the k-means centroids of the training inputs
  given,       // vectors supplied by the caller (a file)
};
const char* gate_kind_name(GateKind kind);  // "random" | "pca" | "kmeans" | "file"
bool gate_kind_from_name(std::string_view name, GateKind& kind);

struct GateSpec {
  GateKind kind = GateKind::hyperplane;
  double threshold = 0.0;  // b: a gate is on where v . x / sqrt(N_0) > b
  std::uint64_t seed = 1;
};

// The gate vectors of each weight layer: L + 1 matrices, M_l x N_0 (0 x N_0 for an ungated layer).
struct GateVectors {
  std::vector<Eigen::MatrixXd> layers;
  Status status;
};
// Vectors of kind hyperplane, pca or kmeans for this network and these training inputs (rows). PCA and
// k-means directions are scaled to |v|^2 = N_0, as a random vector's expected norm; PCA takes the
// eigenvectors of the centred covariance in order of decreasing variance, with signs fixed so that their
// largest component is positive; shared gates use one set, otherwise layer l takes the next M_l
// directions (PCA) or its own seeded clustering (k-means).
GateVectors make_gate_vectors(const GatedLinearNetwork& net, const GateSpec& spec, const Eigen::MatrixXd& x_train);
// Checks vectors from elsewhere (a file) against the network: counts and dimension, finite values.
Status check_gate_vectors(const GatedLinearNetwork& net, const std::vector<Eigen::MatrixXd>& vectors, int input_dim);

// g_m(x) for the rows of x: P x M (a column of ones for an ungated layer, i.e. a 0-row matrix of vectors).
Eigen::MatrixXd gate_values(const Eigen::MatrixXd& vectors, double threshold, const Eigen::MatrixXd& x);

// Task-masked gates for multi-task learning (docs/theory.md §10.10): with K tasks, gate m of a gated layer
// is open for a point of task t only where m mod K == t, g_m(x, t) = Theta(v_m . x / sqrt(N_0) - b) c_{m,t},
// so each task has its own M/K gates and points of different tasks share none. Ungated layers (one column)
// and K = 1 are left alone; `task` holds the task of each row.
struct TaskMask {
  int tasks = 1;                 // K
  std::vector<int> train, test;  // the task of each training and test point (empty: no mask)
  bool active() const { return tasks > 1 && !train.empty(); }
  bool operator==(const TaskMask&) const = default;
};
void mask_gates_by_task(Eigen::MatrixXd& gates, const std::vector<int>& task, int tasks);
// The mask's sizes and ids against P and Q points, and M_l >= K in every gated layer.
Status check_task_mask(const GatedLinearNetwork& net, const TaskMask& mask, Eigen::Index train, Eigen::Index test);

// --- The network: its forward pass ------------------------------------------------------------------------
// [g_1 o x, g_2 o x, ...]: the gated input of a weight layer on the rows of x, P x (M N), the gate index slow.
Eigen::MatrixXd gated_input(const Eigen::MatrixXd& x, const Eigen::MatrixXd& gates);
// Activations x^0 = x, x^1 .. x^L and the output f on the rows of x, for weights W~^1 .. W~^{L+1} (weight layer
// l: N_l rows, 1 for the readout, and M_l N_{l-1} columns, gate index slow) and the gate values of each weight
// layer on those rows (gate_values, masked or not): x^l = gated_input(x^{l-1}, g^l) W~^lT / sqrt(M_l N_{l-1}).
// With every weight ~ N(0, sigma^2), E f(x) f(x') is the GP kernel below.
struct GatedLinearForward {
  std::vector<Eigen::MatrixXd> activations;
  Eigen::VectorXd output;
};
GatedLinearForward gated_linear_forward(const GatedLinearNetwork& net, const std::vector<Eigen::MatrixXd>& weights,
                                        const Eigen::MatrixXd& x, const std::vector<Eigen::MatrixXd>& gates);

// --- Kernels and paths on a set of points -----------------------------------------------------------------
// Everything the theory needs about the points, for the training set (P) and a test set (Q).
struct GatedLinearFeatures {
  std::vector<Eigen::MatrixXd> gates_train, gates_test;  // per weight layer: P x M_l and Q x M_l
  Eigen::MatrixXd paths_train, paths_test;               // Phi: P x D_1 and Q x D_1
  Eigen::MatrixXd base_train, base_test_train;           // B = Gamma_1 o C0: P x P and Q x P
  Eigen::VectorXd base_test_diagonal;                    // B(x*, x*)
};
// Needs gate vectors that pass check_gate_vectors.
GatedLinearFeatures gated_linear_features(const GatedLinearNetwork& net, const std::vector<Eigen::MatrixXd>& gate_vectors,
                                          double threshold, const Eigen::MatrixXd& x_train, const Eigen::MatrixXd& x_test,
                                          const TaskMask& mask = {});

// The kernel with order parameter U_1 (D_1 x D_1), docs/theory.md §10.3:
//   K_R(x, x') = sigma^{2(L+1)} / D_1 [phi(x)^T U_1 phi(x')] Gamma_1(x, x') C0(x, x');
// U_1 = I gives the GP kernel sigma^{2(L+1)} C0 o Gamma_1 o ... o Gamma_{L+1}.
struct GatedLinearKernel {
  Eigen::MatrixXd train;       // P x P
  Eigen::MatrixXd test_train;  // Q x P
  Eigen::VectorXd test_diagonal;
};
GatedLinearKernel renormalized_kernel(const GatedLinearNetwork& net, const GatedLinearFeatures& features,
                                      const Eigen::MatrixXd& order_parameter);

// Partial trace over the fastest index of a (D M) x (D M) matrix: (Tr_M U)_pq = sum_m U_{pM+m, qM+m}.
Eigen::MatrixXd partial_trace(const Eigen::MatrixXd& u, int inner);
// A (x) I_M in the path order (A's index slow): (A (x) I)_{pM+m, qM+n} = A_pq delta_mn.
Eigen::MatrixXd kron_identity(const Eigen::MatrixXd& a, int inner);

}  // namespace fs
