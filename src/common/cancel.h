// CancelFlag: tells long-running work (an aggregate query, a trace scan) that nobody waits for its
// answer any more, so it can stop early and give its memory back.
//
// Who sets it: the HTTP server, when the client of a request that is still being handled closes its
// connection; a deadline or a shutdown may set it too. Who reads it: the query engine, between
// blocks. Setting is idempotent and cheap; reading is one relaxed atomic load.
//
// Threads: Cancel and cancelled may be called from any thread at any time.
#pragma once

#include <atomic>
#include <memory>

namespace ariadne {

class CancelFlag {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

using CancelFlagPtr = std::shared_ptr<CancelFlag>;

}  // namespace ariadne
