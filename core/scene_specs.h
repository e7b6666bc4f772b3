// From a scene to the plain specs of the core computations: the one place where scene fields are
// mapped onto physics parameters, shared by the CLI and the explorer.
#pragma once
#include "core/criticality.h"
#include "core/deep_kernel.h"
#include "core/recurrent_kernel.h"
#include "core/scene.h"

namespace fs {

DeepKernelSpec deep_kernel_spec(const Scene& scene, bool with_ntk = false);
RecurrentKernelSpec recurrent_kernel_spec(const Scene& scene);
MeanFieldParams mean_field_params(const Scene& scene);
PhaseDiagramSpec phase_diagram_spec(const Scene& scene);
// The scene's inputs; for sequence input with generated inputs, T + 1 steps are made.
InputsResult scene_inputs(const Scene& scene);

}  // namespace fs
