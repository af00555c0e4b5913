// End to end over OTLP/gRPC with the real OpenTelemetry JS exporter
// (@opentelemetry/exporter-trace-otlp-grpc, on @grpc/grpc-js): starts `ariadne serve` on free ports,
// configures the exporter the way SDK users do (OTEL_EXPORTER_OTLP_ENDPOINT=http://host:port,
// OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY), sends a trace plain and gzip-compressed and
// reads it back through the query API field by field; a bad key is refused with UNAUTHENTICATED and
// stores nothing; with --tls-cert the exporter reaches the listener at https:// trusting the
// certificate through OTEL_EXPORTER_OTLP_CERTIFICATE.
// Usage: node --test otel_grpc_e2e.test.mjs -- /path/to/build/bin/ariadne
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { TracerProvider, SimpleSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { defaultResource, detectResources, envDetector } from '@opentelemetry/resources';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';

import { startAriadne, stopAriadne } from './ariadne_server.mjs';

const ariadne = process.argv.slice(2).find((arg) => arg.endsWith('ariadne')) ?? process.env.ARIADNE_BIN;
if (!ariadne) throw new Error('pass the path of build/bin/ariadne as an argument');

const GRPC_UNAUTHENTICATED = 16;

function startServer(dataDir, extraArgs = []) {
  return startAriadne(ariadne, dataDir, { extraArgs: extraArgs, waitFor: ['otlp-grpc', 'http'] });
}

const stopServer = stopAriadne;

const hrToNanos = ([sec, nanos]) => (BigInt(sec) * 1000000000n + BigInt(nanos)).toString();
const keysCreate = (dataDir, ...args) => execFileSync(ariadne, ['keys', 'create', ...args, '--data-dir', dataDir],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

// The SDK as an application builds it: endpoint, headers and certificate from the environment.
function makeProvider(exporterOptions = {}) {
  const exporter = new GrpcExporter(exporterOptions);
  const memory = new InMemorySpanExporter();
  const resource = defaultResource().merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor({ exporter }), new SimpleSpanProcessor({ exporter: memory })],
  });
  return { provider, memory, resource };
}

async function sendTrace(provider, label) {
  const tracer = provider.getTracer('cruddur.grpc', '2.0.0');
  const root = tracer.startSpan(`POST /api/messages ${label}`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'POST', 'http.status_code': 201 },
  });
  const child = tracer.startSpan('publish', {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'sqs', 'batch.ratio': 0.5, 'retry': true, 'tags': ['a', 'b'] },
  }, trace.setSpan(context.active(), root));
  child.addEvent('enqueued', { depth: 3 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'queue full' });
  child.end();
  root.end();
  let exportError = null;
  try {
    await provider.forceFlush();
  } catch (error) {
    exportError = error;
  }
  return { traceId: root.spanContext().traceId, exportError };
}

function expectedValue(value) {
  if (typeof value === 'string') return { type: 'string', value };
  if (typeof value === 'boolean') return { type: 'bool', value };
  if (typeof value === 'number') return Number.isInteger(value) ? { type: 'int', value } : { type: 'double', value };
  if (Array.isArray(value)) return { type: 'array', value };
  throw new Error(`unexpected attribute value ${value}`);
}

function assertAttributes(actual, expected, where) {
  const byKey = new Map(actual.map((a) => [a.key, a]));
  for (const [key, value] of Object.entries(expected)) {
    const got = byKey.get(key);
    assert.ok(got, `${where}: attribute ${key} missing in ${JSON.stringify(actual)}`);
    assert.deepEqual({ type: got.type, value: got.value }, expectedValue(value), `${where}: ${key}`);
  }
  assert.equal(actual.length, Object.keys(expected).length, `${where}: attribute count`);
}

function checkSpan(apiSpan, sdkSpan, resource, environment) {
  const where = `span ${sdkSpan.name}`;
  assert.equal(apiSpan.trace_id, sdkSpan.spanContext().traceId, `${where}: trace_id`);
  assert.equal(apiSpan.span_id, sdkSpan.spanContext().spanId, `${where}: span_id`);
  assert.equal(apiSpan.parent_span_id, sdkSpan.parentSpanContext?.spanId ?? '', `${where}: parent`);
  assert.equal(apiSpan.name, sdkSpan.name);
  assert.equal(apiSpan.kind_code, sdkSpan.kind + 1, `${where}: kind_code`);
  assert.equal(apiSpan.start_time_unix_nano, hrToNanos(sdkSpan.startTime), `${where}: start`);
  assert.equal(apiSpan.end_time_unix_nano, hrToNanos(sdkSpan.endTime), `${where}: end`);
  assert.equal(apiSpan.status.code, ['unset', 'ok', 'error'][sdkSpan.status.code]);
  assert.equal(apiSpan.status.message, sdkSpan.status.message ?? '');
  assert.equal(apiSpan.service_name, 'Cruddur-grpc');
  assert.equal(apiSpan.environment, environment);
  assertAttributes(apiSpan.resource.attributes, resource.attributes, `${where} resource`);
  assert.equal(apiSpan.scope.name, 'cruddur.grpc');
  assert.equal(apiSpan.scope.version, '2.0.0');
  assertAttributes(apiSpan.attributes, sdkSpan.attributes, where);
  assert.equal(apiSpan.events.length, sdkSpan.events.length, `${where}: events`);
  sdkSpan.events.forEach((event, i) => {
    assert.equal(apiSpan.events[i].name, event.name);
    assert.equal(apiSpan.events[i].time_unix_nano, hrToNanos(event.time), `${where}: event time`);
    assertAttributes(apiSpan.events[i].attributes, event.attributes ?? {}, `${where} event`);
  });
}

async function getTrace(server, traceId, readKey) {
  const response = await fetch(`http://${server.http}/api/v1/traces/${traceId}`,
    { headers: { authorization: `Bearer ${readKey}` } });
  return { status: response.status, body: await response.json() };
}

function setExporterEnv(endpoint, key) {
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'grpc';
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  process.env.OTEL_EXPORTER_OTLP_HEADERS = `x-honeycomb-team=${key}`;
  process.env.OTEL_SERVICE_NAME = 'Cruddur-grpc';
}

test('the OTLP/gRPC exporter sends plain and gzip, spans come back field for field; a bad key is UNAUTHENTICATED', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ariadne-grpc-e2e-'));
  try {
    const key = keysCreate(dataDir, '--env', 'grpc-prod');
    const readKey = keysCreate(dataDir, '--role', 'read');
    const server = await startServer(dataDir);
    try {
      setExporterEnv(`http://${server.grpc}`, key);
      for (const compression of ['none', 'gzip']) {
        const { provider, memory, resource } = makeProvider({ compression });
        const { traceId, exportError } = await sendTrace(provider, compression);
        assert.equal(exportError, null, `${compression}: export failed: ${exportError}`);
        const sdkSpans = memory.getFinishedSpans();
        assert.equal(sdkSpans.length, 2);
        const { status, body } = await getTrace(server, traceId, readKey);
        assert.equal(status, 200, `${compression}: GET trace: ${JSON.stringify(body)}`);
        assert.equal(body.span_count, 2);
        for (const sdkSpan of sdkSpans) {
          const apiSpan = body.spans.find((s) => s.span_id === sdkSpan.spanContext().spanId);
          assert.ok(apiSpan, `${compression}: span ${sdkSpan.name} missing`);
          checkSpan(apiSpan, sdkSpan, resource, 'grpc-prod');
        }
        await provider.shutdown();
      }

      // A wrong key, plain and gzip: UNAUTHENTICATED, nothing stored.
      for (const compression of ['none', 'gzip']) {
        process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-honeycomb-team=not-a-key';
        const wrong = makeProvider({ compression });
        const { traceId, exportError } = await sendTrace(wrong.provider, `wrong-key ${compression}`);
        await wrong.provider.shutdown().catch(() => {});
        const errors = Array.isArray(exportError) ? exportError : [exportError];
        const refused = errors.find((e) => e && e.code === GRPC_UNAUTHENTICATED);
        assert.ok(refused, `expected UNAUTHENTICATED, got ${exportError}`);
        assert.match(String(refused.details ?? refused.message), /unknown API key/);
        assert.equal((await getTrace(server, traceId, readKey)).status, 404);
      }

      const metrics = await (await fetch(`http://${server.http}/metrics`,
        { headers: { authorization: `Bearer ${readKey}` } })).text();
      assert.match(metrics, /ariadne_ingest_requests_total\{receiver="otlp_grpc",code="200"\} [1-9]/);
      assert.match(metrics, /ariadne_ingest_requests_total\{receiver="otlp_grpc",code="401"\} [1-9]/);
    } finally {
      const exit = await stopServer(server);
      assert.equal(exit.code, 0, `ariadne serve exit: ${JSON.stringify(exit)} ${server.stderr()}`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('with --tls-cert the exporter reaches the gRPC listener at https:// and trusts it through OTEL_EXPORTER_OTLP_CERTIFICATE', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'ariadne-grpc-tls-'));
  const dataDir = path.join(work, 'data');
  const cert = path.join(work, 'server.crt');
  const keyFile = path.join(work, 'server.key');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', keyFile, '-out', cert], { stdio: 'ignore' });
    mkdirSync(dataDir);
    const key = keysCreate(dataDir, '--env', 'grpc-tls');
    const readKey = keysCreate(dataDir, '--role', 'read');
    const server = await startServer(dataDir, ['--tls-cert', cert, '--tls-key', keyFile,
      '--tls-listeners', 'otlp-grpc']);
    try {
      assert.match(server.grpc, /^https:\/\/127\.0\.0\.1:\d+$/);
      const port = server.grpc.split(':').pop();
      setExporterEnv(`https://localhost:${port}`, key);
      process.env.OTEL_EXPORTER_OTLP_CERTIFICATE = cert;
      const { provider, memory, resource } = makeProvider({ compression: 'gzip' });
      const { traceId, exportError } = await sendTrace(provider, 'tls');
      assert.equal(exportError, null, `TLS export failed: ${exportError}`);
      await provider.shutdown();
      const { status, body } = await getTrace(server, traceId, readKey);
      assert.equal(status, 200, JSON.stringify(body));
      for (const sdkSpan of memory.getFinishedSpans()) {
        checkSpan(body.spans.find((s) => s.span_id === sdkSpan.spanContext().spanId), sdkSpan, resource, 'grpc-tls');
      }
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_CERTIFICATE;
      const exit = await stopServer(server);
      assert.equal(exit.code, 0, `ariadne serve exit: ${JSON.stringify(exit)} ${server.stderr()}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
