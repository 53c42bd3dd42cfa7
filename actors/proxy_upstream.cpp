// The proxy stream actor's upstream side: the shared fetches and their
// cache, failover, and rewriting playlists for a viewer (proxy_state.hpp).
#include "actors/proxy_state.hpp"

#include "auth/crypto.hpp"
#include "metrics/log.hpp"
#include "proxy/rewrite.hpp"

namespace hlsgate::actors::proxy_detail {

using json = nlohmann::json;

int64_t now_ms(proxy_ptr self) {
  return self->state.env->now_ms();
}

void emit(proxy_ptr self, const char* type, json data) {
  auto& st = self->state;
  if (st.env->events)
    self->send(st.env->events, event_atom_v,
               webhook_event{type, "stream_id", st.config.id, data.dump()});
}

net::get_request upstream_request(const proxy_state& st, const std::string& url) {
  net::get_request req;
  std::string why;
  if (auto u = net::parse_url(url, why))
    req.target = *u;
  // The operator's headers (credentials, often) go only to the origins it
  // registered, not to hosts an upstream playlist names.
  const bool registered_origin =
      std::any_of(st.urls.begin(), st.urls.begin() + static_cast<std::ptrdiff_t>(st.listed),
                  [&](const std::string& r) {
                    std::string w;
                    auto ru = net::parse_url(r, w);
                    return ru && ru->host == req.target.host && ru->port == req.target.port &&
                           ru->tls == req.target.tls;
                  });
  if (registered_origin)
    req.headers = st.config.headers;
  req.headers.emplace_back("User-Agent", st.config.user_agent);
  req.allow_private = st.env->allow_private;
  req.open_timeout = std::chrono::milliseconds(10000);
  req.idle_timeout = std::chrono::milliseconds(st.config.direct ? 8000 : 10000);
  return req;
}

/// A content type safe to pass on: the upstream's when it is a plain
/// media type, else `fallback`.
std::string safe_type(const std::string& t, const char* fallback) {
  if (t.empty() || t.size() > 100)
    return fallback;
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '.' ||
          c == '+' || c == ';' || c == '=' || c == ' '))
      return fallback;
  return t;
}

namespace {

/// A pump's thread (a blocking actor): reads the upstream, then tells the
/// stream actor it ended.
void pump_thread(caf::blocking_actor*, std::shared_ptr<shared_fetch> f, net::get_request req,
                 bool continuous, bool first, std::string key, proxy_actor me, uint64_t pgen,
                 std::shared_ptr<media::ts_restamper> restamp,
                 std::shared_ptr<std::atomic<uint64_t>> bytes_in) {
  auto why = pump(*f, std::move(req), continuous, first, restamp.get(), bytes_in.get());
  if (continuous) {
    caf::anon_send(me, pump_atom_v, pgen, why);
    return;
  }
  f->finish(why.empty(), why);
  caf::anon_send(me, fetched_atom_v, key);
}

} // namespace

/// Starts a pump on a thread of its own. A kept body finishes itself; a
/// continuous one reports its end to the actor (failover).
void start_pump(proxy_ptr self, const std::shared_ptr<shared_fetch>& f, const std::string& url,
                bool continuous, bool first, const std::string& key,
                const proxy::byte_range& range) {
  auto& st = self->state;
  ++st.counters.upstream_requests;
  auto req = upstream_request(st, url);
  req.range_first = range.first;
  req.range_last = range.last;
  if (continuous)
    req.cancel = st.live_stop;
  if (req.target.host.empty()) {
    // Reported like any other end, so whoever waits for it is answered.
    if (continuous)
      return self->send(self, pump_atom_v, st.pump_gen, std::string{"bad upstream URL"});
    f->finish(false, "bad upstream URL");
    return self->send(self, fetched_atom_v, key);
  }
  // The pump's state goes in as spawn arguments, not lambda captures: CAF
  // 0.17 binds a function actor without arguments to a null tuple (UBSan).
  self->system().spawn(pump_thread, f, std::move(req), continuous, first, key, proxy_actor{self},
                       st.pump_gen, continuous ? st.restamp : nullptr, st.bytes_in);
}

namespace {

/// Moves to urls[to] (a new upstream generation): an event and a metric.
void switch_to(proxy_ptr self, size_t to, const std::string& reason) {
  auto& st = self->state;
  st.last_switch_ms = now_ms(self);
  const size_t from = st.index;
  st.index = to;
  ++st.gen;
  ++st.counters.failovers;
  st.segment_failures = 0;
  st.low_segments = 0;
  st.variants.clear();
  for (auto it = st.cache.begin(); it != st.cache.end();)
    it = it->second.playlist && it->second.fetch->finished() ? st.cache.erase(it) : std::next(it);
  if (auto* m = st.env->metrics)
    m->proxy_failover();
  logging::warn(
      "proxied stream failed over",
      {{"stream_id", st.config.id}, {"reason", reason}, {"to_index", std::to_string(st.index)}});
  emit(self, "failover_triggered",
       {{"reason", reason},
        {"from_index", from},
        {"to_index", st.index},
        {"failover_count", st.counters.failovers}});
  publish(self);
}

/// Fetches `url` outside the cache (the resolver's answer, a probe of the
/// primary) and calls `then` once it has ended.
void side_fetch(proxy_ptr self, const std::string& url, size_t max_bytes, const std::string& key,
                std::function<void(std::shared_ptr<shared_fetch>)> then) {
  shared_fetch::options o;
  o.max_bytes = max_bytes;
  auto f = std::make_shared<shared_fetch>(o);
  self->state.waiting[key].emplace_back(f, [f, then = std::move(then)] { then(f); });
  start_pump(self, f, url, false, true, key);
}

/// Asks the stream's failover resolver for a URL, and moves to it.
void ask_resolver(proxy_ptr self, const std::string& reason) {
  auto& st = self->state;
  if (st.resolving)
    return;
  st.resolving = true;
  const auto url = resolver_request_url(st.config, st.urls[st.index], st.index, reason);
  side_fetch(self, url, proxy_rules::max_resolver_answer, "\x01resolver",
             [self, reason, gen = st.gen](std::shared_ptr<shared_fetch> f) {
               auto& st = self->state;
               st.resolving = false;
               if (st.gone || st.gen != gen) // moved meanwhile (the primary back, an operator)
                 return;
               std::string next, why;
               if (f->succeeded())
                 why = parse_resolver_answer(*f->shared_body(), next);
               else
                 why = "the resolver is not available";
               if (why.empty() && next == st.urls[st.index])
                 why = "the resolver answered the current URL";
               if (!why.empty()) {
                 logging::warn("failover resolver gave no URL",
                               {{"stream_id", st.config.id}, {"reason", why}});
                 if (st.index == 0)
                   return;
                 switch_to(self, 0, reason); // the listed URLs again, from the primary
               } else {
                 if (st.urls.size() == st.listed)
                   st.urls.push_back(next);
                 else
                   st.urls[st.listed] = next;
                 switch_to(self, st.listed, reason + "_resolved");
               }
               if (st.live)
                 start_live_pump(self, !st.live->has_head());
             });
}

/// Runs `then` once the failover resolver has answered (and the stream
/// has moved to its URL, or not).
void after_resolver(proxy_ptr self, std::function<void()> then) {
  auto& w = self->state.waiting["\x01resolver"];
  if (w.empty()) // not asking after all
    return then();
  w.emplace_back(w.front().first, std::move(then));
}

} // namespace

/// Moves to the next upstream URL. False when there is none to move to now.
bool switch_upstream(proxy_ptr self, const std::string& reason, bool automatic) {
  auto& st = self->state;
  const int64_t now = now_ms(self);
  if (automatic && st.last_switch_ms != 0 && now - st.last_switch_ms < min_switch_interval_ms)
    return false;
  const bool resolver = !st.config.failover_resolver_url.empty();
  // Every listed URL tried (the next would be the primary again): the
  // resolver, when there is one, names the next.
  const size_t next = st.index + 1 < st.listed ? st.index + 1 : 0;
  if (resolver && next == 0) {
    st.last_switch_ms = now; // one question per interval
    ask_resolver(self, reason);
    return false;
  }
  if (st.listed < 2 && st.index == 0)
    return false;
  switch_to(self, next, reason);
  return true;
}

namespace {

/// A live media playlist that has not grown this long is stalled: three
/// target durations, at least 4 s.
int64_t stall_ms(const proxy::playlist_facts& f) {
  return std::max<int64_t>(4000, static_cast<int64_t>(f.target_duration * 3000));
}

/// Where each upstream media playlist was last seen (its next sequence
/// number), so a probe of the primary can tell a live one from a stale one.
void remember_progress(proxy_state& st, const std::string& url, int64_t next) {
  if (st.progress.size() >= 64 && st.progress.count(url) == 0)
    st.progress.clear();
  st.progress[url] = next;
}

/// What a probe of the primary found in a fetched playlist: "" (not usable),
/// "live" (a media playlist that is VOD, or has grown since hlsgate last
/// saw it), or the URL of a master playlist's first variant (probed next).
std::string probe_verdict(proxy_state& st, const shared_fetch& f) {
  std::string why;
  auto base = net::parse_url(f.head().final_url, why);
  if (!f.succeeded() || !base)
    return {};
  std::string first_variant;
  auto r = proxy::rewrite_playlist(
      *f.shared_body(), *base, [&](const net::url& u, proxy::ref_kind k, const proxy::byte_range&) {
        if (k == proxy::ref_kind::playlist && first_variant.empty())
          first_variant = u.text();
        return std::string{"x"};
      });
  if (!r.error.empty())
    return {};
  if (r.facts.master)
    return first_variant;
  if (r.facts.endlist)
    return "live";
  // Live only when it has moved since last seen; one never seen is seen now
  // and judged at the next probe (a stalled primary is not taken back).
  const int64_t next = r.facts.media_sequence + static_cast<int64_t>(r.facts.segments);
  auto seen = st.progress.find(f.head().final_url);
  if (seen == st.progress.end()) {
    remember_progress(st, f.head().final_url, next);
    return {};
  }
  return seen->second != next ? "live" : "";
}

/// Moves back to the primary after a probe found it answering.
void restore_primary(proxy_ptr self) {
  auto& st = self->state;
  st.probing_primary = false;
  if (st.gone || st.index == 0)
    return;
  switch_to(self, 0, "primary_restored");
  if (st.live)
    start_live_pump(self, !st.live->has_head());
}

void probe_playlist(proxy_ptr self, const std::string& url, bool master_allowed) {
  side_fetch(self, url, 1u << 20, "\x01primary", [self, master_allowed](auto f) {
    auto& st = self->state;
    const auto verdict = probe_verdict(st, *f);
    if (verdict == "live")
      return restore_primary(self);
    if (!verdict.empty() && master_allowed && !st.gone)
      return probe_playlist(self, verdict, false);
    st.probing_primary = false;
  });
}

} // namespace

void probe_primary(proxy_ptr self) {
  auto& st = self->state;
  if (st.probing_primary || st.index == 0)
    return;
  st.probing_primary = true;
  st.last_primary_try_ms = now_ms(self);
  if (!st.config.direct)
    return probe_playlist(self, st.urls[0], true);
  // A continuous primary: its bytes flow (the probe reads 64 KiB of them).
  side_fetch(self, st.urls[0], 64u << 10, "\x01primary", [self](auto f) {
    if (f->has_head() && f->head().ok && f->bytes() > 0)
      return restore_primary(self);
    self->state.probing_primary = false;
  });
}

namespace {

/// The fetch of `url` (a playlist or segment), shared with every request
/// for it while it runs and, once finished well, until its time is up.
/// Null when too many fetches of this stream run already.
std::shared_ptr<shared_fetch> fetch(proxy_ptr self, const std::string& url, bool playlist,
                                    const proxy::byte_range& range = {}, bool counts = true) {
  auto& st = self->state;
  const int64_t now = now_ms(self);
  // A byte range is a resource of its own (a URL holds no line break).
  const std::string key =
      range.whole() ? url
                    : url + "\n" + std::to_string(range.first) + "-" + std::to_string(range.last);
  auto it = st.cache.find(key);
  if (it != st.cache.end()) {
    auto& e = it->second;
    const bool fresh = !e.fetch->finished() ||
                       now - e.started_ms < (e.fetch->succeeded() ? e.ttl_ms : failure_ttl_ms);
    if (fresh) {
      ++st.counters.coalesced;
      if (auto* m = st.env->metrics)
        m->proxy_upstream("coalesced");
      return e.fetch;
    }
    st.cache.erase(it);
  }
  const auto running = std::count_if(st.cache.begin(), st.cache.end(),
                                     [](const auto& e) { return !e.second.fetch->finished(); });
  if (static_cast<size_t>(running) >= max_running_fetches)
    return nullptr;
  shared_fetch::options o;
  o.max_bytes = playlist ? (1u << 20) : (64u << 20);
  auto f = std::make_shared<shared_fetch>(o);
  st.cache[key] = {f,
                   now,
                   playlist ? proxy_timing::live_playlist_ttl_ms : proxy_timing::segment_ttl_ms,
                   playlist,
                   st.gen,
                   counts};
  start_pump(self, f, url, false, true, key, range);
  return f;
}

/// Calls `then` once the playlist at `url` is fetched (well or not).
/// Calls `then` once the playlist at `url` is fetched (well or not); with
/// null when too many fetches run.
void with_playlist(proxy_ptr self, const std::string& url,
                   std::function<void(std::shared_ptr<shared_fetch>)> then) {
  auto f = fetch(self, url, true);
  if (!f || f->finished())
    return then(f);
  self->state.waiting[url].emplace_back(f, [f, then = std::move(then)] { then(f); });
}

/// Rewrites a fetched playlist for `client` and answers `done`; false
/// (`done` not called) when `check_stall` and it is a live media playlist
/// that has not grown for stall_ms.
bool render(proxy_ptr self, int32_t variant, const std::string& client,
            const std::shared_ptr<shared_fetch>& f, completion<proxy_body>& done,
            bool check_stall = false) {
  auto& st = self->state;
  std::string why;
  auto base = net::parse_url(f->head().final_url, why);
  if (!base) {
    done(api_error{api_errc::bad_gateway, "The upstream playlist cannot be read"});
    return true;
  }
  const int64_t expires = now_ms(self) / 1000 + proxy_timing::reference_lifetime_s;
  std::vector<std::string> variants;
  const auto& refs = *st.env->refs;
  const std::string& id = st.config.id;
  auto mapper = [&](const net::url& u, proxy::ref_kind k,
                    const proxy::byte_range& range) -> std::string {
    proxy::ref_payload p;
    p.kind = k;
    p.expires = expires;
    p.client = client;
    if (k == proxy::ref_kind::playlist) {
      // In a master playlist: the variant's position. In a media playlist
      // (EXT-X-RENDITION-REPORT): the position of that URL in the master.
      size_t at = variants.size();
      variants.push_back(u.text());
      if (variant >= 0) {
        auto it = std::find(st.variants.begin(), st.variants.end(), u.text());
        at = it == st.variants.end() ? st.variants.size()
                                     : static_cast<size_t>(it - st.variants.begin());
      }
      p.url = std::to_string(at);
      return "variant.m3u8?r=" + refs.seal(id, p);
    }
    p.url = u.text();
    p.range_first = range.first;
    p.range_last = range.last;
    const char* name = k == proxy::ref_kind::segment ? "segment.ts"
                       : k == proxy::ref_kind::key   ? "key"
                                                     : "init";
    return std::string{name} + "?r=" + refs.seal(id, p);
  };
  const auto body = f->shared_body();
  auto& num = st.numbers[variant];
  if (num.gen != 0 && num.gen != st.gen && num.last_seq >= 0) {
    // A new upstream: its first segment follows the last one served, after
    // a discontinuity. Its numbers are needed before the rewrite (once per
    // switch; every other request rewrites once).
    auto probe = proxy::rewrite_playlist(*body, *base,
                                         [](const net::url&, proxy::ref_kind,
                                            const proxy::byte_range&) { return std::string{"x"}; });
    if (probe.error.empty() && !probe.facts.master) {
      num.seq_offset = num.last_seq + 1 - probe.facts.media_sequence;
      num.disc_before = num.last_seq + 1;
      num.disc_offset = num.last_disc - probe.facts.discontinuity_sequence;
      num.disc_shared = probe.facts.first_segment_discontinuity;
    }
  }
  proxy::rewrite_options opt; // a master playlist ignores them
  opt.media_sequence_offset = num.seq_offset;
  opt.discontinuity_sequence_offset = num.disc_offset;
  opt.discontinuity_before = num.disc_before;
  opt.discontinuity_shared = num.disc_shared;
  auto r = proxy::rewrite_playlist(*body, *base, mapper, opt);
  if (!r.error.empty()) {
    ++st.counters.upstream_errors;
    done(api_error{api_errc::bad_gateway, "Upstream playlist refused: " + r.error});
    return true;
  }
  if (r.facts.master && variant >= 0) {
    done(api_error{api_errc::bad_gateway, "Upstream variant is a master playlist"});
    return true;
  }
  if (r.facts.master) {
    st.variants = std::move(variants);
    st.variants_gen = st.gen;
  } else {
    const int64_t next = r.facts.media_sequence + static_cast<int64_t>(r.facts.segments);
    const int64_t now = now_ms(self);
    if (num.gen != st.gen || next != num.upstream_next) {
      num.upstream_next = next;
      num.advanced_ms = now;
      remember_progress(st, f->head().final_url, next); // only when it moved: not per request
    } else if (check_stall && !r.facts.endlist && now - num.advanced_ms > stall_ms(r.facts)) {
      return false; // the same segments for too long: a stalled upstream
    }
    num.gen = st.gen;
    st.target_duration = r.facts.target_duration;
    num.last_seq = next + num.seq_offset - 1;
    // The last segment's discontinuity sequence number, counting every
    // EXT-X-DISCONTINUITY in the window (an earlier failover's too).
    num.last_disc = r.facts.discontinuity_sequence_out + r.facts.discontinuities_out;
    if (r.facts.endlist)
      for (auto& [url, e] : st.cache)
        if (e.fetch == f)
          e.ttl_ms = proxy_timing::vod_playlist_ttl_ms;
  }
  proxy_body out;
  out.content_type = "application/vnd.apple.mpegurl";
  out.text = std::move(r.text);
  done(std::move(out));
  return true;
}

} // namespace

void serve_playlist(proxy_ptr self, int32_t variant, std::string client,
                    completion<proxy_body> done, size_t attempts) {
  auto& st = self->state;
  if (variant >= 0 && (st.variants_gen != st.gen || st.variants.empty())) {
    // The variant list of the current upstream is needed first.
    const uint64_t gen = st.gen;
    return with_playlist(
        self, st.urls[st.index],
        [self, variant, client, done, attempts, gen](std::shared_ptr<shared_fetch> f) mutable {
          auto& st = self->state;
          if (!f)
            return done(api_error{api_errc::try_later, "Too many upstream requests; retry"});
          if (st.gen == gen && f->succeeded()) {
            completion<proxy_body> ignore{[](reply<proxy_body>) {}};
            render(self, -1, client, f, ignore); // records the variants
            if (st.variants_gen != st.gen)       // the upstream is a media playlist now
              return done(api_error{api_errc::not_found, "No such variant"});
          }
          if (st.variants_gen != st.gen || st.variants.empty()) {
            if (attempts < st.urls.size() &&
                (st.gen != gen || switch_upstream(self, "playlist_error")))
              return serve_playlist(self, variant, client, done, attempts + 1);
            return done(api_error{api_errc::bad_gateway, "The upstream is not available"});
          }
          serve_playlist(self, variant, client, done, attempts);
        });
  }
  if (variant >= 0 && static_cast<size_t>(variant) >= st.variants.size())
    return done(api_error{api_errc::not_found, "No such variant"});
  const std::string url =
      variant >= 0 ? st.variants[static_cast<size_t>(variant)] : st.urls[st.index];
  const uint64_t gen = st.gen;
  with_playlist(
      self, url,
      [self, variant, client, done, attempts, gen](std::shared_ptr<shared_fetch> f) mutable {
        auto& st = self->state;
        if (!f)
          return done(api_error{api_errc::try_later, "Too many upstream requests; retry"});
        if (st.gen != gen && attempts < st.urls.size()) // fetched from the upstream before a switch
          return serve_playlist(self, variant, client, done, attempts + 1);
        if (!f->succeeded()) {
          ++st.counters.upstream_errors;
          if (auto* m = st.env->metrics)
            m->proxy_upstream("error");
          logging::warn("upstream playlist failed", {{"stream_id", st.config.id},
                                                     {"index", std::to_string(st.index)},
                                                     {"reason", f->head().error}});
          if (switch_upstream(self, "playlist_error") && attempts + 1 < st.urls.size())
            return serve_playlist(self, variant, client, done, attempts + 1);
          if (st.resolving && attempts <= st.urls.size()) // answered once the resolver has
            return after_resolver(self, [self, variant, client, done, attempts]() mutable {
              serve_playlist(self, variant, client, std::move(done), attempts + 1);
            });
          return done(api_error{api_errc::bad_gateway, "The upstream is not available"});
        }
        if (auto* m = st.env->metrics)
          m->proxy_upstream("ok");
        if (render(self, variant, client, f, done, true))
          return;
        const bool moved = switch_upstream(self, "stall");
        if (moved && attempts + 1 < st.urls.size())
          return serve_playlist(self, variant, client, done, attempts + 1);
        if (moved) // never the old upstream's playlist under the new numbering
          return done(api_error{api_errc::bad_gateway, "The upstream is not available"});
        render(self, variant, client, f, done); // nowhere else to go: what there is
      });
}

void serve_segment(proxy_ptr self, const proxy::ref_payload& ref, completion<proxy_body> done) {
  // A replayed old reference (its segment long gone upstream) must not let
  // a viewer switch the stream: only references issued since the last
  // switch, in the last 10 minutes, count towards one.
  const int64_t issued_ms = (ref.expires - proxy_timing::reference_lifetime_s) * 1000;
  const bool counts =
      issued_ms + 1000 >= self->state.last_switch_ms && now_ms(self) - issued_ms <= 600000;
  auto f = fetch(self, ref.url, false, {ref.range_first, ref.range_last}, counts);
  if (!f)
    return done(api_error{api_errc::try_later, "Too many upstream requests; retry"});
  const char* fallback =
      ref.kind == proxy::ref_kind::segment ? "video/mp2t" : "application/octet-stream";
  proxy_actor me = self;
  auto reader = f->reader([me, client = ref.client](uint64_t bytes) {
    caf::anon_send(me, left_atom_v, client, bytes, false);
  });
  const int64_t range_size = ref.range_first >= 0 ? ref.range_last - ref.range_first + 1 : -1;
  f->on_head([done, reader, fallback, f, range_size](const fetch_head& h) mutable {
    if (!h.ok) {
      reader->close();
      return done(api_error{api_errc::bad_gateway, "The upstream segment is not available"});
    }
    proxy_body b;
    b.content_type = safe_type(h.content_type, fallback);
    b.stream = std::move(reader);
    // A length the viewer can rely on: a range's own (a whole body from a
    // server that ignored the Range is cut to it), the upstream's, or a
    // finished body's.
    b.length = range_size >= 0  ? range_size
               : h.length >= 0  ? h.length
               : f->succeeded() ? static_cast<int64_t>(f->bytes())
                                : -1;
    done(std::move(b));
  });
}

} // namespace hlsgate::actors::proxy_detail
