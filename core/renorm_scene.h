// From a scene's renorm fields (Scene::renorm, docs/scene.md) to the finite-width theory's and the
// simulation's specs: the one place where they are mapped, shared by the explorer's tab and the CLI.
#pragma once
#include <vector>

#include <functional>
#include <string>

#include "core/datasets.h"
#include "core/posterior_sampling.h"
#include "core/renormalization.h"
#include "core/scene.h"
#include "core/teacher_tasks.h"

namespace fs {

// The network (L layers of width N, M gates in every hidden layer and, if gated, the readout), sigma^2, T,
// the gates (kind, threshold, the scene's seed) and the default solver.
RenormSpec renorm_spec(const Scene& scene);
// The synthetic task (teacher or template) of the scene, seeded by the scene's seed.
TeacherSpec renorm_teacher_spec(const Scene& scene);
RenormProblem renorm_problem(const TeacherData& data);
// K synthetic tasks of `spec`'s kind and sizes for one network (docs/theory.md §10.10): task 0 is the single
// task's data, task t > 0 its own teacher and points (seed derived from (seed, t)), stacked task by task; with
// `own_gates` the gates are masked by task (problem.tasks), else shared. `status`: the data could not be made.
RenormProblem multitask_problem(const TeacherSpec& spec, int tasks, bool own_gates, Status& status);
// Two distinct training labels mapped to -1 (the lower) and +1, the test labels with them; an error sentence
// where there are not exactly two or a test label is neither.
Status labels_to_signs(Eigen::VectorXd& train, Eigen::VectorXd& test);

// The scene's data set: the synthetic task; the binary Fashion-MNIST task of renorm.classes (+-1 labels, the
// lower class id -1; images pooled by renorm.downsample and standardised; renorm.train and renorm.test drawn
// with the scene's seed); or the labelled rows the scene carries (every 4th row a test point; two distinct
// integer labels make a +-1 classification task, anything else a regression target). With renorm.tasks = K > 1
// (synthetic tasks): K tasks of renorm.train + renorm.test points each, stacked task by task, the first the
// single task's; their gates masked by task (problem.tasks) unless renorm.task_gates is shared.
struct RenormSceneData {
  Status status;
  RenormProblem problem;
};
RenormSceneData renorm_scene_data(const Scene& scene, const std::string& fashion_mnist_dir = kFashionMnistDir);
// The data at K tasks for a sweep over K (RenormSweepJob's problem per value): renorm_scene_data with
// renorm.tasks = K; data that cannot be made give a problem without points (the point then fails).
std::function<RenormProblem(double)> renorm_tasks_problem(const Scene& scene,
                                                          const std::string& fashion_mnist_dir = kFashionMnistDir);
// The sweep's values: sweep_points values from sweep_max down to sweep_min (wide to narrow, so that the
// continuation starts near the GP limit), evenly in log for N, sigma^2 and T and rounded to distinct
// integers for N, L and M.
std::vector<double> renorm_sweep_values(const Scene& scene);
// The simulation (seeded by the scene's seed): Gibbs with a burn-in of a fifth of the samples (at least 50
// sweeps), or Langevin with step eta, a burn-in of 5 weight-decay times sigma^2 / (T eta) and a sample
// every 1/25 of one (docs/theory.md §10.9).
SamplingSpec renorm_sampling_spec(const Scene& scene, double langevin_step = 0.02);

}  // namespace fs
