// Plain data shared by the actors, the store and the HTTP layer. No CAF here:
// this header is included by http/ and must stay cheap to compile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "media/playlist.hpp"
#include "media/subtitles.hpp"

namespace hlsgate::actors {

enum class media_status : uint8_t { queued, processing, ready, failed };
const char* to_string(media_status s) noexcept;
bool from_string(const std::string& s, media_status& out) noexcept;

/// What a rendition is in the master playlist: a variant (EXT-X-STREAM-INF),
/// or an EXT-X-MEDIA alternate audio or subtitle track.
enum class rendition_kind : uint8_t { variant, audio, subtitles };

/// One rendition as recorded after a successful job (or a subtitle upload).
struct rendition_record {
  std::string name; ///< directory under the media folder (media/names.hpp), e.g. "v0", "s0"
  rendition_kind kind = rendition_kind::variant;
  std::string language; ///< audio/subtitles: RFC 5646 tag ("" when unknown)
  std::string label;    ///< audio/subtitles: NAME shown by players
  bool is_default = false;
  bool forced = false; ///< subtitles only
  bool has_video = false;
  bool has_audio = false;
  int width = 0, height = 0;
  double frame_rate = 0;
  int channels = 0; ///< audio renditions: encoded channels (0: recorded before it was kept)
  std::string codecs;
  uint64_t peak_bandwidth = 0;
  uint64_t average_bandwidth = 0;
  std::vector<media::segment_entry> segments;
};

/// An access token minted for an item (the token itself is not kept, only
/// what identifies and describes it).
struct token_record {
  std::string jti;        ///< the token's id (its `jti` claim)
  std::string label;      ///< given by the admin who minted it ("" for the upload's token)
  int64_t created_at = 0; ///< unix seconds
  int64_t expires_at = 0; ///< the token's own `exp`; 0 = lives as long as the media
  uint64_t gen = 0;       ///< the item's token generation when it was minted
  bool revoked = false;   ///< revoked one by one (DELETE .../tokens/{jti})
};

/// Everything the store keeps about one media item. Times are unix seconds.
struct media_record {
  std::string media_id;       ///< public id (URL-safe, 128 random bits)
  std::string storage_id;     ///< folder name under data/media (independent of media_id)
  std::string admin_key_hash; ///< hex SHA-256 of the admin key
  media_status status = media_status::queued;
  std::string error;         ///< short reason when failed
  std::string error_detail;  ///< operators only: failing stage and libav's error text
  std::string warning;       ///< e.g. the source ended before its declared duration
  std::string original_name; ///< client's file name, for info only
  std::string source_path;   ///< the uploaded original while it is still needed
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t upload_time = 0;
  int64_t expires_at = 0;
  int64_t last_token_refresh = 0;
  uint64_t token_gen = 1;           ///< refresh bumps it: every older token stops working
  std::vector<token_record> tokens; ///< minted tokens, newest last (bounded, see media actor)
  double duration = 0;
  std::vector<rendition_record> renditions;
  bool source_owned = true;    ///< false for imported library files: never deleted
  bool on_demand = false;      ///< imported: transcode on the first playlist request
  bool has_thumbnails = false; ///< poster, sprite and storyboard exist under thumbs/
  std::string ladder;          ///< per-item ladder spec ("" = server default)

  /// Minutes from upload to the current deadline (PyHLS's `expiry_minutes`).
  int64_t expiry_minutes() const { return (expires_at - upload_time + 59) / 60; }
};

/// The status shown to people and metrics: "imported" for a library file
/// never played yet (queued, waiting for its first playlist request),
/// else to_string(status).
const char* reported_status(const media_record& r) noexcept;

// -- what the HTTP layer gets back ---------------------------------------------

/// Errors of the service API; http/ maps them to status codes in one place.
enum class api_errc : uint8_t {
  unauthorized,         ///< 401 no credential
  forbidden,            ///< 403 bad credential
  not_found,            ///< 404 unknown media (or its files are gone)
  not_ready,            ///< 409 still transcoding
  expired,              ///< 410 expired media
  too_large,            ///< 413
  insufficient_storage, ///< 507: the data volume is (nearly) full
  unsupported_media,    ///< 415 not an audio/video file
  bad_parameter,        ///< 422
  limit_exceeded,       ///< 422: the source exceeds a configured limit (duration, pixel rate)
  queue_full,           ///< 429 too many jobs queued
  try_later,            ///< 503 with Retry-After: not available yet (on-demand job starting)
  shutting_down,        ///< 503
  unavailable,          ///< 503: the request could not be completed (its actor went away, timeout)
  failed,               ///< 422-ish: the media failed to transcode (reason in detail)
  internal,             ///< 500
  bad_gateway,          ///< 502: an upstream (proxied stream) failed or sent what is refused
};

struct api_error {
  api_errc code = api_errc::internal;
  std::string detail; ///< short, user-safe
};

template <class T> using reply = std::variant<T, api_error>;

/// Who asks for an item's admin action (info, refresh, extend, delete).
struct admin_credential {
  std::string admin_key; ///< the item's own admin key (X-Admin-Key or ?admin_key=)
  /// The caller presented the API token (checked by the caller): any item
  /// is allowed, and operator-only fields (why a job failed) are shown.
  bool is_operator = false;
};

struct upload_params {
  std::string file_path; ///< temporary file holding the upload (ownership passes)
  std::string original_name;
  uint64_t bytes = 0;
  unsigned expiry_minutes = 60;
  bool wait_ready = true; ///< reply once playable (PyHLS) or at once (async)
  std::string ladder;     ///< validated ladder spec for this item ("" = server default)
  std::string request_id; ///< X-Request-Id of the upload, for the job's log lines
};

struct upload_result {
  std::string media_id;
  std::string access_token;
  std::string admin_key; ///< shown once
  int64_t expires_at = 0;
  unsigned expiry_minutes = 0;
  media_status status = media_status::queued;
  double progress = 0;
  std::string error;
};

struct token_result {
  std::string media_id;
  std::string access_token;
  std::string jti;
  std::string label;
  int64_t expires_at = 0; ///< the token's own expiry; 0 = as long as the media
  int64_t media_expires_at = 0;
  unsigned expires_in_minutes = 0; ///< until the token (or its media) expires
};

/// POST /media/{id}/tokens: a new token, optionally with its own lifetime.
struct token_request {
  unsigned expires_in_minutes = 0; ///< 0 = as long as the media
  std::string label;
};

/// POST /media/{id}/subtitles: a parsed subtitle file and how to list it.
struct subtitle_request {
  std::string language; ///< RFC 5646 tag, checked by the caller ("" = none)
  std::string label;    ///< NAME; checked by the caller ("" = the language or the folder)
  bool is_default = false;
  bool forced = false;
  std::vector<media::subtitle_cue> cues; ///< sorted, non-empty
};

struct subtitle_result {
  std::string media_id;
  std::string rendition; ///< its folder, e.g. "s0"
  size_t cues = 0;
  size_t segments = 0;
};

/// One token as GET /media/{id}/tokens lists it.
struct token_info {
  std::string jti;
  std::string label;
  int64_t created_at = 0;
  int64_t expires_at = 0; ///< 0 = as long as the media
  bool revoked = false;   ///< revoked one by one or by a refresh
};
using token_list = std::vector<token_info>;

struct info_result {
  media_record record;     ///< minus secrets: admin_key_hash is cleared
  double progress = 0;     ///< percent
  double eta_seconds = -1; ///< estimated time to ready; -1 = unknown
};

/// GET /media/{id}/stream-info (Clipset's endpoint, plus more).
struct stream_info_result {
  media_record record; ///< minus secrets
  double progress = 0;
  bool playable = false; ///< a playlist can be served now (EVENT or VOD)
};

struct import_params {
  std::vector<std::string> paths; ///< absolute paths of existing media files
  unsigned expiry_minutes = 10080;
};

/// One imported file: ids and keys, or why it was refused.
struct import_item {
  std::string path;
  std::string media_id;
  std::string access_token;
  std::string admin_key;
  int64_t expires_at = 0;
  std::string error; ///< empty on success
};

struct import_result {
  std::vector<import_item> items;
};

struct extend_result {
  std::string media_id;
  int64_t previous_expiry_minutes = 0;
  int64_t new_expiry_minutes = 0;
  int64_t extended_by_minutes = 0;
  int64_t expires_at = 0;
};

/// An immutable view of a ready media's playlists, shared with HTTP threads
/// which render it per request with a fresh signature (no actor work).
struct playlist_snapshot {
  std::string media_id;
  std::string storage_id;
  media::master_playlist master; ///< variant URIs are "<rendition>/playlist.m3u8"
  std::vector<std::string> rendition_names;
  std::vector<media::media_playlist> renditions; ///< same order as rendition_names
  bool has_thumbnails = false;                   ///< thumbs/poster.jpg, sprite.jpg, storyboard.vtt
};
using playlist_ptr = std::shared_ptr<const playlist_snapshot>;

/// A playlist request's answer: the item's playlists, and what the token
/// that asked is good for (so segment URLs carry the right expiry and
/// revocation handle).
struct playlist_grant {
  playlist_ptr snapshot;
  uint64_t gen = 0;      ///< the token's (the item's current) generation
  std::string jti;       ///< the token's id ("" for tokens minted before jti)
  int64_t token_exp = 0; ///< the token's own expiry; 0 = as long as the media
  int64_t deadline = 0;  ///< the media's expiry
};

struct done {};

} // namespace hlsgate::actors
