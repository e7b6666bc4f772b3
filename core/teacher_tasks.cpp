// Synthetic teacher tasks (core/teacher_tasks.h).
#include "core/teacher_tasks.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/random.h"

namespace fs {

const char* teacher_kind_name(TeacherKind kind) { return kind == TeacherKind::template_model ? "template" : "teacher"; }

bool teacher_kind_from_name(std::string_view name, TeacherKind& kind) {
  if (name == "teacher")
    kind = TeacherKind::relu_teacher;
  else if (name == "template")
    kind = TeacherKind::template_model;
  else
    return false;
  return true;
}

namespace {

constexpr std::uint64_t kTeacherStream = 0x7465616368ull;  // "teach"
enum Purpose : std::uint64_t {
  train_inputs,
  test_inputs,
  teacher_weights,
  teacher_readout,
  label_noise,
  template_noise,
  template_pick
};

Eigen::MatrixXd normals(std::uint64_t seed, Purpose purpose, int rows, int cols) {
  Eigen::MatrixXd m(rows, cols);
  std::vector<double> row(std::max(cols, 1));
  for (int i = 0; i < rows; ++i) {
    random::NormalStream{seed, kTeacherStream, purpose, std::uint64_t(i), 0}.fill(row.data(), cols);
    for (int k = 0; k < cols; ++k) m(i, k) = row[k];
  }
  return m;
}

}  // namespace

TeacherData make_teacher_data(const TeacherSpec& spec) {
  TeacherData out;
  if (spec.dim < 1 || spec.dim > 4096 || spec.train < 1 || spec.train > 20000 || spec.test < 0 || spec.test > 20000) {
    out.status = Status::error(StatusCode::invalid_input,
                               "A synthetic task needs 1 to 4096 input dimensions, 1 to 20000 training and 0 "
                               "to 20000 test points.");
    return out;
  }
  if (spec.teacher_units < 1 || spec.teacher_units > 1024 || !(spec.noise >= 0 && spec.noise <= 100) ||
      !(spec.gamma >= 0 && spec.gamma <= 1)) {
    out.status = Status::error(StatusCode::invalid_input,
                               "The teacher needs 1 to 1024 units, a label noise in [0, 100] and gamma in [0, 1].");
    return out;
  }
  const double root_dim = std::sqrt(static_cast<double>(spec.dim));
  out.x_train = normals(spec.seed, train_inputs, spec.train, spec.dim);
  if (spec.kind == TeacherKind::template_model) {
    const Eigen::MatrixXd xi = normals(spec.seed, template_noise, spec.test, spec.dim);
    out.x_test.resize(spec.test, spec.dim);
    for (int i = 0; i < spec.test; ++i) {
      const random::Block4 bits = random::philox4x64({{template_pick, std::uint64_t(i), 0, 0}}, spec.seed, kTeacherStream);
      const int mu = static_cast<int>((bits.v[0] >> 11) % static_cast<std::uint64_t>(spec.train));
      out.x_test.row(i) = std::sqrt(1 - spec.gamma) * out.x_train.row(mu) + std::sqrt(spec.gamma) * xi.row(i);
    }
    const Eigen::VectorXd w = normals(spec.seed, teacher_weights, 1, spec.dim).row(0).transpose();
    out.y_train = out.x_train * w / root_dim;
    out.y_test = out.x_test * w / root_dim;
  } else {
    out.x_test = normals(spec.seed, test_inputs, spec.test, spec.dim);
    const Eigen::MatrixXd w = normals(spec.seed, teacher_weights, spec.teacher_units, spec.dim);
    const Eigen::VectorXd a = normals(spec.seed, teacher_readout, 1, spec.teacher_units).row(0).transpose();
    out.y_train = (out.x_train * w.transpose() / root_dim).cwiseMax(0.0) * a;
    out.y_test = (out.x_test * w.transpose() / root_dim).cwiseMax(0.0) * a;
    const double mean = out.y_train.mean();
    const double sd = std::sqrt((out.y_train.array() - mean).square().mean());
    const double scale = sd > 0 ? 1.0 / sd : 1.0;
    out.y_train = (out.y_train.array() - mean) * scale;
    out.y_test = (out.y_test.array() - mean) * scale;
  }
  if (spec.noise > 0) {
    const Eigen::MatrixXd noise = normals(spec.seed, label_noise, 2, std::max(spec.train, spec.test));
    out.y_train += spec.noise * noise.row(0).head(spec.train).transpose();
    out.y_test += spec.noise * noise.row(1).head(spec.test).transpose();
  }
  return out;
}

}  // namespace fs
