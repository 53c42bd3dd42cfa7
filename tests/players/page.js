// Runs inside Chromium on the page that play.js serves: drives hls.js or
// Shaka through one scenario (play start to end, optional level / audio /
// subtitle switches, then a seek into the middle and play to the end again)
// and reports every sign of trouble to play.js through window.hgReport,
// which play.js exposes (puppeteer exposeFunction). Every wait is bounded.
// With a subtitle track selected, it also reports the cues that reached the
// <video> element's TextTrack for it.
/* global Hls, shaka */
(function () {
  'use strict';
  const cfg = window.HG_CFG;
  const video = document.getElementById('v');
  const t0 = performance.now();
  const wall = () => +((performance.now() - t0) / 1000).toFixed(3);
  const mt = () => +video.currentTime.toFixed(3);

  const state = {
    phase: 'load',
    started: false,
    played_seconds: 0,
    first_pass_played: 0,
    first_pass_ended: false,
    ended: false,
    duration: null,
    seeks: [],
    levels: [],
    levels_switched: [],
    audio_tracks: [],
    subtitle_tracks: [],
    audio_track_selected: null,
    audio_track_active: null,
    subtitle_track_selected: null,
    subtitle_track_active: null,
    subtitle_cues: null,
    text_tracks: [],
    first_frame_time: null,
    events: 0,
  };
  window.HG_STATE = state;

  function report(o) {
    try {
      window.hgReport(JSON.stringify(o));
    } catch (e) {
      /* play.js is gone: nothing to report to */
    }
  }
  function log(what, extra) {
    report(Object.assign({ kind: 'log', what, t: mt(), wall: wall(), phase: state.phase }, extra || {}));
  }
  function error(source, o) {
    const e = Object.assign({ source, t: mt(), wall: wall(), phase: state.phase }, o);
    if (!e.segment_at_t && player.segmentAt) {
      try {
        e.segment_at_t = player.segmentAt(video.currentTime);
      } catch (x) {
        /* no playlist loaded yet */
      }
    }
    report({ kind: 'error', error: e });
  }
  function buffered() {
    const out = [];
    for (let i = 0; i < video.buffered.length; ++i)
      out.push([+video.buffered.start(i).toFixed(3), +video.buffered.end(i).toFixed(3)]);
    return out;
  }
  function stripQuery(u) {
    if (!u) return u;
    try {
      const x = new URL(u, location.href);
      return x.pathname;
    } catch (e) {
      return String(u).split('?')[0];
    }
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  /// Resolves true when `pred()` holds, false after `ms`.
  async function until(pred, ms, step = 50) {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      if (pred()) return true;
      await sleep(step);
    }
    return pred();
  }
  function once(target, name, ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        target.removeEventListener(name, on);
        resolve(false);
      }, ms);
      function on() {
        clearTimeout(timer);
        target.removeEventListener(name, on);
        resolve(true);
      }
      target.addEventListener(name, on);
    });
  }

  // ---- the <video> element: errors, stalls, progress ----------------------
  let lastTime = 0;
  let lastProgressWall = performance.now();
  let stallReported = false;
  let stalledEventAt = null;
  video.addEventListener('error', () => {
    const me = video.error;
    error('video', {
      type: 'mediaError',
      details: me ? 'MEDIA_ERR code ' + me.code : 'unknown',
      fatal: true,
      message: me ? me.message : '',
    });
  });
  video.addEventListener('stalled', () => {
    stalledEventAt = performance.now();
    log('stalled-event', { readyState: video.readyState, buffered: buffered() });
  });
  for (const name of ['waiting', 'playing', 'seeking', 'seeked', 'ended', 'loadedmetadata', 'durationchange', 'ratechange'])
    video.addEventListener(name, () => log(name, { duration: video.duration, rate: video.playbackRate, buffered: buffered() }));
  video.addEventListener('playing', () => {
    state.started = true;
  });
  // The media time of the first frame presented (the source's time 0): each
  // player has its own timeline origin (hls.js puts the first frame at 0,
  // Shaka at its first DTS), so cue times are compared relative to it.
  if (video.requestVideoFrameCallback)
    video.requestVideoFrameCallback((now, meta) => {
      state.first_frame_time = +meta.mediaTime.toFixed(4);
    });
  video.addEventListener('timeupdate', () => {
    const ct = video.currentTime;
    const d = ct - lastTime;
    if (!video.seeking && d > 0 && d < 1.5) {
      state.played_seconds += d;
      if (state.phase === 'play') state.first_pass_played += d;
    }
    if (ct !== lastTime) {
      lastProgressWall = performance.now();
      stallReported = false;
      stalledEventAt = null;
    }
    lastTime = ct;
    if (cfg.subtitleTrack) sampleCues();
    if (player.onTime) player.onTime(ct);
  });
  // Stall detector: playing, not seeking, not at the end, and the position
  // has not moved for cfg.stallSeconds (this also covers a `stalled` event
  // that lasts longer than that).
  setInterval(() => {
    if (video.paused || video.ended || video.seeking || state.phase === 'done') {
      lastProgressWall = performance.now();
      return;
    }
    const still = (performance.now() - lastProgressWall) / 1000;
    if (still >= cfg.stallSeconds && !stallReported) {
      stallReported = true;
      error('video', {
        type: 'stall',
        details: stalledEventAt !== null ? 'stalled' : 'noProgress',
        fatal: false,
        message:
          'playback made no progress for ' + still.toFixed(1) + ' s at t=' + mt() +
          ' (readyState ' + video.readyState + ', buffered ' + JSON.stringify(buffered()) + ')',
      });
    }
  }, 250);

  // ---- subtitles: the cues that reached the <video> element ----------------
  // hls.js (renderTextTracksNatively, its default) and Shaka 5 (its
  // NativeTextDisplayer: a <track> element per text track) both put the
  // selected track's cues into a TextTrack of video.textTracks, mode
  // "showing" (or "hidden"); the other tracks are "disabled" and hold none.
  // Every cue seen there during playback is kept, since a player may drop
  // cues behind the playhead.
  const seenCues = new Map();
  function selectedTextTrack() {
    const want = cfg.subtitleTrack;
    return Array.from(video.textTracks).find((t) => t.mode !== 'disabled' && (t.language === want || t.label === want)) || null;
  }
  function sampleCues() {
    const t = selectedTextTrack();
    if (!t || !t.cues) return;
    for (const c of Array.from(t.cues)) {
      const key = c.startTime + '|' + c.endTime + '|' + c.text;
      if (!seenCues.has(key)) seenCues.set(key, { start: +c.startTime.toFixed(3), end: +c.endTime.toFixed(3), text: c.text });
    }
  }
  function textTracks() {
    return Array.from(video.textTracks).map((t) => ({ kind: t.kind, label: t.label, language: t.language, mode: t.mode, cues: t.cues ? t.cues.length : null }));
  }
  /// The selected track's cues: in its TextTrack at the end (count, first
  /// texts) and every one seen during playback (loaded, by start time).
  function subtitleCues() {
    sampleCues();
    const t = selectedTextTrack();
    const now = t && t.cues ? Array.from(t.cues) : [];
    const loaded = Array.from(seenCues.values()).sort((a, b) => a.start - b.start || a.end - b.end);
    return {
      track: t ? { kind: t.kind, label: t.label, language: t.language, mode: t.mode } : null,
      count: now.length,
      texts: now.slice(0, 10).map((c) => c.text),
      loaded_count: loaded.length,
      loaded: loaded.slice(0, 20),
    };
  }

  // ---- players --------------------------------------------------------------
  const player = {};

  function setupHlsJs() {
    if (!Hls.isSupported()) throw new Error('hls.js: Hls.isSupported() is false (no MSE?)');
    const hls = new Hls({ debug: !!cfg.playerLog, startPosition: cfg.startPosition });
    window.hls = hls;
    hls.on(Hls.Events.ERROR, (ev, d) => {
      const frag = d.frag || d.part;
      // Before playback first starts, a stall with data at the playhead
      // (buffer > 0) is the first fragment still being appended: start-up
      // buffering, not a problem of the stream. A stall at the start with
      // nothing at the playhead (a hole: buffer 0) stays an error.
      if (!state.started && d.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR && d.buffer > 0 && !d.fatal) {
        report({ kind: 'note', note: 'hls.js start-up buffering before the first frame (bufferStalledError with ' + Number(d.buffer).toFixed(3) + ' s buffered at t=' + mt() + ')' });
        return;
      }
      error('hls.js', {
        type: d.type,
        details: d.details,
        fatal: !!d.fatal,
        message: (d.error && d.error.message) || d.reason || '',
        frag: frag
          ? {
              sn: frag.sn,
              level: frag.level,
              type: frag.type,
              start: +Number(frag.start).toFixed(3),
              duration: +Number(frag.duration).toFixed(3),
              url: stripQuery(frag.url),
            }
          : undefined,
        url: stripQuery(d.url || (d.context && d.context.url)),
        response: d.response ? { code: d.response.code, text: d.response.text } : undefined,
        buffer: d.buffer !== undefined ? +Number(d.buffer).toFixed(3) : undefined,
        buffered: buffered(),
      });
      if (d.fatal) player.fatal = true;
    });
    hls.on(Hls.Events.MANIFEST_PARSED, (ev, d) => {
      state.levels = d.levels.map((l, i) => ({ index: i, width: l.width, height: l.height, bitrate: l.bitrate, codecs: l.codecSet || l.attrs.CODECS }));
      log('manifest', { levels: state.levels });
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (ev, d) => {
      const l = hls.levels[d.level];
      log('level-switched', { level: d.level, height: l && l.height });
      if (!state.levels_switched.some((x) => x.level === d.level))
        state.levels_switched.push({ level: d.level, height: l ? l.height : null, t: mt() });
    });
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (ev, d) => {
      state.audio_tracks = d.audioTracks.map((t) => ({ id: t.id, lang: t.lang || '', name: t.name || '' }));
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (ev, d) => {
      state.subtitle_tracks = d.subtitleTracks.map((t) => ({ id: t.id, lang: t.lang || '', name: t.name || '' }));
    });
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, (ev, d) => log('audio-track-switched', { id: d.id }));
    hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, (ev, d) => log('subtitle-track-switch', { id: d.id }));

    player.segmentAt = (t) => {
      const li = hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel;
      const lvl = hls.levels[li];
      if (!lvl || !lvl.details) return undefined;
      const f = lvl.details.fragments.find((x) => t >= x.start && t < x.start + x.duration);
      return f ? { sn: f.sn, level: li, start: +f.start.toFixed(3), url: stripQuery(f.url) } : undefined;
    };
    player.load = async () => {
      hls.attachMedia(video);
      hls.loadSource(cfg.src);
      if (!(await once(hls, Hls.Events.MANIFEST_PARSED, cfg.loadSeconds * 1000))) throw new Error('hls.js: no MANIFEST_PARSED within ' + cfg.loadSeconds + ' s');
    };
    player.levelCount = () => hls.levels.length;
    player.switchTo = (i) => {
      log('switch-level', { level: i, height: hls.levels[i].height });
      hls.currentLevel = i; // immediate switch: flushes the buffer, loads level i at the playhead
    };
    player.levelIs = (i) => hls.currentLevel === i;
    player.currentLevelHeight = () => {
      const l = hls.levels[hls.currentLevel];
      return l ? l.height : null;
    };
    player.selectAudio = async (lang) => {
      const i = hls.audioTracks.findIndex((t) => t.lang === lang || t.name === lang);
      if (i < 0) return false;
      hls.audioTrack = i;
      state.audio_track_selected = lang;
      return true;
    };
    player.selectSubtitle = async (lang) => {
      const i = hls.subtitleTracks.findIndex((t) => t.lang === lang || t.name === lang);
      if (i < 0) return false;
      hls.subtitleTrack = i;
      hls.subtitleDisplay = true;
      state.subtitle_track_selected = lang;
      return true;
    };
    player.activeAudio = () => {
      const t = hls.audioTracks[hls.audioTrack];
      return t ? { lang: t.lang || '', name: t.name || '' } : null;
    };
    player.activeSubtitle = () => {
      const t = hls.subtitleTracks[hls.subtitleTrack];
      return t ? { lang: t.lang || '', name: t.name || '', display: hls.subtitleDisplay } : null;
    };
    player.destroy = () => hls.destroy();
    // hls.js emits on itself via on(); `once` above needs add/removeEventListener.
    hls.addEventListener = (n, f) => hls.on(n, f);
    hls.removeEventListener = (n, f) => hls.off(n, f);
  }

  function shakaName(table, value) {
    for (const k in table) if (table[k] === value) return k;
    return String(value);
  }
  function safeData(data) {
    try {
      return JSON.parse(
        JSON.stringify(data, (k, v) => {
          if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return '[' + v.byteLength + ' bytes]';
          if (typeof v === 'string') return v.length > 300 ? v.slice(0, 300) + '…' : v.replace(/\?[^\s"]*/, '');
          return v;
        }),
      );
    } catch (e) {
      return String(data);
    }
  }

  function setupShaka() {
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) throw new Error('shaka: isBrowserSupported() is false');
    // The debug build logs Shaka's own warnings; play.js collects them from the console.
    if (shaka.log && shaka.log.setLevel) shaka.log.setLevel(cfg.playerLog ? shaka.log.Level.DEBUG : shaka.log.Level.WARNING);
    const p = new shaka.Player();
    window.shakaPlayer = p;
    // TS is transmuxed in Shaka's worker (served by play.js), as a site would.
    // No ABR: on a loaded machine its dropped-frame check bans renditions
    // (a warning about the machine, not the stream); levels are switched
    // explicitly with --switch-levels.
    p.configure({ mediaSource: { transmuxWorkerUrl: cfg.shakaWorker }, abr: { enabled: false } });
    const shakaError = (e, how) => {
      error('shaka', {
        type: how,
        severity: e.severity === shaka.util.Error.Severity.CRITICAL ? 'CRITICAL' : 'RECOVERABLE',
        fatal: e.severity === shaka.util.Error.Severity.CRITICAL,
        category: shakaName(shaka.util.Error.Category, e.category),
        code: e.code,
        details: shakaName(shaka.util.Error.Code, e.code),
        message: e.message || '',
        data: safeData(e.data),
        buffered: buffered(),
      });
      if (e.severity === shaka.util.Error.Severity.CRITICAL) player.fatal = true;
    };
    p.addEventListener('error', (ev) => shakaError(ev.detail, 'error-event'));
    p.addEventListener('gapjumped', () => {
      // Shaka's TS transmuxer places a segment at its first DTS, so with
      // B-frames (first PTS > first DTS) the video starts a frame or two
      // after 0 in every stream, ffmpeg's own included, and Shaka jumps that
      // before the first frame. A jump before playback started to a buffer
      // that starts within 0.1 s is that start-up gap: a note. Any other
      // jump is an error.
      const b = buffered();
      if (!state.started && b.length && b[0][0] <= 0.1) {
        report({ kind: 'note', note: 'Shaka jumped the start-up gap to ' + b[0][0] + ' s before the first frame' });
        return;
      }
      error('shaka', { type: 'gapjumped', details: 'gapjumped', fatal: false, message: 'Shaka jumped a gap in the buffer at t=' + mt(), buffered: b });
    });
    p.addEventListener('stalldetected', () =>
      error('shaka', { type: 'stalldetected', details: 'stalldetected', fatal: false, message: 'Shaka detected a stall at t=' + mt(), buffered: buffered() }),
    );
    p.addEventListener('mediasourcerecovered', () =>
      error('shaka', { type: 'mediasourcerecovered', details: 'mediasourcerecovered', fatal: false, message: 'Shaka had to recover the MediaSource' }),
    );
    p.addEventListener('downloadfailed', (ev) => {
      const d = ev.request ? ev : ev.detail || {};
      if (d.error && d.error.code === shaka.util.Error.Code.OPERATION_ABORTED) return; // Shaka cancelled it
      error('shaka', {
        type: 'downloadfailed',
        details: 'downloadfailed',
        fatal: false,
        message: 'download failed: HTTP ' + d.httpResponseCode + ' ' + stripQuery(d.request && d.request.uris && d.request.uris[0]),
      });
    });
    p.addEventListener('variantchanged', () => log('variant-changed', { height: player.currentLevelHeight() }));
    p.addEventListener('adaptation', () => log('adaptation', { height: player.currentLevelHeight() }));
    p.addEventListener('buffering', (ev) => log('buffering', { buffering: ev.buffering }));

    let tracks = [];
    const recordActive = () => {
      const a = p.getVariantTracks().find((t) => t.active);
      if (a && !state.levels_switched.some((x) => x.height === a.height && x.bandwidth === a.bandwidth))
        state.levels_switched.push({ level: tracks.findIndex((t) => t.id === a.id), height: a.height, bandwidth: a.bandwidth, t: mt() });
    };
    player.onTime = recordActive;
    player.load = async () => {
      await p.attach(video);
      try {
        await p.load(cfg.src, cfg.startPosition);
      } catch (e) {
        if (e && e.code !== undefined) shakaError(e, 'load-rejected');
        throw new Error('shaka: load() failed: ' + (e && (e.message || e.code)));
      }
      tracks = p.getVariantTracks().slice().sort((a, b) => (b.height || 0) - (a.height || 0) || b.bandwidth - a.bandwidth);
      listLevels();
      state.audio_tracks = p.getAudioTracks().map((t) => ({ lang: t.language, name: t.label || '' }));
      state.subtitle_tracks = p.getTextTracks().map((t) => ({ id: t.id, lang: t.language, name: t.label || '' }));
      log('manifest', { levels: state.levels });
    };
    player.levelCount = () => tracks.length;
    player.switchTo = (i) => {
      log('switch-level', { level: i, height: tracks[i].height });
      p.configure({ abr: { enabled: false } });
      p.selectVariantTrack(tracks[i], /* clearBuffer= */ true);
    };
    player.levelIs = (i) => {
      const a = p.getVariantTracks().find((t) => t.active);
      return !!a && a.id === tracks[i].id;
    };
    player.currentLevelHeight = () => {
      const a = p.getVariantTracks().find((t) => t.active);
      return a ? a.height : null;
    };
    // Shaka lists a variant per video rendition and audio language; the
    // levels are those of the audio language playing (a viewer picks the
    // language in the audio menu, not in the quality menu).
    const listLevels = () => {
      state.levels = tracks.map((t, i) => ({ index: i, width: t.width, height: t.height, bitrate: t.bandwidth, codecs: t.codecs, language: t.language }));
    };
    player.selectAudio = async (lang) => {
      const t = p.getAudioTracks().find((x) => x.language === lang || x.label === lang);
      if (!t) return false;
      p.selectAudioTrack(t);
      tracks = tracks.filter((x) => x.language === t.language);
      listLevels();
      state.audio_track_selected = lang;
      return true;
    };
    player.selectSubtitle = async (lang) => {
      const t = p.getTextTracks().find((x) => x.language === lang || x.label === lang);
      if (!t) return false;
      p.selectTextTrack(t);
      state.subtitle_track_selected = lang;
      return true;
    };
    player.activeAudio = () => {
      const t = p.getAudioTracks().find((x) => x.active);
      return t ? { lang: t.language, name: t.label || '' } : null;
    };
    player.activeSubtitle = () => {
      const t = p.getTextTracks().find((x) => x.active);
      // (Shaka 5 has no isTextTrackVisible(); text_tracks shows the mode.)
      return t ? { lang: t.language, name: t.label || '' } : null;
    };
    player.destroy = () => p.destroy();
  }

  // ---- the scenario -----------------------------------------------------------
  async function playToEnd(label, budgetSeconds) {
    const p = video.play();
    if (p && p.catch)
      p.catch((e) => error('video', { type: 'playRejected', details: e.name, fatal: true, message: String(e.message || e) }));
    const ok = await until(() => video.ended || player.fatal, budgetSeconds * 1000, 100);
    if (!video.ended)
      error('harness', {
        type: 'notEnded',
        details: 'didNotReachEnd',
        fatal: true,
        message:
          label + ': playback did not reach the end within ' + budgetSeconds.toFixed(0) + ' s (at t=' + mt() +
          ' of ' + video.duration + ', readyState ' + video.readyState + ', buffered ' + JSON.stringify(buffered()) + ')' +
          (player.fatal ? ' after a fatal player error' : ''),
      });
    return ok && video.ended;
  }

  async function scenario() {
    if (cfg.player === 'hls.js') setupHlsJs();
    else setupShaka();
    await player.load();
    if (!(await until(() => video.readyState >= 1, cfg.loadSeconds * 1000)))
      throw new Error('no metadata within ' + cfg.loadSeconds + ' s (readyState ' + video.readyState + ')');

    if (cfg.audioTrack) {
      await until(() => state.audio_tracks.length > 0, 3000);
      if (!(await player.selectAudio(cfg.audioTrack)))
        error('harness', { type: 'track', details: 'noSuchAudioTrack', fatal: true, message: 'no audio track "' + cfg.audioTrack + '"; the player lists ' + JSON.stringify(state.audio_tracks) });
    }
    if (cfg.subtitleTrack) {
      await until(() => state.subtitle_tracks.length > 0, 3000);
      if (!(await player.selectSubtitle(cfg.subtitleTrack)))
        error('harness', { type: 'track', details: 'noSuchSubtitleTrack', fatal: true, message: 'no subtitle track "' + cfg.subtitleTrack + '"; the player lists ' + JSON.stringify(state.subtitle_tracks) });
    }

    // Play as soon as there is metadata, as a page does (hls.js's demo calls
    // play() on MANIFEST_PARSED): a hole at the start is then met at once.
    log('ready-to-play', { readyState: video.readyState, buffered: buffered() });

    // Pass 1: from the start to the end, switching levels on the way if asked.
    state.phase = 'play';
    video.muted = true;
    video.playbackRate = cfg.rate;
    if (cfg.switchLevels) {
      const n = player.levelCount();
      if (n < 2)
        error('harness', { type: 'levels', details: 'singleLevel', fatal: true, message: '--switch-levels but the player sees ' + n + ' level(s)' });
      // Every level in turn (from the lowest up), spread over the first pass.
      const order = [];
      for (let i = n - 1; i >= 0; --i) order.push(i);
      let next = 0;
      let switching = false;
      // As a viewer picking a quality: pause, switch at once (the buffer is
      // flushed), resume once the new level has data at the playhead. Paused,
      // the refill is not a stall.
      player.onTimeSwitch = async (ct) => {
        const d = isFinite(video.duration) ? video.duration : cfg.expectDuration || 0;
        if (switching || next >= order.length || !(d > 0) || ct < (d * (next + 1)) / (order.length + 1)) return;
        let level = order[next++];
        // The level playing now needs no switch (it is already recorded).
        if (player.levelIs(level)) {
          if (next >= order.length) return;
          level = order[next++];
        }
        switching = true;
        video.pause();
        const t = performance.now();
        player.switchTo(level);
        await sleep(100); // the flush takes effect
        const ok = await until(() => player.levelIs(level) && video.readyState >= 3 && !video.seeking, cfg.loadSeconds * 1000);
        log('switched', { level, ok, ms: Math.round(performance.now() - t), readyState: video.readyState });
        if (!ok)
          error('harness', { type: 'levels', details: 'switchTimeout', fatal: false, message: 'level ' + level + ' had no data at t=' + mt() + ' within ' + cfg.loadSeconds + ' s of switching to it (readyState ' + video.readyState + ')' });
        const p = video.play();
        if (p && p.catch) p.catch(() => {});
        switching = false;
      };
      const prev = player.onTime;
      player.onTime = (ct) => {
        if (prev) prev(ct);
        if (state.phase === 'play') player.onTimeSwitch(ct);
      };
    }
    // A growing (EVENT) playlist is longer than what the player knows now.
    const d0 = Math.max(isFinite(video.duration) ? video.duration : 0, cfg.expectDuration || 0) || 60;
    const budget1 = d0 / cfg.rate * 1.5 + cfg.slackSeconds;
    state.first_pass_ended = await playToEnd('first pass', budget1);
    state.duration = isFinite(video.duration) ? +video.duration.toFixed(3) : null;
    if (player.fatal) return;

    // Pass 2: seek into the middle and play to the end again.
    state.phase = 'seek';
    const d = isFinite(video.duration) ? video.duration : 0;
    const target = cfg.seek !== null ? cfg.seek : d / 2;
    const from = mt();
    const start = performance.now();
    video.currentTime = target;
    const seeked = await once(video, 'seeked', cfg.seekSeconds * 1000);
    const seekRecord = { from, to: +target.toFixed(3), landed: mt(), ms: Math.round(performance.now() - start), completed: seeked };
    state.seeks.push(seekRecord);
    log('seek-done', seekRecord);
    if (!seeked)
      error('harness', { type: 'seek', details: 'seekTimeout', fatal: true, message: 'no seeked event within ' + cfg.seekSeconds + ' s after seeking to ' + target.toFixed(3) });
    else if (Math.abs(seekRecord.landed - target) > 1)
      error('harness', { type: 'seek', details: 'seekLandedElsewhere', fatal: false, message: 'seek to ' + target.toFixed(3) + ' landed at ' + seekRecord.landed });
    state.phase = 'play-after-seek';
    const budget2 = Math.max(0, d - target) / cfg.rate * 1.5 + cfg.slackSeconds;
    state.ended = await playToEnd('after the seek', budget2);
  }

  scenario()
    .catch((e) => error('harness', { type: 'exception', details: 'scenario', fatal: true, message: String((e && e.stack) || e) }))
    .finally(() => {
      state.phase = 'done';
      state.levels_switched.sort((a, b) => a.t - b.t);
      state.played_seconds = +state.played_seconds.toFixed(3);
      state.first_pass_played = +state.first_pass_played.toFixed(3);
      if (state.duration === null && isFinite(video.duration)) state.duration = +video.duration.toFixed(3);
      try {
        state.text_tracks = textTracks();
        if (player.activeSubtitle) state.subtitle_track_active = player.activeSubtitle();
        if (player.activeAudio) state.audio_track_active = player.activeAudio();
        if (cfg.subtitleTrack) state.subtitle_cues = subtitleCues();
      } catch (e) {
        error('harness', { type: 'subtitles', details: 'cueReadout', fatal: false, message: String((e && e.stack) || e) });
      }
      report({ kind: 'done', state });
      try {
        player.destroy && player.destroy();
      } catch (e) {
        /* already gone */
      }
    });
})();
