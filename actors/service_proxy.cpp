// The stream proxy's half of the service facade: registrations are made
// here (ids, the first viewer token), viewer credentials and sealed
// references are checked here (no actor for a refused request), and every
// other call is routed to the stream's actor through the directory.
#include <chrono>

#include "actors/live_channel.hpp"
#include "actors/service_impl.hpp"
#include "auth/crypto.hpp"
#include "metrics/log.hpp"
#include "net/address_policy.hpp"
#include "net/url.hpp"

namespace hlsgate::actors {

namespace {

template <class T>
proxy_actor stream_or_404(service::impl& d, const std::string& id, completion<T>& done,
                          proxy_config* config = nullptr) {
  auto a = d.proxies->find(id, config);
  if (!a)
    done(api_error{api_errc::not_found, "Stream not found"});
  return a;
}

/// A literal upstream address is judged at registration; a name each time
/// it is resolved.
std::string address_refusal(const std::string& text, bool allow_private) {
  std::string why;
  auto u = net::parse_url(text, why);
  if (!u)
    return why;
  boost::system::error_code ec;
  if (u->host_is_ip && !net::allowed(boost::asio::ip::make_address(u->host, ec), allow_private))
    return "the upstream address is not allowed (private, loopback or link-local)";
  return {};
}

/// The viewer may open stream `c`'s own playlist or continuous stream.
template <class T>
bool may_view(service::impl& d, const proxy_config& c, const proxy_viewer& v, completion<T>& done) {
  if (c.is_public)
    return true;
  auth::token_claims claims;
  if (!d.verify_token(c.id, v.token, claims, done))
    return false;
  if (claims.gen != c.token_gen) {
    d.metrics.auth_failure("revoked");
    done(api_error{api_errc::forbidden, "Token revoked"});
    return false;
  }
  return true;
}

} // namespace

media::status start_proxy(service::impl& d) {
  auto opened = proxy_store::open(d.dir->database());
  if (!opened)
    return opened.err();
  auto env = std::make_shared<proxy_env>();
  env->allow_private = d.cfg.allow_private_upstreams;
  env->primary_retry_ms = int64_t{d.cfg.proxy_primary_retry_s} * 1000;
  env->store = std::shared_ptr<proxy_store>(std::move(opened).value());
  env->refs = std::make_shared<const proxy::reference_codec>(d.proxy_key);
  env->client_key = d.proxy_key;
  env->directory = d.proxies;
  env->events = d.webhooks;
  env->metrics = &d.metrics;
  env->now_ms = service_now_ms;
  d.proxy = env;
  auto streams = env->store->load();
  if (!streams)
    return streams.err();
  for (auto& c : *streams) {
    proxy_params p;
    p.env = env;
    p.config = std::move(c);
    spawn_proxy_stream(*d.sys, std::move(p));
  }
  logging::info("proxied streams restored", {{"streams", std::to_string(streams->size())}});
  return media::ok_status();
}

void stop_proxy(service::impl& d) {
  for (auto& a : d.proxies->clear())
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  // The environment holds the webhooks actor: a detached actor's thread
  // waits until the last handle to it is gone, and the system for its thread.
  d.proxy.reset();
}

void service::create_stream(proxy_config c, completion<proxy_created> done) {
  auto& d = *impl_;
  if (!d.accepting(done, true))
    return;
  for (const auto& u : c.all_urls())
    if (auto why = address_refusal(u, d.cfg.allow_private_upstreams); !why.empty())
      return done(api_error{api_errc::bad_parameter, why});
  if (!c.failover_resolver_url.empty())
    if (auto why = address_refusal(c.failover_resolver_url, d.cfg.allow_private_upstreams);
        !why.empty())
      return done(api_error{api_errc::bad_parameter, why});
  const int64_t now = service_now();
  // One registration at a time, so two creates of the same URL cannot both
  // make a stream; the lock covers a lookup and a spawn, never the store.
  std::lock_guard lk(d.proxy_create_mu);
  proxy_config found;
  if (d.proxies->find_same(c, found)) {
    if (found.id.empty()) // cannot happen: every entry has its id
      return done(api_error{api_errc::internal, "Cannot register the stream"});
    proxy_created r;
    r.existed = true;
    if (!found.is_public)
      r.access_token = mint_channel_token(*d.jwt, found.id, found.token_gen, now);
    r.config = std::move(found);
    return done(std::move(r));
  }
  if (d.proxies->size() >= proxy_rules::max_streams)
    return done(api_error{api_errc::limit_exceeded, "Too many streams"});
  c.id = auth::random_id();
  c.created_at = now;
  c.token_gen = 1;
  proxy_params p;
  p.env = d.proxy;
  p.fresh = true;
  p.created.config = c;
  if (!c.is_public) {
    p.created.access_token = mint_channel_token(*d.jwt, c.id, c.token_gen, now);
    d.metrics.token_issued();
  }
  p.config = std::move(c);
  p.creator = std::move(done);
  // The actor stores the record before it answers; a placeholder holds its
  // place meanwhile, so a second create of the same URL finds it.
  d.proxies->put(p.config.id, {},
                 proxy_stream_info{p.config, p.config.url, 0, 0, 0, 0, 0, 0, 0, 0, false, {}});
  spawn_proxy_stream(*d.sys, std::move(p));
}

std::vector<proxy_stream_info> service::list_streams() const {
  return impl_->proxies->list();
}

void service::stream_state(std::string id, completion<proxy_stream_info> done) {
  if (auto a = stream_or_404(*impl_, id, done))
    caf::anon_send(a, info_atom_v, std::move(done));
}

void service::delete_stream(std::string id, completion<actors::done> done) {
  if (auto a = stream_or_404(*impl_, id, done))
    caf::anon_send(a, delete_atom_v, std::move(done));
}

void service::delete_streams_where(std::string field, std::string value, std::string exclude_id,
                                   completion<std::vector<std::string>> done) {
  struct fan_in {
    std::mutex mu;
    std::vector<std::string> deleted;
    size_t left = 0;
    completion<std::vector<std::string>> done;
  };
  auto f = std::make_shared<fan_in>();
  f->done = std::move(done);
  std::vector<std::pair<std::string, proxy_actor>> targets;
  for (const auto& i : impl_->proxies->list()) {
    if (!metadata_matches(i.config, field, value))
      continue;
    if (!exclude_id.empty() && metadata_matches(i.config, "id", exclude_id))
      continue;
    if (auto a = impl_->proxies->find(i.config.id))
      targets.emplace_back(i.config.id, a);
  }
  if (targets.empty())
    return f->done(std::vector<std::string>{});
  f->left = targets.size();
  for (auto& [id, a] : targets)
    caf::anon_send(a, delete_atom_v, completion<actors::done>{[f, id = id](reply<actors::done> r) {
                     std::lock_guard lk(f->mu);
                     if (std::holds_alternative<actors::done>(r))
                       f->deleted.push_back(id);
                     if (--f->left == 0)
                       f->done(std::move(f->deleted));
                   }});
}

void service::failover_stream(std::string id, completion<proxy_stream_info> done) {
  if (auto a = stream_or_404(*impl_, id, done))
    caf::anon_send(a, failover_atom_v, std::string{"manual"}, std::move(done));
}

void service::rotate_stream_token(std::string id, completion<proxy_created> done) {
  auto& d = *impl_;
  if (auto a = stream_or_404(d, id, done))
    caf::anon_send(a, refresh_atom_v,
                   completion<proxy_stream_info>{
                       [jwt = d.jwt, m = &d.metrics, done](reply<proxy_stream_info> r) mutable {
                         if (auto* e = std::get_if<api_error>(&r))
                           return done(std::move(*e));
                         proxy_created out;
                         out.config = std::get<proxy_stream_info>(r).config;
                         out.access_token = mint_channel_token(*jwt, out.config.id,
                                                               out.config.token_gen, service_now());
                         m->token_issued();
                         done(std::move(out));
                       }});
}

void service::disconnect_client(std::string id, std::string client_id,
                                completion<actors::done> done) {
  if (auto a = stream_or_404(*impl_, id, done))
    caf::anon_send(a, client_del_atom_v, std::move(client_id), std::move(done));
}

void service::proxy_playlist(std::string id, proxy_viewer v, std::string ref,
                             completion<proxy_body> done) {
  auto& d = *impl_;
  proxy_config c;
  auto a = stream_or_404(d, id, done, &c);
  if (!a)
    return;
  if (c.direct)
    return done(api_error{api_errc::not_found, "A continuous stream has no playlist"});
  int32_t variant = -1;
  std::string client;
  if (!ref.empty()) {
    proxy::ref_payload p;
    if (!d.proxy->refs->open(id, ref, service_now(), p) || p.kind != proxy::ref_kind::playlist ||
        p.url.empty() || p.url.size() > 3) {
      d.metrics.auth_failure("bad_url_signature");
      return done(api_error{api_errc::forbidden, "Invalid or expired reference"});
    }
    for (char ch : p.url)
      variant = (variant < 0 ? 0 : variant * 10) + (ch >= '0' && ch <= '9' ? ch - '0' : 0);
    client = std::move(p.client);
  } else if (!may_view(d, c, v, done)) {
    return;
  }
  caf::anon_send(a, playlist_atom_v, std::move(v), variant, std::move(client), std::move(done));
}

void service::proxy_segment(std::string id, proxy_viewer v, std::string ref,
                            completion<proxy_body> done) {
  auto& d = *impl_;
  auto a = stream_or_404(d, id, done);
  if (!a)
    return;
  proxy::ref_payload p;
  if (!d.proxy->refs->open(id, ref, service_now(), p) || p.kind == proxy::ref_kind::playlist) {
    d.metrics.auth_failure("bad_url_signature");
    return done(api_error{api_errc::forbidden, "Invalid or expired reference"});
  }
  caf::anon_send(a, segment_atom_v, std::move(v), std::move(p), std::move(done));
}

void service::proxy_direct(std::string id, proxy_viewer v, completion<proxy_body> done) {
  auto& d = *impl_;
  proxy_config c;
  auto a = stream_or_404(d, id, done, &c);
  if (!a || !may_view(d, c, v, done))
    return;
  caf::anon_send(a, run_atom_v, std::move(v), std::move(done));
}

} // namespace hlsgate::actors
