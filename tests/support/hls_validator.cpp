#include "tests/support/hls_validator.hpp"

#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

namespace hlsgate::test {

namespace {

using attrs = std::map<std::string, std::string>;

std::vector<std::string> lines_of(const std::string& text, bool& crlf) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string line;
  crlf = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      crlf = true;
      line.pop_back();
    }
    out.push_back(line);
  }
  return out;
}

bool starts_with(const std::string& s, const char* p) {
  return s.rfind(p, 0) == 0;
}

/// "#EXT-X-FOO:value" -> ("#EXT-X-FOO", "value"); no colon: value empty.
std::pair<std::string, std::string> split_tag(const std::string& line) {
  auto colon = line.find(':');
  if (colon == std::string::npos)
    return {line, {}};
  return {line.substr(0, colon), line.substr(colon + 1)};
}

bool decimal_integer(const std::string& s) {
  if (s.empty() || s.size() > 20)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

bool decimal_float(const std::string& s, double& v) {
  static const std::regex re{R"(^-?[0-9]+(\.[0-9]+)?$)"};
  if (!std::regex_match(s, re))
    return false;
  v = std::strtod(s.c_str(), nullptr);
  return true;
}

bool is_quoted(const std::string& v) {
  return v.size() >= 2 && v.front() == '"' && v.back() == '"';
}

std::string unquote(const std::string& v) {
  return is_quoted(v) ? v.substr(1, v.size() - 2) : v;
}

bool iso8601(const std::string& s) {
  // YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)
  static const std::regex re{
      R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$)"};
  return std::regex_match(s, re);
}

struct checker {
  hls_problems p;
  int declared_version = 1;
  int needed_version = 1;
  std::string why_version;

  void fail(size_t line, const std::string& msg) {
    p.items.push_back("line " + std::to_string(line + 1) + ": " + msg);
  }
  void need(int v, const char* why) {
    if (v > needed_version) {
      needed_version = v;
      why_version = why;
    }
  }
  bool attributes(size_t i, const std::string& text, attrs& out) {
    std::string err;
    if (!parse_attributes(text, out, err)) {
      fail(i, "bad attribute list: " + err);
      return false;
    }
    return true;
  }
  void finish_version() {
    if (declared_version < needed_version)
      p.items.push_back("EXT-X-VERSION " + std::to_string(declared_version) + " but " +
                        why_version + " needs version " + std::to_string(needed_version));
  }
};

const std::set<std::string> media_only = {"#EXTINF",
                                          "#EXT-X-TARGETDURATION",
                                          "#EXT-X-MEDIA-SEQUENCE",
                                          "#EXT-X-ENDLIST",
                                          "#EXT-X-PLAYLIST-TYPE",
                                          "#EXT-X-DISCONTINUITY-SEQUENCE",
                                          "#EXT-X-BYTERANGE",
                                          "#EXT-X-DISCONTINUITY",
                                          "#EXT-X-KEY",
                                          "#EXT-X-MAP",
                                          "#EXT-X-PROGRAM-DATE-TIME",
                                          "#EXT-X-DATERANGE",
                                          "#EXT-X-I-FRAMES-ONLY",
                                          "#EXT-X-GAP",
                                          "#EXT-X-PART",
                                          "#EXT-X-PART-INF",
                                          "#EXT-X-SERVER-CONTROL",
                                          "#EXT-X-PRELOAD-HINT",
                                          "#EXT-X-SKIP",
                                          "#EXT-X-RENDITION-REPORT"};
const std::set<std::string> master_only = {
    "#EXT-X-MEDIA",        "#EXT-X-STREAM-INF",  "#EXT-X-I-FRAME-STREAM-INF",
    "#EXT-X-SESSION-DATA", "#EXT-X-SESSION-KEY", "#EXT-X-CONTENT-STEERING"};
const std::set<std::string> either = {"#EXTM3U", "#EXT-X-VERSION", "#EXT-X-INDEPENDENT-SEGMENTS",
                                      "#EXT-X-START", "#EXT-X-DEFINE"};

/// Common first checks; returns the lines or empty on a fatal problem.
std::vector<std::string> begin(checker& c, const std::string& text) {
  bool crlf = false;
  auto lines = lines_of(text, crlf);
  if (lines.empty() || lines[0] != "#EXTM3U") {
    c.fail(0, "the first line must be #EXTM3U");
    return {};
  }
  bool seen_version = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto [tag, value] = split_tag(lines[i]);
    if (tag != "#EXT-X-VERSION")
      continue;
    if (seen_version)
      c.fail(i, "EXT-X-VERSION appears more than once");
    seen_version = true;
    if (!decimal_integer(value))
      c.fail(i, "EXT-X-VERSION is not a decimal integer");
    else
      c.declared_version = std::atoi(value.c_str());
  }
  return lines;
}

} // namespace

std::string hls_problems::str() const {
  std::string out;
  for (auto& i : items)
    out += i + "\n";
  return out;
}

bool parse_attributes(const std::string& text, attrs& out, std::string& error) {
  out.clear();
  size_t i = 0;
  while (i < text.size()) {
    size_t eq = text.find('=', i);
    if (eq == std::string::npos) {
      error = "attribute without '='";
      return false;
    }
    std::string name = text.substr(i, eq - i);
    static const std::regex name_re{"^[A-Z0-9-]+$"};
    if (!std::regex_match(name, name_re)) {
      error = "bad attribute name '" + name + "'";
      return false;
    }
    size_t j = eq + 1;
    std::string value;
    if (j < text.size() && text[j] == '"') {
      size_t close = text.find('"', j + 1);
      if (close == std::string::npos) {
        error = "unterminated quoted string in " + name;
        return false;
      }
      value = text.substr(j, close - j + 1);
      if (value.find_first_of("\r\n") != std::string::npos) {
        error = "line break in quoted string " + name;
        return false;
      }
      j = close + 1;
    } else {
      size_t comma = text.find(',', j);
      value = text.substr(j, comma == std::string::npos ? std::string::npos : comma - j);
      if (value.empty() || value.find_first_of("\" ") != std::string::npos) {
        error = "bad unquoted value of " + name;
        return false;
      }
      j = comma == std::string::npos ? text.size() : comma;
    }
    if (!out.emplace(name, value).second) {
      error = "duplicate attribute " + name;
      return false;
    }
    if (j < text.size()) {
      if (text[j] != ',' || j + 1 == text.size()) {
        error = "expected ',' between attributes";
        return false;
      }
      ++j;
    }
    i = j;
  }
  return true;
}

hls_problems validate_media_playlist(const std::string& text) {
  checker c;
  auto lines = begin(c, text);
  if (lines.empty())
    return c.p;
  int target = -1;
  bool seen_segment = false, ended = false, expect_uri = false;
  std::string type;
  std::set<std::string> daterange_ids;
  double max_extinf = 0;
  size_t segments = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& line = lines[i];
    if (line.empty())
      continue;
    if (ended) {
      c.fail(i, "content after EXT-X-ENDLIST");
      continue;
    }
    if (line[0] != '#') {
      if (!expect_uri)
        c.fail(i, "URI line without EXTINF");
      expect_uri = false;
      seen_segment = true;
      ++segments;
      continue;
    }
    if (!starts_with(line, "#EXT"))
      continue; // a comment
    auto [tag, value] = split_tag(line);
    if (master_only.count(tag)) {
      c.fail(i, tag + " is a master playlist tag");
      continue;
    }
    if (!media_only.count(tag) && !either.count(tag)) {
      c.fail(i, "unknown tag " + tag);
      continue;
    }
    if (expect_uri && tag != "#EXT-X-PROGRAM-DATE-TIME" && tag != "#EXT-X-DISCONTINUITY" &&
        tag != "#EXT-X-DATERANGE" && tag != "#EXT-X-BYTERANGE" && tag != "#EXT-X-GAP")
      c.fail(i, tag + " between EXTINF and its URI");
    if (tag == "#EXT-X-TARGETDURATION") {
      if (target >= 0)
        c.fail(i, "EXT-X-TARGETDURATION appears more than once");
      if (!decimal_integer(value))
        c.fail(i, "EXT-X-TARGETDURATION is not a decimal integer");
      else
        target = std::atoi(value.c_str());
    } else if (tag == "#EXTINF") {
      auto comma = value.find(',');
      double d = 0;
      if (comma == std::string::npos || !decimal_float(value.substr(0, comma), d) || d < 0)
        c.fail(i, "EXTINF is not a non-negative duration followed by ','");
      if (value.substr(0, comma).find('.') != std::string::npos)
        c.need(3, "a decimal-floating-point EXTINF");
      max_extinf = std::max(max_extinf, d);
      if (expect_uri)
        c.fail(i, "EXTINF without a URI");
      expect_uri = true;
    } else if (tag == "#EXT-X-MEDIA-SEQUENCE" || tag == "#EXT-X-DISCONTINUITY-SEQUENCE") {
      if (seen_segment)
        c.fail(i, tag + " after the first segment");
      if (!decimal_integer(value))
        c.fail(i, tag + " is not a decimal integer");
    } else if (tag == "#EXT-X-PLAYLIST-TYPE") {
      if (!type.empty())
        c.fail(i, "EXT-X-PLAYLIST-TYPE appears more than once");
      type = value;
      if (value != "VOD" && value != "EVENT")
        c.fail(i, "EXT-X-PLAYLIST-TYPE must be VOD or EVENT");
    } else if (tag == "#EXT-X-ENDLIST") {
      if (expect_uri)
        c.fail(i, "EXT-X-ENDLIST after an EXTINF without URI");
      ended = true;
    } else if (tag == "#EXT-X-PROGRAM-DATE-TIME") {
      if (!iso8601(value))
        c.fail(i, "EXT-X-PROGRAM-DATE-TIME is not an ISO 8601 date-time with time zone");
    } else if (tag == "#EXT-X-BYTERANGE" || tag == "#EXT-X-I-FRAMES-ONLY") {
      c.need(4, tag.c_str() + 1);
    } else if (tag == "#EXT-X-MAP") {
      c.need(6, "EXT-X-MAP");
    } else if (tag == "#EXT-X-DATERANGE") {
      attrs a;
      if (!c.attributes(i, value, a))
        continue;
      if (!a.count("ID") || !is_quoted(a["ID"]))
        c.fail(i, "EXT-X-DATERANGE needs a quoted ID");
      else if (!daterange_ids.insert(a["ID"]).second)
        c.fail(i, "EXT-X-DATERANGE ID " + a["ID"] + " used twice");
      if (!a.count("START-DATE") || !iso8601(unquote(a["START-DATE"])))
        c.fail(i, "EXT-X-DATERANGE needs a quoted ISO 8601 START-DATE");
      double d = 0;
      if (a.count("DURATION") && (!decimal_float(a["DURATION"], d) || d < 0))
        c.fail(i, "EXT-X-DATERANGE DURATION must be a non-negative number");
      if (a.count("END-ON-NEXT")) {
        if (a["END-ON-NEXT"] != "YES")
          c.fail(i, "END-ON-NEXT must be YES");
        if (!a.count("CLASS"))
          c.fail(i, "END-ON-NEXT needs CLASS");
        if (a.count("DURATION") || a.count("END-DATE"))
          c.fail(i, "END-ON-NEXT excludes DURATION and END-DATE");
      }
    }
  }
  if (expect_uri)
    c.fail(lines.size() - 1, "the last EXTINF has no URI");
  if (target < 0)
    c.p.items.push_back("EXT-X-TARGETDURATION is missing");
  else if (std::lround(max_extinf) > target)
    c.p.items.push_back("an EXTINF rounds to " + std::to_string(std::lround(max_extinf)) +
                        " s, above EXT-X-TARGETDURATION " + std::to_string(target));
  if (type == "VOD" && !ended)
    c.p.items.push_back("a VOD playlist must end with EXT-X-ENDLIST");
  if (segments == 0 && type == "VOD")
    c.p.items.push_back("a VOD playlist without segments");
  c.finish_version();
  return c.p;
}

hls_problems validate_master_playlist(const std::string& text) {
  checker c;
  auto lines = begin(c, text);
  if (lines.empty())
    return c.p;
  struct group_member {
    std::string name;
    bool is_default = false;
  };
  std::map<std::pair<std::string, std::string>, std::vector<group_member>> groups; // (type, id)
  std::vector<std::pair<size_t, attrs>> variants;
  bool expect_uri = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& line = lines[i];
    if (line.empty())
      continue;
    if (line[0] != '#') {
      if (!expect_uri)
        c.fail(i, "URI line without EXT-X-STREAM-INF");
      expect_uri = false;
      continue;
    }
    if (!starts_with(line, "#EXT"))
      continue;
    auto [tag, value] = split_tag(line);
    if (media_only.count(tag)) {
      c.fail(i, tag + " is a media playlist tag");
      continue;
    }
    if (!master_only.count(tag) && !either.count(tag)) {
      c.fail(i, "unknown tag " + tag);
      continue;
    }
    if (expect_uri)
      c.fail(i, tag + " between EXT-X-STREAM-INF and its URI");
    if (tag == "#EXT-X-STREAM-INF") {
      attrs a;
      if (c.attributes(i, value, a))
        variants.emplace_back(i, a);
      expect_uri = true;
    } else if (tag == "#EXT-X-MEDIA") {
      attrs a;
      if (!c.attributes(i, value, a))
        continue;
      auto type = a.count("TYPE") ? a["TYPE"] : "";
      if (type != "AUDIO" && type != "VIDEO" && type != "SUBTITLES" && type != "CLOSED-CAPTIONS")
        c.fail(i, "EXT-X-MEDIA TYPE must be AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS");
      if (!a.count("GROUP-ID") || !is_quoted(a["GROUP-ID"]))
        c.fail(i, "EXT-X-MEDIA needs a quoted GROUP-ID");
      if (!a.count("NAME") || !is_quoted(a["NAME"]))
        c.fail(i, "EXT-X-MEDIA needs a quoted NAME");
      if (type == "SUBTITLES" && !a.count("URI"))
        c.fail(i, "EXT-X-MEDIA TYPE=SUBTITLES needs a URI");
      if (type == "CLOSED-CAPTIONS" && a.count("URI"))
        c.fail(i, "EXT-X-MEDIA TYPE=CLOSED-CAPTIONS must not have a URI");
      const bool def = a.count("DEFAULT") && a["DEFAULT"] == "YES";
      if (def && a.count("AUTOSELECT") && a["AUTOSELECT"] != "YES")
        c.fail(i, "DEFAULT=YES needs AUTOSELECT=YES");
      if (a.count("CHARACTERISTICS"))
        c.need(5, "CHARACTERISTICS");
      auto& members = groups[{type, a["GROUP-ID"]}];
      for (auto& m : members)
        if (m.name == a["NAME"])
          c.fail(i, "NAME " + a["NAME"] + " used twice in group " + a["GROUP-ID"]);
      members.push_back({a["NAME"], def});
    }
  }
  if (expect_uri)
    c.fail(lines.size() - 1, "the last EXT-X-STREAM-INF has no URI");
  for (auto& [key, members] : groups) {
    int defaults = 0;
    for (auto& m : members)
      defaults += m.is_default ? 1 : 0;
    if (defaults > 1)
      c.p.items.push_back("group " + key.second + " has more than one DEFAULT=YES");
  }
  if (variants.empty())
    c.p.items.push_back("a master playlist without EXT-X-STREAM-INF");
  for (auto& [i, a] : variants) {
    double bw = 0, avg = 0;
    if (!a.count("BANDWIDTH") || !decimal_integer(a["BANDWIDTH"]))
      c.fail(i, "EXT-X-STREAM-INF needs a decimal-integer BANDWIDTH");
    else
      bw = std::atof(a["BANDWIDTH"].c_str());
    if (a.count("AVERAGE-BANDWIDTH")) {
      if (!decimal_integer(a["AVERAGE-BANDWIDTH"]))
        c.fail(i, "AVERAGE-BANDWIDTH must be a decimal integer");
      avg = std::atof(a["AVERAGE-BANDWIDTH"].c_str());
      if (avg > bw)
        c.fail(i, "AVERAGE-BANDWIDTH above BANDWIDTH");
    }
    if (!a.count("CODECS") || !is_quoted(a["CODECS"]) || a["CODECS"].size() <= 2) {
      c.fail(i, "EXT-X-STREAM-INF needs CODECS (Apple authoring spec)");
    } else if (a["CODECS"].find("avc1") != std::string::npos ||
               a["CODECS"].find("hvc1") != std::string::npos) {
      static const std::regex res{"^[0-9]+x[0-9]+$"};
      if (!a.count("RESOLUTION") || !std::regex_match(a["RESOLUTION"], res))
        c.fail(i, "a video variant needs RESOLUTION=WxH");
      double fr = 0;
      if (!a.count("FRAME-RATE") || !decimal_float(a["FRAME-RATE"], fr) || fr <= 0)
        c.fail(i, "a video variant needs FRAME-RATE (Apple authoring spec)");
    }
    // CODECS names every codec of the variant, its audio group's included
    // (RFC 8216 4.3.4.2; Apple authoring spec).
    if (a.count("AUDIO") && a.count("CODECS")) {
      static const std::regex audio_codec{R"((^"|,)\s*(mp4a|ac-3|ec-3|opus|fLaC)\b)"};
      if (!std::regex_search(a["CODECS"], audio_codec))
        c.fail(i, "a variant with an AUDIO group needs the audio codec in CODECS");
    }
    for (const char* ref : {"AUDIO", "SUBTITLES", "VIDEO"}) {
      if (!a.count(ref))
        continue;
      if (!is_quoted(a[ref]) || groups.count({ref, a[ref]}) == 0)
        c.fail(i, std::string{ref} + "=" + a[ref] + " names no EXT-X-MEDIA group of that TYPE");
    }
  }
  c.finish_version();
  return c.p;
}

hls_problems validate_playlist(const std::string& text) {
  if (text.find("#EXT-X-STREAM-INF") != std::string::npos ||
      text.find("#EXT-X-MEDIA:") != std::string::npos)
    return validate_master_playlist(text);
  return validate_media_playlist(text);
}

} // namespace hlsgate::test
