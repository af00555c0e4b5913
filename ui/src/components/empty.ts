// What a new user sees before any span arrived: exactly how to send data, copyable, with the
// addresses this server really listens on (GET /api/v1/info; the defaults until it answers).
import { getInfo, type Listener } from "../api";
import { copyBlock, h } from "../dom";

export interface Endpoints {
  otlp: string; // base URL of OTLP/HTTP, e.g. http://host:4318
  otlpGrpc: string; // URL of OTLP/gRPC, e.g. http://host:4317
  xrayDaemon: string; // host:port of the X-Ray daemon protocol (UDP)
  xrayApi: string; // URL of the X-Ray API (sampling rules, groups)
}

// A listener bound to every interface is reached by the name the browser used for the UI.
function hostFor(l: Listener, browserHost: string): string {
  const wildcard = l.host === "" || l.host === "0.0.0.0" || l.host === "::" || l.host === "[::]";
  const host = wildcard ? browserHost : l.host;
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

export function endpointsFrom(listeners: Listener[] | null, browserHost: string): Endpoints {
  const find = (name: string) => listeners?.find((l) => l.name === name);
  const otlp = find("otlp-http");
  const grpc = find("otlp-grpc");
  const udp = find("xray-udp");
  const tcp = find("xray-tcp");
  const h = browserHost.includes(":") && !browserHost.startsWith("[") ? `[${browserHost}]` : browserHost;
  return {
    otlp: otlp ? `${otlp.tls ? "https" : "http"}://${hostFor(otlp, browserHost)}:${otlp.port}` : `http://${h}:4318`,
    otlpGrpc: grpc ? `${grpc.tls ? "https" : "http"}://${hostFor(grpc, browserHost)}:${grpc.port}` : `http://${h}:4317`,
    xrayDaemon: udp ? `${hostFor(udp, browserHost)}:${udp.port}` : `${h}:2000`,
    xrayApi: tcp ? `${tcp.tls ? "https" : "http"}://${hostFor(tcp, browserHost)}:${tcp.port}` : `http://${h}:2000`,
  };
}

function helpBody(e: Endpoints, known: boolean): HTMLElement[] {
  const otlp = `export OTEL_EXPORTER_OTLP_ENDPOINT=${e.otlp}
export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
export OTEL_SERVICE_NAME=my-service
# only when keys are configured (ariadne keys create --env NAME):
# export OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=YOUR_KEY
# or over gRPC:
# export OTEL_EXPORTER_OTLP_ENDPOINT=${e.otlpGrpc} OTEL_EXPORTER_OTLP_PROTOCOL=grpc`;
  const xray = `# AWS X-Ray SDKs and the aws CLI
export AWS_XRAY_DAEMON_ADDRESS=${e.xrayDaemon}
aws xray get-sampling-rules --endpoint-url ${e.xrayApi}`;
  const now = Date.now();
  const curl = `curl -s ${e.otlp}/v1/traces -H 'Content-Type: application/json' -d '{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "hello"}}]},
    "scopeSpans": [{"spans": [{
      "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
      "name": "GET /hello", "kind": 2,
      "startTimeUnixNano": "${now}000000", "endTimeUnixNano": "${now + 42}000000"
    }]}]
  }]
}'`;
  const addr = (label: string, value: string, testid: string) =>
    h("li", null, `${label}: `, h("code", { "data-testid": testid }, value), " ", copyButton(value));
  return [
    h(
      "p",
      null,
      "Ariadne receives traces from any OpenTelemetry SDK over OTLP/HTTP or OTLP/gRPC and from AWS X-Ray SDKs through the X-Ray " +
        "daemon protocol (UDP) and the X-Ray API (HTTP). Point your application at it the way you would point it at Honeycomb.",
    ),
    h(
      "ul",
      { class: "endpoints", "data-testid": "endpoints", "data-known": known ? "true" : "false" },
      addr("OTLP/HTTP", e.otlp, "endpoint-otlp"),
      addr("OTLP/gRPC", e.otlpGrpc, "endpoint-otlp-grpc"),
      addr("X-Ray daemon (UDP)", e.xrayDaemon, "endpoint-xray-udp"),
      addr("X-Ray API (TCP)", e.xrayApi, "endpoint-xray-api"),
    ),
    known ? null : h("p", { class: "muted small" }, "These are the default ports; this server did not say which ones it uses."),
    h("h3", null, "OpenTelemetry (any language)"),
    copyBlock(otlp),
    h("h3", null, "AWS X-Ray"),
    copyBlock(xray),
    h("h3", null, "Try it now with one span"),
    copyBlock(curl),
    h("p", { class: "muted" }, "Then reload this page. Spans are stored once the server answers 200."),
  ].filter((x): x is HTMLElement => x !== null);
}

function copyButton(text: string): HTMLElement {
  const b = h("button", { type: "button", class: "copy-inline", title: `Copy ${text}` }, "Copy");
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = "Copied";
    } catch {
      b.textContent = "Select and copy";
    }
    setTimeout(() => (b.textContent = "Copy"), 2000);
  });
  return b;
}

export function sendDataHelp(title = "No traces yet"): HTMLElement {
  const browserHost = location.hostname || "127.0.0.1";
  const body = h("div", { class: "empty-body" });
  body.replaceChildren(...helpBody(endpointsFrom(null, browserHost), false));
  getInfo()
    .then((info) => body.replaceChildren(...helpBody(endpointsFrom(info.listeners ?? [], browserHost), true)))
    .catch(() => {
      /* an older server: the defaults stay */
    });
  return h("section", { class: "empty" }, h("h2", null, title), body);
}
