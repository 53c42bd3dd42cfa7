#include "actors/store.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "auth/crypto.hpp"

namespace fs = std::filesystem;
using namespace hlsgate::actors;

namespace {

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("hlsgate-store-" + hlsgate::auth::random_id());
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
};

media_record sample(const std::string& id) {
  media_record r;
  r.media_id = id;
  r.storage_id = "s-" + id;
  r.admin_key_hash = hlsgate::auth::sha256_hex("key");
  r.status = media_status::ready;
  r.original_name = "clip.mp4";
  r.created_at = r.updated_at = r.upload_time = r.last_token_refresh = 1000;
  r.expires_at = 4600;
  r.token_gen = 3;
  r.duration = 20.5;
  rendition_record rr;
  rr.name = "v0";
  rr.has_video = rr.has_audio = true;
  rr.width = 1280;
  rr.height = 720;
  rr.frame_rate = 30;
  rr.codecs = "avc1.64001f,mp4a.40.2";
  rr.peak_bandwidth = 2000000;
  rr.average_bandwidth = 1500000;
  rr.segments = {{"seg_00000.ts", 6.0, 1000}, {"seg_00001.ts", 2.5, 400}};
  r.renditions.push_back(rr);
  rendition_record audio;
  audio.name = "a0";
  audio.kind = rendition_kind::audio;
  audio.channels = 1;
  r.renditions.push_back(audio);
  r.source_owned = false;
  r.on_demand = true;
  r.has_thumbnails = true;
  r.ladder = "720:2800k";
  r.error_detail = "decode video: Invalid data";
  r.warning = "the source ended early";
  r.tokens.push_back({"jti-1", "living room", 1000, 0, 3, false});
  r.tokens.push_back({"jti-2", "caf\xc3\xa9 \"q\"", 1001, 5000, 2, true});
  return r;
}

} // namespace

TEST(store, put_load_remove_survives_reopen) {
  temp_dir dir;
  auto db_path = (dir.path / "t.db").string();
  {
    auto s = store::open(db_path);
    ASSERT_TRUE(s) << s.err().reason;
    ASSERT_TRUE((*s)->put(sample("a")).ok());
    ASSERT_TRUE((*s)->put(sample("b")).ok());
    auto changed = sample("a");
    changed.token_gen = 4;
    ASSERT_TRUE((*s)->put(changed).ok()); // replace, not duplicate
    ASSERT_TRUE((*s)->remove("b").ok());
  }
  auto s = store::open(db_path);
  ASSERT_TRUE(s);
  auto all = (*s)->load_all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  auto& r = all->front();
  EXPECT_EQ(r.media_id, "a");
  EXPECT_EQ(r.storage_id, "s-a");
  EXPECT_EQ(r.token_gen, 4u);
  EXPECT_EQ(r.status, media_status::ready);
  EXPECT_EQ(r.expires_at, 4600);
  ASSERT_EQ(r.renditions.size(), 2u);
  EXPECT_EQ(r.renditions[1].kind, rendition_kind::audio);
  EXPECT_EQ(r.renditions[1].channels, 1) << "the channel count survives a restart";
  EXPECT_EQ(r.renditions[0].codecs, "avc1.64001f,mp4a.40.2");
  ASSERT_EQ(r.renditions[0].segments.size(), 2u);
  EXPECT_EQ(r.renditions[0].segments[1].uri, "seg_00001.ts");
  EXPECT_DOUBLE_EQ(r.renditions[0].segments[1].duration, 2.5);
  EXPECT_EQ(r.renditions[0].segments[1].bytes, 400u);
  EXPECT_EQ(r.expiry_minutes(), 60);
  EXPECT_FALSE(r.source_owned);
  EXPECT_TRUE(r.on_demand);
  EXPECT_TRUE(r.has_thumbnails);
  EXPECT_EQ(r.ladder, "720:2800k");
  EXPECT_EQ(r.error_detail, "decode video: Invalid data");
  EXPECT_EQ(r.warning, "the source ended early");
  ASSERT_EQ(r.tokens.size(), 2u);
  EXPECT_EQ(r.tokens[0].jti, "jti-1");
  EXPECT_EQ(r.tokens[0].label, "living room");
  EXPECT_EQ(r.tokens[0].expires_at, 0);
  EXPECT_EQ(r.tokens[1].label, "caf\xc3\xa9 \"q\"");
  EXPECT_EQ(r.tokens[1].expires_at, 5000);
  EXPECT_EQ(r.tokens[1].gen, 2u);
  EXPECT_TRUE(r.tokens[1].revoked);
}

TEST(store, open_fails_cleanly_on_bad_path) {
  auto s = store::open("/nonexistent-dir/for/sure/t.db");
  EXPECT_FALSE(s);
}
