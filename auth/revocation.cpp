#include "auth/revocation.hpp"

#include "auth/crypto.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

namespace hlsgate::auth {

namespace {

std::atomic<uint64_t> next_table_id{1};

uint64_t hash_of(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

/// One thread's view of one shard of one table.
struct cached_shard {
  uint64_t table = 0;
  uint64_t version = 0;
  std::shared_ptr<const void> keep; ///< keeps `map` alive while cached
  const void* map = nullptr;
};

constexpr size_t max_jti = 64;

} // namespace

revocation_table::revocation_table() : id_(next_table_id.fetch_add(1)) {}

const revocation_table::map& revocation_table::snapshot(size_t i) const {
  // Per thread and shard; a thread that reads several tables (tests) simply
  // refreshes when the table changes.
  thread_local std::array<cached_shard, shard_count> cache;
  auto& c = cache[i];
  auto& sh = shards_[i];
  const uint64_t v = sh.version.load(std::memory_order_acquire);
  if (c.table != id_ || c.version != v || c.map == nullptr) {
    std::lock_guard lk(sh.mu);
    c.keep = sh.current;
    c.map = sh.current.get();
    c.version = sh.version.load(std::memory_order_relaxed);
    c.table = id_;
  }
  return *static_cast<const map*>(c.map);
}

template <class F> void revocation_table::update(const std::string& storage_id, F change) {
  const uint64_t h = hash_of(storage_id);
  auto& sh = shard_of(h);
  std::lock_guard lk(sh.mu);
  auto next = std::make_shared<map>(*sh.current);
  change((*next)[h]);
  if ((*next)[h].empty())
    next->erase(h);
  sh.current = std::move(next);
  sh.version.fetch_add(1, std::memory_order_release);
}

void revocation_table::publish(const std::string& storage_id, item_state state) {
  update(storage_id, [&](std::vector<entry>& bucket) {
    for (auto& e : bucket) {
      if (e.storage_id == storage_id) {
        e.state = std::move(state);
        return;
      }
    }
    bucket.push_back({storage_id, std::move(state)});
  });
}

void revocation_table::erase(const std::string& storage_id) {
  update(storage_id, [&](std::vector<entry>& bucket) {
    bucket.erase(std::remove_if(bucket.begin(), bucket.end(),
                                [&](const entry& e) { return e.storage_id == storage_id; }),
                 bucket.end());
  });
}

revocation_table::verdict revocation_table::check(std::string_view storage_id, uint64_t gen,
                                                  std::string_view jti, int64_t now) const {
  const uint64_t h = hash_of(storage_id);
  const auto& m = snapshot(h % shard_count);
  auto it = m.find(h);
  if (it == m.end())
    return verdict::gone;
  for (const auto& e : it->second) {
    if (e.storage_id != storage_id)
      continue;
    const auto& s = e.state;
    if (now >= s.deadline)
      return verdict::expired;
    if (gen != s.gen)
      return verdict::revoked;
    if (!jti.empty() && std::find(s.revoked.begin(), s.revoked.end(), jti) != s.revoked.end())
      return verdict::revoked;
    return verdict::ok;
  }
  return verdict::gone;
}

size_t revocation_table::size() const {
  size_t n = 0;
  for (size_t i = 0; i < shard_count; ++i)
    for (auto& [h, bucket] : snapshot(i))
      n += bucket.size();
  return n;
}

std::string revocation_handle(uint64_t gen, std::string_view jti) {
  std::string out = std::to_string(gen);
  out.push_back('.');
  out.append(jti);
  return out;
}

bool parse_revocation_handle(std::string_view handle, uint64_t& gen, std::string_view& jti) {
  const size_t dot = handle.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 20)
    return false;
  auto [p, ec] = std::from_chars(handle.data(), handle.data() + dot, gen);
  if (ec != std::errc{} || p != handle.data() + dot)
    return false;
  jti = handle.substr(dot + 1);
  if (jti.size() > max_jti)
    return false;
  for (char c : jti)
    if (!is_base64url_char(c))
      return false;
  return true;
}

} // namespace hlsgate::auth
