// End to end with the real OpenTelemetry JS SDK: starts `ariadne serve` on free ports with a temp
// data dir, configures the SDK exactly like the seed app (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY, OTEL_SERVICE_NAME=Cruddur), sends a trace
// through the protobuf and the JSON exporter, and reads it back through the query API, field by
// field. Usage: node --test otel_e2e.test.mjs -- /path/to/build/bin/ariadne
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { TracerProvider, SimpleSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { defaultResource, detectResources, envDetector } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';

import { startAriadne, stopAriadne } from './ariadne_server.mjs';

const ariadne = process.argv.slice(2).find((arg) => arg.endsWith('ariadne')) ?? process.env.ARIADNE_BIN;
if (!ariadne) throw new Error('pass the path of build/bin/ariadne as an argument');

function startServer(dataDir, extraArgs = []) {
  return startAriadne(ariadne, dataDir, { extraArgs: extraArgs, waitFor: ['otlp-http', 'http'] });
}

const stopServer = stopAriadne;

const hrToNanos = ([sec, nanos]) => (BigInt(sec) * 1000000000n + BigInt(nanos)).toString();

function expectedValue(value) {
  if (typeof value === 'string') return { type: 'string', value };
  if (typeof value === 'boolean') return { type: 'bool', value };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { type: 'int', value } : { type: 'double', value };
  }
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

// Builds the SDK like the seed app does: service name and exporter settings from the environment.
function makeProvider(kind) {
  const exporter = kind === 'proto' ? new ProtoExporter() : new JsonExporter();
  const memory = new InMemorySpanExporter();
  const resource = defaultResource().merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor({ exporter }), new SimpleSpanProcessor({ exporter: memory })],
  });
  return { provider, memory, exporter, resource };
}

async function sendTrace(provider, label) {
  const tracer = provider.getTracer('cruddur.e2e', '1.2.3');
  const server = tracer.startSpan(`GET /api/activities/home ${label}`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'GET', 'http.route': '/api/activities/home' },
  });
  const ctx = trace.setSpan(context.active(), server);
  const child = tracer.startSpan('db.query', {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system': 'postgresql',
      'db.rows': 42,
      'db.ratio': 0.75,
      'cache.hit': false,
      'db.tables': ['activities', 'users'],
    },
  }, ctx);
  child.addEvent('retry', { attempt: 2, reason: 'timeout' });
  await new Promise((r) => setTimeout(r, 5));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'connection refused' });
  child.end();
  server.setStatus({ code: SpanStatusCode.OK });
  server.end();
  // SimpleSpanProcessor reports a failed export (e.g. 401) by rejecting forceFlush.
  let exportError = null;
  try {
    await provider.forceFlush();
  } catch (error) {
    exportError = error;
  }
  return { traceId: server.spanContext().traceId, exportError };
}

// Once a server has keys, reading needs a read key (docs/security.md); each test sets this.
let readKey = '';
const readHeaders = () => (readKey ? { authorization: `Bearer ${readKey}` } : {});
function createReadKey(dataDir) {
  readKey = execFileSync(ariadne, ['keys', 'create', '--role', 'read', '--data-dir', dataDir],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

async function getJson(base, target) {
  const response = await fetch(`http://${base}${target}`, { headers: readHeaders() });
  return { status: response.status, body: await response.json() };
}

function checkSpan(apiSpan, sdkSpan, resource, environment) {
  const where = `span ${sdkSpan.name}`;
  assert.equal(apiSpan.trace_id, sdkSpan.spanContext().traceId, `${where}: trace_id`);
  assert.equal(apiSpan.span_id, sdkSpan.spanContext().spanId, `${where}: span_id`);
  assert.equal(apiSpan.parent_span_id, sdkSpan.parentSpanContext?.spanId ?? '', `${where}: parent`);
  assert.equal(apiSpan.name, sdkSpan.name);
  assert.equal(apiSpan.kind_code, sdkSpan.kind + 1, `${where}: kind_code`);
  assert.equal(apiSpan.kind, ['internal', 'server', 'client', 'producer', 'consumer'][sdkSpan.kind]);
  assert.equal(apiSpan.start_time_unix_nano, hrToNanos(sdkSpan.startTime), `${where}: start`);
  assert.equal(apiSpan.end_time_unix_nano, hrToNanos(sdkSpan.endTime), `${where}: end`);
  const durationMs = Number(BigInt(hrToNanos(sdkSpan.endTime)) - BigInt(hrToNanos(sdkSpan.startTime))) / 1e6;
  assert.ok(Math.abs(apiSpan.duration_ms - durationMs) < 1e-6, `${where}: duration_ms`);
  assert.equal(apiSpan.status.code, ['unset', 'ok', 'error'][sdkSpan.status.code]);
  assert.equal(apiSpan.status.message, sdkSpan.status.message ?? '');
  assert.equal(apiSpan.flags & 0xff, sdkSpan.spanContext().traceFlags, `${where}: flags`);
  assert.equal(apiSpan.service_name, 'Cruddur');
  assert.equal(apiSpan.environment, environment);
  assertAttributes(apiSpan.resource.attributes, resource.attributes, `${where} resource`);
  assert.equal(apiSpan.scope.name, 'cruddur.e2e');
  assert.equal(apiSpan.scope.version, '1.2.3');
  assertAttributes(apiSpan.attributes, sdkSpan.attributes, where);
  assert.equal(apiSpan.events.length, sdkSpan.events.length, `${where}: events`);
  sdkSpan.events.forEach((event, i) => {
    assert.equal(apiSpan.events[i].name, event.name);
    assert.equal(apiSpan.events[i].time_unix_nano, hrToNanos(event.time), `${where}: event time`);
    assertAttributes(apiSpan.events[i].attributes, event.attributes ?? {}, `${where} event`);
  });
  assert.deepEqual(apiSpan.links, []);
  assert.equal(apiSpan.dropped_attributes_count, 0);
}

test('a Node OTel SDK trace goes in through both exporters and comes back field for field', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ariadne-e2e-'));
  try {
    const key = execFileSync(ariadne, ['keys', 'create', '--env', 'cruddur-prod', '--data-dir', dataDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    assert.match(key, /^aik_[0-9a-f]{32}$/);
    createReadKey(dataDir);
    const server = await startServer(dataDir);
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://${server.otlp}`;
      process.env.OTEL_EXPORTER_OTLP_HEADERS = `x-honeycomb-team=${key}`;
      process.env.OTEL_SERVICE_NAME = 'Cruddur';
      let jsonTraceId = '';
      for (const kind of ['proto', 'json']) {
        const { provider, memory, resource } = makeProvider(kind);
        const { traceId, exportError } = await sendTrace(provider, kind);
        assert.equal(exportError, null, `${kind} exporter failed: ${exportError}`);
        if (kind === 'json') jsonTraceId = traceId;
        const sdkSpans = memory.getFinishedSpans();
        assert.equal(sdkSpans.length, 2);
        const { status, body } = await getJson(server.http, `/api/v1/traces/${traceId}`);
        assert.equal(status, 200, `${kind}: GET trace: ${JSON.stringify(body)}`);
        assert.equal(body.trace_id, traceId);
        assert.equal(body.span_count, 2);
        assert.deepEqual(body.services, ['Cruddur']);
        for (const sdkSpan of sdkSpans) {
          const apiSpan = body.spans.find((s) => s.span_id === sdkSpan.spanContext().spanId);
          assert.ok(apiSpan, `${kind}: span ${sdkSpan.name} missing`);
          checkSpan(apiSpan, sdkSpan, resource, 'cruddur-prod');
        }
        assert.equal(resource.attributes['service.name'], 'Cruddur');
        await provider.shutdown();
      }
      const services = await getJson(server.http, '/api/v1/services?environment=cruddur-prod');
      assert.equal(services.status, 200);
      assert.equal(services.body.services.length, 1);
      assert.equal(services.body.services[0].name, 'Cruddur');
      assert.equal(services.body.services[0].span_count, 4);
      assert.equal(services.body.services[0].error_count, 2);

      // The same spans answer aggregate queries, trace search and the service graph.
      const query = await fetch(`http://${server.http}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...readHeaders() },
        body: JSON.stringify({
          environment: 'cruddur-prod',
          time_range: 3600,
          breakdowns: ['name'],
          calculations: [{ op: 'COUNT' }, { op: 'MAX', column: 'db.rows' }, { op: 'P50', column: 'duration_ms' }],
          filters: [{ column: 'db.system', op: '=', value: 'postgresql' }],
        }),
      });
      const result = await query.json();
      assert.equal(query.status, 200, JSON.stringify(result));
      assert.equal(result.data.results.length, 1);
      assert.equal(result.data.results[0].data.name, 'db.query');
      assert.equal(result.data.results[0].data.COUNT, 2);
      assert.equal(result.data.results[0].data['MAX(db.rows)'], 42);
      assert.ok(result.data.results[0].data['P50(duration_ms)'] > 1, JSON.stringify(result.data.results[0]));
      assert.equal(result.data.totals.COUNT, 2);
      const search = await getJson(server.http, '/api/v1/traces?service=Cruddur&error=true&environment=cruddur-prod');
      assert.equal(search.status, 200);
      assert.equal(search.body.traces.length, 2);
      assert.ok(search.body.traces.every((t) => t.root_name.startsWith('GET /api/activities/home') && t.error_count === 1));
      const graph = await getJson(server.http, '/api/v1/service-graph?environment=cruddur-prod');
      assert.ok(graph.body.edges.some((e) => e.source === 'Cruddur' && e.target === 'postgresql' && e.request_count === 2),
        JSON.stringify(graph.body));

      // `ariadne trace` prints the tree.
      const listed = execFileSync(ariadne, ['trace', jsonTraceId, '--server', `http://${server.http}`, '--key', readKey],
        { encoding: 'utf8' });
      assert.match(listed, /Cruddur {2}GET \/api\/activities\/home json/);
      assert.match(listed, /└─ Cruddur {2}db\.query .*!! ERROR: connection refused/);
    } finally {
      const exit = await stopServer(server);
      assert.equal(exit.code, 0, `ariadne serve exit: ${JSON.stringify(exit)} ${server.stderr()}`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('with keys configured a missing or unknown key gets 401 and nothing is stored', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ariadne-e2e-keys-'));
  try {
    const key = execFileSync(ariadne, ['keys', 'create', '--env', 'staging', '--data-dir', dataDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    createReadKey(dataDir);
    const server = await startServer(dataDir);
    try {
      const missing = await fetch(`http://${server.otlp}/v1/traces`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
      });
      assert.equal(missing.status, 401);
      assert.match((await missing.json()).message, /missing 'x-honeycomb-team' header/);

      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://${server.otlp}`;
      process.env.OTEL_SERVICE_NAME = 'Cruddur';
      process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-honeycomb-team=not-a-key';
      const wrong = makeProvider('proto');
      const { traceId: wrongTrace, exportError } = await sendTrace(wrong.provider, 'wrong-key');
      await wrong.provider.shutdown().catch(() => {});
      const errors = Array.isArray(exportError) ? exportError : [exportError];
      assert.ok(errors.some((e) => e && e.code === 401), `expected a 401 export error, got ${exportError}`);
      assert.match(String(errors.find((e) => e && e.code === 401).data), /unknown API key/);
      assert.equal((await getJson(server.http, `/api/v1/traces/${wrongTrace}`)).status, 404);

      process.env.OTEL_EXPORTER_OTLP_HEADERS = `x-honeycomb-team=${key}`;
      const right = makeProvider('json');
      const { traceId: rightTrace, exportError: rightError } = await sendTrace(right.provider, 'right-key');
      assert.equal(rightError, null);
      await right.provider.shutdown();
      const stored = await getJson(server.http, `/api/v1/traces/${rightTrace}`);
      assert.equal(stored.status, 200);
      assert.ok(stored.body.spans.every((s) => s.environment === 'staging'));

      const metrics = await (await fetch(`http://${server.http}/metrics`)).text();
      assert.match(metrics, /ariadne_ingest_requests_total\{receiver="otlp_http",code="401"\} [1-9]/);
    } finally {
      const exit = await stopServer(server);
      assert.equal(exit.code, 0);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
