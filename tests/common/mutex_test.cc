#include "common/mutex.h"

#include <thread>

#include <gtest/gtest.h>

namespace atlas {
namespace {

// Await releases the lock while it waits. Like any unlock, that must wake the
// threads waiting on the same Mutex, since the caller may have changed what
// they wait for. Here the main thread makes the waiter's condition true and
// then awaits a condition only the waiter can make true, with no Unlock in
// between: without that wake-up, each would wait for the other.
TEST(MutexTest, AwaitWakesWaitersWhoseConditionTheCallerMadeTrue) {
  Mutex mu;
  bool waiting = false;  // guarded by mu
  bool go = false;       // guarded by mu
  bool done = false;     // guarded by mu
  std::thread waiter([&] {
    MutexLock lock(&mu);
    waiting = true;
    mu.Await([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return go; });
    done = true;
  });
  bool woke = false;
  for (bool started = false; !started; std::this_thread::yield()) {
    MutexLock lock(&mu);
    started = waiting;  // then the waiter is inside Await: it let go of mu
    if (!started) continue;
    go = true;
    woke = mu.AwaitWithTimeout(
        [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return done; },
        absl::Seconds(30));
  }  // (if it did not wake, this unlock does, so the thread can be joined)
  waiter.join();
  EXPECT_TRUE(woke);
}

TEST(MutexTest, NotificationWakesEveryWaiter) {
  Notification notification;
  std::thread first([&] { notification.WaitForNotification(); });
  std::thread second([&] { notification.WaitForNotification(); });
  EXPECT_FALSE(notification.HasBeenNotified());
  notification.Notify();
  first.join();
  second.join();
  EXPECT_TRUE(notification.HasBeenNotified());
  EXPECT_TRUE(notification.WaitForNotificationWithTimeout(absl::ZeroDuration()));
}

}  // namespace
}  // namespace atlas
