#include "actors/proxy_model.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "actors/webhook_model.hpp"
#include "auth/crypto.hpp"
#include "http/query.hpp"
#include "net/url.hpp"

namespace hlsgate::actors {

namespace {

using json = nlohmann::json;

std::string check_url(const json& v, const char* field, std::string& out) {
  if (!v.is_string())
    return std::string{field} + " must be a string";
  std::string why;
  auto u = net::parse_url(v.get<std::string>(), why);
  if (!u)
    return std::string{field} + ": " + why;
  out = u->text();
  return {};
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f;
  });
}

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s)
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

} // namespace

std::vector<std::string> proxy_config::all_urls() const {
  std::vector<std::string> out;
  out.reserve(1 + failover_urls.size());
  out.push_back(url);
  out.insert(out.end(), failover_urls.begin(), failover_urls.end());
  return out;
}

bool looks_direct(std::string_view url) {
  auto path = url.substr(0, url.find('?'));
  const auto ends = [&](std::string_view s) {
    return path.size() >= s.size() && lower(path.substr(path.size() - s.size())) == s;
  };
  return !ends(".m3u8") && !ends(".m3u");
}

std::string parse_stream_request(std::string_view body, proxy_config& out) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return "the body must be a JSON object";
  if (!j.contains("url"))
    return "url is required";
  if (auto why = check_url(j["url"], "url", out.url); !why.empty())
    return why;
  out.failover_urls.clear();
  if (j.contains("failover_urls") && !j["failover_urls"].is_null()) {
    const auto& f = j["failover_urls"];
    if (!f.is_array() || f.size() > proxy_rules::max_failover_urls)
      return "failover_urls must be an array of at most 10 URLs";
    for (const auto& v : f) {
      std::string u;
      if (auto why = check_url(v, "failover_urls", u); !why.empty())
        return why;
      out.failover_urls.push_back(std::move(u));
    }
  }
  out.failover_resolver_url.clear();
  if (j.contains("failover_resolver_url") && !j["failover_resolver_url"].is_null())
    if (auto why = check_url(j["failover_resolver_url"], "failover_resolver_url",
                             out.failover_resolver_url);
        !why.empty())
      return why;
  out.user_agent = proxy_rules::default_user_agent;
  if (j.contains("user_agent") && !j["user_agent"].is_null()) {
    if (!j["user_agent"].is_string())
      return "user_agent must be a string";
    auto ua = j["user_agent"].get<std::string>();
    if (ua.empty() || ua.size() > 256 || !printable(ua))
      return "user_agent must be 1 to 256 printable characters";
    out.user_agent = std::move(ua);
  }
  out.headers.clear();
  if (j.contains("headers") && !j["headers"].is_null()) {
    const auto& h = j["headers"];
    if (!h.is_object() || h.size() > webhook_rules::max_headers)
      return "headers must be an object of at most 20 strings";
    for (auto it = h.begin(); it != h.end(); ++it) {
      if (!it.value().is_string())
        return "header values must be strings";
      auto value = it.value().get<std::string>();
      if (auto why = webhook_rules::header_refusal(it.key(), value); !why.empty())
        return why;
      const auto name = lower(it.key());
      if (name == "range" || name == "accept-encoding" || name == "if-range")
        return "header '" + name + "' is set by hlsgate";
      out.headers.emplace_back(it.key(), std::move(value));
    }
  }
  out.metadata.clear();
  if (j.contains("metadata") && !j["metadata"].is_null()) {
    const auto& m = j["metadata"];
    if (!m.is_object() || m.size() > proxy_rules::max_metadata)
      return "metadata must be an object of at most 50 fields";
    for (auto it = m.begin(); it != m.end(); ++it) {
      const auto& v = it.value();
      std::string s;
      if (v.is_string())
        s = v.get<std::string>();
      else if (v.is_number() || v.is_boolean())
        s = v.dump();
      else
        return "metadata values must be strings, numbers or booleans";
      if (it.key().empty() || it.key().size() > proxy_rules::max_metadata_bytes ||
          s.size() > proxy_rules::max_metadata_bytes || !printable(it.key()) || !printable(s))
        return "metadata fields and values are at most 256 printable characters";
      out.metadata[it.key()] = std::move(s);
    }
  }
  out.is_public = false;
  if (j.contains("public") && !j["public"].is_null()) {
    if (!j["public"].is_boolean())
      return "public must be a boolean";
    out.is_public = j["public"].get<bool>();
  }
  out.direct = looks_direct(out.url);
  out.min_bitrate_kbps = 0;
  if (j.contains("min_bitrate_kbps") && !j["min_bitrate_kbps"].is_null()) {
    const auto& b = j["min_bitrate_kbps"];
    if (!b.is_number_unsigned() || b.get<uint64_t>() > proxy_rules::max_min_bitrate_kbps)
      return "min_bitrate_kbps must be an integer from 0 to 1000000";
    out.min_bitrate_kbps = b.get<unsigned>();
  }
  if (j.contains("stream_type") && !j["stream_type"].is_null()) {
    const auto& t = j["stream_type"];
    if (t == "hls")
      out.direct = false;
    else if (t == "direct")
      out.direct = true;
    else
      return "stream_type must be \"hls\" or \"direct\"";
  }
  return {};
}

std::string to_json(const proxy_config& c) {
  json h = json::array();
  for (const auto& [n, v] : c.headers)
    h.push_back({n, v});
  return json{{"id", c.id},
              {"url", c.url},
              {"failover_urls", c.failover_urls},
              {"failover_resolver_url", c.failover_resolver_url},
              {"user_agent", c.user_agent},
              {"headers", h},
              {"metadata", c.metadata},
              {"public", c.is_public},
              {"direct", c.direct},
              {"min_bitrate_kbps", c.min_bitrate_kbps},
              {"created_at", c.created_at},
              {"token_gen", c.token_gen}}
      .dump();
}

bool from_json(std::string_view text, proxy_config& out) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false;
  try {
    out.id = j.at("id").get<std::string>();
    out.url = j.at("url").get<std::string>();
    out.failover_urls = j.at("failover_urls").get<std::vector<std::string>>();
    out.failover_resolver_url = j.at("failover_resolver_url").get<std::string>();
    out.user_agent = j.at("user_agent").get<std::string>();
    out.headers.clear();
    for (const auto& p : j.at("headers"))
      out.headers.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
    out.metadata = j.at("metadata").get<std::map<std::string, std::string>>();
    out.is_public = j.at("public").get<bool>();
    out.direct = j.at("direct").get<bool>();
    out.min_bitrate_kbps = j.value("min_bitrate_kbps", 0u); // absent in older records
    out.created_at = j.at("created_at").get<int64_t>();
    out.token_gen = j.at("token_gen").get<uint64_t>();
  } catch (const json::exception&) {
    return false;
  }
  return !out.id.empty() && !out.url.empty();
}

std::string resolver_request_url(const proxy_config& c, std::string_view current_url,
                                 size_t current_index, std::string_view reason) {
  std::string out = c.failover_resolver_url;
  out += out.find('?') == std::string::npos ? '?' : '&';
  out += "stream_id=" + http::query::percent_encode(c.id);
  out += "&current_index=" + std::to_string(current_index);
  out += "&reason=" + http::query::percent_encode(reason);
  // The current URL when the question stays a URL hlsgate fetches (2048 bytes).
  auto cur = "&current_url=" + http::query::percent_encode(current_url);
  if (out.size() + cur.size() <= proxy_rules::max_resolver_url)
    out.insert(out.find("&current_index="), cur);
  return out;
}

std::string parse_resolver_answer(std::string_view body, std::string& url) {
  if (body.size() > proxy_rules::max_resolver_answer)
    return "the resolver's answer is too long";
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' '))
    body.remove_suffix(1);
  if (!body.empty() && body.front() == '{') {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("url"))
      return "the resolver's answer has no url";
    return check_url(j["url"], "the resolver's url", url);
  }
  if (body.empty() || body.find_first_of("\r\n") != std::string_view::npos || !printable(body))
    return "the resolver's answer is not one URL";
  return check_url(json(std::string{body}), "the resolver's url", url);
}

void rate_meter::sample(int64_t now_ms, uint64_t total) {
  s_[head_] = {now_ms, total};
  head_ = (head_ + 1) % cap;
  n_ = std::min(n_ + 1, cap);
}

int64_t rate_meter::kbps(int64_t window_ms) const {
  if (n_ < 2)
    return -1;
  const auto& newest = s_[(head_ + cap - 1) % cap];
  // The newest sample at least window_ms older than the newest one.
  for (size_t i = 1; i < n_; ++i) {
    const auto& old = s_[(head_ + cap - 1 - i) % cap];
    const int64_t span = newest.first - old.first;
    if (span >= window_ms) {
      const uint64_t bytes = newest.second >= old.second ? newest.second - old.second : 0;
      return static_cast<int64_t>(bytes * 8 / static_cast<uint64_t>(span)); // bits per ms = kbit/s
    }
  }
  return -1;
}

bool same_registration(const proxy_config& c, const proxy_config& wanted) {
  return c.url == wanted.url && c.metadata == wanted.metadata;
}

bool metadata_matches(const proxy_config& c, std::string_view field, std::string_view value) {
  auto it = c.metadata.find(std::string{field});
  return it != c.metadata.end() && it->second == value;
}

std::string derive_client_id(std::string_view key, std::string_view stream_id,
                             std::string_view address, std::string_view user_agent) {
  auth::hmac_sha256 mac{key};
  std::string data;
  data.reserve(stream_id.size() + address.size() + user_agent.size() + 2);
  data.append(stream_id).push_back('\0');
  data.append(address).push_back('\0');
  data.append(user_agent);
  auto d = mac.sign(data);
  return auth::base64url_encode(std::string_view{reinterpret_cast<const char*>(d.data()), 12});
}

} // namespace hlsgate::actors
