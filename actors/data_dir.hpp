// The data directory: one process at a time, owner-only state, a media tree
// that only the media group may read.
//
//   DATA_DIR/            0710 (group = media group when the media tree is inside)
//     .lock              exclusive flock held for the life of the process
//     hlsgate.db (+-wal, -shm)   0600
//     secret.key         0600
//     uploads/           0700: request bodies being received
//     sources/           0700: originals waiting for their job
//   MEDIA_DIR/           2750, group = media group (default DATA_DIR/media)
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "config/config.hpp"
#include "media/result.hpp"

namespace hlsgate::actors {

/// Holds the data directory's lock until destroyed.
class data_dir {
public:
  ~data_dir();
  data_dir(const data_dir&) = delete;
  data_dir& operator=(const data_dir&) = delete;

  /// Takes the exclusive lock (failing at once, with a clear message, when
  /// another hlsgate process holds it), then creates the folders and sets
  /// their modes and group explicitly.
  static media::result<std::unique_ptr<data_dir>> open(const config::settings& cfg);

  const std::string& path() const noexcept { return path_; }
  std::string database() const { return path_ + "/hlsgate.db"; }
  std::string uploads() const { return path_ + "/uploads"; }
  std::string sources() const { return path_ + "/sources"; }
  const std::string& media() const noexcept { return media_; }
  gid_t media_group() const noexcept { return group_; }

private:
  data_dir() = default;
  std::string path_, media_;
  gid_t group_ = 0;
  int lock_fd_ = -1;
};

/// HLSGATE_MEDIA_GROUP (a group name or a numeric GID; empty = the
/// process's own group) as a GID; false when no such group exists.
bool resolve_group(const std::string& spec, gid_t& out);

/// Creates an empty file owner-only (0600) unless it exists, then makes
/// sure its mode is 0600: used for the database before SQLite opens it, so
/// its journal files inherit the same mode.
media::status ensure_private_file(const std::string& path);

} // namespace hlsgate::actors
