// The explorer: one ImGui front end for the browser and the desktop.
//
// One state: the Scene (core/scene.h) is the only thing the user edits. It round-trips through the
// share link. Everything on screen is derived from it and recomputed only when the inputs it depends
// on change; long computations are jobs, time-sliced within each frame's budget.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "app/platform.h"
#include "core/criticality.h"
#include "core/deep_kernel.h"
#include "core/recurrent_kernel.h"
#include "core/scene.h"

namespace fs::ui {

// Results derived from the scene; each part remembers the scene it was computed for.
struct Derived {
  // Signal propagation at the scene's (sigma_w^2, sigma_b^2).
  Scene signal_for;
  bool signal_valid = false;
  FixedPoint fixed;
  SignalTrajectory signal;
  std::vector<double> q_iterates, c_iterates;

  // Phase diagram and critical line over the scene's grid.
  Scene phase_for;
  bool phase_valid = false;
  std::unique_ptr<PhaseDiagramJob> phase_job;
  std::vector<double> critical_b2, critical_w2;
  int critical_next = 0;  // the critical line is computed a few points per frame
  std::vector<double> chi_1_view;  // the quantity shown, finite values only (inf -> NaN: drawn grey)

  // Kernels.
  Scene kernel_for;
  bool kernel_valid = false;
  std::unique_ptr<DeepKernelJob> deep_job;
  std::unique_ptr<RecurrentKernelJob> recurrent_job;
  Status inputs_status;
};

class App {
 public:
  App(Platform platform, Scene scene, std::vector<std::string> load_warnings = {});
  // Builds one frame of UI (between ImGui::NewFrame and ImGui::Render) and advances jobs within
  // `budget_seconds`.
  void frame(double budget_seconds = 0.012);

  const Scene& scene() const { return scene_; }
  void set_scene(const Scene& scene);
  // Numbers on screen, as JSON, for tests (the same quantities the CLI writes).
  std::string snapshot_json() const;
  bool busy() const;

 private:
  void update_derived(double budget_seconds);
  void controls_panel();
  void phase_panel();
  void signal_panel();
  void kernel_panel();
  void status_bar();
  void scene_changed();

  Platform platform_;
  Scene scene_;
  Scene last_linked_;
  Derived derived_;
  std::vector<std::string> messages_;  // load warnings and errors, shown until dismissed
  std::string last_link_;
  std::string shown_panel_;
  int force_frames_ = 0;
  long frames_ = 0;
};

// Loads the fonts (DejaVu Sans with Greek and mathematical symbols) at the display's pixel ratio.
void setup_style(float pixel_ratio, const char* font_path);

}  // namespace fs::ui
