#include "actors/proxy_state.hpp"

#include "auth/crypto.hpp"
#include "metrics/log.hpp"

namespace hlsgate::actors {

namespace proxy_detail {

/// The client `id` seen now; null when it is new and the stream has
/// max_clients already.
client_state* touch_client(proxy_ptr self, const std::string& id, const proxy_viewer& v,
                           bool direct) {
  auto& st = self->state;
  const int64_t now = now_ms(self);
  if (st.clients.size() >= max_clients && st.clients.count(id) == 0)
    return nullptr;
  auto [it, fresh] = st.clients.try_emplace(id);
  auto& c = it->second;
  c.last_ms = now;
  c.info.last_seen = now / 1000;
  if (fresh) {
    c.info.client_id = id;
    c.info.stream_id = st.config.id;
    c.info.user_agent = v.user_agent;
    c.info.address = v.address;
    c.info.connected_at = now / 1000;
    c.info.direct = direct;
    if (st.clients.size() == 1)
      emit(self, "stream_started", {{"primary_url_index", st.index}});
    emit(self, "client_connected",
         {{"client_id", id}, {"user_agent", v.user_agent}, {"ip_address", v.address}});
    if (auto* m = st.env->metrics)
      m->proxy_viewers(+1);
  }
  st.counters.last_access = static_cast<uint64_t>(now / 1000);
  return &c;
}

void drop_client(proxy_ptr self, const std::string& id, const char* reason) {
  auto& st = self->state;
  auto it = st.clients.find(id);
  if (it == st.clients.end())
    return;
  emit(self, "client_disconnected",
       {{"client_id", id}, {"reason", reason}, {"bytes_served", it->second.info.bytes_served}});
  st.clients.erase(it);
  if (auto* m = st.env->metrics)
    m->proxy_viewers(-1);
  if (st.clients.empty())
    emit(self, "stream_stopped", {{"reason", reason}});
}

proxy_stream_info make_info(proxy_ptr self) {
  auto& st = self->state;
  proxy_stream_info i = st.counters;
  i.config = st.config;
  i.current_index = st.index;
  i.current_url = st.urls[st.index];
  i.upstream_active =
      st.live != nullptr || std::any_of(st.cache.begin(), st.cache.end(),
                                        [](const auto& e) { return !e.second.fetch->finished(); });
  for (const auto& [id, c] : st.clients)
    i.clients.push_back(c.info);
  return i;
}

void publish(proxy_ptr self) {
  self->state.env->directory->update(make_info(self));
}

void start_live_pump(proxy_ptr self, bool first) {
  auto& st = self->state;
  if (st.live_stop)
    st.live_stop->store(true); // the pump before this one, if it still runs
  st.live_stop = std::make_shared<std::atomic<bool>>(false);
  st.pump_start_bytes = st.live->bytes();
  st.rate.reset();
  ++st.pump_gen;
  start_pump(self, st.live, st.urls[st.index], true, first, {});
}

} // namespace proxy_detail

namespace {

using namespace proxy_detail;
using json = nlohmann::json;

/// Ends the continuous stream's ring: its pump stops (also one blocked in a
/// read), its viewers' bodies end, and the next viewer starts a new one.
void end_live(proxy_state& st, const std::string& why) {
  if (!st.live)
    return;
  st.live->cancel->store(true);
  if (st.live_stop)
    st.live_stop->store(true);
  st.live->finish(false, why);
  st.live.reset();
  st.restamp.reset();
}

void stop_everything(proxy_ptr self) {
  auto& st = self->state;
  for (auto& [url, e] : st.cache) {
    e.fetch->cancel->store(true);
    e.fetch->finish(false, "stream deleted");
  }
  st.cache.clear();
  st.cancel_side_fetches();
  end_live(st, "stream deleted");
}

/// An HLS upstream's bitrate: a segment's size over the target duration of
/// the media playlist last served; three of the current upstream's in a
/// row below min_bitrate_kbps fail over.
void check_segment_bitrate(proxy_ptr self, const cache_entry& e) {
  auto& st = self->state;
  if (st.config.min_bitrate_kbps == 0 || st.target_duration <= 0 || e.gen != st.gen || !e.counts)
    return;
  const double kbps = static_cast<double>(e.fetch->bytes()) * 8 / (st.target_duration * 1000);
  if (kbps >= st.config.min_bitrate_kbps) {
    st.low_segments = 0;
    return;
  }
  if (++st.low_segments < 3)
    return;
  logging::warn(
      "proxied stream's bitrate is low",
      {{"stream_id", st.config.id}, {"kbps", std::to_string(static_cast<int64_t>(kbps))}});
  st.low_segments = 0;
  switch_upstream(self, "low_bitrate");
}

/// The tick's upstream checks: a continuous upstream's bitrate, and the
/// primary again after a cool-down on a failover URL (only with viewers:
/// no upstream connection without them).
void check_upstream(proxy_ptr self, int64_t now) {
  auto& st = self->state;
  const uint64_t in = st.bytes_in->load();
  if (auto* m = st.env->metrics; m && in > st.bytes_in_reported)
    m->proxy_bytes_in(in - st.bytes_in_reported);
  st.bytes_in_reported = in;
  if (st.live && st.config.min_bitrate_kbps > 0 && st.live->has_head()) {
    st.rate.sample(now, st.live->bytes());
    const int64_t kbps = st.rate.kbps(proxy_rules::bitrate_window_ms);
    if (kbps >= 0 && kbps < st.config.min_bitrate_kbps) {
      logging::warn("proxied stream's bitrate is low",
                    {{"stream_id", st.config.id}, {"kbps", std::to_string(kbps)}});
      st.rate.reset();
      if (switch_upstream(self, "low_bitrate"))
        start_live_pump(self, false);
    }
  }
  const int64_t wait = st.env->primary_retry_ms;
  if (st.index != 0 && !st.clients.empty() && now - st.last_switch_ms >= wait &&
      now - st.last_primary_try_ms >= wait)
    probe_primary(self);
}

void on_tick(proxy_ptr self) {
  auto& st = self->state;
  const int64_t now = now_ms(self);
  std::vector<std::string> idle;
  for (const auto& [id, c] : st.clients)
    if (!c.info.direct && now - c.last_ms > proxy_timing::client_idle_ms)
      idle.push_back(id);
  for (const auto& id : idle)
    drop_client(self, id, "idle");
  size_t kept = 0;
  for (auto it = st.cache.begin(); it != st.cache.end();) {
    auto& e = it->second;
    const bool running = !e.fetch->finished();
    if (running && e.fetch->readers() == 0 && !e.playlist && now - e.started_ms > 5000) {
      e.fetch->cancel->store(true); // nobody reads it any more
      it = st.cache.erase(it);
      continue;
    }
    if (!running && now - e.started_ms >= e.ttl_ms) {
      it = st.cache.erase(it);
      continue;
    }
    kept += e.fetch->bytes();
    ++it;
  }
  while (kept > proxy_timing::cache_bytes) { // the oldest finished bodies go first
    auto oldest = st.cache.end();
    for (auto it = st.cache.begin(); it != st.cache.end(); ++it)
      if (it->second.fetch->finished() &&
          (oldest == st.cache.end() || it->second.started_ms < oldest->second.started_ms))
        oldest = it;
    if (oldest == st.cache.end())
      break;
    kept -= std::min<size_t>(kept, oldest->second.fetch->bytes());
    st.cache.erase(oldest);
  }
  check_upstream(self, now);
  publish(self);
  self->delayed_send(self, std::chrono::milliseconds(proxy_timing::tick_ms), tick_atom_v);
}

proxy_actor::behavior_type proxy_behavior(proxy_ptr self, proxy_params p) {
  auto& st = self->state;
  st.env = p.env;
  st.config = std::move(p.config);
  st.urls = st.config.all_urls();
  st.listed = st.urls.size();
  if (p.fresh) {
    if (auto s = st.env->store->put(st.config); !s) {
      logging::error("cannot store a proxied stream", {{"detail", s.err().detail}});
      st.env->directory->erase(st.config.id);
      p.creator(api_error{api_errc::internal, "Cannot store the stream"});
      st.gone = true;
      self->quit();
    }
  }
  if (!st.gone) {
    st.env->directory->put(st.config.id, self, make_info(self));
    if (p.fresh)
      p.creator(std::move(p.created));
    self->send(self, tick_atom_v);
  }
  return {
      [self](playlist_atom, const proxy_viewer& v, int32_t variant, const std::string& client,
             completion<proxy_body>& done) {
        auto& st = self->state;
        std::string id = client.empty() ? derive_client_id(st.env->client_key, st.config.id,
                                                           v.address, v.user_agent)
                                        : client;
        if (!touch_client(self, id, v, false))
          return done(api_error{api_errc::try_later, "Too many viewers of this stream"});
        serve_playlist(self, variant, std::move(id), std::move(done), 0);
      },
      [self](segment_atom, const proxy_viewer& v, const proxy::ref_payload& ref,
             completion<proxy_body>& done) {
        auto* c = touch_client(self, ref.client, v, false);
        if (!c)
          return done(api_error{api_errc::try_later, "Too many viewers of this stream"});
        if (ref.kind == proxy::ref_kind::segment)
          ++c->info.segments_served;
        if (ref.kind == proxy::ref_kind::segment)
          ++self->state.counters.segments_served;
        serve_segment(self, ref, std::move(done));
      },
      [self](run_atom, const proxy_viewer& v, completion<proxy_body>& done) {
        auto& st = self->state;
        if (!st.config.direct)
          return done(api_error{api_errc::not_found, "Not a continuous stream"});
        if (!st.live) {
          shared_fetch::options o;
          o.ring_bytes = proxy_timing::ring_bytes;
          st.live = std::make_shared<shared_fetch>(o);
          st.restamp = std::make_shared<media::ts_restamper>(
              [ring = std::weak_ptr<shared_fetch>(st.live)](std::string bytes) {
                if (auto f = ring.lock())
                  f->append(std::move(bytes));
              });
          st.pump_failures = 0;
          start_live_pump(self, true);
        }
        const std::string id = auth::random_id();
        if (!touch_client(self, id, v, true))
          return done(api_error{api_errc::try_later, "Too many viewers of this stream"});
        proxy_actor me = self;
        auto reader = st.live->reader(
            [me, id](uint64_t bytes) { caf::anon_send(me, left_atom_v, id, bytes, true); });
        st.direct_readers[id] = reader;
        st.live->on_head([done, reader](const fetch_head& h) mutable {
          if (!h.ok) {
            reader->close();
            return done(api_error{api_errc::bad_gateway, "The upstream is not available"});
          }
          proxy_body b;
          b.content_type = safe_type(h.content_type, "video/mp2t");
          b.stream = std::move(reader);
          done(std::move(b));
        });
      },
      [self](info_atom, completion<proxy_stream_info>& done) { done(make_info(self)); },
      [self](delete_atom, completion<done>& d) {
        auto& st = self->state;
        if (auto s = st.env->store->remove(st.config.id); !s) {
          logging::error("cannot delete a proxied stream", {{"detail", s.err().detail}});
          return d(api_error{api_errc::internal, "Cannot delete the stream"});
        }
        stop_everything(self);
        std::vector<std::string> ids;
        for (const auto& [id, c] : st.clients)
          ids.push_back(id);
        for (const auto& id : ids)
          drop_client(self, id, "stream_deleted");
        st.env->directory->erase(st.config.id);
        st.gone = true;
        d(done{});
        self->quit();
      },
      [self](failover_atom, const std::string& reason, completion<proxy_stream_info>& done) {
        auto& st = self->state;
        if (!switch_upstream(self, reason, false)) {
          if (st.resolving) // the switch follows the resolver's answer
            return done(make_info(self));
          return done(api_error{api_errc::bad_parameter, "The stream has no failover URL"});
        }
        if (st.live) {
          st.pump_failures = 0;
          start_live_pump(
              self, !st.live->has_head()); // the running pump stops; this one reads the new URL
        }
        done(make_info(self));
      },
      [self](refresh_atom, completion<proxy_stream_info>& done) {
        auto& st = self->state;
        if (st.config.is_public)
          return done(api_error{api_errc::bad_parameter, "A public stream has no viewer token"});
        // Durable before it counts: every token of the old generation is refused after.
        auto next = st.config;
        ++next.token_gen;
        if (auto s = st.env->store->put(next); !s) {
          logging::error("cannot store a proxied stream", {{"detail", s.err().detail}});
          return done(api_error{api_errc::internal, "Cannot store the stream"});
        }
        st.config = std::move(next);
        publish(self);
        done(make_info(self));
      },
      [self](client_del_atom, const std::string& client, completion<done>& d) {
        auto& st = self->state;
        if (st.clients.count(client) == 0)
          return d(api_error{api_errc::not_found, "Client not found"});
        if (auto it = st.direct_readers.find(client); it != st.direct_readers.end()) {
          if (auto r = it->second.lock())
            r->close(); // its connection ends
          st.direct_readers.erase(it);
        }
        drop_client(self, client, "disconnected_by_operator");
        d(done{});
      },
      [self](fetched_atom, const std::string& key) {
        auto& st = self->state;
        auto it = st.waiting.find(key);
        if (it != st.waiting.end()) {
          // Only those waiting for a fetch that ended: a later fetch of the
          // same URL may have started since, and its own message comes.
          std::vector<std::function<void()>> run;
          auto& w = it->second;
          for (auto i = w.begin(); i != w.end();) {
            if (i->first->finished()) {
              run.push_back(std::move(i->second));
              i = w.erase(i);
            } else {
              ++i;
            }
          }
          if (w.empty())
            st.waiting.erase(it);
          for (auto& f : run)
            f();
        }
        auto c = st.cache.find(key);
        // A later fetch of the same URL may have replaced the one that ended.
        if (c == st.cache.end() || c->second.playlist || !c->second.fetch->finished())
          return;
        if (c->second.fetch->succeeded()) {
          st.segment_failures = 0;
          if (auto* m = st.env->metrics)
            m->proxy_upstream("ok");
          check_segment_bitrate(self, c->second);
          return;
        }
        ++st.counters.upstream_errors;
        if (auto* m = st.env->metrics)
          m->proxy_upstream("error");
        // Kept failure_ttl_ms (replays share it). Only the current upstream's
        // failures count towards a switch.
        if (c->second.gen == st.gen && c->second.counts && ++st.segment_failures >= 2) {
          st.segment_failures = 0;
          switch_upstream(self, "segment_error");
        }
      },
      [self](pump_atom, uint64_t pgen, const std::string& why) {
        auto& st = self->state;
        if (pgen != st.pump_gen || !st.live)
          return;
        if (st.live->readers() == 0 || st.gone)
          return end_live(st, why);
        ++st.counters.upstream_errors;
        if (auto* m = st.env->metrics)
          m->proxy_upstream("error");
        if (st.live->bytes() > st.pump_start_bytes)
          st.pump_failures = 0; // it ran a while: a new run of failures starts
        if (++st.pump_failures > 2 * st.urls.size()) {
          logging::warn("proxied stream gave up", {{"stream_id", st.config.id}, {"reason", why}});
          return end_live(st, why);
        }
        if (!switch_upstream(self, "stream_error"))
          logging::info("proxied stream reconnects", {{"stream_id", st.config.id}});
        start_live_pump(self, !st.live->has_head());
      },
      [self](left_atom, const std::string& client, uint64_t bytes, bool direct) {
        auto& st = self->state;
        st.counters.bytes_served += bytes;
        if (auto* m = st.env->metrics)
          m->proxy_bytes_out(bytes);
        auto it = st.clients.find(client);
        if (it != st.clients.end())
          it->second.info.bytes_served += bytes;
        if (direct) {
          st.direct_readers.erase(client);
          drop_client(self, client, "connection_closed");
          if (st.live && st.live->readers() == 0)
            end_live(st, "no viewer");
        }
      },
      [self](tick_atom) {
        if (!self->state.gone)
          on_tick(self);
      },
  };
}

} // namespace

proxy_actor spawn_proxy_stream(caf::actor_system& sys, proxy_params p) {
  return sys.spawn(proxy_behavior, std::move(p));
}

} // namespace hlsgate::actors
