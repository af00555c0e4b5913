// Clang thread-safety annotations (-Wthread-safety), so locking rules are checked by the compiler
// instead of living in comments. Under GCC the macros expand to nothing.
//
// libstdc++'s std::mutex carries no annotations, so annotated state is guarded by ariadne::Mutex,
// a std::mutex declared as a capability, and locked with ariadne::MutexLock. Use them for new
// locked state:
//
//   Mutex mu_;
//   int pending_ ARIADNE_GUARDED_BY(mu_) = 0;
//   void Drain() ARIADNE_REQUIRES(mu_);
#pragma once

#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define ARIADNE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define ARIADNE_THREAD_ANNOTATION(x)
#endif

#define ARIADNE_CAPABILITY(x) ARIADNE_THREAD_ANNOTATION(capability(x))
#define ARIADNE_SCOPED_CAPABILITY ARIADNE_THREAD_ANNOTATION(scoped_lockable)
#define ARIADNE_GUARDED_BY(x) ARIADNE_THREAD_ANNOTATION(guarded_by(x))
#define ARIADNE_PT_GUARDED_BY(x) ARIADNE_THREAD_ANNOTATION(pt_guarded_by(x))
#define ARIADNE_REQUIRES(...) ARIADNE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ARIADNE_EXCLUDES(...) ARIADNE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ARIADNE_ACQUIRE(...) ARIADNE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ARIADNE_RELEASE(...) ARIADNE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ARIADNE_REQUIRES_SHARED(...) \
  ARIADNE_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ARIADNE_ACQUIRE_SHARED(...) \
  ARIADNE_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define ARIADNE_RELEASE_SHARED(...) \
  ARIADNE_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define ARIADNE_RELEASE_GENERIC(...) \
  ARIADNE_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define ARIADNE_NO_THREAD_SAFETY_ANALYSIS ARIADNE_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace ariadne {

class ARIADNE_CAPABILITY("mutex") Mutex {
 public:
  void Lock() ARIADNE_ACQUIRE() { mu_.lock(); }
  void Unlock() ARIADNE_RELEASE() { mu_.unlock(); }
  // For std::condition_variable_any and std::unique_lock.
  void lock() ARIADNE_ACQUIRE() { mu_.lock(); }
  void unlock() ARIADNE_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class ARIADNE_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ARIADNE_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ARIADNE_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

// A reader/writer lock: many readers (ReaderMutexLock) or one writer (WriterMutexLock).
class ARIADNE_CAPABILITY("mutex") SharedMutex {
 public:
  void Lock() ARIADNE_ACQUIRE() { mu_.lock(); }
  void Unlock() ARIADNE_RELEASE() { mu_.unlock(); }
  void LockShared() ARIADNE_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void UnlockShared() ARIADNE_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

class ARIADNE_SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex* mu) ARIADNE_ACQUIRE_SHARED(mu) : mu_(mu) {
    mu_->LockShared();
  }
  ~ReaderMutexLock() ARIADNE_RELEASE_GENERIC() { mu_->UnlockShared(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex* mu_;
};

class ARIADNE_SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex* mu) ARIADNE_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~WriterMutexLock() ARIADNE_RELEASE() { mu_->Unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex* mu_;
};

}  // namespace ariadne
