// Private to the session translation units (session_read.cpp and
// session_write.cpp), the only Beast users besides server.cpp: one HTTP/1.1
// connection, transport only. It reads a head (one deadline for the whole
// head), a body (a minimum average rate per window), hands the request to
// its route, writes exactly one answer per request (bounded by the route's
// time budget) and lingers when a body was left unread. What to answer is
// decided by the pure units: framing, segment_route, range, upload_sink,
// errors, wire.
//
// Shape (Beast advanced_server): every handler runs on the connection's
// strand. One request is in flight per connection; pipelined requests wait
// in the read buffer, so responses never reorder.
#pragma once

#include "http/server_core.hpp"
#include "http/upload_sink.hpp"
#include "http/wire.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlsgate::http::detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;

class session;

/// A basic_parser that stores the head in session-owned buffers and hands
/// body bytes straight to the session (no body object).
class request_reader final : public bhttp::basic_parser<true> {
public:
  explicit request_reader(session& s) : s_(s) {}

private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int, beast::string_view, int, error_code&) override {}
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  session& s_;
};

class session final : public connection, public std::enable_shared_from_this<session> {
public:
  session(std::shared_ptr<core> c, tcp::socket&& socket)
      : core_(std::move(c)), stream_(std::move(socket)), strand_(stream_.get_executor()),
        wait_timer_(strand_), reply_timer_(strand_), rate_timer_(strand_) {
    hdr_arena_.reserve(1024);
    out_head_.reserve(512);
    target_.reserve(256);
  }

  ~session() override {
    set_phase(phase::closed); // a session dropped while busy is no longer in flight
    end_upload();
    close_file();
    end_stream(); // only if do_close never ran (the I/O threads are gone)
    release_connection();
    std::lock_guard lk(core_->sessions_mu);
    core_->sessions.erase(this);
  }

  void run();

  void post_close() override;

  void post_begin_shutdown() override;

  // -- parser callbacks (on the strand, inside a read) ---------------------------

  void on_request_line(std::string_view method, std::string_view target, int version,
                       error_code& ec);

  void on_field(std::string_view name, std::string_view value, error_code& ec);

  /// RFC 9112 §6: the framing must be unambiguous before any body byte is
  /// read, or the next request would start where a proxy thinks it does not.
  void on_head_complete(error_code& ec);

  size_t on_body(std::string_view data, error_code& ec);

private:
  enum class body_mode : uint8_t { discard, buffer, upload };
  enum class kind : uint8_t { segment, upload, preflight, routed };
  /// idle: waiting for a request's first byte; head/body: reading it;
  /// awaiting: the router has it; writing: the answer is being sent.
  enum class phase : uint8_t { idle, head, body, awaiting, writing, linger, closed };
  /// How a streamed body ends: Content-Length, the chunked terminator, or
  /// closing the connection (HTTP/1.0 client, unknown length).
  enum class stream_framing : uint8_t { length, chunked, close };

  struct hdr_entry {
    uint32_t name_off, name_len, value_off, value_len;
  };
  struct rejection {
    unsigned status = 0;
    std::string_view detail;
  };

  const server_options& opts() const noexcept { return core_->opts; }
  std::string_view name_of(const hdr_entry& e) const;
  std::string_view value_of(const hdr_entry& e) const;
  std::string_view header(std::string_view lname) const;
  /// Content-Length as checked by check_framing; false when chunked or absent.
  bool declared_length(uint64_t& len) const;
  std::string_view raw_path() const;
  /// A request starts (its head read, or refused): its clock and its id.
  void start_request();
  void log_access() const;
  std::string_view raw_query() const;
  bool is_head() const noexcept { return method_ == "HEAD"; }

  void release_connection();

  /// In flight = awaiting an answer or writing one (what drain() waits for).
  void set_phase(phase p);

  // -- reading -------------------------------------------------------------------

  void do_read();

  void start_head();

  void on_header(error_code ec, std::size_t);

  /// Refusals that need no body are answered before reading it (and
  /// instead of 100 Continue, RFC 9110 §10.1.1).
  void begin_upload();

  void continue_or_read_body();

  /// Every `body_rate_window_seconds` the body must have brought at least
  /// min_body_rate × window bytes, or the read is cancelled (408).
  void arm_rate_timer();

  /// Stops reading the body; the pending read completes and answers `status`.
  void cut(unsigned status);

  void do_read_body();

  void after_body_read(error_code ec);

  // -- dispatch --------------------------------------------------------------------

  void dispatch();

  bool build_request(request& req);

  void finish_upload();

  void hand_to_router(request req);

  /// While the router works, or a streamed body is sent, keep reading so a
  /// client that goes away is noticed (its answer is then undelivered, its
  /// stream closed). Pipelined bytes read meanwhile
  /// stay in buffer_ for the next request, up to k_watch_limit.
  void watch_peer();

  void on_reply(uint64_t gen, response res);

  /// Sends the one answer of a routed request.
  void respond(response res);

  // -- files -------------------------------------------------------------------------

  void serve_segment();

  void serve_router_file(const response& res);

  /// Sends the open file `fd` (closed here) as decided by decide_file.
  void serve_file(int fd, std::string_view content_type, unsigned status,
                  const std::vector<std::pair<std::string, std::string>>& extra);

  /// Header with send(MSG_MORE), then sendfile(2), on the non-blocking socket;
  /// EAGAIN waits for writability.
  void send_file_some();

  void wait_writable();

  void close_file();

  // -- responses ---------------------------------------------------------------------

  wire::cors_policy cors() const { return {core_->opts.cors_any, &core_->opts.cors_origins}; }

  void begin_head(unsigned status);

  void end_head(std::optional<uint64_t> content_length);

  void send_error(unsigned status, std::string_view detail);

  void send_response(const response& res);

  void send_preflight();

  // -- streamed bodies (response::stream) ------------------------------------------------

  /// Writes the head of a streamed response, then pulls its body chunk by
  /// chunk: one next() outstanding or one write in flight, never both.
  void send_stream(response& res);

  void pull_chunk();

  /// A chunk handed to `ready`, back on the strand; `gen` names its pull.
  void on_chunk(uint64_t gen, body_stream::chunk c);

  /// Writes up to 4 buffers (chunk-size line, data, CRLF, terminator);
  /// `ended`: the body is complete once they are written.
  void write_stream(const std::array<net::const_buffer, 4>& bufs, bool ended);

  void on_stream_written(error_code ec, bool ended);

  /// begin_shutdown while streaming, with no write in flight: end the body
  /// now (chunked terminator, or close-delimited end) or cut a known length.
  void stop_stream();

  /// The body cannot be completed: close the connection (undelivered).
  void fail_stream();

  /// Calls the stream's close() and releases it; a chunk still to come is
  /// discarded.
  void end_stream() noexcept;

  /// Writes out_head_ and the first `body_len` bytes of the body (out_shared_
  /// when set, else out_body_).
  void write_buffered(size_t body_len);

  void finish_response(bool ok);

  /// After answering a request whose body was not read, half-close and
  /// drain briefly so the peer reads the response instead of a reset
  /// (RFC 9112 §9.6). Bounded in bytes and in time.
  void do_linger();

  void do_linger_read();

  void on_begin_shutdown();

  void do_close();

  // Declared first: destroyed last, after the socket that needs its io_context.
  std::shared_ptr<core> core_;
  beast::tcp_stream stream_;
  net::any_io_executor strand_; ///< the connection's strand (the socket's executor)
  net::steady_timer wait_timer_;
  net::steady_timer reply_timer_;
  net::steady_timer rate_timer_;
  beast::flat_buffer buffer_{1 << 20}; // header_limit and k_watch_limit bound what accumulates
  std::optional<request_reader> parser_;
  bool counted_ = true; ///< counted in core::connections
  phase phase_ = phase::idle;

  // current request (buffers reused across requests)
  std::string method_;
  std::string target_;
  int version_ = 11;
  std::string hdr_arena_;
  std::vector<hdr_entry> hdrs_;
  std::string body_;
  body_mode mode_ = body_mode::discard;
  kind kind_ = kind::routed;
  metrics::route route_ = metrics::route::other;
  rejection reject_;
  clock_type::time_point started_{};
  std::string request_id_; ///< X-Request-Id: the client's (when valid) or ours
  std::string client_;     ///< the peer's address, for the access log
  clock_type::time_point head_deadline_{};
  bool keep_alive_ = true;
  bool body_complete_ = true;
  uint64_t requests_ = 0;
  std::optional<upload_sink> sink_;
  std::shared_ptr<void> upload_slot_; ///< counts this upload in core::uploads while engaged
  void end_upload() {
    sink_.reset();
    upload_slot_.reset();
  }
  uint64_t window_bytes_ = 0;
  uint64_t rate_tick_ = 0;
  unsigned cut_status_ = 0;

  // response
  unsigned status_ = 0;
  std::string out_head_;
  std::string out_body_;
  std::shared_ptr<const std::string> out_shared_; ///< a shared body being written
  bool close_after_ = false;
  int file_fd_ = -1;
  off_t file_off_ = 0;
  uint64_t file_remaining_ = 0;
  size_t head_sent_ = 0;
  uint64_t sent_body_bytes_ = 0;
  uint64_t wait_tick_ = 0;
  size_t linger_left_ = 0;
  std::function<void()> undelivered_; ///< on_undelivered of the response being written

  // streamed body (response::stream)
  std::shared_ptr<body_stream> body_stream_; ///< set from its head until end_stream()
  body_stream::chunk chunk_;                 ///< the chunk being written (keeps its data alive)
  uint64_t stream_left_ = 0;                 ///< bytes still due with a known length
  uint64_t stream_gen_ = 0;                  ///< pull generation: a stale `ready` is dropped
  stream_framing framing_ = stream_framing::chunked;
  bool stream_pulling_ = false;       ///< a next() is outstanding
  bool stream_stop_ = false;          ///< begin_shutdown: end the body after the write in flight
  std::array<char, 24> chunk_line_{}; ///< "<hex size>\r\n", reused for every chunk

  // router round-trip
  uint64_t gen_ = 0;
  uint64_t reply_tick_ = 0;
  bool watching_ = false;
  bool resume_after_watch_ = false;
  bool peer_gone_ = false;
  bool closed_ = false;
};

} // namespace hlsgate::http::detail
