// Posterior sampling of finite gated deep linear networks (docs/theory.md §10.9): Gibbs against the
// renormalization theory and against the GP (which it must reject), the path order of U_1 seen by the
// simulation, Gibbs against Langevin on a tiny network (two independent samplers of one posterior),
// determinism over seeds and thread counts, cancel, and the refusals.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "core/posterior_sampling.h"
#include "core/renorm_scene.h"
#include "core/renormalization.h"
#include "core/teacher_tasks.h"

using namespace fs;

namespace {

struct Case {
  RenormResult theory;
  SamplingProblem problem;
};

Case solve(const GatedLinearNetwork& net, int dim, int train, int test, bool unshared = false) {
  TeacherSpec t;
  t.dim = dim;
  t.train = train;
  t.test = test;
  t.seed = 3;
  const TeacherData d = make_teacher_data(t);
  RenormSpec spec;
  spec.network = net;
  spec.network.shared_gates = !unshared;
  const RenormResult theory = renorm_run(spec, RenormProblem{d.x_train, d.x_test, d.y_train, d.y_test, false, {}, {}});
  REQUIRE(theory.status.ok());
  return {theory, SamplingProblem{d.x_train, d.x_test, d.y_train, d.y_test, theory.gate_vectors, 0.0, {}}};
}

}  // namespace

TEST_CASE("Gibbs samples of finite networks follow the renormalized theory and reject the GP") {
  // Gated readout, L = 1, M = 4 (U_1 is 4 x 4), N = 80, P = 60 (docs/theory.md §10.9). The theory's error is
  // O(1/N): chi^2/dof stays near 1-2 while the GP, which ignores finite width, is far off.
  GatedLinearNetwork net = make_gated_linear(1, 80, 4, true);
  const Case c = solve(net, 20, 60, 40);
  SamplingSpec spec;
  spec.chains = 8;
  spec.samples = 300;
  spec.burn_in = 60;
  const SamplingResult r = sample_posterior(net, spec, c.problem);
  REQUIRE(r.status.ok());
  const double chi2_theory = chi2_per_dof(r, c.theory.theory.mean), chi2_gp = chi2_per_dof(r, c.theory.gp.mean);
  CAPTURE(chi2_theory);
  CAPTURE(chi2_gp);
  CHECK(chi2_theory < 2.5);
  CHECK(chi2_gp > 10 * chi2_theory);
  const Eigen::MatrixXd du = r.order_parameters[0] - c.theory.order_parameters[0];
  CHECK(du.cwiseAbs().maxCoeff() < 0.05);  // the theory's O(1/N) error at N = 80 is below 0.01
  CHECK((c.theory.order_parameters[0] - Eigen::MatrixXd::Identity(4, 4)).cwiseAbs().maxCoeff() > 0.2);  // U is far from I
  CHECK(std::abs(r.generalization_error - c.theory.theory.generalization_error) <
        std::abs(r.generalization_error - c.theory.gp.generalization_error));
  CHECK(r.training_error == doctest::Approx(c.theory.theory.training_error).epsilon(0.05));
}

TEST_CASE("The simulation sees the path order of U_1: swapped gate indices disagree") {
  // L = 2 with a gated readout and unshared gates: U_1 is indexed by (readout gate p, layer-2 gate m) at
  // p M + m. The same matrix with the two indices swapped is a different order parameter; the sampled
  // networks must match the stated order and not the swapped one.
  GatedLinearNetwork net = make_gated_linear(2, 40, 3, true);
  const Case c = solve(net, 20, 50, 20, true);
  SamplingSpec spec;
  spec.chains = 6;
  spec.samples = 200;
  spec.burn_in = 60;
  GatedLinearNetwork sampled = net;
  sampled.shared_gates = false;
  const SamplingResult r = sample_posterior(sampled, spec, c.problem);
  REQUIRE(r.status.ok());
  const Eigen::MatrixXd& u = c.theory.order_parameters[0];
  Eigen::MatrixXd swapped(9, 9);
  for (int p = 0; p < 3; ++p)
    for (int m = 0; m < 3; ++m)
      for (int q = 0; q < 3; ++q)
        for (int n = 0; n < 3; ++n) swapped(m * 3 + p, n * 3 + q) = u(p * 3 + m, q * 3 + n);
  const double stated = (r.order_parameters[0] - u).cwiseAbs().maxCoeff();
  const double wrong = (r.order_parameters[0] - swapped).cwiseAbs().maxCoeff();
  CAPTURE(stated);
  CAPTURE(wrong);
  CHECK(stated < 0.1);
  CHECK(wrong > 4 * stated);
  CHECK((r.order_parameters[1] - c.theory.order_parameters[1]).cwiseAbs().maxCoeff() < 0.1);
}

TEST_CASE("Networks with task-masked gates sampled on two tasks follow the theory") {
  // Two teacher tasks, each with its own two of the M = 4 gates, an ungated readout: the tasks meet only
  // through the scalar order parameter, which the sampled networks must reproduce.
  TeacherSpec t;
  t.dim = 12;
  t.train = 30;
  t.test = 20;
  t.seed = 6;
  Status made;
  const RenormProblem problem = multitask_problem(t, 2, true, made);
  REQUIRE(made.ok());
  RenormSpec spec;
  spec.network = make_gated_linear(1, 40, 4, false);
  const RenormResult theory = renorm_run(spec, problem);
  REQUIRE(theory.status.ok());
  SamplingSpec s;
  s.chains = 8;
  s.samples = 300;
  s.burn_in = 60;
  const SamplingResult r = sample_posterior(
      spec.network, s,
      SamplingProblem{problem.x_train, problem.x_test, problem.y_train, problem.y_test, theory.gate_vectors, 0.0, problem.tasks});
  REQUIRE(r.status.ok());
  const double chi2 = chi2_per_dof(r, theory.theory.mean), chi2_gp = chi2_per_dof(r, theory.gp.mean);
  CAPTURE(chi2);
  CAPTURE(chi2_gp);
  CHECK(chi2 < 2.5);
  CHECK(chi2_gp > 20 * chi2);
  CHECK(r.order_parameters[0](0, 0) == doctest::Approx(theory.order_parameters[0](0, 0)).epsilon(0.03));
  // Without the mask the sampled networks are another model: far from this theory.
  SamplingProblem unmasked{problem.x_train, problem.x_test, problem.y_train, problem.y_test, theory.gate_vectors, 0.0, {}};
  const SamplingResult other = sample_posterior(spec.network, s, unmasked);
  REQUIRE(other.status.ok());
  CHECK(chi2_per_dof(other, theory.theory.mean) > 10 * chi2);
}

TEST_CASE("Gibbs and Langevin sample the same posterior of a tiny network") {
  // N = 4: far from the proportional limit, so no theory applies; two independent samplers must agree.
  GatedLinearNetwork net = make_gated_linear(1, 4, 2, true);
  net.temperature = 0.2;
  const Case c = solve(net, 3, 5, 6);
  SamplingSpec gibbs;
  gibbs.chains = 8;
  gibbs.samples = 3000;
  gibbs.burn_in = 100;
  SamplingSpec langevin = gibbs;
  langevin.sampler = PosteriorSampler::langevin;
  langevin.step = 0.01;
  langevin.burn_in = 3000;
  langevin.thinning = 10;
  const SamplingResult a = sample_posterior(net, gibbs, c.problem);
  const SamplingResult b = sample_posterior(net, langevin, c.problem);
  REQUIRE(a.status.ok());
  REQUIRE(b.status.ok());
  double worst = 0;
  for (Eigen::Index i = 0; i < a.mean.size(); ++i) {
    const double se = std::hypot(a.mean_se(i), b.mean_se(i));
    if (se > 0) worst = std::max(worst, std::abs(a.mean(i) - b.mean(i)) / se);
  }
  CHECK(worst < 4.5);
  for (Eigen::Index i = 0; i < a.variance.size(); ++i)
    CHECK(a.variance(i) == doctest::Approx(b.variance(i)).epsilon(0.15).scale(0.01));
  const Eigen::MatrixXd se = (a.order_parameters_se[0].cwiseAbs2() + b.order_parameters_se[0].cwiseAbs2()).cwiseSqrt();
  CHECK(((a.order_parameters[0] - b.order_parameters[0]).cwiseQuotient(se)).cwiseAbs().maxCoeff() < 4.5);
}

TEST_CASE("Sampling is deterministic across thread counts and time slices") {
  GatedLinearNetwork net = make_gated_linear(2, 12, 2, false);
  const Case c = solve(net, 6, 15, 5);
  SamplingSpec spec;
  spec.chains = 3;
  spec.samples = 20;
  spec.burn_in = 5;
  for (PosteriorSampler sampler : {PosteriorSampler::gibbs, PosteriorSampler::langevin}) {
    spec.sampler = sampler;
    set_thread_count(1);
    const SamplingResult one = sample_posterior(net, spec, c.problem);
    set_thread_count(max_thread_count());
    PosteriorSamplingJob job(net, spec, c.problem);
    while (!job.step(1e-5)) {}
    const SamplingResult many = job.result();
    REQUIRE(one.status.ok());
    CHECK(one.mean == many.mean);
    CHECK(one.variance == many.variance);
    CHECK(one.order_parameters[0] == many.order_parameters[0]);
    spec.seed = 2;
    CHECK(sample_posterior(net, spec, c.problem).mean != one.mean);
    spec.seed = 1;
  }
}

TEST_CASE("Sampling refusals and cancel") {
  GatedLinearNetwork net = make_gated_linear(1, 10, 2, true);
  const Case c = solve(net, 5, 10, 4);
  SamplingSpec spec;
  net.temperature = 0;
  CHECK(sample_posterior(net, spec, c.problem).status.message.find("T > 0") != std::string::npos);
  net.temperature = 0.05;
  spec.chains = 1;
  CHECK(sample_posterior(net, spec, c.problem).status.code == StatusCode::invalid_input);
  spec.chains = 4;
  spec.sampler = PosteriorSampler::langevin;
  spec.step = 0;
  CHECK(sample_posterior(net, spec, c.problem).status.message.find("eta") != std::string::npos);
  spec.step = 1.0;  // far beyond the stable step
  spec.samples = 2000;
  const SamplingResult diverged = sample_posterior(net, spec, c.problem);
  CHECK(diverged.status.code == StatusCode::numerical);
  CHECK(diverged.status.message.find("smaller step") != std::string::npos);
  SamplingProblem wrong = c.problem;
  wrong.gate_vectors.pop_back();
  spec = SamplingSpec{};
  CHECK(sample_posterior(net, spec, wrong).status.code == StatusCode::invalid_input);
  spec.samples = 100000;
  spec.burn_in = 0;
  PosteriorSamplingJob job(net, spec, c.problem);
  while (job.result().samples_per_chain == 0) REQUIRE(!job.step(0.01));  // any speed: until the first samples
  job.cancel();
  CHECK(job.step(0.01));
  CHECK(job.result().status.code == StatusCode::cancelled);
  CHECK(job.result().samples_per_chain > 0);
  CHECK(job.progress() == 1.0);
}
