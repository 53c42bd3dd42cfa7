// POST /streams's body (actors/proxy_model): hostile JSON. Invariants: an
// accepted registration has http(s) URLs that parse, at most 10 failover
// URLs, headers that pass the header check, bounded metadata; its durable
// form reads back to the same registration. The same bytes as a failover
// resolver's answer: accepted only as one http(s) URL that parses.
#include "actors/proxy_model.hpp"
#include "actors/webhook_model.hpp"
#include "net/url.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string why, resolved;
  if (actors::parse_resolver_answer(body, resolved).empty() &&
      (!net::parse_url(resolved, why) || resolved.find_first_of("\r\n") != std::string::npos))
    fuzz::fail();
  actors::proxy_config c;
  if (!actors::parse_stream_request(body, c).empty())
    return 0;
  if (!net::parse_url(c.url, why) || c.failover_urls.size() > 10 ||
      c.metadata.size() > actors::proxy_rules::max_metadata || c.user_agent.empty())
    fuzz::fail();
  for (const auto& u : c.failover_urls)
    if (!net::parse_url(u, why))
      fuzz::fail();
  for (const auto& [k, v] : c.headers)
    if (!actors::webhook_rules::header_refusal(k, v).empty())
      fuzz::fail();
  c.id = "fuzz";
  c.created_at = 1;
  actors::proxy_config back;
  if (!actors::from_json(actors::to_json(c), back) || back.url != c.url ||
      back.failover_urls != c.failover_urls || back.headers != c.headers ||
      back.metadata != c.metadata || back.is_public != c.is_public || back.direct != c.direct ||
      back.min_bitrate_kbps != c.min_bitrate_kbps)
    fuzz::fail();
  return 0;
}
