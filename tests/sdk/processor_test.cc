#include "ariadne/sdk/processor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ariadne/sdk/tracer.h"

namespace ariadne::sdk {
namespace {

class CountingExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<const SpanDataRef> spans) override {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    batches.fetch_add(1);
    spans_seen.fetch_add(spans.size());
    return ExportResult::kSuccess;
  }
  std::atomic<size_t> batches{0};
  std::atomic<size_t> spans_seen{0};
  std::chrono::milliseconds delay{0};
};

TEST(BatchSpanProcessorTest, DropsAndCountsWhenTheQueueIsFullWithoutBlocking) {
  auto exporter = std::make_unique<CountingExporter>();
  CountingExporter* e = exporter.get();
  e->delay = std::chrono::milliseconds(50);  // a slow backend
  BatchSpanProcessorOptions o;
  o.max_queue_size = 4;
  o.max_export_batch_size = 4;
  o.schedule_delay = std::chrono::hours(1);  // nothing exports until we flush
  auto processor = std::make_unique<BatchSpanProcessor>(std::move(exporter), o);
  BatchSpanProcessor* bsp = processor.get();
  TracerProvider provider({});
  provider.AddSpanProcessor(std::move(processor));
  Tracer& tracer = provider.GetTracer("t");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) tracer.StartSpan("s").End();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));  // never waited on the exporter
  ASSERT_TRUE(provider.ForceFlush(std::chrono::seconds(5)));
  EXPECT_EQ(e->spans_seen.load() + bsp->dropped_spans(), 1000u);
  EXPECT_GT(bsp->dropped_spans(), 0u);
  EXPECT_EQ(bsp->exported_spans(), e->spans_seen.load());
}

TEST(BatchSpanProcessorTest, ExactDropCountWhenTheWorkerNeverWakes) {
  auto exporter = std::make_unique<CountingExporter>();
  CountingExporter* e = exporter.get();
  BatchSpanProcessorOptions o;
  o.max_queue_size = 8;
  o.max_export_batch_size = 512;  // larger than the queue: size never triggers an export
  o.schedule_delay = std::chrono::hours(1);
  auto processor = std::make_unique<BatchSpanProcessor>(std::move(exporter), o);
  BatchSpanProcessor* bsp = processor.get();
  TracerProvider provider({});
  provider.AddSpanProcessor(std::move(processor));
  Tracer& tracer = provider.GetTracer("t");
  for (int i = 0; i < 20; ++i) tracer.StartSpan("s").End();
  EXPECT_EQ(bsp->dropped_spans(), 12u);
  EXPECT_EQ(e->spans_seen.load(), 0u);
  ASSERT_TRUE(provider.ForceFlush(std::chrono::seconds(5)));
  EXPECT_EQ(e->spans_seen.load(), 8u);
  // The queue has room again.
  for (int i = 0; i < 3; ++i) tracer.StartSpan("s").End();
  ASSERT_TRUE(provider.ForceFlush(std::chrono::seconds(5)));
  EXPECT_EQ(e->spans_seen.load(), 11u);
  EXPECT_EQ(bsp->dropped_spans(), 12u);
}

TEST(BatchSpanProcessorTest, ExportsOnTheScheduleAndOnlySampledSpans) {
  auto exporter = std::make_unique<CountingExporter>();
  CountingExporter* e = exporter.get();
  BatchSpanProcessorOptions o;
  o.schedule_delay = std::chrono::milliseconds(20);
  TracerProviderOptions po;
  po.sampler = MakeTraceIdRatioSampler(0.5);
  TracerProvider provider(std::move(po));
  provider.AddSpanProcessor(std::make_unique<BatchSpanProcessor>(std::move(exporter), o));
  Tracer& tracer = provider.GetTracer("t");
  size_t sampled = 0;
  for (int i = 0; i < 200; ++i) {
    Span s = tracer.StartSpan("s");
    sampled += s.context().IsSampled();
  }
  for (int i = 0; i < 200 && e->spans_seen.load() < sampled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(e->spans_seen.load(), sampled);
  EXPECT_GT(sampled, 0u);
  EXPECT_LT(sampled, 200u);
}

TEST(BatchSpanProcessorTest, ManyThreadsEndingSpansLoseNothingWhenTheQueueIsLarge) {
  auto exporter = std::make_unique<CountingExporter>();
  CountingExporter* e = exporter.get();
  BatchSpanProcessorOptions o;
  o.max_queue_size = 1 << 16;
  o.max_export_batch_size = 256;
  auto processor = std::make_unique<BatchSpanProcessor>(std::move(exporter), o);
  BatchSpanProcessor* bsp = processor.get();
  TracerProvider provider({});
  provider.AddSpanProcessor(std::move(processor));
  Tracer& tracer = provider.GetTracer("t");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        Span s = tracer.StartSpan("s");
        s.SetAttribute("i", i);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(provider.ForceFlush(std::chrono::seconds(10)));
  EXPECT_EQ(e->spans_seen.load() + bsp->dropped_spans(), 20000u);
  EXPECT_EQ(bsp->dropped_spans(), 0u);
}

TEST(SimpleSpanProcessorTest, ExportsEachSpanAsItEnds) {
  auto exporter = std::make_unique<CountingExporter>();
  CountingExporter* e = exporter.get();
  TracerProvider provider({});
  provider.AddSpanProcessor(std::make_unique<SimpleSpanProcessor>(std::move(exporter)));
  provider.GetTracer("t").StartSpan("a").End();
  EXPECT_EQ(e->spans_seen.load(), 1u);
  provider.Shutdown();
  provider.GetTracer("t").StartSpan("after-shutdown").End();
  EXPECT_EQ(e->spans_seen.load(), 1u);
}

}  // namespace
}  // namespace ariadne::sdk
