#include "actors/live_store.hpp"

#include <sqlite3.h>

#include "actors/sqlite_db.hpp"
#include "media/names.hpp"
#include "metrics/log.hpp"

namespace hlsgate::actors {

struct live_store::impl {
  std::mutex mu;
  std::unique_ptr<sqlite_db> db;
  stmt_ptr put_channel, del_channel, del_markers, put_marker, del_marker, add_event, del_events,
      drop_events;
};

live_store::live_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
live_store::~live_store() = default;

media::result<std::unique_ptr<live_store>> live_store::open(const std::string& path) {
  auto opened = sqlite_db::open(path);
  if (!opened)
    return opened.err();
  auto p = std::make_unique<impl>();
  p->db = std::move(*opened);
  auto& db = *p->db;
  if (!db.exec("CREATE TABLE IF NOT EXISTS live_channels ("
               " id TEXT PRIMARY KEY, body TEXT NOT NULL);"
               "CREATE TABLE IF NOT EXISTS live_markers ("
               " channel_id TEXT NOT NULL, id TEXT NOT NULL, start_ms INTEGER NOT NULL,"
               " body TEXT NOT NULL, PRIMARY KEY (channel_id, id));"
               "CREATE TABLE IF NOT EXISTS live_event_segments ("
               " channel_id TEXT NOT NULL, seq INTEGER NOT NULL, uri TEXT NOT NULL,"
               " duration REAL NOT NULL, discontinuity INTEGER NOT NULL,"
               " PRIMARY KEY (channel_id, seq));"))
    return db.fail("cannot create the live tables");
  p->put_channel = db.prepare("INSERT OR REPLACE INTO live_channels (id, body) VALUES (?1, ?2)");
  p->del_channel = db.prepare("DELETE FROM live_channels WHERE id = ?1");
  p->del_markers = db.prepare("DELETE FROM live_markers WHERE channel_id = ?1");
  p->put_marker = db.prepare("INSERT OR REPLACE INTO live_markers (channel_id, id, start_ms, body)"
                             " VALUES (?1, ?2, ?3, ?4)");
  p->del_marker = db.prepare("DELETE FROM live_markers WHERE channel_id = ?1 AND id = ?2");
  p->add_event = db.prepare("INSERT OR REPLACE INTO live_event_segments"
                            " (channel_id, seq, uri, duration, discontinuity)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)");
  p->del_events = db.prepare("DELETE FROM live_event_segments WHERE channel_id = ?1");
  p->drop_events =
      db.prepare("DELETE FROM live_event_segments WHERE channel_id = ?1 AND seq <= ?2");
  if (!p->put_channel || !p->del_channel || !p->del_markers || !p->put_marker || !p->del_marker ||
      !p->add_event || !p->del_events || !p->drop_events)
    return db.fail("cannot prepare the live statements");
  return std::unique_ptr<live_store>{new live_store(std::move(p))};
}

media::status live_store::put_channel(const live::channel_record& r) {
  std::lock_guard lk(impl_->mu);
  auto* st = impl_->put_channel.get();
  sqlite3_reset(st);
  binder b{st};
  b.text(1, r.id);
  b.text(2, live::to_json(r));
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot write a channel");
  return media::ok_status();
}

media::status live_store::remove_channel(const std::string& id) {
  std::lock_guard lk(impl_->mu);
  return impl_->db->transaction("cannot delete a channel", [&] {
    for (auto* st : {impl_->del_markers.get(), impl_->del_events.get(), impl_->del_channel.get()}) {
      sqlite3_reset(st);
      binder b{st};
      b.text(1, id);
      if (!b.ok() || !step_done(st))
        return false;
    }
    return true;
  });
}

media::result<std::vector<live::channel_record>> live_store::load_channels() {
  std::lock_guard lk(impl_->mu);
  auto st = impl_->db->prepare("SELECT id, body FROM live_channels ORDER BY id");
  if (!st)
    return impl_->db->fail("cannot read channels");
  std::vector<live::channel_record> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    live::channel_record r;
    if (!live::from_json(column_text(st.get(), 1), r) || r.id != column_text(st.get(), 0)) {
      logging::error("skipping a live channel record that cannot be read",
                     {{"channel_id", column_text(st.get(), 0)}});
      continue;
    }
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE)
    return impl_->db->fail("cannot read channels");
  return out;
}

media::status live_store::add_event_segment(const std::string& channel_id,
                                            const live::live_segment& s) {
  std::lock_guard lk(impl_->mu);
  auto* st = impl_->add_event.get();
  sqlite3_reset(st);
  binder b{st};
  b.text(1, channel_id);
  b.int64(2, static_cast<int64_t>(s.sequence));
  b.text(3, s.uri);
  b.real(4, s.duration);
  b.int64(5, s.discontinuity ? 1 : 0);
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot write an event segment");
  return media::ok_status();
}

media::status live_store::drop_event_segments(const std::string& channel_id,
                                              uint64_t last_sequence) {
  std::lock_guard lk(impl_->mu);
  auto* st = impl_->drop_events.get();
  sqlite3_reset(st);
  binder b{st};
  b.text(1, channel_id);
  b.int64(2, static_cast<int64_t>(last_sequence));
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot drop event segments");
  return media::ok_status();
}

media::result<std::vector<live::live_segment>>
live_store::load_event_segments(const std::string& channel_id) {
  std::lock_guard lk(impl_->mu);
  auto st = impl_->db->prepare("SELECT seq, uri, duration, discontinuity FROM live_event_segments"
                               " WHERE channel_id = ?1 ORDER BY seq");
  if (!st)
    return impl_->db->fail("cannot read event segments");
  binder b{st.get()};
  b.text(1, channel_id);
  if (!b.ok())
    return impl_->db->fail("cannot read event segments");
  std::vector<live::live_segment> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    live::live_segment s;
    s.sequence = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0));
    s.uri = column_text(st.get(), 1);
    media::segment_kind kind{};
    if (!media::parse_segment_file_name(s.uri, kind)) {
      logging::error("skipping an event segment row that cannot be read",
                     {{"channel_id", channel_id}});
      continue;
    }
    s.duration = sqlite3_column_double(st.get(), 2);
    s.discontinuity = sqlite3_column_int64(st.get(), 3) != 0;
    out.push_back(std::move(s));
  }
  if (rc != SQLITE_DONE)
    return impl_->db->fail("cannot read event segments");
  return out;
}

media::status live_store::put_marker(const std::string& channel_id, const live::marker& m) {
  std::lock_guard lk(impl_->mu);
  auto* st = impl_->put_marker.get();
  sqlite3_reset(st);
  binder b{st};
  b.text(1, channel_id);
  b.text(2, m.id);
  b.int64(3, m.start_ms);
  b.text(4, live::to_json(m));
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot write a marker");
  return media::ok_status();
}

media::result<bool> live_store::remove_marker(const std::string& channel_id,
                                              const std::string& marker_id) {
  std::lock_guard lk(impl_->mu);
  auto* st = impl_->del_marker.get();
  sqlite3_reset(st);
  binder b{st};
  b.text(1, channel_id);
  b.text(2, marker_id);
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot delete a marker");
  return sqlite3_changes(impl_->db->get()) > 0;
}

media::result<std::vector<live::marker>> live_store::load_markers(const std::string& channel_id) {
  std::lock_guard lk(impl_->mu);
  auto st = impl_->db->prepare(
      "SELECT body FROM live_markers WHERE channel_id = ?1 ORDER BY start_ms, id");
  if (!st)
    return impl_->db->fail("cannot read markers");
  binder b{st.get()};
  b.text(1, channel_id);
  if (!b.ok())
    return impl_->db->fail("cannot read markers");
  std::vector<live::marker> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    live::marker m;
    if (live::from_json(column_text(st.get(), 0), m))
      out.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE)
    return impl_->db->fail("cannot read markers");
  return out;
}

} // namespace hlsgate::actors
