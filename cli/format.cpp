#include "cli/format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

namespace hlsgate::cli {

using json = nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  auto i = j.find(key);
  if (i == j.end() || i->is_null())
    return "-";
  if (i->is_string())
    return i->get_ref<const std::string&>().empty() ? "-" : printable(i->get<std::string>());
  if (i->is_boolean())
    return i->get<bool>() ? "yes" : "no";
  return i->dump();
}

double num(const json& j, const char* key, double fallback = 0) {
  auto i = j.find(key);
  return i != j.end() && i->is_number() ? i->get<double>() : fallback;
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
std::string columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) {
      if (width.size() <= c)
        width.push_back(0);
      width[c] = std::max(width[c], r[c].size());
    }
  std::string out;
  for (auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) {
      out += r[c];
      if (c + 1 < r.size())
        out.append(width[c] - r[c].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

} // namespace

std::string printable(std::string_view text) {
  std::string out{text};
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      c = '?';
  }
  return out;
}

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string clock_text(double seconds) {
  if (!(seconds >= 0) || seconds > 1e9)
    return "?";
  auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::string progress_line(std::string_view label, double fraction, std::string_view detail,
                          size_t bar_width) {
  if (!(fraction >= 0))
    fraction = 0;
  fraction = std::min(fraction, 1.0);
  std::string name = printable(label);
  if (name.size() > 24)
    name = name.substr(0, 21) + "...";
  const auto filled = static_cast<size_t>(fraction * static_cast<double>(bar_width));
  std::string out = name;
  out.append(24 - std::min<size_t>(24, name.size()) + 1, ' ');
  out += '[';
  out.append(filled, '#');
  out.append(bar_width - filled, '.');
  out += ']';
  char pct[16];
  std::snprintf(pct, sizeof pct, " %3d%%", static_cast<int>(fraction * 100));
  out += pct;
  if (!detail.empty()) {
    out += "  ";
    out += printable(detail);
  }
  return out;
}

std::string media_table(const json& items) {
  std::vector<std::vector<std::string>> rows{{"ID", "STATUS", "DURATION", "EXPIRES", "NAME"}};
  if (items.is_array())
    for (auto& i : items) {
      if (!i.is_object())
        continue;
      rows.push_back({str(i, "media_id"), str(i, "status"), clock_text(num(i, "duration", -1)),
                      str(i, "expires_at"), str(i, "original_name")});
    }
  return columns(rows);
}

std::string info_text(const json& info) {
  if (!info.is_object())
    return {};
  std::ostringstream os;
  os << "media_id:     " << str(info, "media_id") << '\n'
     << "name:         " << str(info, "original_name") << '\n'
     << "status:       " << str(info, "status");
  const std::string status = str(info, "status");
  if (status == "queued" || status == "processing") {
    char buf[64];
    std::snprintf(buf, sizeof buf, " (%.0f%%, ETA %s)", num(info, "progress"),
                  clock_text(num(info, "eta_seconds", -1)).c_str());
    os << buf;
  }
  os << '\n';
  if (info.contains("error"))
    os << "error:        " << str(info, "error") << '\n';
  os << "duration:     " << clock_text(num(info, "duration", -1)) << '\n'
     << "uploaded:     " << str(info, "upload_time") << '\n'
     << "expires_at:   " << str(info, "expires_at") << '\n'
     << "imported:     " << str(info, "imported") << '\n'
     << "thumbnails:   " << str(info, "thumbnails") << '\n';
  auto r = info.find("renditions");
  if (r != info.end() && r->is_array() && !r->empty()) {
    std::vector<std::vector<std::string>> rows{{"  RENDITION", "KIND", "SIZE", "KBIT/S", "CODECS"}};
    for (auto& x : *r) {
      if (!x.is_object())
        continue;
      std::string size = "-";
      if (x.contains("width") && x.contains("height"))
        size = str(x, "width") + "x" + str(x, "height");
      else if (x.contains("language"))
        size = str(x, "language");
      rows.push_back({"  " + str(x, "name"), str(x, "kind"), size,
                      std::to_string(static_cast<long long>(num(x, "bandwidth") / 1000)),
                      str(x, "codecs")});
    }
    os << "renditions:\n" << columns(rows);
  }
  return os.str();
}

std::string tokens_table(const json& tokens) {
  std::vector<std::vector<std::string>> rows{{"JTI", "CREATED", "EXPIRES", "STATE", "LABEL"}};
  if (tokens.is_array())
    for (auto& t : tokens) {
      if (!t.is_object())
        continue;
      const bool revoked = t.value("revoked", false);
      rows.push_back({str(t, "jti"), str(t, "created_at"),
                      t.contains("expires_at") && t["expires_at"].is_string()
                          ? str(t, "expires_at")
                          : std::string{"with the media"},
                      revoked ? "revoked" : "valid", str(t, "label")});
    }
  return columns(rows);
}

} // namespace hlsgate::cli
