// The tracing API: TracerProvider (owns the resource, sampler and processors), Tracer (one per
// instrumentation scope), Span (a live operation), and Scope (makes a span the thread's current
// span for the lifetime of a stack frame).
//
// Usage:
//   ariadne::sdk::TracerProvider provider({.resource = Resource::FromEnvironment()});
//   provider.AddSpanProcessor(std::make_unique<BatchSpanProcessor>(
//       std::make_unique<OtlpHttpExporter>(OtlpHttpExporterOptions::FromEnvironment()),
//       BatchSpanProcessorOptions::FromEnvironment()));
//   auto& tracer = provider.GetTracer("cruddur.services.home_activities");
//   {
//     auto span = tracer.StartSpan("home-activities-mock-data");
//     auto scope = span.Activate();        // children started below get `span` as parent
//     span.SetAttribute("app.result_length", 3);
//   }                                      // scope pops, then span ends
//
// Threads: TracerProvider::GetTracer, Tracer::StartSpan and ForceFlush are safe from any thread.
// AddSpanProcessor must happen during setup, before spans start. A Span is used by one thread at a
// time. The current span is thread-local: work handed to another thread must pass the parent
// explicitly (StartSpanOptions::parent).
// Lifetime: the provider must outlive its tracers and every span they start.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/sdk/attribute.h"
#include "ariadne/sdk/context.h"
#include "ariadne/sdk/processor.h"
#include "ariadne/sdk/resource.h"
#include "ariadne/sdk/sampler.h"
#include "ariadne/sdk/span_data.h"

namespace ariadne::sdk {

class Tracer;
class Span;

// Wall-clock time in nanoseconds since the Unix epoch.
uint64_t NowNs();

enum class IdGeneratorKind : uint8_t {
  kRandom,  // 16 random bytes
  kXRay,    // first 4 bytes = epoch seconds (what X-Ray requires), 12 random bytes
};

// Makes a span the calling thread's current span until destroyed (RAII). Scopes must be destroyed
// in reverse order of creation (they are stack frames).
class [[nodiscard]] Scope {
 public:
  explicit Scope(Span* span);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Span* previous_;
};

// The calling thread's current span, or nullptr.
Span* CurrentSpan();

struct StartSpanOptions {
  SpanKind kind = SpanKind::kInternal;
  // Explicit parent (typically extracted from request headers). When null, the thread's current
  // span is the parent unless `new_root`. A parent with a valid trace id but no span id (X-Ray
  // `Root=` without `Parent=`) makes a root span inside that trace.
  const SpanContext* parent = nullptr;
  // The parent's sampling decision is unknown (X-Ray `Sampled=?` or missing): ask the sampler.
  bool parent_decision_deferred = false;
  bool new_root = false;
  uint64_t start_ns = 0;  // 0 = now
  // Recorded on the span and shown to the sampler.
  std::span<const KeyValueArg> attributes = {};
  std::span<const SpanContext> links = {};
};

// A live span. Move-only; ends itself when destroyed if End() was not called. A span that was not
// sampled is "non-recording": every setter is a cheap no-op but its context still propagates.
class Span {
 public:
  Span() = default;
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { End(); }

  bool IsRecording() const { return data_ && !ended_; }
  const SpanContext& context() const { return data_ ? data_->context() : context_; }

  // Literal keys ("http.method") are referenced, other keys are copied; string values are
  // always copied, so temporaries are fine.
  void SetAttribute(LiteralString key, const AttributeValue& value) {
    if (data_ && !ended_) data_->SetAttributeStaticKey(key.view(), value);
  }
  template <RuntimeString K>
  void SetAttribute(const K& key, const AttributeValue& value) {
    if (data_ && !ended_) data_->SetAttribute(std::string_view(key), value);
  }
  void AddEvent(std::string_view name, std::initializer_list<KeyValueArg> attributes = {},
                uint64_t time_ns = 0);
  void AddLink(const SpanContext& context, std::initializer_list<KeyValueArg> attributes = {});
  // Adds an "exception" event with exception.type and exception.message.
  void RecordException(std::string_view type, std::string_view message);
  // OTel rules: Ok is final; the message is kept only with kError.
  void SetStatus(StatusCode code, std::string_view message = {});
  void UpdateName(std::string_view name) {
    if (data_ && !ended_) data_->SetName(name);
  }
  // Finishes the span and hands it to the processors. Later calls are ignored.
  void End(uint64_t end_ns = 0);

  // Makes this span the thread's current span. REQUIRES: the span outlives the Scope and is not
  // moved while the Scope lives.
  Scope Activate() { return Scope(this); }

  // The recorded data (nullptr when non-recording); valid until End().
  SpanData* data() const { return data_.get(); }

 private:
  friend class Tracer;
  SpanDataRef data_;
  const Tracer* tracer_ = nullptr;
  SpanContext context_;  // only for non-recording spans
  bool ended_ = false;
};

struct TracerProviderOptions {
  Resource resource;
  // Default: parent-based always-on (OTel's default).
  std::unique_ptr<Sampler> sampler;
  IdGeneratorKind id_generator = IdGeneratorKind::kRandom;
};

class TracerProvider {
 public:
  explicit TracerProvider(TracerProviderOptions options);
  ~TracerProvider();
  TracerProvider(const TracerProvider&) = delete;
  TracerProvider& operator=(const TracerProvider&) = delete;

  // Setup only (not thread-safe with running spans).
  void AddSpanProcessor(std::unique_ptr<SpanProcessor> processor);

  // Returns the tracer for (name, version), creating it on first use. The reference stays valid
  // for the provider's lifetime.
  Tracer& GetTracer(std::string_view name, std::string_view version = "");

  bool ForceFlush(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Flushes and stops every processor; spans ended afterwards are dropped.
  bool Shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  const Resource& resource() const { return resource_; }
  Sampler& sampler() const { return *sampler_; }

 private:
  friend class Tracer;
  Resource resource_;
  std::unique_ptr<Sampler> sampler_;
  IdGeneratorKind id_generator_;
  std::vector<std::unique_ptr<SpanProcessor>> processors_;
  std::mutex tracers_mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Tracer>> tracers_;
  std::atomic<bool> shut_down_{false};
};

class Tracer {
 public:
  Tracer(TracerProvider* provider, InstrumentationScope scope);

  // A literal name is referenced; any other name is copied.
  Span StartSpan(LiteralString name, const StartSpanOptions& options = {}) const {
    return StartSpanImpl(name.view(), /*copy_name=*/false, options);
  }
  template <RuntimeString S>
  Span StartSpan(const S& name, const StartSpanOptions& options = {}) const {
    return StartSpanImpl(std::string_view(name), /*copy_name=*/true, options);
  }
  const InstrumentationScope& scope() const { return scope_; }
  TracerProvider& provider() const { return *provider_; }

 private:
  friend class Span;
  Span StartSpanImpl(std::string_view name, bool copy_name, const StartSpanOptions& options) const;
  void EndSpan(SpanDataRef&& data) const;

  TracerProvider* provider_;
  InstrumentationScope scope_;
};

// Random ids from a per-thread generator.
TraceId GenerateTraceId(IdGeneratorKind kind);
SpanId GenerateSpanId();

}  // namespace ariadne::sdk
