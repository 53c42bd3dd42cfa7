#include "actors/service.hpp"

#include <sys/statvfs.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>

#include "actors/data_dir.hpp"
#include "actors/interfaces.hpp"
#include "actors/liveness.hpp"
#include "actors/media_registry.hpp"
#include "actors/restore.hpp"
#include "actors/service_impl.hpp"
#include "actors/store.hpp"
#include "actors/transcoder_pool.hpp"
#include "actors/webhooks.hpp"
#include "auth/crypto.hpp"
#include "auth/keys.hpp"
#include "metrics/log.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

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

media::result<std::string> load_api_token(const config::settings& cfg) {
  if (!cfg.api_token.empty())
    return cfg.api_token;
  auto f = auth::load_or_create_secret((fs::path{cfg.data_dir} / "api_token").string(),
                                       "the API token file");
  if (!f.error.empty())
    return media::error{media::errc::io_error, f.error};
  // The one time the token is printed (the issue's "printed once, with a
  // hint"); later starts name only the file.
  if (f.created)
    logging::warn("generated an API token for the admin endpoints; it is logged only now",
                  {{"api_token", f.secret},
                   {"hint", "read it again from DATA_DIR/api_token (0600); set "
                            "HLSGATE_API_TOKEN to choose your own"}});
  else
    logging::info("admin endpoints use the API token kept in DATA_DIR/api_token");
  return std::move(f.secret);
}

service::service(const config::settings& cfg, metrics::registry& metrics)
    : impl_(std::make_unique<impl>(cfg, metrics)) {}

service::~service() {
  shutdown();
}

media::status service::start() {
  auto& d = *impl_;
  auto dir = data_dir::open(d.cfg);
  if (!dir)
    return dir.err();
  d.dir = std::move(dir).value();
  auto loaded = load_signing_keys(d.cfg);
  if (!loaded)
    return loaded.err();
  auto& keys = *loaded;
  if (auto enc = media::check_encoder(d.cfg.x264_preset); !enc)
    return media::error{media::errc::invalid_input,
                        "HLSGATE_X264_PRESET is not usable: " + enc.err().detail};
  if (auto t = load_api_token(d.cfg); !t)
    return t.err();
  else
    d.api_token = std::move(t).value();
  d.jwt = std::make_shared<auth::jwt_codec>(keys.jwt);
  d.signer = std::make_unique<auth::url_signer>(keys.edge);
  d.rtmp_name_key = keys.rtmp;
  d.proxy_key = keys.proxy;
  if (!d.cfg.edge_key_file.empty() &&
      !auth::write_key_file(d.cfg.edge_key_file, keys.edge, 0640, d.dir->media_group()))
    return media::error{media::errc::io_error, "cannot write HLSGATE_EDGE_KEY_FILE"};
  if (auto s = ensure_private_file(d.dir->database()); !s)
    return s.err();
  auto opened = store::open(d.dir->database());
  if (!opened)
    return opened.err();
  d.db = std::shared_ptr<store>(std::move(opened).value());
  item_files files{d.dir->media(), d.dir->sources(), d.dir->media_group()};
  auto restored = restore(*d.db, files, d.dir->uploads(), service_now());
  if (!restored)
    return restored.err();
  logging::info("store restored", {{"live", std::to_string(restored->live.size())},
                                   {"expired_while_down", std::to_string(restored->lapsed)},
                                   {"swept", std::to_string(restored->swept)}});

  // Actors. The sharing scheduler with few threads keeps CAF from spinning
  // against the HTTP threads on small machines.
  d.sys_cfg = std::make_unique<caf::actor_system_config>();
  d.sys_cfg->set("scheduler.policy", caf::atom("sharing"));
  d.sys_cfg->set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency() / 2));
  d.sys_cfg->set("logger.verbosity", caf::atom("quiet"));
  d.sys = std::make_unique<caf::actor_system>(*d.sys_cfg);
  d.store_handle = spawn_store(*d.sys, d.db, true, &d.metrics);
  auto hooks_db = webhook_store::open(d.dir->database());
  if (!hooks_db)
    return hooks_db.err();
  webhooks_params wp;
  wp.store = std::shared_ptr<webhook_store>(std::move(hooks_db).value());
  wp.allow_private = d.cfg.webhook_allow_private;
  wp.retry_base_ms = d.cfg.webhook_retry_base_ms;
  wp.metrics = &d.metrics;
  wp.now_ms = [] {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  };
  d.webhooks = spawn_webhooks(*d.sys, std::move(wp));
  auto env = std::make_shared<environment>();
  env->cfg = d.cfg;
  env->jwt = d.jwt;
  env->metrics = &d.metrics;
  env->files = files;
  env->upload_dir = d.dir->uploads();
  env->store = d.store_handle;
  env->events = caf::actor_cast<event_sink>(d.webhooks);
  env->queued = d.queued;
  env->revocations = d.revocations;
  env->now = service_now;
  pool_params pp;
  pp.env = env;
  pp.workers = d.cfg.workers;
  pp.queue_limit = d.cfg.queue_limit;
  d.metrics.transcode_queue_limit(d.cfg.queue_limit);
  pp.watchdog_seconds = d.cfg.watchdog_seconds;
  // The pool needs the environment and the environment names the pool: the
  // pool's copy simply has no pool handle.
  d.pool = spawn_transcoder_pool(*d.sys, pp);
  auto env2 = std::make_shared<environment>(*env);
  env2->pool = d.pool;
  d.registry = spawn_media_registry(*d.sys, {env2, std::move(restored->live)});
  d.alive.watch(d.store_handle, "the store is down");
  d.alive.watch(d.pool, "the transcoder pool is down");
  d.alive.watch(d.registry, "the media registry is down");
  d.alive.watch(d.webhooks, "the webhooks system is down");
  if (auto s = start_live(d); !s)
    return s;
  if (auto s = start_proxy(d); !s)
    return s;
  d.state = impl::phase::running;
  return media::ok_status();
}

void service::begin_drain() {
  auto& d = *impl_;
  auto expected = impl::phase::running;
  if (!d.state.compare_exchange_strong(expected, impl::phase::draining))
    return;
  caf::anon_send(d.registry, drain_atom_v);
  drain_live(d);
}

void service::shutdown() {
  auto& d = *impl_;
  if (!d.sys)
    return;
  {
    // Undelivered uploads are removed before the actors stop: nobody else
    // knows their keys.
    std::unique_lock lk(d.abandon_mu);
    d.abandon_cv.wait_for(lk, abandon_grace, [&] { return d.abandons == 0; });
  }
  d.state = impl::phase::stopped;
  stop_live(d);
  stop_proxy(d);
  caf::anon_send_exit(d.registry, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d.pool, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d.store_handle, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d.webhooks, caf::exit_reason::user_shutdown);
  d.registry = nullptr;
  d.webhooks = nullptr;
  d.pool = nullptr;
  d.store_handle = nullptr;
  d.sys.reset(); // waits for every actor
  d.sys_cfg.reset();
  d.dir.reset(); // releases the data directory's lock
}

bool service::ready() const noexcept {
  return impl_->state.load(std::memory_order_acquire) == impl::phase::running;
}

std::string service::not_ready_reason() const {
  auto& d = *impl_;
  if (!ready())
    return "shutting down";
  if (const char* down = d.alive.down(); *down)
    return down;
  struct statvfs vfs {};
  if (!d.dir || ::statvfs(d.dir->uploads().c_str(), &vfs) != 0)
    return "the data volume cannot be read";
  if (vfs.f_flag & ST_RDONLY)
    return "the data volume is read-only";
  const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free_bytes < d.cfg.min_free_bytes)
    return "less free space on the data volume than HLSGATE_MIN_FREE_BYTES";
  return "";
}

std::optional<api_error> service::upload_refusal(uint64_t declared_bytes) const noexcept {
  auto& d = *impl_;
  if (!ready())
    return api_error{api_errc::shutting_down, "Server is shutting down"};
  if (*d.alive.down())
    return api_error{api_errc::unavailable, "Transcoding is unavailable"};
  if (d.queued->load(std::memory_order_relaxed) >= d.cfg.queue_limit)
    return api_error{api_errc::queue_full, "Too many jobs queued"};
  struct statvfs vfs {};
  if (d.dir && ::statvfs(d.dir->uploads().c_str(), &vfs) == 0) {
    const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (free_bytes < d.cfg.min_free_bytes || free_bytes - d.cfg.min_free_bytes < declared_bytes)
      return api_error{api_errc::insufficient_storage, "Not enough free space for this upload"};
  }
  return std::nullopt;
}

bool service::is_api_token(std::string_view token) const noexcept {
  return !impl_->api_token.empty() && auth::constant_time_equal(token, impl_->api_token);
}

void service::upload(upload_params p, completion<upload_result> done) {
  if (!impl_->accepting(done, true)) {
    std::error_code ec;
    fs::remove(p.file_path, ec);
    return;
  }
  caf::anon_send(impl_->registry, upload_atom_v, std::move(p), std::move(done));
}

void service::abandon(std::string media_id) {
  auto& d = *impl_;
  if (!d.registry)
    return;
  {
    std::lock_guard lk(d.abandon_mu);
    ++d.abandons;
  }
  caf::anon_send(d.registry, abandon_atom_v, std::move(media_id),
                 completion<done>{[&d](reply<done>) {
                   std::lock_guard lk(d.abandon_mu);
                   --d.abandons;
                   d.abandon_cv.notify_all();
                 }});
}

void service::playlist(std::string media_id, std::string token, completion<playlist_grant> done) {
  if (!impl_->accepting(done))
    return;
  auth::token_claims claims;
  if (!impl_->verify_token(media_id, token, claims, done))
    return;
  caf::anon_send(impl_->registry, playlist_atom_v, std::move(media_id), std::move(claims),
                 std::move(done));
}

void service::refresh_token(std::string media_id, admin_credential who, unsigned minutes,
                            completion<token_result> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, refresh_atom_v, std::move(media_id), std::move(who), minutes,
                 std::move(done));
}

void service::info(std::string media_id, admin_credential who, completion<info_result> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, info_atom_v, std::move(media_id), std::move(who),
                 std::move(done));
}

void service::extend(std::string media_id, admin_credential who, unsigned additional_minutes,
                     completion<extend_result> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, extend_atom_v, std::move(media_id), std::move(who),
                 additional_minutes, std::move(done));
}

void service::remove(std::string media_id, admin_credential who, completion<actors::done> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, delete_atom_v, std::move(media_id), std::move(who),
                 std::move(done));
}

void service::create_token(std::string media_id, admin_credential who, token_request req,
                           completion<token_result> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, token_create_atom_v, std::move(media_id), std::move(who),
                 std::move(req), std::move(done));
}

void service::list_tokens(std::string media_id, admin_credential who, completion<token_list> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, token_list_atom_v, std::move(media_id), std::move(who),
                 std::move(done));
}

void service::revoke_token(std::string media_id, admin_credential who, std::string jti,
                           completion<actors::done> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, token_revoke_atom_v, std::move(media_id), std::move(who),
                 std::move(jti), std::move(done));
}

void service::add_subtitles(std::string media_id, admin_credential who, subtitle_request req,
                            completion<subtitle_result> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, subtitles_atom_v, std::move(media_id), std::move(who),
                 std::move(req), std::move(done));
}

void service::stream_info(std::string media_id, std::string token,
                          completion<stream_info_result> done) {
  if (!impl_->accepting(done))
    return;
  auth::token_claims claims;
  if (!impl_->verify_token(media_id, token, claims, done))
    return;
  caf::anon_send(impl_->registry, stream_info_atom_v, std::move(media_id), std::move(claims),
                 std::move(done));
}

void service::list_media(media_query q, completion<media_page> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, list_atom_v, std::move(q), std::move(done));
}

void service::delete_matching(media_filter f, completion<bulk_delete_result> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, bulk_delete_atom_v, std::move(f), std::move(done));
}

void service::create_webhook(webhook w, completion<webhook> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->webhooks, hook_create_atom_v, std::move(w), std::move(done));
}

void service::list_webhooks(completion<std::vector<webhook>> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->webhooks, hook_list_atom_v, std::move(done));
}

void service::delete_webhooks(webhook_selector s, completion<size_t> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->webhooks, hook_delete_atom_v, std::move(s), std::move(done));
}

void service::test_webhooks(webhook_selector s, completion<std::string> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->webhooks, hook_test_atom_v, std::move(s), std::move(done));
}

void service::webhook_deliveries(std::string id, completion<std::vector<webhook_delivery>> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->webhooks, hook_log_atom_v, std::move(id), std::move(done));
}

void service::import(import_params p, completion<import_result> done) {
  if (!impl_->accepting(done))
    return;
  caf::anon_send(impl_->registry, import_atom_v, std::move(p), std::move(done));
}

const auth::revocation_table& service::revocations() const {
  return *impl_->revocations;
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
