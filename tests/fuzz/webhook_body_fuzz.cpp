// POST /webhooks's body (http/webhooks_json): hostile JSON. Invariants: an
// accepted registration has a URL that parses, known events only, at most 20
// headers that pass the header check, bounded timeout and retries; a refusal
// always says why; the answer renders.
#include "actors/webhook_model.hpp"
#include "http/webhooks_json.hpp"
#include "net/url.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (bool allow_private : {false, true}) {
    actors::webhook w;
    auto why = http::parse_webhook(body, allow_private, w);
    if (!why.empty())
      continue;
    std::string url_why;
    if (!net::parse_url(w.url, url_why) || w.events.empty() || w.headers.size() > 20 ||
        w.timeout_seconds < 1 || w.timeout_seconds > 30 || w.retry_attempts > 10)
      fuzz::fail();
    for (auto& e : w.events)
      if (!actors::webhook_rules::known_event(e))
        fuzz::fail();
    for (auto& [k, v] : w.headers)
      if (!actors::webhook_rules::header_refusal(k, v).empty())
        fuzz::fail();
    w.created_at = 1;
    (void)http::webhook_json(w, true).dump(-1, ' ', false,
                                           nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
