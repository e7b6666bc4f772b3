// Small ImGui helpers shared by the explorer's panels: numbers as text and hover tooltips.
#pragma once
#include <imgui.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace fs::ui {

// A number with a printf format; infinities as "∞" / "-∞" and NaN as "n/a", never "nan" on screen.
inline std::string format_number(double v, const char* format) {
  if (std::isinf(v)) return v > 0 ? "∞" : "-∞";
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The tooltip of the item just drawn, wrapped at 28 em.
inline void help_marker(const char* text) {
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

}  // namespace fs::ui
