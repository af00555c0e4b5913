// End-to-end test of the UI's X-Ray pages in a real browser against a server that requires SigV4
// on its X-Ray port (`--xray-access-key`): the pages call the X-Ray API in process through the
// query port (POST /api/v1/xray/<Operation>), so they load the groups and sampling rules, check
// a filter expression against the services that sent data, and create a group — while the X-Ray
// port itself still refuses an unsigned call.
//
//   node ui/e2e/xray_sigv4.mjs --ariadne build/bin/ariadne --ui-dir ui/dist
//
// Exit codes: 0 passed, 1 failed, 77 skipped (Chromium is not installed).
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const repo = path.resolve(here, "../..");
const ARIADNE = path.resolve(arg("--ariadne", path.join(repo, "build/bin/ariadne")));
const UI_DIR = path.resolve(arg("--ui-dir", path.join(repo, "ui/dist")));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} not found. Install Debian's chromium (./scripts/install-deps does) to run the browser tests.`);
  process.exit(77);
}
if (!fs.existsSync(path.join(UI_DIR, "index.html"))) {
  console.error(`FAIL: the web UI is not built (${UI_DIR}/index.html missing); run ./scripts/build-ui`);
  process.exit(1);
}
const { chromium } = await import("playwright-core");

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ariadne-ui-xray-sigv4-"));
const server = spawn(
  ARIADNE,
  ["serve", "--data-dir", dataDir, "--http", "0", "--otlp-http", "0", "--otlp-grpc", "0", "--xray", "0", "--zipkin", "0",
   "--xray-access-key", "AKIDUI:uis3cret", "--ui-dir", UI_DIR],
  { stdio: ["ignore", "pipe", "pipe"] },
);
let serverLog = "";
server.stderr.on("data", (d) => (serverLog += d));
const listening = await new Promise((resolve, reject) => {
  const found = {};
  let out = "";
  const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${serverLog}`)), 20000);
  server.stdout.on("data", (d) => {
    out += d;
    for (const m of out.matchAll(/^listening (\S+) (\S+)$/gm)) found[m[1]] = m[2];
    if (found.http && found.xray) {
      clearTimeout(timer);
      resolve(found);
    }
  });
  server.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${serverLog}`)));
});
const BASE = `http://${listening.http}`;
const XRAY = `http://${listening.xray}`;

// One X-Ray segment over the daemon protocol, so "backend-flask" is a service that sent data.
const now = Date.now() / 1000;
const traceId = `1-${Math.floor(now).toString(16).padStart(8, "0")}-${"5167".padStart(24, "0")}`;
const segment = { name: "backend-flask", id: "b000000000000001", trace_id: traceId, start_time: now - 2, end_time: now - 1.5 };
await new Promise((resolve, reject) => {
  const socket = dgram.createSocket("udp4");
  const port = Number(listening.xray.slice(listening.xray.lastIndexOf(":") + 1));
  socket.send(`{"format": "json", "version": 1}\n${JSON.stringify(segment)}`, port, "127.0.0.1", (e) => {
    socket.close();
    e ? reject(e) : resolve();
  });
});

let failures = 0;
let passes = 0;
async function check(name, fn) {
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
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();

await check("the X-Ray port refuses an unsigned call", async () => {
  const r = await fetch(`${XRAY}/Groups`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  assert(r.status === 403, `unsigned /Groups answered ${r.status}`);
});

await check("the sampling rules page lists the Default rule", async () => {
  await page.goto(`${BASE}/xray/sampling-rules`);
  await page.locator('tr[data-rule="Default"]').waitFor({ timeout: 15000 });
  assert((await page.locator('[data-testid="xray-unavailable"]').count()) === 0, "the page says the X-Ray API is unavailable");
});

await check("the groups page creates a group for a service that sent data", async () => {
  // The segment may still be on its way to the store: wait until the server lists the service.
  for (let i = 0; i < 100; i++) {
    const services = await (await fetch(`${BASE}/api/v1/services`)).json();
    if (JSON.stringify(services).includes("backend-flask")) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.goto(`${BASE}/xray/groups`);
  const button = page.locator("button:has-text('New group')");
  await button.waitFor({ timeout: 15000 });
  await button.click();
  await page.locator('[data-testid="group-form"] input[name="GroupName"]').fill("cruddur");
  await page.locator('[data-testid="group-form"] textarea, [data-testid="group-form"] input:not([name="GroupName"])').first().fill('service("backend-flask")');
  await page.locator('[data-testid="group-form"] button[type="submit"]').click();
  const row = page.locator('tr[data-group="cruddur"]');
  await row.waitFor({ timeout: 15000 });
  assert((await row.locator('[data-testid="group-nomatch"]').count()) === 0, "the group is flagged as matching no known service");
});

await check("the group exists on the server", async () => {
  const r = await fetch(`${BASE}/api/v1/xray/groups`);
  const body = await r.json();
  assert(r.status === 200 && body.groups.some((g) => g.GroupName === "cruddur" && !g.MatchesNoKnownService), JSON.stringify(body));
});

await browser.close();
server.kill("SIGTERM");
await new Promise((r) => server.on("exit", r));
fs.rmSync(dataDir, { recursive: true, force: true });
console.log(`\n${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
