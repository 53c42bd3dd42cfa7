#include "actors/webhooks.hpp"

#include <deque>
#include <map>
#include <random>
#include <unordered_map>

#include <caf/all.hpp>

#include "auth/crypto.hpp"
#include "metrics/build_info.hpp"
#include "metrics/log.hpp"
#include "net/http_post.hpp"

namespace hlsgate::actors {

namespace {

namespace rules = webhook_rules;

struct endpoint {
  webhook hook;
  net::url target;
  size_t in_flight = 0;
  std::deque<std::string> due; ///< delivery ids ready to be sent, oldest first
  size_t pending = 0;          ///< deliveries not yet finished (due, waiting or in flight)
};

struct webhooks_state {
  webhooks_params p;
  std::unique_ptr<net::http_poster> poster;
  std::map<std::string, endpoint> endpoints; ///< by webhook id
  std::unordered_map<std::string, webhook_delivery> pending;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "webhooks";
};

using self_ptr = webhooks_actor::stateful_pointer<webhooks_state>;

int64_t now_ms(self_ptr self) {
  return self->state.p.now_ms();
}
int64_t now_s(self_ptr self) {
  return now_ms(self) / 1000;
}

void count(self_ptr self, const char* outcome) {
  if (self->state.p.metrics)
    self->state.p.metrics->webhook_delivery(outcome);
}

/// Adds `w` as an endpoint; false when its stored URL no longer parses.
bool add_endpoint(self_ptr self, webhook w) {
  std::string why;
  auto u = net::parse_url(w.url, why);
  if (!u)
    return false;
  endpoint e;
  e.target = *u;
  e.hook = std::move(w);
  self->state.endpoints[e.hook.id] = std::move(e);
  return true;
}

void send(self_ptr self, endpoint& ep, const webhook_delivery& d) {
  net::post_request req;
  req.target = ep.target;
  req.headers = ep.hook.headers;
  req.headers.emplace_back("User-Agent", std::string{"hlsgate-webhooks/"} + build::version());
  req.headers.emplace_back("HLSGATE-Event", d.event_type);
  req.headers.emplace_back("HLSGATE-Delivery", d.id);
  req.headers.emplace_back("HLSGATE-Signature",
                           rules::signature(ep.hook.secret, now_s(self), d.body));
  req.body = d.body;
  req.timeout = std::chrono::seconds{ep.hook.timeout_seconds};
  req.allow_private = self->state.p.allow_private;
  ++ep.in_flight;
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  self->state.poster->post(std::move(req), [weak, id = d.id](net::post_result r) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<webhooks_actor>(strong), hook_sent_atom_v, id, r.status,
                     r.error);
  });
}

/// Sends what is due on `ep` while it has room on the wire.
void pump(self_ptr self, endpoint& ep) {
  auto& st = self->state;
  while (ep.in_flight < per_endpoint_in_flight && !ep.due.empty()) {
    auto id = std::move(ep.due.front());
    ep.due.pop_front();
    auto d = st.pending.find(id);
    if (d != st.pending.end())
      send(self, ep, d->second);
  }
}

/// A pending delivery becomes due at its next_at_ms.
void schedule(self_ptr self, const webhook_delivery& d) {
  const int64_t wait = d.next_at_ms - now_ms(self);
  if (wait <= 0) {
    auto ep = self->state.endpoints.find(d.webhook_id);
    if (ep != self->state.endpoints.end()) {
      ep->second.due.push_back(d.id);
      pump(self, ep->second);
    }
    return;
  }
  self->delayed_send(self, std::chrono::milliseconds{wait}, hook_retry_atom_v, d.id);
}

void persist(self_ptr self, const webhook_delivery& d) {
  if (auto s = self->state.p.store->update_delivery(d); !s)
    logging::error("webhook delivery not recorded",
                   {{"delivery", d.id}, {"error", s.err().reason}});
}

/// Queues `e` for the endpoints in `targets` (durably first); returns the
/// event id.
std::string fan_out(self_ptr self, const webhook_event& e, const std::vector<endpoint*>& targets) {
  auto& st = self->state;
  const std::string event_id = auth::random_id();
  if (targets.empty())
    return event_id;
  const std::string body = rules::envelope(event_id, e, now_s(self));
  std::vector<webhook_delivery> ds;
  for (auto* ep : targets) {
    webhook_delivery d;
    d.id = auth::random_id();
    d.webhook_id = ep->hook.id;
    d.event_id = event_id;
    d.event_type = e.type;
    d.body = body;
    d.created_at = d.updated_at = now_s(self);
    d.next_at_ms = now_ms(self);
    if (ep->pending >= rules::max_pending) { // recorded, never sent
      d.state = delivery_state::failed;
      d.next_at_ms = 0;
      d.last_error = "queue full: the endpoint has 10000 deliveries pending";
      count(self, "dropped");
      logging::warn("webhook queue full, event dropped",
                    {{"webhook", ep->hook.id}, {"event_type", e.type}});
    }
    ds.push_back(std::move(d));
  }
  if (auto s = st.p.store->add_deliveries(ds); !s) {
    logging::error("webhook deliveries not queued",
                   {{"event_type", e.type}, {"error", s.err().reason}});
    for (size_t i = 0; i < ds.size(); ++i)
      count(self, "dropped");
    return event_id;
  }
  for (auto& d : ds) {
    if (d.state != delivery_state::pending)
      continue;
    auto& ep = st.endpoints[d.webhook_id];
    ++ep.pending;
    ep.due.push_back(d.id);
    st.pending.emplace(d.id, std::move(d));
  }
  for (auto* ep : targets)
    pump(self, *ep);
  return event_id;
}

/// The outcome of one attempt: delivered, retried later, or failed for good.
void on_sent(self_ptr self, const std::string& id, unsigned status, const std::string& error) {
  auto& st = self->state;
  auto it = st.pending.find(id);
  auto ep = it == st.pending.end() ? st.endpoints.end() : st.endpoints.find(it->second.webhook_id);
  if (ep == st.endpoints.end()) { // its endpoint was deleted meanwhile
    if (it != st.pending.end())
      st.pending.erase(it);
    return;
  }
  auto& e = ep->second;
  if (e.in_flight > 0)
    --e.in_flight;
  auto& d = it->second;
  ++d.attempts;
  d.updated_at = now_s(self);
  d.last_status = status;
  d.last_error = status == 0 ? error : std::string{};
  const bool ok = status >= 200 && status < 300;
  if (!ok && d.last_error.empty())
    d.last_error = status >= 300 && status < 400 ? "redirects are not followed"
                                                 : "HTTP " + std::to_string(status);
  const bool may_retry = rules::worth_retrying(status) && d.attempts < 1 + e.hook.retry_attempts &&
                         d.updated_at - d.created_at < rules::max_age_seconds;
  if (ok || !may_retry) {
    d.state = ok ? delivery_state::delivered : delivery_state::failed;
    d.next_at_ms = 0;
    count(self, ok ? "delivered" : "failed");
    if (!ok)
      logging::warn("webhook delivery failed",
                    {{"webhook", e.hook.id}, {"delivery", d.id}, {"error", d.last_error}});
    persist(self, d);
    st.pending.erase(it);
    --e.pending;
  } else {
    std::uniform_real_distribution<double> jitter{0.0, 1.0};
    d.next_at_ms =
        now_ms(self) + rules::retry_delay_ms(d.attempts, st.p.retry_base_ms, jitter(st.rng));
    count(self, "retried");
    persist(self, d);
    schedule(self, d);
  }
  pump(self, e);
}

/// The endpoints a selector names (by id, or every one with that URL).
std::vector<std::string> select(self_ptr self, const webhook_selector& s) {
  std::vector<std::string> ids;
  for (auto& [id, ep] : self->state.endpoints)
    if ((!s.id.empty() && id == s.id) || (s.id.empty() && !s.url.empty() && ep.hook.url == s.url))
      ids.push_back(id);
  return ids;
}

webhook without_secret(webhook w) {
  w.secret.clear();
  return w;
}

void resume(self_ptr self) {
  auto& st = self->state;
  if (auto hooks = st.p.store->load_webhooks(); hooks) {
    for (auto& w : *hooks)
      if (!add_endpoint(self, w))
        logging::warn("webhook with an unusable URL ignored", {{"webhook", w.id}});
  } else {
    logging::error("webhooks not loaded", {{"error", hooks.err().reason}});
  }
  auto pending = st.p.store->load_pending();
  if (!pending) {
    logging::error("webhook deliveries not loaded", {{"error", pending.err().reason}});
    return;
  }
  size_t resumed = 0;
  for (auto& d : *pending) {
    auto ep = st.endpoints.find(d.webhook_id);
    if (ep == st.endpoints.end())
      continue;
    if (now_s(self) - d.created_at >= rules::max_age_seconds) {
      d.state = delivery_state::failed;
      d.last_error = "too old to deliver";
      d.updated_at = now_s(self);
      persist(self, d);
      count(self, "failed");
      continue;
    }
    ++ep->second.pending;
    ++resumed;
    auto copy = d;
    st.pending.emplace(d.id, std::move(d));
    schedule(self, copy);
  }
  if (resumed > 0)
    logging::info("webhook deliveries resumed", {{"pending", std::to_string(resumed)}});
}

webhooks_actor::behavior_type webhooks_behavior(self_ptr self, webhooks_params p) {
  self->state.p = std::move(p);
  self->state.poster = std::make_unique<net::http_poster>();
  resume(self);
  return {
      [self](event_atom, const webhook_event& e) {
        std::vector<endpoint*> targets;
        for (auto& [id, ep] : self->state.endpoints)
          if (ep.hook.wants(e.type))
            targets.push_back(&ep);
        fan_out(self, e, targets);
      },
      [self](hook_create_atom, webhook w, const completion<webhook>& done) {
        auto& st = self->state;
        if (st.endpoints.size() >= rules::max_webhooks)
          return done(api_error{api_errc::bad_parameter, "Too many webhooks (at most 100)"});
        w.id = auth::random_id();
        w.secret = "whsec_" + auth::base64url_encode(auth::random_bytes(32));
        w.created_at = now_s(self);
        std::string why;
        if (!net::parse_url(w.url, why))
          return done(api_error{api_errc::bad_parameter, "url: " + why});
        if (auto s = st.p.store->put_webhook(w); !s) {
          logging::error("webhook not stored", {{"error", s.err().reason}});
          return done(api_error{api_errc::internal, "Cannot store the webhook"});
        }
        add_endpoint(self, w);
        logging::info("webhook registered", {{"webhook", w.id}});
        done(std::move(w));
      },
      [self](hook_list_atom, const completion<std::vector<webhook>>& done) {
        std::vector<webhook> out;
        for (auto& [id, ep] : self->state.endpoints)
          out.push_back(without_secret(ep.hook));
        done(std::move(out));
      },
      [self](hook_delete_atom, const webhook_selector& s, const completion<size_t>& done) {
        auto& st = self->state;
        size_t n = 0;
        for (auto& id : select(self, s)) {
          if (auto r = st.p.store->remove_webhook(id); !r) {
            logging::error("webhook not deleted", {{"webhook", id}, {"error", r.err().reason}});
            return done(api_error{api_errc::internal, "Cannot delete the webhook"});
          }
          for (auto it = st.pending.begin(); it != st.pending.end();)
            it = it->second.webhook_id == id ? st.pending.erase(it) : std::next(it);
          st.endpoints.erase(id);
          logging::info("webhook deleted", {{"webhook", id}});
          ++n;
        }
        if (n == 0)
          return done(api_error{api_errc::not_found, "Webhook not found"});
        done(n);
      },
      [self](hook_test_atom, const webhook_selector& s, const completion<std::string>& done) {
        std::vector<endpoint*> targets;
        for (auto& id : select(self, s))
          targets.push_back(&self->state.endpoints[id]);
        if (targets.empty())
          return done(api_error{api_errc::not_found, "Webhook not found"});
        webhook_event e;
        e.type = "webhook.test";
        e.subject_key = "media_id";
        e.subject_id = "test";
        e.data_json = R"({"test":true,"message":"This is a test webhook event"})";
        done(fan_out(self, e, targets));
      },
      [self](hook_log_atom, const std::string& id,
             const completion<std::vector<webhook_delivery>>& done) {
        if (self->state.endpoints.count(id) == 0)
          return done(api_error{api_errc::not_found, "Webhook not found"});
        auto r = self->state.p.store->recent(id, rules::kept_deliveries);
        if (!r)
          return done(api_error{api_errc::internal, "Cannot read the deliveries"});
        done(std::move(r).value());
      },
      [self](hook_sent_atom, const std::string& id, unsigned status, const std::string& error) {
        on_sent(self, id, status, error);
      },
      [self](hook_retry_atom, const std::string& id) {
        auto& st = self->state;
        auto d = st.pending.find(id);
        if (d == st.pending.end())
          return;
        auto ep = st.endpoints.find(d->second.webhook_id);
        if (ep == st.endpoints.end())
          return;
        ep->second.due.push_back(id);
        pump(self, ep->second);
      },
  };
}

} // namespace

webhooks_actor spawn_webhooks(caf::actor_system& sys, webhooks_params p) {
  return sys.spawn<caf::detached>(webhooks_behavior, std::move(p));
}

} // namespace hlsgate::actors
