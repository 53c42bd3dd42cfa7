// What a pulled live channel's ingest opens its URLs with: the channel's
// source URL and every playlist, segment and key the HLS demuxer names go
// through net::http_reader, so each is parsed (http and https only), its
// addresses checked against the address policy (link-local never;
// loopback and private only with HLSGATE_ALLOW_PRIVATE_UPSTREAMS), only a
// checked address connected to, and each redirect checked again.
#pragma once

#include <atomic>
#include <memory>

#include "media/open_policy.hpp"

namespace hlsgate::actors {

/// The opener of one ingest session; `cancel` is the session's flag.
std::shared_ptr<media::url_opener> make_pull_opener(bool allow_private,
                                                    std::shared_ptr<std::atomic<bool>> cancel);

} // namespace hlsgate::actors
