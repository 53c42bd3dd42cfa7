// The web app at /: upload (drag and drop, byte progress, then transcode
// progress), the library of media this browser uploaded (keys kept in
// localStorage, exportable), a page per media (player, share and embed,
// expiry countdown, extend, refresh, delete), a page per live channel
// (live.js) and, for an admin signed in with the API token, every item and
// channel on the server. Routes live in the URL's hash.
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

  let refreshRun = 0;

  /// Redraws the library table, then asks the server for each item's status,
  /// four at a time, and stores the fresh deadlines in one write.
  function refreshLibrary() {
    const body = document.getElementById('library-body');
    if (!body) return;
    const run = ++refreshRun;
    const items = library.all();
    document.getElementById('library-empty').hidden = items.length > 0;
    const pending = [];
    body.replaceChildren(...items.map((e) => {
      const label = e.name || e.media_id;
      const status = el('td', { class: 'status', text: '…' });
      const expires = el('td', {}, [countdown(e.expires_at)]);
      const remove = el('button', { type: 'button', class: 'danger small' });
      const forget = () => { library.remove(e.media_id); refreshLibrary(); };
      const asForget = () => {
        remove.textContent = 'Forget';
        remove.setAttribute('aria-label', 'Forget ' + label + ' (this browser only)');
        remove.classList.replace('danger', 'secondary');
      };
      let onRemove = forget;
      if (e.admin_key) {
        remove.textContent = 'Delete';
        remove.setAttribute('aria-label', 'Delete ' + label);
        onRemove = () => deleteItem(e.media_id, e.name, { adminKey: e.admin_key }).then((ok) => ok && refreshLibrary());
        pending.push({ e, status, expires, gone: () => { asForget(); onRemove = forget; } });
      } else {
        status.textContent = 'Viewer link only';
        asForget();
      }
      remove.addEventListener('click', () => onRemove());
      return el('tr', { 'data-media-id': e.media_id }, [
        el('td', {}, [el('a', { href: '#/media/' + e.media_id, text: label })]), status, expires, el('td', {}, [remove])]);
    }));
    const deadlines = {};
    const worker = async () => {
      for (let p = pending.shift(); p && run === refreshRun; p = pending.shift()) {
        try {
          const info = await api.info(p.e.media_id, { adminKey: p.e.admin_key });
          p.status.textContent = statusText(info);
          p.expires.replaceChildren(countdown(info.expires_at));
          deadlines[p.e.media_id] = info.expires_at;
        } catch (err) {
          p.status.textContent = err.status === 404 ? 'Gone (expired or deleted)' : err.message;
          if (err.status === 404) p.gone();
        }
      }
    };
    Promise.all([worker(), worker(), worker(), worker()]).then(() => {
      if (Object.keys(deadlines).length) library.update(deadlines, 'expires_at');
    });
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
    view.replaceChildren(window.hlsgateUpload.card(), libraryView());
    refreshLibrary();
    document.title = 'hlsgate';
  }

  window.hlsgateApp = { home, refreshLibrary, deleteItem, credFor, statusText, remaining, el, every,
    toast, confirmAction, copy, countdown, setCurrent: (p) => { current = p; }, view,
    generation: () => generation };

  // -- routing ---------------------------------------------------------------------

  function route(event) {
    const h = location.hash.replace(/^#/, '');
    // Only "#/..." names a view; any other fragment is an in-page anchor.
    if (event && event.type === 'hashchange' && h && !h.startsWith('/')) return;
    generation++;
    for (const id of polls) clearInterval(id);
    polls = [];
    if (current) { current.destroy(); current = null; }
    const dialog = document.getElementById('confirm');
    if (dialog.open) dialog.close('cancel'); // never confirm for a page that is gone
    const main = document.getElementById('main');
    if (h.startsWith('/') && h !== '/') main.focus({ preventScroll: true }); // views may move focus on
    const m = /^\/media\/([A-Za-z0-9_-]{1,64})$/.exec(h);
    const live = /^\/live\/([A-Za-z0-9_-]{1,64})(?:\?(.*))?$/.exec(h);
    if (m) window.hlsgateMediaPage(m[1]);
    else if (live) window.hlsgateLivePage(live[1], live[2] || '');
    else if (h === '/admin') window.hlsgateAdminPage();
    else home();
  }
  document.querySelector('.skip').addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main').focus();
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('DOMContentLoaded', route);
  window.hlsgateApp.route = route;
})();
