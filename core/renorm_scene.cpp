// The renorm panel's scene fields mapped onto core specs (core/renorm_scene.h).
#include "core/renorm_scene.h"

#include <algorithm>
#include <cmath>

namespace fs {

RenormSpec renorm_spec(const Scene& scene) {
  const RenormViewSpec& r = scene.renorm;
  RenormSpec spec;
  spec.network = make_gated_linear(r.layers, r.width, r.gates, r.readout == RenormReadout::gated);
  spec.network.shared_gates = r.sharing == RenormGates::shared;
  spec.network.sigma2 = r.sigma2;
  spec.network.temperature = r.temperature;
  spec.gates.kind = r.gate_kind;
  spec.gates.threshold = r.threshold;
  spec.gates.seed = scene.seed;
  return spec;
}

TeacherSpec renorm_teacher_spec(const Scene& scene) {
  const RenormViewSpec& r = scene.renorm;
  TeacherSpec t;
  t.kind = r.task == RenormTask::template_model ? TeacherKind::template_model : TeacherKind::relu_teacher;
  t.dim = r.dim;
  t.train = r.train;
  t.test = r.test;
  t.noise = r.noise;
  t.seed = scene.seed;
  return t;
}

RenormProblem renorm_problem(const TeacherData& data) {
  return RenormProblem{data.x_train, data.x_test, data.y_train, data.y_test, false, {}};
}

std::vector<double> renorm_sweep_values(const Scene& scene) {
  const RenormViewSpec& r = scene.renorm;
  const int n = std::max(2, r.sweep_points);
  const bool integer =
      r.sweep == RenormSweepParameter::width || r.sweep == RenormSweepParameter::depth || r.sweep == RenormSweepParameter::gates;
  const bool logarithmic = r.sweep != RenormSweepParameter::depth && r.sweep != RenormSweepParameter::gates;
  const double lo = std::min(r.sweep_min, r.sweep_max), hi = std::max(r.sweep_min, r.sweep_max);
  std::vector<double> values;
  for (int i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / (n - 1);
    double v = logarithmic && lo > 0 ? std::exp(std::log(hi) + t * (std::log(lo) - std::log(hi))) : hi + t * (lo - hi);
    if (integer) v = std::round(v);
    if (values.empty() || v != values.back()) values.push_back(v);
  }
  return values;
}

SamplingSpec renorm_sampling_spec(const Scene& scene, double langevin_step) {
  const RenormViewSpec& r = scene.renorm;
  SamplingSpec s;
  s.sampler = r.simulation == RenormSimulation::langevin ? PosteriorSampler::langevin : PosteriorSampler::gibbs;
  s.chains = r.chains;
  s.samples = r.samples;
  s.seed = scene.seed;
  if (s.sampler == PosteriorSampler::gibbs) {
    s.burn_in = std::max(50, r.samples / 5);
    s.thinning = 1;
  } else {
    s.step = langevin_step;
    const double relaxation = r.temperature > 0 ? r.sigma2 / (r.temperature * s.step) : 1.0;
    s.burn_in = static_cast<int>(std::min(1e7, std::ceil(5 * relaxation)));
    s.thinning = std::max(1, static_cast<int>(std::min(1e4, relaxation / 25)));
  }
  return s;
}

}  // namespace fs
