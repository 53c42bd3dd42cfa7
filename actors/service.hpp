// The actors' front door for the HTTP layer: plain C++ with callbacks, no CAF
// in sight. Every call returns at once; the callback runs later on an actor
// thread (the caller hops back to its own executor).
#pragma once

#include <memory>
#include <string>

#include "actors/types.hpp"
#include "auth/jwt.hpp"
#include "auth/keys.hpp"
#include "auth/signed_url.hpp"
#include "config/config.hpp"
#include "media/result.hpp"
#include "metrics/metrics.hpp"

namespace hlsgate::actors {

/// The master secret (SECRET_KEY, or DATA_DIR/secret.key created on first
/// use) and the two keys derived from it.
media::result<auth::signing_keys> load_signing_keys(const config::settings& cfg);

class service {
public:
  /// Builds the actor system; nothing runs until start().
  service(const config::settings& cfg, metrics::registry& metrics);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Creates the data folders, loads or creates the secret, opens the store,
  /// cleans up what expired while we were down, restores every live item and
  /// resumes unfinished jobs. Fails with a short message.
  media::status start();

  /// Stops accepting work, cancels running jobs and stops every actor.
  void shutdown();

  /// True once start() succeeded and until shutdown().
  bool ready() const noexcept;

  void upload(upload_params p, callback<upload_result> cb);
  /// `token` is the raw JWT; it is verified here (signature, alg, expiry)
  /// before the media actor checks its generation.
  void playlist(std::string media_id, std::string token, callback<playlist_ptr> cb);
  void refresh_token(std::string media_id, std::string admin_key, unsigned minutes,
                     callback<token_result> cb);
  void info(std::string media_id, std::string admin_key, callback<info_result> cb);
  void extend(std::string media_id, std::string admin_key, unsigned additional_minutes,
              callback<extend_result> cb);
  void remove(std::string media_id, std::string admin_key, callback<done> cb);
  /// Token holders: format, readiness, duration, renditions (Clipset's
  /// stream-info endpoint, plus more).
  void stream_info(std::string media_id, std::string token, callback<stream_info_result> cb);
  /// Registers existing files (folders are expanded recursively) as
  /// on-demand items without copying them. Paths must be absolute.
  void import(import_params p, callback<import_result> cb);

  const auth::url_signer& signer() const;
  const auth::jwt_codec& tokens() const;
  const config::settings& settings() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::actors
