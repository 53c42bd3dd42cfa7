// Start-up, before any actor runs: the one place that decides what a
// previous run left behind.
//  - records whose deadline passed while the server was down: the record
//    is deleted, then its files (through item_files, so an imported
//    library file is never deleted);
//  - interrupted uploads (request bodies being received when the process
//    stopped) are removed;
//  - output folders and owned originals that no record references are
//    removed (a crash between a job's start and its record, or between a
//    record's removal and its files').
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/item_files.hpp"
#include "actors/store.hpp"

namespace hlsgate::actors {

struct restore_result {
  std::vector<media_record> live; ///< records to spawn actors for
  size_t lapsed = 0;              ///< expired while down, removed
  size_t swept = 0;               ///< files and folders nobody owned, removed
};

media::result<restore_result> restore(store& db, const item_files& files,
                                      const std::string& uploads_dir, int64_t now);

} // namespace hlsgate::actors
