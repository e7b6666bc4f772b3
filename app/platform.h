// What the shared front end asks of its platform (browser or desktop). Each platform fills this in;
// app/ never calls a platform API itself.
#pragma once
#include <functional>
#include <string>

namespace fs::ui {

struct Platform {
  std::string name;                                                                  // "web" or "desktop"
  std::function<void(const std::string& query)> set_link;                            // reflect the scene in the URL / title
  std::function<std::string(const std::string& query)> link_url;                     // full share URL for a query
  std::function<void(const std::string& text)> copy_text;                            // clipboard
  std::function<void(const std::string& name, const std::string& bytes)> save_file;  // download / save
  // A text file the user picks (browser: a file picker limited to `accept`, e.g. ".csv"). Later, once
  // read, `done(name, text, error)` runs on the main thread; `error` is a sentence when the file could
  // not be read (then `text` is empty). Unset on platforms without a picker.
  using FileDone = std::function<void(const std::string& name, const std::string& text, const std::string& error)>;
  std::function<void(const std::string& accept, FileDone done)> open_file;
  // Reads a file by its path (desktop's path field): the text, or "" and a sentence in `error`.
  // Unset where there are no paths (browser).
  std::function<std::string(const std::string& path, std::string& error)> read_file;
  // Data packaged with the build, by name ("fashion-mnist"): the directory holding its files once
  // they are ready, "" while they load (the web build fetches them from its own site into the
  // in-memory file system on the first call); `error` gets a sentence when they are unavailable.
  std::function<std::string(const std::string& name, std::string& error)> data_dir;
};

// The packaged data set's directory (Platform::data_dir): "" while it loads, `error` when unavailable.
inline std::string packaged_data_dir(const Platform& platform, const std::string& name, std::string& error) {
  if (platform.data_dir) return platform.data_dir(name, error);
  error = "This build has no packaged data sets.";
  return "";
}

}  // namespace fs::ui
