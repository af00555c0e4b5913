// End to end with the real npm `libhoney` client (what Honeycomb's Node Beeline sends with): starts
// `ariadne serve` on free ports with a temp data dir and keys, points libhoney's apiHost at the
// OTLP/HTTP port, sends Beeline-style trace events, a plain event and a pre-sampled event through
// POST /1/batch, and reads them back through the query API field by field, including a COUNT
// corrected by the sample rate. A wrong key must come back as 401 in libhoney's response queue.
// Usage: ARIADNE_BIN=/path/to/build/bin/ariadne node --test honeycomb_libhoney.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Libhoney from 'libhoney';

import { startAriadne, stopAriadne } from './ariadne_server.mjs';

const ariadne = process.argv.slice(2).find((arg) => arg.endsWith('ariadne')) ?? process.env.ARIADNE_BIN;
if (!ariadne) throw new Error('pass the path of build/bin/ariadne as an argument');

function startServer(dataDir) {
  return startAriadne(ariadne, dataDir, { extraArgs: [], waitFor: ['otlp-http', 'http'] });
}

const stopServer = stopAriadne;

function createKey(dataDir, role, env) {
  const args = ['keys', 'create', '--role', role, '--data-dir', dataDir, ...(env ? ['--env', env] : [])];
  return execFileSync(ariadne, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

// A libhoney client whose responses (one per event) are collected.
function makeClient(server, writeKey) {
  const responses = [];
  const hny = new Libhoney({
    apiHost: `http://${server.otlp}`,
    writeKey,
    dataset: 'shop',
    responseCallback: (batch) => responses.push(...batch),
  });
  return { hny, responses };
}

const attr = (span, key) => span.attributes.find((a) => a.key === key);

test('libhoney events land as spans, field by field, with sampling-corrected counts', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ariadne-libhoney-'));
  try {
    const ingestKey = createKey(dataDir, 'ingest', 'hny-prod');
    const readKey = createKey(dataDir, 'read');
    const server = await startServer(dataDir);
    try {
      const api = async (method, target, body) => {
        const response = await fetch(`http://${server.http}${target}`, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${readKey}` },
          body: body && JSON.stringify(body),
        });
        return { status: response.status, body: await response.json() };
      };

      const { hny, responses } = makeClient(server, ingestKey);
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const start = new Date(Date.now() - 30_000);
      // A Beeline-shaped trace: a root span and a child, as the Node Beeline fills them in.
      const root = hny.newEvent();
      root.timestamp = start;
      root.add({
        'trace.trace_id': traceId, 'trace.span_id': '00f067aa0ba902b7', name: 'GET /cart',
        'service_name': 'cart', duration_ms: 20.5, 'request.path': '/cart', 'response.status_code': 200,
        'meta.beeline_version': '4.0.0', cached: false,
      });
      root.send();
      const child = hny.newEvent();
      child.timestamp = new Date(start.getTime() + 2);
      child.add({
        'trace.trace_id': traceId, 'trace.span_id': 'span-db-1', 'trace.parent_id': '00f067aa0ba902b7',
        name: 'db.query', 'service.name': 'cart', duration_ms: 7.25, error: 'deadlock detected',
        'db.rows': 3, 'db.ratio': 0.5, user: { id: 42, plan: 'pro' },
      });
      child.send();
      // A plain structured event, and one kept 1 in 20 by the caller.
      hny.sendNow({ name: 'checkout', amount_cents: 1299 });
      const sampled = hny.newEvent();
      sampled.sampleRate = 20;
      sampled.add({ name: 'checkout', amount_cents: 10 });
      sampled.sendPresampled();
      await hny.flush();

      assert.equal(responses.length, 4, JSON.stringify(responses));
      for (const r of responses) {
        assert.equal(r.status_code, 202, JSON.stringify(r));
        assert.equal(r.error, undefined, JSON.stringify(r));
      }

      const trace = await api('GET', `/api/v1/traces/${traceId}`);
      assert.equal(trace.status, 200, JSON.stringify(trace.body));
      assert.equal(trace.body.span_count, 2);
      assert.deepEqual(trace.body.services, ['cart']);
      const rootSpan = trace.body.spans.find((s) => s.span_id === '00f067aa0ba902b7');
      assert.ok(rootSpan, JSON.stringify(trace.body.spans));
      assert.equal(rootSpan.parent_span_id, '');
      assert.equal(rootSpan.name, 'GET /cart');
      assert.equal(rootSpan.environment, 'hny-prod');
      assert.equal(rootSpan.start_time_unix_nano, (BigInt(start.getTime()) * 1000000n).toString());
      assert.equal(rootSpan.duration_ms, 20.5);
      assert.equal(rootSpan.status.code, 'unset');
      assert.deepEqual(attr(rootSpan, 'request.path'), { key: 'request.path', type: 'string', value: '/cart' });
      assert.deepEqual(attr(rootSpan, 'response.status_code'), { key: 'response.status_code', type: 'int', value: 200 });
      assert.deepEqual(attr(rootSpan, 'cached'), { key: 'cached', type: 'bool', value: false });
      assert.ok(rootSpan.resource.attributes.some((a) => a.key === 'honeycomb.dataset' && a.value === 'shop'));

      const childSpan = trace.body.spans.find((s) => s.span_id !== '00f067aa0ba902b7');
      assert.equal(childSpan.parent_span_id, '00f067aa0ba902b7');
      assert.match(childSpan.span_id, /^[0-9a-f]{16}$/);
      assert.equal(attr(childSpan, 'honeycomb.span_id').value, 'span-db-1');
      assert.equal(childSpan.name, 'db.query');
      assert.equal(childSpan.service_name, 'cart');
      assert.equal(childSpan.duration_ms, 7.25);
      assert.equal(childSpan.status.code, 'error');
      assert.equal(childSpan.status.message, 'deadlock detected');
      assert.deepEqual(attr(childSpan, 'db.rows'), { key: 'db.rows', type: 'int', value: 3 });
      assert.deepEqual(attr(childSpan, 'db.ratio'), { key: 'db.ratio', type: 'double', value: 0.5 });
      assert.deepEqual(attr(childSpan, 'user.id'), { key: 'user.id', type: 'int', value: 42 });
      assert.deepEqual(attr(childSpan, 'user.plan'), { key: 'user.plan', type: 'string', value: 'pro' });

      // Plain events are spans of service "shop" (the dataset); the pre-sampled one counts 20 times.
      const query = await api('POST', '/api/v1/query', {
        environment: 'hny-prod',
        time_range: 3600,
        breakdowns: ['name'],
        calculations: [{ op: 'COUNT' }, { op: 'SUM', column: 'amount_cents' }],
        filters: [{ column: 'meta.event', op: '=', value: true }],
      });
      assert.equal(query.status, 200, JSON.stringify(query.body));
      assert.equal(query.body.data.results.length, 1, JSON.stringify(query.body));
      assert.equal(query.body.data.results[0].data.name, 'checkout');
      assert.equal(query.body.data.results[0].data.COUNT, 21);
      assert.equal(query.body.data.results[0].data['SUM(amount_cents)'], 1299 + 20 * 10);
      assert.equal(query.body.meta.sample_rate_weighted, true);
      const services = await api('GET', '/api/v1/services?environment=hny-prod');
      assert.deepEqual(services.body.services.map((s) => s.name).sort(), ['cart', 'shop']);

      // A wrong key: every event of the batch comes back 401, nothing is stored.
      const wrong = makeClient(server, 'aik_00000000000000000000000000000000');
      wrong.hny.sendNow({ name: 'intruder' });
      await wrong.hny.flush();
      assert.equal(wrong.responses.length, 1);
      assert.equal(wrong.responses[0].status_code, 401, JSON.stringify(wrong.responses[0]));
      const after = await api('POST', '/api/v1/query', {
        time_range: 3600, calculations: [{ op: 'COUNT' }],
        filters: [{ column: 'name', op: '=', value: 'intruder' }],
      });
      assert.equal(after.body.data.results.length === 0 ? 0 : after.body.data.results[0].data.COUNT, 0);

      // /1/auth answers the key's environment, as libhoney-based tools ask.
      const auth = await fetch(`http://${server.otlp}/1/auth`, { headers: { 'x-honeycomb-team': ingestKey } });
      assert.equal(auth.status, 200);
      const info = await auth.json();
      assert.deepEqual(info.environment, { name: 'hny-prod', slug: 'hny-prod' });
      assert.equal(info.api_key_access.events, true);
    } finally {
      const exit = await stopServer(server);
      assert.equal(exit.code, 0, `ariadne serve exit: ${JSON.stringify(exit)} ${server.stderr()}`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
