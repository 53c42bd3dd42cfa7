// The admins' listing: order, paging, filters and hostile cursors.
#include "actors/media_index.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace hlsgate::actors;

namespace {

media_summary line(std::string id, int64_t t, std::string name = "clip.mp4",
                   std::string status = "ready") {
  media_summary s;
  s.media_id = std::move(id);
  s.created_at = t;
  s.name = std::move(name);
  s.status = std::move(status);
  return s;
}

std::vector<std::string> ids(const media_page& p) {
  std::vector<std::string> out;
  for (auto& s : p.items)
    out.push_back(s.media_id);
  return out;
}

} // namespace

TEST(media_index, pages_newest_first_without_repeats_or_gaps_while_items_change) {
  media_index ix;
  for (int i = 0; i < 10; ++i)
    ix.put(line("id" + std::to_string(i), 1000 + i / 2)); // pairs share a second
  media_query q;
  q.limit = 4;
  media_page p;
  ASSERT_TRUE(ix.page(q, p));
  EXPECT_EQ(ids(p), (std::vector<std::string>{"id9", "id8", "id7", "id6"}));
  ASSERT_FALSE(p.next_cursor.empty());

  // Between pages: a newer item arrives, one already seen and one not yet
  // seen are removed. Neither shifts the next page.
  ix.put(line("new", 2000));
  ix.erase("id8");
  ix.erase("id3");
  q.cursor = p.next_cursor;
  ASSERT_TRUE(ix.page(q, p));
  EXPECT_EQ(ids(p), (std::vector<std::string>{"id5", "id4", "id2", "id1"}));
  q.cursor = p.next_cursor;
  ASSERT_TRUE(ix.page(q, p));
  EXPECT_EQ(ids(p), (std::vector<std::string>{"id0"}));
  EXPECT_EQ(p.next_cursor, ""); // the last page says so
}

TEST(media_index, an_exact_last_page_has_no_cursor) {
  media_index ix;
  ix.put(line("a", 1));
  ix.put(line("b", 2));
  media_query q;
  q.limit = 2;
  media_page p;
  ASSERT_TRUE(ix.page(q, p));
  EXPECT_EQ(p.items.size(), 2u);
  EXPECT_EQ(p.next_cursor, "");
}

TEST(media_index, filters_by_status_and_folded_name_or_exact_id) {
  media_index ix;
  ix.put(line("a", 1, "Holiday.MP4", "ready"));
  ix.put(line("b", 2, "holiday-2.mkv", "failed"));
  ix.put(line("c", 3, "talk.mov", "imported"));
  media_query q;
  media_page p;
  q.filter.q = "HOLI";
  ASSERT_TRUE(ix.page(q, p));
  EXPECT_EQ(ids(p), (std::vector<std::string>{"b", "a"}));
  q.filter.status = "ready";
  ASSERT_TRUE(ix.page(q, p));
  EXPECT_EQ(ids(p), (std::vector<std::string>{"a"}));
  q.filter = {"", "c"}; // the exact id (no name contains "c")
  ASSERT_TRUE(ix.page(q, p));
  EXPECT_EQ(ids(p), (std::vector<std::string>{"c"}));
  EXPECT_EQ(ix.matching({"imported", ""}), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(ix.matching({"processing", ""}).empty());
}

TEST(media_index, a_changed_line_replaces_the_old_one) {
  media_index ix;
  ix.put(line("a", 5, "x", "queued"));
  ix.put(line("a", 5, "x", "ready"));
  EXPECT_EQ(ix.size(), 1u);
  media_page p;
  ASSERT_TRUE(ix.page({}, p));
  ASSERT_EQ(p.items.size(), 1u);
  EXPECT_EQ(p.items[0].status, "ready");
  ix.put(line("a", 7, "x", "ready")); // a changed creation time moves the line
  media_query q;
  q.limit = 0; // taken as 1
  ASSERT_TRUE(ix.page(q, p));
  ASSERT_EQ(p.items.size(), 1u);
  EXPECT_EQ(p.items[0].created_at, 7);
  ix.erase("a");
  ix.erase("never");
  EXPECT_EQ(ix.size(), 0u);
}

TEST(media_index, foreign_cursors_are_refused) {
  media_index ix;
  ix.put(line("a", 5));
  media_page p;
  for (const std::string& bad :
       std::vector<std::string>{"x", ".a", "5.", "-1.a", "5.a/b", "5.a.b", "99999999999999999999.a",
                                "5a.b", " 5.a", "5.\xc3\xa9", std::string(200, '1') + ".a"}) {
    media_query q;
    q.cursor = bad;
    EXPECT_FALSE(ix.page(q, p)) << bad;
  }
  media_query q;
  q.cursor = "6.zzz"; // well formed but not an item: pages from that point
  ASSERT_TRUE(ix.page(q, p));
  EXPECT_EQ(ids(p), (std::vector<std::string>{"a"}));
}

TEST(media_index, folded_search) {
  EXPECT_TRUE(contains_folded("Holiday", ""));
  EXPECT_TRUE(contains_folded("Holiday", "DAY"));
  EXPECT_FALSE(contains_folded("Hol", "Holiday"));
  EXPECT_FALSE(contains_folded("Holiday", "dax"));
  EXPECT_TRUE(is_listed_status("imported"));
  EXPECT_FALSE(is_listed_status("deleted"));
  EXPECT_FALSE(is_listed_status(""));
}
