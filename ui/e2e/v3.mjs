// End-to-end test of the web UI v2 items 7–10 and the "Also" list (issue 16) in Debian's Chromium
// against a real `ariadne serve` with real data sent over OTLP/HTTP and the X-Ray daemon protocol:
//   - big traces: find (name, attribute, error), next/previous error, the minimap's drag-to-zoom,
//     the selected span and the zoom in the URL, one colour per service of a trace;
//   - X-Ray groups: their names open their traces and map; Traces and the map take a filter;
//   - a drag on a query chart runs the query over that time range and puts it in the URL;
//   - trace lists newest first (UI and API), sortable columns, a custom time range on Traces;
//   - dark mode and its toggle, labelled Services columns, Ctrl+Enter, focus rings, X-Ray segment
//     sections and the raw document in the span panel.
// With --perf it also times a 10,000-span waterfall (rows and minimap) into perf-v3.json.
//
//   node ui/e2e/v3.mjs --ariadne build/bin/ariadne --ui-dir ui/dist --screenshots build/ui-screenshots [--perf]
//
// Exit codes: 0 passed, 1 failed, 77 skipped (Chromium is not installed).
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import {
  CLIENT, INTERNAL, PERF, SERVER, SHOTS, assert, check, collectConsoleErrors, finish, hex, int, launchBrowser, ms,
  prerequisites, send as sendSpans, startServer, str,
} from "./lib/harness.mjs";

const chromium = await prerequisites();
const server = await startServer();
const BASE = server.base;
const send = (spans) => sendSpans(server.otlp, spans, { scope: "ariadne-e2e-v3", batch: 5000 });
const nowNs = BigInt(Date.now()) * 1000000n;
const nowS = Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------
// Data: 120 shop traces spread over the last 2–12 minutes (a third also call "search"), so the
// lists, sorts, time ranges and groups have something to tell apart.
const shop = [];
const shopTraces = [];
for (let i = 0; i < 120; i++) {
  const traceId = hex(16);
  const start = nowNs - ms(120000 + (i / 120) * 600000 + Math.random() * 1000);
  const total = 5 + ((i * 37) % 100) * 7 + Math.random();
  const fail = i % 9 === 2;
  const root = { service: "frontend", traceId, spanId: hex(8), name: "GET /shop", kind: SERVER, start, dur: total, attrs: [int("http.status_code", fail ? 500 : 200)], error: fail };
  const spans = [root, { service: "cart", traceId, spanId: hex(8), parent: root.spanId, name: "GET /cart", kind: SERVER, start: start + ms(1), dur: total * 0.5 }];
  if (i % 2 === 0) spans.push({ service: "checkout", traceId, spanId: hex(8), parent: root.spanId, name: "POST /checkout", kind: SERVER, start: start + ms(total * 0.6), dur: total * 0.3, error: fail });
  if (i % 3 === 0) spans.push({ service: "search", traceId, spanId: hex(8), parent: root.spanId, name: "GET /search", kind: SERVER, start: start + ms(2), dur: total * 0.2 });
  for (let k = 0; k < i % 4; k++) spans.push({ service: "cart", traceId, spanId: hex(8), parent: root.spanId, name: `cache ${k}`, kind: INTERNAL, start: start + ms(3 + k), dur: 0.5 });
  shop.push(...spans);
  shopTraces.push({ traceId, start, spans: spans.length, errors: spans.filter((s) => s.error).length, services: new Set(spans.map((s) => s.service)) });
}
await send(shop);

// A big trace: 5,000 spans from 20 services (more than the 16-colour palette), 65 of them errors.
const BIG_SERVICES = Array.from({ length: 20 }, (_, i) => `service-${String.fromCharCode(97 + i)}`);
function bigTrace(n, errorEvery = 0) {
  const traceId = hex(16);
  const start = nowNs - ms(30000);
  const spans = [{ service: BIG_SERVICES[0], traceId, spanId: hex(8), name: "POST /batch", kind: SERVER, start, dur: 4000 }];
  for (let i = 1; i < n; i++) {
    // A wide tree of moderate depth: the parent is any earlier span.
    const p = spans[Math.floor((((i * 7919) % 10007) / 10007) * i)];
    const pStart = Number(p.start - start) / 1e6;
    const off = ((i * 31) % 50) / 100 * p.dur;
    const error = errorEvery ? i % errorEvery === 7 && i < 7 + errorEvery * 65 : false;
    spans.push({ service: BIG_SERVICES[i % BIG_SERVICES.length], traceId, spanId: hex(8), parent: p.spanId, name: `op-${i % 50}`, kind: i % 3 ? INTERNAL : CLIENT,
      start: start + ms(pStart + off), dur: Math.max(0.01, (p.dur - off) * (((i * 13) % 70) / 100 + 0.25)), error, attrs: [int("item", i), str("shard", `s${i % 16}`)] });
  }
  return { traceId, spans };
}
const big = bigTrace(5000, 76);
const bigErrors = big.spans.filter((s) => s.error).length;
await send(big.spans);

// X-Ray segments over the daemon's UDP port: a segment with annotations, metadata, http, a fault
// and its cause, and an AWS SDK subsegment (DynamoDB PutItem).
const epoch = nowS - 40;
const xrayTraceId = `1-${epoch.toString(16)}-${hex(12)}`;
const segment = {
  trace_id: xrayTraceId, id: hex(8), name: "orders-api", start_time: epoch, end_time: epoch + 0.4, fault: true,
  http: { request: { method: "POST", url: "https://api.example.com/orders", client_ip: "10.1.2.3", user_agent: "curl/8" }, response: { status: 500 } },
  annotations: { tenant: "acme", priority: 3 },
  metadata: { default: { cart: { items: 2 } } },
  cause: { working_directory: "/srv/orders", exceptions: [{ id: hex(8), type: "OrderError", message: "table orders is missing" }] },
  subsegments: [
    { id: hex(8), name: "DynamoDB", namespace: "aws", start_time: epoch + 0.05, end_time: epoch + 0.3, error: true,
      aws: { operation: "PutItem", table_name: "orders", region: "eu-west-1", request_id: "REQ123" }, http: { response: { status: 400 } } },
  ],
};
{
  const addr = server.listening.xray;
  const host = addr.slice(0, addr.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  const port = Number(addr.slice(addr.lastIndexOf(":") + 1));
  const sock = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise((res, rej) => sock.send(`{"format": "json", "version": 1}\n${JSON.stringify(segment)}`, port, host, (e) => (e ? rej(e) : res())));
  sock.close();
}
console.log(`server ${BASE}; sent ${shop.length + big.spans.length} spans over OTLP and one X-Ray segment`);

// ---------------------------------------------------------------------------------------------
const browser = await launchBrowser(chromium);
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
const page = await context.newPage();
const consoleErrors = collectConsoleErrors(page);
const shot = (name, p = page) => p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
const drawn = (p = page) => p.locator('[data-testid="waterfall"][data-drawn]').waitFor({ timeout: 30000 });
const minimapDrawn = (p = page) => p.locator('[data-testid="minimap"][data-drawn]').waitFor({ timeout: 30000 });
const selectedSpanId = () => page.locator(".wf-row.sel").getAttribute("data-span-id");
const urlParam = (name) => new URL(page.url()).searchParams.get(name);

await check("big trace: find by name, attribute and error; next/previous error; the selected span survives a reload", async () => {
  await page.goto(`${BASE}/traces/${big.traceId}`);
  await drawn();
  assert((await page.locator('[data-testid="span-count"]').innerText()).includes("5,000"), "not 5,000 spans");
  const find = page.locator('[data-testid="find-input"]');
  const count = page.locator('[data-testid="find-count"]');
  // An attribute.
  const shard3 = big.spans.filter((s) => s.attrs?.some((a) => a.key === "shard" && a.value.stringValue === "s3")).length;
  await find.fill("shard=s3");
  await page.waitForFunction((n) => document.querySelector('[data-testid="find-count"]').textContent === `${n} matches`, shard3, { timeout: 5000 });
  await find.press("Enter");
  await page.waitForFunction((n) => document.querySelector('[data-testid="find-count"]').textContent === `1 of ${n}`, shard3, { timeout: 5000 });
  let id = await selectedSpanId();
  const hit = big.spans.find((s) => s.spanId === id);
  assert(hit?.attrs.some((a) => a.key === "shard" && a.value.stringValue === "s3"), `selected ${id} is not a shard=s3 span`);
  assert(urlParam("span") === id, `URL span=${urlParam("span")}, selected ${id}`);
  await find.press("Enter");
  await page.waitForFunction((n) => document.querySelector('[data-testid="find-count"]').textContent === `2 of ${n}`, shard3, { timeout: 5000 });
  await find.press("Shift+Enter");
  await page.waitForFunction((n) => document.querySelector('[data-testid="find-count"]').textContent === `1 of ${n}`, shard3, { timeout: 5000 });
  // A name (substring) and the errors.
  const op42 = big.spans.filter((s) => s.name === "op-42").length;
  await find.fill("op-42");
  await page.waitForFunction((n) => document.querySelector('[data-testid="find-count"]').textContent === `${n} matches`, op42, { timeout: 5000 });
  await find.press("Enter");
  assert((await page.locator(".wf-row.sel.hit .name").innerText()) === "op-42", "Enter did not go to an op-42 span");
  await find.fill("error");
  await page.waitForFunction((n) => document.querySelector('[data-testid="find-count"]').textContent === `${n} matches`, bigErrors, { timeout: 5000 });
  assert(bigErrors === 65, `test data has ${bigErrors} errors`);
  await shot("v3-find-in-trace");
  // Next / previous error.
  await find.fill("");
  await page.locator(".wf-row").first().click();
  const errPos = page.locator('[data-testid="error-position"]');
  await page.locator('[data-testid="error-next"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="error-position"]').textContent === "error 1 of 65", null, { timeout: 5000 });
  assert((await page.locator(".wf-row.sel.err").count()) === 1, "the selected span is not an error");
  await page.locator('[data-testid="error-next"]').click();
  await page.locator('[data-testid="error-next"]').click();
  assert((await errPos.innerText()) === "error 3 of 65", `after three: ${await errPos.innerText()}`);
  await page.locator('[data-testid="error-prev"]').click();
  assert((await errPos.innerText()) === "error 2 of 65", `back one: ${await errPos.innerText()}`);
  id = await selectedSpanId();
  assert(big.spans.find((s) => s.spanId === id)?.error, "error 2 is not an error span");
  await shot("v3-next-error");
  // Reload: the same span is selected, scrolled into view and shown in the panel.
  await page.reload();
  await drawn();
  assert((await selectedSpanId()) === id, `after reload selected ${await selectedSpanId()}, expected ${id}`);
  assert((await page.locator('[data-testid="span-details"]').innerText()).includes(id), "span panel not showing the span after reload");
  assert((await errPos.innerText()) === "error 2 of 65", `after reload: ${await errPos.innerText()}`);
});

await check("big trace: drag on the minimap zooms the time axis; the zoom is in the URL; Reset zoom", async () => {
  await page.goto(`${BASE}/traces/${big.traceId}`);
  await drawn();
  await minimapDrawn();
  const box = await page.locator('[data-testid="minimap"]').boundingBox();
  const total = await page.evaluate(() => {
    const ticks = [...document.querySelectorAll(".wf-axis .tick")];
    return ticks.length;
  });
  assert(total > 2, "no axis ticks");
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => /zoom=/.test(location.search), null, { timeout: 5000 });
  const [a, b] = urlParam("zoom").split("-").map(Number);
  const traceMs = Number(big.spans[0].dur);
  assert(Math.abs(a / traceMs - 0.25) < 0.02 && Math.abs(b / traceMs - 0.5) < 0.02, `zoom ${a}-${b} of ${traceMs} ms`);
  const label = await page.locator('[data-testid="zoom-label"]').innerText();
  assert(label.startsWith("showing "), `zoom label: ${label}`);
  // The axis now starts at the zoomed range: its first tick is at or after a.
  const firstTick = await page.locator(".wf-axis .tick").first().innerText();
  assert(!/^0$/.test(firstTick), `axis still starts at 0: ${firstTick}`);
  assert(await page.locator('[data-testid="minimap-window"]').isVisible(), "zoom window not shown on the minimap");
  await shot("v3-minimap-zoom");
  await page.reload();
  await drawn();
  assert(urlParam("zoom") === `${a}-${b}`, "zoom not kept by a reload");
  assert((await page.locator('[data-testid="zoom-label"]').innerText()).startsWith("showing "), "zoom not applied after reload");
  await page.locator('[data-testid="zoom-reset"]').click();
  assert(urlParam("zoom") === null, "Reset zoom left the zoom in the URL");
  assert((await page.locator(".wf-axis .tick").first().innerText()) === "0", "axis does not start at 0 after Reset");
});

await check("big trace: no two of its 20 services share a colour", async () => {
  await page.goto(`${BASE}/traces/${big.traceId}`);
  await drawn();
  const legend = await page.locator('[data-testid="trace-legend"] .tag').evaluateAll((els) => els.map((e) => [e.dataset.service, e.dataset.color]));
  assert(legend.length === 20, `legend lists ${legend.length} services`);
  const colors = new Set(legend.map(([, c]) => c));
  assert(colors.size === 20, `20 services, ${colors.size} colours: ${JSON.stringify(legend)}`);
  // Rows use the legend's colour for their service.
  const byService = Object.fromEntries(legend);
  const rows = await page.locator(".wf-row").evaluateAll((els) => els.slice(0, 40).map((e) => [e.dataset.service, getComputedStyle(e.querySelector(".svc-bar")).backgroundColor]));
  const norm = await page.evaluate((list) => list.map(([s, c]) => {
    const d = document.createElement("div");
    d.style.color = c;
    document.body.appendChild(d);
    const out = [s, getComputedStyle(d).color];
    d.remove();
    return out;
  }), legend);
  const want = Object.fromEntries(norm);
  for (const [s, c] of rows) assert(want[s] === c, `row of ${s} has ${c}, legend ${byService[s]}`);
});

const perf = {};
await check("a 10,000-span trace: rows and minimap drawn (timed with --perf)", async () => {
  const t = bigTrace(10000, 0);
  await send(t.spans);
  const runs = [];
  for (let r = 0; r < (PERF ? 3 : 1); r++) {
    await page.goto("about:blank");
    await page.goto(`${BASE}/traces/${t.traceId}`);
    await drawn();
    await minimapDrawn();
    const m = await page.evaluate(() => ({ ...window.__ariadneWaterfall, minimapAt: performance.now() }));
    assert(m.spans === 10000, `drew ${m.spans} spans`);
    runs.push(m);
  }
  const rows = await page.locator(".wf-row").count();
  assert(rows > 10 && rows < 200, `virtualized rows in the DOM: ${rows}`);
  runs.sort((x, y) => x.drawnAt - y.drawnAt);
  const mid = runs[Math.floor(runs.length / 2)];
  perf.trace_10000 = { drawn_ms_median: Math.round(mid.drawnAt), minimap_drawn_ms: Math.round(mid.minimapAt), fetch_and_parse_ms: Math.round(mid.fetchMs), layout_ms: Math.round(mid.layoutMs), runs: runs.length };
  await shot("v3-trace-10000");
});

const apiTraces = async (query) => (await (await fetch(`${BASE}/api/v1/traces?${query}`)).json()).traces;
const rowAttr = (attr) => page.locator('[data-testid="traces"] tbody tr').evaluateAll((els, a) => els.map((e) => Number(e.dataset[a])), attr);
const nonIncreasing = (xs) => xs.every((x, i) => i === 0 || xs[i - 1] >= x);
const nonDecreasing = (xs) => xs.every((x, i) => i === 0 || xs[i - 1] <= x);
// After a change made on the Traces page (not a navigation) the old list stays until the new
// answer replaces it: wait until the list has `n` rows; the caller's assertion says what came
// instead if it never does.
const traceRowsSettle = (n) =>
  page
    .waitForFunction((want) => document.querySelectorAll('[data-testid="traces"] tbody tr').length === want, n, { timeout: 15000 })
    .catch(() => {});

await check("trace list: newest first in the API and the UI; sortable by start, duration, spans and errors; the sort is in the URL", async () => {
  const api = await apiTraces("service=frontend&limit=1000");
  assert(api.length === 120, `API listed ${api.length}`);
  const starts = api.map((t) => BigInt(t.start_time_unix_nano));
  assert(starts.every((s, i) => i === 0 || starts[i - 1] >= s), "API answer not newest first");
  await page.goto(`${BASE}/traces?service=frontend&limit=1000`);
  await page.locator('[data-testid="traces"] tbody tr').first().waitFor({ timeout: 15000 });
  assert((await page.locator('[data-testid="traces-caption"]').innerText()).includes("newest first"), "caption");
  assert(nonIncreasing(await rowAttr("start")), "UI rows not newest first");
  const header = (key) => page.locator(`[data-testid="traces"] th[data-sort="${key}"]`);
  await header("duration").click();
  assert(nonIncreasing(await rowAttr("duration")), "duration ▼");
  assert(urlParam("sort") === "duration" && urlParam("dir") === "desc", `URL ${page.url()}`);
  await header("duration").click();
  assert(nonDecreasing(await rowAttr("duration")), "duration ▲");
  assert(urlParam("dir") === "asc", "dir=asc not in the URL");
  await shot("v3-traces-sorted-duration");
  await header("spans").click();
  const spans = await rowAttr("spans");
  assert(nonIncreasing(spans) && spans[0] === Math.max(...shopTraces.map((t) => t.spans)), `spans ▼ ${spans.slice(0, 5)}`);
  await header("errors").click();
  const errors = await rowAttr("errors");
  assert(nonIncreasing(errors) && errors[0] > 0, "errors ▼");
  await page.reload();
  await page.locator('[data-testid="traces"] tbody tr').first().waitFor({ timeout: 15000 });
  assert(nonIncreasing(await rowAttr("errors")) && (await page.locator('[data-testid="traces"] th.sorted').getAttribute("data-sort")) === "errors", "sort not kept by a reload");
  await header("start").click();
  assert(nonIncreasing(await rowAttr("start")) && urlParam("sort") === null, "back to newest first");
});

await check("Traces: a custom time range from the picker and from a drag across the scatter plot", async () => {
  await page.goto(`${BASE}/traces?service=frontend&limit=1000`);
  await page.locator('[data-testid="traces"] tbody tr').first().waitFor({ timeout: 15000 });
  await page.locator('[data-testid="traces-time"] select').selectOption("custom");
  const local = (s) => {
    const d = new Date(s * 1000);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  };
  const from = Math.floor((nowS - 9 * 60) / 60) * 60;
  const to = Math.floor((nowS - 5 * 60) / 60) * 60;
  const inputs = page.locator('[data-testid="traces-time"] input[type="datetime-local"]');
  await inputs.nth(0).fill(local(from));
  await inputs.nth(1).fill(local(to));
  await page.locator('[data-testid="traces-time"] button', { hasText: "Apply" }).click();
  await page.waitForURL(/start=\d+&end=\d+|end=\d+.*start=\d+/);
  assert(Number(urlParam("start")) === from && Number(urlParam("end")) === to, `URL ${page.url()}`);
  const expected = shopTraces.filter((t) => t.start >= BigInt(from) * 1000000000n && t.start < BigInt(to) * 1000000000n).length;
  await traceRowsSettle(expected);
  const starts = await rowAttr("start");
  assert(starts.length === expected, `custom range lists ${starts.length}, expected ${expected}`);
  assert(starts.every((s) => s >= from * 1000 && s < to * 1000), "a trace outside the custom range");
  await shot("v3-traces-custom-range");
  // A drag across the scatter plot narrows the range to the dragged part.
  const over = page.locator('[data-testid="scatter"] .u-over');
  await over.waitFor();
  const b = await over.boundingBox();
  const range = await page.locator('[data-testid="scatter"]').evaluate((el, frac) => {
    const u = el.__uplot;
    return [u.posToVal(u.over.clientWidth * frac[0], "x"), u.posToVal(u.over.clientWidth * frac[1], "x")];
  }, [0.2, 0.6]);
  await page.mouse.move(b.x + b.width * 0.2, b.y + b.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width * 0.4, b.y + b.height / 2, { steps: 4 });
  await page.mouse.move(b.x + b.width * 0.6, b.y + b.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction((f) => new URL(location.href).searchParams.get("start") !== String(f), from, { timeout: 10000 });
  const s2 = Number(urlParam("start"));
  const e2 = Number(urlParam("end"));
  const slack2 = (range[1] - range[0]) * 0.03 + 1;
  assert(Math.abs(s2 - range[0]) <= slack2 && Math.abs(e2 - range[1]) <= slack2, `dragged ${range}, URL ${s2}–${e2}`);
});

await check("query: a drag across a chart runs the query over that time range and puts it in the URL", async () => {
  await page.goto(`${BASE}/query?calc=COUNT&where=service.name%20%3D%20frontend&range=3600`);
  const chart = page.locator('.chart[data-calc="COUNT"]');
  await chart.locator(".u-over").waitFor({ timeout: 15000 });
  await page.waitForTimeout(200);
  const box = await chart.locator(".u-over").boundingBox();
  const want = await chart.evaluate((el) => {
    const u = el.__uplot;
    return [u.posToVal(u.over.clientWidth * 0.75, "x"), u.posToVal(u.over.clientWidth * 0.95, "x")];
  });
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.85, box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(box.x + box.width * 0.95, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForURL(/start=\d+/, { timeout: 10000 });
  const s = Number(urlParam("start"));
  const e = Number(urlParam("end"));
  // Within a few pixels' worth of time (the pointer lands on whole pixels).
  const slack = (want[1] - want[0]) * 0.03;
  assert(Math.abs(s - want[0]) <= slack && Math.abs(e - want[1]) <= slack, `dragged ${want}, URL ${s}–${e}`);
  await page.locator('[data-testid="results"]').waitFor({ timeout: 15000 });
  // The query ran over the new window: the server's window and the count match.
  const meta = await page.locator(".meta").innerText();
  const expected = shopTraces.filter((t) => t.start >= BigInt(s) * 1000000000n && t.start < BigInt(e) * 1000000000n).length;
  const shown = await page.locator('[data-testid="results"] tbody tr').first().innerText();
  assert(Number(shown.replace(/,/g, "")) === expected, `COUNT ${shown}, expected ${expected} frontend spans in ${s}–${e} (${meta})`);
  await shot("v3-query-drag-range");
  // Back returns to the last hour.
  await page.goBack();
  await page.waitForURL(/range=3600/);
  // On a heatmap a drag selects for BubbleUp; its time range is one click from being the query's.
  await page.goto(`${BASE}/query?calc=HEATMAP(duration_ms)&where=service.name%20%3D%20frontend&range=3600`);
  const heat = page.locator('.chart[data-calc="HEATMAP(duration_ms)"] .u-over');
  await heat.waitFor({ timeout: 15000 });
  await page.waitForTimeout(200);
  const hb = await heat.boundingBox();
  const hwant = await page.locator('.chart[data-calc="HEATMAP(duration_ms)"]').evaluate((el) => {
    const u = el.__uplot;
    return [u.posToVal(u.over.clientWidth * 0.5, "x"), u.posToVal(u.over.clientWidth * 0.9, "x")];
  });
  await page.mouse.move(hb.x + hb.width * 0.5, hb.y + 3);
  await page.mouse.down();
  await page.mouse.move(hb.x + hb.width * 0.7, hb.y + hb.height / 2, { steps: 4 });
  await page.mouse.move(hb.x + hb.width * 0.9, hb.y + hb.height - 3, { steps: 4 });
  await page.mouse.up();
  await page.locator('[data-testid="heatmap-zoom"]').click();
  await page.waitForURL(/start=\d+/, { timeout: 10000 });
  const hs = Number(urlParam("start"));
  const he = Number(urlParam("end"));
  const hslack = (hwant[1] - hwant[0]) * 0.03 + 1;
  assert(Math.abs(hs - hwant[0]) <= hslack && Math.abs(he - hwant[1]) <= hslack && urlParam("calc") === "HEATMAP(duration_ms)", `heatmap range ${hwant}, URL ${page.url()}`);
  await page.locator('.chart[data-calc="HEATMAP(duration_ms)"] .u-over').waitFor({ timeout: 15000 });
});

await check("X-Ray groups: the name opens the group's traces and map; Traces and the map take a filter expression", async () => {
  const created = await fetch(`${BASE}/api/v1/xray/CreateGroup`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ GroupName: "checkout-only", FilterExpression: 'service("checkout")' }) });
  assert(created.status === 200, `CreateGroup ${created.status} ${await created.text()}`);
  await page.goto(`${BASE}/xray/groups`);
  const row = page.locator('tr[data-group="checkout-only"]');
  await row.waitFor({ timeout: 15000 });
  await shot("v3-xray-groups-links");
  await row.locator("b a").click();
  await page.waitForURL(/\/traces\?group=checkout-only/);
  await page.locator('[data-testid="traces"] tbody tr').first().waitFor({ timeout: 15000 });
  const ids = await page.locator('[data-testid="traces"] tbody tr').evaluateAll((els) => els.map((e) => e.dataset.trace));
  const withCheckout = shopTraces.filter((t) => t.services.has("checkout")).map((t) => t.traceId);
  assert(ids.length === Math.min(100, withCheckout.length) && ids.every((id) => withCheckout.includes(id)), `group lists ${ids.length}, expected ${withCheckout.length} with checkout`);
  assert((await page.locator("h1").innerText()).includes("checkout-only"), "heading does not name the group");
  await shot("v3-group-traces");
  // Its map: the services of the matching traces (search never appears in a checkout trace? it
  // does in every sixth one), never the big trace's services.
  await page.goto(`${BASE}/xray/groups`);
  await page.locator('tr[data-group="checkout-only"] a', { hasText: "service map" }).click();
  await page.waitForURL(/\/service-map\?group=checkout-only/);
  await page.locator('[data-testid="service-map"][data-drawn]').waitFor({ timeout: 20000 });
  const nodes = await page.evaluate(() => window.__ariadneMap.cy.nodes().map((n) => n.id()).sort());
  assert(nodes.includes("checkout") && nodes.includes("frontend") && !nodes.some((n) => n.startsWith("service-")), `group map nodes ${nodes}`);
  await shot("v3-group-map");
  // A filter expression typed on the Traces page.
  await page.goto(`${BASE}/traces?limit=1000`);
  const expr = page.locator('[data-testid="xray-filter"]');
  await expr.fill('service("search") AND !service("checkout")');
  await expr.press("Enter");
  await page.waitForURL(/xray_filter=/);
  const want = shopTraces.filter((t) => t.services.has("search") && !t.services.has("checkout")).map((t) => t.traceId);
  await traceRowsSettle(want.length);
  const only = await page.locator('[data-testid="traces"] tbody tr').evaluateAll((els) => els.map((e) => e.dataset.trace));
  assert(only.length === want.length && only.every((id) => want.includes(id)), `filter lists ${only.length}, expected ${want.length}`);
  // And on the map.
  await page.goto(`${BASE}/service-map?xray_filter=${encodeURIComponent('service("search") AND !service("checkout")')}`);
  await page.locator('[data-testid="service-map"][data-drawn]').waitFor({ timeout: 20000 });
  const mapNodes = await page.evaluate(() => window.__ariadneMap.cy.nodes().map((n) => n.id()));
  assert(mapNodes.includes("search") && !mapNodes.includes("checkout"), `filtered map nodes ${mapNodes}`);
  // A filter that does not parse: the server's message.
  await page.goto(`${BASE}/traces?xray_filter=${encodeURIComponent("service(")}`);
  const err = await page.locator('[data-testid="search-error"]').innerText({ timeout: 15000 });
  assert(err.includes("xray_filter") && err.includes("column"), `error shown: ${err}`);
});

await check("span panel: X-Ray annotations, metadata, http, aws and cause in their own sections; the raw document one click away", async () => {
  let ok = false;
  for (let i = 0; i < 60 && !ok; i++) {
    ok = (await fetch(`${BASE}/api/v1/traces/${xrayTraceId}`)).status === 200;
    if (!ok) await new Promise((r) => setTimeout(r, 250));
  }
  assert(ok, "the X-Ray segment never became readable");
  await page.goto(`${BASE}/traces/${xrayTraceId}`);
  await drawn();
  await page.locator(`.wf-row[data-span-id="${segment.id}"]`).click();
  const panel = page.locator('[data-testid="span-details"]');
  const section = async (name) => {
    const h = panel.locator(`h3[data-section="${name}"]`);
    assert((await h.count()) === 1, `no ${name} section`);
    return h.evaluate((el) => el.nextElementSibling.innerText);
  };
  assert((await section("annotations")).includes("tenant") && (await section("annotations")).includes("acme"), "annotations");
  assert((await section("metadata")).includes("items"), "metadata");
  const http = await section("http");
  assert(http.includes("https://api.example.com/orders") && http.includes("500"), `http: ${http}`);
  const cause = await panel.locator('h3[data-section="cause"]').evaluate((el) => {
    let t = "";
    for (let n = el.nextElementSibling; n && n.tagName !== "H3"; n = n.nextElementSibling) t += n.innerText + "\n";
    return t;
  });
  assert(cause.includes("/srv/orders") && cause.includes("OrderError") && cause.includes("table orders is missing"), `cause: ${cause}`);
  await panel.locator('[data-testid="raw-document"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="raw-json"]').textContent.includes('"annotations"'), null, { timeout: 10000 });
  const raw = JSON.parse(await panel.locator('[data-testid="raw-json"]').innerText());
  assert(raw.id === segment.id && raw.annotations.tenant === "acme", `raw document: ${JSON.stringify(raw).slice(0, 200)}`);
  await panel.evaluate((el) => (el.scrollTop = 0));
  await shot("v3-xray-segment-panel");
  // The DynamoDB subsegment: its aws call data.
  await page.locator(`.wf-row[data-span-id="${segment.subsegments[0].id}"]`).click();
  const aws = await section("aws");
  assert(aws.includes("PutItem") && aws.includes("orders") && aws.includes("eu-west-1"), `aws: ${aws}`);
  await panel.locator('[data-testid="raw-document"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="raw-json"]').textContent.includes("PutItem"), null, { timeout: 10000 });
  await shot("v3-xray-subsegment-panel");
});

await check("dark mode follows prefers-color-scheme; the toggle overrides it and is remembered", async () => {
  const dark = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "dark" });
  const p = await dark.newPage();
  const bg = () => p.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  await p.goto(`${BASE}/`);
  await p.locator('tr[data-service="frontend"]').waitFor({ timeout: 15000 });
  await p.waitForTimeout(300);
  assert((await bg()) === "rgb(18, 21, 29)", `dark system: background ${await bg()}`);
  await shot("v3-dark-services", p);
  await p.goto(`${BASE}/traces/${big.traceId}`);
  await drawn(p);
  await minimapDrawn(p);
  await shot("v3-dark-trace", p);
  // The map's canvas takes the theme's colours too.
  await p.goto(`${BASE}/service-map?xray_filter=${encodeURIComponent('service("checkout")')}`);
  await p.locator('[data-testid="service-map"][data-drawn]').waitFor({ timeout: 20000 });
  const nodeBg = await p.evaluate(() => window.__ariadneMap.cy.nodes()[0].style("background-color"));
  assert(nodeBg.replace(/\s/g, "") === "rgb(26,30,41)", `map node background in dark mode: ${nodeBg}`);
  await p.waitForTimeout(300);
  await shot("v3-dark-map", p);
  await p.goto(`${BASE}/traces/${big.traceId}`);
  await drawn(p);
  const toggle = p.locator('[data-testid="theme-toggle"]');
  assert((await toggle.innerText()) === "Theme: auto", await toggle.innerText());
  await toggle.click(); // auto → dark (same look on a dark system)
  await toggle.click(); // dark → light
  assert((await toggle.innerText()) === "Theme: light" && (await bg()) === "rgb(246, 247, 249)", `light: ${await bg()}`);
  await p.reload();
  await drawn(p);
  assert((await bg()) === "rgb(246, 247, 249)", "the light choice was not remembered");
  await dark.close();
  // On a light system the toggle's dark choice applies.
  await page.goto(`${BASE}/`);
  await page.locator('[data-testid="theme-toggle"]').click();
  assert((await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)) === "rgb(18, 21, 29)", "dark choice on a light system");
  await page.locator('[data-testid="theme-toggle"]').click();
  await page.locator('[data-testid="theme-toggle"]').click(); // back to auto
});

await check("Services page: every column has a label, every sparkline a name", async () => {
  await page.goto(`${BASE}/`);
  await page.locator('tr[data-service="frontend"]').waitFor({ timeout: 15000 });
  const heads = await page.locator("table.services thead th").allInnerTexts();
  assert(heads.length === 10 && heads.every((t) => t.trim() !== ""), `headers: ${JSON.stringify(heads)}`);
  const sparks = await page.locator('tr[data-service="frontend"] .spark-cell').evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
  assert(sparks.length === 3 && sparks.every((l) => l && l.startsWith("frontend: ")), `sparklines: ${sparks}`);
  await shot("v3-services-labels");
});

await check("Ctrl+Enter runs the query; text fields show a focus ring", async () => {
  await page.goto(`${BASE}/query?calc=COUNT&range=3600`);
  await page.locator('[data-testid="results"]').waitFor({ timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll("#dl-WHERE option").length > 0, null, { timeout: 10000 });
  const where = page.locator('input[data-clause="WHERE"]');
  await where.fill("service.name = cart");
  await where.press("Enter");
  await page.locator(".chip", { hasText: "service.name = cart" }).waitFor();
  assert(!page.url().includes("where="), "Enter alone ran the query");
  await where.press("Control+Enter");
  await page.waitForURL(/where=service\.name/, { timeout: 10000 });
  await page.locator('[data-testid="results"] tbody tr').first().waitFor({ timeout: 15000 });
  // The builder is drawn again once the column catalog arrives: check the final fields.
  await page.waitForFunction(() => document.querySelectorAll("#dl-WHERE option").length > 0, null, { timeout: 10000 });
  await page.waitForTimeout(100);
  const ring = (sel) => page.locator(sel).evaluate((el) => {
    el.focus();
    const s = getComputedStyle(el);
    const chips = el.closest(".chips");
    return { style: s.outlineStyle, width: s.outlineWidth, chips: chips ? getComputedStyle(chips).boxShadow : "" };
  });
  const limit = await ring('input[aria-label="Limit"]');
  assert(limit.style === "solid" && limit.width === "2px", `LIMIT focus: ${JSON.stringify(limit)}`);
  const clause = await ring('input[data-clause="WHERE"]');
  assert(clause.chips !== "none" && clause.chips !== "", `chips focus: ${JSON.stringify(clause)}`);
  await page.goto(`${BASE}/traces`);
  const name = await page.locator('input[name="name"]').evaluate((el) => {
    el.focus();
    return getComputedStyle(el).outlineStyle;
  });
  assert(name === "solid", `trace search field focus: ${name}`);
  await page.locator('input[name="name"]').focus();
  await shot("v3-focus-ring");
});

await check("no errors in the browser console", async () => {
  const real = consoleErrors();
  assert(real.length === 0, real.join("\n"));
});

if (PERF) {
  fs.writeFileSync(path.join(SHOTS, "perf-v3.json"), JSON.stringify(perf, null, 2) + "\n");
  console.log(JSON.stringify(perf, null, 2));
}
await finish(browser, `; screenshots in ${SHOTS}`);
