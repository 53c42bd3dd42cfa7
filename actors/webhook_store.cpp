#include "actors/webhook_store.hpp"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "actors/sqlite_db.hpp"

namespace hlsgate::actors {

namespace {

using json = nlohmann::json;

constexpr const char* delivery_columns =
    "id, webhook_id, event_id, event_type, body, created_at, updated_at, attempts, next_at_ms,"
    " state, last_status, last_error";

webhook_delivery read_delivery(sqlite3_stmt* s) {
  webhook_delivery d;
  d.id = column_text(s, 0);
  d.webhook_id = column_text(s, 1);
  d.event_id = column_text(s, 2);
  d.event_type = column_text(s, 3);
  d.body = column_text(s, 4);
  d.created_at = sqlite3_column_int64(s, 5);
  d.updated_at = sqlite3_column_int64(s, 6);
  d.attempts = static_cast<unsigned>(sqlite3_column_int64(s, 7));
  d.next_at_ms = sqlite3_column_int64(s, 8);
  if (!from_string(column_text(s, 9), d.state))
    d.state = delivery_state::failed;
  d.last_status = static_cast<unsigned>(sqlite3_column_int64(s, 10));
  d.last_error = column_text(s, 11);
  return d;
}

} // namespace

struct webhook_store::impl {
  std::unique_ptr<sqlite_db> db;
  stmt_ptr put_hook, del_hook, del_hook_deliveries, add, update, prune;

  template <class Body> media::status transaction(const char* what, Body&& body) {
    return db->transaction(what, std::forward<Body>(body));
  }
};

webhook_store::webhook_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
webhook_store::~webhook_store() = default;

media::result<std::unique_ptr<webhook_store>> webhook_store::open(const std::string& path) {
  auto opened = sqlite_db::open(path);
  if (!opened)
    return opened.err();
  auto p = std::make_unique<impl>();
  p->db = std::move(*opened);
  auto& db = *p->db;
  if (!db.exec("CREATE TABLE IF NOT EXISTS webhooks ("
               " id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL,"
               " headers TEXT NOT NULL, timeout INTEGER NOT NULL,"
               " retry_attempts INTEGER NOT NULL, secret TEXT NOT NULL,"
               " created_at INTEGER NOT NULL);"
               "CREATE TABLE IF NOT EXISTS webhook_deliveries ("
               " id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, event_id TEXT NOT NULL,"
               " event_type TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,"
               " updated_at INTEGER NOT NULL, attempts INTEGER NOT NULL,"
               " next_at_ms INTEGER NOT NULL, state TEXT NOT NULL,"
               " last_status INTEGER NOT NULL, last_error TEXT NOT NULL);"
               "CREATE INDEX IF NOT EXISTS webhook_deliveries_by_hook"
               " ON webhook_deliveries (webhook_id, created_at);"))
    return db.fail("cannot create the webhook tables");
  p->put_hook = db.prepare("INSERT OR REPLACE INTO webhooks (id, url, events, headers, timeout,"
                           " retry_attempts, secret, created_at)"
                           " VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
  p->del_hook = db.prepare("DELETE FROM webhooks WHERE id = ?1");
  p->del_hook_deliveries = db.prepare("DELETE FROM webhook_deliveries WHERE webhook_id = ?1");
  p->add = db.prepare((std::string{"INSERT OR REPLACE INTO webhook_deliveries ("} +
                       delivery_columns + ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)")
                          .c_str());
  p->update = db.prepare("UPDATE webhook_deliveries SET updated_at = ?2, attempts = ?3,"
                         " next_at_ms = ?4, state = ?5, last_status = ?6, last_error = ?7"
                         " WHERE id = ?1");
  p->prune = db.prepare("DELETE FROM webhook_deliveries WHERE webhook_id = ?1"
                        " AND state != 'pending' AND id NOT IN (SELECT id FROM"
                        " webhook_deliveries WHERE webhook_id = ?1 AND state != 'pending'"
                        " ORDER BY rowid DESC LIMIT ?2)");
  if (!p->put_hook || !p->del_hook || !p->del_hook_deliveries || !p->add || !p->update || !p->prune)
    return db.fail("cannot prepare the webhook statements");
  return std::unique_ptr<webhook_store>{new webhook_store(std::move(p))};
}

media::status webhook_store::put_webhook(const webhook& w) {
  auto* st = impl_->put_hook.get();
  sqlite3_reset(st);
  json headers = json::array();
  for (auto& [k, v] : w.headers)
    headers.push_back({k, v});
  binder b{st};
  b.text(1, w.id);
  b.text(2, w.url);
  b.text(3, json(w.events).dump());
  b.text(4, headers.dump(-1, ' ', false, json::error_handler_t::replace));
  b.int64(5, w.timeout_seconds);
  b.int64(6, w.retry_attempts);
  b.text(7, w.secret);
  b.int64(8, w.created_at);
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot write a webhook");
  return media::ok_status();
}

media::status webhook_store::remove_webhook(const std::string& id) {
  return impl_->transaction("cannot delete a webhook", [&] {
    for (auto* st : {impl_->del_hook_deliveries.get(), impl_->del_hook.get()}) {
      sqlite3_reset(st);
      binder b{st};
      b.text(1, id);
      if (!b.ok() || !step_done(st))
        return false;
    }
    return true;
  });
}

media::result<std::vector<webhook>> webhook_store::load_webhooks() {
  auto st = impl_->db->prepare("SELECT id, url, events, headers, timeout, retry_attempts, secret,"
                               " created_at FROM webhooks ORDER BY created_at, id");
  if (!st)
    return impl_->db->fail("cannot read webhooks");
  std::vector<webhook> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    auto* s = st.get();
    webhook w;
    w.id = column_text(s, 0);
    w.url = column_text(s, 1);
    auto events = json::parse(column_text(s, 2), nullptr, false);
    if (events.is_array())
      for (auto& e : events)
        if (e.is_string())
          w.events.push_back(e.get<std::string>());
    auto headers = json::parse(column_text(s, 3), nullptr, false);
    if (headers.is_array())
      for (auto& h : headers)
        if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string())
          w.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    w.timeout_seconds = static_cast<unsigned>(sqlite3_column_int64(s, 4));
    w.retry_attempts = static_cast<unsigned>(sqlite3_column_int64(s, 5));
    w.secret = column_text(s, 6);
    w.created_at = sqlite3_column_int64(s, 7);
    out.push_back(std::move(w));
  }
  if (rc != SQLITE_DONE)
    return impl_->db->fail("cannot read webhooks");
  return out;
}

media::status webhook_store::add_deliveries(const std::vector<webhook_delivery>& ds) {
  return impl_->transaction("cannot queue deliveries", [&] {
    auto* st = impl_->add.get();
    for (auto& d : ds) {
      sqlite3_reset(st);
      binder b{st};
      b.text(1, d.id);
      b.text(2, d.webhook_id);
      b.text(3, d.event_id);
      b.text(4, d.event_type);
      b.text(5, d.body);
      b.int64(6, d.created_at);
      b.int64(7, d.updated_at);
      b.int64(8, d.attempts);
      b.int64(9, d.next_at_ms);
      b.text(10, std::string{to_string(d.state)});
      b.int64(11, d.last_status);
      b.text(12, d.last_error);
      if (!b.ok() || !step_done(st))
        return false;
    }
    return true;
  });
}

media::status webhook_store::update_delivery(const webhook_delivery& d) {
  auto* st = impl_->update.get();
  sqlite3_reset(st);
  binder b{st};
  b.text(1, d.id);
  b.int64(2, d.updated_at);
  b.int64(3, d.attempts);
  b.int64(4, d.next_at_ms);
  b.text(5, std::string{to_string(d.state)});
  b.int64(6, d.last_status);
  b.text(7, d.last_error);
  if (!b.ok() || !step_done(st))
    return impl_->db->fail("cannot update a delivery");
  if (d.state != delivery_state::pending) {
    auto* pr = impl_->prune.get();
    sqlite3_reset(pr);
    binder p{pr};
    p.text(1, d.webhook_id);
    p.int64(2, static_cast<int64_t>(webhook_rules::kept_deliveries));
    if (!p.ok() || !step_done(pr))
      return impl_->db->fail("cannot prune deliveries");
  }
  return media::ok_status();
}

media::result<std::vector<webhook_delivery>> webhook_store::load_pending() {
  auto st = impl_->db->prepare((std::string{"SELECT "} + delivery_columns +
                                " FROM webhook_deliveries WHERE state = 'pending'"
                                " ORDER BY rowid")
                                   .c_str());
  if (!st)
    return impl_->db->fail("cannot read deliveries");
  std::vector<webhook_delivery> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW)
    out.push_back(read_delivery(st.get()));
  if (rc != SQLITE_DONE)
    return impl_->db->fail("cannot read deliveries");
  return out;
}

media::result<std::vector<webhook_delivery>> webhook_store::recent(const std::string& webhook_id,
                                                                   size_t limit) {
  auto st = impl_->db->prepare((std::string{"SELECT "} + delivery_columns +
                                " FROM webhook_deliveries WHERE webhook_id = ?1"
                                " ORDER BY rowid DESC LIMIT ?2")
                                   .c_str());
  if (!st)
    return impl_->db->fail("cannot read deliveries");
  binder b{st.get()};
  b.text(1, webhook_id);
  b.int64(2, static_cast<int64_t>(limit));
  std::vector<webhook_delivery> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    out.push_back(read_delivery(st.get()));
    out.back().body.clear();
  }
  if (rc != SQLITE_DONE)
    return impl_->db->fail("cannot read deliveries");
  return out;
}

} // namespace hlsgate::actors
