// live::playlist_guard: a pulled playlist's body, bounded as it arrives.
#include <gtest/gtest.h>

#include "live/pull_guard.hpp"

namespace hlsgate::live {
namespace {

TEST(playlist_guard, passes_playlists_and_types_bodies_by_their_first_byte) {
  EXPECT_TRUE(starts_mpegts(0x47));
  EXPECT_FALSE(starts_mpegts('#'));
  playlist_guard g;
  const std::string media = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg1.ts\n";
  for (char c : media) // one byte at a time: tags split across reads
    EXPECT_EQ(g.feed(std::string_view{&c, 1}), "");
}

TEST(playlist_guard, refuses_playlists_too_large_too_long_or_with_too_many_variants) {
  playlist_guard big;
  const std::string chunk(64 * 1024, '#');
  std::string why;
  for (int i = 0; i < 17 && why.empty(); ++i)
    why = big.feed(chunk);
  EXPECT_EQ(why, "playlist larger than 1 MiB");
  EXPECT_EQ(big.feed("x"), why) << "and stays refused";

  playlist_guard lines;
  why.clear();
  for (int i = 0; i < 2100 && why.empty(); ++i)
    why = lines.feed(std::string(10, '\n'));
  EXPECT_EQ(why, "playlist of more than 20000 lines");

  playlist_guard variants;
  std::string master = "#EXTM3U\n";
  for (int i = 0; i < 17; ++i)
    master += "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXT-X-MEDIA:TYPE=AUDIO\n";
  why.clear();
  for (size_t i = 0; i < master.size() && why.empty(); i += 5) // split tags
    why = variants.feed(std::string_view{master}.substr(i, 5));
  EXPECT_EQ(why, "playlist naming more than 32 variants and renditions");
  playlist_guard fine;
  EXPECT_EQ(fine.feed(master.substr(0, master.size() / 2)), "") << "half of them are fine";
}

} // namespace
} // namespace hlsgate::live
