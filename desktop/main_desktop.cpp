// Desktop platform: a GLFW window with OpenGL 3.3. The argument is a share link (or its query part)
// or a scene JSON file; the window title carries the current link.
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "app/app.h"
#include "app/frame_pacer.h"
#include "app/plot.h"
#include "core/datasets.h"  // kFashionMnistDir, fashion_mnist_available

namespace {
// Inputs files are small (a share link holds at most 32 000 characters of them); a bigger file is
// refused before it is read.
constexpr std::streamoff kMaxInputFileBytes = std::streamoff{16} << 20;

std::string read_text_file(const std::string& path, std::string& error) {
  const std::string shown = "\"" + fs::echo_user_text(path) + "\"";
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    error = "Cannot open " + shown + ": check the path and the permissions.";
    return {};
  }
  const std::streamoff size = file.tellg();
  if (size > kMaxInputFileBytes) {
    error = shown + " is larger than 16 MiB, too large for inputs that travel in a share link.";
    return {};
  }
  file.seekg(0);
  std::stringstream text;
  text << file.rdbuf();
  if (!file && !file.eof()) {
    error = "Cannot read " + shown + ".";
    return {};
  }
  return text.str();
}

fs::ui::App* g_app = nullptr;  // for the GLFW drop callback, which has no user data of its own
bool g_input = false;          // input since the frame pacer last asked (app/frame_pacer.h)

// Every kind of input marks the window for drawing. Installed before ImGui's backend, which calls
// these from its own callbacks (mouse buttons, scroll, keys, characters, focus, cursor entry).
void note_input(GLFWwindow*) { g_input = true; }
void install_input_callbacks(GLFWwindow* window) {
  glfwSetCursorPosCallback(window, [](GLFWwindow* w, double, double) { note_input(w); });
  glfwSetMouseButtonCallback(window, [](GLFWwindow* w, int, int, int) { note_input(w); });
  glfwSetScrollCallback(window, [](GLFWwindow* w, double, double) { note_input(w); });
  glfwSetKeyCallback(window, [](GLFWwindow* w, int, int, int, int) { note_input(w); });
  glfwSetCharCallback(window, [](GLFWwindow* w, unsigned int) { note_input(w); });
  glfwSetWindowFocusCallback(window, [](GLFWwindow* w, int) { note_input(w); });
  glfwSetCursorEnterCallback(window, [](GLFWwindow* w, int) { note_input(w); });
  glfwSetWindowSizeCallback(window, [](GLFWwindow* w, int, int) { note_input(w); });
  glfwSetWindowRefreshCallback(window, [](GLFWwindow* w) { note_input(w); });
}

// A file dropped on the window: the first one is read as inputs.
void on_drop(GLFWwindow*, int count, const char** paths) {
  g_input = true;
  if (!g_app || count < 1) return;
  std::string error;
  const std::string text = read_text_file(paths[0], error);
  g_app->load_inputs_csv(paths[0], text, error);
}
}  // namespace

int main(int argc, char** argv) {
  fs::SceneResult loaded;
  if (argc > 1) {
    const std::string arg = argv[1];
    if (arg == "--help" || arg == "-h") {
      std::printf("usage: fieldscope [SHARE_LINK | SCENE.json]\n");
      return 0;
    }
    std::ifstream file(arg, std::ios::binary);
    if (file && arg.find('=') == std::string::npos) {
      std::stringstream text;
      text << file.rdbuf();
      loaded = fs::scene_from_json(text.str());
    } else {
      loaded = fs::scene_from_query(arg);
    }
    for (const auto& w : loaded.warnings) std::fprintf(stderr, "fieldscope: %s\n", w.c_str());
  }
  if (!glfwInit()) {
    std::fprintf(stderr, "fieldscope: cannot initialise GLFW (no display?)\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  GLFWwindow* window = glfwCreateWindow(1280, 800, "Fieldscope", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "fieldscope: cannot open an OpenGL 3.3 window\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(1);
  float scale_x = 1, scale_y = 1;
  glfwGetWindowContentScale(window, &scale_x, &scale_y);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  fs::ui::setup_style(scale_x, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
  install_input_callbacks(window);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");

  fs::ui::Platform platform;
  platform.name = "desktop";
  platform.set_link = [window](const std::string& q) { glfwSetWindowTitle(window, ("Fieldscope — " + q).c_str()); };
  platform.link_url = [](const std::string& q) { return "?" + q; };
  platform.copy_text = [window](const std::string& t) { glfwSetClipboardString(window, t.c_str()); };
  platform.save_file = [](const std::string& name, const std::string& bytes) {
    std::ofstream(name, std::ios::binary) << bytes;
    std::fprintf(stderr, "fieldscope: saved %s\n", name.c_str());
  };
  platform.read_file = read_text_file;
  platform.data_dir = [](const std::string& name, std::string& error) -> std::string {
    if (name != "fashion-mnist") {
      error = "No data set named \"" + fs::echo_user_text(name) + "\" comes with Fieldscope.";
      return "";
    }
    if (fs::fashion_mnist_available()) return fs::kFashionMnistDir;
    error = std::string("Fashion-MNIST is not installed (looked in ") + fs::kFashionMnistDir +
            "): install Debian's dataset-fashion-mnist package (sudo apt-get install dataset-fashion-mnist).";
    return "";
  };
  fs::ui::App app(platform, loaded.scene, loaded.warnings);
  g_app = &app;
  glfwSetDropCallback(window, on_drop);
  fs::ui::FramePacer pacer;
  while (!glfwWindowShouldClose(window)) {
    glfwPollEvents();
    const fs::ui::FrameSchedule s = pacer.next(glfwGetTime(), std::exchange(g_input, false), app.busy());
    if (!s.draw) {
      if (s.compute_seconds > 0)
        app.compute(s.compute_seconds);
      else
        glfwWaitEventsTimeout(s.wait_seconds);  // idle: sleep until input or the next frame is due
      continue;
    }
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    app.frame(s.compute_seconds);
    ImGui::Render();
    int w = 0, h = 0;
    glfwGetFramebufferSize(window, &w, &h);
    glViewport(0, 0, w, h);
    glClearColor(0.08f, 0.08f, 0.1f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    app.after_render();  // plot exports: PNG captures read the back buffer before the swap
    glfwSwapBuffers(window);
  }
  g_app = nullptr;
  fs::ui::release_plot_resources();  // heat-map textures and shaders, while their GL context still exists
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return 0;
}
