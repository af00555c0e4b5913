// End-to-end test of the UI's login in a real browser against a real server that has keys
// (docs/security.md): without a session cookie the UI shows its login page; a wrong key is
// refused with the server's message; a read key logs in (HttpOnly cookie), shows traces of its
// environment only and disables the admin-only X-Ray controls; an admin key enables them; logout
// brings the login page back.
//
//   node ui/e2e/auth.mjs --ariadne build/bin/ariadne --ui-dir ui/dist
//
// Exit codes: 0 passed, 1 failed, 77 skipped (Chromium is not installed).
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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

// ---------------------------------------------------------------------------------------------
// Keys and server
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ariadne-ui-auth-"));
const createKey = (...flags) =>
  execFileSync(ARIADNE, ["keys", "create", ...flags, "--data-dir", dataDir], { stdio: ["ignore", "pipe", "ignore"] })
    .toString()
    .trim();
const ingestProd = createKey("--role", "ingest", "--env", "prod");
const ingestDev = createKey("--role", "ingest", "--env", "dev");
const readProd = createKey("--role", "read", "--env", "prod");
const readAll = createKey("--role", "read");
const admin = createKey("--role", "admin");

const server = spawn(ARIADNE, ["serve", "--data-dir", dataDir, "--http", "0", "--otlp-http", "0", "--otlp-grpc", "0", "--xray", "0", "--zipkin", "0", "--ui-dir", UI_DIR], {
  stdio: ["ignore", "pipe", "pipe"],
});
let serverLog = "";
server.stderr.on("data", (d) => (serverLog += d));
const listening = await new Promise((resolve, reject) => {
  const found = {};
  let out = "";
  const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${serverLog}`)), 20000);
  server.stdout.on("data", (d) => {
    out += d;
    for (const m of out.matchAll(/^listening (\S+) (\S+)$/gm)) found[m[1]] = m[2];
    if (found.http && found["otlp-http"]) {
      clearTimeout(timer);
      resolve(found);
    }
  });
  server.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${serverLog}`)));
});
const BASE = `http://${listening.http}`;
const OTLP = `http://${listening["otlp-http"]}/v1/traces`;

const nowNs = BigInt(Date.now()) * 1000000n;
async function sendTrace(key, service) {
  const traceId = randomBytes(16).toString("hex");
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId: randomBytes(8).toString("hex"),
                name: `GET /${service}`,
                kind: 2,
                startTimeUnixNano: String(nowNs - 50000000n),
                endTimeUnixNano: String(nowNs),
              },
            ],
          },
        ],
      },
    ],
  };
  const r = await fetch(OTLP, { method: "POST", headers: { "Content-Type": "application/json", "x-honeycomb-team": key }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`OTLP POST: ${r.status} ${await r.text()}`);
  return traceId;
}
const prodTrace = await sendTrace(ingestProd, "shop-prod");
const devTrace = await sendTrace(ingestDev, "shop-dev");

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

// ---------------------------------------------------------------------------------------------
// Browser
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
const loginForm = page.locator('[data-testid="login-form"]');

async function logIn(key) {
  await page.locator('[data-testid="login-key"]').fill(key);
  await page.locator('[data-testid="login-submit"]').click();
}

await check("without a session cookie every page shows the login page", async () => {
  for (const p of ["/", "/traces", `/traces/${prodTrace}`, "/xray/groups"]) {
    await page.goto(`${BASE}${p}`);
    await loginForm.waitFor({ timeout: 15000 });
    assert((await page.locator('[data-testid="traces"]').count()) === 0, `traces shown on ${p} without login`);
  }
});

await check("a wrong key and an ingest key are refused with the server's message", async () => {
  await logIn("ark_00000000000000000000000000000000");
  await page.locator('[data-testid="login-error"]:has-text("unknown API key")').waitFor({ timeout: 10000 });
  await logIn(ingestProd);
  await page.locator('[data-testid="login-error"]:has-text("ingest key")').waitFor({ timeout: 10000 });
  assert(await loginForm.isVisible(), "login form gone after a refused key");
});

await check("a read key logs in with an HttpOnly SameSite=Strict cookie and sees its traces", async () => {
  await page.goto(`${BASE}/traces`);
  await logIn(readProd);
  const rows = page.locator('[data-testid="traces"] tbody tr');
  await rows.first().waitFor({ timeout: 15000 });
  const text = await page.locator('[data-testid="traces"]').innerText();
  assert(text.includes("shop-prod"), `prod trace not listed:\n${text}`);
  assert(!text.includes("shop-dev"), `a trace of another environment is listed:\n${text}`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "ariadne_session");
  assert(session, `no session cookie: ${JSON.stringify(cookies)}`);
  assert(session.httpOnly && session.sameSite === "Strict" && session.path === "/", `cookie flags: ${JSON.stringify(session)}`);
  assert(!session.value.includes(readProd), "the cookie holds the key");
  assert((await page.evaluate(() => document.cookie)).indexOf("ariadne_session") < 0, "cookie readable from script");
  const who = await page.locator('[data-testid="session-who"]').innerText();
  assert(who.includes("read") && who.includes("prod"), `nav shows: ${who}`);
});

await check("the read key opens its trace but not another environment's", async () => {
  await page.goto(`${BASE}/traces/${prodTrace}`);
  await page.locator('[data-testid="waterfall"][data-drawn]').waitFor({ timeout: 15000 });
  const r = await page.evaluate(async (id) => (await fetch(`/api/v1/traces/${id}`)).status, devTrace);
  assert(r === 404, `dev trace answered ${r} to a prod read key`);
});

await check("admin-only X-Ray controls are disabled for a read key", async () => {
  // X-Ray settings belong to the X-Ray environment ('default'): a prod key gets the server's 403.
  await page.goto(`${BASE}/xray/groups`);
  await page.locator("text=may only use environment").first().waitFor({ timeout: 15000 });
  await page.locator('[data-testid="logout"]').click();
  await loginForm.waitFor({ timeout: 15000 });
  await logIn(readAll);
  const button = page.locator("button:has-text('New group')");
  await button.waitFor({ timeout: 15000 });
  assert(await button.isDisabled(), "New group is enabled for a read key");
  await page.goto(`${BASE}/xray/sampling-rules`);
  const rule = page.locator("button:has-text('New rule')");
  await rule.waitFor({ timeout: 15000 });
  assert(await rule.isDisabled(), "New rule is enabled for a read key");
});

await check("logout ends the session and shows the login page", async () => {
  await page.locator('[data-testid="logout"]').click();
  await loginForm.waitFor({ timeout: 15000 });
  const status = await page.evaluate(async () => (await fetch("/api/v1/services")).status);
  assert(status === 401, `after logout /api/v1/services answered ${status}`);
  await page.goto(`${BASE}/`);
  await loginForm.waitFor({ timeout: 15000 });
});

await check("an admin key enables the X-Ray controls and can create a group", async () => {
  await page.goto(`${BASE}/xray/groups`);
  await logIn(admin);
  const button = page.locator("button:has-text('New group')");
  await button.waitFor({ timeout: 15000 });
  assert(!(await button.isDisabled()), "New group is disabled for an admin key");
  await button.click();
  await page.locator('[data-testid="group-form"] input[name="GroupName"]').fill("slow-shop");
  await page.locator('[data-testid="group-form"] textarea, [data-testid="group-form"] input:not([name="GroupName"])').first().fill("responsetime > 5");
  await page.locator('[data-testid="group-form"] button[type="submit"]').click();
  await page.locator('tr[data-group="slow-shop"]').waitFor({ timeout: 15000 });
});

await browser.close();
server.kill("SIGTERM");
await new Promise((r) => server.on("exit", r));
fs.rmSync(dataDir, { recursive: true, force: true });
console.log(`\n${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
