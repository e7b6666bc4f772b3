// A persistent pool for parallel_for (core/parallel.h).
//
// One task at a time: the caller publishes (fn, count, grain), wakes the workers it wants, takes
// ranges itself from a shared atomic cursor, and spins until every woken worker has reported back.
// Workers are started once and reused, which matters in wasm, where a thread must come from the
// preallocated pool (-sPTHREAD_POOL_SIZE) to start without returning to the browser's event loop.
#include "core/parallel.h"

#include <algorithm>
#include <atomic>

#ifndef FIELDSCOPE_THREADS
#define FIELDSCOPE_THREADS 1
#endif
#ifndef FIELDSCOPE_MAX_THREADS
#define FIELDSCOPE_MAX_THREADS 64
#endif

#if FIELDSCOPE_THREADS
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace fs {

namespace {
thread_local bool inside_parallel_for = false;

int hardware_threads() {
#if FIELDSCOPE_THREADS
  const unsigned hw = std::thread::hardware_concurrency();
  return std::clamp(static_cast<int>(hw == 0 ? 1 : hw), 1, FIELDSCOPE_MAX_THREADS);
#else
  return 1;
#endif
}

std::atomic<int> requested_threads{0};  // 0 = all hardware threads

#if FIELDSCOPE_THREADS
void run_ranges(const std::function<void(int, int)>& fn, int count, int grain, std::atomic<int>& cursor) {
  for (;;) {
    const int begin = cursor.fetch_add(grain, std::memory_order_relaxed);
    if (begin >= count) return;
    fn(begin, std::min(count, begin + grain));
  }
}

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  // Runs the task on `helpers` workers plus the caller.
  void run(const std::function<void(int, int)>& fn, int count, int grain, int helpers) {
    std::lock_guard<std::mutex> one_task(dispatch_);
    while (static_cast<int>(workers_.size()) < helpers) {
      const int id = static_cast<int>(workers_.size());
      workers_.emplace_back([this, id] { loop(id); });
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      count_ = count;
      grain_ = grain;
      cursor_.store(0, std::memory_order_relaxed);
      helpers_ = helpers;
      pending_.store(helpers, std::memory_order_relaxed);
      ++generation_;
    }
    wake_.notify_all();
    inside_parallel_for = true;
    run_ranges(fn, count, grain, cursor_);
    inside_parallel_for = false;
    // Spin rather than sleep: the caller has done its share, so the wait is only for the workers' last
    // ranges, and a browser's main thread must not block (Emscripten warns and busy-waits anyway).
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  }

 private:
  void loop(int id) {
    inside_parallel_for = true;
    long seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (id >= helpers_) continue;  // not needed for this task
      const std::function<void(int, int)>* fn = fn_;
      const int count = count_, grain = grain_;
      lock.unlock();
      run_ranges(*fn, count, grain, cursor_);
      pending_.fetch_sub(1, std::memory_order_release);
      lock.lock();
    }
  }

  std::mutex dispatch_;  // one task at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* fn_ = nullptr;
  int count_ = 0, grain_ = 1, helpers_ = 0;
  std::atomic<int> pending_{0};  // woken workers still on the current task
  long generation_ = 0;
  bool stop_ = false;
  std::atomic<int> cursor_{0};
};

Pool& pool() {
  static Pool instance;
  return instance;
}
#endif
}  // namespace

int max_thread_count() {
  static const int threads = hardware_threads();
  return threads;
}

int thread_count() {
  const int requested = requested_threads.load(std::memory_order_relaxed);
  return requested <= 0 ? max_thread_count() : std::min(requested, max_thread_count());
}

void set_thread_count(int threads) {
  requested_threads.store(std::clamp(threads, 1, max_thread_count()), std::memory_order_relaxed);
}

void parallel_for(int count, const std::function<void(int begin, int end)>& fn, int grain) {
  if (count <= 0) return;
  grain = std::max(1, grain);
  const int ranges = (count + grain - 1) / grain;
  const int threads = std::min(thread_count(), ranges);
  if (threads <= 1 || inside_parallel_for) {
    fn(0, count);
    return;
  }
#if FIELDSCOPE_THREADS
  pool().run(fn, count, grain, threads - 1);
#endif
}

}  // namespace fs
