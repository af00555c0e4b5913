// The web UI over HTTPS in Debian's Chromium (playwright-core from ui/node_modules): Chromium trusts
// exactly the server's self-signed certificate (by its public key hash, the way an operator would
// pin a private CA), opens the home page and a trace page over https:// and checks that the trace's
// span is drawn. Called by test_tls_clients.py.
//
//   node ui_tls.mjs --base https://127.0.0.1:PORT --trace TRACE_ID --span NAME --spki BASE64
//
// Exit codes: 0 passed, 1 failed, 77 skipped (Chromium is not installed).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  if (i < 0) throw new Error(`missing ${name}`);
  return args[i + 1];
};
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} not found (./scripts/install-deps installs Debian's chromium)`);
  process.exit(77);
}
const require = createRequire(path.resolve(here, '../../../ui/package.json'));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch {
  console.log('SKIP: playwright-core is not installed in ui/node_modules (./scripts/build-ui installs it)');
  process.exit(77);
}

const base = arg('--base');
const traceId = arg('--trace');
const spanName = arg('--span');
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic',
    `--ignore-certificate-errors-spki-list=${arg('--spki')}`],
});
let failed = false;
try {
  const page = await browser.newPage();
  const home = await page.goto(`${base}/`);
  if (!home || home.status() !== 200) throw new Error(`home page: status ${home && home.status()}`);
  if (!page.url().startsWith('https://')) throw new Error(`not https: ${page.url()}`);
  await page.goto(`${base}/traces/${traceId}`);
  await page.locator('[data-testid="waterfall"][data-drawn]').waitFor({ timeout: 20000 });
  const rows = await page.locator('.wf-row').allInnerTexts();
  if (!rows.some((t) => t.includes(spanName))) {
    throw new Error(`span '${spanName}' not in the waterfall: ${JSON.stringify(rows)}`);
  }
  console.log(`ok  the UI over ${base} shows trace ${traceId} with span '${spanName}'`);
} catch (e) {
  failed = true;
  console.error(`FAIL: ${e.stack || e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
