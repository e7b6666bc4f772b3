// What the shared front end asks of its platform (browser or desktop). Each platform fills this in;
// app/ never calls a platform API itself.
#pragma once
#include <functional>
#include <string>

namespace fs::ui {

struct Platform {
  std::string name;                                            // "web" or "desktop"
  std::function<void(const std::string& query)> set_link;      // reflect the scene in the URL / title
  std::function<std::string(const std::string& query)> link_url;  // full share URL for a query
  std::function<void(const std::string& text)> copy_text;      // clipboard
  std::function<void(const std::string& name, const std::string& bytes)> save_file;  // download / save
};

}  // namespace fs::ui
