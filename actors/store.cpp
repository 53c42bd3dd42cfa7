#include "actors/store.hpp"

#include "actors/sqlite_db.hpp"

#include <sqlite3.h>

#include <caf/all.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

namespace hlsgate::actors {

namespace {

using media::errc;
using media::error;

nlohmann::json to_json(const std::vector<rendition_record>& rs) {
  auto arr = nlohmann::json::array();
  for (auto& r : rs) {
    auto segs = nlohmann::json::array();
    for (auto& s : r.segments)
      segs.push_back({s.uri, s.duration, s.bytes});
    arr.push_back({{"name", r.name},
                   {"has_video", r.has_video},
                   {"has_audio", r.has_audio},
                   {"width", r.width},
                   {"height", r.height},
                   {"frame_rate", r.frame_rate},
                   {"codecs", r.codecs},
                   {"peak_bandwidth", r.peak_bandwidth},
                   {"average_bandwidth", r.average_bandwidth},
                   {"segments", std::move(segs)}});
    if (r.kind != rendition_kind::variant) {
      auto& j = arr.back();
      j["kind"] = r.kind == rendition_kind::audio ? "audio" : "subtitles";
      j["language"] = r.language;
      j["label"] = r.label;
      j["default"] = r.is_default;
      j["forced"] = r.forced;
      if (r.kind == rendition_kind::audio)
        j["channels"] = r.channels;
    }
  }
  return arr;
}

std::vector<rendition_record> from_json(const std::string& text) {
  std::vector<rendition_record> out;
  auto arr = nlohmann::json::parse(text, nullptr, false);
  if (!arr.is_array())
    return out;
  for (auto& j : arr) {
    rendition_record r;
    r.name = j.value("name", "");
    const std::string kind = j.value("kind", "");
    r.kind = kind == "audio"       ? rendition_kind::audio
             : kind == "subtitles" ? rendition_kind::subtitles
                                   : rendition_kind::variant;
    r.language = j.value("language", "");
    r.label = j.value("label", "");
    r.is_default = j.value("default", false);
    r.forced = j.value("forced", false);
    r.channels = j.value("channels", 0);
    r.has_video = j.value("has_video", false);
    r.has_audio = j.value("has_audio", false);
    r.width = j.value("width", 0);
    r.height = j.value("height", 0);
    r.frame_rate = j.value("frame_rate", 0.0);
    r.codecs = j.value("codecs", "");
    r.peak_bandwidth = j.value("peak_bandwidth", uint64_t{0});
    r.average_bandwidth = j.value("average_bandwidth", uint64_t{0});
    if (auto s = j.find("segments"); s != j.end() && s->is_array())
      for (auto& e : *s)
        if (e.is_array() && e.size() == 3)
          r.segments.push_back({e[0].get<std::string>(), e[1].get<double>(), e[2].get<uint64_t>()});
    out.push_back(std::move(r));
  }
  return out;
}

std::string tokens_json(const std::vector<token_record>& ts) {
  auto arr = nlohmann::json::array();
  for (auto& t : ts)
    arr.push_back({{"jti", t.jti},
                   {"label", t.label},
                   {"created_at", t.created_at},
                   {"expires_at", t.expires_at},
                   {"gen", t.gen},
                   {"revoked", t.revoked}});
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<token_record> tokens_from_json(const std::string& text) {
  std::vector<token_record> out;
  auto arr = nlohmann::json::parse(text, nullptr, false);
  if (!arr.is_array())
    return out;
  for (auto& j : arr) {
    if (!j.is_object())
      continue;
    token_record t;
    t.jti = j.value("jti", "");
    t.label = j.value("label", "");
    t.created_at = j.value("created_at", int64_t{0});
    t.expires_at = j.value("expires_at", int64_t{0});
    t.gen = j.value("gen", uint64_t{0});
    t.revoked = j.value("revoked", false);
    out.push_back(std::move(t));
  }
  return out;
}

} // namespace

struct store::impl {
  std::unique_ptr<sqlite_db> db;
  stmt_ptr put;
  stmt_ptr del;

  ~impl() {
    put.reset();
    del.reset();
  }

  error fail(const char* what) const { return db->fail(what); }
  bool exec(const char* sql) { return db->exec(sql); }
  stmt_ptr prepare(const char* sql) { return db->prepare(sql); }
};

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
store::~store() = default;

media::result<std::unique_ptr<store>> store::open(const std::string& path) {
  auto opened = sqlite_db::open(path);
  if (!opened)
    return opened.err();
  auto p = std::make_unique<impl>();
  p->db = std::move(*opened);
  if (!p->exec("CREATE TABLE IF NOT EXISTS media ("
               " media_id TEXT PRIMARY KEY,"
               " storage_id TEXT NOT NULL UNIQUE,"
               " admin_key_hash TEXT NOT NULL,"
               " status TEXT NOT NULL,"
               " error TEXT NOT NULL DEFAULT '',"
               " original_name TEXT NOT NULL DEFAULT '',"
               " source_path TEXT NOT NULL DEFAULT '',"
               " created_at INTEGER NOT NULL,"
               " updated_at INTEGER NOT NULL,"
               " upload_time INTEGER NOT NULL,"
               " expires_at INTEGER NOT NULL,"
               " last_token_refresh INTEGER NOT NULL,"
               " token_gen INTEGER NOT NULL,"
               " duration REAL NOT NULL DEFAULT 0,"
               " renditions TEXT NOT NULL DEFAULT '[]');"))
    return p->fail("cannot create the schema");
  // Columns added after the first schema; ADD COLUMN fails harmlessly when
  // the column exists already.
  for (auto* col : {"source_owned INTEGER NOT NULL DEFAULT 1",
                    "on_demand INTEGER NOT NULL DEFAULT 0", "thumbnails INTEGER NOT NULL DEFAULT 0",
                    "ladder TEXT NOT NULL DEFAULT ''", "error_detail TEXT NOT NULL DEFAULT ''",
                    "warning TEXT NOT NULL DEFAULT ''", "tokens TEXT NOT NULL DEFAULT '[]'"})
    p->exec((std::string{"ALTER TABLE media ADD COLUMN "} + col + ";").c_str());
  p->put = p->prepare("INSERT OR REPLACE INTO media (media_id, storage_id, admin_key_hash, status,"
                      " error, original_name, source_path, created_at, updated_at, upload_time,"
                      " expires_at, last_token_refresh, token_gen, duration, renditions,"
                      " source_owned, on_demand, thumbnails, ladder, error_detail, warning,"
                      " tokens)"
                      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,"
                      " ?20,?21,?22)");
  p->del = p->prepare("DELETE FROM media WHERE media_id = ?1");
  if (!p->put || !p->del)
    return p->fail("cannot prepare statements");
  return std::unique_ptr<store>{new store(std::move(p))};
}

media::status store::put(const media_record& r) {
  auto* st = impl_->put.get();
  sqlite3_reset(st);
  binder b{st}; // every bind checked
  b.text(1, r.media_id);
  b.text(2, r.storage_id);
  b.text(3, r.admin_key_hash);
  b.text(4, to_string(r.status));
  b.text(5, r.error);
  b.text(6, r.original_name);
  b.text(7, r.source_path);
  b.int64(8, r.created_at);
  b.int64(9, r.updated_at);
  b.int64(10, r.upload_time);
  b.int64(11, r.expires_at);
  b.int64(12, r.last_token_refresh);
  b.int64(13, static_cast<int64_t>(r.token_gen));
  b.real(14, r.duration);
  b.text(15, to_json(r.renditions).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  b.int64(16, r.source_owned ? 1 : 0);
  b.int64(17, r.on_demand ? 1 : 0);
  b.int64(18, r.has_thumbnails ? 1 : 0);
  b.text(19, r.ladder);
  b.text(20, r.error_detail);
  b.text(21, r.warning);
  b.text(22, tokens_json(r.tokens));
  if (!b.ok()) {
    sqlite3_reset(st);
    return impl_->fail("cannot write a record (bind)");
  }
  auto rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return impl_->fail("cannot write a record");
  return media::ok_status();
}

media::status store::remove(const std::string& media_id) {
  auto* st = impl_->del.get();
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, media_id.data(), static_cast<int>(media_id.size()), SQLITE_TRANSIENT);
  auto rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return impl_->fail("cannot delete a record");
  return media::ok_status();
}

media::result<std::vector<media_record>> store::load_all() {
  auto st = impl_->prepare("SELECT media_id, storage_id, admin_key_hash, status, error,"
                           " original_name, source_path, created_at, updated_at, upload_time,"
                           " expires_at, last_token_refresh, token_gen, duration, renditions,"
                           " source_owned, on_demand, thumbnails, ladder, error_detail, warning,"
                           " tokens FROM media");
  if (!st)
    return impl_->fail("cannot read records");
  std::vector<media_record> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    auto* s = st.get();
    media_record r;
    r.media_id = column_text(s, 0);
    r.storage_id = column_text(s, 1);
    r.admin_key_hash = column_text(s, 2);
    if (!from_string(column_text(s, 3), r.status))
      r.status = media_status::failed;
    r.error = column_text(s, 4);
    r.original_name = column_text(s, 5);
    r.source_path = column_text(s, 6);
    r.created_at = sqlite3_column_int64(s, 7);
    r.updated_at = sqlite3_column_int64(s, 8);
    r.upload_time = sqlite3_column_int64(s, 9);
    r.expires_at = sqlite3_column_int64(s, 10);
    r.last_token_refresh = sqlite3_column_int64(s, 11);
    r.token_gen = static_cast<uint64_t>(sqlite3_column_int64(s, 12));
    r.duration = sqlite3_column_double(s, 13);
    r.renditions = from_json(column_text(s, 14));
    r.source_owned = sqlite3_column_int(s, 15) != 0;
    r.on_demand = sqlite3_column_int(s, 16) != 0;
    r.has_thumbnails = sqlite3_column_int(s, 17) != 0;
    r.ladder = column_text(s, 18);
    r.error_detail = column_text(s, 19);
    r.warning = column_text(s, 20);
    r.tokens = tokens_from_json(column_text(s, 21));
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE)
    return impl_->fail("cannot read records");
  return out;
}

// -- the writer actor ----------------------------------------------------------

namespace {

/// Runs one durable write, timed into `m` (may be null).
template <class Write> bool timed(metrics::registry* m, Write&& write) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = write().ok();
  if (m)
    m->store_write(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                   ok);
  return ok;
}

store_actor::behavior_type store_behavior(store_actor::pointer, std::shared_ptr<store> s,
                                          metrics::registry* m) {
  return {
      [s, m](put_atom, const media_record& r) -> bool {
        return timed(m, [&] { return s->put(r); });
      },
      [s, m](delete_atom, const std::string& id) -> bool {
        return timed(m, [&] { return s->remove(id); });
      },
  };
}

} // namespace

store_actor spawn_store(caf::actor_system& sys, std::shared_ptr<store> s, bool detached,
                        metrics::registry* metrics) {
  if (detached)
    return sys.spawn<caf::detached>(store_behavior, std::move(s), metrics);
  return sys.spawn(store_behavior, std::move(s), metrics);
}

} // namespace hlsgate::actors
