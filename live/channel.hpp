// A live channel as hlsgate keeps it: what its creator asked for (the strict
// parse of POST /live), its durable record (keys, deadline, the DVR window of
// every rendition) and that record's JSON form in the store. Pure: the
// channel actor owns one and commits it; tests and the fuzz target use it
// directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "live/window.hpp"

namespace hlsgate::live {

/// Where a channel's pictures come from: the built-in test pattern, RTMP
/// pushed to the nginx-rtmp application hlsgate reads from, MPEG-TS
/// pushed over SRT to hlsgate's own listener, or an HLS playlist or
/// MPEG-TS stream hlsgate pulls from an http(s) URL.
enum class source_type { test, rtmp, srt, pull };
const char* to_string(source_type t);
/// Whether a publisher pushes the source (with the channel's stream key).
bool pushed(source_type t);

/// The stream key an SRT caller names in its stream id: the whole id, or
/// the resource "r" of SRT's access control syntax ("#!::r=KEY,m=publish";
/// a mode other than publish is refused). "" when there is none or it is
/// not 1-64 characters of [A-Za-z0-9_-] (stream keys are auth::random_id).
std::string srt_stream_key(std::string_view streamid);

struct channel_config {
  std::string name; ///< 1-200 bytes of UTF-8, no control characters
  source_type source = source_type::test;
  double segment_seconds = 2;     ///< 1..10
  double dvr_seconds = 600;       ///< 6..86400 (at least three segments)
  std::string ladder;             ///< canonical ladder text (config/ladder.hpp)
  unsigned expiry_minutes = 1440; ///< 1..10080
  bool keep_event = false;        ///< archive the whole event, not only the window
  /// SRT: the publisher must encrypt with a passphrase hlsgate makes
  /// (`"source": {"type": "srt", "encrypted": true}`).
  bool encrypted = false;
  /// Pull: the http(s) URL of the HLS playlist or MPEG-TS stream
  /// (`"source": {"type": "pull", "url": "..."}`), as net::parse_url accepts it.
  std::string pull_url;
};

/// Parses the body of POST /live: {"name", "source": {"type"}, "segment_seconds",
/// "dvr_window_seconds", "ladder", "expiry_minutes", "keep_event"}. Missing
/// fields keep the defaults in `out` (the caller fills the server's default
/// ladder); unknown fields are refused. Returns "" or why it was refused.
std::string parse_channel_request(std::string_view body, channel_config& out);

/// The state of one rendition of a channel, as the actor learns it from its
/// ingest (size, codecs, bit rate) plus its window.
struct rendition_state {
  std::string name; ///< "v0", "v1", ... (media/names.hpp)
  int width = 0, height = 0;
  double frame_rate = 0;
  std::string codecs;
  uint64_t bandwidth = 0;               ///< peak bits/s so far
  std::vector<live_segment> listed;     ///< the window's segments (oldest first)
  std::vector<retired_segment> retired; ///< left the window, still in their grace
  uint64_t next_sequence = 0;
  uint64_t discontinuity_sequence = 0;
};

enum class channel_status { waiting, live, reconnecting, ended };
const char* to_string(channel_status s);

struct channel_record {
  std::string id;         ///< public id (auth::random_id)
  std::string storage_id; ///< folder under the media root: "live-" + random id
  std::string admin_key_hash;
  std::string stream_key_hash; ///< RTMP: SHA-256 of the publisher's stream key
  /// SRT with `encrypted`: the passphrase libsrt derives the stream's key
  /// from (kept as is: the listener hands it to libsrt at each handshake).
  std::string srt_passphrase;
  channel_config config;
  int64_t created_at = 0; ///< unix seconds
  int64_t expires_at = 0; ///< unix seconds: the channel and its files go then
  uint64_t token_gen = 1;
  bool stopped = false; ///< the event ended (ENDLIST); ingest does not resume
  /// The number of the next ingest session's first segment file: above every
  /// file any session wrote in any rendition (renditions of one session can
  /// end with different counts, so their windows' sequence numbers are not).
  uint64_t next_file = 0;
  std::vector<rendition_state> renditions;
};

/// The record as stored, and back. from_json returns false on anything it
/// does not recognise (the store holds only what to_json wrote).
std::string to_json(const channel_record& r);
bool from_json(std::string_view text, channel_record& r);

/// The storage id of a new channel's folder: "live-" + `random_id`. The VOD
/// start-up sweep only touches 22-character names, so it never takes these.
std::string channel_storage_id(const std::string& random_id);
/// Whether `name` is a channel folder name (the live sweep's guard).
bool is_channel_storage_id(std::string_view name);

/// Viewers estimated from media playlist requests: each viewer asks for its
/// rendition's playlist about once per target duration, so `requests` seen
/// during the last `span_seconds` are that many viewers times
/// span/target. Rounded up; 0 when there were none.
unsigned estimate_viewers(uint64_t requests, double span_seconds, int target_seconds);

} // namespace hlsgate::live
