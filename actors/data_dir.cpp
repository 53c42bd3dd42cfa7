#include "actors/data_dir.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

media::error io(std::string what) {
  return media::error{media::errc::io_error, std::move(what)};
}

/// mkdir -p for `dir` itself (parents keep their modes), then the mode and
/// group this layout wants, set explicitly rather than left to the umask.
media::status make_dir(const std::string& dir, mode_t mode, gid_t group, const char* what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  struct stat st {};
  if (ec || ::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return io(std::string{"cannot create the "} + what);
  if (group != static_cast<gid_t>(-1) && st.st_gid != group &&
      ::chown(dir.c_str(), static_cast<uid_t>(-1), group) != 0)
    return io(std::string{"cannot give the "} + what +
              " to HLSGATE_MEDIA_GROUP (is this user a member of it?)");
  if ((st.st_mode & 07777) != mode && ::chmod(dir.c_str(), mode) != 0)
    return io(std::string{"cannot set the mode of the "} + what);
  return media::ok_status();
}

bool inside(const fs::path& child, const fs::path& parent) {
  std::error_code ec;
  auto c = fs::weakly_canonical(child, ec);
  auto p = fs::weakly_canonical(parent, ec);
  auto rel = c.lexically_relative(p);
  return !rel.empty() && *rel.begin() != "..";
}

} // namespace

bool resolve_group(const std::string& spec, gid_t& out) {
  if (spec.empty()) {
    out = ::getegid();
    return true;
  }
  unsigned long v = 0;
  auto [p, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), v);
  if (ec == std::errc{} && p == spec.data() + spec.size()) {
    out = static_cast<gid_t>(v);
    return true;
  }
  struct group g {};
  struct group* found = nullptr;
  std::vector<char> buf(16384);
  if (::getgrnam_r(spec.c_str(), &g, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return false;
  out = g.gr_gid;
  return true;
}

media::status ensure_private_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return io("cannot create " + fs::path{path}.filename().string());
  const bool ok = ::fchmod(fd, 0600) == 0;
  ::close(fd);
  if (!ok)
    return io("cannot set the mode of " + fs::path{path}.filename().string());
  return media::ok_status();
}

data_dir::~data_dir() {
  if (lock_fd_ >= 0)
    ::close(lock_fd_); // releases the flock
}

media::result<std::unique_ptr<data_dir>> data_dir::open(const config::settings& cfg) {
  std::unique_ptr<data_dir> d{new data_dir()};
  gid_t group = 0;
  if (!resolve_group(cfg.media_group, group))
    return io("HLSGATE_MEDIA_GROUP names no group on this system");
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  d->path_ = fs::absolute(cfg.data_dir, ec).lexically_normal().string();
  while (d->path_.size() > 1 && d->path_.back() == '/')
    d->path_.pop_back();
  d->media_ = fs::absolute(cfg.media_dir, ec).lexically_normal().string();
  while (d->media_.size() > 1 && d->media_.back() == '/')
    d->media_.pop_back();
  d->group_ = group;

  // One process per data directory: the lock comes before anything is
  // touched, so a second server or `hlsgate import` fails without side
  // effects. flock is released by the kernel when the process dies (even
  // with kill -9), so a crash never leaves a stale lock.
  const std::string lock = d->path_ + "/.lock";
  d->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (d->lock_fd_ < 0)
    return io("cannot open the data directory's lock file");
  if (::flock(d->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return io("another hlsgate process is using the data directory " + cfg.data_dir +
                " (stop it first; one process per data directory)");
    return io("cannot lock the data directory");
  }

  // The data directory is traversable by the media group only when the
  // media tree lives inside it; everything else in it stays owner-only.
  const bool media_inside = inside(d->media_, d->path_);
  if (auto s = make_dir(d->path_, media_inside ? 0710 : 0700,
                        media_inside ? group : static_cast<gid_t>(-1), "data directory");
      !s)
    return s.err();
  for (auto* sub : {"uploads", "sources"})
    if (auto s = make_dir(d->path_ + "/" + sub, 0700, static_cast<gid_t>(-1), sub); !s)
      return s.err();
  if (auto s = make_dir(d->media_, 02750, group, "media directory"); !s)
    return s.err();
  // Folders with different owners must not be one another: the media tree
  // is swept at start-up and served to the edge; the import root is the
  // user's library, never deleted from.
  auto canonical = [](const std::string& p) {
    std::error_code ec;
    auto c = fs::weakly_canonical(p, ec);
    return ec ? fs::path{p}.lexically_normal() : c;
  };
  const auto data = canonical(d->path_), media = canonical(d->media_);
  if (data == media)
    return io("HLSGATE_MEDIA_DIR must not be the data directory itself");
  if (!cfg.import_root.empty()) {
    const auto lib = canonical(cfg.import_root);
    if (lib == media || inside(lib, media) || inside(media, lib))
      return io("HLSGATE_IMPORT_ROOT and HLSGATE_MEDIA_DIR must not contain one another");
    if (lib == data || inside(lib, data) || inside(data, lib))
      return io("HLSGATE_IMPORT_ROOT and HLSGATE_DATA_DIR must not contain one another");
  }
  return d;
}

} // namespace hlsgate::actors
