#include "http/upload_sink.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>

namespace hlsgate::http {

namespace {

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// A new 0600 file with a random name in `dir` (O_EXCL | O_NOFOLLOW: never
/// an existing file or a planted symlink); -1 on failure.
int create_temp_file(const std::string& dir, std::string& path) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int attempt = 0; attempt < 8; ++attempt) {
    unsigned char rnd[16];
    if (::getrandom(rnd, sizeof rnd, 0) != static_cast<ssize_t>(sizeof rnd))
      break;
    path.assign(dir);
    if (path.empty() || path.back() != '/')
      path.push_back('/');
    path += "upload-";
    for (unsigned char b : rnd) {
      path.push_back(hex[b >> 4]);
      path.push_back(hex[b & 15]);
    }
    path += ".part";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0)
      return fd;
    if (errno != EEXIST)
      break;
  }
  path.clear();
  return -1;
}

} // namespace

upload_sink::upload_sink(std::string tmp_dir, std::string_view boundary, uint64_t max_body_bytes)
    : dir_(std::move(tmp_dir)), max_body_(max_body_bytes) {
  multipart_parser::callbacks cb;
  cb.on_part_begin = [this](const multipart_part& p) { return on_part_begin(p); };
  cb.on_part_data = [this](std::string_view d) { return on_part_data(d); };
  cb.on_part_end = [this] {
    if (writing_) {
      writing_ = false;
      media_done_ = true;
    }
    return true;
  };
  parser_.emplace(boundary, std::move(cb));
  if (!parser_->ok())
    fail(400, parser_->message());
}

upload_sink::~upload_sink() {
  discard();
}

bool upload_sink::on_part_begin(const multipart_part& p) {
  if (++parts_ > max_parts)
    return fail(400, "Too many form fields");
  if (p.name != "media" || seen_media_)
    return true; // other fields are not needed; their data is dropped
  seen_media_ = true;
  fd_ = create_temp_file(dir_, path_);
  if (fd_ < 0)
    return fail(500, "Cannot store upload");
  filename_ = p.filename;
  writing_ = true;
  return true;
}

bool upload_sink::on_part_data(std::string_view d) {
  if (!writing_)
    return true;
  if (!write_all(fd_, d))
    return fail(500, "Cannot store upload");
  bytes_ += d.size();
  return true;
}

bool upload_sink::fail(unsigned status, std::string detail) {
  if (status_ == 0) {
    status_ = status;
    detail_ = std::move(detail);
  }
  discard();
  return false;
}

bool upload_sink::feed(std::string_view data) {
  if (status_ != 0)
    return false;
  received_ += data.size();
  if (received_ > max_body_)
    return fail(413, "Upload too large");
  if (!parser_->feed(data))
    return fail(400, parser_->message()); // a callback's own failure was recorded first
  return true;
}

bool upload_sink::finish() {
  if (status_ != 0)
    return false;
  if (!parser_->finish())
    return fail(400, parser_->message());
  if (!media_done_)
    return fail(422, "Missing form field 'media'");
  if (fd_ >= 0) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0)
      return fail(500, "Cannot store upload");
  }
  return true;
}

std::string upload_sink::release() {
  if (status_ != 0 || fd_ >= 0)
    return {};
  std::string p = std::move(path_);
  path_.clear();
  return p;
}

void upload_sink::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
  writing_ = false;
}

} // namespace hlsgate::http
