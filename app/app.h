// The explorer: one ImGui front end for the browser and the desktop.
//
// One state: the Scene (core/scene.h) is the only thing the user edits. It round-trips through the
// share link. Everything on screen is derived from it and recomputed only when the inputs it depends
// on change; long computations are jobs, time-sliced within each frame's budget.
#pragma once
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/platform.h"
#include "app/view_panel.h"
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
  int critical_next = 0;           // the critical line is computed a few points per frame
  std::vector<double> chi_1_view;  // the quantity shown, finite values only (inf -> NaN: drawn grey)

  // Kernels: the deep kernel K^l and the recurrent kernel K^{ts} of the same inputs. Each is computed
  // when the kernels view shows it (the compare view shows both) and remembers its scene.
  Scene deep_for, recurrent_for;
  std::unique_ptr<DeepKernelJob> deep_job;
  std::unique_ptr<RecurrentKernelJob> recurrent_job;
  Status inputs_status;
  Scene kernel_inputs_for;  // the last scene the kernel jobs made inputs for, and how that went
  Status kernel_inputs_status;
  // Cells handed to the heat maps (kept between frames to avoid reallocating).
  std::vector<double> deep_cells, recurrent_cells, difference_cells, two_time_cells;
};

class App {
 public:
  App(Platform platform, Scene scene, std::vector<std::string> load_warnings = {});
  // Builds one frame of UI (between ImGui::NewFrame and ImGui::Render) and advances jobs within
  // `budget_seconds`.
  void frame(double budget_seconds = 0.012);
  // Advances the jobs for `budget_seconds` without building a frame (the passes of the loop that do
  // not draw: app/frame_pacer.h).
  void compute(double budget_seconds) { update_derived(budget_seconds); }
  // Call after the frame's draw data was rendered, before the buffer swap: saves the plots' exports
  // (CSV, and PNG images read back from the framebuffer) through platform.save_file.
  void after_render();

  const Scene& scene() const { return scene_; }
  void set_scene(const Scene& scene);
  // Numbers on screen, as JSON, for tests (the same quantities the CLI writes).
  std::string snapshot_json() const;
  bool busy() const;
  // A CSV file of inputs (one input per row) from the file picker or a drop: on success the inputs
  // become explicit points in the scene (and so in the share link); otherwise a message says why and
  // the inputs stay as they were. `error` non-empty: the platform could not read the file. While the
  // GP tab is shown, a dropped file goes to it instead (labelled data).
  void load_inputs_csv(const std::string& name, const std::string& text, const std::string& error = {});

 private:
  void update_derived(double budget_seconds);
  void link_buttons();  // Copy link and Reset
  void controls_panel();
  void phase_panel();
  void signal_panel();
  void kernel_panel();
  void status_bar();
  ViewPanel* shown_view_panel() const;  // the ensemble or GP panel when its tab is shown
  void scene_changed();
  bool deep_current() const;       // deep_job belongs to the scene's kernel parameters
  bool recurrent_current() const;  // likewise recurrent_job
  void kernel_maps(int layer, float width, float height);
  void cross_time_panel(float width, float height);

  // The tabs in their order: a new tab is one more entry (App's constructor) and its value in Panel
  // (core/scene.h). A tab is drawn by the App itself (`draw`) or is a ViewPanel with results of its own.
  struct Tab {
    Panel panel;
    const char* label;
    void (App::*draw)() = nullptr;
    std::unique_ptr<ViewPanel> view;
  };
  const Tab* tab_of(Panel panel) const;

  Platform platform_;
  Scene scene_;
  Scene last_linked_;
  Derived derived_;
  std::vector<Tab> tabs_;
  std::vector<std::string> messages_;  // load warnings and errors, shown until dismissed
  std::string last_link_;
  Panel shown_panel_ = Panel::phase;
  std::string csv_message_;  // outcome of the last CSV load (errors keep the previous inputs)
  bool csv_failed_ = false;
  char csv_path_[1024] = {};  // desktop: the path field
  // Screen rectangles (x0, y0, x1, y1 in pixels) of the controls the browser tests drive, by name.
  std::map<std::string, std::array<float, 4>> control_rects_;
  void note_control_rect(const std::string& name);  // the last item's
  int force_frames_ = 0;
  long frames_ = 0;
};

// Loads the fonts (DejaVu Sans with Greek and mathematical symbols) at the display's pixel ratio.
void setup_style(float pixel_ratio, const char* font_path);

}  // namespace fs::ui
