#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <thread>

#include "http/playlist_cache.hpp"

using namespace hlsgate::http;

namespace {

std::string gunzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK); // gzip wrapper only
  std::string out(in.size() * 20 + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  EXPECT_EQ(rc, Z_STREAM_END);
  return out;
}

std::string long_playlist(int segments) {
  std::string s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n";
  for (int i = 0; i < segments; ++i)
    s += "#EXTINF:6.000,\n/seg/abc/v0/seg_" + std::to_string(i) + ".ts?e=1&s=x\n";
  return s + "#EXT-X-ENDLIST\n";
}

} // namespace

TEST(AcceptsGzip, ListedCodings) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("GZIP"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
  EXPECT_TRUE(accepts_gzip("deflate , gzip ;q=0.001"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("gzip;q=0, gzip"));
}

TEST(AcceptsGzip, RefusedOrAbsent) {
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("deflate, br"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0, *")); // gzip itself refused
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=abc")); // a malformed q accepts nothing
  EXPECT_FALSE(accepts_gzip("gzipx, xgzip"));
  EXPECT_FALSE(accepts_gzip(",,;,"));
}

TEST(GzipCompress, RoundTripsAndShrinksAPlaylist) {
  const std::string pl = long_playlist(1800);
  const std::string z = gzip_compress(pl);
  ASSERT_GE(z.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f); // RFC 1952 magic
  EXPECT_EQ(static_cast<unsigned char>(z[1]), 0x8b);
  EXPECT_LT(z.size() * 5, pl.size()) << "repetitive playlists compress well";
  EXPECT_EQ(gunzip(z), pl);
  EXPECT_EQ(gunzip(gzip_compress("")), "");
}

TEST(PlaylistCache, RendersOncePerSnapshotRenditionAndQuery) {
  auto snap = std::make_shared<const int>(1);
  int renders = 0;
  auto render = [&] {
    ++renders;
    return long_playlist(3);
  };
  auto a = cached_playlist(snap, 0, "?e=1", false, render);
  auto b = cached_playlist(snap, 0, "?e=1", false, render);
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(a.plain, b.plain) << "the same bytes are shared, not copied";
  EXPECT_EQ(*a.plain, long_playlist(3));
  EXPECT_EQ(a.gzip, nullptr);

  cached_playlist(snap, 1, "?e=1", false, render); // another rendition
  cached_playlist(snap, 0, "?e=2", false, render); // another signature
  auto later = std::make_shared<const int>(1);     // the item changed
  cached_playlist(later, 0, "?e=1", false, render);
  EXPECT_EQ(renders, 4);
}

TEST(PlaylistCache, GzipMadeOnFirstRequestThatAcceptsIt) {
  auto snap = std::make_shared<const int>(2);
  int renders = 0;
  auto render = [&] {
    ++renders;
    return long_playlist(50);
  };
  auto plain = cached_playlist(snap, 0, "?q", false, render);
  EXPECT_EQ(plain.gzip, nullptr);
  auto z1 = cached_playlist(snap, 0, "?q", true, render);
  auto z2 = cached_playlist(snap, 0, "?q", true, render);
  EXPECT_EQ(renders, 1);
  ASSERT_NE(z1.gzip, nullptr);
  EXPECT_EQ(z1.gzip, z2.gzip);
  EXPECT_EQ(gunzip(*z1.gzip), *plain.plain);
}

TEST(PlaylistCache, LeastRecentlyUsedEntryIsReplaced) {
  auto snap = std::make_shared<const int>(3);
  int renders = 0;
  auto render = [&] {
    ++renders;
    return std::string("x");
  };
  cached_playlist(snap, 0, "keep", false, render);
  for (int i = 0; i < 100; ++i) {
    cached_playlist(snap, 0, "keep", false, render); // kept recent
    cached_playlist(snap, 0, "q" + std::to_string(i), false, render);
  }
  EXPECT_EQ(renders, 101);
  cached_playlist(snap, 0, "keep", false, render);
  EXPECT_EQ(renders, 101) << "a hot entry survives a stream of one-off keys";
  cached_playlist(snap, 0, "q0", false, render);
  EXPECT_EQ(renders, 102) << "an old one-off key was evicted (the cache is bounded)";
}

TEST(PlaylistCache, EachThreadHasItsOwn) {
  auto snap = std::make_shared<const int>(4);
  int main_renders = 0, other_renders = 0;
  cached_playlist(snap, 0, "?t", false, [&] {
    ++main_renders;
    return std::string("a");
  });
  std::thread t([&] {
    cached_playlist(snap, 0, "?t", false, [&] {
      ++other_renders;
      return std::string("a");
    });
  });
  t.join();
  EXPECT_EQ(main_renders, 1);
  EXPECT_EQ(other_renders, 1);
}

TEST(PlaylistCache, ARenderThatThrowsCachesNothing) {
  auto snap = std::make_shared<const int>(7);
  int renders = 0;
  // Fill every slot first, so the failing key would take a used slot.
  for (int i = 0; i < 40; ++i)
    cached_playlist(snap, static_cast<size_t>(i), "?q", false, [&] { return std::string{"old"}; });
  EXPECT_THROW(cached_playlist(snap, 99, "?q", true,
                               [&]() -> std::string {
                                 ++renders;
                                 throw std::runtime_error("render failed");
                               }),
               std::runtime_error);
  auto body = cached_playlist(snap, 99, "?q", true, [&] {
    ++renders;
    return long_playlist(3);
  });
  EXPECT_EQ(renders, 2) << "the failed render left an entry under its key";
  ASSERT_TRUE(body.plain && body.gzip);
  EXPECT_EQ(*body.plain, long_playlist(3));
  EXPECT_EQ(gunzip(*body.gzip), long_playlist(3));
}
