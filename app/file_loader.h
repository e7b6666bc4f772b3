// Labelled CSV files into a tab's scene fields, and the "Load ... CSV" controls the tabs share: a button that opens the platform's file picker (browser), a path
// field with Load (desktop), and the sentence about the last file. Files picked through the button arrive
// later, outside draw(); the loader keeps them until the tab takes them at its next draw.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/platform.h"
#include "core/scene.h"

namespace fs::ui {

class FileLoader {
 public:
  struct File {
    std::string name, text, error;  // error: the platform could not read the file (a sentence)
  };
  explicit FileLoader(const Platform& platform) : platform_(platform) {}
  // Draws the controls. `id` keeps ImGui ids apart between tabs; `help` is the button's tooltip.
  void draw(const char* id, const char* button, const char* help);
  // Files picked or typed since the last call, oldest first.
  std::vector<File> take();
  bool pending() const { return !pending_->empty(); }
  // The sentence shown under the controls: in the error colour when `failed`.
  void set_message(bool failed, std::string message) { failed_ = failed, message_ = std::move(message); }
  // csv_message, csv_failed and load_button (the button's rectangle in pixels, for tests).
  void snapshot(nlohmann::ordered_json& j) const;

 private:
  const Platform& platform_;
  std::shared_ptr<std::vector<File>> pending_ = std::make_shared<std::vector<File>>();
  std::string message_;
  bool failed_ = false;
  char path_[1024] = {};
  float button_[4] = {0, 0, 0, 0};
};

// Reads a labelled CSV file (features then an integer class id, or a real target for regression) into the
// scene as the data set of `tab` (Panel::gp: gp.points; Panel::renorm: renorm.points), if the scene stays
// valid and its share link short enough; otherwise the scene is unchanged. `error`: the platform could not
// read the file.
struct LabelledCsvLoad {
  bool failed = true;
  std::string message;  // what happened, a sentence naming the file
};
LabelledCsvLoad load_labelled_csv(Scene& scene, Panel tab, const std::string& name, const std::string& text,
                                  const std::string& error);

}  // namespace fs::ui
