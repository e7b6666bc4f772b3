#include "app/png.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// The one definition of stb_image_write's functions in the program (Debian's libstb-dev ships the
// header; compiling it here keeps the wasm build free of the host's libstb.so).
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace fs::ui {

PixelRect framebuffer_rect(float min_x, float min_y, float max_x, float max_y, float display_x, float display_y, float scale_x,
                           float scale_y, int framebuffer_width, int framebuffer_height) {
  const auto pixel = [](double coordinate) { return static_cast<long long>(std::llround(coordinate)); };
  // Top-down pixel edges first, as ImGui's OpenGL3 backend projects its clip rectangles.
  long long left = pixel((double(min_x) - display_x) * scale_x), right = pixel((double(max_x) - display_x) * scale_x);
  long long top = pixel((double(min_y) - display_y) * scale_y), bottom = pixel((double(max_y) - display_y) * scale_y);
  left = std::clamp<long long>(left, 0, framebuffer_width);
  right = std::clamp<long long>(right, 0, framebuffer_width);
  top = std::clamp<long long>(top, 0, framebuffer_height);
  bottom = std::clamp<long long>(bottom, 0, framebuffer_height);
  if (!(left < right && top < bottom)) return {};
  return {static_cast<int>(left), static_cast<int>(framebuffer_height - bottom), static_cast<int>(right - left),
          static_cast<int>(bottom - top)};
}

std::vector<unsigned char> flipped_rows(const std::vector<unsigned char>& rgba, int width, int height) {
  if (width <= 0 || height <= 0 || rgba.size() != static_cast<std::size_t>(width) * height * 4) return {};
  const std::size_t row = static_cast<std::size_t>(width) * 4;
  std::vector<unsigned char> out(rgba.size());
  for (int r = 0; r < height; ++r) std::memcpy(out.data() + row * r, rgba.data() + row * (height - 1 - r), row);
  return out;
}

std::string encode_png(const std::vector<unsigned char>& rgba, int width, int height) {
  if (width <= 0 || height <= 0 || rgba.size() != static_cast<std::size_t>(width) * height * 4) return {};
  std::string png;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &png, width, height, 4, rgba.data(), width * 4)) return {};
  return png;
}

}  // namespace fs::ui
