// Uses hlsgate's web app (/ and /embed/{id}) in Debian's headless Chromium the
// way a user does, against a real server that browser_test.sh started:
// drops a generated clip on the upload zone and watches byte then transcode
// progress, finds it in the library after a reload, exports and re-imports
// the library, plays it (quality switch, audio and subtitle menus, storyboard thumbnail
// under the pointer, keyboard), reads the countdown, extends, shares, opens
// the embed page, refreshes the token (the old link must then be refused),
// signs in as admin (a wrong token is refused) and finds an item uploaded
// elsewhere, filters, and deletes through the confirmation dialog. Checks
// labels on every view and that nothing overflows a phone's width. Any console
// warning or error, page exception, failed request, unexpected HTTP error or
// request to another origin is a failure. Saves screenshots next to SHOT.png.
// Prints one JSON line; exit status 0 only when every step held.
//   HLSGATE_TEST_API_TOKEN=T HLSGATE_TEST_WORK=DIR node app_page.js BASE_URL SHOT.png
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const [base, shot] = process.argv.slice(2, 4);
const apiToken = process.env.HLSGATE_TEST_API_TOKEN;
const work = process.env.HLSGATE_TEST_WORK || os.tmpdir();
const origin = new URL(base).origin;
const problems = [];
const steps = [];
const allowedErrors = []; // [{path, status}] a step provokes on purpose
const shotPath = (n) => shot.replace(/\.png$/, '-' + n + '.png');

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}
function step(name) {
  steps.push(name);
}

/// A test pattern with a tone; `languages` adds a second audio track (German,
/// named "Deutsch"), so that the player has an audio menu.
function makeClip(file, seconds, languages) {
  const d = ':duration=' + seconds;
  const args = ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25' + d,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000' + d];
  if (languages) args.push('-f', 'lavfi', '-i', 'sine=frequency=880:sample_rate=48000' + d);
  args.push('-map', '0:v', '-map', '1:a');
  if (languages) args.push('-map', '2:a', '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=ger',
    '-metadata:s:a:1', 'title=Deutsch', '-disposition:a:0', 'default', '-disposition:a:1', '0');
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50',
    '-c:a', 'aac', '-b:a', '64k', '-shortest', file);
  execFileSync('ffmpeg', args);
}

async function apiFetch(pathAndQuery, init) {
  const r = await fetch(base + pathAndQuery, init);
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch (_) { body = text; }
  return { status: r.status, headers: r.headers, body };
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
    for (const e of document.querySelectorAll('img')) if (!e.hasAttribute('alt')) out.push(e.outerHTML.slice(0, 80));
    if (!document.querySelector('h1')) out.push('no h1');
    return out;
  });
  check(missing.length === 0, view + ': unlabelled ' + JSON.stringify(missing));
}

function watch(page, label) {
  page.on('console', (m) => {
    // Chromium logs every HTTP error as a console error too; the response
    // listener below judges those.
    if (/^Failed to load resource: the server responded with a status of/.test(m.text())) return;
    if (m.type() === 'error' || m.type() === 'warning' || m.type() === 'warn')
      problems.push(label + ' console ' + m.type() + ': ' + m.text());
  });
  page.on('pageerror', (e) => problems.push(label + ' page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // hls.js cancels requests when it switches level or is destroyed.
    if (r.failure() && r.failure().errorText === 'net::ERR_ABORTED') return;
    problems.push(label + ' request failed: ' + r.url() + ' ' + (r.failure() && r.failure().errorText));
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'))
      problems.push(label + ' outside request: ' + u);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const u = new URL(r.url());
    const i = allowedErrors.findIndex((a) => u.pathname === a.path && a.status === r.status());
    if (i >= 0) allowedErrors.splice(i, 1);
    else problems.push(label + ' HTTP ' + r.status() + ' for ' + u.pathname);
  });
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);
const value = (page, sel) => page.$eval(sel, (e) => e.value);

async function main() {
  const clip = path.join(work, 'drop-me.mp4');
  const other = path.join(work, 'elsewhere.mp4');
  makeClip(clip, 12, true);
  makeClip(other, 3);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hlsgate-app-'));
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: false, userDataDir, pipe: true, protocolTimeout: 60000,
    timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required',
      '--user-data-dir=' + userDataDir],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    watch(page, 'app');

    // -- the page and its headers ---------------------------------------------------
    const resp = await page.goto(base + '/', { waitUntil: 'load', timeout: 30000 });
    check(resp.status() === 200, 'GET / answered ' + resp.status());
    const h = resp.headers();
    check(/frame-ancestors 'none'/.test(h['content-security-policy'] || ''), 'CSP of / forbids framing');
    check(h['x-frame-options'] === 'DENY', 'X-Frame-Options DENY');
    await page.waitForSelector('#drop');
    await checkLabels(page, 'home');
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.className === 'skip'), 'first Tab reaches the skip link');
    await page.keyboard.press('Enter');
    check(await page.evaluate(() => document.activeElement.id === 'main' && !!document.getElementById('drop')),
      'the skip link moves focus to the content and keeps the view');
    step('home');

    // -- drop a file: byte progress, then transcode progress, then ready --------------
    await page.evaluate(() => {
      window.__seen = new Set();
      new MutationObserver(() => {
        for (const s of document.querySelectorAll('.upload-status')) window.__seen.add(s.textContent.split(' ')[0]);
      }).observe(document.getElementById('view'), { subtree: true, childList: true, characterData: true });
    });
    // This server needs its API token for uploads: the first try is refused
    // and the token field appears; the user fills it in and retries.
    allowedErrors.push({ path: '/upload', status: 401 });
    const bytes = fs.readFileSync(clip).toString('base64');
    await page.evaluate((b64) => {
      const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([raw], 'drop-me.mp4', { type: 'video/mp4' }));
      const drop = document.getElementById('drop');
      drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await page.waitForSelector('#token-row:not([hidden])', { timeout: 10000 });
    await page.type('#upload-token', apiToken);
    await page.click('#uploads li.failed button');
    await page.waitForSelector('#uploads li[data-status="ready"]', { timeout: 120000 });
    const seen = await page.evaluate(() => Array.from(window.__seen));
    check(seen.includes('Uploading'), 'byte progress shown (saw ' + seen + ')');
    check(seen.includes('Transcoding'), 'transcode progress shown (saw ' + seen + ')');
    const id = await page.$eval('#uploads li', (e) => e.dataset.mediaId);
    const entry = await page.evaluate((i) => window.hlsgate.library.get(i), id);
    check(entry && entry.admin_key && entry.access_token, 'keys kept in the browser');
    await page.waitForFunction((i) => {
      const r = document.querySelector('#library-body tr[data-media-id="' + i + '"] .status');
      return r && r.textContent === 'Ready';
    }, { timeout: 10000 }, id);
    await page.screenshot({ path: shotPath('home') });
    step('upload');

    // A subtitle track, so that the player has a subtitle menu.
    const vtt = 'WEBVTT\n\n00:00:00.500 --> 00:00:05.000\nBonjour\n\n00:00:05.000 --> 00:00:11.000\nAu revoir\n';
    const sub = await apiFetch('/media/' + id + '/subtitles?language=fr&name=Fran%C3%A7ais',
      { method: 'POST', headers: { 'X-Admin-Key': entry.admin_key }, body: vtt });
    check(sub.status === 201, 'subtitles added: ' + sub.status);

    // -- the library survives a reload; export, clear, import ---------------------------
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('#library-body tr[data-media-id="' + id + '"]');
    const exported = await page.evaluate(() => window.hlsgate.library.exportJson());
    await page.click('#export'); // the download link must not raise anything
    const exportFile = path.join(work, 'library.json');
    fs.writeFileSync(exportFile, exported);
    await page.evaluate(() => localStorage.clear());
    await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => !document.getElementById('library-empty').hidden);
    const input = await page.$('#import-file');
    await input.uploadFile(exportFile);
    await page.waitForSelector('#library-body tr[data-media-id="' + id + '"]', { timeout: 10000 });
    check((await page.evaluate((i) => window.hlsgate.library.get(i), id)).admin_key === entry.admin_key,
      'import restored the admin key');
    step('library');

    // -- the media page: player, menus, storyboard, keyboard ----------------------------
    await page.click('#library-body tr[data-media-id="' + id + '"] a');
    await page.waitForFunction(() => window.hlsgateCurrentPlayer && window.hlsgateCurrentPlayer.state.levels.length >= 2,
      { timeout: 30000 });
    await checkLabels(page, 'media');
    const q = await page.$$eval('.controls select.quality option', (o) => o.map((x) => x.textContent));
    check(q.length === 3 && q[0].startsWith('Auto') && /360p/.test(q[1]) && /240p/.test(q[2]), 'quality menu ' + q);
    await page.waitForFunction(() => !document.querySelector('select.subs').closest('label').hidden, { timeout: 30000 });
    const subsMenu = await page.$$eval('select.subs option', (o) => o.map((x) => x.textContent));
    check(subsMenu.length === 2 && subsMenu[1] === 'Français', 'subtitle menu ' + subsMenu);
    check(await page.$eval('video', (v) => /\/poster\.jpg\?token=/.test(v.poster)), 'poster set');
    const audioMenu = await page.$$eval('select.audio option', (o) => o.map((x) => x.textContent));
    check(audioMenu.length === 2 && !(await page.$eval('select.audio', (e) => e.closest('label').hidden)),
      'audio menu ' + audioMenu);
    await page.click('.controls .mute');
    await page.focus('.controls .play');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('video').currentTime > 1.5, { timeout: 20000 });
    await page.focus('video');
    await page.keyboard.press('k');
    await page.waitForFunction(() => document.querySelector('video').paused, { timeout: 5000 });
    await page.keyboard.press('k');
    await page.waitForFunction(() => !document.querySelector('video').paused, { timeout: 5000 });
    await page.select('select.subs', '0');
    await page.waitForFunction(() => Array.from(document.querySelector('video').textTracks)
      .some((t) => t.mode === 'showing' && t.cues && t.cues.length > 0), { timeout: 30000 });
    await page.select('select.audio', '1');
    await page.waitForFunction(() => window.hlsgateCurrentPlayer.hls.audioTrack === 1, { timeout: 30000 });
    const lowest = await page.$eval('select.quality', (s) => s.options[2].value);
    await page.select('select.quality', lowest);
    await page.waitForFunction((l) => window.hlsgateCurrentPlayer.hls.currentLevel === Number(l), { timeout: 30000 }, lowest);
    await page.waitForFunction(() => window.hlsgateCurrentPlayer.state.storyboard.length > 1, { timeout: 10000 });
    const bar = await (await page.$('.seek')).boundingBox();
    await page.mouse.move(bar.x + bar.width * 0.6, bar.y + bar.height / 2);
    await page.waitForFunction(() => {
      const p = document.querySelector('.thumb-preview');
      const img = document.querySelector('.thumb-img');
      return p && !p.hidden && !img.hidden && /sprite\.jpg\?token=/.test(img.style.backgroundImage);
    }, { timeout: 5000 });
    const thumb = await page.evaluate(() => window.hlsgateCurrentPlayer.state.shownThumb);
    check(thumb && thumb.start > 4 && thumb.start < 10, 'thumbnail of the hovered time ' + JSON.stringify(thumb));
    await page.screenshot({ path: shotPath('player') });
    step('player');

    // -- countdown and extend ----------------------------------------------------------
    const before = await text(page, '#media-expires time');
    check(/^in \d+ min \d+ s$|^in \d+ h/.test(before), 'countdown text ' + before);
    await page.waitForFunction((b) => document.querySelector('#media-expires time').textContent !== b, { timeout: 5000 }, before);
    const at0 = Date.parse(await page.$eval('#media-expires time', (t) => t.dataset.expires));
    await page.$eval('#extend-minutes', (e) => { e.value = '30'; });
    await page.click('#extend');
    await page.waitForFunction((a) => Date.parse(document.querySelector('#media-expires time').dataset.expires) > a,
      { timeout: 10000 }, at0);
    const at1 = Date.parse(await page.$eval('#media-expires time', (t) => t.dataset.expires));
    check(Math.abs(at1 - at0 - 30 * 60000) < 5000, 'extended by 30 min (' + (at1 - at0) + ' ms)');
    step('extend');

    // -- share link and embed ----------------------------------------------------------
    const link = await value(page, '#share-link');
    check(link.startsWith(origin + '/stream/' + id + '/playlist.m3u8?token='), 'share link ' + link);
    check((await apiFetch(link.slice(origin.length))).status === 200, 'share link plays');
    const code = await value(page, '#embed-code');
    const embedUrl = (/src="([^"]+)"/.exec(code) || [])[1] || '';
    check(embedUrl.startsWith(origin + '/embed/' + id + '?token='), 'embed code ' + code);
    const embed = await browser.newPage();
    await embed.setViewport({ width: 640, height: 400 });
    watch(embed, 'embed');
    const er = await embed.goto(embedUrl, { waitUntil: 'load' });
    check(/frame-ancestors \*/.test(er.headers()['content-security-policy'] || '') && !er.headers()['x-frame-options'],
      'embed page may be framed');
    await embed.waitForFunction(() => window.hlsgateEmbed && window.hlsgateEmbed.state.levels.length >= 2, { timeout: 20000 });
    await embed.click('.controls .mute');
    await embed.click('.controls .play');
    await embed.waitForFunction(() => document.querySelector('video').currentTime > 1, { timeout: 20000 });
    await embed.screenshot({ path: shotPath('embed') });
    allowedErrors.push({ path: '/media/' + id + '/stream-info', status: 403 });
    await embed.goto(origin + '/embed/' + id + '?token=not.a.token', { waitUntil: 'load' });
    await embed.waitForFunction(() => { const a = document.querySelector('[role="alert"]'); return a && /no longer works/.test(a.textContent); },
      { timeout: 10000 });
    await embed.close();
    step('embed');

    // -- refresh: the old link is refused, the new one plays ----------------------------
    await page.click('#refresh');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForFunction((l) => document.getElementById('share-link').value !== l, { timeout: 10000 }, link);
    const fresh = await value(page, '#share-link');
    check((await apiFetch(link.slice(origin.length))).status === 403, 'old link refused after refresh');
    check((await apiFetch(fresh.slice(origin.length))).status === 200, 'new link plays');
    await page.waitForFunction(() => window.hlsgateCurrentPlayer.state.levels.length >= 2, { timeout: 20000 });
    const freshToken = new URL(fresh).searchParams.get('token');
    check((await page.evaluate((i) => window.hlsgate.library.get(i).access_token, id)) === freshToken,
      'library keeps the new token');
    const claims = JSON.parse(Buffer.from(freshToken.split('.')[1], 'base64url').toString());
    check(Math.abs(claims.exp * 1000 - at1) < 120000,
      'the refreshed token lives as long as the media (' + new Date(claims.exp * 1000).toISOString() + ')');
    step('refresh');

    // -- admin: wrong token refused, then every item, filter, open one ------------------
    const form = new FormData();
    form.append('media', new Blob([fs.readFileSync(other)]), 'elsewhere.mp4');
    const up = await apiFetch('/upload?async=true', { method: 'POST', body: form, headers: { Authorization: 'Bearer ' + apiToken } });
    check(up.status === 202 || up.status === 200, 'second upload ' + up.status);
    // The token typed for the upload signed this tab in: sign out first.
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(base + '/#/admin', { waitUntil: 'load' });
    await page.waitForSelector('#admin-token');
    await checkLabels(page, 'sign-in');
    allowedErrors.push({ path: '/media', status: 403 });
    await page.type('#admin-token', 'not-the-api-token-at-all');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /not the API token/.test(document.querySelector('.error').textContent), { timeout: 5000 });
    await page.$eval('#admin-token', (e) => { e.value = ''; });
    await page.type('#admin-token', apiToken);
    await page.keyboard.press('Enter');
    await page.waitForFunction((a, b) => document.querySelector('#admin-body tr[data-media-id="' + a + '"]') &&
      document.querySelector('#admin-body tr[data-media-id="' + b + '"]'), { timeout: 10000 }, id, up.body.media_id);
    await checkLabels(page, 'admin');
    await page.screenshot({ path: shotPath('admin') });
    await page.type('#filter-q', 'elsewhere');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('#admin-body tr[data-media-id]').length === 1, { timeout: 10000 });
    await page.click('#admin-body tr[data-media-id] a');
    await page.waitForFunction(() => document.getElementById('media-h') &&
      document.getElementById('media-h').textContent === 'elsewhere.mp4', { timeout: 10000 });
    await page.waitForFunction(() => /token=/.test(document.getElementById('share-link').value), { timeout: 30000 });
    step('admin');

    // -- delete through the dialog -----------------------------------------------------
    await page.goto(base + '/#/media/' + id, { waitUntil: 'load' });
    await page.waitForSelector('#delete');
    await page.click('#delete');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => location.hash === '#/', { timeout: 10000 });
    check(!(await page.evaluate((i) => window.hlsgate.library.get(i), id)), 'gone from the library');
    const gone = await apiFetch('/media/' + id + '/info', { headers: { 'X-Admin-Key': entry.admin_key } });
    check(gone.status === 404, 'deleted on the server: ' + gone.status);
    step('delete');

    // -- an entry with a viewer token only: play and share, no management ----------
    await page.evaluate(() => sessionStorage.clear());
    const viewerOnly = path.join(work, 'viewer-only.json');
    fs.writeFileSync(viewerOnly, JSON.stringify({ format: 'hlsgate-library', version: 1,
      items: [{ media_id: up.body.media_id, access_token: up.body.access_token, name: 'elsewhere.mp4' }] }));
    await (await page.$('#import-file')).uploadFile(viewerOnly);
    const row = '#library-body tr[data-media-id="' + up.body.media_id + '"]';
    await page.waitForFunction((r) => { const e = document.querySelector(r + ' .status'); return e && e.textContent === 'Viewer link only'; },
      { timeout: 10000 }, row);
    check(/^Forget/.test(await page.$eval(row + ' button', (b) => b.getAttribute('aria-label'))), 'viewer-only rows offer Forget');
    await page.click(row + ' a');
    await page.waitForFunction(() => window.hlsgateCurrentPlayer && window.hlsgateCurrentPlayer.state.levels.length >= 2,
      { timeout: 30000 });
    check(!(await page.$('#refresh')) && !(await page.$('#extend')), 'no management without an admin credential');
    check((await value(page, '#share-link')).includes(up.body.access_token), 'viewer-only share link');
    step('viewer-only');

    // -- a phone's width ---------------------------------------------------------------
    await page.setViewport({ width: 390, height: 844, isMobile: true });
    await page.goto(base + '/#/media/' + up.body.media_id, { waitUntil: 'load' });
    await page.waitForFunction(() => window.hlsgateCurrentPlayer && window.hlsgateCurrentPlayer.state.levels.length >= 2,
      { timeout: 30000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, 'no horizontal overflow on a phone (' + overflow + ' px)');
    await page.screenshot({ path: shotPath('phone'), fullPage: true });
    step('phone');
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  // Files that are not in the tables are never served.
  for (const p of ['/app/index.html', '/app/..%2fpackage.json', '/app/app.js.map', '/embed/a.b', '/embed/' + 'x'.repeat(65)])
    check((await apiFetch(p)).status === 404, p + ' is 404');
  if (allowedErrors.length) problems.push('expected HTTP errors not seen: ' + JSON.stringify(allowedErrors));
}

// A failed wait names its line of this file (puppeteer's message does not).
main().catch((e) => problems.push('error: ' + e.message + ' at ' +
  ((e.stack || '').split('\n').find((l) => l.includes('app_page.js')) || '?').trim())).finally(() => {
  console.log(JSON.stringify({ steps, problems }));
  process.exit(problems.length === 0 && steps.includes('phone') ? 0 : 1);
});
