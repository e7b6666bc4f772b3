// Small ImGui helpers shared by the explorer's panels: numbers as text, hover tooltips, error text,
// progress rows with Cancel, sliders that write on release.
#pragma once
#include <imgui.h>

#include <cstdio>
#include <functional>
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

// A sentence about a problem, in the error colour, wrapped.
inline void error_text(const std::string& text) {
  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.5f, 0.4f, 1));
  ImGui::TextWrapped("%s", text.c_str());
  ImGui::PopStyleColor();
}

// Disabled text wrapped at the region's right edge.
inline void wrapped_disabled(const char* text) {
  ImGui::PushTextWrapPos(0);
  ImGui::TextDisabled("%s", text);
  ImGui::PopTextWrapPos();
}

// A progress bar "what: stage  42%" with a Cancel button beside it.
inline void progress_row(const char* what, double progress, const char* stage, const std::function<void()>& cancel) {
  char overlay[160];
  std::snprintf(overlay, sizeof overlay, "%s%s%s  %.0f%%", what, stage && *stage ? ": " : "", stage ? stage : "",
                100.0 * progress);
  ImGui::ProgressBar(float(progress), ImVec2(ImGui::GetContentRegionAvail().x - ImGui::GetFontSize() * 5, 0), overlay);
  ImGui::SameLine();
  if (ImGui::Button("Cancel")) cancel();
  help_marker("Stops this computation; change a setting or press Recompute to start again.");
}

// An integer slider (logarithmic) whose value reaches the scene only when released, for settings that
// restart expensive work; `edit` and `editing` are the caller's state between frames. True when it wrote.
inline bool deferred_slider_int(const char* label, int& scene_value, int& edit, bool& editing, int lo, int hi,
                                const char* tooltip) {
  if (!editing) edit = scene_value;
  ImGui::SliderInt(label, &edit, lo, hi, "%d", ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_Logarithmic);
  editing = ImGui::IsItemActive();
  help_marker(tooltip);
  if (ImGui::IsItemDeactivatedAfterEdit() || (!editing && edit != scene_value)) {
    scene_value = edit;
    return true;
  }
  return false;
}

// The Fashion-MNIST pooling factor (1, 2, 4, 7 or 14) as a combo of image sizes. True when it changed.
inline bool pooling_combo(int& factor) {
  const int factors[] = {1, 2, 4, 7, 14};
  const char* labels[] = {"28 × 28 (none)", "14 × 14 (2 × 2 pooling)", "7 × 7 (4 × 4)", "4 × 4 (7 × 7)", "2 × 2 (14 × 14)"};
  int current = 1;
  for (int i = 0; i < 5; ++i)
    if (factors[i] == factor) current = i;
  const bool changed = ImGui::Combo("images", &current, labels, 5);
  if (changed) factor = factors[current];
  help_marker(
      "Average pooling of the 28 x 28 images. Each image is then scaled to zero mean and unit mean square, so every input has "
      "G_aa = 1.");
  return changed;
}

}  // namespace fs::ui
