// Browser platform: Emscripten main loop, WebGL2 through Emscripten's GLFW, the URL as the share
// link, clipboard, downloads, and a small test hook for the end-to-end tests.
#include <GLFW/glfw3.h>
#include <emscripten.h>
#include <emscripten/html5.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <cmath>
#include <memory>
#include <string>

#include "app/app.h"

namespace {

EM_JS(char*, js_location_search, (), {
  const s = window.location.search || "";
  return allocateUTF8(s.length > 0 && s[0] == '?' ? s.substring(1) : s);
});
EM_JS(void, js_replace_query, (const char* query), {
  const q = UTF8ToString(query);
  try { history.replaceState(null, "", "?" + q); } catch (e) {}
});
EM_JS(char*, js_share_url, (const char* query), {
  return allocateUTF8(window.location.origin + window.location.pathname + "?" + UTF8ToString(query));
});
EM_JS(void, js_copy_text, (const char* text), {
  const t = UTF8ToString(text);
  if (navigator.clipboard) navigator.clipboard.writeText(t).catch(function() {});
});
EM_JS(void, js_save_file, (const char* name, const char* data, int size), {
  const bytes = HEAPU8.slice(data, data + size);
  const url = URL.createObjectURL(new Blob([bytes]));
  const a = document.createElement("a");
  a.href = url;
  a.download = UTF8ToString(name);
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(function() { URL.revokeObjectURL(url); }, 1000);
});
EM_JS(double, js_pixel_ratio, (), { return window.devicePixelRatio || 1; });
EM_JS(int, js_css_width, (), { return window.innerWidth; });
EM_JS(int, js_css_height, (), { return window.innerHeight; });
EM_JS(void, js_loaded, (), { if (window.fieldscopeLoaded) window.fieldscopeLoaded(); });

std::string take(char* s) {
  std::string out = s ? s : "";
  free(s);
  return out;
}

struct WebApp {
  GLFWwindow* window = nullptr;
  std::unique_ptr<fs::ui::App> app;
  int width = 0, height = 0;
  double ratio = 1;
  std::string snapshot;
  int frames = 0;
};
WebApp g;

void fit_canvas() {
  const double ratio = js_pixel_ratio();
  const int w = static_cast<int>(std::lround(js_css_width() * ratio));
  const int h = static_cast<int>(std::lround(js_css_height() * ratio));
  if (w != g.width || h != g.height) {
    g.width = w;
    g.height = h;
    glfwSetWindowSize(g.window, w, h);
  }
}

void frame() {
  fit_canvas();
  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  g.app->frame(0.012);
  ImGui::Render();
  int fb_w = 0, fb_h = 0;
  glfwGetFramebufferSize(g.window, &fb_w, &fb_h);
  glViewport(0, 0, fb_w, fb_h);
  glClearColor(0.08f, 0.08f, 0.1f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  if (++g.frames == 2) js_loaded();
}

}  // namespace

extern "C" {
// Test hooks (tests/e2e): the numbers on screen as JSON, and loading a link without reloading.
EMSCRIPTEN_KEEPALIVE const char* fs_snapshot() {
  g.snapshot = g.app ? g.app->snapshot_json() : "{}";
  return g.snapshot.c_str();
}
}

int main() {
  if (!glfwInit()) return 1;
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  g.ratio = js_pixel_ratio();
  g.width = static_cast<int>(std::lround(js_css_width() * g.ratio));
  g.height = static_cast<int>(std::lround(js_css_height() * g.ratio));
  g.window = glfwCreateWindow(g.width, g.height, "Fieldscope", nullptr, nullptr);
  if (!g.window) return 1;
  glfwMakeContextCurrent(g.window);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  fs::ui::setup_style(static_cast<float>(g.ratio), "/fonts/DejaVuSans.ttf");
  ImGui_ImplGlfw_InitForOpenGL(g.window, true);
  ImGui_ImplOpenGL3_Init("#version 300 es");

  fs::ui::Platform platform;
  platform.name = "web";
  platform.set_link = [](const std::string& q) { js_replace_query(q.c_str()); };
  platform.link_url = [](const std::string& q) { return take(js_share_url(q.c_str())); };
  platform.copy_text = [](const std::string& t) { js_copy_text(t.c_str()); };
  platform.save_file = [](const std::string& name, const std::string& bytes) {
    js_save_file(name.c_str(), bytes.data(), static_cast<int>(bytes.size()));
  };
  const std::string query = take(js_location_search());
  fs::SceneResult loaded = query.empty() ? fs::SceneResult{} : fs::scene_from_query(query);
  g.app = std::make_unique<fs::ui::App>(platform, loaded.scene, loaded.warnings);
  emscripten_set_main_loop(frame, 0, false);
  return 0;
}
