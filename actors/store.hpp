// Durable media records: SQLite in WAL mode. `store` is a plain class used
// by exactly one writer, the store actor (detached: SQLite's fsync never runs
// on a scheduler thread). Reads at start-up happen before the actor exists.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/types.hpp"
#include "media/result.hpp"
#include "metrics/metrics.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace hlsgate::actors {

class store {
public:
  /// Opens (creating if needed) the database at `path`.
  static media::result<std::unique_ptr<store>> open(const std::string& path);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Inserts or replaces the record; durable when it returns ok.
  media::status put(const media_record& r);
  /// Deletes the record (no error if absent).
  media::status remove(const std::string& media_id);
  /// Every stored record.
  media::result<std::vector<media_record>> load_all();

private:
  struct impl;
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Spawns the single writer over `s` (store_actor in interfaces.hpp):
///   (put_atom, media_record) -> bool      (true when durable)
///   (delete_atom, std::string id) -> bool
/// `detached` = false only for the deterministic test scheduler. Each
/// write's duration and outcome go to `metrics` when given.
store_actor spawn_store(caf::actor_system& sys, std::shared_ptr<store> s, bool detached = true,
                        metrics::registry* metrics = nullptr);

} // namespace hlsgate::actors
