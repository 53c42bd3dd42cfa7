// The one mapping from hlsgate's settings to the HTTP server's options.
#pragma once

#include "config/config.hpp"
#include "http/server.hpp"

namespace hlsgate::http {

server_options make_server_options(const config::settings& cfg);

} // namespace hlsgate::http
