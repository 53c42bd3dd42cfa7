// Uses the web app's live page (#/live/{id}) in Debian's headless Chromium
// against a real server that browser_test.sh started: creates a test-pattern
// channel through the API (1 s segments, a 30 s DVR window, one 240p rung),
// opens its page with the admin key once (the key is kept in localStorage and
// dropped from the address bar), checks that hls.js plays near the live
// edge, seeks 10 s back into the DVR window with the keyboard (playback goes
// on there and the Go live button says "behind live"), goes back live with
// the button, adds a marker through the page's form and finds it in the
// marker table and on the timeline at the time the server gave it, seeks to
// it from the table, ends the event (ENDLIST reaches the player), then uses
// the admin page's "Live channels" section: the channel is listed, a second
// test channel is created from the form, gets a new viewer token (the old one
// is refused) and is deleted from its page; a viewer without the key (on a
// phone-sized screen) plays the ended event without management. Any console
// warning or error, page exception, failed request, unexpected HTTP error or
// request to another origin is a failure. Every wait has a deadline.
// Screenshots next to SHOT.png. Prints one JSON line; exit 0 only when every
// step held.
//   HLSGATE_TEST_API_TOKEN=T node live_page.js BASE_URL SHOT.png
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const [base, shot] = process.argv.slice(2, 4);
const apiToken = process.env.HLSGATE_TEST_API_TOKEN;
const origin = new URL(base).origin;
const problems = [];
const steps = [];
const started = Date.now();
const shotPath = (n) => shot.replace(/\.png$/, '-' + n + '.png');

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}
function step(name) {
  steps.push(name + ' ' + ((Date.now() - started) / 1000).toFixed(1) + 's');
}

async function apiFetch(pathAndQuery, init) {
  const r = await fetch(base + pathAndQuery, init);
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch (_) { body = text; }
  return { status: r.status, headers: r.headers, body };
}

/// Polls `fn` (async, truthy when done) every 200 ms until `ms` have passed.
async function until(what, ms, fn) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out (' + ms + ' ms): ' + what);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/// Labels and names a screen reader needs, on the view on screen.
async function checkLabels(page, view) {
  const missing = await page.evaluate(() => {
    const out = [];
    const visible = (e) => e.offsetParent !== null || e.getClientRects().length > 0;
    for (const e of document.querySelectorAll('input, select, textarea')) {
      if (e.type === 'hidden') continue;
      const named = e.labels && e.labels.length > 0 || e.getAttribute('aria-label');
      if (!named) out.push(e.outerHTML.slice(0, 80));
    }
    for (const e of document.querySelectorAll('button, a[href]')) {
      if (!visible(e)) continue;
      if (!(e.getAttribute('aria-label') || e.textContent.trim())) out.push(e.outerHTML.slice(0, 80));
    }
    if (!document.querySelector('h1')) out.push('no h1');
    return out;
  });
  check(missing.length === 0, view + ': unlabelled ' + JSON.stringify(missing));
}

function watch(page, label) {
  page.on('console', (m) => {
    if (/^Failed to load resource: the server responded with a status of/.test(m.text())) return;
    if (m.type() === 'error' || m.type() === 'warning' || m.type() === 'warn')
      problems.push(label + ' console ' + m.type() + ': ' + m.text());
  });
  page.on('pageerror', (e) => problems.push(label + ' page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // hls.js cancels requests when it seeks, switches or is destroyed.
    if (r.failure() && r.failure().errorText === 'net::ERR_ABORTED') return;
    problems.push(label + ' request failed: ' + r.url() + ' ' + (r.failure() && r.failure().errorText));
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'))
      problems.push(label + ' outside request: ' + u);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(label + ' HTTP ' + r.status() + ' for ' + new URL(r.url()).pathname);
  });
}

/// The live player's position against its window (see player.js live.status()).
const live = (page) => page.evaluate(() => {
  const p = window.hlsgateCurrentPlayer;
  const s = p && p.live && p.live.status();
  const b = document.querySelector('.go-live');
  return s && { start: s.start, end: s.end, sync: s.sync, behind: s.behind, atEdge: s.atEdge, live: s.live, td: s.td,
    t: p.video.currentTime, paused: p.video.paused, errors: p.state.errors.slice(),
    button: b && { state: b.dataset.state, text: b.textContent, label: b.getAttribute('aria-label'), hidden: b.hidden } };
});

/// Waits until the playhead has moved `seconds` past where it is now while playing.
async function playsOn(page, seconds, what) {
  const from = (await live(page)).t;
  await until(what + ': currentTime advances ' + seconds + ' s from ' + from.toFixed(1), 15000, async () => {
    const s = await live(page);
    check(s.errors.length === 0, 'player errors ' + JSON.stringify(s.errors));
    return s.t >= from + seconds && !s.paused;
  });
}

async function main() {
  const created = await apiFetch('/live', { method: 'POST', headers: { Authorization: 'Bearer ' + apiToken },
    body: JSON.stringify({ name: 'Browser test', source: { type: 'test' }, segment_seconds: 1, dvr_window_seconds: 30, ladder: '240:300k' }) });
  check(created.status === 201, 'POST /live ' + created.status + ' ' + JSON.stringify(created.body));
  const { channel_id: id, access_token: token, admin_key: key } = created.body;
  // The master playlist answers 503 until the first segments exist: wait
  // here, so that the page's requests all succeed.
  await until('first segments of the channel', 20000,
    async () => (await apiFetch('/live/' + id + '/playlist.m3u8?token=' + token)).status === 200);
  step('channel');

  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hlsgate-live-'));
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: false, userDataDir, pipe: true, protocolTimeout: 60000,
    timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required',
      '--user-data-dir=' + userDataDir],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    watch(page, 'live');

    // -- open with the admin key once: kept, and gone from the address bar ----------
    await page.goto(base + '/#/live/' + id + '?token=' + token + '&admin_key=' + key, { waitUntil: 'load', timeout: 30000 });
    await page.waitForSelector('#marker-form', { timeout: 10000 });
    check(await page.evaluate(() => !/admin_key/.test(location.href)), 'admin key dropped from the address');
    const kept = await page.evaluate((i) => window.hlsgate.channels.get(i), id);
    check(kept && kept.admin_key === key && kept.access_token === token, 'keys kept in this browser ' + JSON.stringify(kept));
    await until('admin status line', 10000, () => page.$eval('#live-status', (e) => /^Live · \d+ viewer/.test(e.textContent)));
    await until('heading from the channel', 10000, () => page.$eval('#live-h', (e) => e.textContent === 'Browser test'));
    step('open');

    // -- hls.js plays, near the live edge ----------------------------------------------
    await until('the live player', 15000, () => page.evaluate(() => !!(window.hlsgateCurrentPlayer && window.hlsgateCurrentPlayer.live)));
    await until('playback starts', 15000, async () => { const s = await live(page); return s && s.t > 0 && !s.paused; });
    await playsOn(page, 2, 'live playback');
    let s = await live(page);
    check(s.live && s.atEdge && s.end - s.t < 3 * s.td + 3, 'near the live edge ' + JSON.stringify(s));
    check(s.button && s.button.state === 'live' && s.button.text === 'Live' && !s.button.hidden, 'the button shows "Live" ' + JSON.stringify(s.button));
    await checkLabels(page, 'live page');
    step('plays live');

    // -- seek 10 s back into the DVR window (keyboard: two ← of 5 s) ------------------
    await until('a DVR window of 15 s', 25000, async () => { const w = await live(page); return w.sync - w.start >= 13; });
    const before = (await live(page)).t;
    await page.focus('video');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await until('the seek lands', 5000, async () => Math.abs((await live(page)).t - (before - 10)) < 1.5);
    await playsOn(page, 2, 'playback in the DVR window');
    s = await live(page);
    check(s.behind > 7 && s.behind < 14 && !s.atEdge, 'about 10 s behind live ' + JSON.stringify(s));
    check(s.button.state === 'behind' && s.button.text === 'Go live' && /^0:(0[89]|1\d) behind live/.test(s.button.label),
      'the Go live button says the playhead is behind live ' + JSON.stringify(s.button));
    const timeText = await page.$eval('.controls .time', (e) => e.textContent);
    check(/^−0:1\d|^−0:0[89]/.test(timeText), 'time shows the distance to live: ' + timeText);
    await page.screenshot({ path: shotPath('behind') });
    step('dvr seek');

    // -- Go live -------------------------------------------------------------------------
    await page.click('.go-live');
    await until('back at the live edge', 10000, async () => {
      const w = await live(page);
      return w.atEdge && w.button.state === 'live' && w.end - w.t < 3 * w.td + 3;
    });
    await playsOn(page, 1, 'playback at the edge');
    step('go live');

    // -- a marker through the form: table, timeline, seek from the table ---------------
    await page.type('#marker-label', 'Browser goal');
    await page.type('#marker-class', 'sports.goal');
    await page.type('#marker-duration', '3');
    await page.click('#marker-add');
    const row = '#marker-body tr.marker-row';
    const mid = await until('the marker in the table', 10000, () => page.evaluate((r) => {
      const tr = Array.from(document.querySelectorAll(r)).find((e) => e.querySelector('.marker-label').textContent === 'Browser goal');
      return tr && tr.dataset.markerId;
    }, row));
    const listed = await apiFetch('/live/' + id + '/markers?token=' + token);
    const m = listed.body.markers.find((x) => x.id === mid);
    check(m && m.label === 'Browser goal' && m['class'] === 'sports.goal' && m.duration === 3, 'marker on the server ' + JSON.stringify(m));
    const cells = await page.$eval('#marker-body tr[data-marker-id="' + mid + '"]', (tr) => Array.from(tr.cells).map((c) => c.textContent));
    check(cells[1] === 'Browser goal' && cells[2] === 'sports.goal' && cells[3] === '0:03', 'table row ' + JSON.stringify(cells));
    // On the timeline once a segment of the window holds its start, where
    // the segments' program date times put it.
    const tick = await until('the marker on the timeline', 15000, () => page.evaluate((i, ms) => {
      const t = document.querySelector('.marker-strip .tick[data-marker-id="' + i + '"]');
      const p = window.hlsgateCurrentPlayer;
      if (!t || !p) return null;
      const st = p.live.status();
      const strip = t.parentElement.getBoundingClientRect();
      const r = t.getBoundingClientRect();
      const dr = p.hls.latestLevelDetails.dateRanges[i];
      return { frac: (r.left - strip.left) / strip.width, want: (p.live.timeOfDate(ms) - st.start) / (st.end - st.start),
        time: Number(t.dataset.time), mapped: p.live.timeOfDate(ms), daterange: dr ? dr.startTime : null, band: t.classList.contains('band') };
    }, mid, m.start_ms));
    // (the window slides by a segment a second: the tick was placed up to a
    // timeupdate ago)
    check(Math.abs(tick.frac - tick.want) < 0.05 && Math.abs(tick.time - tick.mapped) < 0.25 && tick.band,
      'tick placed at the marker ' + JSON.stringify(tick));
    check(tick.daterange !== null && Math.abs(tick.daterange - tick.mapped) < 0.1,
      'the EXT-X-DATERANGE hls.js parsed agrees with the program date times ' + JSON.stringify(tick));
    await until('row in the window', 5000, () => page.$eval('#marker-body tr[data-marker-id="' + mid + '"]', (e) => e.dataset.inWindow === 'yes'));
    // Play a few seconds on, then jump back to the marker from the table.
    await playsOn(page, 3, 'playback after the marker');
    await page.click('#marker-body tr[data-marker-id="' + mid + '"] td');
    await until('seek to the marker', 5000, async () => {
      const at = await page.evaluate((ms) => window.hlsgateCurrentPlayer.live.timeOfDate(ms), m.start_ms);
      const w = await live(page);
      return at !== null && w.t >= at - 0.2 && w.t < at + 1;
    });
    await playsOn(page, 1, 'playback from the marker');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: shot, fullPage: true });
    step('marker');

    // -- archive the window: a media item of this browser's library ----------------------
    await page.click('#archive-window');
    await page.waitForSelector('#archive-link', { timeout: 15000 });
    const archiveId = (await page.$eval('#archive-link', (a) => a.getAttribute('href'))).replace('#/media/', '');
    const archiveEntry = await page.evaluate((mid) => JSON.parse(localStorage.getItem('hlsgate.library.v1') || '[]')
      .find((e) => e.media_id === mid) || null, archiveId);
    check(archiveEntry && archiveEntry.admin_key && archiveEntry.access_token && /\(archive\)$/.test(archiveEntry.name), 'the archive is in the library with its keys: ' + JSON.stringify(archiveEntry));
    const archived = await apiFetch('/media/' + archiveId + '/info', { headers: { 'X-Admin-Key': archiveEntry.admin_key } });
    check(archived.status === 200, 'the archive exists (info ' + archived.status + ')');
    await page.screenshot({ path: shotPath('archived'), fullPage: true });
    step('archive');

    // -- end the event: the playlist closes, the player knows ---------------------------
    await page.click('#stop-event');
    await page.waitForSelector('#confirm[open]', { timeout: 5000 });
    await page.click('#confirm-ok');
    await until('status ended', 10000, () => page.$eval('#live-status', (e) => e.dataset.status === 'ended' && /^Ended/.test(e.textContent)));
    await until('ENDLIST reaches hls.js', 10000, async () => { const w = await live(page); return w.live === false && w.button.hidden; });
    check(await page.$eval('#stop-event', (e) => e.hidden), 'no stop button once ended');
    step('stop');

    // -- the admin page: listed; a new test channel from the form, deleted again -----
    await page.evaluate((t) => sessionStorage.setItem('hlsgate.apiToken', t), apiToken);
    await page.goto(base + '/#/admin', { waitUntil: 'load' });
    await until('the channel in the admin list', 10000, () => page.evaluate((i) => {
      const tr = document.querySelector('#live-body tr[data-channel-id="' + i + '"]');
      return tr && tr.querySelector('a[href^="#/live/"]') && tr.cells[1].textContent === 'Ended';
    }, id));
    await checkLabels(page, 'admin');
    await page.screenshot({ path: shotPath('admin'), fullPage: true });
    await page.$eval('#live-name', (e) => { e.value = 'Made in the admin page'; });
    await page.$eval('#live-ladder', (e) => { e.value = '240:300k'; });
    await page.$eval('#live-segment', (e) => { e.value = '1'; });
    await page.$eval('#live-dvr', (e) => { e.value = '30'; });
    // It pulls the first channel's (ended) playlist over HTTP, as an upstream would be.
    await page.$eval('#live-pull-url', (e, u) => { e.value = u; }, base + '/live/' + id + '/playlist.m3u8?token=' + token);
    await page.click('#live-create');
    const second = await until('the new channel\'s page', 10000, () => page.evaluate(() => {
      const h = /^#\/live\/([A-Za-z0-9_-]+)\?token=/.exec(location.hash);
      return h && document.getElementById('marker-form') ? h[1] : null;
    }));
    const e2 = await page.evaluate((i) => window.hlsgate.channels.get(i), second);
    check(e2 && e2.admin_key && e2.access_token && e2.name === 'Made in the admin page', 'new channel kept ' + JSON.stringify(e2));
    await until('its heading', 5000, () => page.$eval('#live-h', (e) => e.textContent === 'Made in the admin page'));
    const pulled = (await apiFetch('/live/' + second, { headers: { Authorization: 'Bearer ' + apiToken } })).body;
    check(pulled.source && pulled.source.type === 'pull' && !String(pulled.source.url).includes('token'), 'a pull channel, its source URL without the token: ' + JSON.stringify(pulled.source));
    await page.waitForFunction(() => window.hlsgateCurrentPlayer && window.hlsgateCurrentPlayer.video.currentTime > 0.5, { timeout: 30000 });
    // A new viewer token: the page moves to it, the old one is refused.
    await page.click('#refresh-token');
    await page.waitForSelector('#confirm[open]', { timeout: 5000 });
    await page.click('#confirm-ok');
    const fresh = await until('the page on the new token', 10000, () => page.evaluate((old) => {
      const t = new URLSearchParams(location.hash.split('?')[1] || '').get('token');
      return t && t !== old && document.getElementById('marker-form') ? t : null;
    }, e2.access_token));
    check((await page.evaluate((i) => window.hlsgate.channels.get(i), second)).access_token === fresh, 'new token kept');
    check((await apiFetch('/live/' + second + '/markers?token=' + e2.access_token)).status === 403, 'old token refused');
    check((await apiFetch('/live/' + second + '/markers?token=' + fresh)).status === 200, 'new token works');
    await page.click('#delete-channel');
    await page.waitForSelector('#confirm[open]', { timeout: 5000 });
    await page.click('#confirm-ok');
    await until('back on the admin page', 10000, () => page.evaluate(() => location.hash === '#/admin' && !!document.getElementById('live-body')));
    check(!(await page.evaluate((i) => window.hlsgate.channels.get(i), second)), 'deleted channel forgotten');
    check((await apiFetch('/live/' + second, { headers: { Authorization: 'Bearer ' + apiToken } })).status === 404, 'deleted on the server');
    step('admin');

    // -- a viewer without the admin key: no management ---------------------------------
    const viewer = await browser.createBrowserContext();
    const vp = await viewer.newPage();
    await vp.setViewport({ width: 390, height: 844, isMobile: true });
    watch(vp, 'viewer');
    await vp.goto(base + '/#/live/' + id + '?token=' + token, { waitUntil: 'load' });
    await vp.waitForSelector('#marker-body tr[data-marker-id="' + mid + '"]', { timeout: 10000 });
    check(!(await vp.$('#marker-form')) && !(await vp.$('#stop-event')) && !!(await vp.$('details.manage-key')),
      'a viewer gets no management, only the admin key field');
    await vp.waitForFunction(() => window.hlsgateCurrentPlayer && window.hlsgateCurrentPlayer.video.currentTime > 0.5, { timeout: 15000 });
    // The status follows the player's own view of the playlist (ENDLIST), which
    // it updates on its next check: wait for it, bounded.
    check(!!(await until('the viewer status', 10000, () => vp.$eval('#live-status', (e) => /^The event has ended/.test(e.textContent)))),
      'a viewer sees the event ended');
    const overflow = await vp.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, 'no horizontal overflow on a phone (' + overflow + ' px)');
    await vp.screenshot({ path: shotPath('phone'), fullPage: true });
    await viewer.close();
    step('viewer');
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  await apiFetch('/live/' + id, { method: 'DELETE', headers: { Authorization: 'Bearer ' + apiToken } });
}

main().catch((e) => problems.push('error: ' + e.message)).finally(() => {
  console.log(JSON.stringify({ steps, problems, seconds: (Date.now() - started) / 1000 }));
  process.exit(problems.length === 0 && steps.some((s) => s.startsWith('viewer')) ? 0 : 1);
});
