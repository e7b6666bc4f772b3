// Small ImGui helpers shared by the explorer's panels: numbers as text and hover tooltips.
#pragma once
#include <imgui.h>

#include <string>

#include "core/text.h"

namespace fs::ui {

// A number with a printf format; infinities as "∞" / "-∞" and NaN as "n/a", never "nan" on screen.
using fs::format_number;  // core/text.h

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
