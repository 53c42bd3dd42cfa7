#include "actors/media_index.hpp"

#include <algorithm>
#include <charconv>

namespace hlsgate::actors {

namespace {

char fold(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string cursor_of(const media_summary& s) {
  return std::to_string(s.created_at) + "." + s.media_id;
}

bool id_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

/// "<created_at>.<media_id>" -> key; false for anything else.
bool parse_cursor(std::string_view c, std::pair<int64_t, std::string>& out) {
  const auto dot = c.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= c.size() || c.size() > 128)
    return false;
  int64_t t = 0;
  const auto [end, ec] = std::from_chars(c.data(), c.data() + dot, t);
  if (ec != std::errc{} || end != c.data() + dot || t < 0)
    return false;
  const std::string_view id = c.substr(dot + 1);
  if (!std::all_of(id.begin(), id.end(), id_char))
    return false;
  out = {t, std::string{id}};
  return true;
}

} // namespace

media_summary summarize(const media_record& r) {
  media_summary s;
  s.media_id = r.media_id;
  s.name = r.original_name;
  s.status = reported_status(r);
  s.created_at = r.created_at;
  s.expires_at = r.expires_at;
  s.duration = r.duration;
  return s;
}

bool matches_filter(const media_summary& s, const media_filter& f) {
  if (!f.status.empty() && s.status != f.status)
    return false;
  return f.q.empty() || s.media_id == f.q || contains_folded(s.name, f.q);
}

bool is_listed_status(std::string_view s) noexcept {
  return s == "queued" || s == "processing" || s == "ready" || s == "failed" || s == "imported";
}

bool contains_folded(std::string_view hay, std::string_view needle) noexcept {
  if (needle.empty())
    return true;
  if (needle.size() > hay.size())
    return false;
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                     [](char a, char b) { return fold(a) == fold(b); }) != hay.end();
}

void media_index::put(media_summary s) {
  auto [it, fresh] = by_id_.try_emplace(s.media_id, s.created_at);
  if (!fresh && it->second != s.created_at) {
    lines_.erase({it->second, s.media_id});
    it->second = s.created_at;
  }
  key k{s.created_at, s.media_id};
  lines_.insert_or_assign(std::move(k), std::move(s));
}

void media_index::erase(const std::string& media_id) {
  auto it = by_id_.find(media_id);
  if (it == by_id_.end())
    return;
  lines_.erase({it->second, media_id});
  by_id_.erase(it);
}

bool media_index::page(const media_query& q, media_page& out) const {
  out = {};
  auto it = lines_.begin();
  if (!q.cursor.empty()) {
    key after;
    if (!parse_cursor(q.cursor, after))
      return false;
    it = lines_.upper_bound(after); // strictly older than the cursor
  }
  const size_t limit = q.limit == 0 ? 1 : q.limit;
  for (; it != lines_.end(); ++it) {
    if (!matches_filter(it->second, q.filter))
      continue;
    if (out.items.size() == limit) {
      out.next_cursor = cursor_of(out.items.back());
      break;
    }
    out.items.push_back(it->second);
  }
  return true;
}

std::vector<std::string> media_index::matching(const media_filter& f) const {
  std::vector<std::string> ids;
  for (const auto& [k, s] : lines_)
    if (matches_filter(s, f))
      ids.push_back(s.media_id);
  return ids;
}

} // namespace hlsgate::actors
