// The theory views' jobs on their own thread (app/background_jobs.h): the loop never steps them, yet
// they finish, with the numbers of the direct computation; the thread stops cleanly mid-job, and the
// loop takes the jobs back.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/app.h"
#include "app/background_jobs.h"
#include "core/criticality.h"
#include "core/scene.h"

using namespace fs;
using namespace fs::ui;

namespace {
Scene scene_of(const std::string& link) {
  const SceneResult r = scene_from_query(link);
  REQUIRE(r.warnings.empty());
  return r.scene;
}

// Calls the loop's side (compute, without the jobs) until nothing is pending, or `seconds` pass.
bool settle(App& app, BackgroundJobs* jobs, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    {
      std::unique_lock<std::mutex> lock = jobs ? jobs->hold() : std::unique_lock<std::mutex>();
      app.compute(0.002);
      if (!app.busy()) return true;
    }
    if (jobs) jobs->wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}
}  // namespace

TEST_CASE("background jobs: the phase diagram finishes on the thread with the direct numbers") {
  App app(Platform{}, scene_of("v=1&act=tanh&w2=1.5&b2=0.05&nw=48&nb=40"));
  {
    BackgroundJobs jobs(app);
    REQUIRE(settle(app, &jobs, 60));
    std::unique_lock<std::mutex> lock = jobs.hold();
    const nlohmann::json s = nlohmann::json::parse(app.snapshot_json());
    REQUIRE(s.contains("phase_grid"));
    PhaseDiagramSpec spec;
    spec.activation = {ActivationKind::tanh, 1};
    spec.columns = 48;
    spec.rows = 40;
    const PhaseDiagram direct = phase_diagram(spec);
    for (const auto& cell : s["phase_grid"]["cells"]) {
      const int k = cell["row"].get<int>() * 48 + cell["column"].get<int>();
      CHECK(cell["chi_1"].get<double>() == direct.chi_1[k]);
      CHECK(cell["q_star"].get<double>() == direct.q_star[k]);
    }
    // A new scene mid-way, and the thread stopped while its jobs run: no hang, no crash.
    app.set_scene(scene_of("v=1&act=gelu&w2=1.5&b2=0.05&nw=256&nb=256"));
    app.compute(0.0);
    CHECK(app.busy());
  }
  // Without the thread the loop's compute steps the jobs again.
  CHECK(settle(app, nullptr, 120));
}
