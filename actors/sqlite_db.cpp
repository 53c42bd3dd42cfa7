#include "actors/sqlite_db.hpp"

#include <sqlite3.h>

namespace hlsgate::actors {

void stmt_deleter::operator()(sqlite3_stmt* s) const noexcept {
  sqlite3_finalize(s);
}

media::result<std::unique_ptr<sqlite_db>> sqlite_db::open(const std::string& path) {
  std::unique_ptr<sqlite_db> d{new sqlite_db};
  if (sqlite3_open_v2(path.c_str(), &d->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    return media::error{media::errc::io_error, "cannot open the database"};
  sqlite3_busy_timeout(d->db_, 5000);
  if (!d->exec("PRAGMA journal_mode=WAL;") || !d->exec("PRAGMA synchronous=FULL;"))
    return d->fail("cannot configure the database");
  return d;
}

sqlite_db::~sqlite_db() {
  if (db_ != nullptr)
    sqlite3_close(db_);
}

bool sqlite_db::exec(const char* sql) {
  return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

stmt_ptr sqlite_db::prepare(const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
    return nullptr;
  return stmt_ptr{st};
}

media::error sqlite_db::fail(const char* what) const {
  return media::error{media::errc::io_error, std::string{what} + ": " + sqlite3_errmsg(db_)};
}

void binder::check(int rc) {
  if (rc != SQLITE_OK && bad_ == 0)
    bad_ = rc;
}

void binder::text(int i, const std::string& s) {
  check(sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT));
}

void binder::int64(int i, int64_t v) {
  check(sqlite3_bind_int64(st_, i, v));
}

void binder::real(int i, double v) {
  check(sqlite3_bind_double(st_, i, v));
}

bool step_done(sqlite3_stmt* st) {
  const int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE;
}

std::string column_text(sqlite3_stmt* st, int i) {
  auto* p = sqlite3_column_text(st, i);
  return p == nullptr ? std::string{} : std::string{reinterpret_cast<const char*>(p)};
}

} // namespace hlsgate::actors
