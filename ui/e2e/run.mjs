// End-to-end test of the web UI in a real browser against the real server with real data.
//
// Starts `ariadne serve` on free ports with a fresh data directory, sends traces over OTLP/HTTP
// (JSON) and an X-Ray segment over the daemon's UDP protocol, then drives Debian's Chromium with
// playwright-core through every page and checks the values it shows. Screenshots of each page go
// to --screenshots (build/ui-screenshots). With --perf it also times 1,000/10,000/50,000-span
// waterfalls and writes perf.json there.
//
//   node ui/e2e/run.mjs --ariadne build/bin/ariadne --ui-dir ui/dist --screenshots build/ui-screenshots [--perf]
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

// ---------------------------------------------------------------------------------------------
// Server
const server = await startServer({ waitFor: ["http", "otlp-http"] });
const { listening } = server;
const BASE = server.base;
const OTLP = server.otlp;
console.log(`server: ui ${BASE}, otlp ${OTLP}, xray ${listening.xray ?? "(none)"}`);

// ---------------------------------------------------------------------------------------------
// Data
const nowNs = BigInt(Date.now()) * 1000000n;
const send = (spans) =>
  sendSpans(OTLP, spans, { batch: 1e9, scope: "ariadne-e2e", resource: [str("deployment.environment", "e2e")], errorMessage: "payment declined" });

// A web shop: frontend → cart → postgresql, frontend → checkout → payment (payment fails at
// times). Slow frontend requests come from user.tier=free (what BubbleUp should find).
const shop = [];
const expected = { cartSpans: 0, frontendSpans: 0, traces: 0 };
let known; // one trace with a known shape
for (let i = 0; i < 240; i++) {
  const traceId = hex(16);
  const start = nowNs - ms(60000 + Math.random() * 9 * 60000);
  const slow = i % 6 === 0;
  const total = slow ? 800 + Math.random() * 400 : 8 + Math.random() * 50;
  const tier = slow ? "free" : i % 20 === 1 ? "free" : "pro";
  const fail = i % 10 === 4;
  const root = { service: "frontend", traceId, spanId: hex(8), parent: "", name: i % 2 ? "GET /cart" : "POST /checkout", kind: SERVER, start, dur: total,
    attrs: [str("http.method", i % 2 ? "GET" : "POST"), str("http.route", i % 2 ? "/cart" : "/checkout"), int("http.status_code", fail ? 500 : 200), str("user.tier", tier), str("user.id", `u${i % 37}`)], error: fail };
  const callCart = { service: "frontend", traceId, spanId: hex(8), parent: root.spanId, name: "GET cart", kind: CLIENT, start: start + ms(1), dur: total * 0.6, attrs: [str("peer.service", "cart")] };
  const cart = { service: "cart", traceId, spanId: hex(8), parent: callCart.spanId, name: "GET /cart/items", kind: SERVER, start: start + ms(1.5), dur: total * 0.55, attrs: [str("http.route", "/cart/items")] };
  const db = { service: "cart", traceId, spanId: hex(8), parent: cart.spanId, name: "SELECT cart_items", kind: CLIENT, start: start + ms(2), dur: total * 0.4, attrs: [str("db.system", "postgresql"), str("db.statement", "SELECT * FROM cart_items WHERE user_id = $1")] };
  const spans = [root, callCart, cart, db];
  expected.cartSpans += 2;
  expected.frontendSpans += 2;
  if (i % 2 === 0) {
    const callCheckout = { service: "frontend", traceId, spanId: hex(8), parent: root.spanId, name: "POST checkout", kind: CLIENT, start: start + ms(total * 0.62), dur: total * 0.35 };
    const checkout = { service: "checkout", traceId, spanId: hex(8), parent: callCheckout.spanId, name: "POST /checkout", kind: SERVER, start: start + ms(total * 0.63), dur: total * 0.33, error: fail };
    const pay = { service: "checkout", traceId, spanId: hex(8), parent: checkout.spanId, name: "charge card", kind: INTERNAL, start: start + ms(total * 0.64), dur: total * 0.2, error: fail,
      events: fail ? [{ timeUnixNano: String(start + ms(total * 0.7)), name: "exception", attributes: [str("exception.type", "CardDeclined"), str("exception.message", "insufficient funds")] }] : [] };
    spans.push(callCheckout, checkout, pay);
    expected.frontendSpans += 1;
  }
  if (i === 14) known = spans;
  shop.push(...spans);
  expected.traces++;
}
await send(shop);
console.log(`sent ${shop.length} spans in ${expected.traces} traces`);

// One X-Ray segment over UDP (the daemon protocol), if the server listens for X-Ray.
let xraySegment;
if (listening.xray) {
  const [xhost, xport] = [listening.xray.slice(0, listening.xray.lastIndexOf(":")), Number(listening.xray.slice(listening.xray.lastIndexOf(":") + 1))];
  const epoch = Math.floor(Date.now() / 1000) - 30;
  xraySegment = { trace_id: `1-${epoch.toString(16)}-${hex(12)}`, id: hex(8), name: "legacy-billing", start_time: epoch, end_time: epoch + 0.25,
    http: { request: { method: "GET", url: "http://billing/invoice" }, response: { status: 200 } }, annotations: { customer_tier: "gold" }, metadata: { debug: { build: "b1" } } };
  const sock = dgram.createSocket(xhost.includes(":") ? "udp6" : "udp4");
  await new Promise((res, rej) => sock.send(`{"format": "json", "version": 1}\n${JSON.stringify(xraySegment)}`, xport, xhost.replace(/^\[|\]$/g, ""), (e) => (e ? rej(e) : res())));
  sock.close();
}

// ---------------------------------------------------------------------------------------------
// Browser
const browser = await launchBrowser(chromium);
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
const page = await context.newPage();
const consoleErrors = collectConsoleErrors(page);
const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
const text = (sel) => page.locator(sel).first().innerText();

await check("home lists services with rate, errors and percentiles", async () => {
  await page.goto(`${BASE}/`);
  await page.locator('tr[data-service="frontend"]').waitFor({ timeout: 15000 });
  const row = await text('tr[data-service="frontend"]');
  assert(/\/(s|min)/.test(row), `no rate in: ${row}`);
  assert(/ms|s/.test(row), `no durations in: ${row}`);
  const cart = await text('tr[data-service="cart"]');
  assert(cart.includes(`${expected.cartSpans} spans`), `cart row should count ${expected.cartSpans} spans: ${cart}`);
  const checkout = await text('tr[data-service="checkout"]');
  assert(/[1-9][\d.]*%/.test(checkout), `checkout should show an error rate: ${checkout}`);
  await page.waitForTimeout(300);
  assert((await page.locator("canvas").count()) >= 6, "sparklines missing");
  await shot("home");
});

await check("query: COUNT and P99 by service, chart and table", async () => {
  await page.goto(`${BASE}/query?calc=COUNT&calc=P99(duration_ms)&group=service.name&order=COUNT%20desc&range=3600`);
  const table = page.locator('[data-testid="results"]');
  await table.waitFor({ timeout: 15000 });
  const rows = await table.locator("tbody tr").allInnerTexts();
  const cart = rows.find((r) => r.startsWith("cart"));
  assert(cart, `no cart row in ${JSON.stringify(rows)}`);
  const count = Number(cart.split("\t")[1].replace(/,/g, ""));
  assert(count === expected.cartSpans, `cart COUNT ${count}, expected ${expected.cartSpans}`);
  const front = rows.find((r) => r.startsWith("frontend"));
  assert(Number(front.split("\t")[1].replace(/,/g, "")) === expected.frontendSpans, `frontend row ${front}`);
  assert((await page.locator('.chart[data-calc="COUNT"] canvas').count()) > 0, "no COUNT chart");
  assert((await page.locator(".chart[data-calc=\"COUNT\"] .u-legend").innerText()).includes("cart"), "chart legend lacks cart");
  // The query is in the URL: the builder shows it back.
  const chips = await page.locator(".chip").allInnerTexts();
  assert(chips.some((c) => c.startsWith("P99(duration_ms)")) && chips.some((c) => c.startsWith("service.name")), `chips ${chips}`);
  await shot("query");
});

await check("query builder: add a WHERE clause with autocomplete input and run", async () => {
  await page.goto(`${BASE}/query?calc=COUNT&group=service.name`);
  await page.locator('[data-testid="results"]').waitFor({ timeout: 15000 });
  const where = page.locator('input[data-clause="WHERE"]');
  await where.fill("service.name = cart");
  await where.press("Enter");
  await page.locator("button.run").click();
  await page.waitForURL(/where=service.name/);
  await page.locator('[data-testid="results"] tbody tr').first().waitFor();
  const rows = await page.locator('[data-testid="results"] tbody tr').allInnerTexts();
  assert(rows.length === 1 && rows[0].startsWith("cart"), `rows after WHERE: ${JSON.stringify(rows)}`);
});

await check("heatmap and BubbleUp find user.tier in the slow band", async () => {
  await page.goto(`${BASE}/query?calc=HEATMAP(duration_ms)&where=service.name%20%3D%20frontend&where=span.kind%20%3D%20server&range=3600`);
  const over = page.locator('.chart[data-calc="HEATMAP(duration_ms)"] .u-over');
  await over.waitFor({ timeout: 15000 });
  await page.waitForTimeout(200);
  await shot("heatmap");
  const box = await over.boundingBox();
  // Drag across the top part of the plot: the slow band (800–1200 ms).
  await page.mouse.move(box.x + 3, box.y + 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.2, { steps: 4 });
  await page.mouse.move(box.x + box.width - 3, box.y + box.height * 0.4, { steps: 4 });
  await page.mouse.up();
  const bubble = page.locator('[data-testid="bubbleup"]');
  await bubble.waitFor({ timeout: 15000 });
  const titles = await bubble.locator(".bubble-title b").allInnerTexts();
  assert(titles.slice(0, 3).includes("user.tier"), `user.tier not in the top 3: ${titles.slice(0, 8)}`);
  await bubble.scrollIntoViewIfNeeded();
  await shot("bubbleup");
});

let clickedTrace;
await check("trace search: pre-filled from the URL, scatter, rows open the trace", async () => {
  await page.goto(`${BASE}/traces?service=cart`);
  const rows = page.locator('[data-testid="traces"] tbody tr');
  await rows.first().waitFor({ timeout: 15000 });
  assert((await page.locator('select[name="service"]').inputValue()) === "cart", "service not pre-filled");
  const n = await rows.count();
  assert(n === Math.min(100, expected.traces), `expected ${Math.min(100, expected.traces)} rows, got ${n}`);
  assert((await page.locator('[data-testid="scatter"] canvas').count()) > 0, "no scatter plot");
  await shot("traces");
  clickedTrace = await rows.first().getAttribute("data-trace");
  await rows.first().locator("td").first().click();
  // The link carries the trace's start as the read hint (`near`).
  await page.waitForURL(new RegExp(`/traces/${clickedTrace}\\?near=\\d+$`));
  await page.locator('[data-testid="waterfall"][data-drawn]').waitFor({ timeout: 15000 });
});

await check("trace view: every span with the right nesting, details panel", async () => {
  const traceId = known[0].traceId;
  await page.goto(`${BASE}/traces/${traceId}`);
  await page.locator('[data-testid="waterfall"][data-drawn]').waitFor({ timeout: 15000 });
  const rows = page.locator(".wf-row");
  assert((await rows.count()) === known.length, `rows ${await rows.count()} != spans ${known.length}`);
  const depthOf = new Map();
  for (const s of known) depthOf.set(s.spanId, s.parent ? depthOf.get(s.parent) + 1 : 0);
  for (const s of known) {
    const row = page.locator(`.wf-row[data-span-id="${s.spanId}"]`);
    assert((await row.count()) === 1, `span ${s.name} missing`);
    const d = Number(await row.getAttribute("data-depth"));
    assert(d === depthOf.get(s.spanId), `${s.name}: depth ${d}, expected ${depthOf.get(s.spanId)}`);
  }
  // Display order is depth first: each span comes after its parent.
  const order = await rows.evaluateAll((els) => els.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map((e) => e.dataset.spanId));
  for (const s of known) if (s.parent) assert(order.indexOf(s.spanId) > order.indexOf(s.parent), `${s.name} before its parent`);
  assert((await page.locator(".wf-row.crit").count()) >= 2, "no critical path");
  assert((await page.locator(".wf-row.err").count()) >= 1, "error spans not highlighted");
  await page.locator(`.wf-row[data-span-id="${known[6].spanId}"]`).click();
  const details = page.locator(".span-details");
  await details.waitFor();
  const dt = await details.innerText();
  assert(dt.includes("charge card") && dt.includes("CardDeclined") && dt.includes("ERROR"), `details: ${dt.slice(0, 300)}`);
  assert((await details.locator('a[href^="/query?"]').count()) > 0, "no query-by-value links");
  await shot("trace");
  // Collapse the root: only it stays.
  await page.locator(`.wf-row[data-span-id="${known[0].spanId}"] [data-toggle]`).click();
  assert((await page.locator(".wf-row").count()) === 1, "collapse did not hide the subtree");
  // The X-Ray form of the id opens the same trace.
  await page.goto(`${BASE}/traces/1-${traceId.slice(0, 8)}-${traceId.slice(8)}`);
  await page.locator('[data-testid="waterfall"][data-drawn]').waitFor({ timeout: 15000 });
  assert((await page.locator(".wf-row").count()) === known.length, "X-Ray id did not open the trace");
});

if (xraySegment) {
  await check("X-Ray segment: shown with annotations and metadata", async () => {
    let ok = false;
    for (let i = 0; i < 40 && !ok; i++) {
      ok = (await fetch(`${BASE}/api/v1/traces/${xraySegment.trace_id}`)).status === 200;
      if (!ok) await new Promise((r) => setTimeout(r, 250));
    }
    assert(ok, "the X-Ray segment never became readable");
    await page.goto(`${BASE}/traces/${xraySegment.trace_id}`);
    await page.locator('[data-testid="waterfall"][data-drawn]').waitFor({ timeout: 15000 });
    await page.locator(".wf-row").first().click();
    const dt = await page.locator(".span-details").innerText();
    assert(/X-Ray annotations/i.test(dt) && dt.includes("gold"), `annotations missing: ${dt.slice(0, 400)}`);
    await shot("trace-xray");
  });
}

await check("service map: nodes and the frontend → cart edge", async () => {
  await page.goto(`${BASE}/service-map`);
  const edge = page.locator('[data-testid="edges"] tr[data-edge="frontend->cart"]');
  await edge.waitFor({ timeout: 15000 });
  const cells = (await edge.innerText()).split("\t");
  assert(Number(cells[2].replace(/,/g, "")) === expected.traces, `frontend->cart calls ${cells[2]}, expected ${expected.traces}`);
  assert((await page.locator('[data-testid="edges"] tr[data-edge="cart->postgresql"]').count()) === 1, "no cart->postgresql edge");
  assert((await page.locator('[data-testid="service-map"] canvas').count()) > 0, "graph not drawn");
  await page.waitForTimeout(500);
  await shot("service-map");
});

await check("X-Ray groups: live validation, create, edit, delete", async () => {
  await page.goto(`${BASE}/xray/groups`);
  await page.locator('[data-testid="groups"], [data-testid="xray-unavailable"], .empty-note').first().waitFor({ timeout: 15000 });
  assert((await page.locator('[data-testid="xray-unavailable"]').count()) === 0, "X-Ray API not available through the UI");
  await page.getByRole("button", { name: "New group" }).click();
  await page.locator('input[name="GroupName"]').fill("slow-cart");
  const expr = page.locator('textarea[name="FilterExpression"]');
  await expr.fill('service("cart") AND responsetime >');
  await page.locator('[data-testid="filter-error"]').waitFor({ timeout: 5000 });
  await shot("xray-group-error");
  await expr.fill('service("no-such-service") AND responsetime > 0.5');
  await page.locator('[data-testid="filter-nomatch"]').waitFor({ timeout: 5000 });
  await expr.fill('service("cart") AND responsetime > 0.5');
  await page.locator(".filter-feedback .good").waitFor({ timeout: 5000 });
  await page.getByRole("button", { name: "Create group" }).click();
  await page.locator('tr[data-group="slow-cart"]').waitFor({ timeout: 10000 });
  assert((await text('tr[data-group="slow-cart"]')).includes('service("cart") AND responsetime > 0.5'), "group row");
  await page.locator('tr[data-group="slow-cart"]').getByRole("button", { name: "Edit" }).click();
  await page.locator('textarea[name="FilterExpression"]').fill('service("cart") AND responsetime > 1');
  await page.getByRole("button", { name: "Save group" }).click();
  await page.waitForFunction(() => document.querySelector('tr[data-group="slow-cart"]')?.textContent?.includes("responsetime > 1"), null, { timeout: 10000 });
  await shot("xray-groups");
  page.once("dialog", (d) => d.accept());
  await page.locator('tr[data-group="slow-cart"]').getByRole("button", { name: "Delete" }).click();
  await page.locator('tr[data-group="slow-cart"]').waitFor({ state: "detached", timeout: 10000 });
});

await check("X-Ray sampling rules: create and edit", async () => {
  await page.goto(`${BASE}/xray/sampling-rules`);
  await page.locator('[data-testid="rules"], [data-testid="xray-unavailable"]').first().waitFor({ timeout: 15000 });
  assert((await page.locator('[data-testid="xray-unavailable"]').count()) === 0, "X-Ray API not available through the UI");
  await page.getByRole("button", { name: "New rule" }).click();
  await page.locator('input[name="RuleName"]').fill("cart-api");
  await page.locator('input[name="Priority"]').fill("10");
  await page.locator('input[name="FixedRate"]').fill("0.25");
  await page.locator('input[name="ServiceName"]').fill("cart");
  await page.locator('input[name="URLPath"]').fill("/api/*");
  await page.getByRole("button", { name: "Create rule" }).click();
  const row = page.locator('tr[data-rule="cart-api"]');
  await row.waitFor({ timeout: 10000 });
  const t = await row.innerText();
  assert(t.includes("25%") && t.includes("service: cart") && t.includes("path: /api/*"), `rule row: ${t}`);
  // An SDK reports its statistics for the rule (what the X-Ray SDK pollers send every 10 s).
  const targets = await fetch(`${BASE}/api/v1/xray/SamplingTargets`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ SamplingStatisticsDocuments: [{ RuleName: "cart-api", ClientID: hex(12), Timestamp: Date.now() / 1000, RequestCount: 120, SampledCount: 31, BorrowCount: 2 }] }),
  });
  assert(targets.status === 200, `SamplingTargets: ${targets.status} ${await targets.text()}`);
  await page.reload();
  await row.waitFor({ timeout: 10000 });
  const withStats = (await row.innerText()).split("\t").map((c) => c.trim());
  assert(withStats.includes("120") && withStats.includes("31") && withStats.includes("2"), `statistics not shown: ${withStats}`);
  await row.getByRole("button", { name: "Edit" }).click();
  await page.locator('input[name="FixedRate"]').fill("0.5");
  await page.getByRole("button", { name: "Save rule" }).click();
  await page.waitForFunction(() => document.querySelector('tr[data-rule="cart-api"]')?.textContent?.includes("50%"), null, { timeout: 10000 });
  await shot("xray-sampling-rules");
});

await check("unknown path: helpful not-found page with status 404", async () => {
  const response = await page.goto(`${BASE}/no/such/page`);
  assert(response.status() === 404, `status ${response.status()}`);
  await page.getByText("Page not found").waitFor();
  assert((await page.locator('.notfound a[href="/query"]').count()) === 1, "no links to the pages");
  await shot("not-found");
});

await check("empty state tells how to send data", async () => {
  // A second, empty server.
  const empty = await startServer({ waitFor: ["http"] });
  try {
    await page.goto(`${empty.base}/`);
    await page.locator(".empty").waitFor({ timeout: 15000 });
    const t = await page.locator(".empty").innerText();
    assert(t.includes("OTEL_EXPORTER_OTLP_ENDPOINT=http://") && t.includes("AWS_XRAY_DAEMON_ADDRESS="), `empty state: ${t.slice(0, 200)}`);
    await shot("empty");
  } finally {
    await empty.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Waterfall timing for large traces.
function bigTrace(n) {
  const traceId = hex(16);
  const start = nowNs - ms(120000);
  const spans = [];
  const services = ["gateway", "orders", "inventory", "pricing", "search", "users", "ledger", "mailer"];
  const total = 5000;
  spans.push({ service: "gateway", traceId, spanId: hex(8), parent: "", name: "POST /batch", kind: SERVER, start, dur: total });
  // A wide and moderately deep tree: each span's parent is one of the last 64 spans.
  for (let i = 1; i < n; i++) {
    const p = spans[Math.max(0, i - 1 - Math.floor(Math.random() * Math.min(i, 64)))];
    const pStart = Number(p.start - start) / 1e6;
    const off = Math.random() * p.dur * 0.5;
    spans.push({ service: services[i % services.length], traceId, spanId: hex(8), parent: p.spanId, name: `op-${i % 97}`, kind: i % 3 ? INTERNAL : CLIENT,
      start: start + ms(pStart + off), dur: Math.max(0.01, (p.dur - off) * Math.random()), error: i % 997 === 0, attrs: [int("item", i), str("shard", `s${i % 16}`)] });
  }
  return { traceId, spans };
}
let perf;
if (PERF) {
  perf = { chromium: (await browser.version()), sizes: [] };
  for (const n of [1000, 10000, 50000]) {
    await check(`waterfall of ${n} spans`, async () => {
      const { traceId, spans } = bigTrace(n);
      for (let i = 0; i < spans.length; i += 5000) await send(spans.slice(i, i + 5000));
      const apiT0 = Date.now();
      const apiBytes = (await (await fetch(`${BASE}/api/v1/traces/${traceId}`)).arrayBuffer()).byteLength;
      const apiMs = Date.now() - apiT0;
      const runs = [];
      for (let r = 0; r < 3; r++) {
        await page.goto("about:blank");
        await page.goto(`${BASE}/traces/${traceId}`);
        await page.locator('[data-testid="waterfall"][data-drawn]').waitFor({ timeout: 60000 });
        const m = await page.evaluate(() => window.__ariadneWaterfall);
        assert(m.spans === n, `drew ${m.spans} spans`);
        runs.push(m);
      }
      // Scrolling: jump to the end and back, time until rows are drawn.
      const scrollMs = await page.evaluate(async () => {
        const el = document.querySelector('[data-testid="waterfall"]');
        const t0 = performance.now();
        for (let i = 1; i <= 20; i++) {
          el.scrollTop = (el.scrollHeight * i) / 20;
          await new Promise((r) => requestAnimationFrame(() => r()));
        }
        return (performance.now() - t0) / 20;
      });
      const rows = await page.locator(".wf-row").count();
      assert(rows > 10 && rows < 200, `virtualized rows in the DOM: ${rows}`);
      const best = runs.reduce((a, b) => (a.drawnAt < b.drawnAt ? a : b));
      const median = runs.map((x) => x.drawnAt).sort((a, b) => a - b)[1];
      perf.sizes.push({ spans: n, drawn_ms_median: Math.round(median), drawn_ms_best: Math.round(best.drawnAt), fetch_and_parse_ms: Math.round(best.fetchMs), layout_ms: Math.round(best.layoutMs), api_ms_node_fetch: apiMs, api_bytes: apiBytes, scroll_frame_ms: Math.round(scrollMs * 10) / 10, dom_rows: rows });
      await shot(`trace-${n}`);
    });
  }
  fs.writeFileSync(path.join(SHOTS, "perf.json"), JSON.stringify(perf, null, 2) + "\n");
  console.log(JSON.stringify(perf, null, 2));
}

await check("no errors in the browser console", async () => {
  const real = consoleErrors();
  assert(real.length === 0, real.join("\n"));
});

await finish(browser, `; screenshots in ${SHOTS}`);
