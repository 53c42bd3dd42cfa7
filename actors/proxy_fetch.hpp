// One upstream body shared by every viewer that wants it (request
// coalescing): a pump on a thread of its own reads the upstream through
// net::http_reader and appends chunks; readers (one per viewer response)
// pull those chunks as they arrive. A segment or playlist keeps its whole
// body (bounded), so a viewer who comes late still gets it from the first
// byte; a continuous stream keeps a ring of its newest bytes, readers start
// at the live edge, and a reader that falls behind the ring skips ahead
// (whole MPEG-TS packets: the pump appends multiples of 188 bytes).
//
// Thread-safe: the pump, the stream actor and the viewers' connections use
// it from their own threads; callbacks run outside the lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/proxy_model.hpp"
#include "media/ts_restamp.hpp"
#include "net/http_get.hpp"

namespace hlsgate::actors {

/// The head of the upstream answer, known before any body byte.
struct fetch_head {
  bool ok = false;
  std::string error; ///< when !ok: short, safe to show ("upstream answered 404")
  std::string content_type;
  std::string content_range; ///< of a ranged answer
  int64_t length = -1;       ///< Content-Length when known
  std::string final_url;     ///< after redirects (playlists resolve against it)
};

class shared_fetch : public std::enable_shared_from_this<shared_fetch> {
public:
  struct options {
    size_t max_bytes = 64u << 20; ///< a kept body above this fails
    size_t ring_bytes = 0;        ///< continuous: keep this many newest bytes (0 = keep all)
  };
  explicit shared_fetch(options o);

  // -- the pump's side --------------------------------------------------------
  /// Once, before any chunk (a later pump of a continuous stream that
  /// fails over does not call it again).
  void set_head(fetch_head h);
  void append(std::string bytes);
  /// The body is complete (`ok`) or cannot be (why in `error`).
  void finish(bool ok, std::string error = {});

  // -- the viewers' side ------------------------------------------------------
  /// `f(head)` once the head is known (at once when it already is).
  void on_head(std::function<void(const fetch_head&)> f);
  /// `f(ok)` once the body finished (at once when it already has).
  void on_done(std::function<void(bool)> f);
  /// A new reader: from the first byte, or (continuous) from the live edge.
  /// `on_close(bytes)` runs once when it is closed, with what it handed out.
  std::shared_ptr<byte_source> reader(std::function<void(uint64_t)> on_close = {});

  bool finished() const;
  bool has_head() const;
  bool succeeded() const;
  /// The whole kept body (a playlist), or "" while not finished.
  std::string body() const;
  /// The same without a copy when it is one piece (the usual case).
  std::shared_ptr<const std::string> shared_body() const;
  const fetch_head& head() const; ///< only after on_head fired
  size_t readers() const;
  uint64_t bytes() const;

  /// Set to stop the pump (no viewer left).
  const std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);

private:
  class reader_impl;
  struct waiter {
    reader_impl* r;
    std::function<void(byte_piece)> ready;
  };
  void read_next(reader_impl& r, std::function<void(byte_piece)> ready);
  void closed(reader_impl& r);

  const options opt_;
  mutable std::mutex mu_;
  fetch_head head_;
  bool has_head_ = false;
  bool done_ = false, ok_ = false;
  std::deque<std::shared_ptr<const std::string>> chunks_;
  /// A kept body once finished well: every chunk in one string, and where
  /// each chunk starts in it, so a reader gets all it has left in one piece.
  std::shared_ptr<const std::string> whole_;
  std::vector<size_t> starts_;
  uint64_t base_ = 0; ///< index of chunks_.front()
  size_t kept_ = 0;   ///< bytes in chunks_
  uint64_t total_ = 0;
  size_t readers_ = 0;
  std::vector<waiter> waiting_;
  std::vector<std::function<void(const fetch_head&)>> head_waiters_;
  std::vector<std::function<void(bool)>> done_waiters_;
};

/// Reads `req` into `f` on the calling thread until the body ends, fails,
/// stalls (req.idle_timeout) or `f->cancel` is set. With `continuous`,
/// chunks are whole 188-byte packets, the body never "ends" well (an end
/// is a failure to fail over from) and only the first pump sets the head.
/// `req.cancel`, when set, stops this pump alone (`f->cancel` stops every
/// pump of `f`). Returns "" when the body ended normally, else why it stopped.
/// A continuous MPEG-TS upstream goes through `restamp` when given (one
/// timeline across the stream's upstreams); other bytes are passed on.
/// Every byte read from the upstream is added to `bytes_in` when given.
std::string pump(shared_fetch& f, net::get_request req, bool continuous, bool first,
                 media::ts_restamper* restamp = nullptr, std::atomic<uint64_t>* bytes_in = nullptr);

} // namespace hlsgate::actors
