#include "actors/service.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "actors/media_registry.hpp"
#include "actors/store.hpp"
#include "actors/transcoder_pool.hpp"
#include "auth/crypto.hpp"
#include "auth/keys.hpp"
#include "metrics/log.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

template <class T> void reject(completion<T>& cb, api_errc code, const char* detail) {
  cb(api_error{code, detail});
}

} // namespace

struct service::impl {
  config::settings cfg;
  metrics::registry& metrics;
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<store> db;
  std::shared_ptr<const auth::jwt_codec> jwt;
  std::unique_ptr<auth::url_signer> signer;
  caf::actor store_actor;
  caf::actor pool;
  caf::actor registry;
  std::atomic<bool> ready{false};

  impl(const config::settings& c, metrics::registry& m) : cfg(c), metrics(m) {}

  /// Verifies a JWT for `media_id`; false (and `cb` answered) on failure.
  template <class T>
  bool verify_token(const std::string& media_id, const std::string& token,
                    auth::token_claims& claims, completion<T>& cb) {
    if (token.empty()) {
      metrics.auth_failure("missing");
      reject(cb, api_errc::unauthorized, "Token required");
      return false;
    }
    auth::token_error err{};
    if (!jwt->verify(token, unix_now(), claims, err)) {
      metrics.auth_failure(auth::to_string(err));
      reject(cb, api_errc::forbidden,
             err == auth::token_error::expired ? "Token expired" : "Invalid token");
      return false;
    }
    if (claims.sub != media_id) {
      metrics.auth_failure("wrong_media");
      reject(cb, api_errc::forbidden, "Token is not valid for this media");
      return false;
    }
    return true;
  }
};

media::result<auth::signing_keys> load_signing_keys(const config::settings& cfg) {
  std::string secret = cfg.secret_key;
  if (secret.empty()) {
    std::error_code ec;
    fs::create_directories(cfg.data_dir, ec);
    auto f = auth::load_or_create_secret((fs::path{cfg.data_dir} / "secret.key").string());
    if (!f.error.empty())
      return media::error{media::errc::io_error, f.error};
    if (f.created)
      logging::info("generated a new secret key", {{"file", "DATA_DIR/secret.key"}});
    secret = std::move(f.secret);
  }
  return auth::derive_keys(secret, cfg.edge_secret);
}

service::service(const config::settings& cfg, metrics::registry& metrics)
    : impl_(std::make_unique<impl>(cfg, metrics)) {}

service::~service() {
  shutdown();
}

media::status service::start() {
  auto& d = *impl_;
  std::error_code ec;
  auto data = fs::path{d.cfg.data_dir};
  for (auto* sub : {"media", "sources", "uploads"}) {
    fs::create_directories(data / sub, ec);
    if (ec)
      return media::error{media::errc::io_error, "cannot create the data directory"};
  }
  auto loaded = load_signing_keys(d.cfg);
  if (!loaded)
    return loaded.err();
  auto& keys = *loaded;
  d.jwt = std::make_shared<auth::jwt_codec>(keys.jwt);
  d.signer = std::make_unique<auth::url_signer>(keys.edge);
  auto opened = store::open((data / "hlsgate.db").string());
  if (!opened)
    return opened.err();
  d.db = std::shared_ptr<store>(std::move(opened).value());
  auto records = d.db->load_all();
  if (!records)
    return records.err();
  // Leftovers of a previous run: interrupted uploads, and media folders or
  // originals that no row owns (a crash between a job's start and a delete).
  for (auto& e : fs::directory_iterator(data / "uploads", ec))
    fs::remove_all(e.path(), ec);
  std::unordered_set<std::string> owned;
  for (auto& r : *records) {
    owned.insert(r.storage_id);
    owned.insert(r.storage_id + ".src");
  }
  for (auto* sub : {"media", "sources"})
    for (auto& e : fs::directory_iterator(data / sub, ec))
      if (owned.count(e.path().filename().string()) == 0)
        fs::remove_all(e.path(), ec);
  // Items whose deadline passed while we were down: files, then the row.
  auto now = unix_now();
  std::vector<media_record> live;
  size_t lapsed = 0;
  for (auto& r : *records) {
    if (r.expires_at <= now) {
      ++lapsed;
      fs::remove_all(data / "media" / r.storage_id, ec);
      if (!r.source_path.empty())
        fs::remove(r.source_path, ec);
      d.db->remove(r.media_id);
    } else {
      live.push_back(std::move(r));
    }
  }
  // Actors. The sharing scheduler with few threads keeps CAF from spinning
  // against the HTTP threads on small machines.
  d.sys_cfg = std::make_unique<caf::actor_system_config>();
  d.sys_cfg->set("scheduler.policy", caf::atom("sharing"));
  d.sys_cfg->set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency() / 2));
  d.sys_cfg->set("logger.verbosity", caf::atom("quiet"));
  d.sys = std::make_unique<caf::actor_system>(*d.sys_cfg);
  d.store_actor = spawn_store(*d.sys, d.db, true);
  auto env = std::make_shared<environment>();
  env->cfg = d.cfg;
  env->jwt = d.jwt;
  env->metrics = &d.metrics;
  env->media_root = (data / "media").string();
  env->source_root = (data / "sources").string();
  env->store = d.store_actor;
  env->now = unix_now;
  pool_params pp;
  pp.env = env;
  pp.workers = d.cfg.workers;
  pp.queue_limit = d.cfg.queue_limit;
  pp.watchdog_seconds = d.cfg.watchdog_seconds;
  // The pool needs the environment and the environment names the pool: the
  // pool's copy simply has no pool handle.
  d.pool = spawn_transcoder_pool(*d.sys, pp);
  auto env2 = std::make_shared<environment>(*env);
  env2->pool = d.pool;
  logging::info("store restored", {{"live", std::to_string(live.size())},
                                   {"expired_while_down", std::to_string(lapsed)}});
  d.registry = spawn_media_registry(*d.sys, {env2, std::move(live)});
  d.ready = true;
  return media::ok_status();
}

void service::shutdown() {
  auto& d = *impl_;
  d.ready = false;
  if (!d.sys)
    return;
  caf::anon_send_exit(d.registry, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d.pool, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d.store_actor, caf::exit_reason::user_shutdown);
  d.registry = nullptr;
  d.pool = nullptr;
  d.store_actor = nullptr;
  d.sys.reset(); // waits for every actor
  d.sys_cfg.reset();
}

bool service::ready() const noexcept {
  return impl_->ready.load();
}

void service::upload(upload_params p, completion<upload_result> cb) {
  if (!ready()) {
    std::error_code ec;
    fs::remove(p.file_path, ec);
    return reject(cb, api_errc::shutting_down, "Server is shutting down");
  }
  caf::anon_send(impl_->registry, upload_atom_v, std::move(p), std::move(cb));
}

void service::playlist(std::string media_id, std::string token, completion<playlist_ptr> cb) {
  if (!ready())
    return reject(cb, api_errc::shutting_down, "Server is shutting down");
  auth::token_claims claims;
  if (!impl_->verify_token(media_id, token, claims, cb))
    return;
  caf::anon_send(impl_->registry, playlist_atom_v, std::move(media_id), std::move(claims),
                 std::move(cb));
}

void service::refresh_token(std::string media_id, admin_credential admin_key, unsigned minutes,
                            completion<token_result> cb) {
  if (!ready())
    return reject(cb, api_errc::shutting_down, "Server is shutting down");
  caf::anon_send(impl_->registry, refresh_atom_v, std::move(media_id), std::move(admin_key),
                 minutes, std::move(cb));
}

void service::info(std::string media_id, admin_credential admin_key, completion<info_result> cb) {
  if (!ready())
    return reject(cb, api_errc::shutting_down, "Server is shutting down");
  caf::anon_send(impl_->registry, info_atom_v, std::move(media_id), std::move(admin_key),
                 std::move(cb));
}

void service::extend(std::string media_id, admin_credential admin_key, unsigned additional_minutes,
                     completion<extend_result> cb) {
  if (!ready())
    return reject(cb, api_errc::shutting_down, "Server is shutting down");
  caf::anon_send(impl_->registry, extend_atom_v, std::move(media_id), std::move(admin_key),
                 additional_minutes, std::move(cb));
}

void service::remove(std::string media_id, admin_credential admin_key, completion<done> cb) {
  if (!ready())
    return reject(cb, api_errc::shutting_down, "Server is shutting down");
  caf::anon_send(impl_->registry, delete_atom_v, std::move(media_id), std::move(admin_key),
                 std::move(cb));
}

void service::stream_info(std::string media_id, std::string token,
                          completion<stream_info_result> cb) {
  if (!ready())
    return reject(cb, api_errc::shutting_down, "Server is shutting down");
  auth::token_claims claims;
  if (!impl_->verify_token(media_id, token, claims, cb))
    return;
  caf::anon_send(impl_->registry, stream_info_atom_v, std::move(media_id), std::move(claims),
                 std::move(cb));
}

void service::import(import_params p, completion<import_result> cb) {
  if (!ready())
    return reject(cb, api_errc::shutting_down, "Server is shutting down");
  caf::anon_send(impl_->registry, import_atom_v, std::move(p), std::move(cb));
}

void service::begin_drain() {
  impl_->ready = false;
}

std::optional<api_error> service::upload_refusal() const noexcept {
  if (!ready())
    return api_error{api_errc::shutting_down, "Server is shutting down"};
  return std::nullopt;
}

bool service::is_api_token(std::string_view token) const noexcept {
  return !impl_->cfg.api_token.empty() && auth::constant_time_equal(token, impl_->cfg.api_token);
}

void service::abandon(std::string media_id) {
  if (impl_->registry)
    caf::anon_send(impl_->registry, delete_atom_v, std::move(media_id), admin_credential{{}, true},
                   completion<done>{[](reply<done>) {}});
}

const auth::url_signer& service::signer() const {
  return *impl_->signer;
}
const auth::jwt_codec& service::tokens() const {
  return *impl_->jwt;
}
const config::settings& service::settings() const {
  return impl_->cfg;
}

} // namespace hlsgate::actors
