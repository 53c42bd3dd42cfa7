#include "http/api_proxy.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/service.hpp"
#include "http/api_json.hpp"
#include "http/errors.hpp"
#include "http/request_params.hpp"

namespace hlsgate::http::proxy_routes {

namespace {

using actors::api_error;
using json = nlohmann::json;

/// The viewer as the stats show it: the peer, or the last X-Forwarded-For
/// hop when the peer is a trusted reverse proxy.
actors::proxy_viewer viewer(actors::service& svc, const request& req) {
  actors::proxy_viewer v;
  v.address = req.peer;
  const auto& trusted = svc.settings().trusted_proxies;
  if (std::find(trusted.begin(), trusted.end(), req.peer) != trusted.end()) {
    auto xff = req.header("x-forwarded-for");
    auto last = xff.substr(xff.rfind(',') == std::string_view::npos ? 0 : xff.rfind(',') + 1);
    while (!last.empty() && last.front() == ' ')
      last.remove_prefix(1);
    if (!last.empty() && last.size() <= 64)
      v.address = std::string{last};
  }
  v.user_agent = std::string{req.header("user-agent").substr(0, 256)};
  v.token = access_token(req);
  return v;
}

std::string endpoint(const actors::proxy_config& c, const std::string& token) {
  std::string e = c.direct ? "/stream/" + c.id : "/hls/" + c.id + "/playlist.m3u8";
  if (!token.empty())
    e += "?token=" + token;
  return e;
}

json client_json(const actors::proxy_client_info& c) {
  return {{"client_id", c.client_id},
          {"stream_id", c.stream_id},
          {"user_agent", c.user_agent},
          {"ip_address", c.address},
          {"connected_at", iso8601(c.connected_at)},
          {"last_access", iso8601(c.last_seen)},
          {"bytes_served", c.bytes_served},
          {"segments_served", c.segments_served},
          {"is_connected", true},
          {"stream_type", c.direct ? "direct" : "hls"}};
}

json stream_json(const actors::proxy_stream_info& i) {
  const auto& c = i.config;
  return {{"stream_id", c.id},
          {"original_url", c.url},
          {"current_url", i.current_url},
          {"user_agent", c.user_agent},
          {"stream_type", c.direct ? "direct" : "hls"},
          {"public", c.is_public},
          {"metadata", c.metadata},
          {"created_at", iso8601(c.created_at)},
          {"last_access",
           i.last_access ? json(iso8601(static_cast<int64_t>(i.last_access))) : json(nullptr)},
          {"client_count", i.clients.size()},
          {"is_active", !i.clients.empty()},
          {"upstream_active", i.upstream_active},
          {"total_bytes_served", i.bytes_served},
          {"total_segments_served", i.segments_served},
          {"upstream_requests", i.upstream_requests},
          {"coalesced_requests", i.coalesced},
          {"error_count", i.upstream_errors},
          {"has_failover", !c.failover_urls.empty() || !c.failover_resolver_url.empty()},
          {"failover_urls", c.failover_urls},
          {"failover_resolver_url",
           c.failover_resolver_url.empty() ? json(nullptr) : json(c.failover_resolver_url)},
          {"current_failover_index", i.current_index},
          {"failover_count", i.failovers},
          {"min_bitrate_kbps", c.min_bitrate_kbps}};
}

json clients_of(const std::vector<actors::proxy_stream_info>& all) {
  json out = json::array();
  for (const auto& s : all)
    for (const auto& c : s.clients)
      out.push_back(client_json(c));
  return out;
}

json streams_of(const std::vector<actors::proxy_stream_info>& all) {
  json out = json::array();
  for (const auto& s : all)
    out.push_back(stream_json(s));
  return out;
}

template <class T, class F> auto answer(reply_fn& reply, F&& ok) {
  return [reply, ok = std::forward<F>(ok)](actors::reply<T> r) {
    if (auto* e = std::get_if<api_error>(&r))
      return reply(error_response(*e));
    reply(ok(std::get<T>(r)));
  };
}

/// Adapts a proxied body to the server's body_stream.
class body_adapter final : public body_stream {
public:
  explicit body_adapter(std::shared_ptr<actors::byte_source> s) : s_(std::move(s)) {}
  void next(std::function<void(chunk)> ready) override {
    s_->next([ready = std::move(ready)](actors::byte_piece p) {
      chunk c;
      c.offset = p.offset;
      c.size = p.size;
      c.data = std::move(p.data);
      c.end = p.end;
      c.failed = p.failed;
      ready(std::move(c));
    });
  }
  void close() noexcept override { s_->close(); }

private:
  std::shared_ptr<actors::byte_source> s_;
};

response body_response(actors::proxy_body& b) {
  response res;
  res.status = b.status;
  res.content_type = b.content_type;
  res.headers.emplace_back("Cache-Control", "no-store");
  if (b.stream) {
    res.stream = std::make_shared<body_adapter>(std::move(b.stream));
    res.stream_length = b.length;
  } else {
    res.body = std::move(b.text);
  }
  return res;
}

} // namespace

void create(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  actors::proxy_config c;
  if (auto why = actors::parse_stream_request(req.body, c); !why.empty())
    return reply(error_response({actors::api_errc::bad_parameter, why}));
  svc.create_stream(std::move(c), answer<actors::proxy_created>(reply, [](const auto& r) {
                      const auto& c = r.config;
                      const auto e = endpoint(c, r.access_token);
                      json j = {{"stream_id", c.id},
                                {"primary_url", c.url},
                                {"failover_urls", c.failover_urls},
                                {"user_agent", c.user_agent},
                                {"stream_type", c.direct ? "direct" : "hls"},
                                {"stream_endpoint", e},
                                {"playlist_url", e},
                                {"direct_url", e},
                                {"public", c.is_public},
                                {"message", r.existed
                                                ? "Stream already registered"
                                                : std::string{"Stream created successfully ("} +
                                                      (c.direct ? "direct" : "hls") + ")"}};
                      if (!c.metadata.empty())
                        j["metadata"] = c.metadata;
                      if (!r.access_token.empty())
                        j["access_token"] = r.access_token;
                      return json_response(200, j);
                    }));
}

void list(actors::service& svc, request&, const route_params&, reply_fn& reply) {
  auto all = svc.list_streams();
  reply(json_response(200, {{"streams", streams_of(all)}, {"total", all.size()}}));
}

void by_metadata(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  std::string field, value;
  if (!req.query_param("field", field) || !req.query_param("value", value) || field.empty())
    return reply(error_response(422, "field and value are required"));
  std::string active;
  const bool active_only =
      !req.query_param("active_only", active) || active == "true" || active == "1";
  json matching = json::array();
  size_t clients = 0;
  for (const auto& s : svc.list_streams()) {
    if (!actors::metadata_matches(s.config, field, value))
      continue;
    if (active_only && s.clients.empty())
      continue;
    clients += s.clients.size();
    matching.push_back({{"stream_id", s.config.id},
                        {"client_count", s.clients.size()},
                        {"metadata", s.config.metadata},
                        {"is_active", !s.clients.empty()},
                        {"url", s.current_url},
                        {"stream_type", s.config.direct ? "Live Continuous" : "HLS"}});
  }
  reply(json_response(200, {{"filter", {{"field", field}, {"value", value}}},
                            {"active_only", active_only},
                            {"matching_streams", matching},
                            {"total_matching", matching.size()},
                            {"total_clients", clients}}));
}

void delete_by_metadata(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  std::string field, value, exclude;
  if (!req.query_param("field", field) || !req.query_param("value", value) || field.empty())
    return reply(error_response(422, "field and value are required"));
  req.query_param("exclude_channel_id", exclude);
  svc.delete_streams_where(
      field, value, exclude,
      answer<std::vector<std::string>>(reply, [field, value](const std::vector<std::string>& ids) {
        return json_response(200, {{"message", "Deleted " + std::to_string(ids.size()) +
                                                   " stream(s) matching " + field + "=" + value},
                                   {"deleted_streams", ids},
                                   {"skipped_streams", json::array()},
                                   {"deleted_count", ids.size()}});
      }));
}

void info(actors::service& svc, request&, const route_params& p, reply_fn& reply) {
  svc.stream_state(std::string{p.id},
                   answer<actors::proxy_stream_info>(reply, [](const actors::proxy_stream_info& i) {
                     json clients = json::array();
                     for (const auto& c : i.clients)
                       clients.push_back(client_json(c));
                     return json_response(200, {{"stream", stream_json(i)},
                                                {"clients", clients},
                                                {"client_count", i.clients.size()}});
                   }));
}

void remove(actors::service& svc, request&, const route_params& p, reply_fn& reply) {
  std::string id{p.id};
  svc.delete_stream(id, answer<actors::done>(reply, [id](const actors::done&) {
                      return json_response(200, {{"message", "Stream " + id + " deleted"}});
                    }));
}

void failover(actors::service& svc, request&, const route_params& p, reply_fn& reply) {
  svc.failover_stream(
      std::string{p.id},
      answer<actors::proxy_stream_info>(reply, [](const actors::proxy_stream_info& i) {
        return json_response(200, {{"message", "Failover triggered"},
                                   {"new_url", i.current_url},
                                   {"failover_index", i.current_index},
                                   {"failover_attempts", i.failovers},
                                   {"active_clients", i.clients.size()},
                                   {"stream_type", i.config.direct ? "direct" : "hls"}});
      }));
}

void rotate_token(actors::service& svc, request&, const route_params& p, reply_fn& reply) {
  svc.rotate_stream_token(
      std::string{p.id}, answer<actors::proxy_created>(reply, [](const actors::proxy_created& r) {
        const auto e = endpoint(r.config, r.access_token);
        return json_response(200,
                             {{"stream_id", r.config.id},
                              {"access_token", r.access_token},
                              {"playlist_url", e},
                              {"stream_endpoint", e},
                              {"message", "Viewer token rotated; earlier tokens are refused"}});
      }));
}

void stats(actors::service& svc, request&, const route_params&, reply_fn& reply) {
  auto all = svc.list_streams();
  size_t clients = 0, active = 0;
  uint64_t bytes = 0, segments = 0, coalesced = 0, upstream = 0, failovers = 0;
  for (const auto& s : all) {
    clients += s.clients.size();
    active += s.clients.empty() ? 0 : 1;
    bytes += s.bytes_served;
    segments += s.segments_served;
    coalesced += s.coalesced;
    upstream += s.upstream_requests;
    failovers += s.failovers;
  }
  reply(json_response(200, {{"total_streams", all.size()},
                            {"active_streams", active},
                            {"total_clients", clients},
                            {"active_clients", clients},
                            {"total_bytes_served", bytes},
                            {"total_segments_served", segments},
                            {"upstream_requests", upstream},
                            {"coalesced_requests", coalesced},
                            {"failovers", failovers},
                            {"streams", streams_of(all)},
                            {"clients", clients_of(all)}}));
}

void stats_streams(actors::service& svc, request&, const route_params&, reply_fn& reply) {
  auto all = svc.list_streams();
  reply(json_response(200, {{"total_streams", all.size()}, {"streams", streams_of(all)}}));
}

void stats_clients(actors::service& svc, request&, const route_params&, reply_fn& reply) {
  auto c = clients_of(svc.list_streams());
  reply(json_response(200, {{"total_clients", c.size()}, {"clients", c}}));
}

void client(actors::service& svc, request&, const route_params& p, reply_fn& reply) {
  for (const auto& s : svc.list_streams())
    for (const auto& c : s.clients)
      if (c.client_id == p.id)
        return reply(json_response(200, client_json(c)));
  reply(error_response(404, "Client not found"));
}

void disconnect(actors::service& svc, request&, const route_params& p, reply_fn& reply) {
  std::string client{p.name};
  svc.disconnect_client(
      std::string{p.id}, client, answer<actors::done>(reply, [client](const actors::done&) {
        return json_response(200, {{"message", "Client " + client + " disconnected"}});
      }));
}

void media(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  std::string id{p.id};
  std::string ref;
  req.query_param("r", ref);
  auto done =
      answer<actors::proxy_body>(reply, [](actors::proxy_body& b) { return body_response(b); });
  if (p.name == "playlist.m3u8")
    return svc.proxy_playlist(id, viewer(svc, req), "", done);
  if (ref.empty())
    return reply(error_response(404, "Not found"));
  if (p.name == "variant.m3u8")
    return svc.proxy_playlist(id, viewer(svc, req), std::move(ref), done);
  if (p.name == "segment.ts" || p.name == "key" || p.name == "init")
    return svc.proxy_segment(id, viewer(svc, req), std::move(ref), done);
  reply(error_response(404, "Not found"));
}

void direct(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  svc.proxy_direct(
      std::string{p.id}, viewer(svc, req),
      answer<actors::proxy_body>(reply, [](actors::proxy_body& b) { return body_response(b); }));
}

} // namespace hlsgate::http::proxy_routes
