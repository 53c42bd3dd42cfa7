// The player of the web app and of /embed: hls.js on a <video> with our own
// controls: play, a seek bar that shows the storyboard thumbnail under the
// pointer (or at the keyboard's position), time, mute, quality, audio and
// subtitle menus, full screen. Every control is a real button, range or
// select with a label, so keyboards and screen readers can use it.
// With `live: true` the seek bar spans the DVR window (the live playlist's
// segments), a "Go live" button jumps to the live edge and tells whether the
// playhead is there, and markers (wall-clock times, mapped to media time
// through the segments' EXT-X-PROGRAM-DATE-TIME) are drawn above the bar.
'use strict';

(function () {
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v;
      else if (k === 'hidden') e.hidden = !!v;
      else e.setAttribute(k, v);
    }
    for (const c of children || []) e.append(c);
    return e;
  }

  const ICONS = {
    play: 'M8 5v14l11-7z',
    pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
    volume: 'M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z',
    muted: 'M3 9v6h4l5 5V4L7 9H3zm13.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z',
    fullscreen: 'M4 4h6v2H6v4H4zm10 0h6v6h-2V6h-4zM4 14h2v4h4v2H4zm14 0h2v6h-6v-2h4z',
  };
  const SVG = 'http://www.w3.org/2000/svg';

  /// Puts the icon `name` in `button` (drawn inline: no font or file needed)
  /// and names the button for screen readers.
  function setIcon(button, name, label) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '20');
    svg.setAttribute('height', '20');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', ICONS[name]);
    path.setAttribute('fill', 'currentColor');
    svg.append(path);
    button.replaceChildren(svg);
    button.setAttribute('aria-label', label);
  }

  function clock(s) {
    if (!isFinite(s) || s < 0) s = 0;
    s = Math.floor(s);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, '0');
    return h > 0 ? h + ':' + String(m).padStart(2, '0') + ':' + sec : m + ':' + sec;
  }

  /// Local wall-clock time of unix milliseconds: "14:05:09".
  function wallClock(ms) {
    const d = new Date(ms);
    if (!isFinite(d.getTime())) return '—';
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((v) => String(v).padStart(2, '0')).join(':');
  }

  /// WebVTT storyboard cues: [{start, end, url, x, y, w, h}] (sprite URLs
  /// resolved against the storyboard's own URL).
  function parseStoryboard(text, base) {
    const cues = [];
    const lines = text.split(/\r?\n/);
    const ts = (t) => {
      const p = t.trim().split(':').map(Number);
      return p.reduce((acc, v) => acc * 60 + v, 0);
    };
    for (let i = 0; i < lines.length && cues.length < 100000; i++) {
      const arrow = lines[i].indexOf('-->');
      if (arrow < 0 || i + 1 >= lines.length) continue;
      const ref = lines[i + 1].trim();
      const hash = ref.indexOf('#xywh=');
      if (hash < 0) continue;
      const xywh = ref.slice(hash + 6).split(',').map(Number);
      if (xywh.length !== 4 || xywh.some((v) => !isFinite(v))) continue;
      let url;
      try { url = new URL(ref.slice(0, hash), base); } catch (_) { continue; }
      if (url.origin !== location.origin) continue; // only our own sprites
      cues.push({ start: ts(lines[i].slice(0, arrow)), end: ts(lines[i].slice(arrow + 3)),
        url: url.href, x: xywh[0], y: xywh[1], w: xywh[2], h: xywh[3] });
    }
    return cues;
  }

  /// Builds a player in `host` for the playlist `src`. Options: poster,
  /// storyboardUrl, title, onFatal(message), live, autoplay, onLevel() (a live
  /// playlist was loaded). Returns {video, hls, state, live, destroy}.
  function createPlayer(host, opts) {
    const isLive = !!opts.live;
    // Focusable, so that Space/K and the arrow keys work once it is selected.
    const video = el('video', { playsinline: '', preload: 'metadata', tabindex: '0', 'aria-label': opts.title || 'Video' });
    if (opts.poster) video.poster = opts.poster;
    const message = el('div', { class: 'player-msg', role: 'status', 'aria-live': 'polite' });
    const play = el('button', { type: 'button', class: 'play' });
    setIcon(play, 'play', 'Play');
    const seek = el('input', { type: 'range', class: 'seek', min: '0', max: '0', step: '0.1', value: '0',
      'aria-label': 'Seek', 'aria-valuetext': '0:00' });
    const thumbImg = el('div', { class: 'thumb-img' });
    const thumbTime = el('span', { class: 'thumb-time' });
    const preview = el('div', { class: 'thumb-preview', hidden: true, 'aria-hidden': 'true' }, [thumbImg, thumbTime]);
    const time = el('span', { class: 'time', text: '0:00 / 0:00' });
    const mute = el('button', { type: 'button', class: 'mute' });
    setIcon(mute, 'volume', 'Mute');
    const quality = el('select', { class: 'quality', 'aria-label': 'Quality' });
    const audio = el('select', { class: 'audio', 'aria-label': 'Audio track' });
    const subs = el('select', { class: 'subs', 'aria-label': 'Subtitles' });
    const audioWrap = el('label', { class: 'menu', hidden: true }, [el('span', { text: 'Audio' }), audio]);
    const subsWrap = el('label', { class: 'menu', hidden: true }, [el('span', { text: 'Subtitles' }), subs]);
    const fs = el('button', { type: 'button', class: 'fs' });
    setIcon(fs, 'fullscreen', 'Full screen');
    const goLive = el('button', { type: 'button', class: 'go-live', 'data-state': 'live', hidden: !isLive, text: 'Live' });
    const strip = el('div', { class: 'marker-strip', hidden: !isLive });
    const controls = el('div', { class: 'controls' + (isLive ? ' live' : ''), role: 'group', 'aria-label': 'Player controls' }, [
      play, goLive, el('div', { class: 'seek-wrap' }, [strip, seek, preview]), time, mute,
      el('label', { class: 'menu' }, [el('span', { text: 'Quality' }), quality]), audioWrap, subsWrap, fs]);
    const root = el('div', { class: 'player' }, [el('div', { class: 'stage' }, [video, message]), controls]);
    host.replaceChildren(root);

    const state = { errors: [], levels: [], storyboard: [], shownThumb: null };
    let hls = null;
    let dragging = false;

    const say = (text) => { message.textContent = text || ''; message.hidden = !text; };
    say('');

    function fatal(text) {
      state.errors.push(text);
      say(text);
      if (opts.onFatal) opts.onFatal(text);
    }

    // -- playback ------------------------------------------------------------------
    play.addEventListener('click', () => (video.paused ? video.play().catch(() => {}) : video.pause()));
    video.addEventListener('click', () => play.click());
    video.addEventListener('play', () => setIcon(play, 'pause', 'Pause'));
    video.addEventListener('pause', () => setIcon(play, 'play', 'Play'));
    mute.addEventListener('click', () => { video.muted = !video.muted; });
    video.addEventListener('volumechange', () =>
      setIcon(mute, video.muted ? 'muted' : 'volume', video.muted ? 'Unmute' : 'Mute'));
    fs.addEventListener('click', () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else if (root.requestFullscreen) root.requestFullscreen().catch(() => {});
    });
    root.addEventListener('keydown', (e) => {
      const t = e.target.tagName;
      if (t === 'SELECT' || t === 'INPUT' || t === 'BUTTON') return;
      if (e.key === ' ' || e.key === 'k') { e.preventDefault(); play.click(); }
      else if (e.key === 'ArrowRight') video.currentTime = Math.min(Number(seek.max) || 0, video.currentTime + 5);
      else if (e.key === 'ArrowLeft') video.currentTime = Math.max(Number(seek.min) || 0, video.currentTime - 5);
    });

    function showTime() {
      if (isLive) return showLive();
      const d = video.duration;
      if (isFinite(d)) seek.max = String(d);
      if (!dragging) seek.value = String(video.currentTime);
      seek.setAttribute('aria-valuetext', clock(video.currentTime) + ' of ' + clock(d));
      time.textContent = clock(video.currentTime) + ' / ' + clock(d);
    }
    video.addEventListener('timeupdate', showTime);
    video.addEventListener('durationchange', showTime);

    // -- seek bar and storyboard ---------------------------------------------------
    function thumbAt(t) {
      const cues = state.storyboard;
      for (let i = 0; i < cues.length; i++) if (t >= cues[i].start && t < cues[i].end) return cues[i];
      return cues.length && t >= cues[cues.length - 1].start ? cues[cues.length - 1] : null;
    }
    function showPreview(t, fraction) {
      const c = thumbAt(t);
      const wall = isLive ? dateOfTime(t) : null;
      thumbTime.textContent = isLive ? (wall ? wallClock(wall) : '') : clock(t);
      if (c) {
        thumbImg.style.width = c.w + 'px';
        thumbImg.style.height = c.h + 'px';
        thumbImg.style.backgroundImage = 'url("' + c.url.replace(/["\\\n]/g, '') + '")';
        thumbImg.style.backgroundPosition = -c.x + 'px ' + -c.y + 'px';
        thumbImg.hidden = false;
        state.shownThumb = { start: c.start, x: c.x, y: c.y, w: c.w, h: c.h };
      } else {
        thumbImg.hidden = true;
      }
      preview.style.left = Math.max(0, Math.min(100, fraction * 100)) + '%';
      preview.hidden = false;
    }
    const hidePreview = () => { preview.hidden = true; };
    seek.addEventListener('pointermove', (e) => {
      const r = seek.getBoundingClientRect();
      const f = r.width > 0 ? (e.clientX - r.left) / r.width : 0;
      const min = Number(seek.min) || 0;
      showPreview(min + f * ((Number(seek.max) || 0) - min), f);
    });
    seek.addEventListener('pointerleave', hidePreview);
    seek.addEventListener('blur', hidePreview);
    seek.addEventListener('pointerdown', () => { dragging = true; });
    // A click on the thumb that moves nothing fires no 'change': end the drag here too.
    const endDrag = () => { if (dragging) { dragging = false; showTime(); } };
    window.addEventListener('pointerup', endDrag);
    window.addEventListener('pointercancel', endDrag);
    seek.addEventListener('input', () => {
      const min = Number(seek.min) || 0;
      const span = (Number(seek.max) || 0) - min;
      showPreview(Number(seek.value), span > 0 ? (Number(seek.value) - min) / span : 0);
      if (!dragging) video.currentTime = Number(seek.value); // keyboard
    });
    seek.addEventListener('change', () => {
      dragging = false;
      video.currentTime = Number(seek.value);
    });

    if (opts.storyboardUrl) {
      fetch(opts.storyboardUrl, { cache: 'no-store' })
        .then((r) => (r.ok ? r.text() : ''))
        .then((text) => { state.storyboard = parseStoryboard(text, new URL(opts.storyboardUrl, location.href)); })
        .catch(() => {});
    }

    // -- live: DVR window, live edge, markers ---------------------------------------
    const details = () => (hls && hls.latestLevelDetails) || null;

    /// The seekable window {start, end, live, td} in media seconds, from the
    /// live playlist's segments (else the video's seekable range).
    function liveWindow() {
      const d = details();
      if (d && d.fragments.length) return { start: d.fragments[0].start, end: d.edge, live: d.live, td: d.targetduration || 2 };
      const r = video.seekable;
      return r.length ? { start: r.start(0), end: r.end(r.length - 1), live: true, td: 2 } : null;
    }

    /// Where the playhead is against the live edge: sync is where "Go live"
    /// goes (hls.js's live sync position), behind the seconds before it, atEdge
    /// whether the playhead is within a few segments of the edge.
    function liveStatus() {
      const w = liveWindow();
      if (!w) return null;
      const target = (hls && hls.targetLatency) || 3 * w.td;
      const sync = hls && hls.liveSyncPosition !== null && hls.liveSyncPosition !== undefined
        ? hls.liveSyncPosition : Math.max(w.start, w.end - target);
      const t = video.currentTime;
      const atEdge = w.live && w.end - t <= target + Math.max(3, 2 * w.td);
      return Object.assign(w, { sync, behind: Math.max(0, sync - t), atEdge, position: t });
    }

    /// Unix ms of media time t (null outside the window), from the segment
    /// that holds t and its EXT-X-PROGRAM-DATE-TIME.
    function dateOfTime(t) {
      const d = details();
      if (!d) return null;
      for (const f of d.fragments)
        if (f.programDateTime !== null && t >= f.start && t < f.start + f.duration + 0.001)
          return f.programDateTime + (t - f.start) * 1000;
      return null;
    }

    /// Media time of unix ms (null when no segment of the window holds it).
    function timeOfDate(ms) {
      const d = details();
      if (!d || !isFinite(ms)) return null;
      for (const f of d.fragments) {
        const p = f.programDateTime;
        if (p !== null && ms >= p && ms < p + f.duration * 1000) return f.start + (ms - p) / 1000;
      }
      return null;
    }

    let markers = []; // [{id, label, cls, startMs, duration}]
    let onMarker = null;
    const ticks = new Map(); // marker id -> element above the seek bar
    function renderMarkers(w) {
      const span = w ? w.end - w.start : 0;
      const keep = new Set();
      for (const m of markers) {
        const t = span > 0 ? timeOfDate(m.startMs) : null;
        if (t === null) continue;
        keep.add(m.id);
        let tick = ticks.get(m.id);
        if (!tick) {
          tick = el('span', { class: 'tick', 'data-marker-id': m.id });
          tick.addEventListener('click', () => onMarker && onMarker(m.id));
          ticks.set(m.id, tick);
          strip.append(tick);
        }
        tick.title = m.label + ' · ' + wallClock(m.startMs) + (m.cls ? ' · ' + m.cls : '');
        tick.dataset.time = String(t);
        const left = ((t - w.start) / span) * 100;
        tick.style.left = left + '%';
        tick.style.width = m.duration > 0 ? Math.min(100 - left, (m.duration / span) * 100) + '%' : '';
        tick.classList.toggle('band', m.duration > 0);
      }
      for (const [id, tick] of ticks) if (!keep.has(id)) { tick.remove(); ticks.delete(id); }
    }

    function showLive() {
      const st = liveStatus();
      if (!st) return;
      seek.min = String(st.start);
      seek.max = String(st.end);
      if (!dragging) seek.value = String(st.position);
      const wall = (hls && hls.playingDate && hls.playingDate.getTime()) || dateOfTime(st.position);
      const where = st.live ? (st.atEdge ? 'live' : clock(st.behind) + ' behind live')
        : clock(st.position - st.start) + ' of ' + clock(st.end - st.start);
      seek.setAttribute('aria-valuetext', where + (wall ? ', ' + wallClock(wall) : ''));
      time.textContent = (st.live ? (st.atEdge ? 'LIVE' : '−' + clock(st.behind)) : clock(st.position - st.start) + ' / ' + clock(st.end - st.start))
        + (wall ? ' · ' + wallClock(wall) : '');
      goLive.hidden = !st.live;
      goLive.dataset.state = st.atEdge ? 'live' : 'behind';
      // "Live" with a red dot at the edge; "Go live" with a grey one behind it
      // (how far behind: the time next to the bar, the title and the label).
      goLive.textContent = st.atEdge ? 'Live' : 'Go live';
      goLive.title = st.atEdge ? 'At the live edge' : clock(st.behind) + ' behind live: go to the live edge';
      goLive.setAttribute('aria-label', goLive.title);
      renderMarkers(st);
    }

    function goLiveNow() {
      const st = liveStatus();
      if (!st) return;
      video.currentTime = st.sync;
      if (video.paused) video.play().catch(() => {});
    }
    goLive.addEventListener('click', goLiveNow);
    // The window slides while paused too (no timeupdate then).
    const liveTimer = isLive ? setInterval(showLive, 1000) : 0;

    // -- menus ---------------------------------------------------------------------
    function fillQuality() {
      const auto = el('option', { value: '-1', text: 'Auto' });
      const opts2 = state.levels
        .map((l, i) => ({ l, i }))
        .sort((a, b) => (b.l.height || 0) - (a.l.height || 0) || b.l.bitrate - a.l.bitrate)
        .map(({ l, i }) => el('option', { value: String(i),
          text: (l.height ? l.height + 'p' : 'audio') + ' · ' + Math.round(l.bitrate / 1000) + ' kbps' }));
      quality.replaceChildren(auto, ...opts2);
      quality.value = hls && !hls.autoLevelEnabled ? String(hls.currentLevel) : '-1';
    }
    quality.addEventListener('change', () => { if (hls) hls.currentLevel = Number(quality.value); });
    audio.addEventListener('change', () => { if (hls) hls.audioTrack = Number(audio.value); });
    subs.addEventListener('change', () => {
      if (!hls) return;
      hls.subtitleDisplay = Number(subs.value) >= 0;
      hls.subtitleTrack = Number(subs.value);
    });
    // A track's name, or its language's name in the viewer's language ("de" -> "German").
    const languageName = (code) => {
      try { return new Intl.DisplayNames([navigator.language || 'en'], { type: 'language' }).of(code); } catch (_) { return code; }
    };
    const trackName = (t, i) =>
      (t.name && t.name !== t.lang ? t.name : t.lang ? languageName(t.lang) : '') || 'Track ' + (i + 1);

    // -- source --------------------------------------------------------------------
    const Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      const config = { workerPath: '/app/hls.worker.js', capLevelToPlayerSize: false };
      // Live: start three segments behind the edge, never jump back to it on
      // its own (the viewer may stay in the DVR window), keep a minute behind.
      if (isLive) Object.assign(config, { liveSyncDurationCount: 3, liveDurationInfinity: true, backBufferLength: 60 });
      hls = new Hls(config);
      hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => {
        state.levels = d.levels.map((l) => ({ height: l.height, width: l.width, bitrate: l.bitrate }));
        fillQuality();
        // Unmuted if the browser allows it, else muted (the viewer unmutes).
        if (opts.autoplay) video.play().catch(() => { video.muted = true; video.play().catch(() => {}); });
      });
      if (isLive) hls.on(Hls.Events.LEVEL_UPDATED, () => { showLive(); if (opts.onLevel) opts.onLevel(); });
      hls.on(Hls.Events.LEVEL_SWITCHED, (_e, d) => {
        const l = state.levels[d.level];
        const auto = quality.querySelector('option[value="-1"]');
        if (auto && l) auto.textContent = 'Auto (' + (l.height ? l.height + 'p' : 'audio') + ')';
      });
      hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_e, d) => {
        audio.replaceChildren(...d.audioTracks.map((t, i) => el('option', { value: String(i), text: trackName(t, i) })));
        audio.value = String(hls.audioTrack);
        audioWrap.hidden = d.audioTracks.length < 2;
      });
      hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_e, d) => {
        subs.replaceChildren(el('option', { value: '-1', text: 'Off' }),
          ...d.subtitleTracks.map((t, i) => el('option', { value: String(i), text: trackName(t, i) })));
        subs.value = String(hls.subtitleTrack);
        subsWrap.hidden = d.subtitleTracks.length === 0;
      });
      hls.on(Hls.Events.ERROR, (_e, d) => {
        const code = d.response && d.response.code;
        if (!d.fatal) return;
        if (code === 403 || code === 410 || code === 404)
          fatal('This link no longer works: the token was refreshed or revoked, or the media expired.');
        else fatal('Playback failed (' + d.details + ').');
      });
      hls.loadSource(opts.src);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = opts.src; // Safari plays HLS natively
    } else {
      fatal('This browser cannot play HLS (no Media Source Extensions).');
    }
    video.addEventListener('error', () => {
      if (!hls) fatal('Playback failed.');
    });

    return {
      video, state,
      get hls() { return hls; },
      /// Live only: status(), goLive(), timeOfDate(ms), dateOfTime(t),
      /// setMarkers([{id, label, cls, startMs, duration}], onClick(id)).
      live: isLive ? {
        status: liveStatus, goLive: goLiveNow, timeOfDate, dateOfTime,
        setMarkers(list, onClick) {
          markers = list;
          onMarker = onClick;
          renderMarkers(liveWindow());
        },
      } : null,
      destroy() {
        clearInterval(liveTimer);
        window.removeEventListener('pointerup', endDrag);
        window.removeEventListener('pointercancel', endDrag);
        if (hls) hls.destroy();
        hls = null;
        video.removeAttribute('src');
        video.load();
      },
    };
  }

  window.hlsgatePlayer = { createPlayer, parseStoryboard, clock, wallClock };
})();
