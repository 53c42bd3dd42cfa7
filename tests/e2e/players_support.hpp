// Helpers of the players suite (tests/e2e/players_test.cpp): running a
// player under a time limit, which tools are installed, frame counts,
// subtitle files and the check of what a player made of them, child
// processes that serve the controls, and a player's errors in words.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tests/e2e/e2e_fixture.hpp"

extern char** environ;

namespace hlsgate::test::players_support {

inline const std::string players_dir = std::string{HLSGATE_SOURCE_DIR} + "/tests/players";
inline const std::string setup_hint = "run tests/players/setup.sh (as root) to install it";

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct tool_run {
  int rc = -1;
  std::string out, err;
  double seconds = 0;
  bool timed_out() const { return rc == 124 || rc == 137; }
};

/// Runs `cmd` under coreutils' timeout; stdout and stderr kept apart.
inline tool_run run_tool(const std::string& cmd, int timeout_seconds) {
  tool_run r;
  const std::string err_file = make_temp_dir("tool") + "/stderr";
  auto t0 = std::chrono::steady_clock::now();
  r.rc = run_command("timeout -k 10 " + std::to_string(timeout_seconds) + " " + cmd +
                         " </dev/null 2>" + shell_quote(err_file),
                     &r.out);
  r.seconds = seconds_since(t0);
  std::ifstream in{err_file};
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

inline bool have_command(const std::string& name) {
  return run_command("command -v " + shell_quote(name) + " >/dev/null 2>&1") == 0;
}

/// What is missing for `player` ("" when all is there).
inline std::string missing_for(const std::string& player) {
  std::vector<std::string> missing;
  for (auto* c : {"ffmpeg", "ffprobe", "timeout"})
    if (!have_command(c))
      missing.push_back(c);
  if (player == "gstreamer") {
    if (!have_command("gst-launch-1.0"))
      missing.push_back("gst-launch-1.0 (gstreamer1.0-tools)");
    else if (run_command("gst-inspect-1.0 hlsdemux >/dev/null 2>&1") != 0)
      missing.push_back("GStreamer's hlsdemux (gstreamer1.0-plugins-bad)");
    else if (run_command("gst-inspect-1.0 avdec_h264 >/dev/null 2>&1") != 0)
      missing.push_back("GStreamer's avdec_h264 (gstreamer1.0-libav)");
  }
  if (player == "hls.js" || player == "shaka") {
    if (!have_command("node"))
      missing.push_back("node (nodejs)");
    if (!fs::exists("/usr/bin/chromium") && std::getenv("CHROMIUM") == nullptr)
      missing.push_back("/usr/bin/chromium (chromium)");
    for (auto* m : {"puppeteer-core", "hls.js", "shaka-player"})
      if (!fs::exists(players_dir + "/node_modules/" + m + "/package.json"))
        missing.push_back(std::string{"tests/players/node_modules/"} + m);
  }
  std::string s;
  for (auto& m : missing)
    s += (s.empty() ? "" : ", ") + m;
  return s;
}

/// A subtitle cue, in seconds of media time.
struct cue {
  double start = 0, end = 0;
  std::string text;
};

/// A cue time as SRT (`sep` ',') or WebVTT ('.') writes it: 00:00:01,500.
inline std::string cue_time(double t, char sep) {
  const long ms = std::lround(t * 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld%c%03ld", ms / 3600000, ms / 60000 % 60,
                ms / 1000 % 60, sep, ms % 1000);
  return buf;
}
inline std::string srt_file(const std::vector<cue>& cues) {
  std::string out;
  for (size_t i = 0; i < cues.size(); ++i)
    out += std::to_string(i + 1) + "\r\n" + cue_time(cues[i].start, ',') + " --> " +
           cue_time(cues[i].end, ',') + "\r\n" + cues[i].text + "\r\n\r\n";
  return out;
}
inline std::string webvtt_file(const std::vector<cue>& cues) {
  std::string out = "WEBVTT\n\n";
  for (auto& c : cues)
    out += cue_time(c.start, '.') + " --> " + cue_time(c.end, '.') + "\n" + c.text + "\n\n";
  return out;
}

/// One stream to play.
struct stream {
  std::string name;    ///< for messages
  std::string url;     ///< master (or media) playlist URL
  double duration = 0; ///< of the source, seconds
  int64_t frames = -1; ///< frames of the source's first video (else audio) stream
  bool audio_only = false;
  size_t variants = 1;             ///< variant streams in the master playlist
  bool growing = false;            ///< an EVENT playlist whose job is still running
  std::string media_id, admin_key; ///< server items only
  // Subtitles: the browser players select `subtitle_track` (a language).
  std::string subtitle_track;
  std::vector<std::string> subtitle_languages; ///< the master's SUBTITLES renditions, in order
  std::vector<cue> subtitle_cues;              ///< as posted for subtitle_track
  std::vector<std::string> subtitle_segments;  ///< its segments' paths (no query)
  // Alternate audio: the browser players select `audio_track` (a language),
  // whose segments are in folder `audio_folder`.
  std::string audio_track, audio_folder;
  std::vector<std::string> audio_languages; ///< the master's AUDIO renditions, in order
};

/// Checks play.js's result for a stream with alternate audio: the player
/// lists every audio rendition, ends with `s.audio_track` active, and
/// fetched segments of its folder.
inline void check_audio(const json& result, const stream& s, const std::string& player) {
  std::vector<std::string> langs;
  for (auto& t : result.value("audio_tracks", json::array()))
    langs.push_back(t.value("lang", ""));
  EXPECT_EQ(langs, s.audio_languages) << player << "'s audio tracks: " << result["audio_tracks"];
  EXPECT_EQ(result.value("audio_track_active", json::object()).value("lang", ""), s.audio_track)
      << player << "'s active audio track: " << result["audio_track_active"].dump();
  const json folders = result.value("segment_folders", json::object());
  EXPECT_GT(folders.value(s.audio_folder, 0), 0)
      << player << " fetched no segment of " << s.audio_folder << ": " << folders.dump();
}

/// Checks play.js's result for a stream with subtitles: the player lists
/// every subtitle rendition, has `s.subtitle_track` selected, loaded the
/// cues posted for it into the <video> element's TextTrack (same texts; same
/// times relative to the first frame, within a frame at 30 fps), and fetched
/// each of its segments.
inline void check_subtitles(const json& result, const stream& s, const std::string& player,
                            double tolerance = 0.034) {
  std::vector<std::string> langs;
  for (auto& t : result.value("subtitle_tracks", json::array()))
    langs.push_back(t.value("lang", ""));
  EXPECT_EQ(langs, s.subtitle_languages)
      << player << "'s subtitle tracks: " << result["subtitle_tracks"].dump();
  EXPECT_EQ(result.value("subtitle_track_active", json::object()).value("lang", ""),
            s.subtitle_track)
      << player << "'s active subtitle track: " << result["subtitle_track_active"].dump();
  const json sub = result.value("subtitle_cues", json::object());
  EXPECT_EQ(sub.value("track", json::object()).value("language", ""), s.subtitle_track)
      << "the TextTrack the cues were read from: " << sub.dump();
  // Every cue seen in the TextTrack during playback (the player may drop
  // cues behind the playhead), sorted by start.
  const json loaded = sub.value("loaded", json::array());
  std::vector<std::string> texts;
  for (auto& c : loaded)
    texts.push_back(c.value("text", ""));
  std::vector<std::string> posted;
  for (auto& c : s.subtitle_cues)
    posted.push_back(c.text);
  EXPECT_EQ(texts, posted) << player << " loaded other cues than those posted for "
                           << s.subtitle_track << ": " << sub.dump();
  const json vtt = result.value("vtt_requests", json::array());
  EXPECT_FALSE(s.subtitle_segments.empty());
  for (auto& seg : s.subtitle_segments) {
    bool ok = false;
    for (auto& r : vtt)
      ok = ok || (r.value("path", "") == seg && r.value("status", 0) == 200);
    EXPECT_TRUE(ok) << player << " did not fetch " << seg
                    << " (200); WebVTT requests: " << vtt.dump();
  }
  // The player's timeline starts where it puts the first frame (hls.js: 0,
  // Shaka: a frame or two later, at the first DTS); the cues are posted in
  // the source's time, whose 0 is that first frame.
  const json first = result.value("first_frame_time", json{});
  ASSERT_TRUE(first.is_number()) << player << " reported no first frame time";
  const double origin = first.get<double>();
  EXPECT_LT(std::abs(origin), 0.2) << player << "'s first frame is at " << origin << " s";
  std::ostringstream off;
  for (size_t i = 0; i < std::min(loaded.size(), s.subtitle_cues.size()); ++i) {
    const double start = loaded[i].value("start", -1.0) - origin;
    const double end = loaded[i].value("end", -1.0) - origin;
    if (std::abs(start - s.subtitle_cues[i].start) > tolerance ||
        std::abs(end - s.subtitle_cues[i].end) > tolerance)
      off << "  " << loaded[i].value("text", "") << ": " << start << " --> " << end << "; posted "
          << posted[i] << ": " << s.subtitle_cues[i].start << " --> " << s.subtitle_cues[i].end
          << "\n";
  }
  EXPECT_EQ(off.str(), "") << "cues at other times (relative to the first frame, at " << origin
                           << " s in " << player << "'s timeline; tolerance " << tolerance << " s)";
}

/// Frames of `stream_spec` ("v:0", "a:0") that ffprobe decodes from `input`.
inline int64_t count_frames(const std::string& input, const std::string& extra_options,
                            std::string* errors = nullptr, const std::string& stream_spec = "v:0") {
  auto r = run_tool("ffprobe -v error " + extra_options + " -count_frames -select_streams " +
                        stream_spec + " -show_entries stream=nb_read_frames -of csv=p=0 " +
                        shell_quote(input),
                    300);
  if (errors)
    *errors = r.err + (r.rc != 0 ? "(ffprobe exit " + std::to_string(r.rc) + ")" : "");
  std::istringstream in{r.out};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])))
      return std::stoll(line);
  return -1;
}

inline size_t count_variants(const std::string& master) {
  size_t n = 0;
  for (size_t p = master.find("#EXT-X-STREAM-INF:"); p != std::string::npos;
       p = master.find("#EXT-X-STREAM-INF:", p + 1))
    ++n;
  return n == 0 ? 1 : n;
}

/// A child process (python3 -m http.server), stopped with SIGTERM.
class child_process {
public:
  bool spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
      pid_ = -1;
    return rc == 0;
  }
  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // bounded wait for its exit
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
  }

private:
  pid_t pid_ = -1;
};

/// play.js's result: the last line of its output that is a JSON object
/// ("" when it printed none).
inline std::string play_result_line(const std::string& out) {
  std::string last;
  std::istringstream in{out};
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{')
      last = line;
  return last;
}

/// Formats play.js's JSON errors one per line: player, what, when, where.
inline std::string describe_errors(const json& result) {
  std::ostringstream os;
  if (!result.contains("errors"))
    return os.str();
  for (auto& e : result["errors"]) {
    os << "  - " << e.value("source", "?");
    if (e.contains("type"))
      os << " " << e["type"].dump();
    os << " " << e.value("details", "");
    if (e.contains("severity"))
      os << " " << e["severity"].get<std::string>();
    else if (e.contains("fatal"))
      os << (e["fatal"].get<bool>() ? " (fatal)" : " (non-fatal)");
    if (e.contains("t"))
      os << " at t=" << e["t"].dump() << " s";
    if (e.contains("phase"))
      os << " [" << e["phase"].get<std::string>() << "]";
    if (e.contains("segment"))
      os << " segment " << e["segment"].get<std::string>();
    if (e.contains("frag") && e["frag"].is_object())
      os << " frag sn " << e["frag"].value("sn", json{}).dump() << " level "
         << e["frag"].value("level", json{}).dump() << " " << e["frag"].value("url", "");
    os << ": " << e.value("message", "") << "\n";
  }
  return os.str();
}

} // namespace hlsgate::test::players_support
