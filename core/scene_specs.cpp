#include "core/scene_specs.h"

namespace fs {

DeepKernelSpec deep_kernel_spec(const Scene& scene, bool with_ntk) {
  DeepKernelSpec spec;
  spec.activation = scene.activation;
  spec.sigma_w2 = scene.sigma_w2;
  spec.sigma_b2 = scene.sigma_b2;
  spec.sigma_in2 = scene.input_variance();
  spec.depth = scene.depth;
  spec.with_ntk = with_ntk;
  return spec;
}

RecurrentKernelSpec recurrent_kernel_spec(const Scene& scene) {
  RecurrentKernelSpec spec;
  spec.activation = scene.activation;
  spec.sigma_w2 = scene.sigma_w2;
  spec.sigma_b2 = scene.sigma_b2;
  spec.sigma_in2 = scene.input_variance();
  spec.steps = scene.depth;
  spec.bias_mode = scene.bias_mode;
  spec.input_mode = scene.input_mode;
  return spec;
}

MeanFieldParams mean_field_params(const Scene& scene) {
  return {scene.activation, scene.sigma_w2, scene.sigma_b2};
}

PhaseDiagramSpec phase_diagram_spec(const Scene& scene) {
  PhaseDiagramSpec spec;
  spec.activation = scene.activation;
  spec.sigma_w2_min = scene.phase.sigma_w2_min;
  spec.sigma_w2_max = scene.phase.sigma_w2_max;
  spec.sigma_b2_min = scene.phase.sigma_b2_min;
  spec.sigma_b2_max = scene.phase.sigma_b2_max;
  spec.columns = scene.phase.columns;
  spec.rows = scene.phase.rows;
  return spec;
}

InputsResult scene_inputs(const Scene& scene) {
  InputsSpec spec = scene.inputs;
  if (scene.arch == Architecture::recurrent && scene.input_mode == InputMode::sequence && spec.kind == InputKind::gaussian)
    spec.steps = scene.depth + 1;
  return make_inputs(spec, scene.seed);
}

}  // namespace fs
