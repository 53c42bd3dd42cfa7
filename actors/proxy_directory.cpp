#include "actors/proxy_stream.hpp"

#include <algorithm>

namespace hlsgate::actors {

void proxy_directory::put(const std::string& id, proxy_actor a, proxy_stream_info info) {
  std::lock_guard lk(mu_);
  entries_[id] = {std::move(a), std::move(info)};
}

void proxy_directory::update(const proxy_stream_info& info) {
  std::lock_guard lk(mu_);
  if (auto it = entries_.find(info.config.id); it != entries_.end())
    it->second.info = info;
}

void proxy_directory::erase(const std::string& id) {
  std::lock_guard lk(mu_);
  entries_.erase(id);
}

proxy_actor proxy_directory::find(const std::string& id, proxy_config* config) const {
  std::lock_guard lk(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end())
    return {};
  if (config)
    *config = it->second.info.config;
  return it->second.actor;
}

bool proxy_directory::find_same(const proxy_config& wanted, proxy_config& found) const {
  std::lock_guard lk(mu_);
  for (const auto& [id, e] : entries_)
    if (same_registration(e.info.config, wanted)) {
      found = e.info.config;
      return true;
    }
  return false;
}

std::vector<proxy_stream_info> proxy_directory::list() const {
  std::lock_guard lk(mu_);
  std::vector<proxy_stream_info> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_)
    out.push_back(e.info);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.config.created_at < b.config.created_at; });
  return out;
}

std::vector<proxy_actor> proxy_directory::clear() {
  std::lock_guard lk(mu_);
  std::vector<proxy_actor> out;
  for (auto& [id, e] : entries_)
    if (e.actor)
      out.push_back(std::move(e.actor));
  entries_.clear();
  return out;
}

size_t proxy_directory::size() const {
  std::lock_guard lk(mu_);
  return entries_.size();
}

} // namespace hlsgate::actors
