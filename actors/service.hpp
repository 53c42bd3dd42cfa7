// The actors' front door for the HTTP layer: plain C++ with callbacks, no CAF
// in sight. Every call returns at once; the callback runs later on an actor
// thread (the caller hops back to its own executor).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "actors/completion.hpp"
#include "actors/live_types.hpp"
#include "actors/media_index.hpp"
#include "actors/proxy_model.hpp"
#include "actors/types.hpp"
#include "actors/webhook_model.hpp"
#include "auth/jwt.hpp"
#include "auth/keys.hpp"
#include "auth/revocation.hpp"
#include "auth/signed_url.hpp"
#include "config/config.hpp"
#include "media/result.hpp"
#include "metrics/metrics.hpp"

namespace hlsgate::actors {

/// The master secret (SECRET_KEY, or DATA_DIR/secret.key created on first
/// use) and the two keys derived from it.
media::result<auth::signing_keys> load_signing_keys(const config::settings& cfg);

/// The API token of the admin surface: HLSGATE_API_TOKEN, else the one kept
/// in DATA_DIR/api_token, generated (and logged once) at first start.
media::result<std::string> load_api_token(const config::settings& cfg);

class service {
public:
  /// Builds the actor system; nothing runs until start().
  service(const config::settings& cfg, metrics::registry& metrics);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Takes the data directory's lock (one process per data directory),
  /// creates the data folders, loads or creates the secret, checks the
  /// transcoder settings, opens the store, sweeps what no record owns,
  /// removes what expired while we were down, restores every live item and
  /// resumes unfinished jobs. Fails with a short message.
  media::status start();

  /// First step of a graceful shutdown: new uploads are refused (503) and
  /// every synchronous upload still waiting for its media is answered now,
  /// with its keys (the item stays and its job resumes after a restart).
  void begin_drain();

  /// Last step: waits (bounded) for pending abandon() clean-ups, stops
  /// accepting work, cancels running jobs and stops every actor.
  void shutdown();

  /// True once start() succeeded and until begin_drain()/shutdown().
  bool ready() const noexcept;

  /// Why the server should not get traffic now ("" when it may): shutting
  /// down, the store, transcoder pool or media registry actor gone, the
  /// data volume mounted read-only, or less free space on it than
  /// HLSGATE_MIN_FREE_BYTES (uploads would be refused with 507). One
  /// statvfs, no lock, no actor: GET /ready answers with it.
  std::string not_ready_reason() const;

  /// Why an upload of `declared_bytes` (0 = not declared) would be refused
  /// right now: shutting down, an essential actor gone, queue full, or too
  /// little free space on the
  /// data volume (HLSGATE_MIN_FREE_BYTES); so the HTTP layer can answer
  /// before reading the body. One statvfs, no lock.
  std::optional<api_error> upload_refusal(uint64_t declared_bytes = 0) const noexcept;

  /// Constant-time check of the API token (HLSGATE_API_TOKEN, or the one
  /// generated at first start: see load_api_token).
  bool is_api_token(std::string_view token) const noexcept;

  void upload(upload_params p, completion<upload_result> done);
  /// The reply carrying a new item's keys never reached its uploader (the
  /// connection went away, the write failed): nobody else knows the keys,
  /// so the item is removed whole (job cancelled, files and record gone).
  void abandon(std::string media_id);
  /// `token` is the raw JWT; it is verified here (signature, alg, expiry)
  /// before the media actor checks its generation.
  void playlist(std::string media_id, std::string token, completion<playlist_grant> done);
  void refresh_token(std::string media_id, admin_credential who, unsigned minutes,
                     completion<token_result> done);
  void info(std::string media_id, admin_credential who, completion<info_result> done);
  void extend(std::string media_id, admin_credential who, unsigned additional_minutes,
              completion<extend_result> done);
  void remove(std::string media_id, admin_credential who, completion<actors::done> done);
  /// Admin: mints a token (own lifetime optional), lists them, revokes one.
  void create_token(std::string media_id, admin_credential who, token_request req,
                    completion<token_result> done);
  void list_tokens(std::string media_id, admin_credential who, completion<token_list> done);
  void revoke_token(std::string media_id, admin_credential who, std::string jti,
                    completion<actors::done> done);
  /// Admin: adds a subtitle track (cues already parsed) to a ready item as
  /// a segmented WebVTT rendition; durable before the reply.
  void add_subtitles(std::string media_id, admin_credential who, subtitle_request req,
                     completion<subtitle_result> done);
  /// Token holders: format, readiness, duration, renditions (Clipset's
  /// stream-info endpoint, plus more).
  void stream_info(std::string media_id, std::string token, completion<stream_info_result> done);
  /// Registers existing files (folders are expanded recursively) as
  /// on-demand items without copying them. Paths must be absolute and lie
  /// under HLSGATE_IMPORT_ROOT when one is set (checked again when each file
  /// is opened).
  void import(import_params p, completion<import_result> done);
  /// Admin (the caller checked the API token): one page of every item,
  /// newest first.
  void list_media(media_query q, completion<media_page> done);
  /// Admin: deletes every item matching a non-empty filter.
  void delete_matching(media_filter f, completion<bulk_delete_result> done);

  // -- webhooks (admin: the caller checked the API token) ---------------------
  /// Registers `w` (url, events, headers, timeout, retry_attempts checked by
  /// the caller); the answer carries its id and secret.
  void create_webhook(webhook w, completion<webhook> done);
  /// Every endpoint, secrets left out.
  void list_webhooks(completion<std::vector<webhook>> done);
  /// Deletes the endpoints `s` names; answers how many (404 when none).
  void delete_webhooks(webhook_selector s, completion<size_t> done);
  /// Sends a "webhook.test" event to the endpoints `s` names; answers its event id.
  void test_webhooks(webhook_selector s, completion<std::string> done);
  /// The endpoint's last deliveries, newest first.
  void webhook_deliveries(std::string id, completion<std::vector<webhook_delivery>> done);

  // -- live channels (service_live.cpp) ---------------------------------------
  /// Admin (the caller checked the API token): creates a channel and starts
  /// its ingest; the answer carries its keys once its record is durable.
  void create_channel(live::channel_config cfg, completion<channel_created> done);
  /// Admin: every channel of this process.
  std::vector<channel_info> list_channels() const;
  void channel_info_of(std::string id, admin_credential who, completion<channel_info> done);
  /// Ends the event: ingest stops, playlists get EXT-X-ENDLIST.
  void stop_channel(std::string id, admin_credential who, completion<channel_info> done);
  void delete_channel(std::string id, admin_credential who, completion<actors::done> done);
  /// A new viewer token; every older token of the channel and its links stop.
  void refresh_channel_token(std::string id, admin_credential who,
                             completion<channel_created> done);
  /// A new stream key for a pushed channel (its old one stops working).
  void rotate_stream_key(std::string id, admin_credential who, completion<channel_created> done);
  /// `token` is the raw JWT (verified here); `media_request`: a rendition's
  /// playlist (counted for the viewer estimate).
  void live_playlist(std::string id, std::string token, bool media_request,
                     completion<live_grant> done);
  /// nginx-rtmp's on_publish: the stream name the publisher must be renamed
  /// to (auth::rtmp_stream_name; the channel starts reading it), or none
  /// when `stream_key` is no channel's key.
  std::optional<std::string> rtmp_publish(std::string_view stream_key);
  void add_marker(std::string id, admin_credential who, live::marker m,
                  completion<live::marker> done);
  /// Makes the channel's DVR window a VOD item (live_archive.cpp): its top
  /// rendition joined into one file and uploaded as if posted, transcoded
  /// to the channel's ladder; answers as an asynchronous upload does.
  void archive_channel(std::string id, admin_credential who, unsigned expiry_minutes,
                       std::string request_id, completion<upload_result> done);
  void list_markers(std::string id, std::string token, int64_t since_ms,
                    completion<std::vector<live::marker>> done);
  void delete_marker(std::string id, admin_credential who, std::string marker_id,
                     completion<actors::done> done);

  // -- stream proxy (service_proxy.cpp; admin calls: the caller checked the API token) --
  /// Registers `c` (parsed by parse_stream_request), or finds the stream
  /// registered with the same URL and metadata; durable before the answer.
  void create_stream(proxy_config c, completion<proxy_created> done);
  /// Every stream as of its last snapshot (at most a tick old).
  std::vector<proxy_stream_info> list_streams() const;
  void stream_state(std::string id, completion<proxy_stream_info> done);
  void delete_stream(std::string id, completion<actors::done> done);
  /// Deletes every stream whose metadata `field` is `value`, except those
  /// whose metadata "id" is `exclude_id`; answers the ids deleted.
  void delete_streams_where(std::string field, std::string value, std::string exclude_id,
                            completion<std::vector<std::string>> done);
  void failover_stream(std::string id, completion<proxy_stream_info> done);
  /// A new viewer token for a stream that is not public; every earlier one
  /// is refused from then on (a new token generation, stored first).
  void rotate_stream_token(std::string id, completion<proxy_created> done);
  void disconnect_client(std::string id, std::string client_id, completion<actors::done> done);
  /// Viewers. `ref` is "" for the stream's own playlist, else a variant
  /// playlist's sealed reference; the main playlist and the continuous
  /// stream need the viewer token unless the stream is public.
  void proxy_playlist(std::string id, proxy_viewer v, std::string ref, completion<proxy_body> done);
  void proxy_segment(std::string id, proxy_viewer v, std::string ref, completion<proxy_body> done);
  void proxy_direct(std::string id, proxy_viewer v, completion<proxy_body> done);

  /// Per-item token state for the segment path: read from any thread,
  /// without locks (see revocation.hpp).
  const auth::revocation_table& revocations() const;
  const auth::url_signer& signer() const;
  const auth::jwt_codec& tokens() const;
  const config::settings& settings() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::actors
