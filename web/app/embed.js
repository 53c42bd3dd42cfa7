// /embed/{id}?token=T: the player alone, to be framed by any site. The id
// comes from the page's path, the viewer token from its query string.
'use strict';

(function () {
  const host = document.getElementById('player');
  const id = decodeURIComponent(location.pathname.split('/').pop() || '');
  const token = new URLSearchParams(location.search).get('token') || '';
  const fail = (text) => {
    const p = document.createElement('p');
    p.className = 'player-msg';
    p.setAttribute('role', 'alert');
    p.textContent = text;
    host.replaceChildren(p);
  };
  if (!window.hlsgate.validId(id) || !token) {
    fail('This embed link is incomplete: it needs a media id and ?token=.');
    return;
  }
  window.hlsgate.api.streamInfo(id, token).then((info) => {
    // An imported item becomes playable when its playlist is first asked for.
    if (!info.playable && info.status !== 'imported') {
      fail(info.status === 'failed' ? 'This media could not be transcoded.' : 'This media is still being prepared.');
      return;
    }
    const rel = (u) => (u ? new URL(u, location.href).pathname + new URL(u, location.href).search : '');
    window.hlsgateEmbed = window.hlsgatePlayer.createPlayer(host, {
      src: window.hlsgate.api.playlistPath(id, token),
      poster: rel(info.poster_url),
      storyboardUrl: rel(info.storyboard_url),
      title: 'Media ' + id,
    });
  }, (e) => {
    fail(e.status === 403 || e.status === 410 || e.status === 404
      ? 'This link no longer works: the token was refreshed or revoked, or the media expired.'
      : 'The media could not be loaded (' + e.message + ').');
  });
})();
