#include <imgui.h>

#include "app/view_panel.h"

namespace fs::ui {
namespace {

class Panel final : public ViewPanel {
 public:
  explicit Panel(const Platform& platform) : platform_(platform) {}
  void update(const Scene&, double) override {}
  void draw(Scene&) override { ImGui::TextDisabled("Not built yet."); }
  bool busy(const Scene&) const override { return false; }
  nlohmann::ordered_json snapshot(const Scene&) const override { return nlohmann::ordered_json::object(); }

 private:
  const Platform& platform_;
};

}  // namespace

std::unique_ptr<ViewPanel> make_gp_panel(const Platform& platform) { return std::make_unique<Panel>(platform); }

}  // namespace fs::ui
