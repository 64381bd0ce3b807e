#pragma once

// Mutex, MutexLock and Notification with absl's interface, on std::mutex.
//
// Why not absl::Mutex: Debian's Abseil is built without ThreadSanitizer
// hooks, so TSan cannot see absl::Mutex and reports every access it guards
// as a race. pthread mutexes (under std::mutex) are intercepted by TSan, so
// the sanitizer builds check Atlas' own locking for real.

#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace atlas {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    // Waiters re-check their condition whenever the state may have changed.
    // Notifying before unlocking lets a woken waiter destroy the Mutex (and
    // the object holding it) as soon as it owns the lock.
    if (waiters_ > 0) changed_.notify_all();
    mu_.unlock();
  }

  // Blocks until `ready()` (evaluated with the lock held) is true. The lock
  // must be held; it is released while waiting.
  template <typename Predicate>
  void Await(Predicate ready) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    Wait(ready, [&](std::unique_lock<std::mutex>& lock) {
      changed_.wait(lock, ready);
      return true;
    });
  }
  // As Await, giving up after `timeout`; returns ready().
  template <typename Predicate>
  bool AwaitWithTimeout(Predicate ready, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    // wait_for(nanoseconds::max()) overflows the clock and returns at once.
    if (timeout == absl::InfiniteDuration()) {
      Await(ready);
      return true;
    }
    return Wait(ready, [&](std::unique_lock<std::mutex>& lock) {
      return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), ready);
    });
  }

 private:
  // With the lock held: true at once if `ready()`; otherwise `wait(lock)`,
  // which releases the lock while it waits and returns ready().
  template <typename Predicate, typename WaitOnLock>
  bool Wait(Predicate ready, WaitOnLock wait)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    if (ready()) return true;  // keeps the lock: the caller's Unlock notifies
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    // Waiting releases the lock, which is an unlock like any other: the
    // state may have changed since the lock was taken.
    if (waiters_ > 0) changed_.notify_all();
    ++waiters_;
    const bool result = wait(lock);
    --waiters_;
    lock.release();
    return result;
  }

  std::mutex mu_;
  std::condition_variable changed_;
  int waiters_ = 0;  // guarded by mu_
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A one-shot event.
class Notification {
 public:
  void Notify() {
    MutexLock lock(&mu_);
    notified_ = true;
  }
  bool HasBeenNotified() {
    MutexLock lock(&mu_);
    return notified_;
  }
  void WaitForNotification() {
    MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return notified_; });
  }
  // True if notified within `timeout`.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) {
    MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return notified_; }, timeout);
  }

 private:
  Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace atlas
