// The live half of the service facade: channels are created here (ids,
// keys, the first viewer token) and every other call is routed to the
// channel's actor through the directory.
#include <filesystem>
#include <system_error>
#include <unordered_set>

#include "actors/service_impl.hpp"
#include "auth/crypto.hpp"
#include "auth/keys.hpp"
#include "metrics/log.hpp"
#include "net/address_policy.hpp"
#include "net/url.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

/// The channel `id`'s actor, or `done` answered 404.
template <class T>
channel_actor channel_or_404(service::impl& d, const std::string& id, completion<T>& done) {
  auto a = d.channels->find(id);
  if (!a)
    done(api_error{api_errc::not_found, "Channel not found"});
  return a;
}

} // namespace

media::status start_live(service::impl& d) {
  auto opened = live_store::open(d.dir->database());
  if (!opened)
    return opened.err();
  d.live_db = std::shared_ptr<live_store>(std::move(opened).value());
  auto env = std::make_shared<live_env>();
  env->cfg = d.cfg;
  env->rtmp_name_key = d.rtmp_name_key;
  env->store = d.live_db;
  env->jwt = d.jwt;
  env->revocations = d.revocations;
  env->metrics = &d.metrics;
  env->directory = d.channels;
  env->now_ms = service_now_ms;
  d.live = env;
  auto channels = d.live_db->load_channels();
  if (!channels)
    return channels.err();
  std::unordered_set<std::string> owned;
  size_t lapsed = 0;
  const int64_t now = service_now();
  for (auto& r : *channels) {
    if (r.expires_at <= now) {
      // The record goes first; its folder is then no one's and the sweep
      // below takes it.
      if (d.live_db->remove_channel(r.id))
        ++lapsed;
      else
        owned.insert(r.storage_id);
      continue;
    }
    owned.insert(r.storage_id);
  }
  std::error_code ec;
  size_t swept = 0;
  for (auto& e : fs::directory_iterator(d.cfg.media_dir, ec)) {
    const auto name = e.path().filename().string();
    if (live::is_channel_storage_id(name) && owned.count(name) == 0 && !e.is_symlink(ec)) {
      fs::remove_all(e.path(), ec);
      ++swept;
    }
  }
  size_t restored = 0;
  for (auto& r : *channels) {
    if (r.expires_at <= now)
      continue;
    channel_params p;
    p.env = env;
    auto markers = d.live_db->load_markers(r.id);
    if (markers)
      p.markers = std::move(markers).value();
    p.record = std::move(r);
    spawn_channel(*d.sys, std::move(p));
    ++restored;
  }
  logging::info("live channels restored", {{"channels", std::to_string(restored)},
                                           {"expired_while_down", std::to_string(lapsed)},
                                           {"swept", std::to_string(swept)}});
  if (d.cfg.srt_port != 0) {
    d.srt = std::make_unique<srt_listener>(d.channels, &d.metrics);
    if (auto why = d.srt->start(d.cfg.bind, d.cfg.srt_port); !why.empty())
      return media::error{media::errc::io_error, why};
    logging::info("SRT ingest listening", {{"port", std::to_string(d.cfg.srt_port)}});
  }
  return media::ok_status();
}

void drain_live(service::impl& d) {
  d.archives->cancel.store(true); // an archive being joined is dropped, its file removed
  if (d.srt)
    d.srt->stop(); // no new publisher; connected ones end with their channels' ingest
  for (auto& a : d.channels->actors())
    caf::anon_send(a, drain_atom_v);
}

void stop_live(service::impl& d) {
  d.archives->cancel.store(true); // also when shutdown came without a drain
  for (auto& a : d.channels->actors())
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

void service::create_channel(live::channel_config cfg, completion<channel_created> done) {
  auto& d = *impl_;
  if (!d.accepting(done, true))
    return;
  if (cfg.source == live::source_type::rtmp && d.cfg.rtmp_url.empty())
    return done(api_error{api_errc::bad_parameter,
                          "RTMP ingest is not configured on this server (HLSGATE_RTMP_URL)"});
  if (cfg.source == live::source_type::srt && d.cfg.srt_port == 0)
    return done(api_error{api_errc::bad_parameter,
                          "SRT ingest is off on this server (HLSGATE_SRT_PORT=0)"});
  if (cfg.source == live::source_type::pull) {
    // A literal address is judged now; a name when each session resolves it.
    std::string why;
    auto u = net::parse_url(cfg.pull_url, why);
    boost::system::error_code ec;
    if (u && u->host_is_ip &&
        !net::allowed(boost::asio::ip::make_address(u->host, ec), d.cfg.allow_private_upstreams))
      return done(api_error{api_errc::bad_parameter,
                            "source.url: this address is not allowed (link-local never; loopback "
                            "and private only with HLSGATE_ALLOW_PRIVATE_UPSTREAMS=1)"});
  }
  if (!d.channels->try_reserve(d.cfg.max_channels))
    return done(api_error{api_errc::limit_exceeded,
                          "HLSGATE_MAX_CHANNELS channels exist already; delete one first"});
  channel_params p;
  p.env = d.live;
  p.fresh = true;
  auto& r = p.record;
  r.id = auth::random_id();
  r.storage_id = live::channel_storage_id(auth::random_id());
  p.created.admin_key = auth::random_id();
  r.admin_key_hash = auth::sha256_hex(p.created.admin_key);
  r.config = std::move(cfg);
  r.created_at = service_now();
  r.expires_at = r.created_at + int64_t{r.config.expiry_minutes} * 60;
  r.token_gen = 1;
  if (live::pushed(r.config.source)) {
    issue_stream_key(d.cfg, r, p.created);
  }
  p.created.channel_id = r.id;
  p.created.storage_id = r.storage_id;
  p.created.access_token = mint_channel_token(*d.jwt, r.id, r.token_gen, r.created_at);
  p.created.expires_at = r.expires_at;
  d.metrics.token_issued();
  p.creator = std::move(done);
  spawn_channel(*d.sys, std::move(p));
}

std::vector<channel_info> service::list_channels() const {
  return impl_->channels->list();
}

void service::channel_info_of(std::string id, admin_credential who, completion<channel_info> done) {
  if (!impl_->accepting(done))
    return;
  if (auto a = channel_or_404(*impl_, id, done))
    caf::anon_send(a, info_atom_v, std::move(who), std::move(done));
}

void service::stop_channel(std::string id, admin_credential who, completion<channel_info> done) {
  if (!impl_->accepting(done))
    return;
  if (auto a = channel_or_404(*impl_, id, done))
    caf::anon_send(a, stop_atom_v, std::move(who), std::move(done));
}

void service::delete_channel(std::string id, admin_credential who, completion<actors::done> done) {
  if (!impl_->accepting(done))
    return;
  if (auto a = channel_or_404(*impl_, id, done))
    caf::anon_send(a, delete_atom_v, std::move(who), std::move(done));
}

void service::live_playlist(std::string id, std::string token, bool media_request,
                            completion<live_grant> done) {
  auto& d = *impl_;
  if (!d.accepting(done))
    return;
  auth::token_claims claims;
  if (!d.verify_token(id, token, claims, done))
    return;
  if (auto a = channel_or_404(d, id, done))
    caf::anon_send(a, playlist_atom_v, std::move(claims), media_request, std::move(done));
}

void service::refresh_channel_token(std::string id, admin_credential who,
                                    completion<channel_created> done) {
  if (!impl_->accepting(done))
    return;
  if (auto a = channel_or_404(*impl_, id, done))
    caf::anon_send(a, refresh_atom_v, std::move(who), std::move(done));
}

void service::rotate_stream_key(std::string id, admin_credential who,
                                completion<channel_created> done) {
  if (!impl_->accepting(done))
    return;
  if (auto a = channel_or_404(*impl_, id, done))
    caf::anon_send(a, rekey_atom_v, std::move(who), std::move(done));
}

std::optional<std::string> service::rtmp_publish(std::string_view stream_key) {
  auto& d = *impl_;
  if (!ready() || stream_key.empty() || stream_key.size() > 64)
    return std::nullopt;
  std::string storage_id;
  auto a = d.channels->find_by_stream_key(stream_key, live::source_type::rtmp, storage_id);
  if (!a) {
    d.metrics.auth_failure("bad_stream_key");
    return std::nullopt;
  }
  caf::anon_send(a, run_atom_v);
  return auth::rtmp_stream_name(d.rtmp_name_key, storage_id, auth::sha256_hex(stream_key));
}

void service::add_marker(std::string id, admin_credential who, live::marker m,
                         completion<live::marker> done) {
  if (!impl_->accepting(done))
    return;
  if (auto a = channel_or_404(*impl_, id, done))
    caf::anon_send(a, marker_add_atom_v, std::move(who), std::move(m), std::move(done));
}

void service::list_markers(std::string id, std::string token, int64_t since_ms,
                           completion<std::vector<live::marker>> done) {
  auto& d = *impl_;
  if (!d.accepting(done))
    return;
  auth::token_claims claims;
  if (!d.verify_token(id, token, claims, done))
    return;
  if (auto a = channel_or_404(d, id, done))
    caf::anon_send(a, marker_list_atom_v, std::move(claims), since_ms, std::move(done));
}

void service::delete_marker(std::string id, admin_credential who, std::string marker_id,
                            completion<actors::done> done) {
  if (!impl_->accepting(done))
    return;
  if (auto a = channel_or_404(*impl_, id, done))
    caf::anon_send(a, marker_del_atom_v, std::move(who), std::move(marker_id), std::move(done));
}

} // namespace hlsgate::actors
