// Sends one span through each of the real OpenTelemetry JS exporters (protobuf and JSON over
// OTLP/HTTP) to OTEL_EXPORTER_OTLP_ENDPOINT, which tests/integration/tls/test_tls_clients.py sets
// to an https:// URL of `ariadne serve --tls-cert ...`; trust comes from NODE_EXTRA_CA_CERTS, as an
// application would configure it. Prints one JSON line: {"proto": {"traceId", "error"}, "json": ...}
// (error is null when the export succeeded).
import { TracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { defaultResource, detectResources, envDetector } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';

async function send(kind) {
  const exporter = kind === 'proto' ? new ProtoExporter() : new JsonExporter();
  const provider = new TracerProvider({
    resource: defaultResource().merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const span = provider.getTracer('ariadne.tls').startSpan(`tls export ${kind}`);
  span.end();
  let error = null;
  try {
    await provider.forceFlush();
  } catch (e) {
    error = String(e && (e.message || e));
  }
  await provider.shutdown().catch(() => {});
  return { traceId: span.spanContext().traceId, error };
}

const result = { proto: await send('proto'), json: await send('json') };
console.log(JSON.stringify(result));
