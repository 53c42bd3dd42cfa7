// What the HTTP layer and the channel actors exchange about live channels
// (plain structs, no CAF): a channel's creation answer, its status, the
// snapshot a playlist is rendered from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "live/channel.hpp"
#include "live/markers.hpp"
#include "live/window.hpp"
#include "media/concat.hpp"
#include "media/playlist.hpp"

namespace hlsgate::actors {

struct channel_created {
  std::string channel_id;
  std::string access_token; ///< a viewer token (lives as long as the channel)
  std::string admin_key;    ///< shown once; the store keeps its hash
  std::string storage_id;
  int64_t expires_at = 0;
  std::string ingest_url;     ///< RTMP: where the publisher pushes ("" otherwise)
  std::string stream_key;     ///< RTMP: the publisher's key, shown once ("" otherwise)
  std::string srt_passphrase; ///< encrypted SRT: shown once ("" otherwise)
};

/// A channel's state as GET /live/{id} and GET /live show it.
struct channel_info {
  std::string channel_id;
  std::string name;
  live::channel_status status = live::channel_status::waiting;
  std::string source; ///< "test"
  double segment_seconds = 0;
  double dvr_seconds = 0;
  std::string ladder;
  bool keep_event = false;
  bool encrypted = false; ///< SRT with a passphrase
  std::string pull_url;   ///< pull: the source URL
  int64_t created_at = 0;
  int64_t expires_at = 0;
  uint64_t media_sequence = 0; ///< of the top rendition's window
  double window_seconds = 0;   ///< what the top window lists now
  size_t segments = 0;         ///< listed in the top window
  uint64_t ingest_bitrate = 0; ///< bits/s of the top rendition, last segment
  int width = 0, height = 0;   ///< top rendition
  double fps = 0;
  uint64_t dropped_frames = 0; ///< frames the ingest could not use
  unsigned viewers = 0;        ///< estimated from playlist requests
  size_t markers = 0;
  uint64_t restarts = 0;  ///< ingest sessions after the first
  std::string last_error; ///< operators only: why the ingest last stopped
};

/// Everything a live playlist is rendered from, immutable once published:
/// the channel actor makes a new one whenever a segment is listed or a
/// marker changes, and playlist requests share it.
struct live_view {
  std::string storage_id;
  media::master_playlist master;
  std::vector<std::string> names;        ///< rendition folder of each window
  std::vector<live::dvr_window> windows; ///< one per rendition, same order
  std::vector<live::marker> markers;     ///< by start time
};

struct live_grant {
  std::shared_ptr<const live_view> view;
  uint64_t gen = 0;
  std::string jti;
  int64_t token_exp = 0; ///< 0: as long as the channel
  int64_t deadline = 0;  ///< the channel's expiry, unix seconds
};

/// What POST /live/{id}/archive makes a VOD item from: the channel's top
/// rendition, segment by segment (oldest first), and how to transcode it.
struct archive_plan {
  std::string channel_id;
  std::string name;   ///< the channel's name
  std::string ladder; ///< the channel's ladder spec
  double seconds = 0; ///< the segments' durations, summed
  std::vector<media::concat_input> segments;
};

} // namespace hlsgate::actors
