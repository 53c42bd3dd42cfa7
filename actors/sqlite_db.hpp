// One SQLite connection as every durable table of hlsgate opens it: WAL
// (readers never block the writer), synchronous=FULL (a committed
// transaction survives power loss, so "durable" in a reply is true) and a
// busy timeout (the media store and the webhooks store share the file).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "media/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace hlsgate::actors {

struct stmt_deleter {
  void operator()(sqlite3_stmt* s) const noexcept;
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_deleter>;

class sqlite_db {
public:
  static media::result<std::unique_ptr<sqlite_db>> open(const std::string& path);
  ~sqlite_db();
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;

  sqlite3* get() const { return db_; }
  bool exec(const char* sql);
  /// A persistent prepared statement; null when it does not compile.
  stmt_ptr prepare(const char* sql);
  /// An io_error naming `what` and SQLite's message.
  media::error fail(const char* what) const;

  /// Runs `body` inside BEGIN IMMEDIATE / COMMIT (ROLLBACK when it fails).
  template <class Body> media::status transaction(const char* what, Body&& body) {
    if (!exec("BEGIN IMMEDIATE;"))
      return fail(what);
    if (!body()) {
      exec("ROLLBACK;");
      return fail(what);
    }
    if (!exec("COMMIT;")) {
      exec("ROLLBACK;");
      return fail(what);
    }
    return media::ok_status();
  }

private:
  sqlite_db() = default;
  sqlite3* db_ = nullptr;
};

/// Binds parameters of one statement, checking every bind: a parameter the
/// statement does not have (a column added to one list but not the other)
/// must fail the write, not silently drop a field. `ok()` after the binds.
class binder {
public:
  explicit binder(sqlite3_stmt* st) : st_(st) {}
  void text(int i, const std::string& s);
  void int64(int i, int64_t v);
  void real(int i, double v);
  bool ok() const { return bad_ == 0; }

private:
  void check(int rc);
  sqlite3_stmt* st_;
  int bad_ = 0; ///< the first failing bind's SQLite code
};

/// Steps a statement that returns no rows and resets it; true when done.
bool step_done(sqlite3_stmt* st);

/// Column `i` as text ("" for NULL).
std::string column_text(sqlite3_stmt* st, int i);

} // namespace hlsgate::actors
