#include "net/http_post.hpp"

#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
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

namespace {

using lookup_done = std::function<void(bool ok, address_list)>;

/// Name lookups off the poster's thread. getaddrinfo blocks and cannot be
/// cancelled, and Asio runs every lookup of an io_context on one thread, so
/// one name whose DNS server never answers would stall every other
/// delivery. Here each name gets a thread of its own while it is being
/// looked up (requests for a name already in flight share its answer), and
/// answers come back to the poster's io_context. A lookup still blocked when
/// the poster goes away finishes on its own and is dropped.
class lookups : public std::enable_shared_from_this<lookups> {
public:
  explicit lookups(asio::io_context& ioc) : ioc_(&ioc) {}

  /// Called on the poster's thread.
  void resolve(const std::string& host, lookup_done done) {
    std::lock_guard lk(mu_);
    auto& waiting = pending_[host];
    waiting.push_back(std::move(done));
    if (waiting.size() > 1)
      return; // a lookup of this name is already running
    std::thread([self = shared_from_this(), host] { self->run(host); }).detach();
  }

  /// The poster is going away: answers are dropped from now on.
  void close() {
    std::lock_guard lk(mu_);
    ioc_ = nullptr;
    pending_.clear();
  }

private:
  void run(const std::string& host) {
    address_list out;
    const bool ok = resolve_host(host, out);
    std::lock_guard lk(mu_);
    auto it = pending_.find(host);
    if (ioc_ == nullptr || it == pending_.end())
      return;
    auto waiters = std::move(it->second);
    pending_.erase(it);
    asio::post(*ioc_, [waiters = std::move(waiters), ok, out = std::move(out)] {
      for (auto& w : waiters)
        w(ok && !out.empty(), out);
    });
  }

  std::mutex mu_;
  asio::io_context* ioc_; ///< null once closed
  std::map<std::string, std::vector<lookup_done>> pending_;
};

/// One POST: resolve, check, connect, (handshake), write, read the head.
class exchange : public std::enable_shared_from_this<exchange> {
public:
  exchange(asio::io_context& ioc, std::shared_ptr<lookups> names, post_request req,
           std::function<void(post_result)> done)
      : req_(std::move(req)), done_(std::move(done)), names_(std::move(names)), deadline_(ioc) {
    if (req_.target.tls)
      tls_.emplace(ioc, client_tls());
    else
      plain_.emplace(ioc);
  }

  void start() {
    deadline_.expires_after(req_.timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->timed_out();
    });
    if (req_.target.host_is_ip) {
      beast::error_code ec;
      auto a = asio::ip::make_address(req_.target.host, ec);
      return on_resolve(!ec, address_list{a});
    }
    names_->resolve(req_.target.host, [self = shared_from_this()](bool ok, address_list a) {
      self->on_resolve(ok, std::move(a));
    });
  }

private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void finish(unsigned status, std::string error) {
    if (finished_)
      return;
    finished_ = true;
    deadline_.cancel();
    beast::error_code ignored;
    lowest().socket().close(ignored);
    post_result r;
    r.status = status;
    r.error = std::move(error);
    done_(std::move(r));
  }

  void timed_out() { finish(0, "timed out"); }

  void on_resolve(bool ok, const address_list& addresses) {
    if (finished_)
      return;
    if (!ok)
      return finish(0, "cannot resolve the host");
    for (auto& a : addresses)
      if (allowed(a, req_.allow_private))
        endpoints_.emplace_back(a, req_.target.port);
    if (endpoints_.empty())
      return finish(0, "address not allowed");
    lowest().async_connect(endpoints_,
                           [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                             self->on_connect(ec);
                           });
  }

  void on_connect(beast::error_code ec) {
    if (finished_)
      return;
    if (ec)
      return finish(0, describe(ec));
    if (!tls_)
      return send();
    expect_host(*tls_, req_.target);
    tls_->async_handshake(ssl::stream_base::client,
                          [self = shared_from_this()](beast::error_code ec) {
                            if (self->finished_)
                              return;
                            if (ec)
                              return self->finish(0, describe(ec));
                            self->send();
                          });
  }

  void send() {
    request_.method(bhttp::verb::post);
    request_.target(req_.target.target);
    request_.version(11);
    request_.set(bhttp::field::host, req_.target.authority());
    request_.set(bhttp::field::content_type, req_.content_type);
    request_.set(bhttp::field::connection, "close");
    for (auto& [name, value] : req_.headers)
      request_.set(name, value);
    request_.body() = std::move(req_.body);
    request_.prepare_payload();
    auto on_written = [self = shared_from_this()](beast::error_code ec, size_t) {
      if (self->finished_)
        return;
      if (ec)
        return self->finish(0, describe(ec));
      self->read();
    };
    if (tls_)
      bhttp::async_write(*tls_, request_, std::move(on_written));
    else
      bhttp::async_write(*plain_, request_, std::move(on_written));
  }

  void read() {
    parser_.body_limit(64 * 1024);
    auto on_head = [self = shared_from_this()](beast::error_code ec, size_t) {
      if (self->finished_)
        return;
      if (ec)
        return self->finish(0, describe(ec));
      self->finish(self->parser_.get().result_int(), {});
    };
    if (tls_)
      bhttp::async_read_header(*tls_, buffer_, parser_, std::move(on_head));
    else
      bhttp::async_read_header(*plain_, buffer_, parser_, std::move(on_head));
  }

  post_request req_;
  std::function<void(post_result)> done_;
  std::shared_ptr<lookups> names_;
  asio::steady_timer deadline_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::vector<tcp::endpoint> endpoints_;
  bhttp::request<bhttp::string_body> request_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::empty_body> parser_;
  bool finished_ = false;
};

} // namespace

struct http_poster::impl {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
  std::shared_ptr<lookups> names = std::make_shared<lookups>(ioc);
  std::thread thread;

  impl() {
    thread = std::thread([this] { ioc.run(); });
  }
  ~impl() {
    names->close();
    work.reset();
    ioc.stop();
    if (thread.joinable())
      thread.join();
  }
};

http_poster::http_poster() : impl_(std::make_unique<impl>()) {}
http_poster::~http_poster() = default;

void http_poster::post(post_request req, std::function<void(post_result)> done) {
  asio::post(impl_->ioc, [this, req = std::move(req), done = std::move(done)]() mutable {
    std::make_shared<exchange>(impl_->ioc, impl_->names, std::move(req), std::move(done))->start();
  });
}

} // namespace hlsgate::net
