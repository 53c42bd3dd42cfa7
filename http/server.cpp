// The only Beast/Asio translation unit of hlsgate.
//
// Shape (Beast advanced_server): listener accepts onto a new strand; each
// session runs run → do_read → on_read → (dispatch) → do_write → on_write →
// do_read | do_close. One request is in flight per connection; pipelined
// requests wait in the read buffer, so responses never reorder.
//
// Requests are parsed by `request_reader`, a basic_parser that stores the
// request line and fields in session-owned buffers reused across requests
// and hands body bytes straight to the session (no body object): small
// bodies are appended to a string, uploads go through the multipart parser
// to a temporary file. Responses are formatted into a reused header buffer;
// files are sent with sendfile(2) after the header.
#include "http/server.hpp"

#include "auth/signed_url.hpp"
#include "http/multipart.hpp"
#include "http/text.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits.h>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace hlsgate::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// -- request / response helpers (public API) ----------------------------------

namespace {

using text::ascii_lower;
using text::iequals;

/// Percent-decodes `in` into `out` (appending). `plus_is_space` for query
/// components (application/x-www-form-urlencoded). Returns false on a bad
/// escape; NUL bytes are rejected too.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.reserve(out.size() + in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size())
        return false;
      int hi = text::hex_value(in[i + 1]);
      int lo = text::hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      char d = static_cast<char>(hi * 16 + lo);
      if (d == '\0')
        return false;
      out.push_back(d);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

/// Raw (undecoded) value of `key` in a query string; false when absent.
bool raw_query_value(std::string_view query, std::string_view key, std::string_view& value) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      return true;
    }
  }
  return false;
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (u < 0x20) {
        out += "\\u00";
        out.push_back(hex[u >> 4]);
        out.push_back(hex[u & 15]);
      } else {
        out.push_back(c);
      }
    }
  }
}

} // namespace

std::string_view request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name))
      return v;
  return {};
}

bool request::query_param(std::string_view name, std::string& out) const {
  std::string_view q = query;
  std::string key;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty())
      continue;
    size_t eq = pair.find('=');
    key.clear();
    if (!percent_decode(pair.substr(0, eq), key, true))
      continue;
    if (key != name)
      continue;
    out.clear();
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), out, true))
      out.assign(pair.substr(eq + 1)); // keep a bad escape verbatim
    return true;
  }
  return false;
}

response json_error(unsigned status, std::string_view detail) {
  response r;
  r.status = status;
  r.body.reserve(detail.size() + 16);
  r.body += "{\"detail\":\"";
  append_json_escaped(r.body, detail);
  r.body += "\"}";
  return r;
}

// -- server internals ----------------------------------------------------------

namespace {

using clock_type = std::chrono::steady_clock;

std::string_view sv(beast::string_view s) noexcept {
  return {s.data(), s.size()};
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

/// "Date:" value, formatted at most once per second per thread.
std::string_view http_date() {
  thread_local time_t cached_at = 0;
  thread_local char buf[64];
  thread_local size_t len = 0;
  time_t now = ::time(nullptr);
  if (now != cached_at) {
    struct tm tm;
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_at = now;
  }
  return {buf, len};
}

bool all_of_class(std::string_view s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c))
      return false;
  return true;
}
bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}
bool rendition_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool digit_char(char c) {
  return c >= '0' && c <= '9';
}

/// Splits "/seg/{storage_id}/{rendition}/{file}" (raw, undecoded path) and
/// checks each part against its strict pattern. Percent-escapes never match,
/// so encoded separators or dots cannot reach the filesystem.
bool parse_segment_path(std::string_view path, std::string_view& sid, std::string_view& rend,
                        std::string_view& file) {
  constexpr std::string_view prefix = "/seg/";
  if (path.substr(0, prefix.size()) != prefix)
    return false;
  path.remove_prefix(prefix.size());
  size_t a = path.find('/');
  if (a == std::string_view::npos)
    return false;
  sid = path.substr(0, a);
  path.remove_prefix(a + 1);
  size_t b = path.find('/');
  if (b == std::string_view::npos)
    return false;
  rend = path.substr(0, b);
  file = path.substr(b + 1);
  if (sid.size() < 16 || sid.size() > 64 || !all_of_class(sid, id_char))
    return false;
  if (rend.empty() || rend.size() > 8 || !all_of_class(rend, rendition_char))
    return false;
  // seg_[0-9]{5}\.ts
  return file.size() == 12 && file.substr(0, 4) == "seg_" &&
         all_of_class(file.substr(4, 5), digit_char) && file.substr(9) == ".ts";
}

enum class range_result { full, partial, unsatisfiable };

/// One byte range of RFC 9110 §14.1.2. Anything but a single well-formed
/// "bytes" range is served in full (allowed: a server may ignore Range).
range_result parse_range(std::string_view h, uint64_t size, uint64_t& first, uint64_t& last) {
  size_t eq = h.find('=');
  if (eq == std::string_view::npos || !iequals(h.substr(0, eq), "bytes"))
    return range_result::full;
  const std::string_view spec = text::trim(h.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos)
    return range_result::full;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos)
    return range_result::full;
  std::string_view a = spec.substr(0, dash);
  std::string_view b = spec.substr(dash + 1);
  auto number = [](std::string_view s, uint64_t& v) {
    if (s.empty() || s.size() > 19 || !all_of_class(s, digit_char))
      return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc{};
  };
  uint64_t x = 0;
  uint64_t y = 0;
  if (a.empty()) { // suffix: last y bytes
    if (!number(b, y))
      return range_result::full;
    if (y == 0 || size == 0)
      return range_result::unsatisfiable;
    first = size - std::min(y, size);
    last = size - 1;
    return range_result::partial;
  }
  if (!number(a, x))
    return range_result::full;
  if (b.empty()) {
    if (x >= size)
      return range_result::unsatisfiable;
    first = x;
    last = size - 1;
    return range_result::partial;
  }
  if (!number(b, y) || y < x)
    return range_result::full;
  if (x >= size)
    return range_result::unsatisfiable;
  first = x;
  last = std::min(y, size - 1);
  return range_result::partial;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// Opens a new 0600 file with a random name in `dir`; -1 on failure.
int create_temp_file(const std::string& dir, std::string& path) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int attempt = 0; attempt < 8; ++attempt) {
    unsigned char rnd[16];
    if (::getrandom(rnd, sizeof rnd, 0) != static_cast<ssize_t>(sizeof rnd))
      return -1;
    path.assign(dir);
    if (path.empty() || path.back() != '/')
      path.push_back('/');
    path += "upload-";
    for (unsigned char b : rnd) {
      path.push_back(hex[b >> 4]);
      path.push_back(hex[b & 15]);
    }
    path += ".part";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
      return fd;
    if (errno != EEXIST)
      break;
  }
  path.clear();
  return -1;
}

bool is_parse_error(const error_code& ec) {
  return &ec.category() == &bhttp::make_error_code(bhttp::error::bad_target).category();
}

// -- shared state ---------------------------------------------------------------

class session;

/// Everything sessions share. Owned jointly by the server and its sessions, so
/// a session kept alive by a router's pending reply_fn can still be destroyed
/// safely (its socket needs the io_context) after the server has stopped.
struct core {
  core(server_options o, router& r, const auth::url_signer& s, metrics::registry& m)
      : opts(std::move(o)), rt(r), signer(s), metrics(m),
        ioc(static_cast<int>(std::max(1u, opts.threads))), acceptor(ioc) {
    cors_any = opts.cors_any;
    cors_list = opts.cors_origins;
    if (opts.upload_tmp_dir.empty())
      opts.upload_tmp_dir = std::filesystem::temp_directory_path().string();
  }

  bool cors_enabled() const noexcept { return cors_any || !cors_list.empty(); }

  server_options opts;
  router& rt;
  const auth::url_signer& signer;
  metrics::registry& metrics;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry{ioc};
  bool cors_any = false;
  std::vector<std::string> cors_list;

  /// Closed by stop(): reply_fns invoked afterwards are dropped instead of
  /// posting into an io_context nobody runs.
  std::mutex gate_mu;
  bool open = true;

  std::mutex sessions_mu;
  bool stopping = false; ///< guarded by sessions_mu
  std::atomic<bool> shutting_down{false};
  std::unordered_map<session*, std::weak_ptr<session>> sessions;
};

// -- request parser ---------------------------------------------------------------

class request_reader final : public bhttp::basic_parser<true> {
public:
  explicit request_reader(session& s) : s_(s) {}

private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int, beast::string_view, int, error_code&) override {}
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  session& s_;
};

// -- session ------------------------------------------------------------------------

class session : public std::enable_shared_from_this<session> {
public:
  session(std::shared_ptr<core> c, tcp::socket&& socket)
      : core_(std::move(c)), stream_(std::move(socket)), strand_(stream_.get_executor()),
        wait_timer_(strand_) {
    hdr_arena_.reserve(1024);
    out_head_.reserve(512);
    method_.reserve(8);
    target_.reserve(256);
  }

  ~session() {
    discard_upload();
    close_file();
    std::lock_guard lk(core_->sessions_mu);
    core_->sessions.erase(this);
  }

  void run() {
    {
      std::lock_guard lk(core_->sessions_mu);
      if (core_->stopping)
        return; // the socket closes with this session
      core_->sessions.emplace(this, weak_from_this());
    }
    error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    stream_.socket().native_non_blocking(true, ec); // for send/sendfile below
    net::dispatch(strand_, beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

  /// Called by server::stop() from any thread.
  void post_shutdown() {
    net::post(strand_, [self = shared_from_this()] { self->do_close(); });
  }

  // -- parser callbacks ------------------------------------------------------------

  void on_request_line(std::string_view method, std::string_view target, int version) {
    method_.assign(method);
    target_.assign(target);
    version_ = version;
  }

  void on_field(std::string_view name, std::string_view value) {
    hdr_entry e;
    e.name_off = static_cast<uint32_t>(hdr_arena_.size());
    e.name_len = static_cast<uint32_t>(name.size());
    for (char c : name)
      hdr_arena_.push_back(ascii_lower(c));
    e.value_off = static_cast<uint32_t>(hdr_arena_.size());
    e.value_len = static_cast<uint32_t>(value.size());
    hdr_arena_.append(value);
    hdrs_.push_back(e);
  }

  size_t on_body(std::string_view data, error_code& ec) {
    switch (mode_) {
    case body_mode::discard:
      break;
    case body_mode::buffer:
      if (body_.size() + data.size() > core_->opts.max_body_bytes) {
        ec = bhttp::error::body_limit;
        return 0;
      }
      body_.append(data);
      break;
    case body_mode::upload:
      upload_received_ += data.size();
      if (upload_received_ > core_->opts.max_upload_bytes) {
        ec = bhttp::error::body_limit;
        return 0;
      }
      if (!multipart_->feed(data)) {
        if (sink_status_ == 0) {
          sink_status_ = 400;
          sink_detail_ = multipart_->message();
        }
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

  struct hdr_entry {
    uint32_t name_off, name_len, value_off, value_len;
  };

  const server_options& opts() const noexcept { return core_->opts; }

  std::string_view header(std::string_view lname) const {
    for (const auto& e : hdrs_)
      if (std::string_view{hdr_arena_.data() + e.name_off, e.name_len} == lname)
        return {hdr_arena_.data() + e.value_off, e.value_len};
    return {};
  }

  /// Content-Length as validated by the parser (which rejects duplicates that
  /// disagree); false when the body is chunked or has no length.
  bool declared_length(uint64_t& len) const {
    if (parser_->chunked())
      return false;
    std::string_view v = header("content-length");
    if (v.empty())
      return false;
    return std::from_chars(v.data(), v.data() + v.size(), len).ec == std::errc{};
  }

  std::string_view raw_path() const {
    std::string_view t = target_;
    return t.substr(0, t.find('?'));
  }
  std::string_view raw_query() const {
    std::string_view t = target_;
    size_t q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
  }
  bool is_head() const noexcept { return method_ == "HEAD"; }

  // -- reading -----------------------------------------------------------------------

  void do_read() {
    if (closed_)
      return;
    method_.clear();
    target_.clear();
    hdr_arena_.clear();
    hdrs_.clear();
    body_.clear();
    mode_ = body_mode::discard;
    sink_status_ = 0;
    upload_received_ = 0;
    body_complete_ = true;
    route_ = metrics::route::other;
    parser_.emplace(*this);
    parser_->header_limit(16 * 1024);
    parser_->body_limit(boost::none); // checked per route in on_header
    const unsigned secs =
        requests_ == 0 ? opts().read_timeout_seconds : opts().idle_timeout_seconds;
    stream_.expires_after(std::chrono::seconds(secs));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, std::size_t) {
    if (closed_)
      return;
    if (ec) {
      if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
          !is_parse_error(ec))
        return do_close(); // peer went away, timeout, reset
      started_ = clock_type::now();
      body_complete_ = false;
      keep_alive_ = false;
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
    } else if (method_ == "OPTIONS" && core_->cors_enabled()) {
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

  void begin_upload() {
    uint64_t len = 0;
    if (declared_length(len) && len > opts().max_upload_bytes) {
      body_complete_ = false;
      return send_error(413, "Upload too large");
    }
    std::string boundary;
    if (!multipart_parser::boundary_from_content_type(header("content-type"), boundary)) {
      body_complete_ = parser_->is_done();
      return send_error(400, "Expected multipart/form-data with a boundary");
    }
    if (parser_->is_done()) // no body at all
      return send_error(400, multipart_parser::to_string(multipart_parser::error::truncated));
    parser_->body_limit(opts().max_upload_bytes);
    mode_ = body_mode::upload;
    media_seen_ = false;
    media_done_ = false;
    writing_media_ = false;
    upload_bytes_ = 0;
    upload_filename_.clear();
    multipart_parser::callbacks cb;
    cb.on_part_begin = [this](const multipart_part& p) {
      if (p.name != "media" || media_seen_)
        return true; // other fields are not needed here; their data is dropped
      media_seen_ = true;
      upload_fd_ = create_temp_file(opts().upload_tmp_dir, upload_path_);
      if (upload_fd_ < 0) {
        sink_status_ = 500;
        sink_detail_ = "Cannot store upload";
        return false;
      }
      upload_filename_ = p.filename;
      writing_media_ = true;
      return true;
    };
    cb.on_part_data = [this](std::string_view d) {
      if (!writing_media_)
        return true;
      if (!write_all(upload_fd_, d)) {
        sink_status_ = 500;
        sink_detail_ = "Cannot store upload";
        return false;
      }
      upload_bytes_ += d.size();
      return true;
    };
    cb.on_part_end = [this] {
      if (writing_media_) {
        writing_media_ = false;
        media_done_ = true;
      }
      return true;
    };
    multipart_.emplace(boundary, std::move(cb));
    continue_or_read_body();
  }

  /// Answers `Expect: 100-continue` (RFC 9110 §10.1.1) before reading the body.
  void continue_or_read_body() {
    body_complete_ = false;
    if (version_ >= 11 && iequals(header("expect"), "100-continue")) {
      static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(std::chrono::seconds(opts().read_timeout_seconds));
      net::async_write(stream_, net::buffer(k100.data(), k100.size()),
                       [self = shared_from_this()](error_code ec, std::size_t) {
                         if (ec || self->closed_)
                           return self->do_close();
                         self->do_read_body();
                       });
      return;
    }
    do_read_body();
  }

  void do_read_body() {
    stream_.expires_after(std::chrono::seconds(opts().read_timeout_seconds));
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&session::on_body_read, shared_from_this()));
  }

  void on_body_read(error_code ec, std::size_t) {
    if (closed_)
      return;
    if (ec || sink_status_ != 0)
      discard_upload(); // before answering: the client may look right away
    if (sink_status_ != 0)
      return send_error(sink_status_, sink_detail_);
    if (ec == bhttp::error::body_limit)
      return send_error(413, kind_ == kind::upload ? "Upload too large" : "Request body too large");
    if (ec) {
      if (is_parse_error(ec) && ec != bhttp::error::partial_message)
        return send_error(400, "Malformed HTTP request");
      return do_close(); // disconnect or timeout: nobody to answer
    }
    if (!parser_->is_done())
      return do_read_body();
    body_complete_ = true;
    dispatch();
  }

  // -- dispatch ----------------------------------------------------------------------

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
    if (!percent_decode(raw_path(), req.path, false))
      return false;
    req.query.assign(raw_query());
    req.headers.reserve(hdrs_.size());
    for (const auto& e : hdrs_)
      req.headers.emplace_back(std::string{hdr_arena_.data() + e.name_off, e.name_len},
                               std::string{hdr_arena_.data() + e.value_off, e.value_len});
    return true;
  }

  void hand_to_router(request req) {
    if (kind_ == kind::routed) {
      try {
        route_ = core_->rt.classify(req);
      } catch (...) {
        route_ = metrics::route::other;
      }
    }
    awaiting_ = true;
    const uint64_t gen = ++gen_;
    // Invoked once from any thread; a late or second call is dropped.
    reply_fn reply = [self = shared_from_this(), gen](response res) {
      core& c = *self->core_;
      std::lock_guard lk(c.gate_mu);
      if (!c.open)
        return;
      net::post(self->strand_, [self, gen, res = std::move(res)]() mutable {
        self->on_reply(gen, std::move(res));
      });
    };
    try {
      core_->rt.handle(std::move(req), std::move(reply));
    } catch (const std::exception&) {
      // The router failed synchronously; if it replied already, that wins.
      net::post(strand_, [self = shared_from_this(), gen] {
        self->on_reply(gen, json_error(500, "Internal server error"));
      });
    }
  }

  void on_reply(uint64_t gen, response res) {
    if (closed_ || !awaiting_ || gen != gen_)
      return;
    awaiting_ = false;
    if (!res.file_path.empty())
      return serve_router_file(res);
    send_response(res);
  }

  void finish_upload() {
    if (!multipart_->finish()) {
      discard_upload();
      return send_error(400, multipart_->message());
    }
    if (!media_done_) {
      discard_upload();
      return send_error(422, "Missing form field 'media'");
    }
    ::close(upload_fd_);
    upload_fd_ = -1;
    request req;
    if (!build_request(req)) {
      discard_upload();
      return send_error(400, "Malformed request path");
    }
    req.upload_path = std::move(upload_path_); // the router owns the file now
    upload_path_.clear();
    req.upload_filename = std::move(upload_filename_);
    req.upload_bytes = upload_bytes_;
    multipart_.reset();
    hand_to_router(std::move(req));
  }

  void discard_upload() {
    if (upload_fd_ >= 0) {
      ::close(upload_fd_);
      upload_fd_ = -1;
    }
    if (!upload_path_.empty()) {
      ::unlink(upload_path_.c_str());
      upload_path_.clear();
    }
  }

  // -- /seg/ -------------------------------------------------------------------------

  void serve_segment() {
    if (method_ != "GET" && method_ != "HEAD") {
      extra_.assign("Allow: GET, HEAD\r\n");
      return send_error(405, "Method not allowed");
    }
    std::string_view sid, rend, file;
    if (!parse_segment_path(raw_path(), sid, rend, file))
      return send_error(404, "Not found");
    std::string_view md5, expires;
    const std::string_view query = raw_query();
    if (!raw_query_value(query, "md5", md5) || !raw_query_value(query, "expires", expires)) {
      core_->metrics.auth_failure("bad_url_signature");
      return send_error(403, "Invalid signature");
    }
    // "/seg/{sid}/" and the file path are built on the stack: this is the hot path.
    char prefix[5 + 64 + 2];
    size_t plen = 0;
    std::memcpy(prefix, "/seg/", 5);
    plen = 5;
    std::memcpy(prefix + plen, sid.data(), sid.size());
    plen += sid.size();
    prefix[plen++] = '/';
    const int64_t now = static_cast<int64_t>(::time(nullptr));
    switch (core_->signer.verify(std::string_view{prefix, plen}, md5, expires, now)) {
    case auth::signature_check::ok:
      break;
    case auth::signature_check::bad:
      core_->metrics.auth_failure("bad_url_signature");
      return send_error(403, "Invalid signature");
    case auth::signature_check::expired:
      core_->metrics.auth_failure("expired_url");
      return send_error(410, "Signed URL expired");
    }
    char path[PATH_MAX];
    const std::string& root = opts().media_root;
    const size_t need = root.size() + 1 + sid.size() + 1 + rend.size() + 1 + file.size() + 1;
    if (need > sizeof path)
      return send_error(404, "Not found");
    char* p = path;
    auto put = [&p](std::string_view s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    put(root);
    *p++ = '/';
    put(sid);
    *p++ = '/';
    put(rend);
    *p++ = '/';
    put(file);
    *p = '\0';

    int64_t exp = 0;
    std::from_chars(expires.data(), expires.data() + expires.size(), exp);
    const int64_t max_age = std::max<int64_t>(0, exp - now);
    char cache[64];
    int clen = std::snprintf(cache, sizeof cache, "Cache-Control: private, max-age=%lld\r\n",
                             static_cast<long long>(max_age));
    extra_.assign(cache, static_cast<size_t>(std::max(clen, 0)));
    serve_file(path, "video/mp2t", 200);
  }

  void serve_router_file(const response& res) {
    extra_.clear();
    for (const auto& [n, v] : res.headers)
      extra_.append(n).append(": ").append(v).append("\r\n");
    serve_file(res.file_path.c_str(), res.content_type, res.status);
  }

  /// Sends the file at `path` (GET/HEAD, single Range, If-None-Match).
  /// `extra_` holds additional header lines.
  void serve_file(const char* path, std::string_view content_type, unsigned status) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      if (fd >= 0)
        ::close(fd);
      extra_.clear(); // no caching headers on the 404
      return send_error(404, "Not found");
    }
    close_file();
    file_fd_ = fd;
    const auto size = static_cast<uint64_t>(st.st_size);

    char etag[48];
    int elen = std::snprintf(etag, sizeof etag, "\"%llx-%llx\"",
                             static_cast<unsigned long long>(st.st_mtime),
                             static_cast<unsigned long long>(size));
    const std::string_view etag_sv{etag, static_cast<size_t>(std::max(elen, 0))};

    uint64_t first = 0;
    uint64_t last = size ? size - 1 : 0;
    uint64_t length = size;
    range_result rr = range_result::full;
    if (status == 200) {
      std::string_view inm = header("if-none-match");
      if (!inm.empty() && (inm == "*" || inm.find(etag_sv) != std::string_view::npos)) {
        close_file();
        begin_head(304);
        out_head_.append("ETag: ").append(etag_sv).append("\r\n").append(extra_);
        end_head(std::nullopt);
        return write_head_only();
      }
      std::string_view range = header("range");
      if (!range.empty())
        rr = parse_range(range, size, first, last);
    }
    if (rr == range_result::unsatisfiable) {
      close_file();
      begin_head(416);
      out_head_.append("Content-Range: bytes */");
      append_uint(out_head_, size);
      out_head_.append("\r\nContent-Type: application/json\r\n");
      static constexpr std::string_view body = "{\"detail\":\"Range not satisfiable\"}";
      end_head(body.size());
      out_body_.assign(body);
      return write_buffered(is_head() ? 0 : body.size());
    }
    if (rr == range_result::partial) {
      status = 206;
      length = last - first + 1;
    }
    begin_head(status);
    out_head_.append("Content-Type: ").append(content_type).append("\r\n");
    out_head_.append("Accept-Ranges: bytes\r\nETag: ").append(etag_sv).append("\r\n");
    if (rr == range_result::partial) {
      out_head_.append("Content-Range: bytes ");
      append_uint(out_head_, first);
      out_head_.push_back('-');
      append_uint(out_head_, last);
      out_head_.push_back('/');
      append_uint(out_head_, size);
      out_head_.append("\r\n");
    }
    out_head_.append(extra_);
    end_head(length);
    if (is_head() || length == 0) {
      close_file();
      return write_head_only();
    }
    file_off_ = static_cast<off_t>(first);
    file_remaining_ = length;
    head_sent_ = 0;
    sent_body_bytes_ = 0;
    send_file_some();
  }

  /// Header with send(MSG_MORE), then sendfile(2), on the non-blocking socket;
  /// EAGAIN waits for writability. Runs on the strand.
  void send_file_some() {
    if (closed_)
      return;
    const int sock = stream_.socket().native_handle();
    while (head_sent_ < out_head_.size()) {
      ssize_t n = ::send(sock, out_head_.data() + head_sent_, out_head_.size() - head_sent_,
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
      ssize_t n = ::sendfile(sock, file_fd_, &file_off_, want);
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
    wait_timer_.expires_after(std::chrono::seconds(opts().read_timeout_seconds));
    wait_timer_.async_wait([self = shared_from_this(), tick](error_code ec) {
      if (!ec && tick == self->wait_tick_) { // stalled reader: give up
        error_code ignored;
        self->stream_.socket().close(ignored);
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

  void begin_head(unsigned status) {
    status_ = status;
    out_head_.clear();
    out_body_.clear();
    out_head_.append("HTTP/1.1 ");
    append_uint(out_head_, status);
    out_head_.push_back(' ');
    out_head_.append(sv(bhttp::obsolete_reason(bhttp::int_to_status(status))));
    out_head_.append("\r\nServer: hlsgate\r\nDate: ").append(http_date()).append("\r\n");
  }

  /// CORS, Content-Length (unless none), Connection and the empty line.
  void end_head(std::optional<uint64_t> content_length) {
    if (core_->cors_enabled()) {
      std::string_view origin = header("origin");
      if (core_->cors_any) {
        out_head_.append("Access-Control-Allow-Origin: *\r\n");
      } else if (!origin.empty() && std::find(core_->cors_list.begin(), core_->cors_list.end(),
                                              origin) != core_->cors_list.end()) {
        out_head_.append("Access-Control-Allow-Origin: ").append(origin).append("\r\n");
        out_head_.append("Vary: Origin\r\n");
      }
      out_head_.append("Access-Control-Expose-Headers: Content-Length, Content-Range\r\n");
    }
    if (content_length) {
      out_head_.append("Content-Length: ");
      append_uint(out_head_, *content_length);
      out_head_.append("\r\n");
    }
    // A body left unread cannot be skipped reliably: close after answering.
    close_after_ =
        !keep_alive_ || !body_complete_ || core_->shutting_down.load(std::memory_order_relaxed);
    if (close_after_)
      out_head_.append("Connection: close\r\n");
    else if (version_ == 10)
      out_head_.append("Connection: keep-alive\r\n");
    out_head_.append("\r\n");
  }

  void send_error(unsigned status, std::string_view detail) {
    response r = json_error(status, detail);
    send_response(r);
  }

  void send_response(const response& res) {
    begin_head(res.status);
    const bool no_body = res.status == 204 || res.status == 304 || res.status < 200;
    if (!no_body || !res.body.empty())
      out_head_.append("Content-Type: ").append(res.content_type).append("\r\n");
    for (const auto& [n, v] : res.headers)
      out_head_.append(n).append(": ").append(v).append("\r\n");
    out_head_.append(extra_);
    extra_.clear();
    if (res.status == 204 || res.status < 200) {
      end_head(std::nullopt);
      return write_head_only();
    }
    end_head(res.body.size());
    if (is_head() || res.status == 304)
      return write_head_only();
    out_body_.assign(res.body);
    write_buffered(out_body_.size());
  }

  void send_preflight() {
    begin_head(204);
    out_head_.append("Access-Control-Allow-Methods: GET, HEAD, POST, DELETE, OPTIONS\r\n"
                     "Access-Control-Allow-Headers: Authorization, X-Admin-Key, Content-Type, "
                     "Range\r\nAccess-Control-Max-Age: 600\r\n");
    end_head(std::nullopt);
    write_head_only();
  }

  void write_head_only() { write_buffered(0); }

  /// Writes out_head_ and the first `body_len` bytes of out_body_.
  void write_buffered(size_t body_len) {
    extra_.clear();
    sent_body_bytes_ = body_len;
    std::array<net::const_buffer, 2> bufs{net::buffer(out_head_),
                                          net::buffer(out_body_.data(), body_len)};
    stream_.expires_after(std::chrono::seconds(opts().read_timeout_seconds));
    net::async_write(stream_, bufs, [self = shared_from_this()](error_code ec, std::size_t) {
      self->finish_response(!ec);
    });
  }

  void finish_response(bool ok) {
    extra_.clear();
    close_file();
    const double secs = std::chrono::duration<double>(clock_type::now() - started_).count();
    core_->metrics.http_request(route_, status_, secs);
    if (sent_body_bytes_ > 0)
      core_->metrics.bytes_served(sent_body_bytes_);
    sent_body_bytes_ = 0;
    if (!ok || closed_)
      return do_close();
    if (close_after_)
      return body_complete_ ? do_close() : do_linger();
    do_read();
  }

  /// After answering a request whose body was not read, half-close and drain
  /// briefly so the peer reads the response instead of a reset (RFC 9112 §9.6).
  void do_linger() {
    discard_upload();
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec)
      return do_close();
    linger_left_ = 4u << 20;
    do_linger_read();
  }

  void do_linger_read() {
    stream_.expires_after(std::chrono::seconds(2));
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              if (ec || n >= self->linger_left_ || self->closed_)
                                return self->do_close();
                              self->linger_left_ -= n;
                              self->do_linger_read();
                            });
  }

  void do_close() {
    if (closed_)
      return;
    closed_ = true;
    awaiting_ = false;
    discard_upload();
    close_file();
    ++wait_tick_;
    wait_timer_.cancel();
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  // Declared first: destroyed last, after the socket that needs its io_context.
  std::shared_ptr<core> core_;
  beast::tcp_stream stream_;
  net::any_io_executor strand_; ///< the connection's strand (the socket's executor)
  net::steady_timer wait_timer_;
  beast::flat_buffer buffer_{1 << 20}; // header_limit bounds what accumulates
  std::optional<request_reader> parser_;

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
  clock_type::time_point started_{};
  bool keep_alive_ = true;
  bool body_complete_ = true;
  uint64_t requests_ = 0;
  unsigned sink_status_ = 0;
  std::string sink_detail_;

  // upload
  std::optional<multipart_parser> multipart_;
  uint64_t upload_received_ = 0;
  int upload_fd_ = -1;
  std::string upload_path_;
  std::string upload_filename_;
  uint64_t upload_bytes_ = 0;
  bool media_seen_ = false;
  bool media_done_ = false;
  bool writing_media_ = false;

  // response
  unsigned status_ = 0;
  std::string out_head_;
  std::string out_body_;
  std::string extra_; ///< extra header lines for the next response
  bool close_after_ = false;
  int file_fd_ = -1;
  off_t file_off_ = 0;
  uint64_t file_remaining_ = 0;
  size_t head_sent_ = 0;
  uint64_t sent_body_bytes_ = 0;
  uint64_t wait_tick_ = 0;
  size_t linger_left_ = 0;

  // router round-trip
  uint64_t gen_ = 0;
  bool awaiting_ = false;
  bool closed_ = false;
};

void request_reader::on_request_impl(bhttp::verb, beast::string_view method,
                                     beast::string_view target, int version, error_code&) {
  s_.on_request_line(sv(method), sv(target), version);
}

void request_reader::on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                                   error_code&) {
  s_.on_field(sv(name), sv(value));
}

std::size_t request_reader::on_body_impl(beast::string_view body, error_code& ec) {
  return s_.on_body(sv(body), ec);
}

std::size_t request_reader::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                               error_code& ec) {
  return s_.on_body(sv(body), ec);
}

} // namespace

// -- server ------------------------------------------------------------------------

struct server::impl {
  std::shared_ptr<core> c;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;

  void do_accept() {
    c->acceptor.async_accept(net::make_strand(c->ioc), [this](error_code ec, tcp::socket socket) {
      on_accept(ec, std::move(socket));
    });
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !c->acceptor.is_open())
      return;
    if (ec) {
      // e.g. EMFILE: back off instead of spinning on the same error.
      c->accept_retry.expires_after(std::chrono::milliseconds(50));
      c->accept_retry.async_wait([this](error_code wec) {
        if (!wec && c->acceptor.is_open())
          do_accept();
      });
      return;
    }
    std::make_shared<session>(c, std::move(socket))->run();
    do_accept();
  }
};

server::server(server_options opts, router& r, const auth::url_signer& signer,
               metrics::registry& metrics)
    : impl_(std::make_unique<impl>()) {
  impl_->c = std::make_shared<core>(std::move(opts), r, signer, metrics);
}

server::~server() {
  stop();
}

void server::start() {
  impl& m = *impl_;
  if (m.started)
    return;
  core& c = *m.c;
  const std::string where = "cannot listen on " + c.opts.bind + ":" + std::to_string(c.opts.port);
  error_code ec;
  auto address = net::ip::make_address(c.opts.bind, ec);
  if (ec)
    throw std::runtime_error(where + ": bad address");
  tcp::endpoint ep{address, c.opts.port};
  c.acceptor.open(ep.protocol(), ec);
  if (!ec)
    c.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    c.acceptor.bind(ep, ec);
  if (!ec)
    c.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec)
    m.port = c.acceptor.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    c.acceptor.close(ignored);
    throw std::runtime_error(where + ": " + ec.message());
  }
  std::error_code fs_ec;
  std::filesystem::create_directories(c.opts.upload_tmp_dir, fs_ec);
  m.started = true;
  m.do_accept();
  const unsigned n = std::max(1u, c.opts.threads);
  m.threads.reserve(n);
  for (unsigned i = 0; i < n; ++i)
    m.threads.emplace_back([cp = m.c] {
      for (;;) {
        try {
          cp->ioc.run();
          return;
        } catch (const std::exception& e) {
          // A handler threw: keep the thread serving (sessions use error codes).
          std::fprintf(stderr, "hlsgate http: unexpected exception: %s\n", e.what());
        }
      }
    });
}

uint16_t server::port() const {
  return impl_->port;
}

void server::wait() {
  std::unique_lock lk(impl_->mu);
  impl_->cv.wait(lk, [this] { return impl_->stopped; });
}

void server::stop() {
  impl& m = *impl_;
  {
    std::lock_guard lk(m.mu);
    if (m.stopped)
      return;
  }
  core& c = *m.c;
  if (m.started) {
    // Keeps run() from returning before every close below is queued: a handler
    // posted after the threads exit would never run and would keep its session
    // (and through it this io_context) alive forever.
    auto guard = net::make_work_guard(c.ioc);
    {
      std::lock_guard lk(c.gate_mu);
      c.open = false;
    }
    c.shutting_down = true;
    std::vector<std::weak_ptr<session>> live;
    {
      std::lock_guard lk(c.sessions_mu);
      c.stopping = true;
      live.reserve(c.sessions.size());
      for (auto& [p, w] : c.sessions)
        live.push_back(w);
    }
    net::post(c.ioc, [cp = m.c] {
      error_code ec;
      cp->acceptor.close(ec);
      cp->accept_retry.cancel();
    });
    for (auto& w : live)
      if (auto s = w.lock())
        s->post_shutdown();
    guard.reset();
    // With the acceptor and every socket closed the io_context runs out of
    // work; sessions still referenced by a router's reply_fn have none pending.
    for (auto& t : m.threads) {
      if (!t.joinable())
        continue;
      if (t.get_id() == std::this_thread::get_id())
        t.detach(); // stop() from a handler: this thread returns from run() by itself
      else
        t.join();
    }
    m.threads.clear();
  }
  {
    std::lock_guard lk(m.mu);
    m.stopped = true;
  }
  m.cv.notify_all();
}

} // namespace hlsgate::http
