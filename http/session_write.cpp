// A session's writing side: responses, files (sendfile with Range), the
// lingering close, begin_shutdown and close. Every answer is written here,
// and an answer that is not fully written calls its on_undelivered.
#include "http/session.hpp"

#include "http/errors.hpp"
#include "http/query.hpp"
#include "http/range.hpp"
#include "http/segment_access.hpp"
#include "http/segment_route.hpp"

#include "auth/signed_url.hpp"
#include "metrics/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <utility>

namespace hlsgate::http::detail {

using std::chrono::seconds;

void session::post_close() {
  net::post(strand_, [self = shared_from_this()] { self->do_close(); });
}

void session::post_begin_shutdown() {
  net::post(strand_, [self = shared_from_this()] {
    self->on_begin_shutdown();
    self->core_->ack_shutdown();
  });
}

void session::serve_segment() {
  set_phase(phase::writing);
  if (method_ != "GET" && method_ != "HEAD")
    return send_response(error_response(405, "Method not allowed", "GET, HEAD"));
  segment_target t;
  if (!parse_segment_path(raw_path(), t))
    return send_error(404, "Not found");
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  const segment_access access =
      check_segment_access(core_->signer, core_->revocations, t.storage_id, raw_query(), now);
  if (access.status != 200) {
    if (*access.metric != '\0')
      core_->metrics.auth_failure(access.metric);
    return send_error(access.status, access.detail);
  }
  const int64_t exp = access.expires;
  char cache[64];
  const int clen = std::snprintf(cache, sizeof cache, "private, max-age=%lld",
                                 static_cast<long long>(std::max<int64_t>(0, exp - now)));
  std::vector<std::pair<std::string, std::string>> extra;
  extra.emplace_back("Cache-Control", std::string(cache, static_cast<size_t>(std::max(clen, 0))));
  serve_file(open_segment(opts().media_root, t), media::segment_content_type(t.kind), 200, extra);
}

void session::serve_router_file(const response& res) {
  serve_file(open_regular_nofollow(res.file_path.c_str()), res.content_type, res.status,
             res.headers);
}

void session::serve_file(int fd, std::string_view content_type, unsigned status,
                         const std::vector<std::pair<std::string, std::string>>& extra) {
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0)
      ::close(fd);
    return send_error(404, "Not found");
  }
  close_file();
  file_fd_ = fd;
  file_conditions cond;
  cond.head = is_head();
  if (status == 200) {
    cond.range = header("range");
    cond.if_range = header("if-range");
    cond.if_none_match = header("if-none-match");
  }
  const file_decision d =
      decide_file({static_cast<uint64_t>(st.st_size), static_cast<int64_t>(st.st_mtime)}, cond);
  if (d.status == 416) {
    close_file();
    response r = error_response(416, "Range not satisfiable");
    r.headers.emplace_back("Content-Range", d.content_range);
    return send_response(r);
  }
  begin_head(d.status == 200 ? status : d.status);
  if (d.status != 304) {
    wire::append_field(out_head_, "Content-Type", content_type);
    out_head_.append("Accept-Ranges: bytes\r\n");
  }
  wire::append_field(out_head_, "ETag", d.etag);
  wire::append_field(out_head_, "Last-Modified", d.last_modified);
  if (!d.content_range.empty())
    wire::append_field(out_head_, "Content-Range", d.content_range);
  for (const auto& [n, v] : extra)
    wire::append_field(out_head_, n, v);
  if (d.status == 304) {
    end_head(std::nullopt);
    close_file();
    return write_buffered(0);
  }
  end_head(d.length);
  if (!d.send_body || d.length == 0) {
    close_file();
    return write_buffered(0);
  }
  file_off_ = static_cast<off_t>(d.first);
  file_remaining_ = d.length;
  head_sent_ = 0;
  sent_body_bytes_ = 0;
  send_file_some();
}

void session::send_file_some() {
  if (closed_)
    return;
  const int sock = stream_.socket().native_handle();
  while (head_sent_ < out_head_.size()) {
    const ssize_t n = ::send(sock, out_head_.data() + head_sent_, out_head_.size() - head_sent_,
                             MSG_NOSIGNAL | MSG_MORE);
    if (n >= 0) {
      head_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return wait_writable();
    return finish_response(false);
  }
  // Bound one turn so a fast reader of a large file cannot hog this thread.
  size_t budget = 8u << 20;
  while (file_remaining_ > 0) {
    if (budget == 0) {
      net::post(strand_, beast::bind_front_handler(&session::send_file_some, shared_from_this()));
      return;
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(file_remaining_, budget));
    const ssize_t n = ::sendfile(sock, file_fd_, &file_off_, want);
    if (n > 0) {
      file_remaining_ -= static_cast<uint64_t>(n);
      sent_body_bytes_ += static_cast<uint64_t>(n);
      budget -= std::min(budget, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return wait_writable();
    return finish_response(false); // error, or the file shrank (n == 0)
  }
  close_file();
  finish_response(true);
}

void session::wait_writable() {
  const uint64_t tick = ++wait_tick_;
  wait_timer_.expires_after(seconds(opts().send_timeout_seconds));
  wait_timer_.async_wait([self = shared_from_this(), tick](error_code ec) {
    if (!ec && tick == self->wait_tick_) { // stalled reader: give up
      error_code ignored;
      self->stream_.socket().cancel(ignored);
    }
  });
  stream_.socket().async_wait(tcp::socket::wait_write, [self = shared_from_this()](error_code ec) {
    ++self->wait_tick_;
    self->wait_timer_.cancel();
    if (ec || self->closed_)
      return self->finish_response(false);
    self->send_file_some();
  });
}

void session::close_file() {
  if (file_fd_ >= 0) {
    ::close(file_fd_);
    file_fd_ = -1;
  }
}

void session::begin_head(unsigned status) {
  status_ = status;
  out_head_.clear();
  out_body_.clear();
  out_shared_.reset();
  wire::begin_head(out_head_, status);
  if (!request_id_.empty())
    wire::append_field(out_head_, "X-Request-Id", request_id_);
}

void session::end_head(std::optional<uint64_t> content_length) {
  // A body left unread cannot be skipped reliably: close after answering.
  close_after_ = !keep_alive_ || !body_complete_ || core_->shutting_down.load() || peer_gone_;
  wire::end_head(out_head_, cors(), header("origin"), content_length, close_after_, version_ == 10);
}

void session::send_error(unsigned status, std::string_view detail) {
  if (phase_ != phase::writing)
    set_phase(phase::writing);
  send_response(error_response(status, detail));
}

void session::send_response(const response& res) {
  if (phase_ != phase::writing)
    set_phase(phase::writing);
  begin_head(res.status);
  const std::string& body = res.shared_body ? *res.shared_body : res.body;
  const bool no_body = res.status == 204 || res.status == 304 || res.status < 200;
  if (!no_body || !body.empty())
    wire::append_field(out_head_, "Content-Type", res.content_type);
  for (const auto& [n, v] : res.headers)
    wire::append_field(out_head_, n, v);
  if (res.status == 204 || res.status < 200) {
    end_head(std::nullopt);
    return write_buffered(0);
  }
  end_head(body.size());
  if (is_head() || res.status == 304)
    return write_buffered(0);
  if (res.shared_body) {
    out_shared_ = res.shared_body; // kept alive until written
    return write_buffered(out_shared_->size());
  }
  out_body_.assign(res.body);
  write_buffered(out_body_.size());
}

void session::send_preflight() {
  set_phase(phase::writing);
  begin_head(204);
  out_head_.append("Access-Control-Allow-Methods: GET, HEAD, POST, DELETE, OPTIONS\r\n"
                   "Access-Control-Allow-Headers: Authorization, X-Admin-Key, Content-Type, "
                   "Range\r\nAccess-Control-Max-Age: 600\r\n");
  end_head(std::nullopt);
  write_buffered(0);
}

void session::write_buffered(size_t body_len) {
  sent_body_bytes_ = body_len;
  const char* data = out_shared_ ? out_shared_->data() : out_body_.data();
  std::array<net::const_buffer, 2> bufs{net::buffer(out_head_), net::buffer(data, body_len)};
  stream_.expires_after(seconds(opts().send_timeout_seconds));
  net::async_write(stream_, bufs, [self = shared_from_this()](error_code ec, std::size_t) {
    self->finish_response(!ec);
  });
}

// -- streamed bodies ------------------------------------------------------------------

namespace {

constexpr std::string_view k_crlf = "\r\n";
constexpr std::string_view k_last_chunk = "0\r\n\r\n"; ///< last-chunk, no trailers (RFC 9112 §7.1)

net::const_buffer buf(std::string_view s) {
  return net::buffer(s.data(), s.size());
}

} // namespace

void session::send_stream(response& res) {
  std::shared_ptr<body_stream> s = std::move(res.stream);
  const bool no_body = res.status == 204 || res.status == 304 || res.status < 200;
  if (!is_head() && !no_body && core_->shutting_down.load()) {
    // It might never end, and drain() would wait for it: refuse it instead.
    s->close();
    if (auto f = std::exchange(undelivered_, nullptr))
      f();
    return send_error(503, "Server is shutting down");
  }
  begin_head(res.status);
  if (!no_body)
    wire::append_field(out_head_, "Content-Type", res.content_type);
  for (const auto& [n, v] : res.headers)
    wire::append_field(out_head_, n, v);
  std::optional<uint64_t> length;
  if (no_body) {
    framing_ = stream_framing::length;
  } else if (res.stream_length >= 0) {
    framing_ = stream_framing::length;
    length = static_cast<uint64_t>(res.stream_length);
  } else if (version_ >= 11) {
    framing_ = stream_framing::chunked;
    out_head_.append("Transfer-Encoding: chunked\r\n");
  } else {
    framing_ = stream_framing::close;
    if (!is_head())
      keep_alive_ = false; // the close ends the body
  }
  end_head(res.status == 204 || res.status < 200 ? std::nullopt : length);
  if (is_head() || no_body) {
    s->close(); // never pulled
    return write_buffered(0);
  }
  body_stream_ = std::move(s);
  stream_left_ = length.value_or(0);
  stream_pulling_ = false;
  stream_stop_ = false;
  sent_body_bytes_ = 0;
  chunk_ = {};
  write_stream({buf(out_head_)}, framing_ == stream_framing::length && stream_left_ == 0);
}

void session::pull_chunk() {
  stream_pulling_ = true;
  const uint64_t gen = ++stream_gen_;
  // Weak: a producer holding `ready` must not keep the connection alive.
  body_stream_->next([weak = weak_from_this(), gen](body_stream::chunk c) {
    const auto self = weak.lock();
    if (!self)
      return;
    core& co = *self->core_;
    std::lock_guard lk(co.gate_mu);
    if (co.open) // else nothing runs the strand any more (and do_close has closed the stream)
      net::post(self->strand_,
                [self, gen, c = std::move(c)]() mutable { self->on_chunk(gen, std::move(c)); });
  });
}

void session::on_chunk(uint64_t gen, body_stream::chunk c) {
  if (closed_ || !body_stream_ || !stream_pulling_ || gen != stream_gen_)
    return; // stale: the stream was stopped or closed meanwhile
  stream_pulling_ = false;
  if (c.failed ||
      (c.size > 0 && (!c.data || c.offset > c.data->size() || c.size > c.data->size() - c.offset)))
    return fail_stream();
  bool ended = c.end;
  if (framing_ == stream_framing::length) {
    // Never a wrong length: more than announced, or less, closes the connection.
    if (c.size > stream_left_ || (c.end && c.size < stream_left_))
      return fail_stream();
    stream_left_ -= c.size;
    ended = stream_left_ == 0;
  }
  if (c.size == 0) {
    if (!ended)
      return stream_stop_ ? stop_stream() : pull_chunk(); // nothing to write
    if (framing_ != stream_framing::chunked) {
      end_stream();
      return finish_response(true);
    }
    return write_stream({buf(k_last_chunk)}, true);
  }
  chunk_ = std::move(c);
  const net::const_buffer data = net::buffer(chunk_.data->data() + chunk_.offset, chunk_.size);
  if (framing_ != stream_framing::chunked)
    return write_stream({data}, ended);
  // chunk-size line, data, CRLF (and the last chunk) in one gathered write.
  char* first = chunk_line_.data();
  char* last = std::to_chars(first, first + chunk_line_.size() - 2, chunk_.size, 16).ptr;
  *last++ = '\r';
  *last++ = '\n';
  const net::const_buffer line = net::buffer(first, static_cast<size_t>(last - first));
  if (ended)
    return write_stream({line, data, buf(k_crlf), buf(k_last_chunk)}, true);
  write_stream({line, data, buf(k_crlf)}, false);
}

void session::write_stream(const std::array<net::const_buffer, 4>& bufs, bool ended) {
  stream_.expires_after(seconds(opts().send_timeout_seconds));
  net::async_write(stream_, bufs, [self = shared_from_this(), ended](error_code ec, std::size_t) {
    self->on_stream_written(ec, ended);
  });
}

void session::on_stream_written(error_code ec, bool ended) {
  const size_t written = chunk_.size;
  chunk_ = {}; // its data may go now (not before: the write used it until here)
  if (closed_)
    return;
  if (ec)
    return fail_stream();
  sent_body_bytes_ += written;
  if (ended) {
    end_stream();
    return finish_response(true);
  }
  if (stream_stop_)
    return stop_stream();
  pull_chunk();
}

void session::stop_stream() {
  ++stream_gen_; // a chunk still to come is discarded
  stream_pulling_ = false;
  close_after_ = true;
  switch (framing_) {
  case stream_framing::length:
    return fail_stream(); // the announced length cannot be honoured
  case stream_framing::close:
    end_stream();
    return finish_response(true);
  case stream_framing::chunked:
    return write_stream({buf(k_last_chunk)}, true);
  }
}

void session::fail_stream() {
  end_stream();
  finish_response(false); // closes the connection and calls undelivered_
}

void session::end_stream() noexcept {
  if (!body_stream_)
    return;
  ++stream_gen_;
  stream_pulling_ = false; // chunk_ stays until its write completes
  const std::shared_ptr<body_stream> s = std::move(body_stream_); // released after close()
  s->close();
}

/// The access line: the path is cut at 512 bytes, so a line stays one
/// atomic write(2) even into a pipe (PIPE_BUF is 4096).
void session::log_access() const {
  const double secs = std::chrono::duration<double>(clock_type::now() - started_).count();
  char status[8], bytes[24], ms[32];
  std::snprintf(status, sizeof status, "%u", status_);
  std::snprintf(bytes, sizeof bytes, "%llu", static_cast<unsigned long long>(sent_body_bytes_));
  std::snprintf(ms, sizeof ms, "%.3f", secs * 1000);
  logging::info("request", {{"request_id", request_id_},
                            {"method", method_},
                            {"route", metrics::to_string(route_)},
                            {"path", raw_path().substr(0, 512)},
                            {"status", status},
                            {"bytes", bytes},
                            {"ms", ms},
                            {"client", client_}});
}

void session::finish_response(bool ok) {
  close_file();
  const double secs = std::chrono::duration<double>(clock_type::now() - started_).count();
  core_->metrics.http_request(route_, metrics::method_of(method_), status_, secs);
  if (opts().access_log && logging::enabled(logging::level::info))
    log_access();
  if (sent_body_bytes_ > 0)
    core_->metrics.bytes_served(sent_body_bytes_);
  sent_body_bytes_ = 0;
  if (!ok || closed_)
    return do_close(); // calls undelivered_
  undelivered_ = nullptr;
  if (close_after_) {
    set_phase(phase::linger);
    return body_complete_ ? do_close() : do_linger();
  }
  set_phase(phase::idle);
  if (watching_) { // the next read starts once the watching read returns
    resume_after_watch_ = true;
    error_code ignored;
    stream_.socket().cancel(ignored);
    return;
  }
  do_read();
}

void session::do_linger() {
  end_upload();
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec)
    return do_close();
  linger_left_ = 8u << 20;
  stream_.expires_after(seconds(5));
  do_linger_read();
}

void session::do_linger_read() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(64 * 1024),
                          [self = shared_from_this()](error_code ec, std::size_t n) {
                            if (ec || n >= self->linger_left_ || self->closed_)
                              return self->do_close();
                            self->linger_left_ -= n;
                            self->do_linger_read();
                          });
}

void session::on_begin_shutdown() {
  if (closed_)
    return;
  switch (phase_) {
  case phase::idle:
  case phase::head:
    return do_close();
  case phase::body:
    // In flight from now on: the drain waits for this 503 (and the lingering
    // close after it); otherwise the process could exit before the cancelled
    // read is handled, and the client would get a reset instead of an answer.
    set_phase(phase::awaiting);
    return cut(503);
  case phase::writing:
    if (body_stream_) {
      // It might never end: stop pulling and end it (after the write in flight).
      stream_stop_ = true;
      close_after_ = true;
      if (stream_pulling_)
        stop_stream();
    }
    return; // the current answer goes out with Connection: close
  default:
    return;
  }
}

void session::do_close() {
  if (closed_)
    return;
  closed_ = true;
  ++gen_; // an answer still to come is undelivered
  set_phase(phase::closed);
  end_upload();
  close_file();
  end_stream();
  ++wait_tick_;
  ++reply_tick_;
  ++rate_tick_;
  wait_timer_.cancel();
  reply_timer_.cancel();
  rate_timer_.cancel();
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  release_connection();
  if (auto f = std::move(undelivered_)) {
    undelivered_ = nullptr;
    f();
  }
}

void session::release_connection() {
  if (!counted_)
    return;
  counted_ = false;
  core_->connections.fetch_sub(1, std::memory_order_relaxed);
}

// In flight: waiting for an answer, writing it, or lingering after it (the
// client must read the answer before the socket closes: closing it with
// unread bytes would reset the connection and discard the answer, so a
// graceful shutdown waits for lingering sessions too, each bounded).
void session::set_phase(phase p) {
  const auto busy = [](phase x) {
    return x == phase::awaiting || x == phase::writing || x == phase::linger;
  };
  const bool was = busy(phase_);
  const bool is = busy(p);
  phase_ = p;
  if (was != is)
    core_->add_in_flight(is ? 1 : -1);
}

} // namespace hlsgate::http::detail
