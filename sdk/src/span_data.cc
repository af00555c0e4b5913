#include "ariadne/sdk/span_data.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace ariadne::sdk {

// ---------------------------------------------------------------------------------------------
// AttributeValue

std::string AttributeValue::ToString() const {
  switch (type_) {
    case AttributeType::kString:
      return std::string(string_value());
    case AttributeType::kBool:
      return b_ ? "true" : "false";
    case AttributeType::kInt64:
      return std::to_string(i_);
    case AttributeType::kDouble: {
      char buf[32];
      int n = std::snprintf(buf, sizeof(buf), "%.17g", d_);
      return std::string(buf, n);
    }
  }
  return {};
}

bool operator==(const AttributeValue& a, const AttributeValue& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case AttributeType::kString:
      return a.string_value() == b.string_value();
    case AttributeType::kBool:
      return a.b_ == b.b_;
    case AttributeType::kInt64:
      return a.i_ == b.i_;
    case AttributeType::kDouble:
      return a.d_ == b.d_;
  }
  return false;
}

std::string_view SpanKindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal:
      return "internal";
    case SpanKind::kServer:
      return "server";
    case SpanKind::kClient:
      return "client";
    case SpanKind::kProducer:
      return "producer";
    case SpanKind::kConsumer:
      return "consumer";
  }
  return "internal";
}

// ---------------------------------------------------------------------------------------------
// SpanData

namespace {

// Attribute keys and values are mostly short: copy and compare them with overlapping word moves
// instead of calling into libc.
inline bool KeyEquals(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return std::memcmp(a.data(), b.data(), n) == 0;
}

}  // namespace

SpanData::SpanData() = default;
SpanData::~SpanData() = default;

void SpanData::Reset() {
  context_ = SpanContext();
  parent_span_id_ = SpanId();
  parent_is_remote_ = false;
  kind_ = SpanKind::kInternal;
  status_ = StatusCode::kUnset;
  inline_count_ = 0;
  dropped_attributes_ = dropped_events_ = dropped_links_ = 0;
  start_ns_ = end_ns_ = 0;
  name_ = {};
  status_message_ = {};
  resource_ = nullptr;
  scope_ = nullptr;
  overflow_.clear();
  events_.clear();
  links_.clear();
  // Keep the containers' capacity unless a huge span inflated them.
  if (overflow_.capacity() > 256) overflow_.shrink_to_fit();
  if (events_.capacity() > 32) events_.shrink_to_fit();
  if (links_.capacity() > 32) links_.shrink_to_fit();
  inline_used_ = 0;
  chunk_ = nullptr;
  chunk_left_ = 0;
  heap_bytes_ = 0;
  chunks_.clear();
}

std::string_view SpanData::CopyStringSlow(std::string_view text) {
  const size_t n = text.size();
  if (n == 0) return {};
  if (n <= kInlineBytes - inline_used_) {
    char* dst = inline_bytes_ + inline_used_;
    std::memcpy(dst, text.data(), n);
    inline_used_ += n;
    return {dst, n};
  }
  if (n > chunk_left_) {
    const size_t size = std::max<size_t>(n, 1024);
    chunks_.emplace_back(new char[size]);
    chunk_ = chunks_.back().get();
    chunk_left_ = size;
    heap_bytes_ += size;
  }
  char* dst = chunk_;
  std::memcpy(dst, text.data(), n);
  chunk_ += n;
  chunk_left_ -= n;
  return {dst, n};
}

AttributeValue SpanData::CopyValue(const AttributeValue& value) {
  if (!value.is_string()) return value;
  return AttributeValue(CopyString(value.string_value()));
}

void SpanData::StoreValue(AttributeValue& dst, const AttributeValue& value) {
  // Field by field, each with the width it was written with: the caller just built `value` on
  // its stack, and a wide copy would stall on store-to-load forwarding.
  switch (value.type_) {
    case AttributeType::kBool:
      dst.type_ = AttributeType::kBool;
      dst.b_ = value.b_;
      return;
    case AttributeType::kInt64:
      dst.type_ = AttributeType::kInt64;
      dst.i_ = value.i_;
      return;
    case AttributeType::kDouble:
      dst.type_ = AttributeType::kDouble;
      dst.d_ = value.d_;
      return;
    case AttributeType::kString:
      break;
  }
  const std::string_view copy = CopyString(value.string_value());
  dst.type_ = AttributeType::kString;
  dst.str_.data = copy.data();
  dst.str_.size = static_cast<uint32_t>(copy.size());
}

const AttributeValue* SpanData::FindAttribute(std::string_view key) const {
  for (uint32_t i = 0; i < inline_count_; ++i) {
    if (inline_[i].key == key) return &inline_[i].value;
  }
  for (const Attribute& a : overflow_) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

void SpanData::SetAttributeImpl(std::string_view key, bool copy_key, const AttributeValue& value) {
  if (key.empty()) return;
  for (uint32_t i = 0; i < inline_count_; ++i) {
    if (KeyEquals(inline_[i].key, key)) {
      StoreValue(inline_[i].value, value);
      return;
    }
  }
  for (Attribute& a : overflow_) {
    if (a.key == key) {
      StoreValue(a.value, value);
      return;
    }
  }
  if (attribute_count() >= kMaxAttributes) {
    ++dropped_attributes_;
    return;
  }
  Attribute& slot =
      inline_count_ < kInlineAttributes ? inline_[inline_count_++] : overflow_.emplace_back();
  slot.key = copy_key ? CopyString(key) : key;
  StoreValue(slot.value, value);
}

void SpanData::AddEvent(uint64_t time_ns, std::string_view name, const KeyValueArg* attrs,
                        size_t count) {
  if (events_.size() >= kMaxEvents) {
    ++dropped_events_;
    return;
  }
  SpanEvent& event = events_.emplace_back();
  event.time_ns = time_ns;
  event.name = CopyString(name);
  event.attributes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    event.attributes.push_back({CopyString(attrs[i].key), CopyValue(attrs[i].value)});
  }
}

void SpanData::AddLink(const SpanContext& context, const KeyValueArg* attrs, size_t count) {
  if (!context.IsValid()) return;
  if (links_.size() >= kMaxLinks) {
    ++dropped_links_;
    return;
  }
  SpanLink& link = links_.emplace_back();
  link.context = context;
  link.attributes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    link.attributes.push_back({CopyString(attrs[i].key), CopyValue(attrs[i].value)});
  }
}

void SpanData::SetStatus(StatusCode code, std::string_view message) {
  if (status_ == StatusCode::kOk) return;  // Ok is final.
  if (code == StatusCode::kUnset) return;
  status_ = code;
  status_message_ = code == StatusCode::kError ? CopyString(message) : std::string_view();
}

// ---------------------------------------------------------------------------------------------
// Pool: per-thread caches in front of a global list of "magazines" (linked lists of free spans),
// so a thread that only starts spans and a thread that only releases them (the exporter) trade
// whole magazines under a mutex instead of one span at a time.

class SpanDataPool {
 public:
  static constexpr size_t kMagazine = 64;
  static constexpr size_t kMaxGlobalMagazines = 1024;  // 64 K idle spans at most

  static SpanDataPool& Instance() {
    static SpanDataPool* pool = new SpanDataPool();  // never destroyed: spans may outlive main
    return *pool;
  }

  // Takes one magazine, or returns nullptr.
  SpanData* TakeMagazine(size_t* count) {
    std::lock_guard lock(mu_);
    if (magazines_ == nullptr) return nullptr;
    SpanData* head = magazines_;
    magazines_ = head->next_magazine_;
    *count = head->magazine_size_;
    --magazine_count_;
    return head;
  }

  void GiveMagazine(SpanData* head, size_t count) {
    {
      std::lock_guard lock(mu_);
      if (magazine_count_ < kMaxGlobalMagazines) {
        head->next_magazine_ = magazines_;
        head->magazine_size_ = count;
        magazines_ = head;
        ++magazine_count_;
        return;
      }
    }
    while (head != nullptr) {
      SpanData* next = head->next_free_;
      delete head;
      head = next;
    }
  }

  static SpanData*& Next(SpanData* d) { return d->next_free_; }
  static SpanData* NewSpanData() { return new SpanData(); }
  static void DeleteSpanData(SpanData* d) { delete d; }

 private:
  std::mutex mu_;
  SpanData* magazines_ = nullptr;
  size_t magazine_count_ = 0;
};

namespace {

struct LocalCache {
  SpanData* head = nullptr;
  size_t count = 0;

  ~LocalCache() {
    if (head != nullptr) SpanDataPool::Instance().GiveMagazine(head, count);
  }

  SpanData* Get() {
    if (head == nullptr) {
      size_t n = 0;
      head = SpanDataPool::Instance().TakeMagazine(&n);
      count = n;
      if (head == nullptr) return SpanDataPool::NewSpanData();
    }
    SpanData* d = head;
    head = SpanDataPool::Next(d);
    --count;
    SpanDataPool::Next(d) = nullptr;
    return d;
  }

  void Put(SpanData* d) {
    SpanDataPool::Next(d) = head;
    head = d;
    if (++count >= 2 * SpanDataPool::kMagazine) {
      // Hand the older half to the global list.
      SpanData* keep_tail = head;
      for (size_t i = 1; i < SpanDataPool::kMagazine; ++i)
        keep_tail = SpanDataPool::Next(keep_tail);
      SpanData* give = SpanDataPool::Next(keep_tail);
      SpanDataPool::Next(keep_tail) = nullptr;
      const size_t give_count = count - SpanDataPool::kMagazine;
      count = SpanDataPool::kMagazine;
      SpanDataPool::Instance().GiveMagazine(give, give_count);
    }
  }
};

thread_local LocalCache t_cache;

}  // namespace

SpanDataRef SpanDataRef::Acquire() {
  SpanDataRef ref;
  ref.data_ = t_cache.Get();
  ref.data_->refs_.store(1, std::memory_order_relaxed);
  return ref;
}

void SpanDataRef::Release() {
  SpanData* d = data_;
  if (d == nullptr) return;
  data_ = nullptr;
  // Sole owner (the common case: one processor): no other thread can touch the count, so skip
  // the locked read-modify-write.
  if (d->refs_.load(std::memory_order_acquire) == 1 ||
      d->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    d->Reset();
    t_cache.Put(d);
  }
}

}  // namespace ariadne::sdk
