// The web app's upload card: drop or choose files, at most two uploads on the
// wire at once (the rest wait their turn, so status polls and playback keep a
// connection), byte progress, then the transcode status of each item until it
// is ready or failed. The card is built once and kept across views, so an
// upload goes on, and stays in view, while the user looks at other pages.
'use strict';

(function () {
  const { api, library, session } = window.hlsgate;
  const app = window.hlsgateApp;
  const { el } = app;
  const MAX_AT_ONCE = 2;
  const queue = [];
  let running = 0;
  let card = null;
  let list, expiry, tokenInput, tokenRow;

  function bytes(n) {
    const u = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
  }

  function build() {
    const file = el('input', { type: 'file', id: 'file', multiple: '', class: 'visually-hidden', accept: 'audio/*,video/*' });
    const drop = el('div', { class: 'drop', id: 'drop' }, [
      el('p', { text: 'Drag and drop audio or video files here, or' }), file,
      el('label', { for: 'file', class: 'button', text: 'Choose files' })]);
    expiry = el('input', { id: 'expiry', type: 'number', min: '1', max: '10080', inputmode: 'numeric',
      placeholder: 'server default', 'aria-describedby': 'expiry-hint' });
    tokenInput = el('input', { id: 'upload-token', type: 'password', autocomplete: 'off' });
    tokenInput.value = session.apiToken();
    tokenRow = el('div', { class: 'field', id: 'token-row', hidden: !tokenInput.value }, [
      el('label', { for: 'upload-token', text: 'API token (this server needs it for uploads)' }), tokenInput]);
    list = el('ul', { class: 'uploads', id: 'uploads', 'aria-label': 'Uploads' });
    const start = (files) => { for (const f of files) enqueue(f); };
    file.addEventListener('change', () => { start(Array.from(file.files)); file.value = ''; });
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      start(Array.from(e.dataTransfer.files));
    });
    card = el('section', { class: 'card', 'aria-labelledby': 'upload-h' }, [
      el('h1', { id: 'upload-h', text: 'Upload' }), drop,
      el('div', { class: 'field' }, [el('label', { for: 'expiry', text: 'Keep for (minutes)' }), expiry,
        el('span', { id: 'expiry-hint', class: 'hint', text: '1 to 10080 (7 days); empty: the server\'s default' })]),
      tokenRow, list]);
  }

  function enqueue(file) {
    const bar = el('progress', { max: '100', value: '0', 'aria-label': 'Progress of ' + file.name });
    const text = el('span', { class: 'upload-status', role: 'status', text: 'Waiting…' });
    const cancel = el('button', { type: 'button', class: 'secondary small', text: 'Cancel', 'aria-label': 'Cancel ' + file.name });
    const item = el('li', { class: 'upload' }, [el('strong', { text: file.name }), bar, text, cancel]);
    list.prepend(item);
    const job = { file, item, bar, text, cancel, aborter: new AbortController() };
    cancel.addEventListener('click', () => {
      const i = queue.indexOf(job);
      if (i >= 0) queue.splice(i, 1);
      job.aborter.abort();
      text.textContent = 'Cancelled';
      item.classList.add('failed');
      cancel.remove();
    });
    queue.push(job);
    pump();
  }

  function pump() {
    while (running < MAX_AT_ONCE && queue.length) {
      const job = queue.shift();
      running++;
      send(job).finally(() => { running--; pump(); });
    }
  }

  async function send(job) {
    const { file, item, bar, text, cancel } = job;
    text.textContent = 'Starting…';
    let reply;
    try {
      reply = await api.upload(file, {
        expiryMinutes: expiry.value,
        apiToken: tokenInput.value.trim(),
        signal: job.aborter.signal,
        onProgress: (sent, total) => {
          bar.value = total ? (100 * sent) / total : 0;
          text.textContent = 'Uploading ' + bytes(sent) + ' of ' + bytes(total);
        },
      });
    } catch (e) {
      if (job.aborter.signal.aborted) return;
      if (e.status === 401 || e.status === 403) {
        tokenRow.hidden = false;
        tokenInput.focus();
      }
      item.classList.add('failed');
      text.textContent = 'Upload refused: ' + e.message;
      const retry = el('button', { type: 'button', class: 'secondary small', text: 'Retry', 'aria-label': 'Retry ' + file.name });
      retry.addEventListener('click', () => { item.remove(); enqueue(file); });
      cancel.replaceWith(retry);
      return;
    }
    cancel.remove();
    if (tokenInput.value.trim()) session.setApiToken(tokenInput.value.trim());
    library.put({ media_id: reply.media_id, admin_key: reply.admin_key, access_token: reply.access_token,
      name: file.name, added_at: new Date().toISOString(), expires_at: reply.expires_at });
    item.dataset.mediaId = reply.media_id;
    app.refreshLibrary();
    item.append(el('a', { href: '#/media/' + reply.media_id, text: 'Open', 'aria-label': 'Open ' + file.name }));
    follow(job, reply.media_id, { adminKey: reply.admin_key });
  }

  /// Polls the item's status every second until it is ready or failed (not
  /// tied to the view: the card outlives navigation).
  function follow(job, id, cred) {
    const { item, bar, text } = job;
    const once = async () => {
      let info;
      try { info = await api.info(id, cred); } catch (e) { text.textContent = e.message; return true; }
      bar.value = info.status === 'ready' ? 100 : info.progress || 0;
      text.textContent = app.statusText(info);
      item.dataset.status = info.status;
      if (info.status === 'failed') item.classList.add('failed');
      return info.status === 'ready' || info.status === 'failed';
    };
    let busy = true; // one request at a time
    let timer = 0;
    const run = async () => {
      const done = await once();
      busy = false;
      if (done) { clearInterval(timer); app.refreshLibrary(); }
    };
    timer = setInterval(() => { if (!busy) { busy = true; run(); } }, 1000);
    run();
  }

  window.hlsgateUpload = {
    /// The upload card (the same element every time).
    card() {
      if (!card) build();
      return card;
    },
  };
})();
