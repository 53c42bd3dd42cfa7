// The channel directory (actors/live_channel.hpp): id -> channel actor and
// its latest status, the routing table of the service's live half.
#include <string_view>

#include "actors/live_channel.hpp"
#include "auth/crypto.hpp"

namespace hlsgate::actors {

void channel_directory::put(const std::string& id, channel_entry e) {
  std::lock_guard lk(mu_);
  entries_[id] = std::move(e);
  if (reserved_ > 0)
    --reserved_;
}

void channel_directory::update(const std::string& id, const channel_info& info) {
  std::lock_guard lk(mu_);
  if (auto it = entries_.find(id); it != entries_.end())
    it->second.info = info;
}

void channel_directory::set_stream_key(const std::string& id, const std::string& hash,
                                       const std::string& passphrase) {
  std::lock_guard lk(mu_);
  if (auto it = entries_.find(id); it != entries_.end()) {
    it->second.stream_key_hash = hash;
    it->second.srt_passphrase = passphrase;
  }
}

void channel_directory::erase(const std::string& id) {
  std::lock_guard lk(mu_);
  entries_.erase(id);
}

channel_actor channel_directory::find(const std::string& id) const {
  std::lock_guard lk(mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? channel_actor{} : it->second.actor;
}

std::vector<channel_info> channel_directory::list() const {
  std::lock_guard lk(mu_);
  std::vector<channel_info> out;
  out.reserve(entries_.size());
  for (auto& [id, e] : entries_)
    out.push_back(e.info);
  return out;
}

std::vector<channel_actor> channel_directory::actors() const {
  std::lock_guard lk(mu_);
  std::vector<channel_actor> out;
  for (auto& [id, e] : entries_)
    out.push_back(e.actor);
  return out;
}

channel_actor channel_directory::find_by_stream_key(std::string_view key, live::source_type type,
                                                    std::string& storage_id,
                                                    std::string* passphrase) const {
  const std::string hash = auth::sha256_hex(key);
  const std::string_view source = live::to_string(type);
  std::lock_guard lk(mu_);
  channel_actor found;
  for (auto& [id, e] : entries_)
    if (!e.stream_key_hash.empty() && auth::constant_time_equal(hash, e.stream_key_hash) &&
        e.info.source == source && e.info.status != live::channel_status::ended) {
      found = e.actor;
      storage_id = e.storage_id;
      if (passphrase)
        *passphrase = e.srt_passphrase;
    }
  return found;
}

bool channel_directory::try_reserve(size_t limit) {
  std::lock_guard lk(mu_);
  if (entries_.size() + reserved_ >= limit)
    return false;
  ++reserved_;
  return true;
}

void channel_directory::release() {
  std::lock_guard lk(mu_);
  if (reserved_ > 0)
    --reserved_;
}

} // namespace hlsgate::actors
