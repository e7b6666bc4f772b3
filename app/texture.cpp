// The plot widgets' GL textures (colours, raw values, colormap tables) and the framebuffer read-back
// of the PNG export. With app/shader.cpp this is app/'s GL seam (app/gl.h picks the GL header).
#include "app/texture.h"

#include <bit>
#include <cstring>

#include "app/gl.h"

namespace fs::ui {

// Packed IM_COL32 texels are uploaded as GL_RGBA bytes, which is the same memory on these hosts.
static_assert(std::endian::native == std::endian::little, "texels are IM_COL32-packed: little-endian only");

bool textures_available() {
  if (!ImGui::GetCurrentContext()) return false;
  const char* renderer = ImGui::GetIO().BackendRendererName;
  return renderer && std::strcmp(renderer, "imgui_impl_opengl3") == 0;
}

namespace {

// Clears errors left by other code, so that only ours are reported afterwards.
void clear_gl_errors() {
  for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; ++i) {}
}

// Uploads texels of one format, restoring the caller's texture binding and unpack alignment.
bool upload(Texture& texture, GLint internal_format, GLenum format, GLenum type, const void* texels, int width, int height,
            Sampling sampling) {
  if (!textures_available() || !texels || width <= 0 || height <= 0) return false;
  clear_gl_errors();
  GLint previous_texture = 0, previous_alignment = 4;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &previous_texture);
  glGetIntegerv(GL_UNPACK_ALIGNMENT, &previous_alignment);

  const bool create = texture.name == 0;
  if (create) {
    GLuint name = 0;
    glGenTextures(1, &name);
    texture.name = name;
  }
  glBindTexture(GL_TEXTURE_2D, texture.name);
  if (create) {
    const GLint filter = sampling == Sampling::linear ? GL_LINEAR : GL_NEAREST;
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  }
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  if (create || texture.width != width || texture.height != height)
    glTexImage2D(GL_TEXTURE_2D, 0, internal_format, width, height, 0, format, type, texels);
  else
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, format, type, texels);
  glPixelStorei(GL_UNPACK_ALIGNMENT, previous_alignment);
  glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(previous_texture));

  if (glGetError() != GL_NO_ERROR) {
    release_texture(texture);
    return false;
  }
  texture.width = width;
  texture.height = height;
  return true;
}

}  // namespace

bool upload_texture(Texture& texture, const std::uint32_t* texels, int width, int height, Sampling sampling) {
  // Unsized GL_RGBA: valid on desktop GL, GLES 3 and also WebGL1 (ImGui 1.86's default on the web).
  return upload(texture, GL_RGBA, GL_RGBA, GL_UNSIGNED_BYTE, texels, width, height, sampling);
}

bool upload_float_texture(Texture& texture, const float* texels, int width, int height) {
  return upload(texture, GL_R32F, GL_RED, GL_FLOAT, texels, width, height, Sampling::nearest);
}

void release_texture(Texture& texture) {
  if (texture.name != 0 && textures_available()) {
    const GLuint name = texture.name;
    glDeleteTextures(1, &name);
  }
  texture = {};
}

std::vector<unsigned char> read_framebuffer(const PixelRect& rect) {
  if (!textures_available() || rect.width <= 0 || rect.height <= 0) return {};
  clear_gl_errors();
  std::vector<unsigned char> pixels(static_cast<std::size_t>(rect.width) * rect.height * 4);
  GLint previous_alignment = 4;
  glGetIntegerv(GL_PACK_ALIGNMENT, &previous_alignment);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  // GL_RGBA + GL_UNSIGNED_BYTE is the one combination every GL ES / WebGL implementation must read.
  glReadPixels(rect.x, rect.y, rect.width, rect.height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  glPixelStorei(GL_PACK_ALIGNMENT, previous_alignment);
  if (glGetError() != GL_NO_ERROR) return {};
  return pixels;
}

}  // namespace fs::ui
