// The theory views' jobs (phase diagram, deep and recurrent kernels) on a thread of their own, for the
// builds with threads (native, and the wasm build for cross-origin isolated pages): they compute while
// the platform's loop renders, instead of in slices between its frames.
//
// One mutex guards the app. The loop holds it (hold()) while it touches the app: building a frame,
// reading the snapshot, delivering files and data. It releases it while the GPU (or software GL)
// renders and while the loop waits for the next frame; the thread then steps the jobs in slices of a
// few milliseconds, so that the loop never waits long for the mutex. The ensemble and GP tabs keep
// their jobs in the loop's passes (app/frame_pacer.h): they call back into the platform (files, data
// downloads), which in the browser must happen on the page's own thread.
#pragma once
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace fs::ui {

class App;

class BackgroundJobs {
 public:
  static constexpr double kSliceSeconds = 0.006;  // one step of the jobs, holding the mutex

  explicit BackgroundJobs(App& app);  // starts the thread and tells the app to leave these jobs to it
  ~BackgroundJobs();                  // stops the thread (after its current slice)
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;

  // The app's mutex, for the loop: the thread yields it to a waiting loop after each slice.
  std::unique_lock<std::mutex> hold();
  // The scene may have changed (new jobs): look at once instead of at the next poll.
  void wake();

 private:
  void run();

  App& app_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> loop_waiting_{0};
  bool stop_ = false;  // under mutex_
  std::thread thread_;
};

}  // namespace fs::ui
