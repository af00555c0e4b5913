// ByteBudget: how many bytes of request bodies all connections of one listener may hold at once.
// A connection reserves a body's bytes before reading them (the Content-Length, or each chunk of a
// chunked body) and the reservation is given back when the body is freed — after the handler is
// done with it, not when it was read — so the budget bounds the memory bodies really take.
//
// Threads: every method may be called from any thread (one atomic counter).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ariadne::net {

class ByteBudget {
 public:
  // `limit` 0 means unlimited (reservations always succeed, and are still counted).
  explicit ByteBudget(size_t limit) : limit_(limit) {}

  // Reserves `bytes` when they fit; false (nothing reserved) when they do not.
  bool TryReserve(size_t bytes) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (limit_ != 0 && (bytes > limit_ || used > limit_ - bytes)) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void Release(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  // Moves `body` into a shared string whose destruction releases `reserved` bytes of `budget`.
  static std::shared_ptr<const std::string> Hold(std::string body,
                                                 std::shared_ptr<ByteBudget> budget,
                                                 size_t reserved) {
    if (!budget || reserved == 0) return std::make_shared<const std::string>(std::move(body));
    return std::shared_ptr<const std::string>(new std::string(std::move(body)),
                                              [budget, reserved](const std::string* text) {
                                                delete text;
                                                budget->Release(reserved);
                                              });
  }

  size_t limit() const { return limit_; }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  // Reservations refused because the budget was full.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace ariadne::net
