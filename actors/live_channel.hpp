// One actor per live channel: it owns the channel's record, its DVR windows
// (one per rendition), its markers, its expiry and its ingest. The ingest is
// a detached actor running libav on its own thread (the same transcode as
// VOD, reading a live source without end); it reports every completed
// segment, and the channel lists it, persists the windows and deletes what
// left them after the RFC 8216 §6.2.2 grace. When the ingest stops the
// channel restarts it with backoff ("reconnecting"), marking a discontinuity.
//
//   live_service ──► channel_actor ──run──► ingest_actor (own thread, libav)
//        ▲                │  ▲ segment / ended                 │
//        │ directory      │  └─────────────────────────────────┘
//        └── summaries ◄──┘ live_store (durable before reply)
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/interfaces.hpp"
#include "actors/live_store.hpp"
#include "actors/live_types.hpp"
#include "media/open_policy.hpp"

namespace hlsgate::actors {

/// The channels of this process: id -> actor and its latest status. Written
/// by the live service (spawn) and the channel actors (status, exit); read
/// by the service for routing and listing. Entries are small; the lock is
/// held only to copy one.
class channel_directory;

/// What every channel shares.
struct live_env {
  config::settings cfg;
  std::string rtmp_name_key; ///< auth::signing_keys::rtmp
  std::shared_ptr<live_store> store;
  std::shared_ptr<const auth::jwt_codec> jwt;
  std::shared_ptr<auth::revocation_table> revocations;
  metrics::registry* metrics = nullptr;
  std::shared_ptr<channel_directory> directory;
  std::function<int64_t()> now_ms; ///< unix milliseconds
};
using live_env_ptr = std::shared_ptr<const live_env>;

using channel_actor = caf::typed_actor<
    // callers (through live_service)
    caf::reacts_to<playlist_atom, auth::token_claims, bool, completion<live_grant>>,
    caf::reacts_to<info_atom, admin_credential, completion<channel_info>>,
    caf::reacts_to<stop_atom, admin_credential, completion<channel_info>>,
    caf::reacts_to<delete_atom, admin_credential, completion<done>>,
    /// a new viewer token; every older one and its links stop working
    caf::reacts_to<refresh_atom, admin_credential, completion<channel_created>>,
    /// a new stream key (and SRT passphrase) for a pushed channel: the old
    /// one is refused from now on and its publisher's session ends
    caf::reacts_to<rekey_atom, admin_credential, completion<channel_created>>,
    caf::reacts_to<marker_add_atom, admin_credential, live::marker, completion<live::marker>>,
    caf::reacts_to<marker_list_atom, auth::token_claims, int64_t,
                   completion<std::vector<live::marker>>>,
    caf::reacts_to<marker_del_atom, admin_credential, std::string, completion<done>>,
    /// the segments an archive of the channel is made from
    caf::reacts_to<archive_atom, admin_credential, completion<archive_plan>>,
    caf::reacts_to<drain_atom>, ///< shutting down: stop the ingest, keep everything
    caf::reacts_to<run_atom>,   ///< a publisher arrived (RTMP): start the ingest now
    /// an SRT publisher connected: its ingest reads this connection
    caf::reacts_to<run_atom, std::shared_ptr<media::stream_reader>>,
    // its ingest
    caf::reacts_to<segment_atom, uint64_t, media::segment_event>,
    caf::reacts_to<job_failed_atom, uint64_t, std::string>,
    // its own timers
    caf::reacts_to<tick_atom>, caf::reacts_to<restart_atom, uint64_t>>;

struct channel_entry {
  channel_actor actor;
  channel_info info;           ///< as of its last change
  std::string storage_id;      ///< its folder (RTMP: in the name its publisher is renamed to)
  std::string stream_key_hash; ///< RTMP and SRT channels: SHA-256 of the stream key
  std::string srt_passphrase;  ///< encrypted SRT channels: what libsrt checks the caller's against
};

class channel_directory {
public:
  void put(const std::string& id, channel_entry e);
  void update(const std::string& id, const channel_info& info);
  /// A channel's new stream key (its hash) and SRT passphrase.
  void set_stream_key(const std::string& id, const std::string& hash,
                      const std::string& passphrase);
  void erase(const std::string& id);
  /// The actor of channel `id`, or null.
  channel_actor find(const std::string& id) const;
  std::vector<channel_info> list() const;
  std::vector<channel_actor> actors() const;
  /// The channel with source `type` whose stream key is `key` (compared as
  /// a SHA-256 hash in constant time) and whose event has not ended, or
  /// null; `storage_id` gets its folder name and `passphrase` (if given)
  /// its SRT passphrase ("" when it has none).
  channel_actor find_by_stream_key(std::string_view key, live::source_type type,
                                   std::string& storage_id,
                                   std::string* passphrase = nullptr) const;
  /// Holds a place for a channel being created: false when `limit`
  /// channels exist or are being created. put() or release() ends it.
  bool try_reserve(size_t limit);
  void release();

private:
  mutable std::mutex mu_;
  std::map<std::string, channel_entry> entries_;
  size_t reserved_ = 0;
};

struct channel_params {
  live_env_ptr env;
  live::channel_record record;
  std::vector<live::marker> markers;
  /// A new channel: the actor writes its record first and only then
  /// answers `creator` with the keys.
  bool fresh = false;
  channel_created created; ///< the answer for the creator
  completion<channel_created> creator;
};

/// A viewer token of channel `id` at token generation `gen` (lives as long
/// as the channel: the deadline is checked when it is used).
std::string mint_channel_token(const auth::jwt_codec& jwt, const std::string& id, uint64_t gen,
                               int64_t now_s);

/// A new stream key for pushed channel `r` (128 random bits), and a new
/// passphrase when it is an encrypted SRT channel: the key's hash and the
/// passphrase go into `r`, the key, the passphrase and the publishers'
/// `ingest_url` into `c`.
void issue_stream_key(const config::settings& cfg, live::channel_record& r, channel_created& c);

/// Spawns a channel (linked to nothing: the directory tracks it).
channel_actor spawn_channel(caf::actor_system& sys, channel_params p);

} // namespace hlsgate::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::live::marker)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<hlsgate::media::stream_reader>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::live_grant>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::channel_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::channel_created>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::live::marker>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::archive_plan>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<std::vector<hlsgate::live::marker>>)
