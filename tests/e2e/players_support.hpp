// Helpers of the players suite (tests/e2e/players_test.cpp): running a
// player under a time limit, which tools are installed, frame counts,
// child processes that serve the controls, and a player's errors in words.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

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
};

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
