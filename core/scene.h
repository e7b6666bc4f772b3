// A scene: the complete plain description of what to compute and show. It round-trips exactly through
// its JSON form and its URL-query (share-link) form; both carry a format version. See docs/scene.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/activations.h"
#include "core/ensemble.h"         // EnsembleSampler, EnsemblePrecision
#include "core/gated_linear.h"     // GateKind
#include "core/gp.h"               // GpSweepParameter
#include "core/renormalization.h"  // RenormSweepParameter
#include "core/inputs.h"
#include "core/network.h"
#include "core/status.h"
#include "core/text.h"  // format_double: how both forms write numbers

namespace fs {

struct PhaseGrid {
  double sigma_w2_min = 0.5, sigma_w2_max = 4.0;
  double sigma_b2_min = 0.0, sigma_b2_max = 1.0;
  int columns = 64;  // sigma_w^2 samples
  int rows = 64;     // sigma_b^2 samples
  bool operator==(const PhaseGrid&) const = default;
};

// The choices of the views: enums, named in the scene's two forms by the tables in core/scene.cpp
// (section 1) - the names are in the comments.
enum class Panel { phase, signal, kernels, recurrent, ensemble, gp, renorm };  // the tab shown: the names as written
enum class PhaseQuantity { chi_1, xi_c, lambda, q_star, c_star };              // "chi1" | "xi_c" | "lambda" | "q_star" | "c_star"
enum class KernelView { single, compare };                                     // the scene's architecture, or deep vs recurrent
enum class CrossTimeScale { covariance, correlation };                         // "cov" (K(t,s)) | "corr" (normalised, C(t,s))
enum class EnsembleSweep { sigma_w2, sigma_b2, depth };                        // "w2" | "b2" | "L"
enum class EnsembleView { histograms, width, sweep, cross_time, chaos };       // "hist" | "width" | "sweep" | "cross" | "chaos"
enum class GpData { points, moons, spirals, xor_, circles, fashion_mnist, csv };  // "xor", "fashion-mnist"; the rest as written
enum class GpView { fit, grid, sweep };  // predictions | accuracy/evidence over sigma_w^2 x depth | evidence curve
enum class GpGridQuantity { accuracy, evidence };

struct ViewSpec {
  Panel panel = Panel::phase;
  PhaseQuantity quantity = PhaseQuantity::chi_1;  // phase-diagram colour
  int layer = -1;                                 // kernel layer/time shown; -1 = last
  int input_a = 0, input_b = 1;                   // the input pair followed in the signal view
  KernelView kernels = KernelView::single;
  CrossTimeScale cross = CrossTimeScale::covariance;  // cross-time curves
  bool operator==(const ViewSpec&) const = default;
};

// The finite-width ensemble panel (docs/theory.md §5-6, §8.4-8.5): the ensembles simulated and the view shown.
struct EnsembleViewSpec {
  int width = 64;                                            // N of the histograms and the cross-time bands
  int members = 256;                                         // M networks per ensemble
  EnsembleSampler sampler = EnsembleSampler::fast;           // "fast" (docs/theory.md §8.4) | "explicit" (real weight matrices)
  EnsemblePrecision precision = EnsemblePrecision::float64;  // "float64" | "float32"
  int width_min = 8, width_max = 256;                        // the N sweep: powers of two from width_min to width_max
  EnsembleSweep sweep = EnsembleSweep::sigma_w2;             // convergence-rate sweep parameter
  double sweep_min = 1.0, sweep_max = 3.0;
  EnsembleView show = EnsembleView::histograms;
  bool operator==(const EnsembleViewSpec&) const = default;
};

// The Gaussian-process panel (docs/theory.md §7): data, inference settings and the view shown.
struct GpViewSpec {
  GpData dataset = GpData::points;  // points: 1-D regression; csv: labelled rows carried by the link
  int train = 200, test = 200;      // toy sets and Fashion-MNIST
  double noise = 0.1;               // toy sets: coordinate noise
  std::vector<int> classes;         // Fashion-MNIST class filter, ids 0..9 (empty: all)
  int downsample = 2;               // Fashion-MNIST pooling: 1, 2, 4, 7 or 14
  double sigma_n2 = 0.01;           // observation noise / ridge
  int readout_from = -1;            // -1: readout at layer/time L only; else averaged over [from, L]
  GpView show = GpView::fit;
  GpGridQuantity grid_quantity = GpGridQuantity::accuracy;  // grid colour
  int grid_depth = 20;                                      // the grid's depths 0..grid_depth (sigma_w^2 range: the phase grid's)
  GpSweepParameter sweep = GpSweepParameter::sigma_w2;      // evidence curve parameter: "w2" | "b2" | "L" | "sn2"
  // Rows of data carried by the link: (x, y) points of the 1-D set, or labelled rows (features...,
  // label) loaded from a CSV file.
  std::vector<std::vector<double>> points;
  bool operator==(const GpViewSpec&) const = default;
};

// The finite-width learning panel (docs/theory.md §10): a (gated) deep linear network, its data and gates,
// the theory over a sweep, and finite networks sampled from the posterior at the panel's width.
enum class RenormReadout { gated, ungated };                            // "gated" | "ungated"
enum class RenormGates { shared, unshared };                            // "shared" | "unshared"
enum class RenormTask { teacher, template_model, fashion_mnist, csv };  // "teacher" | "template" | "fashion-mnist" | "csv"
enum class RenormSimulation { off, gibbs, langevin };                   // "off" | "gibbs" | "langevin"
enum class RenormView { error, order, predictions };                    // "error" | "order" | "predictions"
enum class RenormTaskGates { own, shared };                             // "own" | "shared": gates of several tasks
enum class RenormCompare { none, gate_kinds };                          // "none" | "gates": more curves over the sweep
struct RenormViewSpec {
  int layers = 2;   // L hidden layers
  int width = 100;  // N of every hidden layer (the order parameters, predictions, simulation)
  int gates = 4;    // M of every gated weight layer (1: the deep linear network)
  RenormReadout readout = RenormReadout::gated;
  RenormGates sharing = RenormGates::shared;
  double sigma2 = 1.0;                        // prior variance of every weight
  double temperature = 0.05;                  // T
  GateKind gate_kind = GateKind::hyperplane;  // "random" | "pca" | "kmeans" (core/gated_linear.h)
  double threshold = 0.0;                     // gate threshold b
  RenormTask task = RenormTask::teacher;
  int dim = 30;  // N_0 of the synthetic task
  int train = 100, test = 100;
  double noise = 0.0;                                        // label noise
  RenormSweepParameter sweep = RenormSweepParameter::width;  // "N" | "sigma2" | "T" | "L" | "M" (core/renormalization.h)
  double sweep_min = 25, sweep_max = 1000;                   // the sweep's range (log-spaced for N, sigma2 and T)
  int sweep_points = 30;
  RenormSimulation simulation = RenormSimulation::gibbs;
  int chains = 8, samples = 300;  // per simulation
  RenormView show = RenormView::error;
  std::vector<int> classes = {0, 6};  // fashion-mnist: the two classes of the binary task (the lower id is -1)
  int downsample = 4;                 // fashion-mnist pooling: 1, 2, 4, 7 or 14 (4: 7 x 7 = 49 inputs)
  // csv: labelled rows (features..., target) carried by the link; every 4th row is a test point.
  std::vector<std::vector<double>> points;
  RenormCompare compare = RenormCompare::none;  // gate_kinds: the sweep's eps_g for every kind of gate vectors
  // Multi-task learning (synthetic tasks): K tasks, each with its own teacher and data, learned by one network
  // whose gates are masked by task (each task its own M/K gates) or shared by all tasks.
  int tasks = 1;
  RenormTaskGates task_gates = RenormTaskGates::own;
  bool operator==(const RenormViewSpec&) const = default;
};

struct Scene {
  static constexpr int kFormatVersion = 1;

  Network network;
  InputsSpec inputs;
  PhaseGrid phase;
  std::uint64_t seed = 1;
  ViewSpec view;
  EnsembleViewSpec ensemble;
  GpViewSpec gp;
  RenormViewSpec renorm;

  bool operator==(const Scene&) const = default;
};

// The longest share-link query the explorer writes: longer links are cut or refused by some browsers, chat
// tools and servers (Python's http.server refuses request lines over 64 KiB); docs/scene.md states this limit.
inline constexpr std::size_t kMaxLinkQuery = 32000;

// Limits that keep a scene computable (and a hostile link harmless).
struct SceneLimits {
  static constexpr int max_inputs = 4096;
  static constexpr int max_dim = 4096;
  static constexpr int max_depth = 1000;
  static constexpr int max_steps = 1001;
  static constexpr int max_grid = 1024;
  static constexpr int max_width = 16384;      // ensemble width N
  static constexpr int max_members = 1000000;  // ensemble members M
  static constexpr int max_gp_points = 20000;  // GP training + test points
  static constexpr int max_gp_grid_depth = 200;
  static constexpr double max_variance = 1e4;
  static constexpr std::size_t max_text = 1 << 20;  // bytes of JSON or query accepted
};

struct SceneResult {
  Scene scene;                        // defaults in place of every field that was bad
  Status status;                      // first problem (ok if none)
  std::vector<std::string> warnings;  // every problem, one sentence each, with the fallback taken
  std::vector<std::string> problems;  // the same problems without the fallback, for readers that refuse
};

// Checks ranges and consistency; returns the first problem.
Status validate_scene(const Scene& scene);

std::string scene_to_json(const Scene& scene);  // pretty-printed, canonical
SceneResult scene_from_json(std::string_view json_text);
std::string scene_to_query(const Scene& scene);        // "v=1&arch=deep&act=tanh&w2=1.5&..."
SceneResult scene_from_query(std::string_view query);  // accepts a leading '?' or a full URL

// Enum names used by both forms (the network's own: core/network.h), for the UI and the CLI too.
const char* input_kind_name(InputKind k);
const char* panel_name(Panel p);
const char* phase_quantity_name(PhaseQuantity q);
const char* ensemble_view_name(EnsembleView v);
const char* gp_data_name(GpData d);
const char* gp_view_name(GpView v);
const char* gp_grid_quantity_name(GpGridQuantity q);

// The activation parameter a scene gets when none is given (the query form omits it when equal):
// 0.1 for leaky_relu (its slope must lie in [0, 1)), 1 for every other kind.
double default_activation_param(ActivationKind kind);

}  // namespace fs
