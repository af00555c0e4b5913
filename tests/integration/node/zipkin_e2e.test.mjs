// End to end with the real Zipkin clients: starts `ariadne serve` on free ports (Zipkin included,
// `--zipkin 0`) with an ingest and a read key, sends traces through `@opentelemetry/exporter-zipkin`
// and through `zipkin` + `zipkin-transport-http` (64- and 128-bit trace ids, a shared server span,
// a remote endpoint, annotations, tags), and reads them back through the query API field by field,
// against what the clients sent (the Zipkin JSON is captured on its way out).
// Usage: node --test zipkin_e2e.test.mjs -- /path/to/build/bin/ariadne
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { TracerProvider, SimpleSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';

import { startAriadne, stopAriadne } from './ariadne_server.mjs';

const require = createRequire(import.meta.url);
const zipkin = require('zipkin');
const { HttpLogger } = require('zipkin-transport-http');

const ariadne = process.argv.slice(2).find((arg) => arg.endsWith('ariadne')) ?? process.env.ARIADNE_BIN;
if (!ariadne) throw new Error('pass the path of build/bin/ariadne as an argument');

function startServer(dataDir) {
  return startAriadne(ariadne, dataDir, { extraArgs: [], waitFor: ['zipkin', 'http'] });
}

const stopServer = stopAriadne;

function createKey(dataDir, role, env) {
  const args = ['keys', 'create', '--role', role, '--data-dir', dataDir];
  if (env) args.push('--env', env);
  return execFileSync(ariadne, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

async function getJson(base, target, readKey) {
  const response = await fetch(`http://${base}${target}`, { headers: { authorization: `Bearer ${readKey}` } });
  return { status: response.status, body: await response.json() };
}

// hrTime → epoch microseconds, rounded as the Zipkin exporter does.
const hrToMicros = ([sec, nanos]) => Math.round(sec * 1e6 + nanos / 1e3);
const attributesOf = (list) => Object.fromEntries(list.map((a) => [a.key, a.value]));

// Runs `body` with a fresh data dir and server; `keys` = {ingest, read}.
async function withServer(body) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ariadne-zipkin-e2e-'));
  try {
    const keys = { ingest: createKey(dataDir, 'ingest', 'zipkin-prod'), read: createKey(dataDir, 'read') };
    const server = await startServer(dataDir);
    try {
      await body(server, keys);
    } finally {
      const exit = await stopServer(server);
      assert.equal(exit.code, 0, `ariadne serve exit: ${JSON.stringify(exit)} ${server.stderr()}`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('@opentelemetry/exporter-zipkin: a trace comes back field for field', async () => {
  await withServer(async (srv, keys) => {
    const exporter = new ZipkinExporter({
      url: `http://${srv.zipkin}/api/v2/spans`,
      headers: { 'x-honeycomb-team': keys.ingest },
    });
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({ 'service.name': 'Cruddur', 'service.version': '2.0.1' })),
      spanProcessors: [new SimpleSpanProcessor({ exporter }), new SimpleSpanProcessor({ exporter: memory })],
    });
    const tracer = provider.getTracer('cruddur.zipkin-e2e');
    const root = tracer.startSpan('GET /api/activities/home', {
      kind: SpanKind.SERVER,
      attributes: { 'http.method': 'GET', 'http.route': '/api/activities/home' },
    });
    const child = tracer.startSpan('db.query', {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system': 'postgresql', 'db.rows': 42, 'db.ratio': 0.75, 'cache.hit': false,
        'db.tables': ['activities', 'users'] },
    }, trace.setSpan(context.active(), root));
    child.addEvent('retry', { attempt: 2 });
    await new Promise((r) => setTimeout(r, 5));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'connection refused' });
    child.end();
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
    await provider.forceFlush();
    const traceId = root.spanContext().traceId;

    const { status, body } = await getJson(srv.http, `/api/v1/traces/${traceId}`, keys.read);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.span_count, 2);
    assert.deepEqual(body.services, ['Cruddur']);
    assert.deepEqual(body.environments, ['zipkin-prod']);
    const sdkSpans = memory.getFinishedSpans();
    assert.equal(sdkSpans.length, 2);
    for (const sdkSpan of sdkSpans) {
      const where = `span ${sdkSpan.name}`;
      const apiSpan = body.spans.find((s) => s.span_id === sdkSpan.spanContext().spanId);
      assert.ok(apiSpan, `${where} missing`);
      assert.equal(apiSpan.trace_id, traceId);
      assert.equal(apiSpan.parent_span_id, sdkSpan.parentSpanContext?.spanId ?? '', `${where}: parent`);
      assert.equal(apiSpan.name, sdkSpan.name);
      assert.equal(apiSpan.kind, sdkSpan.kind === SpanKind.SERVER ? 'server' : 'client');
      // Zipkin carries microseconds.
      const startUs = hrToMicros(sdkSpan.startTime);
      const durationUs = hrToMicros(sdkSpan.duration);
      assert.equal(apiSpan.start_time_unix_nano, String(BigInt(startUs) * 1000n), `${where}: start`);
      assert.equal(apiSpan.end_time_unix_nano, String(BigInt(startUs + durationUs) * 1000n), `${where}: end`);
      assert.equal(apiSpan.status.code, ['unset', 'ok', 'error'][sdkSpan.status.code], `${where}: status`);
      assert.equal(apiSpan.status.message, sdkSpan.status.message ?? '');
      assert.equal(apiSpan.service_name, 'Cruddur');
      // Zipkin tags are strings: every attribute comes back as the exporter's String(value).
      const expected = Object.fromEntries(Object.entries(sdkSpan.attributes).map(([k, v]) => [k, String(v)]));
      assert.deepEqual(attributesOf(apiSpan.attributes), expected, `${where}: attributes`);
      assert.ok(apiSpan.attributes.every((a) => a.type === 'string'));
      // The resource the exporter folded into the tags is the resource again.
      const resource = attributesOf(apiSpan.resource.attributes);
      assert.equal(resource['service.name'], 'Cruddur');
      assert.equal(resource['service.version'], '2.0.1');
      assert.equal(resource['telemetry.sdk.language'], 'nodejs');
      // Events keep name and (microsecond) time; the exporter sends no event attributes.
      assert.deepEqual(apiSpan.events.map((e) => [e.name, e.time_unix_nano]),
        sdkSpan.events.map((e) => [e.name, String(BigInt(hrToMicros(e.time)) * 1000n)]), `${where}: events`);
    }

    // The same trace through the Jaeger-compatible API.
    const jaeger = await getJson(srv.http, `/api/traces/${traceId}`, keys.read);
    assert.equal(jaeger.status, 200);
    assert.equal(jaeger.body.data[0].traceID, traceId);
    assert.equal(jaeger.body.data[0].processes.p1.serviceName, 'Cruddur');
    await provider.shutdown();
  });
});


// A zipkin-js tracer whose spans go to Ariadne; `sent` collects the Zipkin v2 JSON it posted.
function zipkinTracer(server, key, serviceName, sent, traceId128Bit = false) {
  const logger = new HttpLogger({
    endpoint: `http://${server.zipkin}/api/v2/spans`,
    jsonEncoder: zipkin.jsonEncoder.JSON_V2,
    headers: { 'x-honeycomb-team': key },
    httpInterval: 50,
    fetchImplementation: async (url, options) => {
      const response = await fetch(url, { method: options.method, body: options.body, headers: options.headers });
      sent.push({ status: response.status, spans: JSON.parse(options.body) });
      return response;
    },
  });
  const tracer = new zipkin.Tracer({
    ctxImpl: new zipkin.ExplicitContext(),
    recorder: new zipkin.BatchRecorder({ logger }),
    localServiceName: serviceName,
    traceId128Bit,
  });
  return { tracer, logger };
}

async function waitForSpans(sent, count) {
  for (let i = 0; i < 200 && sent.reduce((n, s) => n + s.spans.length, 0) < count; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  return sent.flatMap((s) => { assert.equal(s.status, 202, JSON.stringify(s)); return s.spans; });
}

// frontend calls cart: a CLIENT span, and cart's SERVER span joined to the same id (shared).
async function sendRpc(server, keys, traceId128Bit) {
  const sent = [];
  const frontend = zipkinTracer(server, keys.ingest, 'frontend', sent, traceId128Bit);
  const cart = zipkinTracer(server, keys.ingest, 'cart', sent, traceId128Bit);
  const { Annotation, InetAddress, TraceId, option } = zipkin;
  let id;
  frontend.tracer.scoped(() => {
    id = frontend.tracer.createRootId();
    frontend.tracer.setId(id);
    frontend.tracer.recordServiceName('frontend');
    frontend.tracer.recordRpc('get /cart');
    frontend.tracer.recordBinary('http.path', '/cart');
    frontend.tracer.recordAnnotation(new Annotation.ClientSend());
    frontend.tracer.recordAnnotation(new Annotation.ServerAddr({
      serviceName: 'cart', host: new InetAddress('10.0.0.7'), port: 8080 }));
    frontend.tracer.recordMessage('cache miss');
  });
  cart.tracer.scoped(() => {
    const joined = cart.tracer.join(new TraceId({
      traceId: id.traceId, parentId: id.parentSpanId, spanId: id.spanId, sampled: new option.Some(true) }));
    cart.tracer.setId(joined);
    cart.tracer.recordServiceName('cart');
    cart.tracer.recordRpc('get /cart');
    cart.tracer.recordAnnotation(new Annotation.ServerRecv());
    cart.tracer.recordBinary('error', 'out of stock');
    cart.tracer.recordAnnotation(new Annotation.ServerSend());
  });
  await new Promise((r) => setTimeout(r, 2));
  frontend.tracer.scoped(() => {
    frontend.tracer.setId(id);
    frontend.tracer.recordAnnotation(new Annotation.ClientRecv());
  });
  const spans = await waitForSpans(sent, 2);
  return { id, spans };
}

function checkRpc(body, id, spans, paddedTraceId) {
  assert.equal(body.span_count, 2, JSON.stringify(body));
  assert.deepEqual(body.environments, ['zipkin-prod']);
  const sentClient = spans.find((s) => s.kind === 'CLIENT');
  const sentServer = spans.find((s) => s.kind === 'SERVER');
  assert.ok(sentClient && sentServer, JSON.stringify(spans));
  assert.equal(sentServer.shared, true, 'zipkin-js marks the joined server span shared');
  assert.equal(sentClient.id, sentServer.id, 'client and server share the span id');

  const client = body.spans.find((s) => s.kind === 'client');
  const server = body.spans.find((s) => s.kind === 'server');
  assert.equal(client.trace_id, paddedTraceId);
  assert.equal(client.span_id, sentClient.id);
  assert.equal(client.parent_span_id, '');
  assert.equal(client.name, 'get /cart');
  assert.equal(client.service_name, 'frontend');
  assert.equal(client.start_time_unix_nano, String(BigInt(sentClient.timestamp) * 1000n));
  assert.equal(client.end_time_unix_nano, String(BigInt(sentClient.timestamp + (sentClient.duration ?? 0)) * 1000n));
  const clientAttrs = attributesOf(client.attributes);
  assert.equal(clientAttrs['http.path'], '/cart');
  assert.equal(clientAttrs['peer.service'], 'cart');
  assert.equal(clientAttrs['net.peer.ip'], '10.0.0.7');
  assert.equal(clientAttrs['net.peer.port'], 8080);
  assert.deepEqual(client.events.map((e) => [e.name, e.time_unix_nano]),
    sentClient.annotations.map((a) => [a.value, String(BigInt(a.timestamp) * 1000n)]));
  assert.equal(client.status.code, 'unset');

  // The shared server half: an id of its own, the client's id as its parent.
  assert.notEqual(server.span_id, sentServer.id);
  assert.equal(server.parent_span_id, sentServer.id);
  assert.equal(server.service_name, 'cart');
  assert.equal(server.start_time_unix_nano, String(BigInt(sentServer.timestamp) * 1000n));
  assert.equal(server.status.code, 'error');
  assert.equal(server.status.message, 'out of stock');
  assert.equal(attributesOf(server.attributes)['zipkin.shared'], true);
  assert.equal(id.spanId, sentClient.id);
}

test('zipkin-js with zipkin-transport-http: 64-bit ids, a shared server span, endpoints', async () => {
  await withServer(async (server, keys) => {
    const { id, spans } = await sendRpc(server, keys, false);
    assert.equal(id.traceId.length, 16);
    const padded = `0000000000000000${id.traceId}`;
    const { status, body } = await getJson(server.http, `/api/v1/traces/${padded}`, keys.read);
    assert.equal(status, 200, JSON.stringify(body));
    checkRpc(body, id, spans, padded);

    // Jaeger's view: the 64-bit id as Jaeger prints it, cart a child of frontend.
    const jaeger = await getJson(server.http, `/api/traces/${id.traceId}`, keys.read);
    assert.equal(jaeger.status, 200, JSON.stringify(jaeger.body));
    assert.equal(jaeger.body.data[0].traceID, id.traceId);
    const deps = await getJson(server.http, '/api/dependencies', keys.read);
    assert.ok(deps.body.data.some((l) => l.parent === 'frontend' && l.child === 'cart' && l.callCount === 1),
      JSON.stringify(deps.body));
  });
});

test('zipkin-js with 128-bit trace ids', async () => {
  await withServer(async (server, keys) => {
    const { id, spans } = await sendRpc(server, keys, true);
    assert.equal(id.traceId.length, 32);
    const { status, body } = await getJson(server.http, `/api/v1/traces/${id.traceId}`, keys.read);
    assert.equal(status, 200, JSON.stringify(body));
    checkRpc(body, id, spans, id.traceId);
  });
});

test('a wrong key is refused with 401 and nothing is stored', async () => {
  await withServer(async (server, keys) => {
    const exporter = new ZipkinExporter({
      url: `http://${server.zipkin}/api/v2/spans`, headers: { 'x-honeycomb-team': 'aik_not_a_key' } });
    const result = await new Promise((resolve) => {
      const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'Cruddur' }) });
      const span = provider.getTracer('t').startSpan('refused');
      span.end();
      const traceId = span.spanContext().traceId;
      // The exporter's own API: export() reports the outcome.
      exporter.export([span], (outcome) => resolve({ outcome, traceId }));
    });
    assert.equal(result.outcome.code, 1, 'FAILED');
    assert.match(String(result.outcome.error), /401/);
    const stored = await getJson(server.http, `/api/v1/traces/${result.traceId}`, keys.read);
    assert.equal(stored.status, 404);
    const metrics = await (await fetch(`http://${server.http}/metrics`)).text();
    assert.match(metrics, /ariadne_ingest_requests_total\{receiver="zipkin",code="401"\} 1/);
  });
});
