#include "actors/proxy_fetch.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace hlsgate::actors {

class shared_fetch::reader_impl final : public byte_source {
public:
  reader_impl(std::shared_ptr<shared_fetch> f, uint64_t at, std::function<void(uint64_t)> on_close)
      : at_(at), f_(std::move(f)), on_close_(std::move(on_close)) {}
  ~reader_impl() override { close(); }

  void next(std::function<void(byte_piece)> ready) override {
    f_->read_next(*this, std::move(ready));
  }

  void close() noexcept override {
    if (closed_.exchange(true))
      return;
    f_->closed(*this);
    if (on_close_)
      on_close_(sent_);
  }

  uint64_t at_;
  uint64_t sent_ = 0;
  std::atomic<bool> closed_{false};

private:
  std::shared_ptr<shared_fetch> f_;
  std::function<void(uint64_t)> on_close_;
  friend class shared_fetch;
};

shared_fetch::shared_fetch(options o) : opt_(o) {}

void shared_fetch::set_head(fetch_head h) {
  std::vector<std::function<void(const fetch_head&)>> run;
  {
    std::lock_guard lk(mu_);
    if (has_head_)
      return;
    head_ = std::move(h);
    has_head_ = true;
    run.swap(head_waiters_);
  }
  for (auto& f : run)
    f(head_);
}

void shared_fetch::append(std::string bytes) {
  if (bytes.empty())
    return;
  auto chunk = std::make_shared<const std::string>(std::move(bytes));
  std::vector<waiter> run;
  bool too_big = false;
  {
    std::lock_guard lk(mu_);
    if (done_)
      return;
    total_ += chunk->size();
    kept_ += chunk->size();
    chunks_.push_back(chunk);
    if (opt_.ring_bytes > 0) {
      while (kept_ > opt_.ring_bytes && chunks_.size() > 1) {
        kept_ -= chunks_.front()->size();
        chunks_.pop_front();
        ++base_;
      }
    } else if (kept_ > opt_.max_bytes) {
      too_big = true;
    }
    if (!too_big) {
      run.swap(waiting_);
      for (auto& w : run) {
        w.r->at_ = base_ + chunks_.size(); // the chunk being handed out is the newest
        w.r->sent_ += chunk->size();
      }
    }
  }
  if (too_big)
    return finish(false, "upstream body too large");
  for (auto& w : run)
    w.ready({chunk, 0, chunk->size(), false, false});
}

void shared_fetch::finish(bool ok, std::string error) {
  std::vector<waiter> run;
  std::vector<std::function<void(bool)>> done;
  bool headless = false;
  {
    std::lock_guard lk(mu_);
    if (done_)
      return;
    done_ = true;
    ok_ = ok;
    headless = !has_head_;
    if (ok && opt_.ring_bytes == 0 && chunks_.size() > 1) {
      auto whole = std::make_shared<std::string>();
      whole->reserve(kept_);
      for (const auto& c : chunks_) {
        starts_.push_back(whole->size());
        *whole += *c;
      }
      whole_ = std::move(whole);
    }
    run.swap(waiting_);
    done.swap(done_waiters_);
  }
  if (headless)
    set_head({false, error.empty() ? "upstream ended" : std::move(error), {}, {}, -1, {}});
  for (auto& w : run)
    w.ready({nullptr, 0, 0, ok, !ok});
  for (auto& f : done)
    f(ok);
}

void shared_fetch::on_head(std::function<void(const fetch_head&)> f) {
  {
    std::lock_guard lk(mu_);
    if (!has_head_) {
      head_waiters_.push_back(std::move(f));
      return;
    }
  }
  f(head_);
}

void shared_fetch::on_done(std::function<void(bool)> f) {
  bool ok = false;
  {
    std::lock_guard lk(mu_);
    if (!done_) {
      done_waiters_.push_back(std::move(f));
      return;
    }
    ok = ok_;
  }
  f(ok);
}

std::shared_ptr<byte_source> shared_fetch::reader(std::function<void(uint64_t)> on_close) {
  std::lock_guard lk(mu_);
  ++readers_;
  uint64_t at = base_;
  if (opt_.ring_bytes > 0 && !chunks_.empty())
    at = base_ + chunks_.size() - 1; // the live edge
  return std::make_shared<reader_impl>(shared_from_this(), at, std::move(on_close));
}

void shared_fetch::read_next(reader_impl& r, std::function<void(byte_piece)> ready) {
  std::shared_ptr<const std::string> chunk;
  size_t offset = 0, size = 0;
  bool end = false, failed = false;
  {
    std::lock_guard lk(mu_);
    if (r.closed_) {
      failed = true;
    } else {
      if (r.at_ < base_)
        r.at_ = base_; // fell behind the ring: skip ahead
      if (whole_ && r.at_ < base_ + chunks_.size()) {
        chunk = whole_; // all that is left, in one piece
        offset = starts_[static_cast<size_t>(r.at_ - base_)];
        size = whole_->size() - offset;
        r.at_ = base_ + chunks_.size();
        r.sent_ += size;
      } else if (r.at_ < base_ + chunks_.size()) {
        chunk = chunks_[static_cast<size_t>(r.at_ - base_)];
        ++r.at_;
        size = chunk->size();
        r.sent_ += size;
      } else if (done_) {
        end = ok_;
        failed = !ok_;
      } else {
        waiting_.push_back({&r, std::move(ready)});
        return;
      }
    }
  }
  ready({std::move(chunk), offset, size, end, failed});
}

void shared_fetch::closed(reader_impl& r) {
  std::vector<waiter> drop;
  {
    std::lock_guard lk(mu_);
    --readers_;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->r == &r) {
        drop.push_back(std::move(*it));
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : drop)
    w.ready({nullptr, 0, 0, false, true});
}

bool shared_fetch::finished() const {
  std::lock_guard lk(mu_);
  return done_;
}

bool shared_fetch::has_head() const {
  std::lock_guard lk(mu_);
  return has_head_;
}

bool shared_fetch::succeeded() const {
  std::lock_guard lk(mu_);
  return done_ && ok_;
}

std::string shared_fetch::body() const {
  std::lock_guard lk(mu_);
  if (!done_ || !ok_)
    return {};
  if (whole_)
    return *whole_;
  std::string out;
  out.reserve(kept_);
  for (const auto& c : chunks_)
    out += *c;
  return out;
}

std::shared_ptr<const std::string> shared_fetch::shared_body() const {
  {
    std::lock_guard lk(mu_);
    if (done_ && ok_ && whole_)
      return whole_;
    if (done_ && ok_ && chunks_.size() == 1)
      return chunks_.front();
  }
  return std::make_shared<const std::string>(body());
}

const fetch_head& shared_fetch::head() const {
  return head_;
}

size_t shared_fetch::readers() const {
  std::lock_guard lk(mu_);
  return readers_;
}

uint64_t shared_fetch::bytes() const {
  std::lock_guard lk(mu_);
  return total_;
}

namespace {

/// An upstream body as libav reads it: the bytes already read first.
class upstream_reader final : public media::stream_reader {
public:
  upstream_reader(std::unique_ptr<net::http_reader> r, std::string first,
                  std::shared_ptr<std::atomic<bool>> cancel, std::atomic<uint64_t>* bytes_in)
      : r_(std::move(r)), first_(std::move(first)), cancel_(std::move(cancel)),
        bytes_in_(bytes_in) {}

  int read(uint8_t* buf, int size) override {
    if (size <= 0)
      return 0;
    if (cancel_->load() || cancelled())
      return -ECANCELED;
    if (!first_.empty()) {
      const size_t n = std::min(first_.size(), static_cast<size_t>(size));
      std::memcpy(buf, first_.data(), n);
      first_.erase(0, n);
      return static_cast<int>(n);
    }
    const long n = r_->read(buf, static_cast<size_t>(size));
    if (n < 0) {
      error_ = r_->error().empty() ? "upstream read failed" : r_->error();
      return -EIO;
    }
    if (bytes_in_)
      *bytes_in_ += static_cast<uint64_t>(n);
    return static_cast<int>(n);
  }
  const std::string& error() const { return error_; }

private:
  std::unique_ptr<net::http_reader> r_;
  std::string first_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::atomic<uint64_t>* bytes_in_;
  std::string error_;
};

/// True when `b` starts like MPEG-TS (a sync byte, and another one packet on).
bool looks_mpegts(const uint8_t* b, size_t n) {
  return n >= 1 && b[0] == 0x47 && (n <= 188 || b[188] == 0x47);
}

} // namespace

std::string pump(shared_fetch& f, net::get_request req, bool continuous, bool first,
                 media::ts_restamper* restamp, std::atomic<uint64_t>* bytes_in) {
  std::atomic<uint64_t> unused{0};
  std::atomic<uint64_t>& read_bytes = bytes_in ? *bytes_in : unused;
  const auto stop = req.cancel; // this pump's own flag (a continuous stream's failover)
  if (!req.cancel)
    req.cancel = f.cancel;
  const int64_t req_first = req.range_first, req_last = req.range_last;
  std::string why;
  auto r = net::http_reader::open(std::move(req), why);
  if (!r)
    return why; // the caller decides: finish the fetch, or try the next upstream

  // A byte range (checked before the head: a viewer gets a 502, not a
  // short body): a 206 must name exactly it; a whole body (200, only for
  // a range from byte 0) is cut at its last byte.
  uint64_t remaining = UINT64_MAX;
  if (req_first >= 0) {
    const auto& cr = r->content_range();
    if (cr.empty())
      remaining = static_cast<uint64_t>(req_last) + 1;
    else if (cr.rfind("bytes " + std::to_string(req_first) + "-" + std::to_string(req_last) + "/",
                      0) != 0)
      return "upstream answered another byte range";
  }
  if (first)
    f.set_head({true,
                {},
                r->content_type(),
                r->content_range(),
                r->content_length(),
                r->location().text()});
  constexpr size_t packet = 188;
  std::string carry; // a continuous stream's bytes short of a whole packet
  std::vector<uint8_t> buf(continuous ? 188 * 348 : 64 * 1024);
  if (continuous && restamp) {
    const long n = r->read(buf.data(), buf.size());
    if (n < 0)
      return r->error().empty() ? "upstream read failed" : r->error();
    if (n == 0)
      return "upstream ended";
    const auto got = static_cast<size_t>(n);
    read_bytes += got;
    if (looks_mpegts(buf.data(), got)) {
      auto in = std::make_shared<upstream_reader>(
          std::move(r), std::string{reinterpret_cast<const char*>(buf.data()), got}, f.cancel,
          &read_bytes);
      auto why = restamp->run(in, stop ? stop : std::shared_ptr<const std::atomic<bool>>{f.cancel});
      return in->error().empty() ? why : in->error();
    }
    if (restamp->started()) // not MPEG-TS after one that was: never mixed into its output
      return "the upstream is not MPEG-TS";
    carry.assign(reinterpret_cast<const char*>(buf.data()), got); // passed on as it is
  }
  for (;;) {
    if (f.cancel->load() || (stop && stop->load()))
      return "cancelled";
    if (!continuous && f.finished()) // over its size limit: nobody reads on
      return "upstream body too large";
    const long n = r->read(buf.data(), buf.size());
    if (n < 0)
      return r->error().empty() ? "upstream read failed" : r->error();
    read_bytes += static_cast<uint64_t>(n);
    if (n == 0) {
      if (continuous)
        return "upstream ended";
      f.append(std::move(carry));
      return {};
    }
    if (!continuous) {
      // Pieces of at least 32 KiB: each piece is one write per viewer.
      const auto take =
          static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(n), remaining));
      carry.append(reinterpret_cast<const char*>(buf.data()), take);
      if (remaining != UINT64_MAX && (remaining -= take) == 0) {
        f.append(std::move(carry));
        return {};
      }
      if (carry.size() >= (32u << 10))
        f.append(std::exchange(carry, std::string{}));
      continue;
    }
    carry.append(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
    const size_t whole = carry.size() / packet * packet;
    if (whole == 0)
      continue;
    f.append(carry.substr(0, whole));
    carry.erase(0, whole);
  }
}

} // namespace hlsgate::actors
