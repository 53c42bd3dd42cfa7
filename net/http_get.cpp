#include "net/http_get.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "net/address_policy.hpp"
#include "net/resolve.hpp"

namespace hlsgate::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto slice = std::chrono::milliseconds(200); ///< how often a wait looks at cancel

std::string reason(const beast::error_code& ec) {
  return ec == bhttp::error::body_limit ? "response too large" : describe(ec);
}

/// A name lookup on a thread of its own (getaddrinfo cannot be cancelled):
/// a caller that stops waiting leaves it to finish and be dropped.
struct lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false, ok = false;
  address_list found;
};

bool redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

} // namespace

struct http_reader::impl {
  get_request req;
  url at; ///< the current hop's URL
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  std::string error, content_type, content_range;
  unsigned status = 0;
  int64_t content_length = -1;
  clock::time_point body_deadline = clock::time_point::max();

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  void close() {
    beast::error_code ignored;
    if (plain || tls)
      lowest().socket().close(ignored);
  }

  bool cancelled() const { return req.cancel && req.cancel->load(); }

  /// Every address of `host`, within the deadline and the caller's cancel.
  bool resolve(const std::string& host, clock::time_point deadline, address_list& out) {
    auto l = std::make_shared<lookup>();
    std::thread([l, host] {
      address_list a;
      const bool ok = resolve_host(host, a);
      std::lock_guard lk(l->mu);
      l->ok = ok;
      l->found = std::move(a);
      l->done = true;
      l->cv.notify_all();
    }).detach();
    std::unique_lock lk(l->mu);
    while (!l->done) {
      const auto now = clock::now();
      if (cancelled() || now >= deadline) {
        error = cancelled() ? "cancelled" : "timed out";
        return false;
      }
      l->cv.wait_for(lk, std::min<clock::duration>(deadline - now, slice));
    }
    if (!l->ok) {
      error = "cannot resolve the host";
      return false;
    }
    out = std::move(l->found);
    return true;
  }

  /// Runs the operation started on `ioc` until it calls back (setting
  /// `done`), the deadline passes or the caller cancels; in the last two
  /// cases the socket is closed, the operation finishes aborted, and
  /// `error` says why. True when it finished by itself.
  bool wait(const bool& done, clock::time_point deadline) {
    ioc.restart();
    while (!done) {
      if (cancelled()) {
        error = "cancelled";
        break;
      }
      const auto now = clock::now();
      if (now >= deadline) {
        error = "timed out";
        break;
      }
      ioc.run_one_for(std::min<clock::duration>(deadline - now, slice));
    }
    if (done)
      return true;
    close();
    while (!done && ioc.run_one() > 0) {
    }
    return false;
  }

  /// One hop: connect to a checked address of `at`, send the GET, read the
  /// head. The status, or 0 with `error` set.
  unsigned hop(clock::time_point deadline) {
    address_list addresses;
    if (at.host_is_ip) {
      beast::error_code ec;
      addresses.push_back(asio::ip::make_address(at.host, ec));
      if (ec)
        return fail("bad address");
    } else if (!resolve(at.host, deadline, addresses)) {
      return 0;
    }
    std::vector<tcp::endpoint> endpoints;
    for (auto& a : addresses)
      if (allowed(a, req.allow_private))
        endpoints.emplace_back(a, at.port);
    if (endpoints.empty())
      return fail("address not allowed");
    close();
    buffer.clear();
    plain.reset();
    tls.reset();
    if (at.tls)
      tls.emplace(ioc, client_tls());
    else
      plain.emplace(ioc);
    bool done = false;
    beast::error_code ec;
    lowest().socket().async_connect(endpoints.front(), [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    // Every checked address in turn, as asio::async_connect would.
    for (size_t i = 0;; ++i) {
      if (!wait(done, deadline))
        return 0;
      if (!ec)
        break;
      if (i + 1 >= endpoints.size())
        return fail(describe(ec));
      lowest().socket().close(ec);
      done = false;
      lowest().socket().async_connect(endpoints[i + 1], [&](beast::error_code e) {
        ec = e;
        done = true;
      });
    }
    if (tls) {
      expect_host(*tls, at);
      done = false;
      tls->async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
        ec = e;
        done = true;
      });
      if (!wait(done, deadline))
        return 0;
      if (ec)
        return fail(describe(ec));
    }
    bhttp::request<bhttp::empty_body> get{bhttp::verb::get, at.target, 11};
    get.set(bhttp::field::host, at.authority());
    get.set(bhttp::field::accept, "*/*");
    get.set(bhttp::field::connection, "close");
    if (req.range_first >= 0)
      get.set(bhttp::field::range, "bytes=" + std::to_string(req.range_first) + "-" +
                                       (req.range_last >= 0 ? std::to_string(req.range_last) : ""));
    for (auto& [name, value] : req.headers)
      get.set(name, value);
    done = false;
    auto on_io = [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    };
    if (tls)
      bhttp::async_write(*tls, get, on_io);
    else
      bhttp::async_write(*plain, get, on_io);
    if (!wait(done, deadline))
      return 0;
    if (ec)
      return fail(describe(ec));
    parser.emplace();
    parser->header_limit(32 * 1024);
    if (req.max_body > 0)
      parser->body_limit(req.max_body);
    else
      parser->body_limit(boost::none);
    done = false;
    if (tls)
      bhttp::async_read_header(*tls, buffer, *parser, on_io);
    else
      bhttp::async_read_header(*plain, buffer, *parser, on_io);
    if (!wait(done, deadline))
      return 0;
    if (ec)
      return fail(reason(ec));
    return parser->get().result_int();
  }

  unsigned fail(std::string why) {
    error = std::move(why);
    return 0;
  }
};

http_reader::http_reader(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
http_reader::~http_reader() {
  impl_->close();
}

std::unique_ptr<http_reader> http_reader::open(get_request req, std::string& why) {
  auto p = std::make_unique<impl>();
  p->req = std::move(req);
  p->at = p->req.target;
  const auto deadline = clock::now() + p->req.open_timeout;
  for (unsigned hops = 0;; ++hops) {
    const unsigned status = p->hop(deadline);
    if (status == 0) {
      why = p->error;
      return nullptr;
    }
    if (redirect(status)) {
      if (hops >= p->req.max_redirects) {
        why = "too many redirects";
        return nullptr;
      }
      const auto location = p->parser->get()[bhttp::field::location];
      if (location.empty()) {
        why = "redirect without a location";
        return nullptr;
      }
      std::string reason;
      auto next =
          resolve_reference(p->at, std::string_view{location.data(), location.size()}, reason);
      if (!next) {
        why = "redirect refused: " + reason;
        return nullptr;
      }
      if (p->at.tls && !next->tls) {
        why = "redirect refused: from https to http";
        return nullptr;
      }
      // The caller's headers (credentials, often) were meant for the origin
      // it named: another origin gets only the User-Agent.
      if (next->host != p->req.target.host || next->port != p->req.target.port ||
          next->tls != p->req.target.tls) {
        auto& h = p->req.headers;
        h.erase(
            std::remove_if(h.begin(), h.end(),
                           [](const auto& kv) { return !beast::iequals(kv.first, "User-Agent"); }),
            h.end());
      }
      p->at = std::move(*next);
      continue;
    }
    // A range from byte 0 may come back whole (the reader stops at its end).
    if (status < 200 || status > 299 || (p->req.range_first > 0 && status != 206)) {
      why = "upstream answered " + std::to_string(status);
      return nullptr;
    }
    const auto type = p->parser->get()[bhttp::field::content_type];
    p->content_type.assign(type.data(), type.size());
    const auto range = p->parser->get()[bhttp::field::content_range];
    p->content_range.assign(range.data(), range.size());
    p->status = status;
    if (auto len = p->parser->content_length())
      p->content_length = static_cast<int64_t>(*len);
    if (p->req.body_timeout.count() > 0)
      p->body_deadline = clock::now() + p->req.body_timeout;
    return std::unique_ptr<http_reader>(new http_reader(std::move(p)));
  }
}

long http_reader::read(uint8_t* buf, size_t size) {
  auto& s = *impl_;
  if (!s.error.empty())
    return -1;
  while (!s.parser->is_done()) {
    auto& body = s.parser->get().body();
    body.data = buf;
    body.size = size;
    bool done = false;
    beast::error_code ec;
    auto on_read = [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    };
    if (s.tls)
      bhttp::async_read_some(*s.tls, s.buffer, *s.parser, on_read);
    else
      bhttp::async_read_some(*s.plain, s.buffer, *s.parser, on_read);
    if (!s.wait(done, std::min(s.body_deadline, clock::now() + s.req.idle_timeout)))
      return -1;
    if (ec == ssl::error::stream_truncated && s.parser->need_eof()) {
      // A TLS peer that ends a body read to its end without close_notify.
      beast::error_code eof;
      s.parser->put_eof(eof);
      if (eof) {
        s.error = reason(eof);
        return -1;
      }
      ec = {};
    }
    if (ec && ec != bhttp::error::need_buffer) {
      s.error = reason(ec);
      return -1;
    }
    const size_t n = size - body.size;
    if (n > 0)
      return static_cast<long>(n);
  }
  return 0;
}

const std::string& http_reader::error() const {
  return impl_->error;
}
const std::string& http_reader::content_type() const {
  return impl_->content_type;
}
const std::string& http_reader::content_range() const {
  return impl_->content_range;
}
int64_t http_reader::content_length() const {
  return impl_->content_length;
}
unsigned http_reader::status() const {
  return impl_->status;
}
const url& http_reader::location() const {
  return impl_->at;
}

} // namespace hlsgate::net
