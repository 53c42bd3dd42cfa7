#include "media/track_labels.hpp"

#include <gtest/gtest.h>

using namespace hlsgate::media;

TEST(TrackLabels, LanguageTags) {
  EXPECT_EQ(language_tag("eng"), "en");
  EXPECT_EQ(language_tag("FRE"), "fr");
  EXPECT_EQ(language_tag("ger"), "de");
  EXPECT_EQ(language_tag("en"), "en");
  EXPECT_EQ(language_tag("tlh"), "tlh") << "other ISO 639 codes are kept";
  EXPECT_EQ(language_tag("und"), "");
  EXPECT_EQ(language_tag(""), "");
  EXPECT_EQ(language_tag("en-US"), "") << "only a primary tag is taken from a container";
  EXPECT_EQ(language_tag("e\"n"), "");
  EXPECT_EQ(language_tag("english"), "");
}

TEST(TrackLabels, CleanLabelKeepsWhatPlayersCanShow) {
  EXPECT_EQ(clean_label("Français (commentaire)"), "Français (commentaire)");
  EXPECT_EQ(clean_label("a\"b\nc\x7f"
                        "d"),
            "abcd");
  EXPECT_EQ(clean_label("x\xc2\x85y"), "xy") << "C1 controls go";
  EXPECT_EQ(clean_label("x\xe2\x80\xa8y\xe2\x80\xa9z"), "xyz") << "line separators go";
  EXPECT_EQ(clean_label("bad \xff utf-8"), "");
  const std::string long_name(40, 'a');
  const std::string accents = long_name + std::string(20, 'a') + "éé"; // 60 + 2x2 bytes
  EXPECT_EQ(clean_label(accents), long_name + std::string(20, 'a') + "éé");
  EXPECT_EQ(clean_label(accents + "é").size(), 64u);
  EXPECT_EQ(clean_label(std::string(63, 'a') + "é"), std::string(63, 'a'))
      << "cut at a character boundary";
}

TEST(TrackLabels, UniqueLabelCountsFromTwo) {
  EXPECT_EQ(unique_label("English", {}), "English");
  EXPECT_EQ(unique_label("English", {"French"}), "English");
  EXPECT_EQ(unique_label("English", {"English"}), "English 2");
  EXPECT_EQ(unique_label("English", {"English", "English 2", "English 3"}), "English 4");
}
