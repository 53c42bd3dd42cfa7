#include "http/api_vod.hpp"

#include <filesystem>

#include "actors/service.hpp"
#include "auth/revocation.hpp"
#include "auth/signed_url.hpp"
#include "http/api_json.hpp"
#include "http/errors.hpp"
#include "http/playlist_cache.hpp"
#include "http/request_params.hpp"
#include "http/segment_route.hpp"
#include "media/names.hpp"

namespace fs = std::filesystem;

namespace hlsgate::http::vod_files {

namespace {

fs::path media_folder(actors::service& svc, const actors::playlist_snapshot& snap) {
  return fs::path{svc.settings().media_dir} / snap.storage_id;
}

/// poster.jpg and sprite.jpg are files; the storyboard is rewritten so the
/// sprite references carry the token (players resolve them without the
/// query of the .vtt URL).
response thumbnail(actors::service& svc, const actors::playlist_snapshot& snap,
                   const std::string& token, const std::string& name) {
  auto path = media_folder(svc, snap) / "thumbs" / name;
  response res;
  res.headers.emplace_back("Cache-Control", "private, max-age=3600");
  if (name != "storyboard.vtt") {
    res.content_type = "image/jpeg";
    res.file_path = path.string();
    return res;
  }
  std::string text;
  if (!read_small_file(path.string(), text, 4 << 20))
    return error_response(404, "Not found");
  res.content_type = "text/vtt; charset=utf-8";
  res.body = storyboard_with_token(text, token);
  return res;
}

} // namespace

response render(actors::service& svc, const actors::playlist_grant& g, const std::string& token,
                const std::string& rendition, const std::string& name, bool gzip) {
  const actors::playlist_snapshot& snap = *g.snapshot;
  if (rendition.empty() && name == "playlist.m3u8") {
    response res;
    res.content_type = "application/vnd.apple.mpegurl";
    res.headers.emplace_back("Cache-Control", "no-store");
    // Variant URIs are "<rendition>/playlist.m3u8"; the token rides along
    // so players that cannot send headers still authenticate.
    media::write_playlist(snap.master, "", "?token=" + token, res.body);
    return res;
  }
  // Which rendition: explicit, or the first one for PyHLS-style flat names.
  size_t idx = 0;
  if (!rendition.empty()) {
    idx = snap.rendition_names.size();
    for (size_t i = 0; i < snap.rendition_names.size(); ++i)
      if (snap.rendition_names[i] == rendition)
        idx = i;
  }
  if (rendition.empty() && snap.has_thumbnails &&
      (name == "poster.jpg" || name == "sprite.jpg" || name == "storyboard.vtt"))
    return thumbnail(svc, snap, token, name);
  if (idx >= snap.renditions.size())
    return error_response(404, "Not found");
  auto& pl = snap.renditions[idx];
  auto& rname = snap.rendition_names[idx];
  if (name == "playlist.m3u8" || (rendition.empty() && name == rname + ".m3u8")) {
    response res;
    res.content_type = "application/vnd.apple.mpegurl";
    res.headers.emplace_back("Cache-Control", "no-store");
    res.headers.emplace_back("Vary", "Accept-Encoding");
    // One signature per response, covering every file of this media and
    // this token's revocation handle; it expires with the token or the
    // media, rounded up to the signing bucket: the same URLs all bucket
    // long, so the rendering (and its gzip) is cached per thread.
    const std::string prefix = segment_prefix(snap.storage_id);
    const auto expires =
        auth::bucketed_expiry(g.token_exp, g.deadline, svc.settings().signing_bucket_seconds);
    std::string suffix = "?";
    svc.signer().append_query(prefix, expires, auth::revocation_handle(g.gen, g.jti), suffix);
    rendered_playlist body;
    try { // this runs in the media actor's context: a throw must not reach it
      body = cached_playlist(g.snapshot, idx, suffix, gzip, [&] {
        std::string out;
        out.reserve(128 + pl.segments.size() * (prefix.size() + rname.size() + 20 + suffix.size()));
        media::write_playlist(pl, prefix + rname + "/", suffix, out);
        return out;
      });
    } catch (const std::exception&) {
      return error_response(500, "Internal error");
    }
    if (gzip && body.gzip) {
      res.shared_body = body.gzip;
      res.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      res.shared_body = body.plain;
    }
    return res;
  }
  // PyHLS-compatible segment access with the token.
  for (auto& s : pl.segments) {
    if (s.uri == name) {
      response res;
      media::segment_kind kind = media::segment_kind::ts;
      media::parse_segment_file_name(name, kind);
      res.content_type = media::segment_content_type(kind);
      res.file_path = (media_folder(svc, snap) / rname / name).string();
      return res;
    }
  }
  return error_response(404, "Not found");
}

} // namespace hlsgate::http::vod_files
