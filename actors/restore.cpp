#include "actors/restore.hpp"

#include <filesystem>
#include <system_error>

#include "metrics/log.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

media::result<restore_result> restore(store& db, const item_files& files,
                                      const std::string& uploads_dir, int64_t now) {
  auto records = db.load_all();
  if (!records)
    return records.err();
  restore_result out;
  for (auto& r : *records) {
    if (r.expires_at > now) {
      out.live.push_back(std::move(r));
      continue;
    }
    // The record goes first: if that fails the item stays whole and its
    // actor expires it at once (and retries).
    if (!db.remove(r.media_id)) {
      logging::error("cannot delete an expired record; retrying later", {{"media_id", r.media_id}});
      out.live.push_back(std::move(r));
      continue;
    }
    files.remove(r);
    ++out.lapsed;
  }
  std::error_code ec;
  for (auto& e : fs::directory_iterator(uploads_dir, ec)) {
    fs::remove_all(e.path(), ec);
    ++out.swept;
  }
  out.swept += files.sweep(out.live);
  return out;
}

} // namespace hlsgate::actors
