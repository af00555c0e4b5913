#include "ariadne/sdk/tracer.h"

#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

namespace ariadne::sdk {

namespace {

uint64_t ClockNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

#if defined(__x86_64__)
// Wall time from the invariant TSC: reading it costs a few ns against ~20 ns for the vDSO
// clock_gettime on this machine kind, and a span reads the clock twice. Each thread anchors
// (TSC, CLOCK_REALTIME) and re-anchors every ~100 ms, so clock steps and drift are picked up
// quickly; the tick rate is calibrated once (2 ms) and refined from CLOCK_MONOTONIC at each
// re-anchor. Without an invariant TSC we fall back to clock_gettime.
enum ClockMode : int { kUncalibrated = 0, kTsc = 1, kSyscall = 2 };
std::atomic<int> g_clock_mode{kUncalibrated};
std::atomic<double> g_ns_per_tick{0};

bool HasInvariantTsc() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) || eax < 0x80000007) return false;
  __get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx);
  return (edx & (1u << 8)) != 0;
}

void Calibrate() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!HasInvariantTsc()) {
      g_clock_mode.store(kSyscall, std::memory_order_release);
      return;
    }
    const uint64_t m0 = ClockNs(CLOCK_MONOTONIC);
    const uint64_t c0 = __rdtsc();
    uint64_t m1 = m0;
    while (m1 - m0 < 2000000) m1 = ClockNs(CLOCK_MONOTONIC);
    const uint64_t c1 = __rdtsc();
    if (c1 <= c0) {
      g_clock_mode.store(kSyscall, std::memory_order_release);
      return;
    }
    g_ns_per_tick.store(static_cast<double>(m1 - m0) / static_cast<double>(c1 - c0));
    g_clock_mode.store(kTsc, std::memory_order_release);
  });
}

struct TscAnchor {
  uint64_t tsc = 0;
  uint64_t wall_ns = 0;
  uint64_t mono_ns = 0;
  uint64_t reanchor_ticks = 0;
};
thread_local TscAnchor t_anchor;

[[gnu::noinline]] uint64_t Reanchor(uint64_t tsc) {
  TscAnchor& a = t_anchor;
  const uint64_t mono = ClockNs(CLOCK_MONOTONIC);
  const uint64_t wall = ClockNs(CLOCK_REALTIME);
  if (a.tsc != 0 && tsc > a.tsc && mono - a.mono_ns >= 50000000) {
    g_ns_per_tick.store(static_cast<double>(mono - a.mono_ns) / static_cast<double>(tsc - a.tsc),
                        std::memory_order_relaxed);
  }
  a.tsc = tsc;
  a.wall_ns = wall;
  a.mono_ns = mono;
  a.reanchor_ticks =
      static_cast<uint64_t>(100000000.0 / g_ns_per_tick.load(std::memory_order_relaxed));
  return wall;
}
#endif

}  // namespace

uint64_t NowNs() {
#if defined(__x86_64__)
  const int mode = g_clock_mode.load(std::memory_order_relaxed);
  if (mode == kTsc) {
    const uint64_t tsc = __rdtsc();
    const TscAnchor& a = t_anchor;
    const uint64_t delta = tsc - a.tsc;
    if (a.tsc == 0 || delta >= a.reanchor_ticks) return Reanchor(tsc);
    return a.wall_ns + static_cast<uint64_t>(static_cast<double>(delta) *
                                             g_ns_per_tick.load(std::memory_order_relaxed));
  }
  if (mode == kUncalibrated) {
    Calibrate();
    return NowNs();
  }
#endif
  return ClockNs(CLOCK_REALTIME);
}

// ---------------------------------------------------------------------------------------------
// Ids: SplitMix64 per thread, seeded from the OS once per thread.

namespace {

struct IdRng {
  uint64_t state;
  IdRng() {
    std::random_device rd;
    state = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
            std::hash<std::thread::id>()(std::this_thread::get_id()) ^
            static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

thread_local IdRng t_rng;
thread_local Span* t_current = nullptr;

}  // namespace

SpanId GenerateSpanId() {
  SpanId id;
  uint64_t v;
  do {
    v = t_rng.Next();
  } while (v == 0);
  std::memcpy(id.bytes.data(), &v, 8);
  return id;
}

TraceId GenerateTraceId(IdGeneratorKind kind) {
  TraceId id;
  uint64_t a = t_rng.Next();
  uint64_t b = t_rng.Next();
  std::memcpy(id.bytes.data(), &a, 8);
  std::memcpy(id.bytes.data() + 8, &b, 8);
  if (kind == IdGeneratorKind::kXRay) {
    uint32_t secs = static_cast<uint32_t>(NowNs() / 1000000000ull);
    id.bytes[0] = static_cast<uint8_t>(secs >> 24);
    id.bytes[1] = static_cast<uint8_t>(secs >> 16);
    id.bytes[2] = static_cast<uint8_t>(secs >> 8);
    id.bytes[3] = static_cast<uint8_t>(secs);
  }
  if (!id.IsValid()) id.bytes[15] = 1;
  return id;
}

// ---------------------------------------------------------------------------------------------
// Scope

Scope::Scope(Span* span) : previous_(t_current) { t_current = span; }
Scope::~Scope() { t_current = previous_; }
Span* CurrentSpan() { return t_current; }

// ---------------------------------------------------------------------------------------------
// Span

Span::Span(Span&& other) noexcept
    : data_(std::move(other.data_)),
      tracer_(other.tracer_),
      context_(std::move(other.context_)),
      ended_(other.ended_) {
  other.ended_ = true;
}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    data_ = std::move(other.data_);
    tracer_ = other.tracer_;
    context_ = std::move(other.context_);
    ended_ = other.ended_;
    other.ended_ = true;
  }
  return *this;
}

void Span::AddEvent(std::string_view name, std::initializer_list<KeyValueArg> attributes,
                    uint64_t time_ns) {
  if (!IsRecording()) return;
  data_->AddEvent(time_ns != 0 ? time_ns : NowNs(), name, attributes.begin(), attributes.size());
}

void Span::AddLink(const SpanContext& context, std::initializer_list<KeyValueArg> attributes) {
  if (!IsRecording()) return;
  data_->AddLink(context, attributes.begin(), attributes.size());
}

void Span::RecordException(std::string_view type, std::string_view message) {
  AddEvent("exception", {{"exception.type", type}, {"exception.message", message}});
}

void Span::SetStatus(StatusCode code, std::string_view message) {
  if (IsRecording()) data_->SetStatus(code, message);
}

void Span::End(uint64_t end_ns) {
  if (ended_) return;
  ended_ = true;
  if (!data_) return;
  // Clamp: a clock re-anchor between start and end must not make the duration negative.
  data_->SetEnd(std::max(end_ns != 0 ? end_ns : NowNs(), data_->start_ns()));
  context_ = data_->context();  // keep the context readable after End()
  tracer_->EndSpan(std::move(data_));
}

// ---------------------------------------------------------------------------------------------
// Tracer

Tracer::Tracer(TracerProvider* provider, InstrumentationScope scope)
    : provider_(provider), scope_(std::move(scope)) {}

Span Tracer::StartSpanImpl(std::string_view name, bool copy_name,
                           const StartSpanOptions& options) const {
  const SpanContext* parent = options.parent;
  if (parent == nullptr && !options.new_root) {
    if (Span* current = t_current) parent = &current->context();
  }
  const bool parent_has_trace = parent != nullptr && parent->trace_id.IsValid();
  if (!parent_has_trace) parent = nullptr;

  Span span;
  span.tracer_ = this;
  const TraceId trace_id =
      parent != nullptr ? parent->trace_id : GenerateTraceId(provider_->id_generator_);

  SamplingParams params;
  params.parent = parent;
  params.parent_decision_deferred = options.parent_decision_deferred;
  params.trace_id = &trace_id;
  params.name = name;
  params.kind = options.kind;
  params.attributes = options.attributes;
  const SamplingResult result = provider_->sampler_->ShouldSample(params);
  const uint8_t flags = result.sampled() ? kTraceFlagSampled : 0;

  if (!result.recorded() || provider_->shut_down_.load(std::memory_order_relaxed)) {
    span.context_.trace_id = trace_id;
    span.context_.span_id = GenerateSpanId();
    span.context_.trace_flags = flags;
    if (parent != nullptr) span.context_.trace_state = parent->trace_state;
    span.ended_ = false;
    return span;
  }

  SpanDataRef data = SpanDataRef::Acquire();
  SpanData& d = *data;
  d.context_.trace_id = trace_id;
  d.context_.span_id = GenerateSpanId();
  d.context_.trace_flags = flags;
  if (parent != nullptr) {
    d.context_.trace_state = parent->trace_state;
    d.parent_span_id_ = parent->span_id;
    d.parent_is_remote_ = parent->is_remote;
  }
  d.kind_ = options.kind;
  d.start_ns_ = options.start_ns != 0 ? options.start_ns : NowNs();
  d.resource_ = &provider_->resource_;
  d.scope_ = &scope_;
  if (copy_name) {
    d.SetName(name);
  } else {
    d.name_ = name;  // a literal: static storage
  }
  for (const KeyValueArg& kv : options.attributes) d.SetAttribute(kv.key, kv.value);
  if (result.rule_name[0] != '\0') {
    d.SetAttribute("aws.xray.sampling_rule_name", std::string_view(result.rule_name));
  }
  for (const SpanContext& link : options.links) d.AddLink(link, nullptr, 0);
  span.data_ = std::move(data);
  return span;
}

void Tracer::EndSpan(SpanDataRef&& data) const {
  auto& processors = provider_->processors_;
  if (provider_->shut_down_.load(std::memory_order_relaxed) || processors.empty()) return;
  const size_t n = processors.size();
  for (size_t i = 0; i + 1 < n; ++i) processors[i]->OnEnd(SpanDataRef(data));
  processors[n - 1]->OnEnd(std::move(data));
}

// ---------------------------------------------------------------------------------------------
// TracerProvider

TracerProvider::TracerProvider(TracerProviderOptions options)
    : resource_(std::move(options.resource)),
      sampler_(std::move(options.sampler)),
      id_generator_(options.id_generator) {
  if (!sampler_) sampler_ = MakeParentBasedSampler(MakeAlwaysOnSampler());
}

TracerProvider::~TracerProvider() { Shutdown(); }

void TracerProvider::AddSpanProcessor(std::unique_ptr<SpanProcessor> processor) {
  processors_.push_back(std::move(processor));
}

Tracer& TracerProvider::GetTracer(std::string_view name, std::string_view version) {
  std::lock_guard lock(tracers_mu_);
  auto key = std::make_pair(std::string(name), std::string(version));
  auto it = tracers_.find(key);
  if (it == tracers_.end()) {
    it = tracers_
             .emplace(key, std::make_unique<Tracer>(
                               this, InstrumentationScope{std::string(name), std::string(version)}))
             .first;
  }
  return *it->second;
}

bool TracerProvider::ForceFlush(std::chrono::milliseconds timeout) {
  bool ok = true;
  for (auto& p : processors_) ok = p->ForceFlush(timeout) && ok;
  return ok;
}

bool TracerProvider::Shutdown(std::chrono::milliseconds timeout) {
  if (shut_down_.exchange(true)) return true;
  bool ok = true;
  for (auto& p : processors_) ok = p->Shutdown(timeout) && ok;
  return ok;
}

}  // namespace ariadne::sdk
