// What the segment path needs to know about an item's tokens, readable from
// any HTTP thread without a lock or an actor hop.
//
// A signed segment URL carries a revocation handle (the item's token
// generation and the token's jti, covered by the signature). Media actors
// publish their item's current state here whenever it changes (creation,
// refresh, revoke, extend) and erase it when the item goes; the segment
// path checks the handle against it. So refresh, revoke and delete stop
// segment URLs signed before at once, not when their signature expires.
//
// Readers are lock-free in the common case: the table is split in shards,
// each an immutable map replaced whole on change (copy on write) with a
// version counter; every thread caches the shard maps it has seen and only
// takes the shard's lock when the version moved. Changes are rare (admin
// actions, uploads, expiries); reads are per segment request.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hlsgate::auth {

class revocation_table {
public:
  /// One item's state; immutable once published.
  struct item_state {
    uint64_t gen = 0;                 ///< current token generation
    int64_t deadline = 0;             ///< the media's expiry, unix seconds
    std::vector<std::string> revoked; ///< jtis of the current generation revoked one by one
  };

  enum class verdict : uint8_t {
    ok,
    revoked, ///< an older generation, or a jti revoked one by one
    expired, ///< the media's deadline passed
    gone,    ///< no such item (deleted, expired and removed, or never existed)
  };

  revocation_table();
  revocation_table(const revocation_table&) = delete;
  revocation_table& operator=(const revocation_table&) = delete;

  /// Writers (media actors): the item's state as of now.
  void publish(const std::string& storage_id, item_state state);
  /// Writers: the item is gone.
  void erase(const std::string& storage_id);

  /// Readers (any thread): whether a segment URL of item `storage_id`
  /// signed for token generation `gen` and token `jti` may still be served
  /// at `now` (unix seconds).
  verdict check(std::string_view storage_id, uint64_t gen, std::string_view jti, int64_t now) const;

  /// Items currently known (for tests and metrics).
  size_t size() const;

private:
  static constexpr size_t shard_count = 64;
  struct entry {
    std::string storage_id;
    item_state state;
  };
  using map = std::unordered_map<uint64_t, std::vector<entry>>; // hash -> same-hash entries
  struct shard {
    mutable std::mutex mu;
    std::shared_ptr<const map> current = std::make_shared<const map>();
    std::atomic<uint64_t> version{1};
  };

  shard& shard_of(uint64_t hash) const { return shards_[hash % shard_count]; }
  const map& snapshot(size_t shard_index) const;
  template <class F> void update(const std::string& storage_id, F change);

  mutable std::array<shard, shard_count> shards_;
  const uint64_t id_; ///< tells this table's entries apart in the per-thread caches
};

/// The revocation handle of a segment URL: "<gen>.<jti>" (jti base64url,
/// possibly empty for tokens minted before jti existed).
std::string revocation_handle(uint64_t gen, std::string_view jti);
/// Parses a handle; false when malformed.
bool parse_revocation_handle(std::string_view handle, uint64_t& gen, std::string_view& jti);

} // namespace hlsgate::auth
