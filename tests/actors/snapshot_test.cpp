// The playlist view of an item with alternate audio and subtitles: which
// EXT-X-MEDIA entries and variants the master lists while the job runs and
// once it has ended, and what the variants say of their audio group.
#include "actors/snapshot.hpp"

#include <gtest/gtest.h>

namespace hlsgate::actors {
namespace {

rendition_record rendition(const std::string& name, rendition_kind kind, uint64_t peak,
                           const std::string& codecs) {
  rendition_record r;
  r.name = name;
  r.kind = kind;
  r.peak_bandwidth = peak;
  r.average_bandwidth = peak / 2;
  r.codecs = codecs;
  r.has_video = name[0] == 'v';
  r.has_audio = name[0] == 'a';
  r.width = r.has_video ? 1280 : 0;
  r.height = r.has_video ? 720 : 0;
  r.label = name == "a0" ? "English" : name == "a1" ? "Deutsch" : "";
  r.language = name == "a0" ? "en" : name == "a1" ? "de" : name == "s0" ? "fr" : "";
  r.is_default = name == "a0";
  r.channels = name == "a0" ? 1 : name == "a1" ? 6 : 0;
  r.segments = {{"seg_00000.ts", 6, 1000}};
  return r;
}

std::vector<rendition_record> item() {
  return {rendition("v0", rendition_kind::variant, 3000000, "avc1.64001f"),
          rendition("v1", rendition_kind::variant, 1000000, "avc1.64001e"),
          rendition("a0", rendition_kind::audio, 130000, "mp4a.40.2"),
          rendition("a1", rendition_kind::audio, 140000, "mp4a.40.2"),
          rendition("s0", rendition_kind::subtitles, 0, "")};
}

TEST(Snapshot, AlternateAudioIsAGroupEveryVariantNames) {
  media_record r;
  r.media_id = "m";
  auto snap = make_snapshot(r, item(), true, 6);
  ASSERT_EQ(snap->master.media.size(), 3u);
  EXPECT_EQ(snap->master.media[0].group_id, "aud");
  EXPECT_EQ(snap->master.media[0].name, "English");
  EXPECT_TRUE(snap->master.media[0].is_default);
  EXPECT_EQ(snap->master.media[1].language, "de");
  EXPECT_FALSE(snap->master.media[1].is_default);
  EXPECT_EQ(snap->master.media[0].channels, "1") << "as encoded, not always 2";
  EXPECT_EQ(snap->master.media[1].channels, "6");
  EXPECT_EQ(snap->master.media[2].channels, "") << "subtitles have none";
  EXPECT_EQ(snap->master.media[2].group_id, "subs");
  ASSERT_EQ(snap->master.variants.size(), 2u);
  for (const auto& v : snap->master.variants) {
    EXPECT_EQ(v.audio_group, "aud");
    EXPECT_EQ(v.subtitles_group, "subs");
  }
  EXPECT_EQ(snap->master.variants[0].codecs, "avc1.64001f,mp4a.40.2");
  // The largest audio rendition counts in every variant's bandwidth.
  EXPECT_EQ(snap->master.variants[0].bandwidth, 3140000u);
  EXPECT_EQ(snap->master.variants[1].bandwidth, 1140000u);
  EXPECT_EQ(snap->master.variants[1].average_bandwidth, 570000u);
  ASSERT_EQ(snap->rendition_names.size(), 5u);
  for (const auto& pl : snap->renditions)
    EXPECT_TRUE(pl.ended);
}

TEST(Snapshot, WhileTheJobRunsTheAudioIsListedAndGrowsToo) {
  media_record r;
  auto rs = item();
  rs.pop_back(); // subtitles come after the job
  for (auto& x : rs)
    x.peak_bandwidth = x.average_bandwidth = 0; // measured so far
  auto snap = make_snapshot(r, rs, false, 6);
  ASSERT_EQ(snap->master.variants.size(), 1u) << "the top variant only";
  EXPECT_EQ(snap->master.variants[0].codecs, "avc1.64001f,mp4a.40.2");
  EXPECT_EQ(snap->master.variants[0].bandwidth, 2 * 1000u * 8 / 6);
  ASSERT_EQ(snap->master.media.size(), 2u) << "both audio tracks: the video has no sound";
  ASSERT_EQ(snap->renditions.size(), 4u);
  for (const auto& pl : snap->renditions) {
    EXPECT_EQ(pl.type, media::playlist_type::event);
    EXPECT_FALSE(pl.ended);
  }
}

TEST(Snapshot, MuxedAudioNamesNoGroup) {
  media_record r;
  auto v = rendition("v0", rendition_kind::variant, 3000000, "avc1.64001f,mp4a.40.2");
  auto snap = make_snapshot(r, {v}, true, 6);
  ASSERT_EQ(snap->master.variants.size(), 1u);
  EXPECT_EQ(snap->master.variants[0].audio_group, "");
  EXPECT_EQ(snap->master.variants[0].codecs, "avc1.64001f,mp4a.40.2");
  EXPECT_EQ(snap->master.variants[0].bandwidth, 3000000u);
  EXPECT_TRUE(snap->master.media.empty());
}

} // namespace
} // namespace hlsgate::actors
