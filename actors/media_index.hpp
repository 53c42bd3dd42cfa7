// The admins' view of every media item: one summary line per item, kept by
// the media registry (each media actor announces its line when its status,
// expiry or record changes) and paged newest first. Pure: no CAF, no I/O.
//
// Cursors are opaque to clients: "<created_at>.<media_id>" of the last item
// of the previous page. The order (created_at, media_id) descending is
// total, so a page never repeats or skips an item that existed on both
// sides of the cursor, whatever was added or removed in between.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/types.hpp"

namespace hlsgate::actors {

/// One line of the listing.
struct media_summary {
  std::string media_id;
  std::string name;   ///< the uploaded or imported file's name
  std::string status; ///< queued, processing, ready, failed or imported
  int64_t created_at = 0;
  int64_t expires_at = 0;
  double duration = 0;
};

/// Which items: a status ("" = any) and a part of the name (ASCII letters
/// case-insensitive) or the exact media id ("" = any).
struct media_filter {
  std::string status;
  std::string q;
  bool empty() const noexcept { return status.empty() && q.empty(); }
};

struct media_query {
  media_filter filter;
  size_t limit = 50;
  std::string cursor; ///< "" = from the newest
};

struct media_page {
  std::vector<media_summary> items;
  std::string next_cursor; ///< "" = this was the last page
};

/// What a bulk delete did: items that matched, how many of them are gone now
/// (an item that changed in between and no longer matches is left alone, as
/// is one whose record could not be deleted), and how many matching items
/// were left for another call (at most 1,000 are deleted per call).
struct bulk_delete_result {
  size_t matched = 0;
  size_t deleted = 0;
  size_t remaining = 0; ///< matched but beyond this call's limit: call again
};

/// The line of `r`.
media_summary summarize(const media_record& r);

/// Whether `s` passes `f` (ASCII case folding for the name).
bool matches_filter(const media_summary& s, const media_filter& f);

/// The statuses a filter may name.
bool is_listed_status(std::string_view s) noexcept;

class media_index {
public:
  /// Adds the item or replaces its line.
  void put(media_summary s);
  void erase(const std::string& media_id);
  size_t size() const noexcept { return by_id_.size(); }

  /// Up to `q.limit` (at least 1) matching items after `q.cursor`, newest
  /// first; false when the cursor is not one of ours.
  bool page(const media_query& q, media_page& out) const;

  /// The ids of every matching item, newest first.
  std::vector<std::string> matching(const media_filter& f) const;

private:
  using key = std::pair<int64_t, std::string>; ///< (created_at, media_id)
  std::map<key, media_summary, std::greater<>> lines_;
  std::unordered_map<std::string, int64_t> by_id_; ///< media_id -> created_at
};

/// Case-insensitive (ASCII) substring test; an empty needle matches.
bool contains_folded(std::string_view hay, std::string_view needle) noexcept;

} // namespace hlsgate::actors
