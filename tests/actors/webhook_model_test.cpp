// The pure rules of webhooks: signature, retry schedule, header checks,
// envelope; and the store's durable queue (a real SQLite file).
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/webhook_model.hpp"
#include "actors/webhook_store.hpp"
#include "auth/crypto.hpp"

namespace hlsgate::actors {
namespace {

namespace rules = webhook_rules;

TEST(webhook_rules, signature_is_hmac_sha256_of_time_dot_body) {
  // Computed independently:
  // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
  EXPECT_EQ(rules::signature("whsec_test", 1700000000, R"({"a":1})"),
            "t=1700000000,v1=" + std::string{"38877139021993b830af32feea6e18a8"
                                             "da83eb2f6e49ee50bd9e4cf4ca4d3789"});
}

TEST(webhook_rules, retry_delays_double_are_capped_and_jittered) {
  EXPECT_EQ(rules::retry_delay_ms(0, 1000, 0.5), 0);
  EXPECT_EQ(rules::retry_delay_ms(1, 1000, 1.0), 1000);
  EXPECT_EQ(rules::retry_delay_ms(1, 1000, 0.0), 500);
  EXPECT_EQ(rules::retry_delay_ms(2, 1000, 1.0), 2000);
  EXPECT_EQ(rules::retry_delay_ms(4, 1000, 1.0), 8000);
  EXPECT_EQ(rules::retry_delay_ms(30, 1000, 1.0), rules::max_delay_ms);
  EXPECT_EQ(rules::retry_delay_ms(1000, 1000, 1.0), rules::max_delay_ms);
  EXPECT_EQ(rules::retry_delay_ms(3, 1000, 7.0), 4000) << "jitter clamped";
  for (unsigned a = 1; a < 12; ++a)
    EXPECT_LE(rules::retry_delay_ms(a, 1000, 0.3), rules::retry_delay_ms(a + 1, 1000, 0.3));
}

TEST(webhook_rules, only_answers_that_may_change_are_retried) {
  for (unsigned s : {0u, 408u, 425u, 429u, 500u, 502u, 503u, 504u})
    EXPECT_TRUE(rules::worth_retrying(s)) << s;
  for (unsigned s : {301u, 302u, 307u, 400u, 401u, 403u, 404u, 410u, 422u})
    EXPECT_FALSE(rules::worth_retrying(s)) << s;
}

TEST(webhook_rules, headers_hlsgate_sets_or_that_frame_a_message_are_refused) {
  EXPECT_EQ(rules::header_refusal("X-Receiver-Key", "abc"), "");
  EXPECT_EQ(rules::header_refusal("Authorization", "Bearer x\tvalue"), "");
  for (auto* name : {"Host", "content-length", "Content-Type", "Transfer-Encoding", "Connection",
                     "HLSGATE-Signature", "hlsgate-event", "User-Agent", "Expect"})
    EXPECT_NE(rules::header_refusal(name, "v"), "") << name;
  EXPECT_NE(rules::header_refusal("", "v"), "");
  EXPECT_NE(rules::header_refusal("Bad Name", "v"), "");
  EXPECT_NE(rules::header_refusal("X:Y", "v"), "");
  EXPECT_NE(rules::header_refusal("X-A", "a\r\nX-B: b"), "");
  EXPECT_NE(rules::header_refusal("X-A", std::string(1025, 'a')), "");
  EXPECT_NE(rules::header_refusal(std::string(101, 'a'), "v"), "");
}

TEST(webhook_rules, envelope_has_the_shared_shape) {
  webhook_event e;
  e.type = "media.ready";
  e.subject_key = "media_id";
  e.subject_id = "abc";
  e.data_json = R"({"duration":4.5})";
  auto j = nlohmann::json::parse(rules::envelope("ev1", e, 1700000000));
  EXPECT_EQ(j.dump(), R"({"data":{"duration":4.5},"event_id":"ev1","event_type":"media.ready",)"
                      R"("media_id":"abc","timestamp":"2023-11-14T22:13:20Z"})");
  e.subject_key = "stream_id";
  e.data_json = "not json";
  j = nlohmann::json::parse(rules::envelope("ev2", e, 0));
  EXPECT_EQ(j["stream_id"], "abc");
  EXPECT_EQ(j["data"], nlohmann::json::object());
  EXPECT_TRUE(rules::known_event("media.progress"));
  EXPECT_FALSE(rules::known_event("media.exploded"));
}

TEST(webhook_store, queue_survives_reopen_and_keeps_the_newest_finished) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("hlsgate-hooks-" + auth::random_id());
  fs::create_directories(dir);
  struct cleanup {
    fs::path p;
    ~cleanup() { fs::remove_all(p); }
  } gone{dir};
  const std::string db = (dir / "hlsgate.db").string();
  webhook w;
  w.id = "w1";
  w.url = "https://example.com/h";
  w.events = {"media.ready"};
  w.headers = {{"X-K", "v"}};
  w.secret = "s";
  w.created_at = 5;
  {
    auto s = webhook_store::open(db);
    ASSERT_TRUE(s) << s.err().reason;
    ASSERT_TRUE((*s)->put_webhook(w));
    std::vector<webhook_delivery> ds;
    for (int i = 0; i < static_cast<int>(rules::kept_deliveries) + 5; ++i) {
      webhook_delivery d;
      d.id = "d" + std::to_string(i);
      d.webhook_id = "w1";
      d.event_id = "e";
      d.event_type = "media.ready";
      d.body = "{}";
      d.created_at = 10;
      ds.push_back(d);
    }
    ASSERT_TRUE((*s)->add_deliveries(ds));
    for (int i = 0; i < static_cast<int>(rules::kept_deliveries) + 3; ++i) {
      auto d = ds[static_cast<size_t>(i)];
      d.state = delivery_state::delivered;
      d.attempts = 1;
      d.last_status = 200;
      ASSERT_TRUE((*s)->update_delivery(d));
    }
  }
  auto s = webhook_store::open(db);
  ASSERT_TRUE(s);
  auto hooks = (*s)->load_webhooks();
  ASSERT_TRUE(hooks);
  ASSERT_EQ(hooks->size(), 1u);
  EXPECT_EQ((*hooks)[0].url, w.url);
  EXPECT_EQ((*hooks)[0].headers, w.headers);
  EXPECT_EQ((*hooks)[0].secret, "s");
  auto pending = (*s)->load_pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, "d" + std::to_string(rules::kept_deliveries + 3)) << "oldest first";
  auto recent = (*s)->recent("w1", 1000);
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->size(), rules::kept_deliveries + 2) << "finished ones pruned to the newest";
  EXPECT_EQ(recent->front().id, "d" + std::to_string(rules::kept_deliveries + 4)) << "newest first";
  EXPECT_TRUE(recent->front().body.empty());
  ASSERT_TRUE((*s)->remove_webhook("w1"));
  EXPECT_EQ((*s)->load_pending()->size(), 0u);
  EXPECT_EQ((*s)->load_webhooks()->size(), 0u);
}

} // namespace
} // namespace hlsgate::actors
