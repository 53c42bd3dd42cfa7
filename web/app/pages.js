// The web app's media page (#/media/{id}: player, expiry countdown, extend,
// share link and embed code, refresh, delete) and admin page (#/admin: every
// item on the server, for whoever signs in with the API token).
'use strict';

(function () {
  const { api, library, session } = window.hlsgate;
  const { createPlayer } = window.hlsgatePlayer;
  const app = window.hlsgateApp;
  const { el, toast, confirmAction, copy, countdown, statusText } = app;
  const view = app.view;

  function notice(text, role) {
    return el('p', { class: 'notice', role: role || 'status', text });
  }

  // -- #/media/{id} ----------------------------------------------------------------

  /// Minutes from now to an ISO 8601 deadline, within the API's [1, 10080].
  function minutesUntil(iso) {
    const m = Math.ceil((Date.parse(iso) - Date.now()) / 60000);
    return Math.min(10080, Math.max(1, isFinite(m) ? m : 60));
  }

  /// Runs `fn` with `button` disabled, so that a double click sends one request.
  async function once(button, fn) {
    if (button.disabled) return;
    button.disabled = true;
    try { await fn(); } finally { button.disabled = false; }
  }

  async function mediaPage(id) {
    document.title = 'hlsgate · ' + id;
    const gen = app.generation();
    const left = () => gen !== app.generation();
    const entry = library.get(id);
    const cred = app.credFor(id);
    const heading = el('h1', { id: 'media-h', text: (entry && entry.name) || id });
    const page = el('section', { class: 'card media-page', 'aria-labelledby': 'media-h' }, [heading]);
    view.replaceChildren(page);
    if (!cred && !(entry && entry.access_token)) {
      page.append(notice('This browser holds no key for this media. Import your library list, or sign in on the admin page.', 'alert'),
        el('a', { href: '#/admin', class: 'button', text: 'Sign in as admin' }));
      return;
    }
    // With an admin credential: the item's record. With a viewer token only:
    // what a viewer may see (stream-info), and no management.
    let info = null;
    let token = (entry && entry.access_token) || (cred && cred.apiToken ? session.viewerToken(id) : '');
    try {
      info = cred ? await api.info(id, cred) : await api.streamInfo(id, token);
    } catch (e) {
      if (left()) return;
      page.append(notice(e.status === 404 ? 'This media no longer exists (expired or deleted).'
        : e.status === 403 || e.status === 410 ? 'This link no longer works (the token was refreshed, revoked or expired).'
          : 'Could not load it: ' + e.message, 'alert'));
      return;
    }
    if (left()) return;
    if (info.original_name) heading.textContent = info.original_name;
    document.title = 'hlsgate · ' + heading.textContent;
    const status = el('p', { class: 'status', id: 'media-status', role: 'status', text: statusText(info) });
    const playerHost = el('div', { class: 'player-host', id: 'player-host' });
    const expires = el('p', { id: 'media-expires' }, ['Expires ', countdown(info.expires_at)]);
    page.append(status, playerHost);

    // Expiry: countdown and extend.
    const minutes = el('input', { id: 'extend-minutes', type: 'number', min: '1', max: '10080', value: '60', inputmode: 'numeric' });
    const extend = el('button', { type: 'button', id: 'extend', text: 'Extend' });
    extend.addEventListener('click', () => once(extend, async () => {
      try {
        const r = await api.extend(id, cred, minutes.value);
        info.expires_at = r.expires_at;
        expires.replaceChildren('Expires ', countdown(r.expires_at));
        if (library.get(id)) library.put({ media_id: id, expires_at: r.expires_at });
        toast('Extended by ' + r.extended_by_minutes + ' min');
      } catch (e) {
        toast('Extend refused: ' + e.message);
      }
    }));
    page.append(el('section', { 'aria-labelledby': 'expiry-h' }, [
      el('h2', { id: 'expiry-h', text: 'Expiry' }), expires,
      cred ? el('div', { class: 'row' }, [el('label', { for: 'extend-minutes', text: 'Minutes' }), minutes, extend]) : null]));

    // Share and embed: filled once the player's token is known.
    const link = el('input', { id: 'share-link', type: 'text', readonly: '', class: 'wide' });
    const embed = el('textarea', { id: 'embed-code', readonly: '', rows: '3', class: 'wide' });
    const embedOpen = el('a', { id: 'embed-open', target: '_blank', rel: 'noopener', text: 'Open the embed page' });
    page.append(el('section', { 'aria-labelledby': 'share-h' }, [
      el('h2', { id: 'share-h', text: 'Share' }),
      el('div', { class: 'field' }, [el('label', { for: 'share-link', text: 'Playlist link (VLC, mpv, Safari, any HLS player)' }), link,
        el('button', { type: 'button', class: 'secondary', text: 'Copy link', onclick: () => copy(link.value, 'Link') })]),
      el('div', { class: 'field' }, [el('label', { for: 'embed-code', text: 'Embed code' }), embed,
        el('button', { type: 'button', class: 'secondary', text: 'Copy embed code', onclick: () => copy(embed.value, 'Embed code') })]),
      embedOpen]));
    // Links go to the server's public URL (HLSGATE_PUBLIC_URL, e.g. an edge),
    // read from manifest_url; when that is only the loopback default, to the
    // address this page was opened at.
    const share = (manifestUrl, t) => {
      let base = location.origin;
      try {
        const u = new URL(manifestUrl);
        if (!/^(127\.|localhost$|\[::1\]$)/.test(u.hostname)) base = manifestUrl.slice(0, manifestUrl.indexOf('/stream/'));
      } catch (_) { /* keep this page's origin */ }
      link.value = base + api.playlistPath(id, t);
      const em = base + api.embedPath(id, t);
      embed.value = '<iframe src="' + em + '" width="640" height="360" allow="fullscreen; autoplay" allowfullscreen style="border:0"></iframe>';
      embedOpen.href = em;
    };

    async function startPlayer() {
      if (!token) {
        try {
          // A token for this tab, living as long as the media does now.
          token = (await api.mintToken(id, cred, 'web app', minutesUntil(info.expires_at))).access_token;
          session.setViewerToken(id, token);
        } catch (e) {
          playerHost.replaceChildren(notice('No viewer token: ' + e.message, 'alert'));
          return;
        }
      }
      let si;
      try {
        si = await api.streamInfo(id, token);
      } catch (e) {
        if (!left()) playerHost.replaceChildren(notice('The viewer token does not work: ' + e.message + '. Refresh the token.', 'alert'));
        return;
      }
      if (left()) return;
      share(si.manifest_url, token);
      // An imported item becomes playable when its playlist is first asked for.
      if (!si.playable && si.status !== 'imported') return;
      const rel = (u) => (u ? new URL(u, location.href).pathname + new URL(u, location.href).search : '');
      const old = window.hlsgateCurrentPlayer;
      if (old) old.destroy();
      const p = createPlayer(playerHost, { src: api.playlistPath(id, token), poster: rel(si.poster_url),
        storyboardUrl: rel(si.storyboard_url), title: heading.textContent });
      window.hlsgateCurrentPlayer = p;
      app.setCurrent(p);
    }

    if (cred) {
      // Manage: refresh and delete.
      const refresh = el('button', { type: 'button', id: 'refresh', class: 'secondary', text: 'Refresh token' });
      const remove = el('button', { type: 'button', id: 'delete', class: 'danger', text: 'Delete' });
      page.append(el('section', { 'aria-labelledby': 'manage-h' }, [
        el('h2', { id: 'manage-h', text: 'Manage' }),
        el('p', { class: 'hint', text: 'Refreshing issues a new token: every link shared so far stops working at once.' }),
        el('div', { class: 'row' }, [refresh, remove])]));
      remove.addEventListener('click', () => once(remove, async () => {
        let stopped = false;
        const stop = () => {
          stopped = true;
          if (window.hlsgateCurrentPlayer) window.hlsgateCurrentPlayer.destroy();
        };
        if (await app.deleteItem(id, heading.textContent, cred, stop)) location.hash = '#/';
        else if (stopped && !left()) startPlayer(); // the delete failed: play on
      }));
      refresh.addEventListener('click', () => once(refresh, async () => {
        if (!(await confirmAction('Issue a new token? Every link shared so far stops working at once.', 'Refresh')))
          return;
        try {
          // The new token lives as long as the media does now.
          const r = await api.refresh(id, cred, minutesUntil(info.expires_at));
          token = r.access_token;
          if (library.get(id)) library.put({ media_id: id, access_token: token });
          else session.setViewerToken(id, token);
          if (left()) return;
          await startPlayer();
          toast('New token issued; old links no longer work');
        } catch (e) {
          toast('Refresh refused: ' + e.message);
        }
      }));
    }

    if (info.status === 'ready' || info.status === 'imported') {
      startPlayer();
    } else if (info.status !== 'failed') {
      const bar = el('progress', { max: '100', value: String(info.progress || 0), 'aria-label': 'Transcoding progress' });
      playerHost.replaceChildren(bar);
      let busy = false;
      const timer = app.every(1000, async () => {
        if (busy) return;
        busy = true;
        try {
          info = cred ? await api.info(id, cred) : await api.streamInfo(id, token);
        } catch (e) {
          status.textContent = e.message;
          clearInterval(timer);
          return;
        } finally {
          busy = false;
        }
        if (left()) return;
        status.textContent = statusText(info);
        bar.value = info.progress || 0;
        if (info.status === 'ready') { clearInterval(timer); startPlayer(); }
        if (info.status === 'failed') { clearInterval(timer); playerHost.replaceChildren(); }
      });
    }
  }

  // -- #/admin ---------------------------------------------------------------------

  function signIn() {
    const input = el('input', { id: 'admin-token', type: 'password', autocomplete: 'current-password', required: '' });
    const err = el('p', { class: 'error', role: 'alert' });
    const form = el('form', { class: 'card', 'aria-labelledby': 'admin-h' }, [
      el('h1', { id: 'admin-h', text: 'All media (admin)' }),
      el('p', { class: 'hint', text: 'Sign in with the server\'s API token (HLSGATE_API_TOKEN, or DATA_DIR/api_token). It is kept for this tab only.' }),
      el('div', { class: 'field' }, [el('label', { for: 'admin-token', text: 'API token' }), input]),
      el('button', { type: 'submit', text: 'Sign in' }), err]);
    const gen = app.generation();
    const submit = form.querySelector('button[type="submit"]');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      once(submit, async () => {
        const t = input.value.trim();
        try {
          await api.list({ apiToken: t }, { limit: '1' });
        } catch (x) {
          err.textContent = x.status === 401 || x.status === 403 ? 'That is not the API token.' : x.message;
          return;
        }
        session.setApiToken(t);
        if (gen === app.generation()) adminPage();
      });
    });
    view.replaceChildren(form);
    input.focus();
  }

  function adminPage() {
    document.title = 'hlsgate · all media';
    const token = session.apiToken();
    if (!token) return signIn();
    const cred = { apiToken: token };
    const statusSel = el('select', { id: 'filter-status' }, ['', 'queued', 'processing', 'ready', 'failed', 'imported']
      .map((s) => el('option', { value: s, text: s || 'any' })));
    const q = el('input', { id: 'filter-q', type: 'search', maxlength: '200' });
    const body = el('tbody', { id: 'admin-body' });
    const more = el('button', { type: 'button', class: 'secondary', id: 'load-more', text: 'Load more', hidden: true });
    const bulk = el('button', { type: 'button', class: 'danger', id: 'delete-matching', text: 'Delete all matching' });
    const signOut = el('button', { type: 'button', class: 'secondary', text: 'Sign out' });
    const filter = el('form', { class: 'row', role: 'search', 'aria-label': 'Filter media' }, [
      el('label', { for: 'filter-status', text: 'Status' }), statusSel,
      el('label', { for: 'filter-q', text: 'Name or id' }), q, el('button', { type: 'submit', text: 'Apply' }), bulk]);
    view.replaceChildren(el('section', { class: 'card', 'aria-labelledby': 'admin-h' }, [
      el('div', { class: 'row spread' }, [el('h1', { id: 'admin-h', text: 'All media (admin)' }), signOut]), filter,
      el('div', { class: 'table-wrap' }, [el('table', { class: 'media-table' }, [
        el('caption', { class: 'visually-hidden', text: 'Every media item on this server, newest first' }),
        el('thead', {}, [el('tr', {}, ['Name', 'Status', 'Created', 'Expires', 'Duration', 'Actions']
          .map((h) => el('th', { scope: 'col', text: h })))]), body])]), more]),
      window.hlsgateLive.adminSection(cred));

    let cursor = null;
    let seq = 0; // the latest listing; older answers are dropped
    const gen = app.generation();
    const params = () => ({ status: statusSel.value, q: q.value.trim() });
    async function load(reset) {
      const mine = ++seq;
      if (reset) { body.replaceChildren(); cursor = null; more.hidden = true; }
      more.disabled = true;
      let page;
      try {
        page = await api.list(cred, Object.assign({ limit: '50', cursor: cursor || '' }, params()));
      } catch (e) {
        if (mine !== seq || gen !== app.generation()) return;
        more.disabled = false;
        if (e.status === 401 || e.status === 403) { session.setApiToken(''); return signIn(); }
        toast('Listing failed: ' + e.message);
        return;
      }
      if (mine !== seq || gen !== app.generation()) return;
      more.disabled = false;
      for (const m of page.items) {
        const del = el('button', { type: 'button', class: 'danger small', text: 'Delete', 'aria-label': 'Delete ' + (m.original_name || m.media_id) });
        const row = el('tr', { 'data-media-id': m.media_id }, [
          el('td', {}, [el('a', { href: '#/media/' + m.media_id, text: m.original_name || m.media_id })]),
          el('td', { text: m.status }), el('td', { text: (m.created_at || '').replace('T', ' ').replace('Z', ' UTC') }),
          el('td', {}, [countdown(m.expires_at)]),
          el('td', { text: m.duration ? window.hlsgatePlayer.clock(m.duration) : '—' }), el('td', {}, [del])]);
        del.addEventListener('click', async () => {
          if (await app.deleteItem(m.media_id, m.original_name, cred)) row.remove();
        });
        body.append(row);
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!body.children.length) body.append(el('tr', {}, [el('td', { colspan: '6', text: 'No media matches.' })]));
    }
    filter.addEventListener('submit', (e) => { e.preventDefault(); load(true); });
    more.addEventListener('click', () => load(false));
    signOut.addEventListener('click', () => { session.setApiToken(''); signIn(); });
    bulk.addEventListener('click', () => once(bulk, async () => {
      const p = params();
      if (!p.status && !p.q) { toast('Choose a status or a name first'); return; }
      if (!(await confirmAction('Delete every item that matches (status: ' + (p.status || 'any') + ', name: ' + (p.q || 'any') + ')?', 'Delete all')))
        return;
      try {
        const r = await api.removeMatching(cred, p);
        toast('Deleted ' + r.deleted + ' of ' + r.matched + (r.remaining ? '; ' + r.remaining + ' left, run again' : ''));
      } catch (e) {
        toast('Bulk delete refused: ' + e.message);
      }
      if (gen === app.generation()) load(true);
    }));
    load(true);
  }

  window.hlsgateMediaPage = mediaPage;
  window.hlsgateAdminPage = adminPage;
})();
