#!/usr/bin/env node
// Plays an HLS stream in a real browser player (hls.js or Shaka) in Debian's
// Chromium, headless, and reports every sign of trouble.
//
//   node play.js URL --player hls.js|shaka [--seek S] [--expect-duration D]
//        [--switch-levels] [--audio-track LANG] [--subtitle-track LANG]
//        [--rate R] [--start-position S] [--timeout S] [--stall-seconds S] [--verbose]
//
// --rate: playbackRate (default 2; use 1 for a playlist that is still
// growing). --start-position: where playback starts (default 0, also for
// EVENT playlists, which players otherwise start near their live edge).
// --verbose: the timeline on stderr. --player-log: also the player's own
// debug log (for diagnosis: hls.js's debug mode warns about benign things,
// and those warnings count as errors like any other).
//
// It serves its own player page (page.js + the player library from
// node_modules; no CDN) from a loopback HTTP server that also reverse-proxies
// every other path to URL's origin, so page and stream are same-origin. The
// page plays the stream from the start to the end (muted, at --rate), seeks
// into the middle (or to --seek) and plays to the end again. Collected as
// errors: every hls.js ERROR event (fatal or not), every Shaka error event,
// gapjumped / stalldetected / mediasourcerecovered / downloadfailed and
// Shaka's logged warnings, the <video> element's error, stalls longer than
// --stall-seconds, Chromium's media pipeline errors and warnings, console
// errors and warnings, page exceptions, failed requests and HTTP errors.
//
// Prints one JSON line: {player, played_seconds, duration, seeks, errors,
// levels_switched, audio_tracks, audio_track_active, subtitle_tracks,
// subtitle_track_active,
// subtitle_cues (with --subtitle-track: the selected track's cues in the
// <video> element), text_tracks, first_frame_time (the media time of the
// first frame presented, the origin of the player's timeline), requests,
// requests_by_type, vtt_requests (path and status of each WebVTT request),
// segment_folders (MPEG-TS segments fetched per rendition folder), ...}. Exit status 0 when
// errors is empty and the media played to its end, 1 otherwise, 2 on a usage
// or set-up error (run tests/players/setup.sh). Chromium is always killed.
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const here = __dirname;
const started = Date.now();

function usage(msg) {
  process.stderr.write(
    (msg ? 'play.js: ' + msg + '\n' : '') +
      'usage: play.js URL --player hls.js|shaka [--seek S] [--expect-duration D] [--switch-levels]\n' +
      '       [--audio-track LANG] [--subtitle-track LANG] [--rate R] [--start-position S] [--timeout S] [--stall-seconds S] [--verbose] [--player-log]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    url: null,
    player: null,
    seek: null,
    startPosition: 0,
    expectDuration: null,
    durationTolerance: 0.5,
    switchLevels: false,
    audioTrack: null,
    subtitleTrack: null,
    rate: 2,
    timeout: 180,
    stallSeconds: 4,
    verbose: false,
    playerLog: false,
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
  const num = (v, name) => {
    const x = Number(v);
    if (v === undefined || !isFinite(x)) usage(name + ' needs a number');
    return x;
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    switch (a) {
      case '--player': o.player = argv[++i]; break;
      case '--seek': o.seek = num(argv[++i], a); break;
      case '--start-position': o.startPosition = num(argv[++i], a); break;
      case '--expect-duration': o.expectDuration = num(argv[++i], a); break;
      case '--duration-tolerance': o.durationTolerance = num(argv[++i], a); break;
      case '--switch-levels': o.switchLevels = true; break;
      case '--audio-track': o.audioTrack = argv[++i]; break;
      case '--subtitle-track': o.subtitleTrack = argv[++i]; break;
      case '--rate': o.rate = num(argv[++i], a); break;
      case '--timeout': o.timeout = num(argv[++i], a); break;
      case '--stall-seconds': o.stallSeconds = num(argv[++i], a); break;
      case '--chromium': o.chromium = argv[++i]; break;
      case '--verbose': o.verbose = true; break;
      case '--player-log': o.playerLog = o.verbose = true; break;
      case '-h': case '--help': usage();
      default:
        if (a.startsWith('--') || o.url) usage('unknown argument ' + a);
        o.url = a;
    }
  }
  if (!o.url) usage('no URL');
  if (o.player !== 'hls.js' && o.player !== 'shaka') usage('--player must be hls.js or shaka');
  if (!(o.rate > 0 && o.rate <= 16)) usage('--rate must be in (0, 16]');
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const vlog = (...a) => {
  if (opt.verbose) process.stderr.write('[play.js ' + ((Date.now() - started) / 1000).toFixed(2) + 's] ' + a.join(' ') + '\n');
};

let origin;
try {
  origin = new URL(opt.url);
} catch (e) {
  usage('bad URL ' + opt.url);
}
if (origin.protocol !== 'http:') usage('only http:// origins are proxied');

// ---- set-up checks: a missing tool is a set-up error, not a pass -----------
const libs = {
  'hls.js': path.join(here, 'node_modules/hls.js/dist/hls.js'),
  shaka: path.join(here, 'node_modules/shaka-player/dist/shaka-player.compiled.debug.js'),
  'shaka-worker': path.join(here, 'node_modules/shaka-player/dist/shaka-player.transmuxer-worker.debug.js'),
};
let puppeteer;
try {
  puppeteer = require('puppeteer-core');
} catch (e) {
  setupError('puppeteer-core is not installed: run tests/players/setup.sh (' + e.message + ')');
}
if (!fs.existsSync(libs[opt.player])) setupError(libs[opt.player] + ' is missing: run tests/players/setup.sh');
if (!fs.existsSync(opt.chromium)) setupError(opt.chromium + ' is missing: run tests/players/setup.sh');

function setupError(msg) {
  process.stdout.write(JSON.stringify({ player: opt.player, setup_error: msg, errors: [{ source: 'harness', details: 'setup', fatal: true, message: msg }] }) + '\n');
  process.exit(2);
}

// ---- result -----------------------------------------------------------------
const errors = [];
const aborted = [];
const requests = [];
const pending = []; // console messages being formatted
let pageState = null;
let finished = false;
let browser = null;
let userDataDir = null;
let server = null;

function addError(e) {
  if (errors.length < 200) errors.push(e);
  else if (errors.length === 200) errors.push({ source: 'harness', details: 'tooManyErrors', message: 'more than 200 errors; the rest are dropped' });
  vlog('ERROR', JSON.stringify(e));
}

// A console error or warning is an error, with one exception: the check that
// Shaka's debug build makes after each append ("Possible encoding problem
// detected! Unexpected buffered range ... should be {start,end} but got
// {start,end}") fires whenever a segment's media differs from its EXTINF
// range by more than 30 ms, which AAC frames (21.3 ms) that straddle a
// segment boundary do in any MPEG-TS stream, ffmpeg's own HLS muxer's
// included. Such a message is an error when the ranges differ by more than
// SHAKA_RANGE_TOLERANCE at either end, and a note (printed, not failing)
// otherwise.
const SHAKA_RANGE_TOLERANCE = 0.1;
const notes = [];
//
// Shaka's AdaptationSet also warns "Rejecting variant - not compatible with
// root." for every variant in another audio language than the one chosen
// (adaptation_set.js: "If the languages don't match, we should not adapt
// between them"), which any stream with alternate audio languages makes,
// ffmpeg's HLS muxer's included. With --audio-track (such a stream) it is
// counted in a note; otherwise it is an error.
let rejectedVariants = 0;
function consoleProblem(type, text, location) {
  if (opt.audioTrack && text === 'Rejecting variant - not compatible with root.') {
    ++rejectedVariants;
    return;
  }
  const m = /^Possible encoding problem detected!.*?from URIs \["?([^"\]]*)"?\] should be \{"start":([-0-9.e]+),"end":([-0-9.e]+)\} but got \{"start":([-0-9.e]+),"end":([-0-9.e]+)\}/s.exec(text);
  if (m) {
    const [uri, a, b, c, d] = [m[1], +m[2], +m[3], +m[4], +m[5]];
    const off = Math.max(Math.abs(a - c), Math.abs(b - d));
    const msg = 'Shaka: segment ' + uri + ' buffered ' + c.toFixed(3) + '-' + d.toFixed(3) + ' s, its playlist range is ' + a.toFixed(3) + '-' + b.toFixed(3) + ' s (off by ' + off.toFixed(3) + ' s)';
    if (off <= SHAKA_RANGE_TOLERANCE) {
      notes.push(msg + ', within ' + SHAKA_RANGE_TOLERANCE + ' s');
      return;
    }
    addError({ source: 'shaka', details: 'unexpectedBufferedRange', fatal: false, message: msg, t: c });
    return;
  }
  addError({ source: 'console', details: type, fatal: false, message: text, location });
}

// Maps a media time to the segment of the first media playlist that holds it
// (all of hlsgate's renditions share segment boundaries), for errors the
// player reports without a fragment.
async function fetchText(p) {
  return new Promise((resolve) => {
    const req = http.get({ host: origin.hostname, port: origin.port || 80, path: p, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
  });
}
function uris(body) {
  return body.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}
async function segmentTable() {
  const master = await fetchText(origin.pathname + origin.search);
  if (!master) return null;
  let media = master;
  let base = new URL(opt.url);
  if (master.includes('#EXT-X-STREAM-INF')) {
    const first = uris(master)[0];
    if (!first) return null;
    base = new URL(first, opt.url);
    media = await fetchText(base.pathname + base.search);
    if (!media) return null;
  }
  const table = [];
  let start = 0;
  let dur = null;
  for (const line of media.split('\n')) {
    const m = /^#EXTINF:([0-9.]+)/.exec(line.trim());
    if (m) dur = Number(m[1]);
    else if (dur !== null && line.trim() && !line.startsWith('#')) {
      table.push({ index: table.length, start: +start.toFixed(3), end: +(start + dur).toFixed(3), uri: new URL(line.trim(), base).pathname });
      start += dur;
      dur = null;
    }
  }
  return table;
}

// How many proxied requests per file extension (m3u8, ts, vtt, ...).
function requestsByType() {
  const out = {};
  for (const r of requests) {
    const m = /\.([A-Za-z0-9]+)$/.exec(r.path);
    const ext = m ? m[1] : 'other';
    out[ext] = (out[ext] || 0) + 1;
  }
  return out;
}

// How many MPEG-TS segments were fetched from each rendition folder ("v0",
// "a1", ...): the folder is the last path element before the file.
function segmentFolders() {
  const out = {};
  for (const r of requests) {
    const m = /\/([^/]+)\/[^/]+\.ts$/.exec(r.path);
    if (m && r.status === 200) out[m[1]] = (out[m[1]] || 0) + 1;
  }
  return out;
}

async function finish(reason) {
  if (finished) return;
  finished = true;
  vlog('finishing:', reason);
  clearTimeout(hardTimer);
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 3000))]);
  const st = pageState || {};
  if (!pageState) {
    addError({ source: 'harness', details: 'timeout', fatal: true, message: reason });
  }
  const duration = st.duration !== undefined ? st.duration : null;
  if (pageState) {
    if (!st.ended)
      addError({ source: 'harness', details: 'notPlayedToEnd', fatal: true, message: 'the media did not play to its end' });
    if (duration && st.first_pass_played < duration * 0.9 - 0.5)
      addError({ source: 'harness', details: 'playedTooLittle', fatal: true, message: 'the first pass played ' + st.first_pass_played + ' s of ' + duration + ' s' });
    if (opt.expectDuration !== null && (duration === null || Math.abs(duration - opt.expectDuration) > opt.durationTolerance))
      addError({ source: 'harness', details: 'durationMismatch', fatal: false, message: 'duration ' + duration + ' s, expected ' + opt.expectDuration + ' ± ' + opt.durationTolerance + ' s' });
    if (opt.switchLevels && st.levels && st.levels_switched && new Set(st.levels_switched.map((l) => l.level)).size < st.levels.length)
      addError({ source: 'harness', details: 'levelsNotReached', fatal: false, message: 'played ' + st.levels_switched.length + ' of ' + st.levels.length + ' levels: ' + JSON.stringify(st.levels_switched) });
  }
  // Which segment each error's media time falls in.
  if (errors.some((e) => typeof e.t === 'number')) {
    try {
      const table = await Promise.race([segmentTable(), new Promise((r) => setTimeout(() => r(null), 8000))]);
      if (table)
        for (const e of errors)
          if (typeof e.t === 'number') {
            const s = table.find((x) => e.t >= x.start && e.t < x.end) || (e.t >= (table.length ? table[table.length - 1].end : 0) ? table[table.length - 1] : null);
            if (s) e.segment = s.index + ' (' + s.start + '-' + s.end + ' s, ' + s.uri + ')';
          }
    } catch (e) {
      /* the table is a courtesy */
    }
  }
  if (rejectedVariants) notes.push('Shaka: ' + rejectedVariants + ' "Rejecting variant - not compatible with root." warnings (variants of other audio languages)');
  const out = {
    player: opt.player,
    played_seconds: st.played_seconds !== undefined ? st.played_seconds : 0,
    first_pass_played: st.first_pass_played,
    duration,
    ended: !!st.ended,
    seeks: st.seeks || [],
    errors,
    notes,
    levels: st.levels || [],
    levels_switched: st.levels_switched || [],
    audio_tracks: st.audio_tracks || [],
    audio_track_active: st.audio_track_active || null,
    subtitle_tracks: st.subtitle_tracks || [],
    subtitle_track_active: st.subtitle_track_active || null,
    subtitle_cues: st.subtitle_cues || null,
    text_tracks: st.text_tracks || [],
    first_frame_time: st.first_frame_time !== undefined ? st.first_frame_time : null,
    aborted_requests: aborted.length,
    requests: requests.length,
    requests_by_type: requestsByType(),
    vtt_requests: requests.filter((r) => /\.vtt$/.test(r.path)),
    segment_folders: segmentFolders(),
    wall_seconds: +((Date.now() - started) / 1000).toFixed(2),
  };
  await cleanup();
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exitCode = errors.length === 0 && out.ended ? 0 : 1;
  setTimeout(() => process.exit(process.exitCode), 200).unref();
}

async function cleanup() {
  const b = browser;
  browser = null;
  if (b) {
    const proc = b.process();
    try {
      await Promise.race([b.close(), new Promise((r) => setTimeout(r, 5000))]);
    } catch (e) {
      /* killed below */
    }
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch (e) {
        /* gone */
      }
    }
  }
  if (server) {
    server.closeAllConnections && server.closeAllConnections();
    server.close();
    server = null;
  }
  if (userDataDir) {
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true });
    } catch (e) {
      /* best effort */
    }
    userDataDir = null;
  }
}

// Hard bounds: the run ends after --timeout; if even that hangs, exit.
const hardTimer = setTimeout(() => finish('timed out after ' + opt.timeout + ' s'), opt.timeout * 1000);
setTimeout(async () => {
  process.stderr.write('play.js: cleanup hung; killing Chromium and exiting\n');
  if (browser && browser.process()) {
    try {
      process.kill(browser.process().pid, 'SIGKILL');
    } catch (e) {
      /* gone */
    }
  }
  process.exit(3);
}, (opt.timeout + 30) * 1000).unref();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    addError({ source: 'harness', details: 'signal', fatal: true, message: 'play.js got ' + sig });
    finish(sig);
  });
process.on('uncaughtException', (e) => {
  addError({ source: 'harness', details: 'exception', fatal: true, message: String((e && e.stack) || e) });
  finish('exception');
});

// ---- page server + reverse proxy --------------------------------------------
function pageHtml() {
  const src = origin.pathname + origin.search;
  const cfg = {
    player: opt.player,
    src,
    seek: opt.seek,
    startPosition: opt.startPosition,
    expectDuration: opt.expectDuration,
    switchLevels: opt.switchLevels,
    audioTrack: opt.audioTrack,
    subtitleTrack: opt.subtitleTrack,
    rate: opt.rate,
    playerLog: opt.playerLog,
    stallSeconds: opt.stallSeconds,
    loadSeconds: 20,
    seekSeconds: 15,
    slackSeconds: 20,
    shakaWorker: '/__player/shaka-worker.js',
  };
  const lib = opt.player === 'hls.js' ? '/__player/hls.js' : '/__player/shaka.js';
  return (
    '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">' +
    '<title>hlsgate ' + opt.player + '</title></head><body>' +
    '<video id="v" muted playsinline width="640" height="360"></video>' +
    '<script>window.HG_CFG = ' + JSON.stringify(cfg).replace(/</g, '\\u003c') + ';</script>' +
    '<script src="' + lib + '"></script><script src="/__player/page.js"></script></body></html>'
  );
}

function serveFile(res, file, type) {
  fs.readFile(file, (err, body) => {
    if (err) {
      res.writeHead(500);
      res.end(String(err));
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  });
}

const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function proxy(req, res) {
  const t = Date.now();
  const headers = Object.assign({}, req.headers, { host: origin.host });
  delete headers['accept-encoding']; // keep bodies as the origin sends them
  const up = http.request(
    { host: origin.hostname, port: origin.port || 80, method: req.method, path: req.url, headers, agent: upstreamAgent, timeout: 30000 },
    (ur) => {
      requests.push({ path: req.url.split('?')[0], status: ur.statusCode });
      vlog('proxy', req.method, req.url.split('?')[0], ur.statusCode, Date.now() - t + 'ms');
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    },
  );
  up.on('timeout', () => up.destroy(new Error('origin did not answer within 30 s')));
  up.on('error', (e) => {
    addError({ source: 'network', details: 'proxyUpstream', fatal: false, message: req.method + ' ' + req.url.split('?')[0] + ': ' + e.message });
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}

function startServer() {
  return new Promise((resolve, reject) => {
    server = http.createServer((req, res) => {
      const p = req.url.split('?')[0];
      if (p === '/__player/index.html') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(pageHtml());
      } else if (p === '/__player/page.js') serveFile(res, path.join(here, 'page.js'), 'text/javascript');
      else if (p === '/__player/hls.js') serveFile(res, libs['hls.js'], 'text/javascript');
      else if (p === '/__player/shaka.js') serveFile(res, libs.shaka, 'text/javascript');
      else if (p === '/__player/shaka-worker.js') serveFile(res, libs['shaka-worker'], 'text/javascript');
      else if (p === '/favicon.ico') {
        res.writeHead(204);
        res.end();
      } else proxy(req, res);
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

// ---- Chromium ---------------------------------------------------------------
async function main() {
  const port = await startServer();
  const pageOrigin = 'http://127.0.0.1:' + port;
  vlog('page server + proxy on', pageOrigin, '->', origin.origin);
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hlsgate-chromium-'));
  browser = await puppeteer.launch({
    executablePath: opt.chromium,
    headless: false, // '--headless' is passed below, as is
    userDataDir,
    pipe: true,
    dumpio: false, // Chromium's own stderr is noise here
    protocolTimeout: 30000,
    timeout: 30000,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--mute-audio',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-features=MediaRouter,OptimizationHints,Translate',
      '--user-data-dir=' + userDataDir,
    ],
  });
  vlog('chromium', await browser.version(), 'pid', browser.process() && browser.process().pid);
  const page = await browser.newPage();
  const cdp = await page.createCDPSession();

  // Chromium's media pipeline (what chrome://media-internals shows).
  await cdp.send('Media.enable');
  cdp.on('Media.playerMessagesLogged', (ev) => {
    for (const m of ev.messages || []) {
      vlog('media-log', m.level, m.message);
      if (m.level === 'error' || m.level === 'warning')
        addError({ source: 'chromium-media', details: m.level, fatal: false, message: m.message, wall: +((Date.now() - started) / 1000).toFixed(2) });
    }
  });
  cdp.on('Media.playerErrorsRaised', (ev) => {
    for (const e of ev.errors || [])
      addError({ source: 'chromium-media', details: e.errorType + ' ' + e.code, fatal: true, message: JSON.stringify(e) });
  });

  await page.exposeFunction('hgReport', (json) => {
    let o;
    try {
      o = JSON.parse(json);
    } catch (e) {
      return;
    }
    if (o.kind === 'error') addError(o.error);
    else if (o.kind === 'note') notes.push(o.note);
    else if (o.kind === 'log') vlog('page', JSON.stringify(o));
    else if (o.kind === 'done') {
      pageState = o.state;
      finish('page done');
    }
  });
  page.on('console', (msg) => {
    const type = msg.type();
    vlog('console', type, msg.text());
    if (type === 'error' || type === 'warn' || type === 'warning') {
      const loc = msg.location() || {};
      // Objects in the message as JSON, not "[object Object]".
      pending.push(
        Promise.all(msg.args().map((a) => a.evaluate((v) => {
          if (typeof v === 'string') return v;
          try {
            return JSON.stringify(v, (k, x) => (x && typeof x === 'object' && typeof x.getUris === 'function' ? { startTime: x.startTime, endTime: x.endTime } : x));
          } catch (e) {
            return String(v);
          }
        }).catch(() => '?')))
          .then((parts) => parts.join(' '))
          .catch(() => msg.text())
          .then((text) => consoleProblem(type, text.replace(/\?[^\s"]*/g, '').replace(pageOrigin, ''), loc.url ? loc.url.split('?')[0].replace(pageOrigin, '') + ':' + loc.lineNumber : undefined)),
      );
    }
  });
  page.on('pageerror', (e) => addError({ source: 'page', details: 'exception', fatal: true, message: String((e && e.message) || e) }));
  page.on('requestfailed', (r) => {
    const f = r.failure();
    const text = f ? f.errorText : 'unknown';
    const u = r.url().split('?')[0].replace(pageOrigin, '');
    if (text === 'net::ERR_ABORTED') {
      aborted.push(u); // cancelled by the player itself (seek, level switch, end of stream)
      vlog('aborted', u);
      return;
    }
    addError({ source: 'network', details: 'requestFailed', fatal: false, message: r.method() + ' ' + u + ': ' + text });
  });
  page.on('response', (r) => {
    if (r.status() >= 400)
      addError({ source: 'network', details: 'HTTP ' + r.status(), fatal: false, message: r.request().method() + ' ' + r.url().split('?')[0].replace(pageOrigin, '') + ' answered ' + r.status() });
  });

  await page.goto(pageOrigin + '/__player/index.html', { waitUntil: 'load', timeout: 20000 });
}

main().catch((e) => {
  addError({ source: 'harness', details: 'startup', fatal: true, message: String((e && e.message) || e) });
  finish('start-up failed');
});
