// End-to-end test of the UI's login in a real browser against a real server that has keys
// (docs/security.md): without a session cookie the UI shows its login page; a wrong key is
// refused with the server's message; a read key logs in (HttpOnly cookie), shows traces of its
// environment only and disables the admin-only X-Ray controls; an admin key enables them; logout
// brings the login page back.
//
//   node ui/e2e/auth.mjs --ariadne build/bin/ariadne --ui-dir ui/dist
//
// Exit codes: 0 passed, 1 failed, 77 skipped (Chromium is not installed).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { ARIADNE, assert, check, finish, launchBrowser, prerequisites, startServer, tempDataDir } from "./lib/harness.mjs";

const chromium = await prerequisites();

// ---------------------------------------------------------------------------------------------
// Keys and server
const dataDir = tempDataDir("ariadne-ui-auth-");
const createKey = (...flags) =>
  execFileSync(ARIADNE, ["keys", "create", ...flags, "--data-dir", dataDir], { stdio: ["ignore", "pipe", "ignore"] })
    .toString()
    .trim();
const ingestProd = createKey("--role", "ingest", "--env", "prod");
const ingestDev = createKey("--role", "ingest", "--env", "dev");
const readProd = createKey("--role", "read", "--env", "prod");
const readAll = createKey("--role", "read");
const admin = createKey("--role", "admin");

const server = await startServer({ dataDir, waitFor: ["http", "otlp-http"] });
const BASE = server.base;
const OTLP = server.otlp;

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

// ---------------------------------------------------------------------------------------------
// Browser
const browser = await launchBrowser(chromium);
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

await server.stop();
fs.rmSync(dataDir, { recursive: true, force: true });
await finish(browser);
