// The ingest of a live channel: one detached actor per session (its own
// thread) that runs the VOD transcoder on a live source until the source
// ends or the channel cancels it. Every completed segment goes to the
// channel as (segment_atom, session, event); the end of the session as
// (job_failed_atom, session, reason), reason "" when it was cancelled.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "actors/live_channel.hpp"

namespace hlsgate::actors {

struct ingest_job {
  uint64_t session = 0;
  std::string channel_id; ///< for log lines
  std::string out_dir;    ///< the channel's folder (renditions inside)
  media::transcode_options options;
  channel_actor owner;
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
};

/// The transcode options of a channel's next session: its ladder and
/// segment length, the test pattern sized like its top rung, segment file
/// numbers continuing after `first_segment`, an RTMP channel read back from
/// nginx-rtmp under its keyed name (auth::rtmp_stream_name).
media::transcode_options ingest_options(const live_env& env, const live::channel_record& r,
                                        size_t first_segment);

/// Spawns the ingest of one session and starts it.
void start_ingest(caf::actor_system& sys, ingest_job j);

} // namespace hlsgate::actors
