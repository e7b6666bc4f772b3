// The network: one description of the random network that every computation in Fieldscope is about -
// the mean-field kernels, the order-to-chaos picture, the finite-width ensembles and their 1/N theory,
// and GP inference. Every spec embeds one, and the scene holds one; a new parameter of the network is
// added here (and to the scene's field table, core/scene.cpp) and nowhere else.
//
// Conventions (docs/theory.md §1 and §9): weights W_ij ~ N(0, sigma_w^2 / N), biases b_i ~ N(0, sigma_b^2),
// input weights U_ij ~ N(0, sigma_in^2 / d) for inputs x in R^d; kernels are those of the pre-activations.
// Depth L counts the weight layers after the input layer (deep) or the time steps after t = 0 (recurrent):
// the hidden pre-activations are h^0 .. h^L, with h^0 = U x + b the input layer, and K^l is the kernel of
// h^l. A readout reads phi(h^L), so its kernel is K^{L+1}; L = 0 is the network with one hidden layer.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/activations.h"
#include "core/status.h"

namespace fs {

enum class Architecture { deep, recurrent };                // fresh weights per layer, or one W shared over time
enum class BiasMode { shared, independent };                // recurrent: one b for every t, or a fresh b each step
enum class InputMode { first_step, every_step, sequence };  // recurrent: x at t = 0, at every t, or x^t at t

// Enum names, the same in the scene's two forms, the CLI and the UI; the lists are in enum order.
const std::vector<std::string>& architecture_names();  // "deep" | "recurrent"
const std::vector<std::string>& bias_mode_names();     // "shared" | "independent"
const std::vector<std::string>& input_mode_names();    // "t0" | "every" | "seq"
const char* architecture_name(Architecture a);
const char* bias_mode_name(BiasMode m);
const char* input_mode_name(InputMode m);
std::optional<Architecture> architecture_from_name(std::string_view name);
std::optional<BiasMode> bias_mode_from_name(std::string_view name);
std::optional<InputMode> input_mode_from_name(std::string_view name);

struct Network {
  Architecture arch = Architecture::deep;
  Activation activation{ActivationKind::tanh, 1.0};
  double sigma_w2 = 1.5;
  double sigma_b2 = 0.05;
  std::optional<double> sigma_in2;               // input-layer weight variance; unset = sigma_w2 (also along sweeps of sigma_w^2)
  int depth = 10;                                // L (deep) or T (recurrent): hidden layers / times 0..depth
  BiasMode bias_mode = BiasMode::shared;         // recurrent only
  InputMode input_mode = InputMode::first_step;  // recurrent only

  bool operator==(const Network&) const = default;

  double input_variance() const { return sigma_in2.value_or(sigma_w2); }
  // K^0 = sigma_in^2 G + sigma_b^2: the kernel of the input layer h^0 for an input Gram G = x x^T / d.
  Eigen::MatrixXd input_kernel(const Eigen::MatrixXd& input_gram) const;
  // The variances finite and non-negative, the depth at least 0: the checks every computation shares
  // (each adds its own limits). The sentence names the parameter and its range.
  Status validate() const;
  // A 64-bit identity of every field (FNV-1a over their bits), for caches of derived results.
  std::uint64_t identity() const;
};

// A network of this activation and these variances, every other field at its default: all that the
// mean-field maps of core/criticality.h read.
Network make_network(const Activation& activation, double sigma_w2, double sigma_b2);

}  // namespace fs
