// The data directory (lock, modes), the one owner of item files, and the
// start-up restore: plain C++, no actors.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "actors/data_dir.hpp"
#include "actors/item_files.hpp"
#include "actors/restore.hpp"
#include "actors/store.hpp"
#include "auth/crypto.hpp"

namespace fs = std::filesystem;
using namespace hlsgate;
using namespace hlsgate::actors;

namespace {

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st.st_mode & 07777;
}

struct files_test : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("hlsgate-files-" + auth::random_id());
  config::settings cfg;

  void SetUp() override {
    cfg.data_dir = (dir / "data").string();
    cfg.media_dir = cfg.data_dir + "/media";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  media_record record(bool owned, const std::string& source, int64_t expires_at) {
    media_record r;
    r.media_id = auth::random_id();
    r.storage_id = auth::random_id();
    r.admin_key_hash = auth::sha256_hex("k");
    r.status = media_status::ready;
    r.source_owned = owned;
    r.source_path = source;
    r.expires_at = expires_at;
    return r;
  }
};

} // namespace

TEST_F(files_test, one_process_per_data_directory) {
  auto first = data_dir::open(cfg);
  ASSERT_TRUE(first) << first.err().reason;
  auto second = data_dir::open(cfg);
  ASSERT_FALSE(second);
  EXPECT_NE(second.err().reason.find("another hlsgate process"), std::string::npos)
      << second.err().reason;
  first = media::error{}; // releases the lock
  auto third = data_dir::open(cfg);
  EXPECT_TRUE(third) << "the lock is released with its holder";
}

TEST_F(files_test, modes_are_set_explicitly) {
  const auto old = ::umask(0); // the most permissive umask must not matter
  auto d = data_dir::open(cfg);
  ::umask(old);
  ASSERT_TRUE(d) << d.err().reason;
  EXPECT_EQ(mode_of(cfg.data_dir), 0710u) << "traversable by the media group only";
  EXPECT_EQ(mode_of(cfg.data_dir + "/uploads"), 0700u);
  EXPECT_EQ(mode_of(cfg.data_dir + "/sources"), 0700u);
  EXPECT_EQ(mode_of(cfg.media_dir), 02750u);
  ASSERT_TRUE(ensure_private_file((*d)->database()));
  EXPECT_EQ(mode_of((*d)->database()), 0600u);
  item_files files{(*d)->media(), (*d)->sources(), (*d)->media_group()};
  ASSERT_TRUE(files.prepare_output("sid0123456789abcdef"));
  EXPECT_EQ(mode_of(files.output_dir("sid0123456789abcdef")), 02750u);
}

TEST_F(files_test, media_directory_outside_the_data_directory_keeps_the_data_private) {
  cfg.media_dir = (dir / "shared-media").string();
  auto d = data_dir::open(cfg);
  ASSERT_TRUE(d) << d.err().reason;
  EXPECT_EQ(mode_of(cfg.data_dir), 0700u);
  EXPECT_EQ(mode_of(cfg.media_dir), 02750u);
}

TEST_F(files_test, unknown_media_group_is_refused) {
  cfg.media_group = "no-such-group-hlsgate-test";
  auto d = data_dir::open(cfg);
  ASSERT_FALSE(d);
  EXPECT_NE(d.err().reason.find("HLSGATE_MEDIA_GROUP"), std::string::npos);
  gid_t g = 0;
  EXPECT_TRUE(resolve_group("0", g));
  EXPECT_EQ(g, 0u);
  EXPECT_TRUE(resolve_group("", g));
  EXPECT_EQ(g, ::getegid());
}

TEST_F(files_test, removal_honours_ownership) {
  fs::create_directories(dir / "media");
  fs::create_directories(dir / "sources");
  fs::create_directories(dir / "library");
  item_files files{(dir / "media").string(), (dir / "sources").string(), ::getegid()};
  auto library = (dir / "library" / "film.mp4").string();
  std::ofstream{library} << "the user's file";
  // Imported: never deleted.
  auto imported = record(false, library, 0);
  ASSERT_TRUE(files.prepare_output(imported.storage_id));
  files.remove(imported);
  EXPECT_FALSE(fs::exists(files.output_dir(imported.storage_id)));
  EXPECT_TRUE(fs::exists(library));
  // A record claiming to own a file outside the source folder cannot delete it.
  auto confused = record(true, library, 0);
  files.remove(confused);
  EXPECT_TRUE(fs::exists(library));
  // An upload's original goes with it.
  auto upload = record(true, "", 0);
  upload.source_path = files.owned_source(upload.storage_id);
  std::ofstream{upload.source_path} << "upload";
  files.remove(upload);
  EXPECT_FALSE(fs::exists(upload.source_path));
}

// Item 10 of the hardening issue: an imported item whose deadline passed
// while the server was down used to have its original deleted at start-up.
TEST_F(files_test, restore_removes_lapsed_items_but_never_library_files) {
  fs::create_directories(dir / "media");
  fs::create_directories(dir / "sources");
  fs::create_directories(dir / "uploads");
  fs::create_directories(dir / "library");
  item_files files{(dir / "media").string(), (dir / "sources").string(), ::getegid()};
  auto db = store::open((dir / "t.db").string());
  ASSERT_TRUE(db);
  const int64_t now = 1'700'000'000;
  auto library = (dir / "library" / "film.mp4").string();
  std::ofstream{library} << "the user's file";
  auto imported = record(false, library, now - 1);
  auto lapsed_upload = record(true, "", now - 1);
  lapsed_upload.source_path = files.owned_source(lapsed_upload.storage_id);
  std::ofstream{lapsed_upload.source_path} << "upload";
  auto live = record(true, "", now + 60);
  live.source_path = files.owned_source(live.storage_id);
  std::ofstream{live.source_path} << "live upload";
  for (auto* r : {&imported, &lapsed_upload, &live}) {
    ASSERT_TRUE(files.prepare_output(r->storage_id));
    ASSERT_TRUE((*db)->put(*r));
  }
  // Leftovers nobody owns, and an interrupted upload.
  fs::create_directories(dir / "media" / "Orphan_folder-00000000");
  std::ofstream{dir / "sources" / "Orphan_source-00000000.src"} << "x";
  std::ofstream{dir / "uploads" / "upload-1.part"} << "x";

  auto res = restore(**db, files, (dir / "uploads").string(), now);
  ASSERT_TRUE(res) << res.err().reason;
  ASSERT_EQ(res->live.size(), 1u);
  EXPECT_EQ(res->live[0].media_id, live.media_id);
  EXPECT_EQ(res->lapsed, 2u);
  EXPECT_TRUE(fs::exists(library)) << "an imported library file is never deleted";
  EXPECT_FALSE(fs::exists(files.output_dir(imported.storage_id)));
  EXPECT_FALSE(fs::exists(lapsed_upload.source_path));
  EXPECT_FALSE(fs::exists(files.output_dir(lapsed_upload.storage_id)));
  EXPECT_TRUE(fs::exists(live.source_path));
  EXPECT_TRUE(fs::exists(files.output_dir(live.storage_id)));
  EXPECT_FALSE(fs::exists(dir / "media" / "Orphan_folder-00000000"));
  EXPECT_FALSE(fs::exists(dir / "sources" / "Orphan_source-00000000.src"));
  EXPECT_FALSE(fs::exists(dir / "uploads" / "upload-1.part"));
  auto rows = (*db)->load_all();
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 1u);
}

TEST_F(files_test, overlapping_folders_are_refused) {
  cfg.media_dir = cfg.data_dir;
  auto d = data_dir::open(cfg);
  ASSERT_FALSE(d);
  EXPECT_NE(d.err().reason.find("HLSGATE_MEDIA_DIR"), std::string::npos);
  cfg.media_dir = (dir / "shared").string();
  cfg.import_root = (dir / "shared" / "library").string();
  d = data_dir::open(cfg);
  ASSERT_FALSE(d);
  EXPECT_NE(d.err().reason.find("HLSGATE_IMPORT_ROOT"), std::string::npos);
  cfg.import_root = cfg.data_dir + "/sources";
  d = data_dir::open(cfg);
  ASSERT_FALSE(d);
  cfg.import_root = (dir / "library").string();
  d = data_dir::open(cfg);
  EXPECT_TRUE(d) << d.err().reason;
}

// The sweep removes only what hlsgate names: an operator's files in a
// shared media tree survive.
TEST_F(files_test, sweep_touches_only_our_names) {
  fs::create_directories(dir / "media" / "library");
  fs::create_directories(dir / "sources");
  std::ofstream{dir / "media" / "library" / "film.mp4"} << "operator's";
  std::ofstream{dir / "media" / "notes.txt"} << "operator's";
  std::ofstream{dir / "sources" / "keep.mp4"} << "operator's";
  const std::string orphan = "AAAAAAAAAAAAAAAAAAAAAA"; // a storage id no record has
  fs::create_directories(dir / "media" / orphan / "v0");
  std::ofstream{dir / "sources" / (orphan + ".src")} << "x";
  item_files files{(dir / "media").string(), (dir / "sources").string(), ::getegid()};
  EXPECT_EQ(files.sweep({}), 2u);
  EXPECT_TRUE(fs::exists(dir / "media" / "library" / "film.mp4"));
  EXPECT_TRUE(fs::exists(dir / "media" / "notes.txt"));
  EXPECT_TRUE(fs::exists(dir / "sources" / "keep.mp4"));
  EXPECT_FALSE(fs::exists(dir / "media" / orphan));
  EXPECT_FALSE(fs::exists(dir / "sources" / (orphan + ".src")));
}

TEST_F(files_test, an_added_rendition_is_private_to_the_media_group_and_replaces_leftovers) {
  auto d = data_dir::open(cfg);
  ASSERT_TRUE(d) << d.err().reason;
  item_files files{(*d)->media(), (*d)->sources(), (*d)->media_group()};
  const std::string sid = auth::random_id();
  ASSERT_TRUE(files.prepare_output(sid));
  const fs::path out = files.output_dir(sid);
  // The item folder's group is what an nginx edge reads with: as root, give
  // it one no process here has, so inheriting it cannot happen by accident.
  gid_t group = 0;
  struct stat st {};
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(out.c_str(), static_cast<uid_t>(-1), 4242), 0);
  }
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  group = st.st_gid;
  fs::create_directories(out / "s0.part"); // a crash left these behind
  fs::create_directories(out / "s0");
  std::ofstream(out / "s0" / "stale.vtt") << "old";
  ASSERT_TRUE(
      files.add_rendition(sid, "s0", {{"seg_00000.vtt", "WEBVTT\n"}, {"seg_00001.vtt", ""}}));
  EXPECT_FALSE(fs::exists(out / "s0.part"));
  EXPECT_FALSE(fs::exists(out / "s0" / "stale.vtt"));
  EXPECT_EQ(mode_of(out / "s0"), 02750u);
  EXPECT_EQ(mode_of(out / "s0" / "seg_00000.vtt"), 0640u);
  struct stat fst {};
  ASSERT_EQ(::stat((out / "s0" / "seg_00000.vtt").c_str(), &fst), 0);
  EXPECT_EQ(fst.st_gid, group) << "the files carry the item folder's group";
  std::ifstream in(out / "s0" / "seg_00000.vtt");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "WEBVTT\n");
  EXPECT_EQ(fs::file_size(out / "s0" / "seg_00001.vtt"), 0u);
  // Names outside the patterns are refused, nothing written.
  EXPECT_FALSE(files.add_rendition(sid, "../x", {{"seg_00000.vtt", "x"}}));
  EXPECT_FALSE(files.add_rendition("../../etc", "s1", {{"seg_00000.vtt", "x"}}));
  EXPECT_FALSE(fs::exists(out / "s1"));
  files.remove_rendition(sid, "s0");
  EXPECT_FALSE(fs::exists(out / "s0"));
}
