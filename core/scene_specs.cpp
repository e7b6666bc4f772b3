#include "core/scene_specs.h"

#include <algorithm>
#include <cmath>

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
  spec.sampler = scene.ensemble.sampler;
  spec.precision = scene.ensemble.precision;
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

DatasetKind gp_dataset_kind(GpData data) {
  switch (data) {
    case GpData::spirals: return DatasetKind::spirals;
    case GpData::xor_: return DatasetKind::xor_;
    case GpData::circles: return DatasetKind::circles;
    case GpData::fashion_mnist: return DatasetKind::fashion_mnist;
    case GpData::csv: return DatasetKind::csv;
    default: return DatasetKind::moons;
  }
}

DatasetSpec gp_dataset_spec(const Scene& scene, const std::string& fashion_mnist_dir) {
  DatasetSpec spec;
  spec.kind = gp_dataset_kind(scene.gp.dataset);
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

namespace {

// Labels that are all integers: a classification set; otherwise regression.
bool integer_labels(const std::vector<double>& y) {
  for (double v : y)
    if (!(std::isfinite(v) && v == std::round(v) && std::abs(v) < 1e9)) return false;
  return true;
}

}  // namespace

std::pair<double, double> gp_regression_range(const std::vector<std::vector<double>>& points) {
  double lo = -3, hi = 3;
  for (const auto& p : points) lo = std::min(lo, p[0] - 0.75), hi = std::max(hi, p[0] + 0.75);
  return {lo, hi};
}

GpSceneData gp_scene_data(const Scene& scene, const std::string& fashion_mnist_dir, int curve_points) {
  GpSceneData d;
  const GpData kind = scene.gp.dataset;
  if (kind == GpData::points) {
    const auto pts = gp_regression_points(scene);
    const int n = static_cast<int>(pts.size());
    d.problem.classification = false;
    d.problem.x_train.resize(n, 1);
    d.problem.y_train.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
      d.problem.x_train(i, 0) = pts[static_cast<std::size_t>(i)][0],
                           d.problem.y_train[static_cast<std::size_t>(i)] = pts[static_cast<std::size_t>(i)][1];
    const auto [lo, hi] = gp_regression_range(pts);
    d.problem.x_test.resize(curve_points, 1);
    for (int i = 0; i < curve_points; ++i) d.problem.x_test(i, 0) = lo + (hi - lo) * i / (curve_points - 1);
    d.problem.y_test.assign(static_cast<std::size_t>(curve_points), 0.0);
    d.dim = 1;
  } else if (kind == GpData::csv) {
    const auto& rows = scene.gp.points;
    if (rows.size() < 2) {
      d.status = Status::error(StatusCode::invalid_input, "Load a labelled CSV file (features..., label per row).");
      return d;
    }
    const int dim = static_cast<int>(rows[0].size()) - 1;
    DatasetSplit split = split_labelled_rows(rows);
    d.problem.x_train = std::move(split.train.x), d.problem.y_train = std::move(split.train.y);
    d.problem.x_test = std::move(split.test.x), d.problem.y_test = std::move(split.test.y);
    std::vector<double> all = d.problem.y_train;
    all.insert(all.end(), d.problem.y_test.begin(), d.problem.y_test.end());
    d.problem.classification = integer_labels(all);
    d.dim = dim;
  } else {
    const DatasetSplit split = make_dataset(gp_dataset_spec(scene, fashion_mnist_dir));
    d.status = split.status;
    if (!split.status.ok()) return d;
    d.problem = GpProblem{split.train.x, split.test.x, split.train.y, split.test.y, true};
    d.class_names = split.class_names;
    d.dim = static_cast<int>(split.train.x.cols());
  }
  return d;
}

InputsResult scene_inputs(const Scene& scene) {
  InputsSpec spec = scene.inputs;
  if (scene.network.arch == Architecture::recurrent && scene.network.input_mode == InputMode::sequence &&
      spec.kind == InputKind::gaussian)
    spec.steps = scene.network.depth + 1;
  return make_inputs(spec, scene.seed);
}

}  // namespace fs
