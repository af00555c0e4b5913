// What every end-to-end test of the web UI shares: its command line, the checks that Chromium,
// the built UI and the server binary exist, one launcher for `ariadne serve` (every listener on a
// free loopback port, a fresh data directory, this UI), the browser, the check/assert reporting,
// and OTLP/JSON span helpers.
//
//   node ui/e2e/<test>.mjs --ariadne build/bin/ariadne --ui-dir ui/dist --screenshots build/ui-screenshots [--perf]
//
// Exit codes of the tests: 0 passed, 1 failed, 77 skipped (Chromium is not installed).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../..");
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
export const ARIADNE = path.resolve(arg("--ariadne", path.join(repo, "build/bin/ariadne")));
export const UI_DIR = path.resolve(arg("--ui-dir", path.join(repo, "ui/dist")));
export const SHOTS = path.resolve(arg("--screenshots", path.join(repo, "build/ui-screenshots")));
export const PERF = args.includes("--perf");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// Exits 77 without Chromium, 1 without the UI or the server binary; loads playwright-core.
export async function prerequisites() {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`SKIP: ${CHROMIUM} not found. Install Debian's chromium (./scripts/install-deps does) to run the browser tests.`);
    process.exit(77);
  }
  if (!fs.existsSync(path.join(UI_DIR, "index.html"))) {
    console.error(`FAIL: the web UI is not built (${UI_DIR}/index.html missing); run ./scripts/build-ui`);
    process.exit(1);
  }
  if (!fs.existsSync(ARIADNE)) {
    console.error(`FAIL: ${ARIADNE} not found; build it first (./scripts/build)`);
    process.exit(1);
  }
  fs.mkdirSync(SHOTS, { recursive: true });
  return (await import("playwright-core")).chromium;
}

export function tempDataDir(prefix = "ariadne-ui-e2e-") {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const servers = [];

// Starts `ariadne serve` on free ports (passing --otlp-grpc 0 --zipkin 0 like every test) with
// `dataDir` (a fresh one by default) and this UI (or `uiDir`). Resolves once it printed the listeners in
// `waitFor` (`listening NAME ADDRESS`); rejects when it exits first or within 30 s.
export async function startServer({ dataDir, extraArgs = [], waitFor = ["http", "otlp-http", "xray"], uiDir = UI_DIR } = {}) {
  const owned = !dataDir;
  const dir = dataDir ?? tempDataDir();
  const proc = spawn(
    ARIADNE,
    ["serve", "--data-dir", dir, "--http", "0", "--otlp-http", "0", "--otlp-grpc", "0", "--xray", "0", "--zipkin", "0", "--ui-dir", uiDir, ...extraArgs],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  proc.stderr.on("data", (d) => (log += d));
  const server = { proc, dataDir: dir, owned };
  servers.push(server);
  const listening = await new Promise((resolve, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s:\n${log}`)), 30000);
    createInterface({ input: proc.stdout }).on("line", (line) => {
      const m = /^listening (\S+) (\S+)$/.exec(line);
      if (m) found[m[1]] = m[2];
      if (waitFor.every((n) => found[n])) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  proc.removeAllListeners("exit");
  return Object.assign(server, {
    listening,
    base: `http://${listening.http}`,
    otlp: `http://${listening["otlp-http"]}/v1/traces`,
    log: () => log,
    stop: () => stopServer(server),
  });
}

export async function stopServer(server) {
  const i = servers.indexOf(server);
  if (i < 0) return;
  servers.splice(i, 1);
  if (server.proc.exitCode === null && server.proc.signalCode === null) {
    const exited = new Promise((r) => server.proc.once("exit", r));
    server.proc.kill("SIGTERM");
    await exited;
  }
  if (server.owned) fs.rmSync(server.dataDir, { recursive: true, force: true });
}

export async function stopAllServers() {
  for (const s of [...servers]) await stopServer(s);
}

export async function launchBrowser(chromium) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

// ---- reporting ----
let failures = 0;
let passes = 0;
export async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passes++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.stack || e.message}`);
  }
}
export function assert(cond, message) {
  if (!cond) throw new Error(message);
}
// Stops what is still running, prints the tally and exits 0 or 1.
export async function finish(browser, note = "") {
  if (browser) await browser.close();
  await stopAllServers();
  console.log(`\n${passes} passed, ${failures} failed${note}`);
  process.exit(failures ? 1 : 0);
}

// Console errors of a page, without the 4xx answers a test provokes on purpose.
export function collectConsoleErrors(page) {
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return () => errors.filter((e) => !/status of 4\d\d|Failed to load resource/.test(e));
}

// ---- spans ----
export const hex = (n) => randomBytes(n).toString("hex");
export const ms = (x) => BigInt(Math.round(x * 1e6));
export const str = (key, value) => ({ key, value: { stringValue: String(value) } });
export const int = (key, value) => ({ key, value: { intValue: String(value) } });
export const SERVER = 2;
export const CLIENT = 3;
export const INTERNAL = 1;

// spans: {service, traceId, spanId, parent, name, kind, start (ns BigInt), dur (ms), error, attrs,
// events}; `resource` adds resource attributes to every service.
export function otlpBody(spans, { scope = "ariadne-e2e", resource = [], errorMessage = "failed" } = {}) {
  const byService = new Map();
  for (const s of spans) {
    if (!byService.has(s.service)) byService.set(s.service, []);
    byService.get(s.service).push(s);
  }
  return {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [str("service.name", service), ...resource] },
      scopeSpans: [
        {
          scope: { name: scope, version: "1.0" },
          spans: list.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parent || "",
            name: s.name,
            kind: s.kind,
            startTimeUnixNano: String(s.start),
            endTimeUnixNano: String(s.start + ms(s.dur)),
            attributes: s.attrs || [],
            events: s.events || [],
            status: s.error ? { code: 2, message: errorMessage } : { code: 0 },
          })),
        },
      ],
    })),
  };
}

// POSTs spans to an OTLP/HTTP URL in batches of `batch`.
export async function send(otlp, spans, { batch = 4000, headers = {}, ...bodyOptions } = {}) {
  for (let i = 0; i < spans.length; i += batch) {
    const r = await fetch(otlp, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(otlpBody(spans.slice(i, i + batch), bodyOptions)),
    });
    if (r.status !== 200) throw new Error(`OTLP POST: ${r.status} ${await r.text()}`);
  }
}
