// The media actor under CAF's deterministic test scheduler: the fixture
// shared by media_actor_test.cpp and media_events_test.cpp. Messages run one
// by one on this thread and time only moves when the test says so.
#pragma once

#include "actors/media_actor.hpp"

#include <filesystem>
#include <fstream>
#include <optional>

#include <unistd.h>

#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include "actors/store.hpp"
#include "auth/crypto.hpp"

namespace fs = std::filesystem;
using namespace hlsgate;
using namespace hlsgate::actors;

namespace {

constexpr int64_t t0 = 1'700'000'000;

struct gone_log {
  std::vector<std::string> ids;
  std::vector<media_summary> lines; ///< every listing line announced, in order
};

gone_listener::behavior_type registry_stub(gone_listener::pointer, gone_log* log) {
  return {
      [log](gone_atom, const std::string& id) { log->ids.push_back(id); },
      [log](summary_atom, media_summary& s) { log->lines.push_back(std::move(s)); },
  };
}

/// Stands in for the transcoder pool, whose workers run libav on threads of
/// their own and so cannot run under the deterministic scheduler: it accepts
/// every job; the test plays the worker's part by sending its messages.
job_queue::behavior_type pool_stub(job_queue::pointer, std::vector<job>* jobs) {
  return {
      [jobs](submit_atom, job& j, bool) -> bool {
        jobs->push_back(std::move(j));
        return true;
      },
      [](cancel_atom, const std::string&) {},
  };
}

/// The real store, except that writes fail while `*fail` is set (a full
/// disk, a database error).
store_actor::behavior_type flaky_store(store_actor::pointer, std::shared_ptr<store> db,
                                       bool* fail) {
  return {
      [db, fail](put_atom, const media_record& r) -> bool { return !*fail && db->put(r).ok(); },
      [db, fail](delete_atom, const std::string& id) -> bool {
        return !*fail && db->remove(id).ok();
      },
  };
}

class media_actor_test : public ::testing::Test {
protected:
  fs::path dir = fs::temp_directory_path() / ("hlsgate-actor-" + auth::random_id());
  int64_t now = t0;
  gone_log gone;
  std::shared_ptr<store> db;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  env_ptr env;
  gone_listener registry;
  std::string admin_key = auth::random_id();
  std::vector<media_actor> spawned;
  std::vector<job> jobs;
  bool store_fails = false;

  void SetUp() override {
    fs::create_directories(dir / "media");
    auto s = store::open((dir / "t.db").string());
    ASSERT_TRUE(s);
    db = std::shared_ptr<store>(std::move(s).value());
    cfg = std::make_unique<caf::actor_system_config>();
    cfg->set("scheduler.policy", caf::atom("testing"));
    cfg->set("logger.verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(*cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    auto e = std::make_shared<environment>();
    e->jwt = std::make_shared<auth::jwt_codec>("test-secret");
    fs::create_directories(dir / "sources");
    e->files = item_files{(dir / "media").string(), (dir / "sources").string(), ::getegid()};
    e->store = sys->spawn(flaky_store, db, &store_fails);
    e->pool = sys->spawn(pool_stub, &jobs);
    e->now = [this] { return now; };
    env = e;
    registry = sys->spawn(registry_stub, &gone);
  }

  void TearDown() override {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    spawned.clear();
    caf::anon_send_exit(env->store, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env->pool, caf::exit_reason::user_shutdown);
    jobs.clear();
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    sched->run();
    registry = nullptr;
    env.reset();
    sys.reset();
    fs::remove_all(dir);
  }

  /// A record with fresh ids, the test's admin key, expiring in `minutes`.
  media_record new_record(media_status status, int64_t minutes) const {
    media_record r;
    r.media_id = auth::random_id();
    r.storage_id = auth::random_id();
    r.admin_key_hash = auth::sha256_hex(admin_key);
    r.status = status;
    r.created_at = r.updated_at = r.upload_time = r.last_token_refresh = now;
    r.expires_at = now + minutes * 60;
    return r;
  }

  /// Spawns the actor of a stored (restored) item and runs it to idle.
  media_actor spawn_restored(const media_record& r) {
    record = r;
    media_params p;
    p.env = env;
    p.record = r;
    p.registry = registry;
    auto a = sys->spawn(make_media_behavior, std::move(p));
    spawned.push_back(a);
    sched->run();
    return a;
  }

  /// A ready item, stored and with files on disk, expiring in `minutes`.
  media_actor spawn_ready(int64_t minutes) {
    auto r = new_record(media_status::ready, minutes);
    rendition_record rr;
    rr.name = "v0";
    rr.segments = {{"seg_00000.ts", 6, 10}};
    r.renditions.push_back(rr);
    fs::create_directories(dir / "media" / r.storage_id / "v0");
    std::ofstream{dir / "media" / r.storage_id / "v0" / "seg_00000.ts"} << "0123456789";
    EXPECT_TRUE(db->put(r).ok());
    return spawn_restored(r);
  }

  bool files_exist() const { return fs::exists(dir / "media" / record.storage_id); }

  bool row_exists() {
    auto all = db->load_all();
    EXPECT_TRUE(all);
    for (auto& r : *all)
      if (r.media_id == record.media_id)
        return true;
    return false;
  }

  /// Sends a playlist request with generation `gen`; returns the error code
  /// or nullopt on success.
  std::optional<api_errc> playlist(const media_actor& a, uint64_t gen) {
    auth::token_claims c;
    c.sub = record.media_id;
    c.gen = gen;
    std::optional<reply<playlist_grant>> out;
    completion<playlist_grant> cb = [&](reply<playlist_grant> r) { out = std::move(r); };
    caf::anon_send(a, playlist_atom_v, c, cb);
    sched->run();
    EXPECT_TRUE(out.has_value());
    if (auto* e = std::get_if<api_error>(&*out))
      return e->code;
    EXPECT_EQ(std::get<playlist_grant>(*out).snapshot->storage_id, record.storage_id);
    return std::nullopt;
  }

  admin_credential key() const { return {admin_key, false}; }

  /// The snapshot a token holder's playlist request gets now (null: none).
  playlist_ptr playlist_of(const media_actor& a) {
    auth::token_claims c;
    c.sub = record.media_id;
    c.gen = 1;
    playlist_ptr out;
    completion<playlist_grant> cb = [&](reply<playlist_grant> x) {
      if (auto* s = std::get_if<playlist_grant>(&x))
        out = s->snapshot;
    };
    caf::anon_send(a, playlist_atom_v, c, cb);
    sched->run();
    return out;
  }

  media_record record;
};

} // namespace
