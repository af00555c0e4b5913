// The aws-xray-sdk-core (npm) side of tests/integration/xray/test_sdk_documents.py: builds a
// segment the way a Node service does and lets the SDK send its documents over UDP to PORT (the
// test's own socket, which records them as the SDK sent them):
//   - the ECS plugin's aws.ecs, the SDK's aws.xray and service data, the incoming request's http;
//   - an in-progress version of the segment (segment.flush() while it is open);
//   - a subsegment streamed on its own (streaming threshold 1) with an error cause and stack;
//   - the final segment with a SQL subsegment and a nested remote call.
//
//   node xray_documents.cjs PORT   prints {"trace_id": ..., "segment_id": ...}
'use strict';
const AWSXRay = require('aws-xray-sdk-core');
const IncomingRequestData = require('aws-xray-sdk-core/dist/lib/middleware/incoming_request_data');

const [port] = process.argv.slice(2);
AWSXRay.setDaemonAddress(`127.0.0.1:${port}`);
AWSXRay.setContextMissingStrategy('IGNORE_ERROR');
AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
AWSXRay.setStreamingThreshold(1);
AWSXRay.config([AWSXRay.plugins.ECSPlugin]);

const segment = new AWSXRay.Segment('node-docs');
segment.addIncomingRequestData(
  new IncomingRequestData({
    method: 'POST',
    url: '/api/orders?id=7',
    headers: { host: 'orders.local', 'user-agent': 'node-test/1.0', 'x-forwarded-for': '203.0.113.9' },
    connection: { remoteAddress: '127.0.0.1' },
  }),
);
segment.setUser('bob');
segment.addAnnotation('order', 'o-7');
segment.addAnnotation('amount', 12.5);
segment.addMetadata('cart', { items: [{ sku: 'a', qty: 2 }], coupon: null }, 'shop');
segment.flush(); // the in-progress version

const db = segment.addNewSubsegment('orders@pg');
db.namespace = 'remote';
db.addSqlData({
  url: 'postgresql://pg.local:5432/orders',
  database_type: 'PostgreSQL',
  database_version: '15.4',
  driver_version: 'node-postgres 8.11',
  user: 'app',
  sanitized_query: 'SELECT * FROM orders WHERE id = $1',
  preparation: 'statement',
});
const pay = segment.addNewSubsegment('payments');
pay.namespace = 'remote';
pay.addAnnotation('attempt', 1);
const tax = pay.addNewSubsegment('tax.example.com');
tax.namespace = 'remote';
tax.addErrorFlag();
tax.close(new Error('tax service unavailable'), true);
const cache = segment.addNewSubsegment('cache');
cache.addMetadata('hit', false);
cache.close(); // three open subsegments beyond the threshold: streamed on its own
pay.close();
db.close();
segment.response = undefined;
segment.http.close({ statusCode: 502, getHeader: () => '17', headers: {} });
segment.close();

setTimeout(() => {
  console.log(JSON.stringify({ trace_id: segment.trace_id, segment_id: segment.id }));
  process.exit(0);
}, 300);
