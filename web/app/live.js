// The web app's live pages: a channel's page (#/live/{id}?token=T: the live
// player with its DVR window, "Go live", the channel's status, the marker
// table and, for whoever holds the channel's admin key or the API token,
// adding and deleting markers and ending the event) and the "Live channels"
// section of the admin page (list, create a test channel, stop, delete).
// The keys of the channels this browser created or opened with an admin key
// are kept in localStorage (window.hlsgate.channels), like the media library.
'use strict';

(function () {
  const { api, channels, library, session, validKey, validToken } = window.hlsgate;
  const { createPlayer, clock, wallClock } = window.hlsgatePlayer;
  const app = window.hlsgateApp;
  const { el, toast, confirmAction, copy } = app;
  const view = app.view;
  const POLL_MS = 3000;

  function notice(text, role) {
    return el('p', { class: 'notice', role: role || 'status', text });
  }

  /// Runs `fn` with `button` disabled, so that a double click sends one request.
  async function once(button, fn) {
    if (button.disabled) return;
    button.disabled = true;
    try { await fn(); } finally { button.disabled = false; }
  }

  /// The credential for managing a channel: its admin key kept in this
  /// browser, else the signed-in admin's API token, else null.
  function credFor(id) {
    const e = channels.get(id);
    if (e && e.admin_key) return { adminKey: e.admin_key };
    const t = session.apiToken();
    return t ? { apiToken: t } : null;
  }

  const STATUS = { waiting: 'Waiting for the source', live: 'Live', reconnecting: 'Reconnecting to the source', ended: 'Ended' };

  function statusLine(info) {
    const parts = [STATUS[info.status] || info.status];
    if (info.status !== 'ended') parts.push(info.viewers + ' viewer' + (info.viewers === 1 ? '' : 's'));
    if (info.resolution) parts.push(info.resolution);
    if (info.fps) parts.push(Math.round(info.fps) + ' fps');
    if (info.ingest_bitrate) parts.push(Math.round(info.ingest_bitrate / 1000) + ' kbps in');
    parts.push('window ' + clock(info.window_seconds || 0) + ' of ' + clock(info.dvr_window_seconds));
    return parts.join(' · ');
  }

  // -- #/live/{id}?token=T[&admin_key=K] --------------------------------------------

  async function livePage(id, query) {
    const gen = app.generation();
    const left = () => gen !== app.generation();
    const params = new URLSearchParams(query || '');
    const urlToken = params.get('token') || '';
    const urlKey = params.get('admin_key') || '';
    if ((urlToken && validToken(urlToken)) || (urlKey && validKey(urlKey)))
      channels.put({ channel_id: id, access_token: validToken(urlToken) ? urlToken : '', admin_key: validKey(urlKey) ? urlKey : '' });
    // The admin key is kept; the address bar keeps the viewer link only.
    if (urlKey) history.replaceState(null, '', '#/live/' + id + (urlToken ? '?token=' + encodeURIComponent(urlToken) : ''));
    const entry = channels.get(id);
    const token = (validToken(urlToken) && urlToken) || (entry && entry.access_token) || '';
    const cred = credFor(id);

    const heading = el('h1', { id: 'live-h', text: (entry && entry.name) || 'Live channel' });
    document.title = 'hlsgate · ' + heading.textContent;
    const status = el('p', { class: 'status', id: 'live-status', role: 'status', text: 'Connecting…' });
    const playerHost = el('div', { class: 'player-host', id: 'player-host' });
    const page = el('section', { class: 'card live-page', 'aria-labelledby': 'live-h' }, [heading, status, playerHost]);
    view.replaceChildren(page);
    if (!token) {
      playerHost.replaceChildren(notice('This browser holds no viewer token for this channel: open the link you were given (…?token=…)'
        + (cred ? ', or issue a new one below (Refresh token).' : '.'), 'alert'));
      if (!cred) return;
    }

    // -- markers: the server's list (polled) and the playlist's EXT-X-DATERANGE --
    let markers = []; // the server's list, as the last poll or our own POST left it
    let fromPlaylist = []; // dateranges hls.js parsed that the last poll did not have yet
    const body = el('tbody', { id: 'marker-body' });
    const empty = el('p', { class: 'hint', id: 'marker-empty', text: 'No markers yet.' });
    let player = null;

    function seekToMarker(mid) {
      const m = markers.concat(fromPlaylist).find((x) => x.id === mid);
      const t = m && player && player.live ? player.live.timeOfDate(m.startMs) : null;
      if (t === null) { toast('This marker is outside the DVR window'); return; }
      player.video.currentTime = t;
      if (player.video.paused) player.video.play().catch(() => {});
    }

    function all() {
      const seen = new Set(markers.map((m) => m.id));
      return markers.concat(fromPlaylist.filter((m) => !seen.has(m.id))).sort((a, b) => b.startMs - a.startMs);
    }

    let drawn = ''; // what the table shows, so that a poll that brings nothing new keeps it (and the focus)
    function drawTable() {
      const list = all();
      if (player && player.live) player.live.setMarkers(list, seekToMarker);
      const sig = JSON.stringify(list.map((m) => [m.id, m.label, m.cls, m.startMs, m.duration, m.endOnNext]));
      if (sig === drawn) return markWindow();
      drawn = sig;
      empty.hidden = list.length > 0;
      body.replaceChildren(...list.map((m) => {
        const when = el('time', { datetime: new Date(m.startMs).toISOString(), title: new Date(m.startMs).toISOString(), text: wallClock(m.startMs) });
        const row = el('tr', { class: 'marker-row', 'data-marker-id': m.id, tabindex: '0',
          'aria-label': 'Seek to ' + m.label + ' at ' + wallClock(m.startMs) }, [
          el('td', {}, [when]), el('td', { class: 'marker-label', text: m.label }), el('td', { text: m.cls || '—' }),
          el('td', { text: m.duration > 0 ? clock(m.duration) : m.endOnNext ? 'until next' : '—' }),
          cred ? el('td', {}, [el('button', { type: 'button', class: 'secondary small', text: 'Delete',
            'aria-label': 'Delete marker ' + m.label, onclick: (e) => { e.stopPropagation(); deleteMarker(m); } })]) : null]);
        if (m.data) row.title = JSON.stringify(m.data).slice(0, 300);
        row.addEventListener('click', () => seekToMarker(m.id));
        row.addEventListener('keydown', (e) => {
          if (e.target === row && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); seekToMarker(m.id); }
        });
        return row;
      }));
      markWindow();
    }

    /// Rows whose marker is no longer (or not yet) in the DVR window are dimmed.
    function markWindow() {
      if (!player || !player.live) return;
      const list = all();
      for (const row of body.children) {
        const m = list.find((x) => x.id === row.dataset.markerId);
        const inside = !!m && player.live.timeOfDate(m.startMs) !== null;
        row.classList.toggle('outside', !inside);
        row.dataset.inWindow = inside ? 'yes' : 'no';
      }
    }

    const fromJson = (m) => ({ id: m.id, label: m.label, cls: m.class || '', startMs: m.start_ms,
      duration: typeof m.duration === 'number' ? m.duration : 0, endOnNext: !!m.end_on_next, data: m.data });

    let polling = false;
    let frozen = false; // the token is being replaced: nothing asks with the old one
    async function pollMarkers() {
      if (!token || polling || frozen) return;
      polling = true;
      try {
        const r = await api.live.markers(id, token);
        if (left()) return;
        markers = r.markers.map(fromJson);
        const ids = new Set(markers.map((m) => m.id));
        fromPlaylist = fromPlaylist.filter((m) => !ids.has(m.id) && m.startMs > Date.now() - 10000);
        drawTable();
      } catch (e) {
        if (!left() && (e.status === 404 || e.status === 403 || e.status === 410)) gone(e);
      } finally {
        polling = false;
      }
    }

    /// Markers hls.js found in the playlist (EXT-X-DATERANGE) before the poll
    /// brought them: they show at once.
    function onLevel() {
      const d = player && player.hls && player.hls.latestLevelDetails;
      if (!d || !d.dateRanges) return;
      let added = false;
      for (const dr of Object.values(d.dateRanges)) {
        if (markers.some((m) => m.id === dr.id) || fromPlaylist.some((m) => m.id === dr.id)) continue;
        const label = dr.attr && dr.attr['X-LABEL'];
        if (!label || !dr.startDate) continue;
        let data = null;
        try { // X-DATA: base64 of the marker's JSON object (UTF-8)
          data = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(dr.attr['X-DATA'] || ''), (c) => c.charCodeAt(0))));
        } catch (_) { data = null; }
        fromPlaylist.push({ id: dr.id, label, cls: dr.class || '', startMs: dr.startDate.getTime(),
          duration: dr.duration || 0, endOnNext: !!dr.endOnNext, data });
        added = true;
      }
      if (added) drawTable();
      else markWindow();
    }

    let ended = false;
    function gone(e) {
      ended = true;
      if (player) { player.destroy(); player = null; app.setCurrent(null); }
      playerHost.replaceChildren(notice(e.status === 404 ? 'This channel no longer exists (deleted or expired).'
        : 'This link no longer works (the token was revoked or expired).', 'alert'));
      status.textContent = e.status === 404 ? 'Gone' : 'No access';
    }

    // -- the player: started once the channel has its first segments --------------
    let probing = false;
    let infoSegments = -1; // segments the channel's status reported (-1: no status)
    async function startPlayer() {
      if (player || ended || !token || probing || frozen) return;
      // With the channel's status at hand, ask for the playlist once it has
      // segments (until then the server answers 503).
      if (infoSegments === 0) return;
      probing = true;
      let code = 0;
      try {
        const r = await fetch(api.live.playlistPath(id, token), { cache: 'no-store' });
        code = r.status;
        await r.text();
      } catch (_) {
        code = 0;
      } finally {
        probing = false;
      }
      if (left() || player) return;
      if (code === 503) { if (!cred) status.textContent = 'Waiting for the stream to start…'; return; }
      if (code === 404 || code === 403 || code === 410) return gone({ status: code });
      if (code !== 200) return;
      player = createPlayer(playerHost, { src: api.live.playlistPath(id, token), title: heading.textContent,
        live: true, autoplay: true, onLevel });
      window.hlsgateCurrentPlayer = player;
      app.setCurrent(player);
      drawTable();
    }

    let infoBusy = false;
    async function pollInfo() {
      if (!cred || infoBusy) return;
      infoBusy = true;
      try {
        const info = await api.live.info(id, cred);
        if (left()) return;
        status.textContent = statusLine(info);
        status.dataset.status = info.status;
        infoSegments = info.segments;
        if (!entry || !entry.name) {
          heading.textContent = info.name;
          document.title = 'hlsgate · ' + info.name;
          channels.put({ channel_id: id, name: info.name }); // only when this browser keeps keys for it
        }
        stop.hidden = info.status === 'ended';
      } catch (e) {
        if (left()) return;
        infoSegments = -1;
        if (e.status === 404) gone(e);
        else if (e.status === 401 || e.status === 403) status.textContent = 'The admin key kept in this browser is not this channel\'s';
      } finally {
        infoBusy = false;
      }
    }

    /// Viewers (no admin credential) see a status from the player itself.
    function viewerStatus() {
      if (cred || !player || !player.live) return;
      const st = player.live.status();
      if (!st) return;
      status.textContent = !st.live ? 'The event has ended · the recording of the window plays'
        : st.atEdge ? 'Live' : 'Playing from the DVR window, ' + clock(st.behind) + ' behind live';
      status.dataset.status = st.live ? 'live' : 'ended';
    }

    // -- share ----------------------------------------------------------------------
    const pageLink = el('input', { id: 'live-link', type: 'text', readonly: '', class: 'wide',
      value: token ? location.origin + api.live.pagePath(id, token) : '' });
    const hlsLink = el('input', { id: 'live-playlist', type: 'text', readonly: '', class: 'wide',
      value: token ? location.origin + api.live.playlistPath(id, token) : '' });

    // -- markers, and management for the channel's admin ----------------------------
    page.append(el('section', { 'aria-labelledby': 'markers-h' }, [
      el('h2', { id: 'markers-h', text: 'Markers' }),
      el('p', { class: 'hint', text: 'Times are this computer\'s local time. Select a marker to play from it while it is in the DVR window.' }),
      el('div', { class: 'table-wrap' }, [el('table', { class: 'media-table marker-table', id: 'marker-table' }, [
        el('caption', { class: 'visually-hidden', text: 'Markers of this channel, newest first' }),
        el('thead', {}, [el('tr', {}, ['Time', 'Label', 'Class', 'Duration'].concat(cred ? ['Actions'] : [])
          .map((h) => el('th', { scope: 'col', text: h })))]), body])]), empty]));

    const stop = el('button', { type: 'button', id: 'stop-event', class: 'danger', text: 'End the event' });
    async function deleteMarker(m) {
      try {
        await api.live.removeMarker(id, cred, m.id);
        markers = markers.filter((x) => x.id !== m.id);
        fromPlaylist = fromPlaylist.filter((x) => x.id !== m.id);
        drawTable();
        toast('Marker “' + m.label + '” deleted');
      } catch (e) {
        toast('Delete refused: ' + e.message);
      }
    }
    if (cred) page.append(manageSection());
    else if (token) page.append(adminKeyField());

    function manageSection() {
      const label = el('input', { id: 'marker-label', type: 'text', required: '', maxlength: '200', autocomplete: 'off' });
      const cls = el('input', { id: 'marker-class', type: 'text', maxlength: '64', pattern: '[A-Za-z0-9._\\-]{1,64}', placeholder: 'e.g. sports.goal', autocomplete: 'off' });
      const duration = el('input', { id: 'marker-duration', type: 'number', min: '0', max: '86400', step: '0.1', inputmode: 'decimal' });
      const atPlayhead = el('input', { id: 'marker-at-playhead', type: 'checkbox' });
      const add = el('button', { type: 'submit', id: 'marker-add', text: 'Add marker' });
      const err = el('p', { class: 'error', role: 'alert' });
      const form = el('form', { id: 'marker-form', class: 'marker-form' }, [
        el('div', { class: 'field' }, [el('label', { for: 'marker-label', text: 'Label' }), label]),
        el('div', { class: 'field' }, [el('label', { for: 'marker-class', text: 'Class (optional)' }), cls]),
        el('div', { class: 'field' }, [el('label', { for: 'marker-duration', text: 'Duration in seconds (optional)' }), duration]),
        el('div', { class: 'field check' }, [atPlayhead, el('label', { for: 'marker-at-playhead', text: 'At the playing position (else now)' })]),
        el('div', { class: 'row' }, [add]), err]);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        once(add, async () => {
          err.textContent = '';
          const b = { label: label.value.trim() };
          if (cls.value.trim()) b.class = cls.value.trim();
          if (duration.value !== '') b.duration = Number(duration.value);
          const playing = player && player.hls && player.hls.playingDate;
          if (atPlayhead.checked && playing) b.at = playing.getTime();
          try {
            const m = await api.live.addMarker(id, cred, b);
            if (left()) return;
            markers = markers.filter((x) => x.id !== m.id).concat([fromJson(m)]);
            drawTable();
            label.value = '';
            duration.value = '';
            toast('Marker “' + m.label + '” added');
          } catch (x) {
            err.textContent = x.message;
          }
        });
      });
      stop.addEventListener('click', () => once(stop, async () => {
        if (!(await confirmAction('End the event? The playlist is closed (ENDLIST) and the source is stopped; this cannot be undone.', 'End the event')))
          return;
        try {
          await api.live.stop(id, cred);
          toast('The event has ended');
          pollInfo();
        } catch (e) {
          toast('Stop refused: ' + e.message);
        }
      }));
      // The window becomes a media item of this browser's library (its keys
      // are shown once, as for an upload).
      const archive = el('button', { type: 'button', id: 'archive-window', class: 'secondary', text: 'Archive the window' });
      archive.addEventListener('click', () => once(archive, async () => {
        try {
          const r = await api.live.archive(id, cred);
          const name = (channels.get(id) || {}).name || 'Live channel';
          library.put({ media_id: r.media_id, admin_key: r.admin_key, access_token: r.access_token,
            name: name + ' (archive)', added_at: new Date().toISOString(), expires_at: r.expires_at });
          app.refreshLibrary();
          toast('Archive made; it is in your library and plays once transcoded');
          archived.replaceChildren(el('a', { id: 'archive-link', href: '#/media/' + r.media_id, text: 'Open the archive' }));
        } catch (e) {
          toast('Archive refused: ' + e.message);
        }
      }));
      const archived = el('p', { class: 'hint', 'aria-live': 'polite' });
      const refresh = el('button', { type: 'button', id: 'refresh-token', class: 'secondary', text: 'Refresh token' });
      refresh.addEventListener('click', () => once(refresh, async () => {
        if (!(await confirmAction('Issue a new viewer token? Every link shared so far stops working at once.', 'Refresh')))
          return;
        frozen = true;
        if (player) { player.destroy(); player = null; app.setCurrent(null); }
        try {
          const r = await api.live.refreshToken(id, cred);
          channels.put({ channel_id: id, access_token: r.access_token });
          toast('New token issued; old links no longer work');
          if (!left()) location.hash = '#/live/' + id + '?token=' + encodeURIComponent(r.access_token);
        } catch (e) {
          toast('Refresh refused: ' + e.message);
          frozen = false;
          if (!left()) startPlayer(); // play on with the old token
        }
      }));
      const remove = el('button', { type: 'button', id: 'delete-channel', class: 'secondary', text: 'Delete channel' });
      remove.addEventListener('click', () => once(remove, async () => {
        if (!(await confirmAction('Delete this channel? Its window, markers and every link to it are gone for good.', 'Delete')))
          return;
        try {
          if (player) { player.destroy(); player = null; app.setCurrent(null); }
          await api.live.remove(id, cred);
        } catch (e) {
          if (e.status !== 404) { toast('Delete failed: ' + e.message); return; }
        }
        channels.remove(id);
        toast('Channel deleted');
        location.hash = '#/admin';
      }));
      return el('section', { 'aria-labelledby': 'manage-h' }, [
        el('h2', { id: 'manage-h', text: 'Manage' }), form,
        el('p', { class: 'hint', text: 'Refreshing issues a new viewer token: every link shared so far stops working at once.' }),
        el('div', { class: 'row' }, [stop, archive, refresh, remove]), archived]);
    }

    function adminKeyField() {
      const key = el('input', { id: 'live-admin-key', type: 'password', autocomplete: 'off', maxlength: '128' });
      const use = el('button', { type: 'submit', class: 'secondary', text: 'Use key' });
      const err = el('p', { class: 'error', role: 'alert' });
      const form = el('form', { class: 'row' }, [el('label', { for: 'live-admin-key', text: 'Admin key' }), key, use]);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        once(use, async () => {
          const k = key.value.trim();
          if (!validKey(k)) { err.textContent = 'That is not an admin key.'; return; }
          try {
            await api.live.info(id, { adminKey: k });
          } catch (x) {
            err.textContent = x.status === 403 || x.status === 401 ? 'That is not this channel\'s admin key.' : x.message;
            return;
          }
          channels.put({ channel_id: id, admin_key: k });
          if (!left()) app.route();
        });
      });
      return el('details', { class: 'manage-key' }, [el('summary', { text: 'Manage this channel' }),
        el('p', { class: 'hint', text: 'The channel\'s admin key is kept in this browser (localStorage).' }), form, err]);
    }

    if (token) page.append(el('section', { 'aria-labelledby': 'live-share-h' }, [
      el('h2', { id: 'live-share-h', text: 'Share' }),
      el('div', { class: 'field' }, [el('label', { for: 'live-link', text: 'Page link for viewers (no management)' }), pageLink,
        el('button', { type: 'button', class: 'secondary', text: 'Copy page link', onclick: () => copy(pageLink.value, 'Link') })]),
      el('div', { class: 'field' }, [el('label', { for: 'live-playlist', text: 'Playlist link (VLC, mpv, Safari, any HLS player)' }), hlsLink,
        el('button', { type: 'button', class: 'secondary', text: 'Copy playlist link', onclick: () => copy(hlsLink.value, 'Link') })])]));

    pollMarkers();
    pollInfo().then(startPlayer);
    app.every(POLL_MS, () => { pollMarkers(); pollInfo().then(() => { if (!player) startPlayer(); }); });
    app.every(1000, () => { markWindow(); viewerStatus(); });
  }

  // -- the admin page's "Live channels" section ------------------------------------

  function adminSection(cred) {
    const body = el('tbody', { id: 'live-body' });
    const name = el('input', { id: 'live-name', type: 'text', required: '', maxlength: '200', value: 'Test pattern' });
    const ladder = el('input', { id: 'live-ladder', type: 'text', required: '', value: '360:800k' });
    const seg = el('input', { id: 'live-segment', type: 'number', min: '1', max: '10', step: '1', value: '2', required: '' });
    const dvr = el('input', { id: 'live-dvr', type: 'number', min: '6', max: '86400', step: '1', value: '300', required: '' });
    const pull = el('input', { id: 'live-pull-url', type: 'url', maxlength: '2048', placeholder: 'https://…/index.m3u8 — empty: the test pattern' });
    const create = el('button', { type: 'submit', id: 'live-create', text: 'Create channel' });
    const err = el('p', { class: 'error', role: 'alert' });
    const form = el('form', { id: 'live-form', class: 'live-form', 'aria-label': 'New channel' }, [
      el('div', { class: 'field' }, [el('label', { for: 'live-name', text: 'Name' }), name]),
      el('div', { class: 'field grow' }, [el('label', { for: 'live-pull-url', text: 'Pull from URL (HLS or MPEG-TS, http or https)' }), pull]),
      el('div', { class: 'field' }, [el('label', { for: 'live-ladder', text: 'Ladder (height:bitrate, …)' }), ladder]),
      el('div', { class: 'field' }, [el('label', { for: 'live-segment', text: 'Segment seconds' }), seg]),
      el('div', { class: 'field' }, [el('label', { for: 'live-dvr', text: 'DVR window seconds' }), dvr]),
      el('div', { class: 'field' }, [create])]);
    const gen = app.generation();

    async function load() {
      let r;
      try {
        r = await api.live.list(cred, 100);
      } catch (e) {
        if (gen === app.generation()) body.replaceChildren(el('tr', {}, [el('td', { colspan: '5', text: 'Listing failed: ' + e.message })]));
        return;
      }
      if (gen !== app.generation()) return;
      body.replaceChildren(...r.channels.map((c) => {
        const kept = channels.get(c.channel_id);
        const link = kept && kept.access_token
          ? el('a', { href: '#/live/' + c.channel_id + '?token=' + encodeURIComponent(kept.access_token), text: c.name })
          : el('a', { href: '#/live/' + c.channel_id, text: c.name, title: 'This browser holds no viewer token for this channel' });
        const stopBtn = el('button', { type: 'button', class: 'secondary small', text: 'Stop', hidden: c.status === 'ended',
          'aria-label': 'Stop ' + c.name });
        const del = el('button', { type: 'button', class: 'danger small', text: 'Delete', 'aria-label': 'Delete ' + c.name });
        stopBtn.addEventListener('click', () => once(stopBtn, async () => {
          if (!(await confirmAction('End the event “' + c.name + '”?', 'End the event'))) return;
          try { await api.live.stop(c.channel_id, cred); } catch (e) { toast('Stop refused: ' + e.message); }
          load();
        }));
        del.addEventListener('click', () => once(del, async () => {
          if (!(await confirmAction('Delete the channel “' + c.name + '”? Its window and markers are gone for good.', 'Delete'))) return;
          try {
            await api.live.remove(c.channel_id, cred);
            channels.remove(c.channel_id);
          } catch (e) {
            toast('Delete refused: ' + e.message);
          }
          load();
        }));
        return el('tr', { 'data-channel-id': c.channel_id }, [el('td', {}, [link]), el('td', { class: 'status', text: STATUS[c.status] || c.status }),
          el('td', { text: String(c.viewers) }), el('td', { text: (c.created_at || '').replace('T', ' ').replace('Z', ' UTC') }),
          el('td', {}, [el('div', { class: 'row' }, [stopBtn, del])])]);
      }));
      if (!r.channels.length) body.append(el('tr', {}, [el('td', { colspan: '5', text: 'No live channels.' })]));
    }

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      once(create, async () => {
        err.textContent = '';
        let c;
        try {
          const url = pull.value.trim();
          c = await api.live.create(cred, { name: name.value.trim(), source: url ? { type: 'pull', url } : { type: 'test' }, ladder: ladder.value.trim(),
            segment_seconds: Number(seg.value), dvr_window_seconds: Number(dvr.value) });
        } catch (x) {
          err.textContent = x.message;
          return;
        }
        channels.put({ channel_id: c.channel_id, name: name.value.trim(), access_token: c.access_token, admin_key: c.admin_key });
        if (gen === app.generation()) location.hash = '#/live/' + c.channel_id + '?token=' + encodeURIComponent(c.access_token);
      });
    });
    load();
    const refresh = el('button', { type: 'button', class: 'secondary', id: 'live-refresh', text: 'Refresh' });
    refresh.addEventListener('click', () => once(refresh, load));
    return el('section', { class: 'card', 'aria-labelledby': 'live-admin-h' }, [
      el('div', { class: 'row spread' }, [el('h2', { id: 'live-admin-h', text: 'Live channels' }), refresh]),
      el('p', { class: 'hint', text: 'Without a URL the channel plays a test pattern with a clock and a tone, with a marker every 30 s; with one it relays that HLS playlist or MPEG-TS stream through its own ladder. The keys of the channels created here are kept in this browser (localStorage).' }),
      form, err,
      el('div', { class: 'table-wrap' }, [el('table', { class: 'media-table' }, [
        el('caption', { class: 'visually-hidden', text: 'Every live channel on this server, newest first' }),
        el('thead', {}, [el('tr', {}, ['Name', 'Status', 'Viewers', 'Created', 'Actions'].map((h) => el('th', { scope: 'col', text: h })))]),
        body])])]);
  }

  window.hlsgateLivePage = livePage;
  window.hlsgateLive = { adminSection };
})();
