// From a scene to the plain specs of the core computations: the one place where scene fields are
// mapped onto physics parameters, shared by the CLI and the explorer.
#pragma once
#include "core/criticality.h"
#include "core/datasets.h"
#include "core/deep_kernel.h"
#include "core/ensemble.h"
#include "core/finite_width.h"
#include "core/gp.h"
#include "core/recurrent_kernel.h"
#include "core/scene.h"

#include <utility>

namespace fs {

DeepKernelSpec deep_kernel_spec(const Scene& scene, bool with_ntk = false);
RecurrentKernelSpec recurrent_kernel_spec(const Scene& scene);
PhaseDiagramSpec phase_diagram_spec(const Scene& scene);
// The network of the scene (architecture, activation, variances, depth, bias and input modes) with the
// ensemble panel's width, members, sampler and precision; the followed pair clamped to the inputs.
EnsembleSpec ensemble_spec(const Scene& scene, int inputs);
// The 1/N theory (core/finite_width.h) of an ensemble's network for inputs with Gram matrix `input_gram`
// (the followed pair). Not defined for recurrent networks fed a sequence: the status says so.
Status pair_theory_spec(const EnsembleSpec& spec, const Eigen::MatrixXd& input_gram, FiniteWidthSpec& out);
// The network of the scene with the GP panel's noise and readout.
GpSpec gp_spec(const Scene& scene);
// The GP panel's data set for the toy sets and Fashion-MNIST (`fashion_mnist_dir`: where its idx files
// are). The 1-D points and CSV rows live in the scene itself: see gp_points_problem.
// The data set behind a GP data choice (moons for the 1-D points, whose data live in the scene).
DatasetKind gp_dataset_kind(GpData data);
DatasetSpec gp_dataset_spec(const Scene& scene, const std::string& fashion_mnist_dir = kFashionMnistDir);
// The (x, y) points of the 1-D regression set: the scene's, or a default handful when it has none.
std::vector<std::vector<double>> gp_regression_points(const Scene& scene);

// The GP panel's data as a problem, the same for the CLI and the explorer: the 1-D points (test points:
// `curve_points` evenly over their range), labelled rows carried by the link (every fourth row a test
// point), or a data set (gp_dataset_spec; Fashion-MNIST from `fashion_mnist_dir`).
struct GpSceneData {
  GpProblem problem;
  std::vector<std::string> class_names;  // data sets with named classes
  int dim = 0;
  Status status;
};
GpSceneData gp_scene_data(const Scene& scene, const std::string& fashion_mnist_dir = kFashionMnistDir, int curve_points = 161);
// The 1-D regression set's x range: [-3, 3] widened to hold every point with a margin of 0.75.
std::pair<double, double> gp_regression_range(const std::vector<std::vector<double>>& points);

// The scene's inputs; for sequence input with generated inputs, T + 1 steps are made.
InputsResult scene_inputs(const Scene& scene);

}  // namespace fs
