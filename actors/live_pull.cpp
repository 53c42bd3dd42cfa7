#include "actors/live_pull.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "metrics/log.hpp"
#include "net/http_get.hpp"

namespace hlsgate::actors {

namespace {

using namespace std::chrono_literals;

/// A playlist is small: one whose body starts like one is cut off here
/// (the HLS demuxer keeps every entry it reads in memory).
constexpr uint64_t max_playlist_bytes = 4u << 20;
/// A segment (or key) the HLS demuxer names; a continuous stream (the
/// source itself, when it is not a playlist) has no size limit.
constexpr uint64_t max_segment_bytes = 64u << 20;

/// The body of one GET as the demuxer reads it.
class http_stream final : public media::stream_reader {
public:
  explicit http_stream(std::unique_ptr<net::http_reader> r) : r_(std::move(r)) {}

  int read(uint8_t* buf, int size) override {
    if (size <= 0)
      return 0;
    const long n = r_->read(buf, static_cast<size_t>(size));
    if (n < 0) {
      logging::warn("pulled source read failed", {{"reason", r_->error()}});
      return -EIO;
    }
    if (first_ && n > 0) {
      first_ = false;
      constexpr char tag[] = "#EXTM3U";
      if (static_cast<size_t>(n) >= sizeof tag - 1 && std::memcmp(buf, tag, sizeof tag - 1) == 0)
        limit_ = max_playlist_bytes;
    }
    read_ += static_cast<uint64_t>(n);
    if (limit_ > 0 && read_ > limit_) {
      logging::warn("pulled playlist too large", {{"limit_bytes", std::to_string(limit_)}});
      return -EIO;
    }
    return static_cast<int>(n);
  }

  std::string location() const override { return r_->location().text(); }

private:
  std::unique_ptr<net::http_reader> r_;
  bool first_ = true;
  uint64_t read_ = 0;
  uint64_t limit_ = 0;
};

class pull_opener final : public media::url_opener {
public:
  pull_opener(bool allow_private, std::shared_ptr<std::atomic<bool>> cancel)
      : allow_private_(allow_private), cancel_(std::move(cancel)) {}

  std::shared_ptr<media::stream_reader> open(const std::string& text, int64_t first, int64_t last,
                                             bool nested, std::string& why) override {
    auto u = net::parse_url(text, why);
    if (!u) {
      why = "URL refused: " + why;
      return nullptr;
    }
    net::get_request req;
    req.target = std::move(*u);
    req.headers = {{"User-Agent", "hlsgate"}};
    req.range_first = first;
    req.range_last = last;
    req.allow_private = allow_private_;
    req.cancel = cancel_;
    req.open_timeout = 10s;
    req.idle_timeout = 10s;
    if (nested) { // a playlist, segment or key: bounded in size and time
      req.max_body = max_segment_bytes;
      req.body_timeout = 60s;
    }
    auto r = net::http_reader::open(std::move(req), why);
    if (!r)
      return nullptr;
    return std::make_shared<http_stream>(std::move(r));
  }

  bool cancelled() const override { return cancel_ && cancel_->load(); }

private:
  bool allow_private_;
  std::shared_ptr<std::atomic<bool>> cancel_;
};

} // namespace

std::shared_ptr<media::url_opener> make_pull_opener(bool allow_private,
                                                    std::shared_ptr<std::atomic<bool>> cancel) {
  return std::make_shared<pull_opener>(allow_private, std::move(cancel));
}

} // namespace hlsgate::actors
