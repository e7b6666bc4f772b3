// Browser platform: Emscripten main loop, WebGL2 through Emscripten's GLFW, the URL as the share
// link, clipboard, downloads, and a small test hook for the end-to-end tests.
//
// Sections
//   1. JavaScript glue: the URL, the clipboard, downloads, the canvas size
//   2. Input files (picker and drop), wheel and touch
//   3. Data packaged with the site (Platform::data_dir)
//   4. The app: platform, frame loop, test hook, main
#include <GLFW/glfw3.h>
#include <emscripten.h>
#include <emscripten/html5.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/app.h"
#include "app/frame_pacer.h"
#include "core/datasets.h"  // the packaged Fashion-MNIST: its file names and checks, and the test hook's load

namespace {

// --- 1. JavaScript glue -------------------------------------------------------------------------------
// JavaScript inside EM_JS: kept out of the formatter.
// clang-format off
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
// Whether the user touched the page since the last call (the frame pacer draws while they do).
EM_JS(int, js_take_input, (), {
  const seen = Module.fsInputSeen ? 1 : 0;
  Module.fsInputSeen = false;
  return seen;
});

// --- 2. Input files (picker and drop), wheel and touch --------------------------------------------
// A file's text goes to fs_file_loaded (below) as a heap string the C side frees; it is never put
// into the page. Files above 16 MiB are refused before they are read (code 1; 2 = read error).
EM_JS(void, js_install_input_handlers, (), {
  const canvas = Module.canvas;
  // Every kind of input marks the page for drawing (js_take_input); registered first, so that the
  // handlers below that stop propagation cannot hide an event from it.
  for (const type of ["mousemove", "mousedown", "mouseup", "wheel", "keydown", "keyup", "keypress", "touchstart",
                      "touchmove", "touchend", "touchcancel", "resize", "focus", "blur", "paste", "drop"])
    window.addEventListener(type, function() { Module.fsInputSeen = true; }, { capture: true, passive: true });
  Module.fsReadFile = function(file) {
    const name = allocateUTF8(file.name || "file");
    if (file.size > 16 * 1024 * 1024) { Module._fs_file_loaded(name, 0, 1); return; }
    file.text().then(function(text) { Module._fs_file_loaded(name, allocateUTF8(text), 0); },
                     function() { Module._fs_file_loaded(name, 0, 2); });
  };
  canvas.addEventListener("dragover", function(e) { e.preventDefault(); }, true);
  canvas.addEventListener("drop", function(e) {
    e.preventDefault();
    e.stopPropagation();
    const files = e.dataTransfer && e.dataTransfer.files;
    if (files && files.length > 0) Module.fsReadFile(files[0]);
  }, true);

  // Emscripten 3.1.6's GLFW hands the DOM's wheel deltas (pixels or lines, positive = down) to the
  // scroll callback, where GLFW means notches (positive = up): convert here, before it sees them.
  function steps(delta, mode) { return -delta * (mode === 1 ? 1 / 3 : mode === 2 ? 1 : 1 / 100); }
  window.addEventListener("wheel", function(e) {
    if (e.target !== canvas) return;
    e.preventDefault();
    e.stopPropagation();
    Module._fs_wheel(steps(e.deltaX, e.deltaMode), steps(e.deltaY, e.deltaMode));
  }, { capture: true, passive: false });

  // Its touch handlers read a property only SDL sets, so a touch presses the button at the last
  // mouse position and a drag never moves it. Instead: one finger = the left button (tap = click,
  // drag = drag), two fingers = pinch zoom (one wheel notch per 15 % change of their distance,
  // the plots' zoom step), centred between them. ImGui samples the mouse once per frame, so a press
  // waits 80 ms for a second finger, and after a pinch cancels a drag the mouse stays away from
  // every widget for two frames: neither may turn into a click.
  let mode = 0, last = null, spread = 0, pending = 0, parked = false;  // mode: 0 idle, 1 drag, 2 pinch, 3 wait for lift, 4 press pending
  function mouse(type, x, y, buttons) {
    canvas.dispatchEvent(new MouseEvent(type, { clientX: x, clientY: y, button: 0, buttons: buttons,
                                                bubbles: true, cancelable: true, view: window }));
  }
  function press() {
    clearTimeout(pending);
    pending = 0;
    if (mode === 4) { mode = 1; mouse("mousedown", last.x, last.y, 1); }
  }
  function centre(t) { return { x: (t[0].clientX + t[1].clientX) / 2, y: (t[0].clientY + t[1].clientY) / 2 }; }
  function distance(t) { return Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY); }
  function onTouch(e) {
    if (e.target !== canvas) return;
    e.preventDefault();  // no emulated mouse events, no page zoom or scroll
    e.stopPropagation();  // GLFW's own touch handlers never run
    const t = e.touches;
    if (e.type === "touchstart") {
      if (t.length === 1 && mode === 0) {
        mode = 4;
        last = { x: t[0].clientX, y: t[0].clientY };
        mouse("mousemove", last.x, last.y, 0);
        pending = setTimeout(press, 80);
      } else if (t.length >= 2 && mode !== 2 && mode !== 3) {
        clearTimeout(pending);
        pending = 0;
        if (mode === 1) {
          mouse("mousemove", -1e5, -1e5, 1);
          mouse("mouseup", -1e5, -1e5, 0);
          parked = true;
          requestAnimationFrame(function() { requestAnimationFrame(function() { parked = false; }); });
        }
        mode = 2;
        spread = distance(t);
      }
    } else if (e.type === "touchmove") {
      if (mode === 4) press();
      if (mode === 1 && t.length >= 1) {
        last = { x: t[0].clientX, y: t[0].clientY };
        mouse("mousemove", last.x, last.y, 1);
      } else if (mode === 2 && t.length >= 2 && !parked) {
        const d = distance(t);
        last = centre(t);
        mouse("mousemove", last.x, last.y, 0);
        if (spread > 0 && d > 0) Module._fs_wheel(0, Math.log(d / spread) / Math.log(1 / 0.85));
        spread = d;
      }
    } else {  // touchend, touchcancel
      if (mode === 4) { press(); mouse("mouseup", last.x, last.y, 0); }  // a quick tap: a click
      else if (mode === 1) mouse("mouseup", last.x, last.y, 0);
      mode = t.length === 0 ? 0 : 3;
    }
  }
  for (const type of ["touchstart", "touchmove", "touchend", "touchcancel"])
    window.addEventListener(type, onTouch, { capture: true, passive: false });
});
EM_JS(void, js_open_file, (const char* accept), {
  let input = document.getElementById("fieldscope-file");
  if (!input) {
    input = document.createElement("input");
    input.type = "file";
    input.id = "fieldscope-file";
    input.style.display = "none";
    input.addEventListener("change", function() {
      const file = input.files && input.files[0];
      if (file) Module.fsReadFile(file);
      input.value = "";
    });
    document.body.appendChild(input);
  }
  input.accept = UTF8ToString(accept);
  input.click();
});

// --- 3. Data packaged with the site (Platform::data_dir) ---------------------------------------------
// The files of data set `name` are fetched from the page's own origin (data/<name>/ beside
// index.html, made by the build: CMakeLists.txt) into the in-memory file system under /data/<name>/;
// then fs_data_fetched (below) gets the byte counts, or a description of what failed.
EM_JS(void, js_fetch_data, (const char* name_utf8, const char* files_utf8), {
  const name = UTF8ToString(name_utf8);
  const files = UTF8ToString(files_utf8).split(",");
  const dir = "/data/" + name;
  function report(error, sizes) {
    Module._fs_data_fetched(allocateUTF8(name), error ? allocateUTF8(error) : 0, allocateUTF8(sizes || ""));
  }
  Promise.all(files.map(function(file) {
    const url = "data/" + name + "/" + file;
    return fetch(url).then(function(response) {
      if (!response.ok) throw new Error(url + " answered HTTP " + response.status);
      return response.arrayBuffer();
    }, function() { throw new Error(url + " could not be fetched"); });
  })).then(function(buffers) {
    try { FS.mkdirTree(dir); } catch (e) {}
    const sizes = [];
    for (let i = 0; i < files.length; ++i) {
      FS.writeFile(dir + "/" + files[i], new Uint8Array(buffers[i]));
      sizes.push(buffers[i].byteLength);
    }
    report(null, sizes.join(","));
  }).catch(function(e) { report(String((e && e.message) || e)); });
});
// clang-format on

std::string take(char* s) {
  std::string out = s ? s : "";
  free(s);
  return out;
}

// --- 4. The app ----------------------------------------------------------------------------------------
struct WebApp {
  GLFWwindow* window = nullptr;
  std::unique_ptr<fs::ui::App> app;
  int width = 0, height = 0;
  double ratio = 1;
  std::string snapshot;
  int frames = 0;
  fs::ui::Platform::FileDone file_done;  // the last open_file request; drops go to the app directly
  struct PackagedData {
    enum class State { not_asked, loading, ready, failed } state = State::not_asked;
    std::string error;
  };
  std::map<std::string, PackagedData> packaged;  // by data set name
  fs::ui::FramePacer pacer;
  bool changed = false;  // a file or data arrived: draw it (the pacer counts it as input)
};
WebApp g;

std::string packaged_dir(const std::string& name) { return "/data/" + name; }

// Platform::data_dir: the first call starts the download; later calls poll.
std::string data_dir(const std::string& name, std::string& error) {
  using State = WebApp::PackagedData::State;
  if (name != "fashion-mnist") {
    error = "No data set named \"" + fs::echo_user_text(name) + "\" comes with this site.";
    return "";
  }
  WebApp::PackagedData& data = g.packaged[name];
  if (data.state == State::not_asked) {
    data.state = State::loading;
    std::string files;
    for (const std::string& file : fs::fashion_mnist_file_names()) files += (files.empty() ? "" : ",") + file;
    js_fetch_data(name.c_str(), files.c_str());
  }
  if (data.state == State::ready) return packaged_dir(name);
  if (data.state == State::failed) error = data.error;
  return "";
}

// The byte counts js_fetch_data reports, "n1,n2,...", in the order of the files it was given.
std::vector<long long> received_byte_counts(const std::string& sizes) {
  std::vector<long long> counts;
  std::istringstream in(sizes);
  long long count = 0;
  char comma = 0;
  while (in >> count) {
    counts.push_back(count);
    in >> comma;
  }
  return counts;
}

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

// One animation frame of the browser: the pacer decides whether it draws or only computes.
void frame() {
  const bool input = js_take_input() != 0 || g.changed;
  g.changed = false;
  const fs::ui::FrameSchedule s = g.pacer.next(emscripten_get_now() / 1000.0, input, g.app->busy());
  if (!s.draw) {
    if (s.compute_seconds > 0) g.app->compute(s.compute_seconds);
    return;
  }
  fit_canvas();
  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  g.app->frame(s.compute_seconds);
  ImGui::Render();
  int fb_w = 0, fb_h = 0;
  glfwGetFramebufferSize(g.window, &fb_w, &fb_h);
  glViewport(0, 0, fb_w, fb_h);
  glClearColor(0.08f, 0.08f, 0.1f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  g.app->after_render();  // plot exports: PNG captures read the canvas before it is presented
  if (++g.frames == 2) js_loaded();
}

}  // namespace

extern "C" {
// Test hooks (tests/e2e): the numbers on screen as JSON, and loading a link without reloading.
EMSCRIPTEN_KEEPALIVE const char* fs_snapshot() {
  g.snapshot = g.app ? g.app->snapshot_json() : "{}";
  return g.snapshot.c_str();
}
// A file read by the page (js_install_input_handlers): takes ownership of both strings.
EMSCRIPTEN_KEEPALIVE void fs_file_loaded(char* name_utf8, char* text_utf8, int failed) {
  const std::string name = take(name_utf8), text = take(text_utf8);
  g.changed = true;
  std::string error;
  const std::string shown = "\"" + fs::echo_user_text(name) + "\"";
  if (failed == 1) error = shown + " is larger than 16 MiB, too large for inputs that travel in a share link.";
  if (failed == 2) error = "The browser could not read " + shown + ".";
  if (g.file_done)
    g.file_done(name, text, error);
  else if (g.app)
    g.app->load_inputs_csv(name, text, error);
}
// The end of js_fetch_data: `error_utf8` is null on success, `sizes_utf8` the byte counts of the
// files in order. Takes ownership of the strings.
EMSCRIPTEN_KEEPALIVE void fs_data_fetched(char* name_utf8, char* error_utf8, char* sizes_utf8) {
  const std::string name = take(name_utf8), error = take(error_utf8), sizes = take(sizes_utf8);
  g.changed = true;
  WebApp::PackagedData& data = g.packaged[name];
  const std::string problem =
      error.empty() ? fs::check_fashion_mnist_files(packaged_dir(name), received_byte_counts(sizes)).message : error;
  if (problem.empty()) {
    data.state = WebApp::PackagedData::State::ready;
    return;
  }
  data.state = WebApp::PackagedData::State::failed;
  data.error = "Fashion-MNIST could not be loaded from this site (" + problem + "); the desktop build reads it from Debian's " +
               "dataset-fashion-mnist package.";
}
// Test hook (tests/e2e): polls data_dir("fashion-mnist") like the app does; once it is ready, loads
// `train` and `test` points from it as core/datasets.cpp does. JSON: dir, error, and the load's
// status, sizes and first training labels.
EMSCRIPTEN_KEEPALIVE const char* fs_test_data_dir(int train, int test) {
  std::string error;
  const std::string dir = data_dir("fashion-mnist", error);
  nlohmann::json j;
  j["dir"] = dir;
  j["error"] = error;
  if (!dir.empty()) {
    fs::DatasetSpec spec;
    spec.kind = fs::DatasetKind::fashion_mnist;
    spec.path = dir;
    spec.train = train;
    spec.test = test;
    const fs::DatasetSplit split = fs::make_dataset(spec);
    j["status"] = split.status.ok() ? "ok" : split.status.message;
    j["train"] = split.train.x.rows();
    j["test"] = split.test.x.rows();
    j["dim"] = split.train.x.cols();
    std::vector<double> first(split.train.y.begin(), split.train.y.begin() + std::min<std::size_t>(10, split.train.y.size()));
    j["first_labels"] = first;
  }
  g.snapshot = j.dump();
  return g.snapshot.c_str();
}
// Wheel notches (positive = up / zoom in), from the page's wheel and pinch handlers.
EMSCRIPTEN_KEEPALIVE void fs_wheel(double dx, double dy) {
  g.changed = true;
  if (g.window) ImGui_ImplGlfw_ScrollCallback(g.window, dx, dy);
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
  platform.data_dir = data_dir;
  platform.open_file = [](const std::string& accept, fs::ui::Platform::FileDone done) {
    g.file_done = std::move(done);
    js_open_file(accept.c_str());
  };
  js_install_input_handlers();
  const std::string query = take(js_location_search());
  fs::SceneResult loaded = query.empty() ? fs::SceneResult{} : fs::scene_from_query(query);
  g.app = std::make_unique<fs::ui::App>(platform, loaded.scene, loaded.warnings);
  emscripten_set_main_loop(frame, 0, false);
  return 0;
}
