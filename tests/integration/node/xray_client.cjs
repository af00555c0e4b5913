// The aws-xray-sdk-core (npm) side of tests/integration/xray/test_node_sdk.py.
//
//   node xray_client.cjs segments PORT   send a segment with nested subsegments, annotations and
//                                        metadata over UDP; print {"trace_id": ...}
//   node xray_client.cjs sampling PORT   serve HTTP with the SDK's middleware (centralized sampling
//                                        against :PORT), warm up until the server's reservoir quota
//                                        arrives, then serve 100 requests within one second
//                                        (up to 3 tries on a loaded machine);
//                                        print what the SDK decided
'use strict';
const http = require('http');
const AWSXRay = require('aws-xray-sdk-core');

const [mode, port] = process.argv.slice(2);
AWSXRay.setDaemonAddress(`127.0.0.1:${port}`);
AWSXRay.setContextMissingStrategy('IGNORE_ERROR');
AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function segments() {
  const segment = new AWSXRay.Segment('node-orders');
  segment.addAnnotation('customer', 'c-42');
  segment.addAnnotation('total', 99.5);
  segment.addMetadata('order', { items: 3, express: true }, 'shop');
  const pricing = segment.addNewSubsegment('compute-price');
  pricing.addAnnotation('vip', true);
  pricing.addMetadata('rules', ['bulk', 'loyalty']);
  const tax = pricing.addNewSubsegment('tax-service');
  tax.namespace = 'remote';
  tax.close();
  pricing.close();
  segment.close();
  // The UDP emitter sends asynchronously; give it a moment before exiting.
  setTimeout(() => {
    console.log(JSON.stringify({ trace_id: segment.trace_id, segment_id: segment.id }));
    process.exit(0);
  }, 300);
}

async function sampling() {
  AWSXRay.middleware.setDefaultName('backend-flask');
  const ruleCache = require('aws-xray-sdk-core/dist/lib/middleware/sampling/rule_cache');
  let burstTotal = 0;
  let burstSampled = 0;
  let burstPrefix = '/burst/0/';
  const server = http.createServer((req, res) => {
    const segment = AWSXRay.middleware.traceRequestResponseCycle(req, res);
    if (req.url.startsWith(burstPrefix)) {
      burstTotal++;
      if (!segment.notTraced) burstSampled++;
    }
    res.end('ok');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
  const get = (path) =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: server.address().port, path, agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  const cruddur = () => ruleCache.getRules().find((r) => r.getName() === 'Cruddur');

  // Warm up: one request every half second until the target poller (every 10 s) has reported
  // and loaded the server's quota for the Cruddur rule.
  const deadline = Date.now() + 60000;
  let quotaLoaded = false;
  while (Date.now() < deadline) {
    await get('/warmup');
    const rule = cruddur();
    const reservoir = rule && rule.getReservoir();
    if (reservoir && reservoir.quota === 5 && reservoir.TTL >= Date.now() / 1000) {
      quotaLoaded = true;
      break;
    }
    await sleep(500);
  }
  const reservoir = cruddur() ? cruddur().getReservoir() : {};
  // Open the connections first, then start the burst just after a second boundary. On a loaded
  // machine a burst may spill into the next second (a fresh reservoir); then try again, with a
  // new path prefix so each attempt's requests are told apart.
  let started = 0;
  let elapsedMs = 0;
  let attempts = 0;
  for (let attempt = 1; attempt <= 3; attempt++) {
    attempts = attempt;
    burstPrefix = `/burst/${attempt}/`;
    burstTotal = 0;
    burstSampled = 0;
    await Promise.all(Array.from({ length: 100 }, () => get('/warmup-connections')));
    await sleep(1000 - (Date.now() % 1000) + 20);
    started = Date.now();
    await Promise.all(Array.from({ length: 100 }, (_, i) => get(`${burstPrefix}${i}`)));
    elapsedMs = Date.now() - started;
    if (Math.floor(started / 1000) === Math.floor((started + elapsedMs) / 1000)) break;
    await sleep(1500);
  }
  const result = {
    quota_loaded: quotaLoaded,
    quota: reservoir.quota,
    ttl: reservoir.TTL,
    rate: cruddur() ? cruddur().getRate() : null,
    burst_total: burstTotal,
    burst_sampled: burstSampled,
    elapsed_ms: elapsedMs,
    attempts,
    burst_prefix: burstPrefix,
    same_second: Math.floor(started / 1000) === Math.floor((started + elapsedMs) / 1000),
  };
  console.log(JSON.stringify(result));
  // Stay up until the next statistics report has gone out.
  await sleep(12000);
  server.close();
  agent.destroy();
  process.exit(0);
}

if (mode === 'segments') segments();
else if (mode === 'sampling') sampling();
else {
  console.error('usage: node xray_client.cjs segments|sampling PORT');
  process.exit(2);
}
