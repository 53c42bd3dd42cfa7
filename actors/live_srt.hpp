// SRT ingest for live channels: one UDP port (HLSGATE_SRT_PORT) where
// publishers push MPEG-TS over SRT with their channel's stream key as the
// SRT stream id ("KEY" or "#!::r=KEY,m=publish"). libsrt's listen callback
// judges the key during the handshake, so an unknown key is refused
// (SRT_REJX_FORBIDDEN, counted as bad_stream_key) before a byte of media is
// accepted; an accepted connection goes to its channel actor, whose ingest
// reads it through media::stream_reader. One thread accepts; each
// connection is read by its channel's ingest thread.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "actors/live_channel.hpp"

namespace hlsgate::metrics {
class registry;
}

namespace hlsgate::actors {

class srt_listener {
public:
  srt_listener(std::shared_ptr<channel_directory> channels, metrics::registry* metrics);
  ~srt_listener();
  srt_listener(const srt_listener&) = delete;
  srt_listener& operator=(const srt_listener&) = delete;

  /// Listens on `bind`:`port` (UDP) and starts accepting. "" or why not.
  std::string start(const std::string& bind, uint16_t port);
  /// Stops accepting; connections already handed to channels stay theirs.
  void stop();

private:
  void run();
  static int on_handshake(void* self, int socket, int hs_version, const ::sockaddr* peer,
                          const char* stream_id);

  std::shared_ptr<channel_directory> channels_;
  metrics::registry* metrics_;
  int socket_ = -1;
  int poll_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace hlsgate::actors
