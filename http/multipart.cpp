#include "http/multipart.hpp"

#include "http/text.hpp"

#include <algorithm>
#include <utility>

namespace hlsgate::http {

namespace {

constexpr size_t max_boundary = 70; // RFC 2046 §5.1.1

using text::hex_value;
using text::iequals;
using text::trim;

/// Walks `; key=value` parameters of a header value (RFC 9110 §5.6.6), values
/// either tokens or quoted strings with backslash escapes. `s` starts after
/// the media type / disposition type. Calls f(lower-case key, unquoted value).
/// Returns false on a syntax error.
template <class F> bool for_each_param(std::string_view s, F&& f) {
  size_t i = 0;
  std::string key;
  std::string value;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ';'))
      ++i;
    if (i >= s.size())
      break;
    size_t k = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';')
      ++i;
    key.clear();
    for (char c : trim(s.substr(k, i - k)))
      key.push_back(text::ascii_lower(c));
    value.clear();
    if (i < s.size() && s[i] == '=') {
      ++i;
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
      if (i < s.size() && s[i] == '"') {
        ++i;
        bool closed = false;
        while (i < s.size()) {
          char c = s[i++];
          if (c == '\\' && i < s.size()) {
            value.push_back(s[i++]);
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value.push_back(c);
          }
        }
        if (!closed)
          return false;
        while (i < s.size() && s[i] != ';')
          ++i;
      } else {
        size_t v = i;
        while (i < s.size() && s[i] != ';')
          ++i;
        value.assign(trim(s.substr(v, i - v)));
      }
    }
    if (key.empty())
      return false;
    f(std::string_view{key}, std::string_view{value});
  }
  return true;
}

/// RFC 8187 ext-value: charset'lang'pct-encoded. Only UTF-8 and ISO-8859-1
/// are defined; bytes are passed through (ISO-8859-1 is rare in practice).
bool decode_ext_value(std::string_view v, std::string& out) {
  size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos)
    return false;
  size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos)
    return false;
  out.clear();
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && hex_value(v[i + 1]) >= 0 && hex_value(v[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(v[i + 1]) * 16 + hex_value(v[i + 2])));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return true;
}

bool valid_boundary(std::string_view b) noexcept {
  if (b.empty() || b.size() > max_boundary)
    return false;
  for (char c : b)
    if (c == '\r' || c == '\n')
      return false;
  return true;
}

} // namespace

bool multipart_parser::boundary_from_content_type(std::string_view ct, std::string& boundary) {
  size_t semi = ct.find(';');
  if (!iequals(trim(ct.substr(0, semi)), "multipart/form-data"))
    return false;
  if (semi == std::string_view::npos)
    return false;
  bool found = false;
  bool ok = for_each_param(ct.substr(semi + 1), [&](std::string_view k, std::string_view v) {
    if (k == "boundary" && !found) {
      boundary.assign(v);
      found = true;
    }
  });
  return ok && found && valid_boundary(boundary);
}

multipart_parser::multipart_parser(std::string_view boundary, callbacks cb) : cb_(std::move(cb)) {
  if (!valid_boundary(boundary)) {
    fail(error::no_boundary);
    return;
  }
  delim_.reserve(boundary.size() + 4);
  delim_.append("\r\n--").append(boundary);
  // The first delimiter may open the body without a preceding CRLF: pretend
  // one was there.
  tail_ = "\r\n";
}

multipart_parser multipart_parser::from_content_type(std::string_view content_type, callbacks cb) {
  std::string boundary;
  if (!boundary_from_content_type(content_type, boundary))
    boundary.clear();
  return multipart_parser(boundary, std::move(cb));
}

const char* multipart_parser::to_string(error e) noexcept {
  switch (e) {
  case error::none:
    return "ok";
  case error::no_boundary:
    return "Content-Type is not multipart/form-data with a boundary";
  case error::malformed:
    return "Malformed multipart body";
  case error::header_too_large:
    return "Multipart part header too large";
  case error::truncated:
    return "Multipart body ended before its closing boundary";
  case error::aborted:
    return "Multipart processing aborted";
  }
  return "unknown";
}

const char* multipart_parser::message() const noexcept {
  return to_string(err_);
}

bool multipart_parser::fail(error e) {
  if (err_ == error::none)
    err_ = e;
  state_ = state::failed;
  tail_.clear();
  header_.clear();
  return false;
}

bool multipart_parser::emit(std::string_view data) {
  if (state_ != state::body || data.empty() || !cb_.on_part_data)
    return true;
  if (!cb_.on_part_data(data))
    return fail(error::aborted);
  return true;
}

bool multipart_parser::feed(std::string_view in) {
  while (!in.empty()) {
    switch (state_) {
    case state::failed:
      return false;
    case state::done:
      return true; // epilogue
    case state::preamble:
    case state::body:
      in.remove_prefix(scan_data(in));
      break;
    case state::after_delim: {
      char c = in.front();
      in.remove_prefix(1);
      if (c == '-')
        state_ = state::close_dash;
      else if (c == '\r')
        state_ = state::expect_lf;
      else if (c != ' ' && c != '\t') // transport padding (RFC 2046 §5.1.1)
        return fail(error::malformed);
      break;
    }
    case state::close_dash:
      if (in.front() != '-')
        return fail(error::malformed);
      in.remove_prefix(1);
      state_ = state::done;
      break;
    case state::expect_lf:
      if (in.front() != '\n')
        return fail(error::malformed);
      in.remove_prefix(1);
      // The header block starts right after this CRLF; keep the CRLF so an
      // empty block is found as "\r\n\r\n" like any other.
      header_.assign("\r\n");
      state_ = state::headers;
      break;
    case state::headers:
      in.remove_prefix(scan_headers(in));
      break;
    }
  }
  return state_ != state::failed;
}

bool multipart_parser::finish() {
  if (state_ == state::failed)
    return false;
  if (state_ != state::done)
    return fail(error::truncated);
  return true;
}

// Scans preamble or part data for the delimiter. Bytes that cannot start a
// delimiter are emitted at once; a possible delimiter prefix at the end of
// `in` (it starts with '\r', so it begins at the first CR in the last
// delim_.size()-1 bytes) is kept in tail_ for the next chunk.
size_t multipart_parser::scan_data(std::string_view in) {
  const size_t d = delim_.size();
  if (!tail_.empty()) {
    const size_t take = std::min(in.size(), d);
    window_.assign(tail_).append(in.data(), take);
    const size_t p = window_.find(delim_);
    if (p != std::string::npos) {
      const size_t consumed = p + d - tail_.size(); // > 0: tail_ is shorter than d
      tail_.clear();
      if (!emit(std::string_view{window_}.substr(0, p)))
        return in.size();
      if (state_ == state::body && cb_.on_part_end && !cb_.on_part_end()) {
        fail(error::aborted);
        return in.size();
      }
      state_ = state::after_delim;
      return consumed;
    }
    if (take < d) {
      // The whole chunk went into the window; keep its undecided end.
      const size_t undecided_from = window_.size() - std::min(window_.size(), d - 1);
      const size_t cr = window_.find('\r', undecided_from);
      const size_t keep_from = cr == std::string::npos ? window_.size() : cr;
      if (!emit(std::string_view{window_}.substr(0, keep_from)))
        return in.size();
      tail_.assign(window_, keep_from, std::string::npos);
      return in.size();
    }
    // Every position in tail_ was checked against a full delimiter length.
    if (!emit(tail_))
      return in.size();
    tail_.clear();
  }
  const size_t p = in.find(delim_);
  if (p != std::string_view::npos) {
    if (!emit(in.substr(0, p)))
      return in.size();
    if (state_ == state::body && cb_.on_part_end && !cb_.on_part_end()) {
      fail(error::aborted);
      return in.size();
    }
    state_ = state::after_delim;
    return p + d;
  }
  const size_t undecided_from = in.size() - std::min(in.size(), d - 1);
  const size_t cr = in.find('\r', undecided_from);
  const size_t keep_from = cr == std::string_view::npos ? in.size() : cr;
  if (!emit(in.substr(0, keep_from)))
    return in.size();
  tail_.assign(in.substr(keep_from));
  return in.size();
}

size_t multipart_parser::scan_headers(std::string_view in) {
  // header_ starts with the CRLF that ended the delimiter line; its limit
  // leaves room for that and the terminating empty line.
  constexpr size_t limit = max_header_bytes + 4;
  const size_t old = header_.size();
  const size_t take = std::min(in.size(), limit - old);
  header_.append(in.data(), take);
  const size_t p = header_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
  if (p == std::string::npos) {
    if (header_.size() >= limit)
      fail(error::header_too_large);
    return take;
  }
  const size_t consumed = p + 4 - old;
  part_ = multipart_part{};
  // Lines between the leading CRLF and the empty line, each ending in CRLF.
  if (!parse_part_headers(std::string_view{header_}.substr(2, p), part_)) {
    fail(error::malformed);
    return take;
  }
  header_.clear();
  state_ = state::body;
  if (cb_.on_part_begin && !cb_.on_part_begin(part_)) {
    fail(error::aborted);
    return take;
  }
  return consumed;
}

// `block` holds header lines, each terminated by CRLF.
bool multipart_parser::parse_part_headers(std::string_view block, multipart_part& part) {
  bool have_disposition = false;
  std::string line;
  auto handle_line = [&](std::string_view l) -> bool {
    size_t colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return false;
    std::string_view name = l.substr(0, colon);
    std::string_view value = trim(l.substr(colon + 1));
    if (iequals(name, "content-disposition")) {
      size_t semi = value.find(';');
      if (!iequals(trim(value.substr(0, semi)), "form-data"))
        return false;
      if (semi == std::string_view::npos)
        return false;
      bool have_ext_filename = false;
      bool ok = for_each_param(value.substr(semi + 1), [&](std::string_view k, std::string_view v) {
        if (k == "name") {
          part.name.assign(v);
        } else if (k == "filename" && !have_ext_filename) {
          part.filename.assign(v);
        } else if (k == "filename*") {
          std::string decoded;
          if (decode_ext_value(v, decoded)) {
            part.filename = std::move(decoded);
            have_ext_filename = true;
          }
        }
      });
      if (!ok || part.name.empty())
        return false;
      have_disposition = true;
    } else if (iequals(name, "content-type")) {
      part.content_type.assign(value);
    }
    return true;
  };
  // Lines starting with whitespace continue the previous one (obs-fold).
  size_t i = 0;
  while (i < block.size()) {
    size_t e = block.find("\r\n", i);
    if (e == std::string_view::npos)
      return false;
    std::string_view l = block.substr(i, e - i);
    i = e + 2;
    if (!l.empty() && (l.front() == ' ' || l.front() == '\t')) {
      if (line.empty())
        return false;
      line.push_back(' ');
      line.append(trim(l));
      continue;
    }
    if (!line.empty() && !handle_line(line))
      return false;
    line.assign(l);
  }
  if (!line.empty() && !handle_line(line))
    return false;
  return have_disposition;
}

} // namespace hlsgate::http
