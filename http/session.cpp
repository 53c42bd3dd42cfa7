// One HTTP/1.1 connection: transport only. Reads a head (one deadline for
// the whole head), a body (a minimum average rate per window), hands the
// request to the route it belongs to, writes exactly one answer per request
// (bounded by the route's time budget) and lingers when a body was left
// unread. What to answer is decided by the pure units: framing.hpp,
// segment_route.hpp, range.hpp, upload_sink.hpp, errors.hpp, wire.hpp.
//
// Shape (Beast advanced_server): every handler runs on the connection's
// strand. One request is in flight per connection; pipelined requests wait
// in the read buffer, so responses never reorder.
#include "http/errors.hpp"
#include "http/framing.hpp"
#include "http/query.hpp"
#include "http/range.hpp"
#include "http/segment_route.hpp"
#include "http/server_core.hpp"
#include "http/text.hpp"
#include "http/upload_sink.hpp"
#include "http/wire.hpp"

#include "auth/signed_url.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <vector>

namespace hlsgate::http::detail {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;
using std::chrono::seconds;

constexpr size_t k_max_fields = 100;       ///< header fields per request (431 beyond)
constexpr size_t k_max_target = 8192;      ///< request-target bytes (414 beyond)
constexpr size_t k_header_limit = 16384;   ///< whole head (431 beyond)
constexpr size_t k_watch_limit = 64 << 10; ///< bytes buffered while awaiting an answer

std::string_view sv(beast::string_view s) noexcept {
  return {s.data(), s.size()};
}

bool is_parse_error(const error_code& ec) {
  return &ec.category() == &bhttp::make_error_code(bhttp::error::bad_target).category();
}

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
    sink_.reset();
    close_file();
    release_connection();
    std::lock_guard lk(core_->sessions_mu);
    core_->sessions.erase(this);
  }

  void run() {
    {
      std::lock_guard lk(core_->sessions_mu);
      if (core_->stopping || core_->shutting_down) {
        release_connection();
        return; // the socket closes with this session
      }
      core_->sessions.emplace(this, weak_from_this());
    }
    error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    stream_.socket().native_non_blocking(true, ec); // for send/sendfile below
    head_deadline_ = clock_type::now() + seconds(opts().header_timeout_seconds);
    net::dispatch(strand_, beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

  void post_close() override {
    net::post(strand_, [self = shared_from_this()] { self->do_close(); });
  }

  void post_begin_shutdown() override {
    net::post(strand_, [self = shared_from_this()] {
      self->on_begin_shutdown();
      self->core_->ack_shutdown();
    });
  }

  // -- parser callbacks (on the strand, inside a read) ---------------------------

  void on_request_line(std::string_view method, std::string_view target, int version,
                       error_code& ec) {
    method_.assign(method);
    version_ = version;
    if (target.size() > k_max_target) {
      reject_ = {414, "Request target too long"};
      ec = bhttp::error::bad_target;
      return;
    }
    target_.assign(target);
  }

  void on_field(std::string_view name, std::string_view value, error_code& ec) {
    if (hdrs_.size() >= k_max_fields) {
      reject_ = {431, "Too many header fields"};
      ec = bhttp::error::header_limit;
      return;
    }
    hdr_entry e;
    e.name_off = static_cast<uint32_t>(hdr_arena_.size());
    e.name_len = static_cast<uint32_t>(name.size());
    for (char c : name)
      hdr_arena_.push_back(text::ascii_lower(c));
    e.value_off = static_cast<uint32_t>(hdr_arena_.size());
    e.value_len = static_cast<uint32_t>(value.size());
    hdr_arena_.append(value);
    hdrs_.push_back(e);
  }

  /// RFC 9112 §6: the framing must be unambiguous before any body byte is
  /// read, or the next request would start where a proxy thinks it does not.
  void on_head_complete(error_code& ec) {
    std::vector<std::string_view> te;
    std::vector<std::string_view> cl;
    for (const auto& e : hdrs_) {
      const std::string_view n = name_of(e);
      if (n == "transfer-encoding")
        te.push_back(value_of(e));
      else if (n == "content-length")
        cl.push_back(value_of(e));
    }
    const framing_verdict v = check_framing(version_, te, cl);
    if (v == framing_verdict::ok)
      return;
    reject_ = {400, to_string(v)};
    ec = v == framing_verdict::bad_transfer_encoding ? bhttp::error::bad_transfer_encoding
                                                     : bhttp::error::bad_content_length;
  }

  size_t on_body(std::string_view data, error_code& ec) {
    switch (mode_) {
    case body_mode::discard:
      break;
    case body_mode::buffer:
      if (body_.size() + data.size() > opts().max_body_bytes) {
        ec = bhttp::error::body_limit;
        return 0;
      }
      body_.append(data);
      break;
    case body_mode::upload:
      if (!sink_->feed(data)) {
        ec = beast::errc::make_error_code(beast::errc::invalid_argument);
        return 0;
      }
      break;
    }
    return data.size();
  }

private:
  enum class body_mode : uint8_t { discard, buffer, upload };
  enum class kind : uint8_t { segment, upload, preflight, routed };
  /// idle: waiting for a request's first byte; head/body: reading it;
  /// awaiting: the router has it; writing: the answer is being sent.
  enum class phase : uint8_t { idle, head, body, awaiting, writing, linger, closed };

  struct hdr_entry {
    uint32_t name_off, name_len, value_off, value_len;
  };
  struct rejection {
    unsigned status = 0;
    std::string_view detail;
  };

  const server_options& opts() const noexcept { return core_->opts; }
  std::string_view name_of(const hdr_entry& e) const {
    return {hdr_arena_.data() + e.name_off, e.name_len};
  }
  std::string_view value_of(const hdr_entry& e) const {
    return {hdr_arena_.data() + e.value_off, e.value_len};
  }
  std::string_view header(std::string_view lname) const {
    for (const auto& e : hdrs_)
      if (name_of(e) == lname)
        return value_of(e);
    return {};
  }
  /// Content-Length as checked by check_framing; false when chunked or absent.
  bool declared_length(uint64_t& len) const {
    if (parser_->chunked())
      return false;
    const std::string_view v = text::trim(header("content-length"));
    return !v.empty() && std::from_chars(v.data(), v.data() + v.size(), len).ec == std::errc{};
  }
  std::string_view raw_path() const {
    std::string_view t = target_;
    return t.substr(0, t.find('?'));
  }
  std::string_view raw_query() const {
    std::string_view t = target_;
    const size_t q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
  }
  bool is_head() const noexcept { return method_ == "HEAD"; }

  void release_connection() {
    if (!counted_)
      return;
    counted_ = false;
    core_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

  /// In flight = awaiting an answer or writing one (what drain() waits for).
  void set_phase(phase p) {
    const bool was = phase_ == phase::awaiting || phase_ == phase::writing;
    const bool is = p == phase::awaiting || p == phase::writing;
    phase_ = p;
    if (was != is)
      core_->add_in_flight(is ? 1 : -1);
  }

  // -- reading -------------------------------------------------------------------

  void do_read() {
    if (closed_)
      return;
    if (core_->shutting_down.load())
      return do_close();
    method_.clear();
    target_.clear();
    hdr_arena_.clear();
    hdrs_.clear();
    body_.clear();
    mode_ = body_mode::discard;
    reject_ = {};
    body_complete_ = true;
    cut_status_ = 0;
    route_ = metrics::route::other;
    sink_.reset();
    set_phase(phase::idle);
    if (buffer_.size() > 0) { // pipelined: this head's deadline starts now
      head_deadline_ = clock_type::now() + seconds(opts().header_timeout_seconds);
      return start_head();
    }
    // The first request's head deadline runs from accept; a keep-alive
    // connection may idle, and its next head's deadline starts at its first byte.
    if (requests_ == 0)
      stream_.expires_at(head_deadline_);
    else
      stream_.expires_after(seconds(opts().idle_timeout_seconds));
    stream_.async_read_some(
        buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
          if (ec || self->closed_)
            return self->do_close();
          self->buffer_.commit(n);
          if (self->requests_ > 0)
            self->head_deadline_ = clock_type::now() + seconds(self->opts().header_timeout_seconds);
          self->start_head();
        });
  }

  void start_head() {
    set_phase(phase::head);
    parser_.emplace(*this);
    parser_->header_limit(k_header_limit);
    parser_->body_limit(boost::none); // checked per route in on_header
    // Our own timer rather than the stream's expiry (which closes the
    // socket): a head that misses its deadline is answered 408 (RFC 9110
    // §15.5.9) even though every read of it succeeded.
    stream_.expires_never();
    const uint64_t tick = ++rate_tick_;
    rate_timer_.expires_at(head_deadline_);
    rate_timer_.async_wait([self = shared_from_this(), tick](error_code ec) {
      if (ec || tick != self->rate_tick_ || self->phase_ != phase::head || self->closed_)
        return;
      self->cut(408);
    });
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, std::size_t) {
    if (closed_)
      return;
    ++rate_tick_;
    rate_timer_.cancel();
    if (cut_status_ == 408) {
      started_ = clock_type::now();
      keep_alive_ = false;
      body_complete_ = false;
      no_linger_ = true;
      return send_error(408, "Request header timeout");
    }
    if (ec) {
      if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
          !is_parse_error(ec))
        return do_close(); // peer went away, head deadline, reset
      started_ = clock_type::now();
      body_complete_ = false;
      keep_alive_ = false;
      if (reject_.status != 0)
        return send_error(reject_.status, reject_.detail);
      if (ec == bhttp::error::header_limit)
        return send_error(431, "Request header too large");
      return send_error(400, "Malformed HTTP request");
    }
    ++requests_;
    started_ = clock_type::now();
    keep_alive_ = parser_->keep_alive();
    const std::string_view path = raw_path();
    if (path.substr(0, 5) == "/seg/") {
      kind_ = kind::segment;
      route_ = metrics::route::segment;
    } else if ((path == "/upload" || path == "/upload/") && method_ == "POST") {
      kind_ = kind::upload;
      route_ = metrics::route::upload;
      return begin_upload();
    } else if (method_ == "OPTIONS" && cors().enabled()) {
      kind_ = kind::preflight;
    } else {
      kind_ = kind::routed;
    }
    if (parser_->is_done())
      return dispatch();
    uint64_t len = 0;
    if (declared_length(len) && len > opts().max_body_bytes) {
      body_complete_ = false;
      return send_error(413, "Request body too large");
    }
    parser_->body_limit(opts().max_body_bytes); // enforced per chunk when chunked
    mode_ = kind_ == kind::routed ? body_mode::buffer : body_mode::discard;
    continue_or_read_body();
  }

  /// Refusals that need no body are answered before reading it (and
  /// instead of 100 Continue, RFC 9110 §10.1.1).
  void begin_upload() {
    const bool has_body = !parser_->is_done();
    body_complete_ = !has_body;
    request head;
    if (!build_request(head))
      return send_error(400, "Malformed request path");
    std::optional<response> refusal;
    try {
      refusal = core_->rt.admit_upload(head);
    } catch (const std::exception&) {
      refusal = error_response(500, "Internal server error");
    }
    if (refusal)
      return send_response(*refusal);
    uint64_t len = 0;
    if (declared_length(len) && len > opts().max_upload_bytes)
      return send_error(413, "Upload too large");
    std::string boundary;
    if (!multipart_parser::boundary_from_content_type(header("content-type"), boundary))
      return send_error(400, "Expected multipart/form-data with a boundary");
    if (!has_body)
      return send_error(400, multipart_parser::to_string(multipart_parser::error::truncated));
    parser_->body_limit(opts().max_upload_bytes);
    sink_.emplace(opts().upload_tmp_dir, boundary, opts().max_upload_bytes);
    mode_ = body_mode::upload;
    continue_or_read_body();
  }

  void continue_or_read_body() {
    body_complete_ = false;
    set_phase(phase::body);
    window_bytes_ = 0;
    arm_rate_timer();
    if (version_ >= 11 && text::iequals(header("expect"), "100-continue")) {
      static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(seconds(opts().send_timeout_seconds));
      net::async_write(stream_, net::buffer(k100.data(), k100.size()),
                       [self = shared_from_this()](error_code ec, std::size_t) {
                         if (ec || self->closed_)
                           return self->after_body_read(ec ? ec : net::error::operation_aborted);
                         self->do_read_body();
                       });
      return;
    }
    do_read_body();
  }

  /// Every `body_rate_window_seconds` the body must have brought at least
  /// min_body_rate × window bytes, or the read is cancelled (408).
  void arm_rate_timer() {
    if (opts().min_body_rate == 0 || opts().body_rate_window_seconds == 0)
      return;
    const uint64_t tick = ++rate_tick_;
    rate_timer_.expires_after(seconds(opts().body_rate_window_seconds));
    rate_timer_.async_wait([self = shared_from_this(), tick](error_code ec) {
      if (ec || tick != self->rate_tick_ || self->phase_ != phase::body || self->closed_)
        return;
      const uint64_t need =
          uint64_t{self->opts().min_body_rate} * self->opts().body_rate_window_seconds;
      if (self->window_bytes_ < need) {
        self->cut(408);
        return;
      }
      self->window_bytes_ = 0;
      self->arm_rate_timer();
    });
  }

  /// Stops reading the body; the pending read completes and answers `status`.
  void cut(unsigned status) {
    if (cut_status_ == 0)
      cut_status_ = status;
    stream_.cancel();
  }

  void do_read_body() {
    stream_.expires_after(seconds(std::max(opts().idle_timeout_seconds, 1u)));
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = shared_from_this()](error_code ec, std::size_t n) {
                             self->window_bytes_ += n;
                             self->after_body_read(ec);
                           });
  }

  void after_body_read(error_code ec) {
    if (closed_)
      return;
    if (cut_status_ != 0 || ec || (sink_ && sink_->status() != 0)) {
      ++rate_tick_;
      rate_timer_.cancel();
    }
    if (cut_status_ == 503) {
      sink_.reset(); // before answering: the client may look right away
      return send_error(503, "Server is shutting down");
    }
    if (cut_status_ == 408) {
      sink_.reset();
      no_linger_ = true;
      return send_error(408, "Request body too slow");
    }
    if (sink_ && sink_->status() != 0) {
      const unsigned st = sink_->status();
      const std::string detail = sink_->detail();
      sink_.reset();
      return send_error(st, detail);
    }
    if (ec) {
      sink_.reset();
      if (ec == bhttp::error::body_limit)
        return send_error(413,
                          kind_ == kind::upload ? "Upload too large" : "Request body too large");
      if (is_parse_error(ec) && ec != bhttp::error::partial_message)
        return send_error(400, "Malformed HTTP request");
      return do_close(); // disconnect or timeout: nobody to answer
    }
    if (!parser_->is_done())
      return do_read_body();
    ++rate_tick_;
    rate_timer_.cancel();
    body_complete_ = true;
    dispatch();
  }

  // -- dispatch --------------------------------------------------------------------

  void dispatch() {
    body_complete_ = true;
    switch (kind_) {
    case kind::segment:
      return serve_segment();
    case kind::upload:
      return finish_upload();
    case kind::preflight:
      return send_preflight();
    case kind::routed:
      break;
    }
    request req;
    if (!build_request(req))
      return send_error(400, "Malformed request path");
    req.body = std::move(body_);
    hand_to_router(std::move(req));
  }

  bool build_request(request& req) {
    req.method = method_;
    if (!query::percent_decode(raw_path(), req.path, false))
      return false;
    req.query.assign(raw_query());
    req.headers.reserve(hdrs_.size());
    for (const auto& e : hdrs_)
      req.headers.emplace_back(std::string{name_of(e)}, std::string{value_of(e)});
    return true;
  }

  void finish_upload() {
    if (!sink_->finish()) {
      const unsigned st = sink_->status();
      const std::string detail = sink_->detail();
      sink_.reset();
      return send_error(st, detail);
    }
    request req;
    if (!build_request(req)) {
      sink_.reset();
      return send_error(400, "Malformed request path");
    }
    req.upload_filename = sink_->filename();
    req.upload_bytes = sink_->bytes();
    req.upload_path = sink_->release(); // the router owns the file now
    sink_.reset();
    hand_to_router(std::move(req));
  }

  void hand_to_router(request req) {
    route_info info;
    try {
      info = core_->rt.classify(req);
    } catch (...) {
      info = {};
    }
    route_ = info.label;
    set_phase(phase::awaiting);
    const uint64_t gen = ++gen_;
    // Invoked at most once from any thread (a second call is ignored by the
    // generation check); an answer that cannot be posted any more is
    // undelivered.
    reply_fn reply = [self = shared_from_this(), gen](response res) {
      core& c = *self->core_;
      {
        std::lock_guard lk(c.gate_mu);
        if (c.open) {
          net::post(self->strand_, [self, gen, res = std::move(res)]() mutable {
            self->on_reply(gen, std::move(res));
          });
          return;
        }
      }
      if (res.on_undelivered)
        res.on_undelivered();
    };
    const uint64_t tick = ++reply_tick_;
    reply_timer_.expires_after(info.budget);
    reply_timer_.async_wait([self = shared_from_this(), gen, tick](error_code ec) {
      if (ec || tick != self->reply_tick_ || gen != self->gen_ || self->closed_ ||
          self->phase_ != phase::awaiting)
        return;
      ++self->gen_; // the late answer is dropped as undelivered
      self->respond(error_response(503, "The request took too long; retry"));
    });
    watch_peer();
    try {
      core_->rt.handle(std::move(req), std::move(reply));
    } catch (const std::exception&) {
      // The router failed synchronously; if it replied already, that wins.
      net::post(strand_, [self = shared_from_this(), gen] {
        self->on_reply(gen, error_response(500, "Internal server error"));
      });
    }
  }

  /// While the router works, keep reading so a client that goes away is
  /// noticed (its answer is then undelivered). Pipelined bytes read meanwhile
  /// stay in buffer_ for the next request, up to k_watch_limit.
  void watch_peer() {
    if (watching_ || closed_ || buffer_.size() >= k_watch_limit)
      return;
    watching_ = true;
    stream_.expires_never();
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              self->watching_ = false;
                              if (self->closed_)
                                return;
                              if (!ec || ec == net::error::operation_aborted) {
                                self->buffer_.commit(n);
                                if (self->resume_after_watch_) {
                                  self->resume_after_watch_ = false;
                                  return self->do_read();
                                }
                                if (!ec && self->phase_ == phase::awaiting)
                                  self->watch_peer();
                                return;
                              }
                              self->peer_gone_ = true;
                              if (self->phase_ == phase::awaiting)
                                return self->do_close();
                              if (self->resume_after_watch_)
                                return self->do_close();
                            });
  }

  void on_reply(uint64_t gen, response res) {
    if (closed_ || gen != gen_ || phase_ != phase::awaiting) {
      if (res.on_undelivered)
        res.on_undelivered();
      return;
    }
    respond(std::move(res));
  }

  /// Sends the one answer of a routed request.
  void respond(response res) {
    ++reply_tick_;
    reply_timer_.cancel();
    set_phase(phase::writing);
    undelivered_ = std::move(res.on_undelivered);
    if (!res.file_path.empty())
      return serve_router_file(res);
    send_response(res);
  }

  // -- files -------------------------------------------------------------------------

  void serve_segment() {
    set_phase(phase::writing);
    if (method_ != "GET" && method_ != "HEAD")
      return send_response(error_response(405, "Method not allowed", "GET, HEAD"));
    segment_target t;
    if (!parse_segment_path(raw_path(), t))
      return send_error(404, "Not found");
    std::string_view md5, expires;
    const std::string_view q = raw_query();
    if (!query::raw_value(q, "md5", md5) || !query::raw_value(q, "expires", expires)) {
      core_->metrics.auth_failure("bad_url_signature");
      return send_error(403, "Invalid signature");
    }
    const int64_t now = static_cast<int64_t>(::time(nullptr));
    switch (core_->signer.verify(segment_prefix(t.storage_id), md5, expires, now)) {
    case auth::signature_check::ok:
      break;
    case auth::signature_check::bad:
      core_->metrics.auth_failure("bad_url_signature");
      return send_error(403, "Invalid signature");
    case auth::signature_check::expired:
      core_->metrics.auth_failure("expired_url");
      return send_error(410, "Signed URL expired");
    }
    int64_t exp = 0;
    std::from_chars(expires.data(), expires.data() + expires.size(), exp);
    char cache[64];
    const int clen = std::snprintf(cache, sizeof cache, "private, max-age=%lld",
                                   static_cast<long long>(std::max<int64_t>(0, exp - now)));
    std::vector<std::pair<std::string, std::string>> extra;
    extra.emplace_back("Cache-Control", std::string(cache, static_cast<size_t>(std::max(clen, 0))));
    serve_file(open_segment(opts().media_root, t), "video/mp2t", 200, extra);
  }

  void serve_router_file(const response& res) {
    serve_file(open_regular_nofollow(res.file_path.c_str()), res.content_type, res.status,
               res.headers);
  }

  /// Sends the open file `fd` (closed here) as decided by decide_file.
  void serve_file(int fd, std::string_view content_type, unsigned status,
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

  /// Header with send(MSG_MORE), then sendfile(2), on the non-blocking socket;
  /// EAGAIN waits for writability.
  void send_file_some() {
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

  void wait_writable() {
    const uint64_t tick = ++wait_tick_;
    wait_timer_.expires_after(seconds(opts().send_timeout_seconds));
    wait_timer_.async_wait([self = shared_from_this(), tick](error_code ec) {
      if (!ec && tick == self->wait_tick_) { // stalled reader: give up
        error_code ignored;
        self->stream_.socket().cancel(ignored);
      }
    });
    stream_.socket().async_wait(tcp::socket::wait_write,
                                [self = shared_from_this()](error_code ec) {
                                  ++self->wait_tick_;
                                  self->wait_timer_.cancel();
                                  if (ec || self->closed_)
                                    return self->finish_response(false);
                                  self->send_file_some();
                                });
  }

  void close_file() {
    if (file_fd_ >= 0) {
      ::close(file_fd_);
      file_fd_ = -1;
    }
  }

  // -- responses ---------------------------------------------------------------------

  wire::cors_policy cors() const { return {core_->opts.cors_any, &core_->opts.cors_origins}; }

  void begin_head(unsigned status) {
    status_ = status;
    out_head_.clear();
    out_body_.clear();
    wire::begin_head(out_head_, status);
  }

  void end_head(std::optional<uint64_t> content_length) {
    // A body left unread cannot be skipped reliably: close after answering.
    close_after_ = !keep_alive_ || !body_complete_ || core_->shutting_down.load() || peer_gone_;
    wire::end_head(out_head_, cors(), header("origin"), content_length, close_after_,
                   version_ == 10);
  }

  void send_error(unsigned status, std::string_view detail) {
    if (phase_ != phase::writing)
      set_phase(phase::writing);
    send_response(error_response(status, detail));
  }

  void send_response(const response& res) {
    if (phase_ != phase::writing)
      set_phase(phase::writing);
    begin_head(res.status);
    const bool no_body = res.status == 204 || res.status == 304 || res.status < 200;
    if (!no_body || !res.body.empty())
      wire::append_field(out_head_, "Content-Type", res.content_type);
    for (const auto& [n, v] : res.headers)
      wire::append_field(out_head_, n, v);
    if (res.status == 204 || res.status < 200) {
      end_head(std::nullopt);
      return write_buffered(0);
    }
    end_head(res.body.size());
    if (is_head() || res.status == 304)
      return write_buffered(0);
    out_body_.assign(res.body);
    write_buffered(out_body_.size());
  }

  void send_preflight() {
    set_phase(phase::writing);
    begin_head(204);
    out_head_.append("Access-Control-Allow-Methods: GET, HEAD, POST, DELETE, OPTIONS\r\n"
                     "Access-Control-Allow-Headers: Authorization, X-Admin-Key, Content-Type, "
                     "Range\r\nAccess-Control-Max-Age: 600\r\n");
    end_head(std::nullopt);
    write_buffered(0);
  }

  /// Writes out_head_ and the first `body_len` bytes of out_body_.
  void write_buffered(size_t body_len) {
    sent_body_bytes_ = body_len;
    std::array<net::const_buffer, 2> bufs{net::buffer(out_head_),
                                          net::buffer(out_body_.data(), body_len)};
    stream_.expires_after(seconds(opts().send_timeout_seconds));
    net::async_write(stream_, bufs, [self = shared_from_this()](error_code ec, std::size_t) {
      self->finish_response(!ec);
    });
  }

  void finish_response(bool ok) {
    close_file();
    const double secs = std::chrono::duration<double>(clock_type::now() - started_).count();
    core_->metrics.http_request(route_, status_, secs);
    if (sent_body_bytes_ > 0)
      core_->metrics.bytes_served(sent_body_bytes_);
    sent_body_bytes_ = 0;
    if (!ok || closed_)
      return do_close(); // calls undelivered_
    undelivered_ = nullptr;
    if (close_after_) {
      set_phase(phase::linger);
      return body_complete_ || no_linger_ ? do_close() : do_linger();
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

  /// After answering a request whose body was not read, half-close and
  /// drain briefly so the peer reads the response instead of a reset
  /// (RFC 9112 §9.6). Bounded in bytes and in time.
  void do_linger() {
    sink_.reset();
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec)
      return do_close();
    linger_left_ = 8u << 20;
    stream_.expires_after(seconds(5));
    do_linger_read();
  }

  void do_linger_read() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              if (ec || n >= self->linger_left_ || self->closed_)
                                return self->do_close();
                              self->linger_left_ -= n;
                              self->do_linger_read();
                            });
  }

  void on_begin_shutdown() {
    if (closed_)
      return;
    switch (phase_) {
    case phase::idle:
    case phase::head:
      return do_close();
    case phase::body:
      return cut(503);
    default:
      return; // the current answer goes out with Connection: close
    }
  }

  void do_close() {
    if (closed_)
      return;
    closed_ = true;
    ++gen_; // an answer still to come is undelivered
    set_phase(phase::closed);
    sink_.reset();
    close_file();
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
  clock_type::time_point head_deadline_{};
  bool keep_alive_ = true;
  bool body_complete_ = true;
  uint64_t requests_ = 0;
  std::optional<upload_sink> sink_;
  uint64_t window_bytes_ = 0;
  uint64_t rate_tick_ = 0;
  unsigned cut_status_ = 0;
  bool no_linger_ = false;

  // response
  unsigned status_ = 0;
  std::string out_head_;
  std::string out_body_;
  bool close_after_ = false;
  int file_fd_ = -1;
  off_t file_off_ = 0;
  uint64_t file_remaining_ = 0;
  size_t head_sent_ = 0;
  uint64_t sent_body_bytes_ = 0;
  uint64_t wait_tick_ = 0;
  size_t linger_left_ = 0;
  std::function<void()> undelivered_; ///< on_undelivered of the response being written

  // router round-trip
  uint64_t gen_ = 0;
  uint64_t reply_tick_ = 0;
  bool watching_ = false;
  bool resume_after_watch_ = false;
  bool peer_gone_ = false;
  bool closed_ = false;
};

void request_reader::on_request_impl(bhttp::verb, beast::string_view method,
                                     beast::string_view target, int version, error_code& ec) {
  s_.on_request_line(sv(method), sv(target), version, ec);
}

void request_reader::on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                                   error_code& ec) {
  s_.on_field(sv(name), sv(value), ec);
}

void request_reader::on_header_impl(error_code& ec) {
  s_.on_head_complete(ec);
}

std::size_t request_reader::on_body_impl(beast::string_view body, error_code& ec) {
  return s_.on_body(sv(body), ec);
}

std::size_t request_reader::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                               error_code& ec) {
  return s_.on_body(sv(body), ec);
}

} // namespace

void start_session(const std::shared_ptr<core>& c, tcp::socket&& socket) {
  std::make_shared<session>(c, std::move(socket))->run();
}

} // namespace hlsgate::http::detail
