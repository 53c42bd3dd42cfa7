#include "http/routes.hpp"

#include "media/names.hpp"

namespace hlsgate::http {

namespace {

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

/// A file name of one component; no leading dot and no "..", so that no
/// spelling of a parent directory can pass even where it would be harmless.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.find("..") != std::string_view::npos)
    return false;
  for (char c : s)
    if (!id_char(c) && c != '.')
      return false;
  return true;
}

/// The next non-empty '/'-separated part of `s` (consumed); false at the end.
bool next_part(std::string_view& s, std::string_view& part) {
  while (!s.empty() && s.front() == '/')
    s.remove_prefix(1);
  if (s.empty())
    return false;
  const size_t slash = s.find('/');
  part = s.substr(0, slash);
  s = slash == std::string_view::npos ? std::string_view{} : s.substr(slash);
  return true;
}

} // namespace

bool valid_id(std::string_view s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (char c : s)
    if (!id_char(c))
      return false;
  return true;
}

unsigned method_bit(std::string_view m) noexcept {
  if (m == "GET")
    return m_get;
  if (m == "HEAD")
    return m_head;
  if (m == "POST")
    return m_post;
  if (m == "DELETE")
    return m_delete;
  if (m == "OPTIONS")
    return m_options;
  return 0;
}

std::string allow_value(unsigned methods) {
  static constexpr std::pair<unsigned, const char*> names[] = {{m_get, "GET"},
                                                               {m_head, "HEAD"},
                                                               {m_post, "POST"},
                                                               {m_delete, "DELETE"},
                                                               {m_options, "OPTIONS"}};
  std::string out;
  for (auto& [bit, name] : names) {
    if ((methods & bit) == 0)
      continue;
    if (!out.empty())
      out += ", ";
    out += name;
  }
  return out;
}

bool match_pattern(std::string_view pattern, std::string_view path, route_params& params) {
  route_params p;
  std::string_view want;
  std::string_view got;
  for (;;) {
    const bool more_pattern = next_part(pattern, want);
    const bool more_path = next_part(path, got);
    if (!more_pattern || !more_path) {
      if (more_pattern || more_path)
        return false;
      params = p;
      return true;
    }
    if (want == "{id}") {
      if (!valid_id(got))
        return false;
      p.id = got;
    } else if (want == "{rendition}") {
      if (!media::is_rendition_name(got))
        return false;
      p.rendition = got;
    } else if (want == "{playlist}") {
      if (!valid_name(got) || got.size() <= 5 || got.substr(got.size() - 5) != ".m3u8")
        return false;
      p.name = got;
    } else if (want == "{name}") {
      if (!valid_name(got))
        return false;
      p.name = got;
    } else if (want != got) {
      return false;
    }
  }
}

} // namespace hlsgate::http
