#include "app/background_jobs.h"

#include <chrono>

#include "app/app.h"
#include "core/parallel.h"

namespace fs::ui {

BackgroundJobs::BackgroundJobs(App& app) : app_(app) {
  start_worker_threads();  // from the loop's thread: the jobs' thread could not start them in a browser
  {
    std::lock_guard<std::mutex> lock(mutex_);
    app_.set_background_jobs(true);
  }
  thread_ = std::thread([this] { run(); });
}

BackgroundJobs::~BackgroundJobs() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    app_.set_background_jobs(false);
  }
  wake_.notify_all();
  thread_.join();
}

std::unique_lock<std::mutex> BackgroundJobs::hold() {
  ++loop_waiting_;
  std::unique_lock<std::mutex> lock(mutex_);
  --loop_waiting_;
  return lock;
}

void BackgroundJobs::wake() { wake_.notify_all(); }

void BackgroundJobs::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (!app_.step_background_jobs(kSliceSeconds)) {
      // Nothing pending: sleep until the loop wakes us (a new scene), with a poll as a safety net.
      wake_.wait_for(lock, std::chrono::milliseconds(50));
      continue;
    }
    // Let a waiting loop in before the next slice (a mutex is not fair: unlocking and locking again at
    // once would usually win).
    lock.unlock();
    while (loop_waiting_.load() > 0) std::this_thread::yield();
    lock.lock();
  }
}

}  // namespace fs::ui
