// The shared file-loading controls (app/file_loader.h).
#include "app/file_loader.h"

#include <imgui.h>

#include "app/widgets.h"
#include "core/datasets.h"
#include "core/scene.h"
#include "core/text.h"

namespace fs::ui {

void FileLoader::draw(const char* id, const char* button, const char* help) {
  ImGui::PushID(id);
  if (platform_.open_file) {
    if (ImGui::Button(button)) {
      auto pending = pending_;
      platform_.open_file(".csv,.txt,.tsv,text/csv,text/plain",
                          [pending](const std::string& name, const std::string& text, const std::string& error) {
                            pending->push_back({name, text, error});
                          });
    }
    const ImVec2 lo = ImGui::GetItemRectMin(), hi = ImGui::GetItemRectMax();
    button_[0] = lo.x, button_[1] = lo.y, button_[2] = hi.x, button_[3] = hi.y;
    help_marker(help);
  }
  if (platform_.read_file) {
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - ImGui::GetFontSize() * 4);
    const bool enter = ImGui::InputTextWithHint("##path", "labelled CSV path (or drop a file)", path_, sizeof path_,
                                                ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if ((ImGui::Button("Load") || enter) && path_[0] != '\0') {
      std::string error;
      std::string text = platform_.read_file(path_, error);
      pending_->push_back({path_, std::move(text), error});
    }
  }
  if (!message_.empty()) {
    if (failed_)
      error_text(message_);
    else
      ImGui::TextWrapped("%s", message_.c_str());
  }
  ImGui::PopID();
}

std::vector<FileLoader::File> FileLoader::take() {
  std::vector<File> files = std::move(*pending_);
  pending_->clear();
  return files;
}

void FileLoader::snapshot(nlohmann::ordered_json& j) const {
  j["csv_message"] = message_;
  j["csv_failed"] = failed_;
  j["load_button"] = {button_[0], button_[1], button_[2], button_[3]};
}

LabelledCsvLoad load_labelled_csv(Scene& scene, Panel tab, const std::string& name, const std::string& text,
                                  const std::string& error) {
  LabelledCsvLoad out;
  const std::string file = "\"" + echo_user_text(name) + "\"";
  if (!error.empty()) {
    out.message = error;
    return out;
  }
  LabelledCsv parsed = parse_labelled_csv(text, false);
  bool regression = false;
  if (!parsed.status.ok()) {
    LabelledCsv real = parse_labelled_csv(text, true);
    if (!real.status.ok()) {
      out.message = file + ": " + real.status.message + " The data were not changed.";
      return out;
    }
    parsed = std::move(real);
    regression = true;
  }
  const Dataset& d = parsed.data;
  Scene next = scene;
  const bool renorm = tab == Panel::renorm;
  if (renorm)
    next.renorm.task = RenormTask::csv;
  else
    next.gp.dataset = GpData::csv;
  std::vector<std::vector<double>>& rows = renorm ? next.renorm.points : next.gp.points;
  rows.assign(static_cast<std::size_t>(d.x.rows()), {});
  for (Eigen::Index a = 0; a < d.x.rows(); ++a) {
    auto& row = rows[static_cast<std::size_t>(a)];
    for (Eigen::Index j = 0; j < d.x.cols(); ++j) row.push_back(d.x(a, j));
    row.push_back(d.y[static_cast<std::size_t>(a)]);
  }
  if (const Status valid = validate_scene(next); !valid.ok()) {
    out.message = file + ": " + valid.message + " The data were not changed.";
    return out;
  }
  const std::size_t link = scene_to_query(next).size();
  if (link > kMaxLinkQuery) {
    out.message = file + " holds " + std::to_string(d.x.rows()) + " rows of " + std::to_string(d.x.cols() + 1) +
                  " numbers: as a share link that is " + std::to_string(link) + " characters, more than the " +
                  std::to_string(kMaxLinkQuery) +
                  " a link carries safely. Use fewer rows or fewer digits, or the command line (" +
                  (renorm ? "fieldscope-cli renorm --task csv --train-csv FILE" : "fieldscope-cli gp --dataset csv --csv FILE") +
                  "). The data were not changed.";
    return out;
  }
  scene = std::move(next);
  out.failed = false;
  out.message = "Loaded " + std::to_string(d.x.rows()) + " rows with " + std::to_string(d.x.cols()) + " features (" +
                (regression ? "real targets: regression" : "class labels") + ") from " + file + ".";
  return out;
}

}  // namespace fs::ui
