// GET /media's cursor and filter over a small index (actors/media_index).
// Invariants: a page holds at most `limit` lines, each matching the filter
// and strictly older than a well-formed cursor; a next cursor is given only
// when another matching line follows, and paging with it never repeats one.
#include <set>

#include "actors/media_index.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate::actors;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = hlsgate::fuzz::fields(data, size, 4);
  static const media_index ix = [] {
    media_index i;
    const char* names[] = {"Holiday.mp4", "talk.MOV", "", "a\xc3\xa9.mkv", "x"};
    for (int k = 0; k < 40; ++k) {
      media_summary s;
      s.media_id = "id" + std::to_string(k);
      s.created_at = 1000 + k / 3; // ties in the same second
      s.name = names[k % 5];
      s.status = k % 4 == 0 ? "ready" : k % 4 == 1 ? "failed" : k % 4 == 2 ? "imported" : "queued";
      i.put(s);
    }
    return i;
  }();
  media_query q;
  q.cursor.assign(f[0]);
  q.filter.status.assign(f[1]);
  q.filter.q.assign(f[2]);
  q.limit = f[3].empty() ? 1 : static_cast<unsigned char>(f[3][0]) % 50;
  const size_t limit = q.limit == 0 ? 1 : q.limit;
  std::set<std::string> seen;
  for (int pages = 0; pages < 50; ++pages) {
    media_page p;
    if (!ix.page(q, p))
      return 0; // refused cursor
    if (p.items.size() > limit)
      __builtin_trap();
    for (auto& s : p.items) {
      if (!matches_filter(s, q.filter) || !seen.insert(s.media_id).second)
        __builtin_trap();
    }
    if (!p.next_cursor.empty() && p.items.size() != limit)
      __builtin_trap();
    if (p.next_cursor.empty())
      return 0;
    q.cursor = p.next_cursor;
  }
  return 0;
}
