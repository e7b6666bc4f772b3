#include "core/network.h"

#include <cmath>
#include <cstring>

#include "core/text.h"

namespace fs {

namespace {

bool finite_non_negative(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

const std::vector<std::string>& architecture_names() {
  static const std::vector<std::string> names{"deep", "recurrent"};
  return names;
}
const std::vector<std::string>& bias_mode_names() {
  static const std::vector<std::string> names{"shared", "independent"};
  return names;
}
const std::vector<std::string>& input_mode_names() {
  static const std::vector<std::string> names{"t0", "every", "seq"};
  return names;
}
const char* architecture_name(Architecture a) { return enum_name(a, architecture_names()); }
const char* bias_mode_name(BiasMode m) { return enum_name(m, bias_mode_names()); }
const char* input_mode_name(InputMode m) { return enum_name(m, input_mode_names()); }
std::optional<Architecture> architecture_from_name(std::string_view name) {
  return enum_from_name<Architecture>(name, architecture_names());
}
std::optional<BiasMode> bias_mode_from_name(std::string_view name) { return enum_from_name<BiasMode>(name, bias_mode_names()); }
std::optional<InputMode> input_mode_from_name(std::string_view name) {
  return enum_from_name<InputMode>(name, input_mode_names());
}

Network make_network(const Activation& activation, double sigma_w2, double sigma_b2) {
  Network n;
  n.activation = activation;
  n.sigma_w2 = sigma_w2;
  n.sigma_b2 = sigma_b2;
  return n;
}

Eigen::MatrixXd Network::input_kernel(const Eigen::MatrixXd& input_gram) const {
  Eigen::MatrixXd k0 = input_variance() * input_gram;
  k0.array() += sigma_b2;
  return k0;
}

Status Network::validate() const {
  if (!finite_non_negative(sigma_w2) || !finite_non_negative(sigma_b2) || !finite_non_negative(input_variance()))
    return Status::error(StatusCode::invalid_input,
                         "The variances sigma_w^2, sigma_b^2 and sigma_in^2 must be finite and non-negative.");
  if (depth < 0)
    return Status::error(StatusCode::invalid_input, arch == Architecture::deep
                                                        ? "The depth L must be at least 0."
                                                        : "The number of time steps T must be at least 0.");
  return Status::success();
}

std::uint64_t Network::identity() const {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  auto mix_int = [&](long long v) { mix(&v, sizeof v); };
  auto mix_double = [&](double v) {
    if (v == 0) v = 0;  // +0 and -0 describe the same network
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    mix(&bits, sizeof bits);
  };
  mix_int(static_cast<int>(arch));
  mix_int(static_cast<int>(activation.kind));
  mix_double(activation.param);
  mix_double(sigma_w2);
  mix_double(sigma_b2);
  mix_int(sigma_in2.has_value());
  mix_double(sigma_in2.value_or(0));
  mix_int(depth);
  mix_int(static_cast<int>(bias_mode));
  mix_int(static_cast<int>(input_mode));
  return h;
}

}  // namespace fs
