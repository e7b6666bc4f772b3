// Tiny GL helpers for the plot widgets: textures from CPU buffers (RGBA8 colours, R32F raw values),
// shown with ImDrawList::AddImage or sampled by the heat-map shader, and the framebuffer read-back
// behind the PNG export. Works on desktop GL 3.3 core and GLES 3 / WebGL2.
// A Texture is plain data: it owns a GL name but frees it only in release_texture(), which needs
// the GL context that created it.
#pragma once
#include <cstdint>
#include <vector>

#include "app/png.h"
#include "imgui.h"

namespace fs::ui {

struct Texture {
  unsigned int name = 0;  // GL texture name; 0 = none
  int width = 0, height = 0;
  // The ImTextureID ImGui's OpenGL3 backend expects (the GL name).
  ImTextureID id() const { return reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(name)); }
};

// True once ImGui's OpenGL3 renderer backend is initialised (which needs a current GL context);
// before that (and in tests) the plot widgets draw heat maps with rectangles instead.
bool textures_available();

enum class Sampling { nearest, linear };

// Creates the texture on first use (or when the size changes) and uploads width x height texels,
// row 0 first, each packed like IM_COL32 (R in the low byte). False when textures are not
// available or GL reports an error; the texture is then left without a name.
bool upload_texture(Texture& texture, const std::uint32_t* texels, int width, int height, Sampling sampling = Sampling::nearest);
// The same for one float per texel (GL_R32F, nearest: WebGL2 samples R32F without extensions only so).
bool upload_float_texture(Texture& texture, const float* texels, int width, int height);

void release_texture(Texture& texture);

// RGBA8 pixels of the current framebuffer inside rect (GL convention: y from the bottom), bottom row
// first, as glReadPixels returns them; empty when GL is unavailable, the rect is empty or GL fails.
std::vector<unsigned char> read_framebuffer(const PixelRect& rect);

}  // namespace fs::ui
