// A session's reading side: head, framing check, body (rate-checked),
// upload sink, dispatch and the router round trip with its time budget.
#include "http/session.hpp"

#include "http/errors.hpp"
#include "http/framing.hpp"
#include "http/query.hpp"
#include "http/request_id.hpp"
#include "http/text.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <charconv>

namespace hlsgate::http::detail {

namespace {

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

/// An answer that will not be sent: its stream is closed, then it is undelivered.
void drop(response& res) {
  if (const auto s = std::move(res.stream))
    s->close();
  if (res.on_undelivered)
    res.on_undelivered();
}

} // namespace

void session::run() {
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
  if (opts().access_log) {
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec)
      client_ = peer.address().to_string();
  }
  head_deadline_ = clock_type::now() + seconds(opts().header_timeout_seconds);
  net::dispatch(strand_, beast::bind_front_handler(&session::do_read, shared_from_this()));
}

void session::on_request_line(std::string_view method, std::string_view target, int version,
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

void session::on_field(std::string_view name, std::string_view value, error_code& ec) {
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

void session::on_head_complete(error_code& ec) {
  // RFC 9112 §5.2: obs-fold is refused rather than unfolded, so that no
  // folded Transfer-Encoding or Content-Length reads differently to a proxy.
  // The head is still at the front of buffer_ while the parser calls us.
  const auto* first = static_cast<const char*>(buffer_.data().data());
  const std::string_view raw{first, buffer_.size()};
  const std::string_view head = raw.substr(0, raw.find("\r\n\r\n"));
  if (head.find("\n ") != std::string_view::npos || head.find("\n\t") != std::string_view::npos) {
    reject_ = {400, "Obsolete line folding"};
    ec = bhttp::error::bad_value;
    return;
  }
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

size_t session::on_body(std::string_view data, error_code& ec) {
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

std::string_view session::name_of(const hdr_entry& e) const {
  return {hdr_arena_.data() + e.name_off, e.name_len};
}

std::string_view session::value_of(const hdr_entry& e) const {
  return {hdr_arena_.data() + e.value_off, e.value_len};
}

std::string_view session::header(std::string_view lname) const {
  for (const auto& e : hdrs_)
    if (name_of(e) == lname)
      return value_of(e);
  return {};
}

bool session::declared_length(uint64_t& len) const {
  if (parser_->chunked())
    return false;
  const std::string_view v = text::trim(header("content-length"));
  return !v.empty() && std::from_chars(v.data(), v.data() + v.size(), len).ec == std::errc{};
}

void session::start_request() {
  started_ = clock_type::now();
  const std::string_view given = header("x-request-id");
  if (valid_request_id(given))
    request_id_.assign(given);
  else
    next_request_id(request_id_);
}

std::string_view session::raw_path() const {
  std::string_view t = target_;
  return t.substr(0, t.find('?'));
}

std::string_view session::raw_query() const {
  std::string_view t = target_;
  const size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

void session::do_read() {
  if (closed_)
    return;
  if (core_->shutting_down.load())
    return do_close();
  method_.clear();
  target_.clear();
  hdr_arena_.clear();
  hdrs_.clear();
  body_.clear();
  if (body_.capacity() > 64 * 1024)
    std::string{}.swap(body_); // a large body once must not stay for the connection's life
  mode_ = body_mode::discard;
  reject_ = {};
  body_complete_ = true;
  cut_status_ = 0;
  route_ = metrics::route::other;
  end_upload();
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

void session::start_head() {
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

void session::on_header(error_code ec, std::size_t) {
  if (closed_)
    return;
  ++rate_tick_;
  rate_timer_.cancel();
  if (cut_status_ == 408) {
    start_request();
    keep_alive_ = false;
    body_complete_ = false;
    return send_error(408, "Request header timeout");
  }
  if (ec) {
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        !is_parse_error(ec))
      return do_close(); // peer went away, head deadline, reset
    start_request();
    body_complete_ = false;
    keep_alive_ = false;
    if (reject_.status != 0)
      return send_error(reject_.status, reject_.detail);
    if (ec == bhttp::error::header_limit)
      return send_error(431, "Request header too large");
    return send_error(400, "Malformed HTTP request");
  }
  ++requests_;
  start_request();
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
  if (method_ == "GET" || method_ == "HEAD" || method_ == "DELETE" || method_ == "OPTIONS") {
    // These routes take no body: refuse one before reading it.
    body_complete_ = false;
    return send_error(413, "This request takes no body");
  }
  if (declared_length(len) && len > opts().max_body_bytes) {
    body_complete_ = false;
    return send_error(413, "Request body too large");
  }
  parser_->body_limit(opts().max_body_bytes); // enforced per chunk when chunked
  mode_ = kind_ == kind::routed ? body_mode::buffer : body_mode::discard;
  continue_or_read_body();
}

void session::begin_upload() {
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
  // Uploads being received at once are bounded (each holds a connection, a
  // file and disk space): one beyond the cap is refused before its body.
  if (core_->uploads.fetch_add(1) >= opts().max_uploads) {
    core_->uploads.fetch_sub(1);
    response busy = error_response(503, "Too many uploads in progress; retry shortly");
    busy.headers.emplace_back("Retry-After", "30");
    return send_response(busy);
  }
  upload_slot_ = std::shared_ptr<void>(nullptr, [c = core_](void*) { c->uploads.fetch_sub(1); });
  sink_.emplace(opts().upload_tmp_dir, boundary, opts().max_upload_bytes);
  mode_ = body_mode::upload;
  continue_or_read_body();
}

void session::continue_or_read_body() {
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

void session::arm_rate_timer() {
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

void session::cut(unsigned status) {
  if (cut_status_ == 0)
    cut_status_ = status;
  stream_.cancel();
}

void session::do_read_body() {
  stream_.expires_after(seconds(std::max(opts().idle_timeout_seconds, 1u)));
  bhttp::async_read_some(stream_, buffer_, *parser_,
                         [self = shared_from_this()](error_code ec, std::size_t n) {
                           self->window_bytes_ += n;
                           self->after_body_read(ec);
                         });
}

void session::after_body_read(error_code ec) {
  if (closed_)
    return;
  if (cut_status_ != 0 || ec || (sink_ && sink_->status() != 0)) {
    ++rate_tick_;
    rate_timer_.cancel();
  }
  if (cut_status_ == 503) {
    end_upload(); // before answering: the client may look right away
    return send_error(503, "Server is shutting down");
  }
  if (cut_status_ == 408) {
    end_upload();
    return send_error(408, "Request body too slow");
  }
  if (sink_ && sink_->status() != 0) {
    const unsigned st = sink_->status();
    const std::string detail = sink_->detail();
    end_upload();
    return send_error(st, detail);
  }
  if (ec) {
    end_upload();
    if (ec == bhttp::error::body_limit)
      return send_error(413, kind_ == kind::upload ? "Upload too large" : "Request body too large");
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

void session::dispatch() {
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

bool session::build_request(request& req) {
  req.method = method_;
  if (!query::percent_decode(raw_path(), req.path, false))
    return false;
  req.query.assign(raw_query());
  req.peer = client_;
  req.headers.reserve(hdrs_.size());
  for (const auto& e : hdrs_)
    req.headers.emplace_back(std::string{name_of(e)}, std::string{value_of(e)});
  return true;
}

void session::finish_upload() {
  if (!sink_->finish()) {
    const unsigned st = sink_->status();
    const std::string detail = sink_->detail();
    end_upload();
    return send_error(st, detail);
  }
  request req;
  if (!build_request(req)) {
    end_upload();
    return send_error(400, "Malformed request path");
  }
  req.upload_filename = sink_->filename();
  req.upload_bytes = sink_->bytes();
  req.upload_path = sink_->release(); // the router owns the file now
  req.request_id = request_id_;
  end_upload();
  hand_to_router(std::move(req));
}

void session::hand_to_router(request req) {
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
    drop(res);
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

void session::watch_peer() {
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
                              // A streamed body may wait long for its next
                              // chunk: keep watching while it is sent.
                              if (!ec && (self->phase_ == phase::awaiting || self->body_stream_))
                                self->watch_peer();
                              return;
                            }
                            self->peer_gone_ = true;
                            if (self->body_stream_)
                              return self->fail_stream(); // closes the stream promptly
                            if (self->phase_ == phase::awaiting)
                              return self->do_close();
                            if (self->resume_after_watch_)
                              return self->do_close();
                          });
}

void session::on_reply(uint64_t gen, response res) {
  if (closed_ || gen != gen_ || phase_ != phase::awaiting)
    return drop(res);
  respond(std::move(res));
}

void session::respond(response res) {
  ++reply_tick_;
  reply_timer_.cancel();
  set_phase(phase::writing);
  undelivered_ = std::move(res.on_undelivered);
  if (res.stream)
    return send_stream(res);
  if (!res.file_path.empty())
    return serve_router_file(res);
  send_response(res);
}

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

void start_session(const std::shared_ptr<core>& c, tcp::socket&& socket) {
  std::make_shared<session>(c, std::move(socket))->run();
}

} // namespace hlsgate::http::detail
