#include "core/scene_specs.h"

#include <algorithm>

namespace fs {

DeepKernelSpec deep_kernel_spec(const Scene& scene, bool with_ntk) {
  DeepKernelSpec spec;
  spec.network = scene.network;
  spec.with_ntk = with_ntk;
  return spec;
}

RecurrentKernelSpec recurrent_kernel_spec(const Scene& scene) {
  RecurrentKernelSpec spec;
  spec.network = scene.network;
  return spec;
}

PhaseDiagramSpec phase_diagram_spec(const Scene& scene) {
  PhaseDiagramSpec spec;
  spec.activation = scene.network.activation;
  spec.sigma_w2_min = scene.phase.sigma_w2_min;
  spec.sigma_w2_max = scene.phase.sigma_w2_max;
  spec.sigma_b2_min = scene.phase.sigma_b2_min;
  spec.sigma_b2_max = scene.phase.sigma_b2_max;
  spec.columns = scene.phase.columns;
  spec.rows = scene.phase.rows;
  return spec;
}

EnsembleSpec ensemble_spec(const Scene& scene, int inputs) {
  EnsembleSpec spec;
  spec.network = scene.network;
  spec.width = scene.ensemble.width;
  spec.members = scene.ensemble.members;
  spec.seed = scene.seed;
  spec.sampler = scene.ensemble.sampler == "explicit" ? EnsembleSampler::explicit_weights : EnsembleSampler::fast;
  spec.precision = scene.ensemble.precision == "float32" ? EnsemblePrecision::float32 : EnsemblePrecision::float64;
  const int last = std::max(0, inputs - 1);
  spec.input_a = std::clamp(scene.view.input_a, 0, last);
  spec.input_b = std::clamp(scene.view.input_b, 0, last);
  return spec;
}

Status pair_theory_spec(const EnsembleSpec& spec, const Eigen::MatrixXd& input_gram, FiniteWidthSpec& out) {
  if (spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::sequence)
    return Status::error(StatusCode::not_defined, "The 1/N theory covers input at t = 0 or at every step, not sequences.");
  out = FiniteWidthSpec{};
  out.network = spec.network;
  out.input_gram = input_gram;
  return Status{};
}

GpSpec gp_spec(const Scene& scene) {
  GpSpec spec;
  spec.network = scene.network;
  spec.readout_from = scene.gp.readout_from;
  spec.sigma_n2 = scene.gp.sigma_n2;
  return spec;
}

DatasetSpec gp_dataset_spec(const Scene& scene, const std::string& fashion_mnist_dir) {
  DatasetSpec spec;
  if (!dataset_kind_from_name(scene.gp.dataset, spec.kind)) spec.kind = DatasetKind::moons;
  spec.train = scene.gp.train;
  spec.test = scene.gp.test;
  spec.noise = scene.gp.noise;
  spec.classes = scene.gp.classes;
  spec.downsample = scene.gp.downsample;
  spec.seed = scene.seed;
  if (spec.kind == DatasetKind::fashion_mnist) spec.path = fashion_mnist_dir;
  return spec;
}

std::vector<std::vector<double>> gp_regression_points(const Scene& scene) {
  if (!scene.gp.points.empty()) return scene.gp.points;
  return {{-2.5, -0.6}, {-1.6, 0.35}, {-0.9, 0.8}, {0.1, 0.25}, {0.8, -0.55}, {1.7, -0.2}, {2.4, 0.7}};
}

InputsResult scene_inputs(const Scene& scene) {
  InputsSpec spec = scene.inputs;
  if (scene.network.arch == Architecture::recurrent && scene.network.input_mode == InputMode::sequence &&
      spec.kind == InputKind::gaussian)
    spec.steps = scene.network.depth + 1;
  return make_inputs(spec, scene.seed);
}

}  // namespace fs
