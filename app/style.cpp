// Fonts and style: DejaVu Sans with Greek and mathematical glyphs, rendered at the display's pixel
// ratio so that text stays sharp on HiDPI screens.
#include <imgui.h>

#include <cstdio>

#include "app/app.h"

namespace fs::ui {

void setup_style(float pixel_ratio, const char* font_path) {
  ImGui::StyleColorsDark();
  ImGuiStyle& style = ImGui::GetStyle();
  style.WindowRounding = 0;
  style.FrameRounding = 3;
  style.GrabRounding = 3;
  style.ScaleAllSizes(pixel_ratio);
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the scene (share link) is the state, not a layout file
  static const ImWchar ranges[] = {
      0x0020, 0x00FF,  // Basic Latin + Latin-1 (², ³, ·, ±)
      0x0370, 0x03FF,  // Greek (σ, χ, ξ, λ, φ, ρ, θ)
      0x2010, 0x205E,  // punctuation (–, —, ′, ‖)
      0x2070, 0x209F,  // super- and subscripts (⁰..⁹, ₀..₉)
      0x2190, 0x21FF,  // arrows (→, ↦)
      0x2200, 0x22FF,  // mathematical operators (∞, ≈, ≤, √, ∑)
      0,
  };
  ImFontConfig config;
  config.OversampleH = 2;
  ImFont* font = nullptr;
  if (font_path) {
    if (std::FILE* f = std::fopen(font_path, "rb")) {
      std::fclose(f);
      font = io.Fonts->AddFontFromFileTTF(font_path, 15.0f * pixel_ratio, &config, ranges);
    }
  }
  if (!font) {  // the built-in font has no Greek: still usable, symbols show as '?'
    ImFontConfig fallback;
    fallback.SizePixels = 13.0f * pixel_ratio;
    io.Fonts->AddFontDefault(&fallback);
  }
}

}  // namespace fs::ui
