#include "http/segment_route.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hlsgate::http {

namespace {

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c))
      return false;
  return true;
}
bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

/// Keeps `fd` when it is a regular file (O_NONBLOCK has no effect on those),
/// closes it otherwise.
int keep_regular(int fd) {
  struct stat st;
  if (fd < 0)
    return -1;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

constexpr int k_dir_flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr int k_file_flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

} // namespace

bool parse_segment_path(std::string_view path, segment_target& out) {
  constexpr std::string_view prefix = "/seg/";
  if (path.substr(0, prefix.size()) != prefix)
    return false;
  path.remove_prefix(prefix.size());
  const size_t a = path.find('/');
  if (a == std::string_view::npos)
    return false;
  const std::string_view sid = path.substr(0, a);
  path.remove_prefix(a + 1);
  const size_t b = path.find('/');
  if (b == std::string_view::npos)
    return false;
  const std::string_view rend = path.substr(0, b);
  const std::string_view file = path.substr(b + 1);
  if (sid.size() < 16 || sid.size() > 64 || !all_of(sid, id_char))
    return false;
  media::segment_kind kind;
  if (!media::is_rendition_name(rend) || !media::parse_segment_file_name(file, kind))
    return false;
  out = {sid, rend, file, kind};
  return true;
}

std::string segment_prefix(std::string_view storage_id) {
  std::string p;
  p.reserve(6 + storage_id.size());
  p.append("/seg/").append(storage_id).push_back('/');
  return p;
}

int open_segment(const std::string& root, const segment_target& t) {
  // The root itself may be a symlink (an operator's choice); below it, none.
  const int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return -1;
  // The parts were validated by parse_segment_path: short, no NUL, no '/'.
  char sid[65] = {};
  char rend[9] = {};
  char file[20] = {}; // seg_ + 9 digits + .vtt
  if (t.storage_id.size() >= sizeof sid || t.rendition.size() >= sizeof rend ||
      t.file.size() >= sizeof file) {
    ::close(root_fd);
    return -1;
  }
  t.storage_id.copy(sid, t.storage_id.size());
  t.rendition.copy(rend, t.rendition.size());
  t.file.copy(file, t.file.size());
  const int sid_fd = ::openat(root_fd, sid, k_dir_flags);
  ::close(root_fd);
  if (sid_fd < 0)
    return -1;
  const int rend_fd = ::openat(sid_fd, rend, k_dir_flags);
  ::close(sid_fd);
  if (rend_fd < 0)
    return -1;
  const int fd = ::openat(rend_fd, file, k_file_flags);
  ::close(rend_fd);
  return keep_regular(fd);
}

int open_regular_nofollow(const char* path) {
  return keep_regular(::open(path, k_file_flags));
}

} // namespace hlsgate::http
