// Worker threads: parallel_for covers every index once, and the jobs that use it give bitwise the same
// numbers with any thread count (STYLE.md guideline 6).
#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "core/criticality.h"
#include "core/deep_kernel.h"
#include "core/inputs.h"
#include "core/parallel.h"
#include "core/recurrent_kernel.h"

using namespace fs;

namespace {
// Restores the thread count when a test ends.
struct ThreadCount {
  int saved = thread_count();
  explicit ThreadCount(int threads) { set_thread_count(threads); }
  ~ThreadCount() { set_thread_count(saved); }
};

InputSet gaussian_inputs(int count, int dim) {
  InputsSpec spec;
  spec.kind = InputKind::gaussian;
  spec.count = count;
  spec.dim = dim;
  return make_inputs(spec, 7).inputs;
}
}  // namespace

TEST_CASE("parallel_for visits every index exactly once, for any count, grain and thread count") {
  for (int threads : {1, 2, max_thread_count()}) {
    ThreadCount tc(threads);
    for (int count : {0, 1, 2, 7, 64, 1001}) {
      for (int grain : {1, 3, 64, 5000}) {
        std::vector<std::atomic<int>> visits(static_cast<std::size_t>(count));
        parallel_for(
            count,
            [&](int begin, int end) {
              CHECK(begin < end);
              CHECK((end - begin <= grain || grain <= 1 || end == count));
              for (int i = begin; i < end; ++i) visits[static_cast<std::size_t>(i)]++;
            },
            grain);
        int wrong = 0;
        for (auto& v : visits) wrong += v.load() != 1;
        CHECK(wrong == 0);
      }
    }
  }
}

TEST_CASE("a parallel_for inside a parallel_for runs serially and still covers its range") {
  ThreadCount tc(max_thread_count());
  std::vector<std::atomic<int>> visits(64 * 32);
  parallel_for(64, [&](int b0, int e0) {
    for (int i = b0; i < e0; ++i)
      parallel_for(32, [&](int b1, int e1) {
        for (int j = b1; j < e1; ++j) visits[static_cast<std::size_t>(i) * 32 + j]++;
      });
  });
  int wrong = 0;
  for (auto& v : visits) wrong += v.load() != 1;
  CHECK(wrong == 0);
}

TEST_CASE("set_thread_count clamps to [1, max_thread_count()]") {
  ThreadCount tc(0);
  CHECK(thread_count() == 1);
  set_thread_count(1 << 20);
  CHECK(thread_count() == max_thread_count());
}

TEST_CASE("deep, recurrent and phase-diagram jobs give identical numbers with 1 thread and with all") {
  const InputSet inputs = gaussian_inputs(96, 5);
  DeepKernelSpec deep;
  deep.network.activation = Activation{ActivationKind::tanh, 1.0};
  deep.network.sigma_w2 = 1.7;
  deep.network.sigma_b2 = 0.2;
  deep.network.sigma_in2 = 1.0;
  deep.network.depth = 4;
  deep.with_ntk = true;
  RecurrentKernelSpec rec;
  rec.network.activation = Activation{ActivationKind::erf, 1.0};
  rec.network.sigma_w2 = 1.4;
  rec.network.sigma_b2 = 0.1;
  rec.network.sigma_in2 = 1.0;
  rec.network.depth = 6;
  rec.network.input_mode = InputMode::every_step;
  PhaseDiagramSpec phase;
  phase.activation = Activation{ActivationKind::tanh, 1.0};
  phase.columns = 12;
  phase.rows = 9;

  DeepKernelResult deep_one, deep_all;
  RecurrentKernelResult rec_one, rec_all;
  PhaseDiagram phase_one, phase_all;
  {
    ThreadCount tc(1);
    deep_one = deep_kernel(deep, inputs.gram());
    rec_one = recurrent_kernel(rec, inputs);
    phase_one = phase_diagram(phase);
  }
  {
    ThreadCount tc(max_thread_count());
    // Small slices, so the job is resumed between chunks many times.
    DeepKernelJob deep_job(deep, inputs.gram());
    while (!deep_job.step(1e-5)) {}
    deep_all = deep_job.take_result();
    RecurrentKernelJob rec_job(rec, inputs);
    while (!rec_job.step(1e-5)) {}
    rec_all = rec_job.take_result();
    phase_all = phase_diagram(phase);
  }
  REQUIRE(deep_one.status.ok());
  REQUIRE(deep_one.kernel.size() == deep_all.kernel.size());
  for (std::size_t l = 0; l < deep_one.kernel.size(); ++l)
    CHECK((deep_one.kernel[l].array() == deep_all.kernel[l].array()).all());
  REQUIRE(deep_one.ntk.size() == deep_all.ntk.size());
  for (std::size_t l = 0; l < deep_one.ntk.size(); ++l) CHECK((deep_one.ntk[l].array() == deep_all.ntk[l].array()).all());
  REQUIRE(rec_one.status.ok());
  REQUIRE(rec_one.blocks.size() == rec_all.blocks.size());
  for (std::size_t b = 0; b < rec_one.blocks.size(); ++b) CHECK((rec_one.blocks[b].array() == rec_all.blocks[b].array()).all());
  CHECK(phase_one.chi_1 == phase_all.chi_1);
  CHECK(phase_one.q_star == phase_all.q_star);
  CHECK(phase_one.xi_c == phase_all.xi_c);
}
