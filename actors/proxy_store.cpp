#include "actors/proxy_store.hpp"

#include <mutex>

#include <sqlite3.h>

#include "actors/sqlite_db.hpp"
#include "metrics/log.hpp"

namespace hlsgate::actors {

struct proxy_store::impl {
  std::mutex mu;
  std::unique_ptr<sqlite_db> db;
  stmt_ptr put, del;
};

proxy_store::proxy_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
proxy_store::~proxy_store() = default;

media::result<std::unique_ptr<proxy_store>> proxy_store::open(const std::string& path) {
  auto opened = sqlite_db::open(path);
  if (!opened)
    return opened.err();
  auto p = std::make_unique<impl>();
  p->db = std::move(*opened);
  auto& db = *p->db;
  if (!db.exec("CREATE TABLE IF NOT EXISTS proxy_streams ("
               " id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, body TEXT NOT NULL);"))
    return db.fail("cannot create the proxy table");
  p->put =
      db.prepare("INSERT OR REPLACE INTO proxy_streams (id, created_at, body) VALUES (?1, ?2, ?3)");
  p->del = db.prepare("DELETE FROM proxy_streams WHERE id = ?1");
  if (!p->put || !p->del)
    return db.fail("cannot prepare the proxy statements");
  return std::unique_ptr<proxy_store>{new proxy_store(std::move(p))};
}

media::status proxy_store::put(const proxy_config& c) {
  std::lock_guard lk(impl_->mu);
  auto* st = impl_->put.get();
  sqlite3_reset(st);
  binder b{st};
  b.text(1, c.id);
  b.int64(2, c.created_at);
  b.text(3, to_json(c));
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot write a proxied stream");
  return media::ok_status();
}

media::status proxy_store::remove(const std::string& id) {
  std::lock_guard lk(impl_->mu);
  auto* st = impl_->del.get();
  sqlite3_reset(st);
  binder b{st};
  b.text(1, id);
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot delete a proxied stream");
  return media::ok_status();
}

media::result<std::vector<proxy_config>> proxy_store::load() {
  std::lock_guard lk(impl_->mu);
  auto st = impl_->db->prepare("SELECT id, body FROM proxy_streams ORDER BY created_at, id");
  if (!st)
    return impl_->db->fail("cannot read proxied streams");
  std::vector<proxy_config> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    proxy_config c;
    if (!from_json(column_text(st.get(), 1), c) || c.id != column_text(st.get(), 0)) {
      logging::error("skipping a proxied stream record that cannot be read",
                     {{"stream_id", column_text(st.get(), 0)}});
      continue;
    }
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE)
    return impl_->db->fail("cannot read proxied streams");
  return out;
}

} // namespace hlsgate::actors
