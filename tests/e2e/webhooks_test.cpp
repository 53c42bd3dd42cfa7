// Signed webhooks over real HTTP: the real server delivers to receivers the
// test runs on 127.0.0.1, which check every signature with the secret the
// registration returned. Retries, restarts, isolation between endpoints and
// the refusals of the registration API.
#include <algorithm>

#include "auth/crypto.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/webhook_receiver.hpp"

namespace hlsgate::test {
namespace {

const std::string k_token = "hooks-token-0123456789abcdef";

/// The HLSGATE-Signature check a receiver does: t=...,v1=hex(HMAC(secret, t.body)).
bool signature_ok(const received_request& r, const std::string& secret, int64_t now) {
  const std::string sig = r.header("hlsgate-signature");
  const auto comma = sig.find(",v1=");
  if (sig.rfind("t=", 0) != 0 || comma == std::string::npos)
    return false;
  const std::string t = sig.substr(2, comma - 2);
  if (std::llabs(std::stoll(t) - now) > 300) // replay window a receiver would enforce
    return false;
  auto mac = auth::hmac_sha256{secret}.sign(t + "." + r.body);
  static constexpr char hex[] = "0123456789abcdef";
  std::string expect;
  for (unsigned char b : mac) {
    expect.push_back(hex[b >> 4]);
    expect.push_back(hex[b & 15]);
  }
  return sig.substr(comma + 4) == expect;
}

class webhooks : public e2e {
protected:
  header_list op{{"Authorization", "Bearer " + k_token}};

  void SetUp() override {
    env["HLSGATE_API_TOKEN"] = k_token;
    env["HLSGATE_WEBHOOK_ALLOW_PRIVATE"] = "1";
    env["HLSGATE_WEBHOOK_RETRY_BASE_MS"] = "200";
  }
  http_reply post_json(const std::string& target, const json& body) {
    return http_request(port(), "POST", target, op, body.dump());
  }
  /// Registers `body`; returns the answer (201 expected).
  json add(const json& body) {
    auto r = post_json("/webhooks", body);
    EXPECT_EQ(r.status, 201u) << r.body;
    return parse_json(r);
  }
  json deliveries(const std::string& id) {
    auto r = http_get(port(), "/webhooks/" + id + "/deliveries", op);
    EXPECT_EQ(r.status, 200u) << r.body;
    return parse_json(r)["deliveries"];
  }
  /// Polls the deliveries list (bounded) until `pred` holds on it.
  template <class Pred> json poll_deliveries(const std::string& id, Pred pred) {
    json last;
    for (int i = 0; i < 300; ++i) {
      last = deliveries(id);
      if (pred(last))
        return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling interval
    }
    return last;
  }
  static const received_request* find_event(const std::vector<received_request>& rs,
                                            const std::string& type) {
    for (auto& r : rs)
      if (r.header("hlsgate-event") == type)
        return &r;
    return nullptr;
  }
};

TEST_F(webhooks, signed_envelopes_for_ready_and_deleted_media) {
  start();
  webhook_receiver rx;
  auto hook = add({{"url", rx.url("/hook?src=hlsgate")},
                   {"events", {"media.ready", "media.deleted", "webhook.test"}},
                   {"headers", {{"X-Receiver-Key", "k-123"}}},
                   {"timeout", 5},
                   {"retry_attempts", 2}});
  const std::string secret = hook["secret"], hook_id = hook["id"];
  ASSERT_EQ(secret.rfind("whsec_", 0), 0u) << hook;
  EXPECT_EQ(hook["events"].size(), 3u);
  EXPECT_EQ(hook["webhook_url"], rx.url("/hook?src=hlsgate"));

  // The listing never shows the secret or header values.
  auto listed = parse_json(http_get(port(), "/webhooks", op));
  ASSERT_EQ(listed["webhooks"].size(), 1u) << listed;
  EXPECT_FALSE(listed["webhooks"][0].contains("secret"));
  EXPECT_EQ(listed["webhooks"][0]["header_names"], json({"X-Receiver-Key"}));
  EXPECT_EQ(listed.dump().find("k-123"), std::string::npos);

  auto up = upload(make_clip(clip_audio_only(2)), "?async=true&api_token=" + k_token);
  ASSERT_EQ(up.status, 202u) << up.body;
  const std::string id = parse_json(up)["media_id"];
  ASSERT_TRUE(rx.wait_for(1)) << "no media.ready arrived";
  ASSERT_EQ(http_request(port(), "DELETE", "/media/" + id, op).status, 200u);
  ASSERT_TRUE(rx.wait_for(2)) << "no media.deleted arrived";
  auto rs = rx.requests();
  const int64_t now = unix_now();
  for (auto* type : {"media.ready", "media.deleted"}) {
    auto* r = find_event(rs, type);
    ASSERT_NE(r, nullptr) << type;
    EXPECT_EQ(r->method, "POST");
    EXPECT_EQ(r->target, "/hook?src=hlsgate");
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->header("x-receiver-key"), "k-123");
    EXPECT_FALSE(r->header("hlsgate-delivery").empty());
    EXPECT_TRUE(signature_ok(*r, secret, now)) << r->header("hlsgate-signature");
    EXPECT_FALSE(signature_ok(*r, secret + "x", now));
    auto body = json::parse(r->body);
    EXPECT_EQ(body["event_type"], type);
    EXPECT_EQ(body["media_id"], id);
    EXPECT_EQ(body["event_id"].get<std::string>().size(), 22u);
    EXPECT_NEAR(static_cast<double>(parse_iso(body["timestamp"])), static_cast<double>(now), 60);
    EXPECT_TRUE(body["data"].is_object());
  }
  EXPECT_EQ(json::parse(find_event(rs, "media.ready")->body)["data"]["status"], "ready");
  EXPECT_EQ(find_event(rs, "media.progress"), nullptr) << "not subscribed";

  // The test event, by URL as m3u-proxy's API sends it.
  auto t = http_request(port(), "POST",
                        "/webhooks/test?webhook_url=" + rx.url("/hook%3Fsrc%3Dhlsgate"), op);
  ASSERT_EQ(t.status, 200u) << t.body;
  ASSERT_TRUE(rx.wait_for(3));
  const auto all = rx.requests();
  auto* test_req = find_event(all, "webhook.test");
  ASSERT_NE(test_req, nullptr);
  EXPECT_EQ(json::parse(test_req->body)["event_id"], parse_json(t)["event_id"]);

  auto log = poll_deliveries(hook_id, [](const json& d) {
    return d.size() == 3 &&
           std::all_of(d.begin(), d.end(), [](const json& x) { return x["state"] == "delivered"; });
  });
  ASSERT_EQ(log.size(), 3u) << log;
  EXPECT_EQ(log[0]["event_type"], "webhook.test") << "newest first";
  EXPECT_EQ(log[0]["attempts"], 1);
  EXPECT_EQ(log[0]["last_status"], 200);

  // Deleted by URL (m3u-proxy's form); then it is gone.
  auto del = http_request(port(), "DELETE",
                          "/webhooks?webhook_url=" + rx.url("/hook%3Fsrc%3Dhlsgate"), op);
  EXPECT_EQ(del.status, 200u) << del.body;
  EXPECT_EQ(parse_json(del)["deleted"], 1);
  EXPECT_EQ(http_request(port(), "DELETE", "/webhooks/" + hook_id, op).status, 404u);
  EXPECT_EQ(http_get(port(), "/webhooks/" + hook_id + "/deliveries", op).status, 404u);
  EXPECT_EQ(parse_json(http_get(port(), "/webhooks", op))["webhooks"].size(), 0u);
}

TEST_F(webhooks, registration_refusals) {
  env.erase("HLSGATE_WEBHOOK_ALLOW_PRIVATE"); // the default: public targets only
  start();
  const json ok{{"url", "https://hooks.example.com/x"}};
  EXPECT_EQ(http_request(port(), "POST", "/webhooks", {}, ok.dump()).status, 401u);
  EXPECT_EQ(
      http_request(port(), "POST", "/webhooks", {{"Authorization", "Bearer wrong"}}, ok.dump())
          .status,
      403u);
  EXPECT_EQ(http_get(port(), "/webhooks").status, 401u);
  const std::vector<json> bad{
      json{{"url", "http://127.0.0.1:9/x"}},
      json{{"url", "http://localhost/x"}},
      json{{"url", "http://[::1]/x"}},
      json{{"url", "http://169.254.169.254/latest/meta-data"}},
      json{{"url", "http://10.0.0.1/"}},
      json{{"url", "http://[::ffff:127.0.0.1]/"}},
      json{{"url", "http://2130706433/"}},
      json{{"url", "file:///etc/passwd"}},
      json{{"url", "ftp://hooks.example.com/"}},
      json{{"url", "https://user:pw@hooks.example.com/"}},
      json{{"url", 5}},
      json{{"events", {"media.ready"}}},
      json{{"url", "https://hooks.example.com/"}, {"events", json::array()}},
      json{{"url", "https://hooks.example.com/"}, {"events", {"media.exploded"}}},
      json{{"url", "https://hooks.example.com/"}, {"timeout", 0}},
      json{{"url", "https://hooks.example.com/"}, {"timeout", 31}},
      json{{"url", "https://hooks.example.com/"}, {"retry_attempts", 11}},
      json{{"url", "https://hooks.example.com/"}, {"retry_attempts", -1}},
      json{{"url", "https://hooks.example.com/"}, {"headers", {{"Host", "evil"}}}},
      json{{"url", "https://hooks.example.com/"}, {"headers", {{"X-A", "a\r\nX-B: b"}}}},
      json{{"url", "https://hooks.example.com/"}, {"headers", {{"Bad Name", "v"}}}},
      json{{"url", "https://hooks.example.com/"}, {"headers", {{"HLSGATE-Signature", "v"}}}},
      json{{"url", "https://hooks.example.com/"}, {"admin", true}},
  };
  for (auto& b : bad) {
    auto r = post_json("/webhooks", b);
    EXPECT_EQ(r.status, 422u) << b << " -> " << r.body;
    EXPECT_TRUE(parse_json(r).contains("detail")) << r.body;
  }
  EXPECT_EQ(http_request(port(), "POST", "/webhooks", op, "{not json").status, 422u);
  // A public name is accepted (its addresses are checked at each delivery).
  EXPECT_EQ(post_json("/webhooks", ok).status, 201u);
  EXPECT_EQ(http_request(port(), "DELETE", "/webhooks", op).status, 422u) << "no URL given";
  EXPECT_EQ(http_request(port(), "POST", "/webhooks/test", op).status, 422u);
  EXPECT_EQ(
      http_request(port(), "POST", "/webhooks/test?webhook_url=https://nope.example/", op).status,
      404u);
}

TEST_F(webhooks, failed_attempts_are_retried_with_backoff_and_survive_a_restart) {
  start();
  webhook_receiver rx;
  rx.script({500, 503, 200});
  auto hook = add({{"url", rx.url()}, {"events", {"webhook.test"}}, {"retry_attempts", 3}});
  const std::string hook_id = hook["id"];
  ASSERT_EQ(post_json("/webhooks/test?webhook_id=" + hook_id, json::object()).status, 200u);
  ASSERT_TRUE(rx.wait_for(3)) << "expected two retries";
  auto rs = rx.requests();
  // Same delivery each time, re-signed; the waits grow (200 ms base, doubling,
  // scaled by 0.5-1.0 jitter).
  EXPECT_EQ(rs[0].header("hlsgate-delivery"), rs[2].header("hlsgate-delivery"));
  EXPECT_EQ(rs[0].body, rs[2].body);
  EXPECT_GE(rs[1].at - rs[0].at, std::chrono::milliseconds(100));
  EXPECT_GE(rs[2].at - rs[1].at, std::chrono::milliseconds(200));
  auto log = poll_deliveries(
      hook_id, [](const json& d) { return d.size() == 1 && d[0]["state"] == "delivered"; });
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["state"], "delivered") << log;
  EXPECT_EQ(log[0]["attempts"], 3);

  // An endpoint that keeps failing: the delivery stays queued in the store
  // across a crash and arrives after the restart.
  rx.set_fallback(503);
  ASSERT_EQ(post_json("/webhooks/test?webhook_id=" + hook_id, json::object()).status, 200u);
  ASSERT_TRUE(rx.wait_for(4));
  const std::string pending_id = rx.requests()[3].header("hlsgate-delivery");
  srv->kill9();
  srv.reset();
  rx.set_fallback(200);
  const size_t before = rx.requests().size();
  start();
  ASSERT_TRUE(rx.wait_for(before + 1)) << "the queued delivery was lost in the restart";
  auto after = rx.requests();
  EXPECT_EQ(after.back().header("hlsgate-delivery"), pending_id);
  log = poll_deliveries(hook_id, [&](const json& d) {
    return std::any_of(d.begin(), d.end(), [&](const json& x) {
      return x["delivery_id"] == pending_id && x["state"] == "delivered";
    });
  });
  auto it = std::find_if(log.begin(), log.end(),
                         [&](const json& x) { return x["delivery_id"] == pending_id; });
  ASSERT_NE(it, log.end()) << log;
  EXPECT_EQ((*it)["state"], "delivered") << log;
  // At least once: an attempt whose outcome the crash cut off is made again
  // (and counted again).
  EXPECT_GE((*it)["attempts"].get<int>(), 1);
  EXPECT_GE(std::count_if(after.begin(), after.end(),
                          [&](const received_request& r) {
                            return r.header("hlsgate-delivery") == pending_id;
                          }),
            2);

  // Out of attempts: failed for good, with the reason.
  rx.set_fallback(500);
  auto short_hook =
      add({{"url", rx.url("/short")}, {"events", {"webhook.test"}}, {"retry_attempts", 1}});
  ASSERT_EQ(
      post_json("/webhooks/test?webhook_id=" + short_hook["id"].get<std::string>(), json::object())
          .status,
      200u);
  log = poll_deliveries(short_hook["id"],
                        [](const json& d) { return d.size() == 1 && d[0]["state"] == "failed"; });
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["state"], "failed") << log;
  EXPECT_EQ(log[0]["attempts"], 2);
  EXPECT_EQ(log[0]["last_error"], "HTTP 500");

  // A permanent refusal (404, 410, other 4xx) is not retried.
  webhook_receiver gone{410};
  auto gone_hook = add({{"url", gone.url()}, {"events", {"webhook.test"}}, {"retry_attempts", 5}});
  ASSERT_EQ(
      post_json("/webhooks/test?webhook_id=" + gone_hook["id"].get<std::string>(), json::object())
          .status,
      200u);
  log = poll_deliveries(gone_hook["id"],
                        [](const json& d) { return d.size() == 1 && d[0]["state"] == "failed"; });
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["attempts"], 1) << log;
  EXPECT_EQ(log[0]["last_status"], 410);
  EXPECT_EQ(gone.requests().size(), 1u);
}

TEST_F(webhooks, a_hanging_endpoint_never_delays_another_and_redirects_are_not_followed) {
  start();
  webhook_receiver stuck{webhook_receiver::hang};
  webhook_receiver fine;
  webhook_receiver moved{302};
  auto s = add(
      {{"url", stuck.url()}, {"events", {"webhook.test"}}, {"timeout", 3}, {"retry_attempts", 0}});
  auto f = add({{"url", fine.url()}, {"events", {"webhook.test"}}, {"timeout", 3}});
  auto m = add({{"url", moved.url()}, {"events", {"webhook.test"}}, {"retry_attempts", 0}});
  // More events than the stuck endpoint may have on the wire at once.
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(
        post_json("/webhooks/test?webhook_id=" + s["id"].get<std::string>(), json::object()).status,
        200u);
  ASSERT_TRUE(stuck.wait_for(4, std::chrono::seconds{10}));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(
      post_json("/webhooks/test?webhook_id=" + f["id"].get<std::string>(), json::object()).status,
      200u);
  ASSERT_TRUE(fine.wait_for(1, std::chrono::seconds{10}));
  EXPECT_LT(fine.requests()[0].at - t0, std::chrono::seconds{2})
      << "the healthy endpoint waited for the stuck one (3 s timeout)";
  // The stuck endpoint's own deliveries time out and fail.
  auto log = poll_deliveries(s["id"], [](const json& d) {
    return d.size() == 6 &&
           std::all_of(d.begin(), d.end(), [](const json& x) { return x["state"] == "failed"; });
  });
  ASSERT_EQ(log.size(), 6u) << log;
  EXPECT_EQ(log[0]["last_error"], "timed out") << log;

  ASSERT_EQ(
      post_json("/webhooks/test?webhook_id=" + m["id"].get<std::string>(), json::object()).status,
      200u);
  log = poll_deliveries(m["id"],
                        [](const json& d) { return d.size() == 1 && d[0]["state"] == "failed"; });
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["last_status"], 302);
  EXPECT_EQ(log[0]["last_error"], "redirects are not followed");
  EXPECT_EQ(moved.requests().size(), 1u);
}

} // namespace
} // namespace hlsgate::test
