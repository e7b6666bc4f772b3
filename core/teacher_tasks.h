// Synthetic regression tasks for the finite-width theory (docs/theory.md §10.8): inputs and targets drawn
// from the counter-based generator, so a seed gives the same data natively and in wasm.
//   teacher:  x ~ N(0, I_{N_0}); y = sum_k a_k ReLU(w_k . x / sqrt(N_0)) with w_k ~ N(0, I), a_k ~ N(0, 1)
//             (k = 1 .. teacher_units), standardised to zero mean and unit variance over the training set,
//             plus Gaussian label noise of standard deviation `noise`;
//   template: P templates x^mu ~ N(0, I) form the training set; a test input is a noisy copy of a random
//             template, sqrt(1 - gamma) x^mu + sqrt(gamma) xi; y = w . x / sqrt(N_0) + noise
//             (Li & Sompolinsky 2021, Appendix E).
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace fs {

enum class TeacherKind { relu_teacher, template_model };
const char* teacher_kind_name(TeacherKind kind);  // "teacher" | "template"
bool teacher_kind_from_name(std::string_view name, TeacherKind& kind);

struct TeacherSpec {
  TeacherKind kind = TeacherKind::relu_teacher;
  int dim = 30;  // N_0
  int train = 100;
  int test = 100;
  int teacher_units = 4;  // teacher: hidden ReLU units
  double noise = 0.0;     // standard deviation of the label noise
  double gamma = 0.3;     // template: fraction of noise variance in a test input
  std::uint64_t seed = 1;
};

struct TeacherData {
  Eigen::MatrixXd x_train, x_test;
  Eigen::VectorXd y_train, y_test;
  Status status;
};
TeacherData make_teacher_data(const TeacherSpec& spec);

}  // namespace fs
