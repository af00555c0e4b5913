// QueryBudget: the memory and group accounting of one query run, shared by every executor (and
// scan thread) of that run, and its cancellation check.
//
//   QueryBudget budget(context);            // one per RunQuery / SearchTraces call
//   QueryExecutor head(spec, &budget), ...  // executors charge their growth to it
//   ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());  // between blocks
//
// Charge adds bytes before the memory is taken and fails (kResourceExhausted, with a message that
// names the limit and the flag that raises it) once the total passes the limit; the bytes stay
// counted until Release, so a failed charge is released like any other. CheckGroups fails past the
// group cap with a message that says how to narrow the query. CheckCancelled fails with kCancelled
// once the request's cancel flag is set.
//
// Threads: every method may be called concurrently (atomics); the budget must outlive the
// executors that charge it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "query/exec_context.h"

namespace ariadne::query {

class QueryBudget {
 public:
  explicit QueryBudget(ExecContext context = {}) : context_(std::move(context)) {}
  QueryBudget(const QueryBudget&) = delete;
  QueryBudget& operator=(const QueryBudget&) = delete;

  [[nodiscard]] Status Charge(uint64_t bytes);
  void Release(uint64_t bytes) {
    used_.fetch_sub(bytes, std::memory_order_relaxed);
    all_queries_.fetch_sub(bytes, std::memory_order_relaxed);
  }
  // Bytes charged by every query of the process now (the query share's use on /metrics).
  static uint64_t AllQueriesBytes() { return all_queries_.load(std::memory_order_relaxed); }

  // OK while `groups` is within the cap; `breakdowns` name the query's breakdown columns for the
  // message.
  [[nodiscard]] Status CheckGroups(size_t groups, const std::vector<std::string>& breakdowns) const;

  [[nodiscard]] Status CheckCancelled() const;
  bool cancelled() const { return context_.cancel && context_.cancel->cancelled(); }

  uint64_t used_bytes() const { return used_.load(std::memory_order_relaxed); }
  uint64_t peak_bytes() const { return peak_.load(std::memory_order_relaxed); }
  const QueryLimits& limits() const { return context_.limits; }

 private:
  const ExecContext context_;
  std::atomic<uint64_t> used_{0};
  std::atomic<uint64_t> peak_{0};
  static inline std::atomic<uint64_t> all_queries_{0};
};

// Bytes charged by one owner (an executor, a scan) and given back when it ends.
class BudgetCharge {
 public:
  explicit BudgetCharge(QueryBudget* budget) : budget_(budget) {}
  ~BudgetCharge() { ReleaseAll(); }
  BudgetCharge(BudgetCharge&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
    other.bytes_ = 0;
  }
  BudgetCharge& operator=(BudgetCharge&& other) noexcept {
    if (this != &other) {
      ReleaseAll();
      budget_ = other.budget_;
      bytes_ = other.bytes_;
      other.bytes_ = 0;
    }
    return *this;
  }

  // Charges `bytes` to the budget (none: always OK).
  [[nodiscard]] Status Add(uint64_t bytes) {
    if (budget_ == nullptr || bytes == 0) return Status::Ok();
    bytes_ += bytes;
    return budget_->Charge(bytes);
  }
  // Gives back `bytes` of what this owner charged (memory it freed early).
  void Release(uint64_t bytes) {
    bytes = std::min(bytes, bytes_);
    if (budget_ != nullptr && bytes != 0) budget_->Release(bytes);
    bytes_ -= bytes;
  }
  void ReleaseAll() {
    if (budget_ != nullptr && bytes_ != 0) budget_->Release(bytes_);
    bytes_ = 0;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  QueryBudget* budget_;
  uint64_t bytes_ = 0;
};

}  // namespace ariadne::query
