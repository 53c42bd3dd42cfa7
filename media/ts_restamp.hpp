// One continuous MPEG-TS stream out of successive upstreams (the stream
// proxy's continuous streams, across failovers): each upstream is demuxed
// with libav (media/source.cpp's MPEG-TS reader: the MPEG-TS demuxer only,
// nothing opened) and remuxed into one MPEG-TS muxer that lives as long as
// the stream, on one timeline (media/ts_timeline.hpp). A viewer sees one
// program whose timestamps, PCR and continuity counters go on across a
// switch, whatever the next upstream's clock or frame rate.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "media/open_policy.hpp"

namespace hlsgate::media {

class ts_restamper {
public:
  /// Gets the output: whole 188-byte packets, on the thread of run().
  using sink = std::function<void(std::string)>;
  explicit ts_restamper(sink out);
  ~ts_restamper();
  ts_restamper(const ts_restamper&) = delete;
  ts_restamper& operator=(const ts_restamper&) = delete;

  /// Remuxes `in` (one upstream's MPEG-TS) onto the output until it ends,
  /// fails or `stop` is set: why it stopped ("upstream ended", "cancelled",
  /// a short reason). The output's streams are the first upstream's video
  /// and audio streams; a later upstream's streams feed them by kind and
  /// order when their codec is the same (others are left out). One run at a
  /// time: a second waits for the first to return.
  std::string run(std::shared_ptr<stream_reader> in, std::shared_ptr<const std::atomic<bool>> stop);

  /// True once the output exists (a first upstream was remuxed): bytes of
  /// another kind must not be mixed into it.
  bool started() const;

private:
  struct impl;
  std::unique_ptr<impl> d_;
};

} // namespace hlsgate::media
