// A tab of the explorer with results of its own (the finite-width and GP tabs): it owns its jobs, keeps
// them for the scene it was computed for, advances them within the frame's budget while it is shown,
// and draws into its tab. The scene stays the only state the user edits: a panel writes its controls
// into the scene it is handed, and the App turns every change into the share link.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/platform.h"
#include "core/scene.h"

namespace fs::ui {

class ViewPanel {
 public:
  virtual ~ViewPanel() = default;
  // Starts, restarts or drops jobs for `scene` and works on them for about `budget_seconds`.
  virtual void update(const Scene& scene, double budget_seconds) = 0;
  // Draws the tab's contents into the available region; control changes go into `scene`.
  virtual void draw(Scene& scene) = 0;
  // Work is pending for `scene` (tests wait until nothing is).
  virtual bool busy(const Scene& scene) const = 0;
  // The numbers on screen, for tests (snapshot_json's entry for this panel).
  virtual nlohmann::ordered_json snapshot(const Scene& scene) const = 0;
  // A file the user picked or dropped while this tab was shown; true if the panel took it (then any
  // message about it is the panel's to show).
  virtual bool load_file(Scene& scene, const std::string& name, const std::string& text, const std::string& error) {
    (void)scene, (void)name, (void)text, (void)error;
    return false;
  }
};

// The finite-width ensembles against mean-field and 1/N theory (app/ensemble_panel.cpp).
std::unique_ptr<ViewPanel> make_ensemble_panel(const Platform& platform);
// Gaussian-process inference with the network kernels (app/gp_panel.cpp).
std::unique_ptr<ViewPanel> make_gp_panel(const Platform& platform);
// Finite-width learning in (gated) deep linear networks: kernel renormalization (app/renorm_panel.cpp).
std::unique_ptr<ViewPanel> make_renorm_panel(const Platform& platform);

}  // namespace fs::ui
