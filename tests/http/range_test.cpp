// decide_file: RFC 9110 §13 (conditional) and §14 (range) decisions.
#include "http/range.hpp"

#include <gtest/gtest.h>

using namespace hlsgate::http;

namespace {

const file_facts k_file{1000, 1700000000};

file_decision get(std::string_view range, std::string_view if_range = {},
                  std::string_view inm = {}) {
  file_conditions c;
  c.range = range;
  c.if_range = if_range;
  c.if_none_match = inm;
  return decide_file(k_file, c);
}

} // namespace

TEST(range, whole_file_without_range) {
  auto d = get({});
  EXPECT_EQ(d.status, 200u);
  EXPECT_EQ(d.first, 0u);
  EXPECT_EQ(d.length, 1000u);
  EXPECT_TRUE(d.send_body);
  EXPECT_EQ(d.etag, "\"6553f100-3e8\"");
  EXPECT_EQ(d.last_modified, "Tue, 14 Nov 2023 22:13:20 GMT");
}

TEST(range, single_ranges) {
  auto d = get("bytes=100-199");
  EXPECT_EQ(d.status, 206u);
  EXPECT_EQ(d.first, 100u);
  EXPECT_EQ(d.length, 100u);
  EXPECT_EQ(d.content_range, "bytes 100-199/1000");
  d = get("bytes=-10");
  EXPECT_EQ(d.status, 206u);
  EXPECT_EQ(d.first, 990u);
  EXPECT_EQ(d.length, 10u);
  d = get("bytes=-5000"); // longer suffix than the file: the whole file as 206
  EXPECT_EQ(d.status, 206u);
  EXPECT_EQ(d.first, 0u);
  EXPECT_EQ(d.length, 1000u);
  d = get("bytes=900-");
  EXPECT_EQ(d.content_range, "bytes 900-999/1000");
  d = get("bytes=900-5000"); // last clamped
  EXPECT_EQ(d.length, 100u);
  d = get("BYTES = 0-0");
  EXPECT_EQ(d.status, 206u);
  EXPECT_EQ(d.length, 1u);
}

TEST(range, unsatisfiable_is_416) {
  for (auto r : {"bytes=1000-", "bytes=5000-6000", "bytes=-0"}) {
    auto d = get(r);
    EXPECT_EQ(d.status, 416u) << r;
    EXPECT_EQ(d.content_range, "bytes */1000") << r;
    EXPECT_FALSE(d.send_body);
  }
}

TEST(range, ignored_ranges_serve_the_whole_file) {
  for (auto r : {"bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=", "bytes=-",
                 "bytes 0-1", "bytes=99999999999999999999-", "bytes=+1-2", "bytes=1-2-3"}) {
    auto d = get(r);
    EXPECT_EQ(d.status, 200u) << r;
    EXPECT_EQ(d.length, 1000u) << r;
  }
}

TEST(range, head_ignores_range_and_sends_no_body) {
  file_conditions c;
  c.head = true;
  c.range = "bytes=0-9";
  auto d = decide_file(k_file, c);
  EXPECT_EQ(d.status, 200u);
  EXPECT_EQ(d.length, 1000u);
  EXPECT_FALSE(d.send_body);
}

TEST(range, if_none_match) {
  const std::string tag = get({}).etag;
  EXPECT_EQ(get({}, {}, tag).status, 304u);
  EXPECT_EQ(get({}, {}, "*").status, 304u);
  EXPECT_EQ(get({}, {}, "\"x\", W/" + tag).status, 304u); // weak comparison
  EXPECT_EQ(get({}, {}, "\"other\"").status, 200u);
  EXPECT_EQ(get({}, {}, tag.substr(0, tag.size() - 1)).status, 200u); // no substring match
  auto d = get("bytes=0-1", {}, tag);                                 // 304 wins over Range
  EXPECT_EQ(d.status, 304u);
  EXPECT_FALSE(d.send_body);
}

TEST(range, if_range) {
  const auto full = get({});
  EXPECT_EQ(get("bytes=0-9", full.etag).status, 206u);
  EXPECT_EQ(get("bytes=0-9", "W/" + full.etag).status, 200u); // strong comparison only
  EXPECT_EQ(get("bytes=0-9", "\"stale\"").status, 200u);
  EXPECT_EQ(get("bytes=0-9", full.last_modified).status, 206u);
  EXPECT_EQ(get("bytes=0-9", "Mon, 01 Jan 2001 00:00:00 GMT").status, 200u);
  EXPECT_EQ(get("bytes=0-9", "   ").status, 200u);
}

TEST(range, empty_file) {
  file_conditions c;
  auto d = decide_file({0, 1}, c);
  EXPECT_EQ(d.status, 200u);
  EXPECT_EQ(d.length, 0u);
  c.range = "bytes=0-";
  EXPECT_EQ(decide_file({0, 1}, c).status, 416u);
}
