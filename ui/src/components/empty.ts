// What a new user sees before any span arrived: exactly how to send data, copyable.
import { copyBlock, h } from "../dom";

export function sendDataHelp(title = "No traces yet"): HTMLElement {
  const host = location.hostname || "127.0.0.1";
  const otlp = `export OTEL_EXPORTER_OTLP_ENDPOINT=http://${host}:4318
export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
export OTEL_SERVICE_NAME=my-service
# only when keys are configured (ariadne keys create --env NAME):
# export OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=YOUR_KEY`;
  const xray = `# AWS X-Ray SDKs and the aws CLI
export AWS_XRAY_DAEMON_ADDRESS=${host}:2000
aws xray get-sampling-rules --endpoint-url http://${host}:2000`;
  const now = Date.now();
  const curl = `curl -s http://${host}:4318/v1/traces -H 'Content-Type: application/json' -d '{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "hello"}}]},
    "scopeSpans": [{"spans": [{
      "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
      "name": "GET /hello", "kind": 2,
      "startTimeUnixNano": "${now}000000", "endTimeUnixNano": "${now + 42}000000"
    }]}]
  }]
}'`;
  return h(
    "section",
    { class: "empty" },
    h("h2", null, title),
    h(
      "p",
      null,
      "Ariadne receives traces from any OpenTelemetry SDK over OTLP/HTTP (port 4318) and from AWS X-Ray SDKs " +
        "through the X-Ray daemon port (UDP and HTTP 2000). Point your application at it the way you would point it at Honeycomb:",
    ),
    h("h3", null, "OpenTelemetry (any language)"),
    copyBlock(otlp),
    h("h3", null, "AWS X-Ray"),
    copyBlock(xray),
    h("h3", null, "Try it now with one span"),
    copyBlock(curl),
    h("p", { class: "muted" }, "Then reload this page. Spans are stored once the server answers 200."),
  );
}
