#include "http/api_webhooks.hpp"

#include "actors/service.hpp"
#include "http/api_json.hpp"
#include "http/errors.hpp"
#include "http/webhooks_json.hpp"

namespace hlsgate::http::webhook_routes {

namespace {

using actors::api_error;
using json = nlohmann::json;

/// The endpoints a request names: ?webhook_id= or ?webhook_url=.
bool selector_of(const request& req, actors::webhook_selector& s) {
  req.query_param("webhook_id", s.id);
  req.query_param("webhook_url", s.url);
  return !s.id.empty() || !s.url.empty();
}

} // namespace

void create(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  actors::webhook w;
  if (auto why = parse_webhook(req.body, svc.settings().webhook_allow_private, w); !why.empty())
    return reply(error_response(422, why));
  svc.create_webhook(std::move(w), [reply](actors::reply<actors::webhook> r) {
    if (auto* e = std::get_if<api_error>(&r))
      return reply(error_response(*e));
    const auto& made = std::get<actors::webhook>(r);
    auto j = webhook_json(made, true);
    j["message"] = "Webhook added successfully; keep the secret, it is shown only now";
    j["webhook_url"] = made.url;
    reply(json_response(201, j));
  });
}

void list(actors::service& svc, request&, const route_params&, reply_fn& reply) {
  svc.list_webhooks([reply](actors::reply<std::vector<actors::webhook>> r) {
    if (auto* e = std::get_if<api_error>(&r))
      return reply(error_response(*e));
    json hooks = json::array();
    for (auto& w : std::get<std::vector<actors::webhook>>(r))
      hooks.push_back(webhook_json(w, false));
    reply(json_response(200, {{"webhooks", std::move(hooks)}}));
  });
}

namespace {

void remove(actors::service& svc, actors::webhook_selector s, reply_fn& reply) {
  svc.delete_webhooks(s, [reply, s](actors::reply<size_t> r) {
    if (auto* e = std::get_if<api_error>(&r))
      return reply(error_response(*e));
    const auto n = std::get<size_t>(r);
    reply(json_response(200, {{"message", "Webhook removed successfully"},
                              {"deleted", n},
                              {"webhook_id", s.id.empty() ? json(nullptr) : json(s.id)},
                              {"webhook_url", s.url.empty() ? json(nullptr) : json(s.url)}}));
  });
}

} // namespace

void remove_by_url(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  actors::webhook_selector s;
  req.query_param("webhook_url", s.url);
  if (s.url.empty())
    return reply(error_response(422, "webhook_url is required (or DELETE /webhooks/{id})"));
  remove(svc, std::move(s), reply);
}

void remove_by_id(actors::service& svc, request&, const route_params& p, reply_fn& reply) {
  actors::webhook_selector s;
  s.id = std::string{p.id};
  remove(svc, std::move(s), reply);
}

void test(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  actors::webhook_selector s;
  if (!selector_of(req, s))
    return reply(error_response(422, "webhook_url or webhook_id is required"));
  svc.test_webhooks(s, [reply](actors::reply<std::string> r) {
    if (auto* e = std::get_if<api_error>(&r))
      return reply(error_response(*e));
    reply(json_response(
        200, {{"message", "Test event queued"}, {"event_id", std::get<std::string>(r)}}));
  });
}

void deliveries(actors::service& svc, request&, const route_params& p, reply_fn& reply) {
  svc.webhook_deliveries(std::string{p.id},
                         [reply](actors::reply<std::vector<actors::webhook_delivery>> r) {
                           if (auto* e = std::get_if<api_error>(&r))
                             return reply(error_response(*e));
                           json out = json::array();
                           for (auto& d : std::get<std::vector<actors::webhook_delivery>>(r))
                             out.push_back(delivery_json(d));
                           reply(json_response(200, {{"deliveries", std::move(out)}}));
                         });
}

} // namespace hlsgate::http::webhook_routes
