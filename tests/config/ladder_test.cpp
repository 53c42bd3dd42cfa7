#include "config/ladder.hpp"

#include <gtest/gtest.h>

using namespace hlsgate::config;

// ---------------------------------------------------------------------------
// ladder parsing (config/ladder.hpp)

TEST(Ladder, Default) {
  const auto l = default_ladder();
  ASSERT_EQ(l.size(), 4u);
  const int heights[] = {1080, 720, 480, 360};
  const int bitrates[] = {5000000, 2800000, 1400000, 800000};
  for (size_t i = 0; i < l.size(); ++i) {
    EXPECT_EQ(l[i].height, heights[i]);
    EXPECT_EQ(l[i].video_bitrate, bitrates[i]);
  }
}

TEST(Ladder, ParsesAndSortsTopFirst) {
  std::vector<rung> l;
  ASSERT_EQ(parse_ladder("1080:5000k,720:2800k,480:1400k", l), "");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].height, 1080);
  EXPECT_EQ(l[0].video_bitrate, 5000000);
  EXPECT_EQ(l[2].height, 480);
  EXPECT_EQ(l[2].video_bitrate, 1400000);

  ASSERT_EQ(parse_ladder(" 360:800000 , 720:2.8M,1080:5m", l), "");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].height, 1080);
  EXPECT_EQ(l[0].video_bitrate, 5000000);
  EXPECT_EQ(l[1].video_bitrate, 2800000);
  EXPECT_EQ(l[2].height, 360);
  EXPECT_EQ(l[2].video_bitrate, 800000);

  ASSERT_EQ(parse_ladder("16:50k", l), "");
  ASSERT_EQ(parse_ladder("4320:100M", l), "");
  EXPECT_EQ(l.at(0).video_bitrate, 100000000);
}

TEST(Ladder, RejectsBadSpecs) {
  std::vector<rung> l = {{123, 456000}};
  for (const char* bad : {"",
                          " ",
                          "1080",
                          "1080:",
                          ":5000k",
                          "abc:5000k",
                          "1080:5000x",
                          "1080:k",
                          "1080:5000kk",
                          "8:5000k",
                          "15:5000k",
                          "4321:5000k",
                          "1080:49k",
                          "1080:100.1M",
                          "1080:5000k,,720:1M",
                          "1080:5000k,",
                          "1080:5000k,1080:3000k",
                          "-720:1M",
                          "1080.5:5M",
                          "720:-1M",
                          "720:1.M",
                          "720:1e6",
                          "99999999999999:1M"}) {
    EXPECT_NE(parse_ladder(bad, l), "") << bad;
    ASSERT_EQ(l.size(), 1u) << "output changed on failure: " << bad;
    EXPECT_EQ(l[0].height, 123);
  }
}

TEST(Ladder, AtMostEightRungs) {
  std::vector<rung> l;
  EXPECT_EQ(
      parse_ladder("2160:16M,1440:9M,1080:5M,720:2800k,540:2M,480:1400k,360:800k,240:400k", l), "");
  EXPECT_EQ(l.size(), 8u);
  auto err = parse_ladder("2160:16M,1440:9M,1080:5M,900:4M,720:2800k,540:2M,480:1400k,360:800k,"
                          "240:400k",
                          l);
  EXPECT_NE(err.find("8 rungs"), std::string::npos) << err;
  EXPECT_EQ(l.size(), 8u) << "output changed on failure";
}

TEST(Ladder, FormatRoundTrips) {
  std::vector<rung> l;
  ASSERT_EQ(parse_ladder("720:2.8M,1080:5000k,360:800001", l), "");
  EXPECT_EQ(format_ladder(l), "1080:5000k,720:2800k,360:800001");
  EXPECT_EQ(format_ladder(default_ladder()), "1080:5000k,720:2800k,480:1400k,360:800k");
}
