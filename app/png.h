// The pure half of the PNG export of plots: where a screen rectangle lies in the framebuffer, row
// order, and PNG encoding (stb_image_write from Debian's libstb-dev; its implementation is compiled
// in png.cpp only). The GL read-back itself is read_framebuffer() in texture.h. No ImGui calls and
// no GL here, so tests link this file alone.
#pragma once
#include <string>
#include <vector>

namespace fs::ui {

// A rectangle of framebuffer pixels in GL's convention: (x, y) is its lower-left pixel, y counted
// from the bottom row of the framebuffer.
struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const PixelRect&) const = default;
};

// The framebuffer pixels under the screen rectangle [min_x, max_x] x [min_y, max_y] of ImGui's
// coordinates (y down, origin at display_pos): scaled by the framebuffer scale (HiDPI: 2 on a
// retina display whose window is measured in points), edges rounded to the nearest pixel, y flipped
// to count from the bottom of a framebuffer `framebuffer_height` pixels tall, clipped to the
// framebuffer (an empty rect when nothing is left).
PixelRect framebuffer_rect(float min_x, float min_y, float max_x, float max_y, float display_x, float display_y, float scale_x,
                           float scale_y, int framebuffer_width, int framebuffer_height);

// RGBA8 rows in the opposite order (GL's bottom-first read-back <-> an image's top-first rows).
std::vector<unsigned char> flipped_rows(const std::vector<unsigned char>& rgba, int width, int height);

// A PNG file (8-bit RGBA, top row first) of width x height pixels; empty when the size does not
// match the buffer or encoding fails.
std::string encode_png(const std::vector<unsigned char>& rgba, int width, int height);

}  // namespace fs::ui
