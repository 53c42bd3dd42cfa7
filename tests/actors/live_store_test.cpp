// live_store on a real SQLite file: channels, markers and a kept event's
// segments are written, read back in order, and removed with their channel.
#include "actors/live_store.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "auth/crypto.hpp"
#include "media/names.hpp"

namespace hlsgate::actors {
namespace {

namespace fs = std::filesystem;

struct live_store_dir {
  fs::path path = fs::temp_directory_path() / ("hlsgate-live-store-" + auth::random_id());
  live_store_dir() { fs::create_directories(path); }
  ~live_store_dir() { fs::remove_all(path); }
};

live::live_segment segment(uint64_t seq, bool discontinuity = false) {
  live::live_segment s;
  s.sequence = seq;
  s.uri = media::segment_file_name(seq, media::segment_kind::ts);
  s.duration = 2.0 + static_cast<double>(seq) / 100;
  s.discontinuity = discontinuity;
  return s;
}

TEST(live_store, event_segments_come_back_in_order_and_go_with_their_channel) {
  live_store_dir dir;
  auto opened = live_store::open((dir.path / "db").string());
  ASSERT_TRUE(opened) << opened.err().detail;
  auto& db = **opened;
  live::channel_record r;
  r.id = "chan";
  r.storage_id = live::channel_storage_id(auth::random_id());
  r.config.name = "Event";
  r.config.keep_event = true;
  ASSERT_TRUE(db.put_channel(r));
  for (uint64_t seq : {2u, 0u, 1u})
    ASSERT_TRUE(db.add_event_segment("chan", segment(seq, seq == 2)));
  ASSERT_TRUE(db.add_event_segment("other", segment(0)));
  auto kept = db.load_event_segments("chan");
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*kept)[i].sequence, i);
    EXPECT_EQ((*kept)[i].uri, segment(i).uri);
    EXPECT_DOUBLE_EQ((*kept)[i].duration, segment(i).duration);
    EXPECT_EQ((*kept)[i].discontinuity, i == 2);
  }
  // A row naming anything but a segment file (a tampered database) is
  // never handed out as a path.
  live::live_segment evil = segment(7);
  evil.uri = "../../../etc/passwd";
  ASSERT_TRUE(db.add_event_segment("chan", evil));
  EXPECT_EQ(db.load_event_segments("chan")->size(), 3u);
  // Recording the same segment twice keeps one row.
  ASSERT_TRUE(db.add_event_segment("chan", segment(1)));
  EXPECT_EQ(db.load_event_segments("chan")->size(), 3u);
  // An event past its cap loses its oldest rows, and only its own.
  ASSERT_TRUE(db.add_event_segment("other", segment(1)));
  ASSERT_TRUE(db.drop_event_segments("chan", 1));
  kept = db.load_event_segments("chan");
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].sequence, 2u);
  EXPECT_EQ(db.load_event_segments("other")->size(), 2u);
  ASSERT_TRUE(db.add_event_segment("chan", segment(0)));
  ASSERT_TRUE(db.add_event_segment("chan", segment(1)));

  ASSERT_TRUE(db.remove_channel("chan"));
  EXPECT_TRUE(db.load_event_segments("chan")->empty());
  EXPECT_EQ(db.load_event_segments("other")->size(), 2u) << "another channel's stay";
  auto channels = db.load_channels();
  ASSERT_TRUE(channels);
  EXPECT_TRUE(channels->empty());
}

} // namespace
} // namespace hlsgate::actors
