// Opens hlsgate's /docs (Swagger UI) in Debian's headless Chromium and checks
// it the way a user sees it: the description loads, every operation of
// /openapi.json is listed, "Try it out" runs GET /health against the server,
// no request leaves the server's origin, and the console stays clean. Saves
// two screenshots (the top of the page; GET /health tried). Prints one JSON line; exit status 0 only when all held.
//   node docs_page.js BASE_URL SCREENSHOT.png [--chromium PATH]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const [base, shot] = process.argv.slice(2, 4);
const ci = process.argv.indexOf('--chromium');
const chromium = ci > 0 ? process.argv[ci + 1] : '/usr/bin/chromium';
const problems = [];
const result = { operations_listed: 0, operations_documented: 0, health_tried: false };

async function main() {
  const spec = await (await fetch(base + '/openapi.json')).json();
  for (const ops of Object.values(spec.paths))
    for (const m of Object.keys(ops)) if (['get', 'post', 'delete', 'head'].includes(m)) result.operations_documented++;
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hlsgate-docs-'));
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: false, userDataDir, pipe: true, protocolTimeout: 30000,
    timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--user-data-dir=' + userDataDir],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const origin = new URL(base).origin;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push('console ' + m.type() + ': ' + m.text());
    });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('requestfailed', (r) => problems.push('request failed: ' + r.url()));
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push('outside request: ' + r.url());
    });
    const resp = await page.goto(base + '/docs', { waitUntil: 'load', timeout: 30000 });
    if (!resp || resp.status() !== 200) problems.push('GET /docs answered ' + (resp && resp.status()));
    await page.waitForFunction(
      (n) => document.querySelectorAll('.opblock').length >= n, { timeout: 30000 },
      result.operations_documented);
    result.operations_listed = await page.$$eval('.opblock', (e) => e.length);
    await page.screenshot({ path: shot.replace(/\.png$/, '-top.png') });
    // Try GET /health from the page, as a user would.
    const health = await page.$('#operations-probes-getHealth, [id$="-getHealth"]');
    if (!health) throw new Error('no getHealth operation on the page');
    const click = async (sel) => {
      const el = await page.waitForSelector('[id$="-getHealth"] ' + sel, { timeout: 10000 });
      await el.click();
    };
    await click('.opblock-summary-control');
    await click('.try-out__btn');
    await click('.execute');
    await page.waitForFunction(() => {
      const c = document.querySelector('[id$="-getHealth"] .live-responses-table tr.response .response-col_status');
      return c && c.textContent.trim().startsWith('200');
    }, { timeout: 10000 });
    result.health_tried = true;
    await page.screenshot({ path: shot, fullPage: false });
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().catch((e) => problems.push('error: ' + e.message)).finally(() => {
  result.problems = problems;
  console.log(JSON.stringify(result));
  process.exit(problems.length === 0 && result.health_tried &&
    result.operations_listed === result.operations_documented ? 0 : 1);
});
