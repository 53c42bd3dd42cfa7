#include "auth/revocation.hpp"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

using namespace hlsgate::auth;
using verdict = revocation_table::verdict;

namespace {
constexpr int64_t t0 = 1'700'000'000;
}

TEST(Revocation, GenerationJtiAndDeadline) {
  revocation_table t;
  EXPECT_EQ(t.check("sid-a", 1, "j1", t0), verdict::gone);
  t.publish("sid-a", {1, t0 + 60, {}});
  EXPECT_EQ(t.check("sid-a", 1, "j1", t0), verdict::ok);
  EXPECT_EQ(t.check("sid-a", 1, "", t0), verdict::ok) << "a token from before jti existed";
  EXPECT_EQ(t.check("sid-a", 2, "j1", t0), verdict::revoked);
  EXPECT_EQ(t.check("sid-a", 1, "j1", t0 + 60), verdict::expired);
  t.publish("sid-a", {1, t0 + 60, {"j1"}});
  EXPECT_EQ(t.check("sid-a", 1, "j1", t0), verdict::revoked);
  EXPECT_EQ(t.check("sid-a", 1, "j2", t0), verdict::ok);
  t.publish("sid-a", {2, t0 + 600, {}}); // refresh: everything older goes
  EXPECT_EQ(t.check("sid-a", 1, "j2", t0), verdict::revoked);
  EXPECT_EQ(t.check("sid-a", 2, "j3", t0 + 300), verdict::ok) << "extended";
  EXPECT_EQ(t.check("sid-b", 2, "j3", t0), verdict::gone);
  EXPECT_EQ(t.size(), 1u);
  t.erase("sid-a");
  EXPECT_EQ(t.check("sid-a", 2, "j3", t0), verdict::gone);
  EXPECT_EQ(t.size(), 0u);
}

TEST(Revocation, TablesAreIndependent) {
  revocation_table a, b;
  a.publish("sid", {1, t0 + 60, {}});
  EXPECT_EQ(a.check("sid", 1, "x", t0), verdict::ok);
  EXPECT_EQ(b.check("sid", 1, "x", t0), verdict::gone) << "per-thread caches are per table";
  b.publish("sid", {5, t0 + 60, {}});
  EXPECT_EQ(a.check("sid", 1, "x", t0), verdict::ok);
  EXPECT_EQ(b.check("sid", 5, "x", t0), verdict::ok);
}

TEST(Revocation, ManyItems) {
  revocation_table t;
  for (int i = 0; i < 5000; ++i)
    t.publish("item-" + std::to_string(i), {static_cast<uint64_t>(i), t0 + 60, {}});
  EXPECT_EQ(t.size(), 5000u);
  for (int i = 0; i < 5000; i += 7)
    EXPECT_EQ(t.check("item-" + std::to_string(i), i, "", t0), verdict::ok) << i;
  for (int i = 0; i < 5000; i += 2)
    t.erase("item-" + std::to_string(i));
  EXPECT_EQ(t.size(), 2500u);
  EXPECT_EQ(t.check("item-2", 2, "", t0), verdict::gone);
  EXPECT_EQ(t.check("item-3", 3, "", t0), verdict::ok);
}

// Readers on other threads see a change once it is published, and never a
// torn state (run under the sanitizer pass too).
TEST(Revocation, ConcurrentReadersSeeChanges) {
  revocation_table t;
  t.publish("sid", {1, t0 + 60, {}});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto v = t.check("sid", 1, "j", t0);
        if (v != verdict::ok && v != verdict::revoked)
          bad.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  for (int i = 0; i < 2000; ++i)
    t.publish("sid", {static_cast<uint64_t>(1 + i % 2), t0 + 60, {}});
  t.publish("sid", {2, t0 + 60, {}});
  // Once published, every reader sees the revocation.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (reads.load() < 1000 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  stop = true;
  for (auto& th : readers)
    th.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GE(reads.load(), 1000u);
  EXPECT_EQ(t.check("sid", 1, "j", t0), verdict::revoked);
}

TEST(Revocation, Handles) {
  EXPECT_EQ(revocation_handle(7, "AbC-_9"), "7.AbC-_9");
  uint64_t gen = 0;
  std::string_view jti;
  ASSERT_TRUE(parse_revocation_handle("7.AbC-_9", gen, jti));
  EXPECT_EQ(gen, 7u);
  EXPECT_EQ(jti, "AbC-_9");
  ASSERT_TRUE(parse_revocation_handle("12.", gen, jti));
  EXPECT_EQ(jti, "");
  for (const char* bad :
       {"", ".", "x.y", "7", "-1.a", "1.a/b", "1.a.b", "1.a%2F", "99999999999999999999999.a",
        "1.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    EXPECT_FALSE(parse_revocation_handle(bad, gen, jti)) << bad;
}
