// The renorm panel's scene fields mapped onto core specs (core/renorm_scene.h).
#include "core/renorm_scene.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/random.h"

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
  return RenormProblem{data.x_train, data.x_test, data.y_train, data.y_test, false, {}, {}};
}

Status labels_to_signs(Eigen::VectorXd& train, Eigen::VectorXd& test) {
  const std::set<double> labels(train.data(), train.data() + train.size());
  if (labels.size() != 2)
    return Status::error(StatusCode::invalid_input, "Classification needs exactly two distinct training labels (got " +
                                                        std::to_string(labels.size()) + ").");
  const double low = *labels.begin(), high = *labels.rbegin();
  for (Eigen::VectorXd* y : {&train, &test})
    for (double& v : *y) {
      if (v != low && v != high)
        return Status::error(StatusCode::invalid_input, "A test label is not one of the two training labels.");
      v = v == low ? -1.0 : 1.0;
    }
  return Status::success();
}

RenormProblem multitask_problem(const TeacherSpec& spec, int tasks, bool own_gates, Status& status) {
  // Task 0 is the single task's data; task t > 0 has its own teacher and points, from a seed derived from
  // (seed, t). The points are stacked task by task.
  const int k = std::max(1, tasks);
  std::vector<TeacherData> parts;
  for (int t = 0; t < k; ++t) {
    TeacherSpec at = spec;
    if (t > 0)
      at.seed = random::philox4x64(random::Block4{{spec.seed, static_cast<std::uint64_t>(t), 0, 0}}, 0x7461736b73ull, 0).v[0];
    parts.push_back(make_teacher_data(at));
    if (!parts.back().status.ok()) {
      status = parts.back().status;
      return {};
    }
  }
  status = Status::success();
  if (k == 1) return renorm_problem(parts[0]);
  const Eigen::Index p = parts[0].x_train.rows(), q = parts[0].x_test.rows(), dim = parts[0].x_train.cols();
  RenormProblem pr;
  pr.x_train.resize(p * k, dim), pr.x_test.resize(q * k, dim), pr.y_train.resize(p * k), pr.y_test.resize(q * k);
  for (int t = 0; t < k; ++t) {
    pr.x_train.middleRows(t * p, p) = parts[t].x_train;
    pr.x_test.middleRows(t * q, q) = parts[t].x_test;
    pr.y_train.segment(t * p, p) = parts[t].y_train;
    pr.y_test.segment(t * q, q) = parts[t].y_test;
    if (own_gates) {
      pr.tasks.train.insert(pr.tasks.train.end(), static_cast<std::size_t>(p), t);
      pr.tasks.test.insert(pr.tasks.test.end(), static_cast<std::size_t>(q), t);
    }
  }
  pr.tasks.tasks = k;
  return pr;
}

std::function<RenormProblem(double)> renorm_tasks_problem(const Scene& scene, const std::string& fashion_mnist_dir) {
  return [scene, fashion_mnist_dir](double tasks) {
    Scene at = scene;
    at.renorm.tasks = std::clamp(static_cast<int>(std::lround(tasks)), 1, 1 << 20);
    RenormSceneData d = renorm_scene_data(at, fashion_mnist_dir);
    return d.status.ok() ? d.problem : RenormProblem{};
  };
}

RenormSceneData renorm_scene_data(const Scene& scene, const std::string& fashion_mnist_dir) {
  const RenormViewSpec& r = scene.renorm;
  RenormSceneData out;
  auto vector_of = [](const std::vector<double>& v) {
    return Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size())));
  };
  switch (r.task) {
    case RenormTask::teacher:
    case RenormTask::template_model: {
      out.problem = multitask_problem(renorm_teacher_spec(scene), r.tasks, r.task_gates == RenormTaskGates::own, out.status);
      return out;
    }
    case RenormTask::fashion_mnist: {
      DatasetSpec spec;
      spec.kind = DatasetKind::fashion_mnist;
      spec.train = r.train;
      spec.test = r.test;
      spec.classes = r.classes;
      spec.downsample = r.downsample;
      spec.path = fashion_mnist_dir;
      spec.seed = scene.seed;
      const DatasetSplit split = make_dataset(spec);
      out.status = split.status;
      if (!split.status.ok()) return out;
      out.problem = RenormProblem{split.train.x, split.test.x, vector_of(split.train.y), vector_of(split.test.y), true, {}, {}};
      out.status = labels_to_signs(out.problem.y_train, out.problem.y_test);
      return out;
    }
    case RenormTask::csv: {
      const auto& rows = r.points;
      if (rows.size() < 8 || rows[0].size() < 2) {
        out.status =
            Status::error(StatusCode::invalid_input, "Load a labelled CSV file: features..., target per row, at least 8 rows.");
        return out;
      }
      const DatasetSplit split = split_labelled_rows(rows);
      RenormProblem& p = out.problem;
      p = RenormProblem{split.train.x, split.test.x, vector_of(split.train.y), vector_of(split.test.y), false, {}, {}};
      bool integers = true;
      for (const std::vector<double>& row : rows) integers = integers && row.back() == std::round(row.back());
      const std::set<double> labels(p.y_train.data(), p.y_train.data() + p.y_train.size());
      if (integers && labels.size() == 2) {
        p.classification = true;
        out.status = labels_to_signs(p.y_train, p.y_test);
      }
      return out;
    }
  }
  return out;
}

std::vector<double> renorm_sweep_values(const Scene& scene) {
  const RenormViewSpec& r = scene.renorm;
  const int n = std::max(2, r.sweep_points);
  const bool counts =
      r.sweep == RenormSweepParameter::depth || r.sweep == RenormSweepParameter::gates || r.sweep == RenormSweepParameter::tasks;
  const bool integer = counts || r.sweep == RenormSweepParameter::width;
  const bool logarithmic = !counts;
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
