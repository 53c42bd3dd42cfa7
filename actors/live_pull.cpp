#include "actors/live_pull.hpp"

#include <cerrno>
#include <string>
#include <string_view>

#include "live/pull_guard.hpp"
#include "metrics/log.hpp"
#include "net/http_get.hpp"

namespace hlsgate::actors {

namespace {

using namespace std::chrono_literals;

/// A segment (or key, or init section) the HLS demuxer names; a playlist is
/// bounded by live::playlist_guard, and a continuous MPEG-TS stream (the
/// source itself, when it is not a playlist) by nothing but its idle time.
constexpr uint64_t max_segment_bytes = 64u << 20;

/// The body of one GET as the demuxer reads it.
class http_stream final : public media::stream_reader {
public:
  http_stream(std::unique_ptr<net::http_reader> r, std::shared_ptr<std::string> note)
      : r_(std::move(r)), note_(std::move(note)) {}

  int read(uint8_t* buf, int size) override {
    if (size <= 0)
      return 0;
    const long n = r_->read(buf, static_cast<size_t>(size));
    if (n < 0)
      return failed(r_->error());
    if (n > 0 && !typed_) {
      typed_ = true;
      playlist_ = !live::starts_mpegts(buf[0]);
    }
    if (playlist_) {
      if (auto why = guard_.feed({reinterpret_cast<const char*>(buf), static_cast<size_t>(n)});
          !why.empty())
        return failed(why);
    }
    return static_cast<int>(n);
  }

  std::string location() const override { return r_->location().text(); }

private:
  int failed(const std::string& why) {
    logging::warn("pulled source read failed", {{"reason", why}});
    *note_ = why;
    return -EIO;
  }

  std::unique_ptr<net::http_reader> r_;
  std::shared_ptr<std::string> note_;
  bool typed_ = false, playlist_ = false;
  live::playlist_guard guard_;
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
      *note_ = why;
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
    if (!r) {
      *note_ = why;
      return nullptr;
    }
    return std::make_shared<http_stream>(std::move(r), note_);
  }

  bool cancelled() const override { return cancel_ && cancel_->load(); }
  std::string last_failure() const override { return *note_; }

private:
  bool allow_private_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  /// Why the session's last open or read failed; its readers write it too
  /// (all on the ingest's thread).
  std::shared_ptr<std::string> note_ = std::make_shared<std::string>();
};

} // namespace

std::shared_ptr<media::url_opener> make_pull_opener(bool allow_private,
                                                    std::shared_ptr<std::atomic<bool>> cancel) {
  return std::make_shared<pull_opener>(allow_private, std::move(cancel));
}

} // namespace hlsgate::actors
