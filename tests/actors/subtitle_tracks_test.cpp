// Subtitle renditions (actors/subtitle_tracks): folder names, the segment
// grid, labels players show, the size bound, language tags.
#include <gtest/gtest.h>

#include "actors/subtitle_tracks.hpp"

using namespace hlsgate;
using namespace hlsgate::actors;

namespace {

rendition_record variant(const std::string& name, std::vector<double> durations) {
  rendition_record r;
  r.name = name;
  for (size_t i = 0; i < durations.size(); ++i)
    r.segments.push_back({"seg_" + std::to_string(i) + ".ts", durations[i], 1000});
  return r;
}

std::vector<media::subtitle_cue> cues() {
  return {{0, 1500, "a"}, {5000, 7000, "b"}};
}

} // namespace

TEST(SubtitleTracks, FollowTheFirstVariantsGrid) {
  std::vector<rendition_record> rs{variant("v0", {6.006, 3.5}), variant("v1", {1, 1, 1})};
  EXPECT_EQ(subtitle_grid(rs), (std::vector<double>{6.006, 3.5}));
  auto made = make_subtitle_rendition(rs, cues(), subtitle_grid(rs), "en", "", false, false);
  ASSERT_TRUE(made) << made.err().reason;
  EXPECT_EQ(made->record.name, "s0");
  EXPECT_EQ(made->record.label, "en") << "no name: the language";
  ASSERT_EQ(made->record.segments.size(), 2u);
  EXPECT_EQ(made->record.segments[0].uri, "seg_00000.vtt");
  EXPECT_DOUBLE_EQ(made->record.segments[1].duration, 3.5);
  ASSERT_EQ(made->files.size(), 2u);
  EXPECT_EQ(made->files[1].first, "seg_00001.vtt");
  EXPECT_EQ(made->record.segments[0].bytes, made->files[0].second.size());
  EXPECT_TRUE(subtitle_grid({}).empty());
}

TEST(SubtitleTracks, NamesAreFreeFoldersAndUniqueLabels) {
  std::vector<rendition_record> rs{variant("v0", {6})};
  for (int i = 0; i < 16; ++i) {
    auto made = make_subtitle_rendition(rs, cues(), {6}, "en", "English", false, false);
    ASSERT_TRUE(made) << i;
    EXPECT_EQ(made->record.name, "s" + std::to_string(i));
    EXPECT_EQ(made->record.label, i == 0 ? "English" : "English " + std::to_string(i + 1));
    rs.push_back(made->record);
  }
  auto full = make_subtitle_rendition(rs, cues(), {6}, "en", "", false, false);
  ASSERT_FALSE(full);
  EXPECT_NE(full.err().reason.find("at most 16"), std::string::npos);
  rs.erase(rs.begin() + 4); // s3 deleted: its folder name is free again
  auto again = make_subtitle_rendition(rs, cues(), {6}, "", "", false, false);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->record.name, "s3");
  EXPECT_EQ(again->record.label, "s3") << "neither name nor language: the folder";
}

TEST(SubtitleTracks, LabelsFromSourcesAreCleaned) {
  std::vector<rendition_record> rs{variant("v0", {6})};
  auto label_of = [&](const std::string& title) {
    auto made = make_subtitle_rendition(rs, cues(), {6}, "fr", title, false, false);
    return made ? made->record.label : std::string{"<error>"};
  };
  EXPECT_EQ(label_of("Fran\xC3\xA7"
                     "ais \"VF\"\r\n"),
            "Fran\xC3\xA7"
            "ais VF");
  EXPECT_EQ(label_of("a\xE2\x80\xA8"
                     "b\xC2\x85"
                     "c"),
            "abc")
      << "line separators, C1 controls";
  EXPECT_EQ(label_of("\xff\xfe"), "fr") << "not UTF-8: the language instead";
  const std::string long_title = std::string(63, 'x') + "\xC3\xA9" + "yyyy";
  EXPECT_EQ(label_of(long_title), std::string(63, 'x')) << "cut at 64 bytes, on a character";
}

TEST(SubtitleTracks, OutputIsBoundedBeforeItIsMade) {
  // 200 cues of 2 kB, each over the whole 2-hour item of 1,200 segments:
  // 480 MB of files from a few hundred kB of cues.
  std::vector<media::subtitle_cue> huge;
  for (int i = 0; i < 200; ++i)
    huge.push_back({0, 7200000, std::string(2000, 'x')});
  auto made = make_subtitle_rendition({variant("v0", {6})}, huge, std::vector<double>(1200, 6.0),
                                      "en", "", false, false);
  ASSERT_FALSE(made);
  EXPECT_NE(made.err().reason.find("16 MiB"), std::string::npos) << made.err().reason;
}
