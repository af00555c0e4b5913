#include "store/span_store.h"

#include <future>

namespace ariadne::store {

Status SpanStore::Append(std::string environment, model::SpanBatch batch) {
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  AppendAsync(std::move(environment), std::move(batch),
              [&promise](Status status) { promise.set_value(std::move(status)); });
  return future.get();
}

}  // namespace ariadne::store
