#include "tests/media/clip_fixture.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace hlsgate::test {
namespace {

namespace fs = std::filesystem;

/// The per-process temporary directory, removed when the process exits.
class temp_root {
public:
  temp_root() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/hlsgate-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data()))
      throw std::runtime_error("clip_fixture: mkdtemp failed");
    path_ = buf.data();
  }
  ~temp_root() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

std::recursive_mutex g_mutex;               // recursive: truncated clips call make_clip
std::map<std::string, std::string> g_clips; // key -> path
int g_dirs = 0;

const temp_root& root() {
  static temp_root r;
  return r;
}

std::string format_seconds(double s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

std::string default_container(clip_kind kind) {
  return kind == clip_kind::audio_only ? "m4a" : "mp4";
}

std::string key_of(const clip_spec& s, const std::string& container) {
  static const char* names[] = {"va", "v", "a", "text", "random", "empty", "truncated"};
  std::ostringstream os;
  os << names[static_cast<int>(s.kind)] << '_' << s.seconds << "s";
  if (s.kind == clip_kind::video_audio || s.kind == clip_kind::video_only ||
      s.kind == clip_kind::truncated)
    os << '_' << s.width << 'x' << s.height << '_' << s.fps;
  if (s.audio_delay != 0)
    os << "_delay" << s.audio_delay;
  if (s.variable_frame_rate)
    os << "_vfr";
  if (!s.video_codec.empty())
    os << '_' << s.video_codec;
  if (s.exact_size)
    os << "_exact";
  if (!s.pix_fmt.empty())
    os << '_' << s.pix_fmt;
  if (s.gop > 0)
    os << "_g" << s.gop;
  if (!s.sar.empty()) {
    os << "_sar";
    for (char c : s.sar)
      os << (c == '/' || c == ':' ? 'x' : c);
  }
  if (s.rotation != 0)
    os << "_rot" << s.rotation;
  if (s.audio_rate > 0)
    os << "_ar" << s.audio_rate;
  if (s.audio_channels > 0)
    os << "_ac" << s.audio_channels;
  os << '.' << container;
  return os.str();
}

void run_or_throw(const std::string& cmd) {
  std::string out;
  const int rc = run_command(cmd + " 2>&1", &out);
  if (rc != 0)
    throw std::runtime_error("clip_fixture: command failed (" + std::to_string(rc) + "): " + cmd +
                             "\n" + out);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f)
    throw std::runtime_error("clip_fixture: cannot write " + path);
}

/// Runs ffmpeg to produce `path` for an audio/video kind.
void generate_av(const clip_spec& s, const std::string& container, const std::string& path) {
  const bool video = s.kind != clip_kind::audio_only;
  const bool audio = (s.kind == clip_kind::video_audio || s.kind == clip_kind::audio_only ||
                      s.kind == clip_kind::truncated) &&
                     container != "h264";
  std::ostringstream cmd;
  cmd << "ffmpeg -nostdin -hide_banner -v error -y";
  if (video) {
    const int w = s.exact_size ? (s.width + 1) & ~1 : s.width;
    const int h = s.exact_size ? (s.height + 1) & ~1 : s.height;
    cmd << " -f lavfi -i testsrc2=size=" << w << 'x' << h << ":rate=" << s.fps;
  }
  if (audio) {
    if (s.audio_delay != 0)
      cmd << " -itsoffset " << format_seconds(s.audio_delay);
    cmd << " -f lavfi -i sine=frequency=440:sample_rate="
        << (s.audio_rate > 0 ? s.audio_rate : 48000);
  }
  cmd << " -t " << format_seconds(s.seconds);
  if (video) {
    std::string filters;
    if (s.variable_frame_rate)
      filters = "select=not(eq(mod(n\\,5)\\,2))";
    if (s.exact_size)
      filters += (filters.empty() ? "" : ",") + std::string("scale=") + std::to_string(s.width) +
                 ':' + std::to_string(s.height) + ",setsar=1";
    if (!s.sar.empty())
      filters += (filters.empty() ? "" : ",") + std::string("setsar=") + s.sar;
    if (!filters.empty())
      cmd << " -vf " << shell_quote(filters);
    if (s.variable_frame_rate)
      cmd << " -fps_mode vfr";
    const std::string pix_fmt = s.pix_fmt.empty() ? "yuv420p" : s.pix_fmt;
    const int gop = s.gop > 0 ? s.gop : 60;
    cmd << " -pix_fmt " << pix_fmt;
    if (s.video_codec.empty() || s.video_codec == "libx264") {
      cmd << " -c:v libx264 -preset veryfast -profile:v "
          << (pix_fmt == "yuv420p"       ? "high"
              : pix_fmt == "yuv420p10le" ? "high10"
                                         : "high444")
          << " -g " << gop;
    } else if (s.video_codec == "libx265") {
      cmd << " -c:v libx265 -preset ultrafast -x265-params log-level=error -g " << gop;
      if (container == "mp4" || container == "mov")
        cmd << " -tag:v hvc1";
    } else {
      cmd << " -c:v " << s.video_codec << " -g " << gop;
    }
  }
  if (audio)
    cmd << " -ac " << (s.audio_channels > 0 ? s.audio_channels : 2) << " -c:a aac -b:a 128k";
  if (container == "mp4" || container == "m4a")
    cmd << " -movflags +faststart";
  cmd << ' ' << shell_quote(path);
  run_or_throw(cmd.str());
}

std::string generate(const clip_spec& s, const std::string& container, const std::string& key) {
  const std::string path = root().path() + "/" + key;
  const std::string part = root().path() + "/part_" + key; // same extension for ffmpeg
  switch (s.kind) {
  case clip_kind::video_audio:
  case clip_kind::video_only:
  case clip_kind::audio_only:
    if (s.rotation != 0) {
      // Rotation metadata is added by a copy pass (the mov muxer writes the matrix).
      const std::string base = root().path() + "/base_" + key;
      generate_av(s, container, base);
      run_or_throw("ffmpeg -nostdin -hide_banner -v error -y -i " + shell_quote(base) +
                   " -map 0 -c copy -metadata:s:v:0 rotate=" + std::to_string(s.rotation) + ' ' +
                   shell_quote(part));
      fs::remove(base);
    } else {
      generate_av(s, container, part);
    }
    break;
  case clip_kind::not_media: {
    std::string text;
    while (text.size() < 4096)
      text += "This is a plain text file, not a video. ";
    write_file(part, text);
    break;
  }
  case clip_kind::random_bytes: {
    std::mt19937 rng(12345);
    std::string bytes(64 * 1024, '\0');
    for (char& c : bytes)
      c = static_cast<char>(rng() & 0xff);
    write_file(part, bytes);
    break;
  }
  case clip_kind::empty:
    write_file(part, {});
    break;
  case clip_kind::truncated: {
    clip_spec full = s;
    full.kind = clip_kind::video_audio;
    const std::string source = make_clip(full);
    std::ifstream in(source, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes.resize(bytes.size() / 2);
    write_file(part, bytes);
    break;
  }
  }
  fs::rename(part, path);
  return path;
}

} // namespace

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

int run_command(const std::string& command, std::string* out) {
  FILE* p = popen(command.c_str(), "r");
  if (!p)
    return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    if (out)
      out->append(buf, n);
  }
  const int status = pclose(p);
  if (status == -1 || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

std::string make_clip(const clip_spec& spec) {
  const std::string container =
      spec.container.empty() ? default_container(spec.kind) : spec.container;
  const std::string key = key_of(spec, container);
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  auto it = g_clips.find(key);
  if (it != g_clips.end())
    return it->second;
  std::string path = generate(spec, container, key);
  g_clips.emplace(key, path);
  return path;
}

bool ffmpeg_has_encoder(const std::string& name, const std::string& pix_fmt) {
  std::string out;
  if (run_command("ffmpeg -hide_banner -h encoder=" + shell_quote(name) + " 2>/dev/null", &out) !=
          0 ||
      out.find("Encoder " + name) == std::string::npos)
    return false;
  if (pix_fmt.empty())
    return true;
  const auto line = out.find("Supported pixel formats:");
  if (line == std::string::npos)
    return false;
  std::istringstream formats(out.substr(line + 24, out.find('\n', line) - line - 24));
  for (std::string f; formats >> f;) {
    if (f == pix_fmt)
      return true;
  }
  return false;
}

std::string make_temp_dir(const std::string& prefix) {
  int n;
  {
    std::lock_guard<std::recursive_mutex> g(g_mutex);
    n = ++g_dirs;
  }
  const std::string path = root().path() + "/" + prefix + "_" + std::to_string(n);
  fs::create_directories(path);
  return path;
}

} // namespace hlsgate::test
