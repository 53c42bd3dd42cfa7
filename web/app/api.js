// hlsgate's HTTP API as the web app and the embed page use it, and the
// browser-side library (the media this browser uploaded, with their keys).
// Everything here talks to the page's own origin only.
'use strict';

(function () {
  const ID = /^[A-Za-z0-9_-]{1,64}$/;
  const KEY = /^[A-Za-z0-9_-]{1,128}$/;
  const TOKEN = /^[A-Za-z0-9_.-]{1,4096}$/;
  const LIBRARY_KEY = 'hlsgate.library.v1';
  const API_TOKEN_KEY = 'hlsgate.apiToken';

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail || 'HTTP ' + status);
      this.status = status;
    }
  }

  function headersFor(cred) {
    const h = {};
    if (cred && cred.apiToken) h.Authorization = 'Bearer ' + cred.apiToken;
    if (cred && cred.adminKey) h['X-Admin-Key'] = cred.adminKey;
    return h;
  }

  async function parse(resp) {
    let data = null;
    const text = await resp.text();
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!resp.ok) throw new ApiError(resp.status, data && data.detail);
    return data;
  }

  /// One JSON request: resolves with the parsed answer, rejects with an
  /// ApiError carrying the server's `detail`.
  async function call(method, path, cred, body) {
    const init = { method, headers: headersFor(cred), cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'The server did not answer');
    }
    return parse(resp);
  }

  const enc = encodeURIComponent;
  const api = {
    ApiError,
    info: (id, cred) => call('GET', '/media/' + enc(id) + '/info', cred),
    streamInfo: (id, token) => call('GET', '/media/' + enc(id) + '/stream-info?token=' + enc(token)),
    extend: (id, cred, minutes) =>
      call('POST', '/media/' + enc(id) + '/extend-expiry?additional_minutes=' + enc(minutes), cred),
    refresh: (id, cred, minutes) =>
      call('POST', '/refresh-token/' + enc(id) + '?expiry_minutes=' + enc(minutes), cred),
    remove: (id, cred) => call('DELETE', '/media/' + enc(id), cred),
    mintToken: (id, cred, label, minutes) =>
      call('POST', '/media/' + enc(id) + '/tokens', cred, minutes ? { label, expires_in_minutes: minutes } : { label }),
    list: (cred, params) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
      return call('GET', '/media?' + q.toString(), cred);
    },
    removeMatching: (cred, params) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
      return call('DELETE', '/media?' + q.toString(), cred);
    },
    playlistPath: (id, token) => '/stream/' + enc(id) + '/playlist.m3u8?token=' + enc(token),
    // Live channels: management with the API token (cred.apiToken) or the
    // channel's admin key (cred.adminKey); viewers use the access token.
    live: {
      create: (cred, body) => call('POST', '/live', cred, body),
      list: (cred, limit) => call('GET', '/live?limit=' + enc(limit || 100), cred),
      info: (id, cred) => call('GET', '/live/' + enc(id), cred),
      stop: (id, cred) => call('POST', '/live/' + enc(id) + '/stop', cred),
      archive: (id, cred) => call('POST', '/live/' + enc(id) + '/archive', cred),
      refreshToken: (id, cred) => call('POST', '/live/' + enc(id) + '/refresh-token', cred),
      remove: (id, cred) => call('DELETE', '/live/' + enc(id), cred),
      markers: (id, token) => call('GET', '/live/' + enc(id) + '/markers?token=' + enc(token)),
      addMarker: (id, cred, body) => call('POST', '/live/' + enc(id) + '/markers', cred, body),
      removeMarker: (id, cred, mid) => call('DELETE', '/live/' + enc(id) + '/markers/' + enc(mid), cred),
      playlistPath: (id, token) => '/live/' + enc(id) + '/playlist.m3u8?token=' + enc(token),
      pagePath: (id, token) => '/#/live/' + enc(id) + '?token=' + enc(token),
    },
    embedPath: (id, token) => '/embed/' + enc(id) + '?token=' + enc(token),

    /// POST /upload?async=true with byte progress (XMLHttpRequest: fetch
    /// reports no upload progress). onProgress(sent, total).
    upload(file, opts) {
      return new Promise((resolve, reject) => {
        const q = new URLSearchParams({ async: 'true' });
        if (opts.expiryMinutes) q.set('expiry_minutes', String(opts.expiryMinutes));
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/upload?' + q.toString());
        if (opts.apiToken) xhr.setRequestHeader('Authorization', 'Bearer ' + opts.apiToken);
        xhr.responseType = 'text';
        xhr.upload.onprogress = (e) => opts.onProgress && opts.onProgress(e.loaded, e.total || file.size);
        xhr.onerror = () => reject(new ApiError(0, 'The upload was cut off'));
        xhr.onabort = () => reject(new ApiError(0, 'The upload was cancelled'));
        xhr.onload = () => {
          let data = null;
          try { data = JSON.parse(xhr.responseText); } catch (_) { data = null; }
          if (xhr.status >= 200 && xhr.status < 300 && data) resolve(data);
          else reject(new ApiError(xhr.status, data && data.detail));
        };
        const form = new FormData();
        form.append('media', file, file.name);
        xhr.send(form);
        if (opts.signal) opts.signal.addEventListener('abort', () => xhr.abort());
      });
    },
  };

  // -- this browser's library ------------------------------------------------------

  function clean(e) {
    if (!e || typeof e !== 'object' || !ID.test(e.media_id)) return null;
    const out = { media_id: e.media_id };
    if (typeof e.admin_key === 'string' && KEY.test(e.admin_key)) out.admin_key = e.admin_key;
    if (typeof e.access_token === 'string' && TOKEN.test(e.access_token)) out.access_token = e.access_token;
    if (!out.admin_key && !out.access_token) return null;
    out.name = typeof e.name === 'string' ? e.name.slice(0, 256) : '';
    out.added_at = typeof e.added_at === 'string' ? e.added_at.slice(0, 40) : '';
    out.expires_at = typeof e.expires_at === 'string' ? e.expires_at.slice(0, 40) : '';
    return out;
  }

  function load() {
    try {
      const raw = JSON.parse(localStorage.getItem(LIBRARY_KEY) || '[]');
      return Array.isArray(raw) ? raw.map(clean).filter(Boolean) : [];
    } catch (_) {
      return [];
    }
  }

  function save(items) {
    localStorage.setItem(LIBRARY_KEY, JSON.stringify(items));
  }

  const library = {
    all: load,
    get: (id) => load().find((e) => e.media_id === id) || null,
    /// Adds or updates an entry (fields given replace the stored ones).
    put(entry) {
      const items = load();
      const i = items.findIndex((e) => e.media_id === entry.media_id);
      const merged = clean(Object.assign({}, i >= 0 ? items[i] : {}, entry));
      if (!merged) return;
      if (i >= 0) items[i] = merged;
      else items.unshift(merged);
      save(items);
    },
    remove(id) {
      save(load().filter((e) => e.media_id !== id));
    },
    /// Sets one field of several entries in one write: values is {media_id: value}.
    update(values, field) {
      const items = load();
      for (const e of items) if (Object.prototype.hasOwnProperty.call(values, e.media_id)) e[field] = values[e.media_id];
      save(items.map(clean).filter(Boolean));
    },
    exportJson() {
      return JSON.stringify({ format: 'hlsgate-library', version: 1, items: load() }, null, 2);
    },
    /// Merges an exported list; returns how many entries it held. Throws on
    /// a file that is not one.
    importJson(text) {
      const doc = JSON.parse(text);
      const list = Array.isArray(doc) ? doc : doc && doc.format === 'hlsgate-library' ? doc.items : null;
      if (!Array.isArray(list)) throw new Error('This is not an hlsgate library export');
      const got = list.slice(0, 10000).map(clean).filter(Boolean);
      const items = load();
      for (const e of got) {
        const i = items.findIndex((x) => x.media_id === e.media_id);
        if (i >= 0) items[i] = Object.assign(items[i], e);
        else items.push(e);
      }
      save(items);
      return got.length;
    },
  };

  // -- this browser's live channels ------------------------------------------------

  const LIVE_KEY = 'hlsgate.live.v1';

  function cleanChannel(e) {
    if (!e || typeof e !== 'object' || !ID.test(e.channel_id)) return null;
    const out = { channel_id: e.channel_id };
    if (typeof e.admin_key === 'string' && KEY.test(e.admin_key)) out.admin_key = e.admin_key;
    if (typeof e.access_token === 'string' && TOKEN.test(e.access_token)) out.access_token = e.access_token;
    if (!out.admin_key && !out.access_token) return null;
    out.name = typeof e.name === 'string' ? e.name.slice(0, 256) : '';
    return out;
  }

  function loadChannels() {
    try {
      const raw = JSON.parse(localStorage.getItem(LIVE_KEY) || '[]');
      return Array.isArray(raw) ? raw.map(cleanChannel).filter(Boolean) : [];
    } catch (_) {
      return [];
    }
  }

  /// The keys of the live channels this browser created or was given
  /// (localStorage, like the media library): {channel_id, name, access_token, admin_key}.
  const channels = {
    all: loadChannels,
    get: (id) => loadChannels().find((e) => e.channel_id === id) || null,
    put(entry) {
      const items = loadChannels();
      const i = items.findIndex((e) => e.channel_id === entry.channel_id);
      const fields = {};
      for (const [k, v] of Object.entries(entry)) if (v) fields[k] = v; // never drop a kept key
      const merged = cleanChannel(Object.assign({}, i >= 0 ? items[i] : {}, fields));
      if (!merged) return;
      if (i >= 0) items[i] = merged;
      else items.unshift(merged);
      localStorage.setItem(LIVE_KEY, JSON.stringify(items.slice(0, 1000)));
    },
    remove(id) {
      localStorage.setItem(LIVE_KEY, JSON.stringify(loadChannels().filter((e) => e.channel_id !== id)));
    },
  };

  // This tab only: the admin's API token, and the viewer tokens minted for
  // items this browser holds no token of (one per item, reused).
  const session = {
    apiToken: () => sessionStorage.getItem(API_TOKEN_KEY) || '',
    setApiToken: (t) => (t ? sessionStorage.setItem(API_TOKEN_KEY, t) : sessionStorage.removeItem(API_TOKEN_KEY)),
    viewerToken: (id) => sessionStorage.getItem('hlsgate.viewer.' + id) || '',
    setViewerToken: (id, t) => sessionStorage.setItem('hlsgate.viewer.' + id, t),
  };

  window.hlsgate = { api, library, channels, session, validId: (s) => ID.test(s),
    validKey: (s) => KEY.test(s), validToken: (s) => TOKEN.test(s) };
})();
