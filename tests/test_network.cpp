// The network description (core/network.h): one value that every spec embeds and the scene holds, its
// validation, the input layer's kernel K^0 = sigma_in^2 G + sigma_b^2 and the identity used by caches.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/deep_kernel.h"
#include "core/ensemble.h"
#include "core/finite_width.h"
#include "core/gp.h"
#include "core/network.h"
#include "core/recurrent_kernel.h"
#include "core/scene.h"
#include "core/scene_specs.h"

using namespace fs;

// Adding a parameter to the network touches Network and the scene's field table only: every spec carries
// the same value.
static_assert(std::is_same_v<decltype(DeepKernelSpec::network), Network>);
static_assert(std::is_same_v<decltype(RecurrentKernelSpec::network), Network>);
static_assert(std::is_same_v<decltype(EnsembleSpec::network), Network>);
static_assert(std::is_same_v<decltype(FiniteWidthSpec::network), Network>);
static_assert(std::is_same_v<decltype(GpSpec::network), Network>);
static_assert(std::is_same_v<decltype(Scene::network), Network>);

TEST_CASE("the scene's network reaches every spec unchanged") {
  const SceneResult r = scene_from_query("v=1&arch=recurrent&act=erf&ap=2&w2=1.7&b2=0.3&in2=0.4&L=7&bias=independent&in=every");
  REQUIRE(r.status.ok());
  const Network& n = r.scene.network;
  CHECK(n.arch == Architecture::recurrent);
  CHECK(n.activation == Activation{ActivationKind::erf, 2.0});
  CHECK(n.sigma_w2 == 1.7);
  CHECK(n.sigma_b2 == 0.3);
  CHECK(n.sigma_in2 == std::optional<double>(0.4));
  CHECK(n.depth == 7);
  CHECK(n.bias_mode == BiasMode::independent);
  CHECK(n.input_mode == InputMode::every_step);
  CHECK(deep_kernel_spec(r.scene).network == n);
  CHECK(recurrent_kernel_spec(r.scene).network == n);
  CHECK(ensemble_spec(r.scene, 2).network == n);
  CHECK(gp_spec(r.scene).network == n);
  FiniteWidthSpec theory;
  REQUIRE(pair_theory_spec(ensemble_spec(r.scene, 2), Eigen::MatrixXd::Identity(2, 2), theory).ok());
  CHECK(theory.network == n);
}

TEST_CASE("an unset sigma_in^2 is sigma_w^2, also after sigma_w^2 changes") {
  Network n;
  n.sigma_w2 = 2.5;
  CHECK(n.input_variance() == 2.5);
  n.sigma_w2 = 0.7;
  CHECK(n.input_variance() == 0.7);
  n.sigma_in2 = 1.25;
  n.sigma_w2 = 3;
  CHECK(n.input_variance() == 1.25);
}

TEST_CASE("the input layer's kernel K^0 = sigma_in^2 G + sigma_b^2, entry by entry") {
  Eigen::MatrixXd x(3, 2);
  x << 1.0, -0.5, 0.25, 2.0, -1.5, 0.75;
  const Eigen::MatrixXd g = x * x.transpose() / 2.0;
  Network n;
  n.sigma_w2 = 1.9;
  n.sigma_b2 = 0.35;
  for (std::optional<double> in2 : {std::optional<double>(), std::optional<double>(0.6)}) {
    n.sigma_in2 = in2;
    const Eigen::MatrixXd k0 = n.input_kernel(g);
    const double s = in2.value_or(1.9);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        volatile double product = s * g(a, b);  // rounded on its own: no fused multiply-add here
        CHECK(k0(a, b) == product + 0.35);
      }
  }
}

TEST_CASE("validation: finite, non-negative variances and a depth from 0, with a sentence") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  Network n;
  CHECK(n.validate().ok());
  n.depth = 0;
  CHECK(n.validate().ok());  // the one-hidden-layer network
  n.sigma_w2 = 0;
  n.sigma_b2 = 0;
  CHECK(n.validate().ok());
  for (double bad : {-1e-300, -1.0, nan, inf, -inf}) {
    CAPTURE(bad);
    for (int field = 0; field < 3; ++field) {
      Network m;
      (field == 0 ? m.sigma_w2 : field == 1 ? m.sigma_b2 : m.sigma_in2.emplace()) = bad;
      const Status s = m.validate();
      CHECK(s.code == StatusCode::invalid_input);
      CHECK(s.message.find("sigma_w^2, sigma_b^2 and sigma_in^2") != std::string::npos);
    }
  }
  Network shallow;
  shallow.depth = -1;
  CHECK(shallow.validate().code == StatusCode::invalid_input);
  CHECK(shallow.validate().message.find("depth L") != std::string::npos);
  shallow.arch = Architecture::recurrent;
  CHECK(shallow.validate().message.find("time steps T") != std::string::npos);
}

TEST_CASE("identity: equal networks agree, any field that differs changes it") {
  const Network base;
  CHECK(base.identity() == Network{}.identity());
  std::vector<Network> variants(10, base);
  variants[0].arch = Architecture::recurrent;
  variants[1].activation.kind = ActivationKind::erf;
  variants[2].activation.param = 1.5;
  variants[3].sigma_w2 = std::nextafter(base.sigma_w2, 2.0);
  variants[4].sigma_b2 = 0.06;
  variants[5].sigma_in2 = base.sigma_w2;  // set equal to sigma_w^2 is not unset: sweeps of sigma_w^2 differ
  variants[6].depth = 11;
  variants[7].bias_mode = BiasMode::independent;
  variants[8].input_mode = InputMode::sequence;
  variants[9].sigma_in2 = 0.0;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    CAPTURE(i);
    CHECK_FALSE(variants[i] == base);
    CHECK(variants[i].identity() != base.identity());
    for (std::size_t j = 0; j < i; ++j) CHECK(variants[i].identity() != variants[j].identity());
  }
  Network zero = base, minus_zero = base;
  zero.sigma_b2 = 0.0;
  minus_zero.sigma_b2 = -0.0;
  CHECK(zero.identity() == minus_zero.identity());
}

TEST_CASE("enum names round trip, and unknown names are refused") {
  for (Architecture a : {Architecture::deep, Architecture::recurrent}) CHECK(architecture_from_name(architecture_name(a)) == a);
  for (BiasMode m : {BiasMode::shared, BiasMode::independent}) CHECK(bias_mode_from_name(bias_mode_name(m)) == m);
  for (InputMode m : {InputMode::first_step, InputMode::every_step, InputMode::sequence})
    CHECK(input_mode_from_name(input_mode_name(m)) == m);
  CHECK_FALSE(architecture_from_name("Deep").has_value());
  CHECK_FALSE(input_mode_from_name("").has_value());
  CHECK(std::string(input_mode_name(InputMode::sequence)) == "seq");
}

TEST_CASE("make_network: the mean-field maps' parameters, every other field at its default") {
  const Network n = make_network({ActivationKind::relu, 1.0}, 2.0, 0.1);
  Network expected;
  expected.activation = {ActivationKind::relu, 1.0};
  expected.sigma_w2 = 2.0;
  expected.sigma_b2 = 0.1;
  CHECK(n == expected);
}
