// Private to service.cpp and service_live.cpp: the state behind the
// service facade. Never include this from http/.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "actors/data_dir.hpp"
#include "actors/interfaces.hpp"
#include "actors/live_channel.hpp"
#include "actors/live_srt.hpp"
#include "actors/liveness.hpp"
#include "actors/proxy_stream.hpp"
#include "actors/service.hpp"
#include "actors/store.hpp"
#include "actors/webhooks.hpp"

namespace hlsgate::actors {

inline int64_t service_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

inline int64_t service_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// How long shutdown waits for the clean-ups of undelivered uploads.
constexpr auto abandon_grace = std::chrono::seconds(10);

struct service::impl {
  config::settings cfg;
  metrics::registry& metrics;
  std::unique_ptr<data_dir> dir;
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<store> db;
  std::shared_ptr<const auth::jwt_codec> jwt;
  std::unique_ptr<auth::url_signer> signer;
  std::string rtmp_name_key; ///< auth::signing_keys::rtmp
  std::string proxy_key;     ///< auth::signing_keys::proxy
  std::shared_ptr<std::atomic<size_t>> queued = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<auth::revocation_table> revocations = std::make_shared<auth::revocation_table>();
  store_actor store_handle;
  webhooks_actor webhooks;
  pool_actor pool;
  registry_actor registry;
  /// Live channels (service_live.cpp): their store, who exists, what they share.
  std::shared_ptr<live_store> live_db;
  std::shared_ptr<channel_directory> channels = std::make_shared<channel_directory>();
  live_env_ptr live;
  /// Archives being joined (live_archive.cpp); set to cancel at shutdown.
  struct archive_jobs {
    std::atomic<bool> cancel{false};
    std::atomic<unsigned> running{0};
  };
  std::shared_ptr<archive_jobs> archives = std::make_shared<archive_jobs>();
  /// Proxied streams (service_proxy.cpp).
  std::shared_ptr<proxy_directory> proxies = std::make_shared<proxy_directory>();
  proxy_env_ptr proxy;
  std::mutex proxy_create_mu;        ///< one registration at a time: "same URL, same stream" holds
  std::unique_ptr<srt_listener> srt; ///< HLSGATE_SRT_PORT: SRT publishers connect here
  /// Records the first of store, pool and registry to terminate: /ready
  /// reports it and uploads are refused (no job could run).
  liveness alive;
  /// HLSGATE_API_TOKEN, or the one generated at first start and kept in
  /// DATA_DIR/api_token: the admin surface is never open.
  std::string api_token;
  /// stopped -> running -> draining (uploads refused) -> stopped
  enum class phase : int { stopped, running, draining };
  std::atomic<phase> state{phase::stopped};

  std::mutex abandon_mu;
  std::condition_variable abandon_cv;
  size_t abandons = 0; ///< guarded by abandon_mu

  impl(const config::settings& c, metrics::registry& m) : cfg(c), metrics(m) {}

  /// Verifies a JWT for `media_id`; false (and `done` answered) on failure.
  template <class T>
  bool verify_token(const std::string& media_id, const std::string& token,
                    auth::token_claims& claims, completion<T>& done) {
    if (token.empty()) {
      metrics.auth_failure("missing");
      done(api_error{api_errc::unauthorized, "Token required"});
      return false;
    }
    auth::token_error err{};
    if (!jwt->verify(token, service_now(), claims, err)) {
      metrics.auth_failure(auth::to_string(err));
      done(api_error{api_errc::forbidden,
                     err == auth::token_error::expired ? "Token expired" : "Invalid token"});
      return false;
    }
    if (claims.sub != media_id) {
      metrics.auth_failure("wrong_media");
      done(api_error{api_errc::forbidden, "Token is not valid for this media"});
      return false;
    }
    return true;
  }

  /// False (and `done` answered 503) when the actors do not take this
  /// work: nothing once stopped, no uploads while draining.
  template <class T> bool accepting(completion<T>& done, bool is_upload = false) {
    auto p = state.load(std::memory_order_acquire);
    if (p == phase::running || (p == phase::draining && !is_upload))
      return true;
    done(api_error{api_errc::shutting_down, "Server is shutting down"});
    return false;
  }
};

/// Live channels (service_live.cpp): opens their store, removes channel
/// folders no channel owns, drops channels that expired while the server
/// was down and spawns the others (their ingest resumes).
media::status start_live(service::impl& d);
/// Graceful shutdown: every ingest stops; channels keep their windows.
void drain_live(service::impl& d);
/// Stops every channel actor.
void stop_live(service::impl& d);
/// Proxied streams (service_proxy.cpp): opens their store and spawns one
/// actor per registration.
media::status start_proxy(service::impl& d);
void stop_proxy(service::impl& d);

} // namespace hlsgate::actors
