#include "http/options.hpp"

namespace hlsgate::http {

server_options make_server_options(const config::settings& cfg) {
  server_options o;
  o.bind = cfg.bind;
  o.port = cfg.port;
  o.threads = cfg.http_threads;
  o.max_upload_bytes = cfg.max_upload_bytes;
  o.max_uploads = cfg.max_uploads;
  o.upload_tmp_dir = cfg.data_dir + "/uploads";
  o.media_root = cfg.media_dir;
  o.max_connections = cfg.max_connections;
  o.header_timeout_seconds = cfg.header_timeout_seconds;
  o.idle_timeout_seconds = cfg.idle_timeout_seconds;
  o.min_body_rate = cfg.min_body_rate;
  o.body_rate_window_seconds = cfg.body_rate_window_seconds;
  o.cors_origins = cfg.cors_origins;
  o.cors_any = cfg.cors_any;
  o.access_log = cfg.access_log;
  return o;
}

} // namespace hlsgate::http
