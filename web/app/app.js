// The web app at /: upload (drag and drop, byte progress, then transcode
// progress), the library of media this browser uploaded (keys kept in
// localStorage, exportable), a page per media (player, share and embed,
// expiry countdown, extend, refresh, delete) and, for an admin signed in with
// the API token, every item on the server. Routes live in the URL's hash.
'use strict';

(function () {
  const { api, library, session } = window.hlsgate;
  const { createPlayer, clock } = window.hlsgatePlayer;
  const view = document.getElementById('view');
  let current = null; // the media page's player, destroyed on navigation
  let polls = []; // timers of the view on screen
  let generation = 0; // bumped on every navigation: late answers of an old view are dropped

  // -- small helpers ---------------------------------------------------------------

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v;
      else if (k === 'hidden') e.hidden = !!v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children || []) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const $ = (sel) => view.querySelector(sel);

  function toast(text) {
    const t = document.getElementById('toast');
    t.textContent = text;
    t.classList.add('show');
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => t.classList.remove('show'), 4000);
  }

  function confirmAction(text, okLabel) {
    const d = document.getElementById('confirm');
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = okLabel || 'OK';
    d.returnValue = '';
    d.showModal();
    return new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true }));
  }

  function bytes(n) {
    const u = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
  }

  /// "in 2 h 05 min", "in 42 s", "expired".
  function remaining(iso) {
    const left = Math.floor((Date.parse(iso) - Date.now()) / 1000);
    if (!isFinite(left)) return '—';
    if (left <= 0) return 'expired';
    const d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
    const m = Math.floor((left % 3600) / 60), s = left % 60;
    if (d) return 'in ' + d + ' d ' + h + ' h';
    if (h) return 'in ' + h + ' h ' + String(m).padStart(2, '0') + ' min';
    if (m) return 'in ' + m + ' min ' + String(s).padStart(2, '0') + ' s';
    return 'in ' + s + ' s';
  }
  function countdown(iso) {
    return el('time', { 'data-expires': iso || '', datetime: iso || '', title: iso || '', text: iso ? remaining(iso) : '—' });
  }
  setInterval(() => {
    for (const t of document.querySelectorAll('[data-expires]'))
      if (t.dataset.expires) t.textContent = remaining(t.dataset.expires);
  }, 1000);

  function every(ms, fn) {
    const id = setInterval(fn, ms);
    polls.push(id);
    return id;
  }

  async function copy(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      toast(what + ' copied');
    } catch (_) {
      toast('Select the text and copy it');
    }
  }

  function statusText(info) {
    if (info.status === 'processing' || info.status === 'queued') {
      let t = (info.status === 'queued' ? 'Queued' : 'Transcoding') + ' ' + Math.floor(info.progress || 0) + '%';
      if (info.eta_seconds > 0) t += ' · about ' + clock(info.eta_seconds) + ' left';
      return t;
    }
    if (info.status === 'failed') return 'Failed' + (info.error ? ': ' + info.error : '');
    if (info.status === 'imported') return 'Imported (transcoded when first played)';
    return 'Ready';
  }

  /// The credential this browser holds for an item: its admin key, else the
  /// signed-in admin's API token.
  function credFor(id) {
    const e = library.get(id);
    if (e && e.admin_key) return { adminKey: e.admin_key };
    const t = session.apiToken();
    return t ? { apiToken: t } : null;
  }

  // -- upload ----------------------------------------------------------------------

  function uploadView() {
    const file = el('input', { type: 'file', id: 'file', multiple: '', class: 'visually-hidden', accept: 'audio/*,video/*' });
    const drop = el('div', { class: 'drop', id: 'drop' }, [
      el('p', { text: 'Drag and drop audio or video files here, or' }), file,
      el('label', { for: 'file', class: 'button', text: 'Choose files' })]);
    const expiry = el('input', { id: 'expiry', type: 'number', min: '1', max: '10080', inputmode: 'numeric', placeholder: 'server default', 'aria-describedby': 'expiry-hint' });
    const tokenInput = el('input', { id: 'upload-token', type: 'password', autocomplete: 'off' });
    const tokenRow = el('div', { class: 'field', id: 'token-row', hidden: !session.apiToken() && true }, [
      el('label', { for: 'upload-token', text: 'API token (this server needs it for uploads)' }), tokenInput]);
    tokenInput.value = session.apiToken();
    const list = el('ul', { class: 'uploads', id: 'uploads', 'aria-label': 'Uploads' });
    const start = (files) => { for (const f of files) uploadOne(f, list, expiry, tokenInput, tokenRow); };
    file.addEventListener('change', () => { start(Array.from(file.files)); file.value = ''; });
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      start(Array.from(e.dataTransfer.files));
    });
    return el('section', { class: 'card', 'aria-labelledby': 'upload-h' }, [
      el('h1', { id: 'upload-h', text: 'Upload' }), drop,
      el('div', { class: 'field' }, [el('label', { for: 'expiry', text: 'Keep for (minutes)' }), expiry,
        el('span', { id: 'expiry-hint', class: 'hint', text: '1 to 10080 (7 days); empty: the server\'s default' })]),
      tokenRow, list]);
  }

  async function uploadOne(file, list, expiry, tokenInput, tokenRow) {
    const bar = el('progress', { max: '100', value: '0', 'aria-label': 'Progress of ' + file.name });
    const text = el('span', { class: 'upload-status', text: 'Starting…' });
    const item = el('li', { class: 'upload' }, [el('strong', { text: file.name }), bar, text]);
    list.prepend(item);
    let reply;
    try {
      reply = await api.upload(file, {
        expiryMinutes: expiry.value,
        apiToken: tokenInput.value.trim(),
        onProgress: (sent, total) => {
          bar.value = total ? (100 * sent) / total : 0;
          text.textContent = 'Uploading ' + bytes(sent) + ' of ' + bytes(total);
        },
      });
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        tokenRow.hidden = false;
        tokenInput.focus();
      }
      item.classList.add('failed');
      text.textContent = 'Upload refused: ' + e.message;
      const retry = el('button', { type: 'button', class: 'secondary', text: 'Retry' });
      retry.addEventListener('click', () => { item.remove(); uploadOne(file, list, expiry, tokenInput, tokenRow); });
      item.append(retry);
      return;
    }
    if (tokenInput.value.trim()) session.setApiToken(tokenInput.value.trim());
    library.put({ media_id: reply.media_id, admin_key: reply.admin_key, access_token: reply.access_token,
      name: file.name, added_at: new Date().toISOString(), expires_at: reply.expires_at });
    item.dataset.mediaId = reply.media_id;
    refreshLibrary();
    const open = el('a', { href: '#/media/' + reply.media_id, text: 'Open' });
    item.append(open);
    const cred = { adminKey: reply.admin_key };
    const follow = async () => {
      let info;
      try { info = await api.info(reply.media_id, cred); } catch (e) { text.textContent = e.message; return true; }
      bar.value = info.status === 'ready' ? 100 : info.progress || 0;
      text.textContent = statusText(info);
      item.dataset.status = info.status;
      if (info.status === 'failed') item.classList.add('failed');
      return info.status === 'ready' || info.status === 'failed';
    };
    if (!(await follow())) {
      const id = every(1000, async () => {
        if (await follow()) { clearInterval(id); refreshLibrary(); }
      });
    }
  }

  // -- this browser's library ------------------------------------------------------

  function libraryView() {
    const exportBtn = el('button', { type: 'button', class: 'secondary', id: 'export', text: 'Export list' });
    const importFile = el('input', { type: 'file', id: 'import-file', accept: 'application/json,.json', class: 'visually-hidden' });
    exportBtn.addEventListener('click', () => {
      const a = el('a', { download: 'hlsgate-library.json',
        href: URL.createObjectURL(new Blob([library.exportJson()], { type: 'application/json' })) });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    });
    importFile.addEventListener('change', async () => {
      const f = importFile.files[0];
      importFile.value = '';
      if (!f) return;
      try {
        const n = library.importJson(await f.text());
        toast('Imported ' + n + ' item' + (n === 1 ? '' : 's'));
        refreshLibrary();
      } catch (e) {
        toast('Import failed: ' + e.message);
      }
    });
    return el('section', { class: 'card', 'aria-labelledby': 'library-h' }, [
      el('h2', { id: 'library-h', text: 'Your media on this browser' }),
      el('p', { class: 'hint', text: 'Keys stay in this browser only. Export the list to keep them or move them to another browser.' }),
      el('div', { class: 'row' }, [exportBtn, importFile, el('label', { for: 'import-file', class: 'button secondary', text: 'Import list' })]),
      el('div', { class: 'table-wrap' }, [el('table', { class: 'media-table' }, [
        el('caption', { class: 'visually-hidden', text: 'Media uploaded from this browser' }),
        el('thead', {}, [el('tr', {}, ['Name', 'Status', 'Expires', 'Actions'].map((h) => el('th', { scope: 'col', text: h })))]),
        el('tbody', { id: 'library-body' })])]),
      el('p', { id: 'library-empty', class: 'hint', text: 'Nothing uploaded from this browser yet.' })]);
  }

  function refreshLibrary() {
    const body = document.getElementById('library-body');
    if (!body) return;
    const items = library.all();
    document.getElementById('library-empty').hidden = items.length > 0;
    body.replaceChildren(...items.map((e) => {
      const status = el('td', { class: 'status', text: '…' });
      const expires = el('td', {}, [countdown(e.expires_at)]);
      const remove = el('button', { type: 'button', class: 'danger small', text: 'Delete', 'aria-label': 'Delete ' + (e.name || e.media_id) });
      let onRemove = () => deleteItem(e.media_id, e.name, credFor(e.media_id)).then((ok) => ok && refreshLibrary());
      remove.addEventListener('click', () => onRemove());
      const row = el('tr', { 'data-media-id': e.media_id }, [
        el('td', {}, [el('a', { href: '#/media/' + e.media_id, text: e.name || e.media_id })]), status, expires,
        el('td', {}, [remove])]);
      if (e.admin_key) {
        api.info(e.media_id, { adminKey: e.admin_key }).then((info) => {
          status.textContent = statusText(info);
          expires.replaceChildren(countdown(info.expires_at));
          library.put({ media_id: e.media_id, expires_at: info.expires_at });
        }, (err) => {
          status.textContent = err.status === 404 ? 'Gone (expired or deleted)' : err.message;
          if (err.status === 404) {
            remove.textContent = 'Forget';
            remove.setAttribute('aria-label', 'Forget ' + (e.name || e.media_id));
            onRemove = () => { library.remove(e.media_id); refreshLibrary(); };
          }
        });
      } else {
        status.textContent = 'Viewer link only';
      }
      return row;
    }));
  }

  /// Asks, then deletes. `beforeRemove` runs once confirmed (the media page
  /// stops its player there, so that nothing asks for the files meanwhile).
  async function deleteItem(id, name, cred, beforeRemove) {
    if (!cred) { toast('No key for this item in this browser'); return false; }
    if (!(await confirmAction('Delete “' + (name || id) + '”? Its files and every link to it are gone for good.', 'Delete')))
      return false;
    if (beforeRemove) beforeRemove();
    try {
      await api.remove(id, cred);
    } catch (e) {
      if (e.status !== 404) { toast('Delete failed: ' + e.message); return false; }
    }
    library.remove(id);
    toast('Deleted ' + (name || id));
    return true;
  }

  function home() {
    view.replaceChildren(uploadView(), libraryView());
    refreshLibrary();
    document.title = 'hlsgate';
  }

  window.hlsgateApp = { home, refreshLibrary, uploadOne, deleteItem, credFor, statusText, remaining, el, every,
    toast, confirmAction, copy, countdown, setCurrent: (p) => { current = p; }, view,
    generation: () => generation };

  // -- routing ---------------------------------------------------------------------

  function route() {
    generation++;
    for (const id of polls) clearInterval(id);
    polls = [];
    if (current) { current.destroy(); current = null; }
    const h = location.hash.replace(/^#/, '');
    const m = /^\/media\/([A-Za-z0-9_-]{1,64})$/.exec(h);
    if (m) window.hlsgateMediaPage(m[1]);
    else if (h === '/admin') window.hlsgateAdminPage();
    else home();
    const main = document.getElementById('main');
    if (h) main.focus({ preventScroll: true });
  }
  window.addEventListener('hashchange', route);
  window.addEventListener('DOMContentLoaded', route);
  window.hlsgateApp.route = route;
})();
