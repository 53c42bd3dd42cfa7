// URLs, the address policy, and outbound POSTs and GETs against listeners on
// 127.0.0.1.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "net/address_policy.hpp"
#include "net/http_get.hpp"
#include "net/http_post.hpp"
#include "net/url.hpp"

namespace hlsgate::net {
namespace {

std::optional<url> parse(std::string_view s) {
  std::string why;
  auto u = parse_url(s, why);
  if (!u) {
    EXPECT_FALSE(why.empty()) << s;
  }
  return u;
}

TEST(url, accepts_http_and_https_urls) {
  auto u = parse("HTTPS://Hooks.Example.COM/a/b?x=1&y=%20");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/a/b?x=1&y=%20");
  EXPECT_FALSE(u->host_is_ip);
  EXPECT_EQ(u->authority(), "hooks.example.com");
  u = parse("http://127.0.0.1:8080");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/");
  EXPECT_TRUE(u->host_is_ip);
  EXPECT_EQ(u->authority(), "127.0.0.1:8080");
  u = parse("http://[::1]:9000?q");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/?q");
  EXPECT_EQ(u->authority(), "[::1]:9000");
  u = parse("http://hls_gate:8000/");
  ASSERT_TRUE(u) << "compose service names have underscores";
  EXPECT_EQ(u->host, "hls_gate");
  u = parse("http://[0:0:0:0:0:0:0:1]/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1") << "IP literals are compared in their canonical form";
}

TEST(url, refuses_what_could_name_something_else) {
  for (std::string_view bad : {"ftp://h/",
                               "file:///etc/passwd",
                               "gopher://h",
                               "//h/x",
                               "h/x",
                               "http://",
                               "http:///x",
                               "http://user:pw@h/",
                               "http://h@evil/",
                               "http://h/x#frag",
                               "http://h /",
                               "http://h/\x01",
                               "http://h:0/",
                               "http://h:65536/",
                               "http://h:/",
                               "http://h:8o/",
                               "http://[::1/",
                               "http://[::1]x/",
                               "http://[fe80::1%25eth0]/",
                               "http://2130706433/",
                               "http://127.1/",
                               "http://0x7f.0.0.1/",
                               "http://a.0x7f/",
                               "http://example.123/",
                               "http://-h/",
                               "http://a..b/",
                               "http://example.com./",
                               "http://localhost./",
                               "http://h\xc3\xa9/"}) {
    EXPECT_FALSE(parse(bad)) << bad;
  }
  EXPECT_FALSE(parse("http://h/" + std::string(2048, 'a')));
}

boost::asio::ip::address addr(const char* s) {
  return boost::asio::ip::make_address(s);
}

TEST(address_policy, classifies_v4_and_v6) {
  struct {
    const char* a;
    address_kind k;
  } cases[] = {
      {"8.8.8.8", address_kind::global},
      {"1.1.1.1", address_kind::global},
      {"127.0.0.1", address_kind::loopback},
      {"127.255.1.2", address_kind::loopback},
      {"10.1.2.3", address_kind::private_net},
      {"172.16.0.1", address_kind::private_net},
      {"172.31.255.255", address_kind::private_net},
      {"172.32.0.1", address_kind::global},
      {"192.168.1.1", address_kind::private_net},
      {"100.64.0.1", address_kind::private_net},
      {"169.254.169.254", address_kind::link_local},
      {"0.0.0.0", address_kind::unspecified},
      {"0.1.2.3", address_kind::unspecified},
      {"224.0.0.1", address_kind::multicast},
      {"240.0.0.1", address_kind::reserved},
      {"255.255.255.255", address_kind::reserved},
      {"192.0.2.1", address_kind::reserved},
      {"198.18.0.1", address_kind::reserved},
      {"2606:4700::1111", address_kind::global},
      {"::1", address_kind::loopback},
      {"::", address_kind::unspecified},
      {"fd00::1", address_kind::private_net},
      {"fe80::1", address_kind::link_local},
      {"ff02::1", address_kind::multicast},
      {"2001:db8::1", address_kind::reserved},
      {"::ffff:127.0.0.1", address_kind::loopback},
      {"::ffff:169.254.169.254", address_kind::link_local},
      {"::ffff:8.8.8.8", address_kind::global},
      {"64:ff9b::a9fe:a9fe", address_kind::link_local}, // NAT64 of 169.254.169.254
      {"2002:7f00:1::", address_kind::loopback},        // 6to4 of 127.0.0.1
      {"::127.0.0.1", address_kind::reserved},
      {"4000::1", address_kind::reserved},
  };
  for (auto& c : cases)
    EXPECT_EQ(classify(addr(c.a)), c.k) << c.a << " is " << to_string(classify(addr(c.a)));
  EXPECT_TRUE(allowed(addr("8.8.8.8"), false));
  EXPECT_FALSE(allowed(addr("127.0.0.1"), false));
  EXPECT_TRUE(allowed(addr("127.0.0.1"), true));
  EXPECT_TRUE(allowed(addr("10.0.0.1"), true));
  EXPECT_FALSE(allowed(addr("0.0.0.0"), true)) << "0.0.0.0 reaches the local host on Linux";
  EXPECT_FALSE(allowed(addr("169.254.169.254"), true)) << "cloud metadata, even when private is on";
  EXPECT_FALSE(allowed(addr("fe80::1"), true));
  EXPECT_FALSE(allowed(addr("::ffff:169.254.169.254"), true));
  EXPECT_FALSE(allowed(addr("224.0.0.1"), true));
}

/// A listener on 127.0.0.1 that answers each connection with `reply` after
/// reading the request head (or never answers when `reply` is empty).
class listener {
public:
  /// `hold`: keep the connection open after the reply, until the client closes it.
  explicit listener(std::string reply, bool hold = false) : reply_(std::move(reply)), hold_(hold) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~listener() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::string request() { return got_.get_future().get(); }

private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0)
      return;
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      auto n = ::read(c, buf, sizeof buf);
      if (n <= 0)
        break;
      in.append(buf, static_cast<size_t>(n));
    }
    got_.set_value(in);
    if (!reply_.empty()) {
      auto w = ::write(c, reply_.data(), reply_.size());
      (void)w;
    }
    if (reply_.empty() || hold_) {
      while (::read(c, buf, sizeof buf) > 0) {
      } // hold the connection until the client gives up
    }
    ::close(c);
  }
  std::string reply_;
  bool hold_ = false;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::promise<std::string> got_;
};

post_result post_to(http_poster& p, const std::string& u, bool allow_private,
                    std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
  std::string why;
  post_request r;
  r.target = *parse_url(u, why);
  r.body = R"({"a":1})";
  r.headers = {{"X-Test", "yes"}};
  r.allow_private = allow_private;
  r.timeout = timeout;
  std::promise<post_result> done;
  p.post(std::move(r), [&done](post_result res) { done.set_value(std::move(res)); });
  return done.get_future().get();
}

TEST(http_poster, posts_and_reports_the_status) {
  http_poster p;
  listener ok{"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"};
  auto r = post_to(p, "http://127.0.0.1:" + std::to_string(ok.port()) + "/hook?x=1", true);
  EXPECT_EQ(r.status, 204u) << r.error;
  auto req = ok.request();
  EXPECT_EQ(req.rfind("POST /hook?x=1 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("X-Test: yes\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Content-Length: 7\r\n"), std::string::npos) << req;
  // A redirect is an answer, not something to follow.
  listener moved{"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\n"
                 "Content-Length: 0\r\n\r\n"};
  EXPECT_EQ(post_to(p, "http://127.0.0.1:" + std::to_string(moved.port()) + "/", true).status,
            302u);
}

TEST(http_poster, refuses_private_targets_times_out_and_reports_refusals) {
  http_poster p;
  listener l{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
  const std::string target = "http://127.0.0.1:" + std::to_string(l.port()) + "/";
  auto r = post_to(p, target, false);
  EXPECT_EQ(r.status, 0u);
  EXPECT_EQ(r.error, "address not allowed");
  // "localhost" is a name: judged by what it resolves to.
  r = post_to(p, "http://localhost:" + std::to_string(l.port()) + "/", false);
  EXPECT_EQ(r.error, "address not allowed");
  EXPECT_EQ(post_to(p, target, true).status, 200u) << "allowed when private targets are";

  listener silent{""};
  auto t0 = std::chrono::steady_clock::now();
  r = post_to(p, "http://127.0.0.1:" + std::to_string(silent.port()) + "/", true,
              std::chrono::milliseconds{300});
  EXPECT_EQ(r.status, 0u);
  EXPECT_EQ(r.error, "timed out");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{3});
}

TEST(url, resolves_references_against_a_base) {
  auto base = *parse("https://cdn.example:8443/live/a/index.m3u8?token=x");
  auto ref = [&](std::string_view r) {
    std::string why;
    auto u = resolve_reference(base, r, why);
    return u ? u->text() : "refused: " + why;
  };
  EXPECT_EQ(ref("seg1.ts?s=1"), "https://cdn.example:8443/live/a/seg1.ts?s=1");
  EXPECT_EQ(ref("/other/x.ts"), "https://cdn.example:8443/other/x.ts");
  EXPECT_EQ(ref("//mirror.example/y.ts"), "https://mirror.example/y.ts");
  EXPECT_EQ(ref("http://plain.example/z.ts#frag"), "http://plain.example/z.ts");
  EXPECT_EQ(ref("?token=y"), "https://cdn.example:8443/live/a/index.m3u8?token=y");
  EXPECT_EQ(ref(""), base.text());
  EXPECT_EQ(ref("file:///etc/passwd").rfind("refused: ", 0), 0u);
  EXPECT_EQ(ref("crypto+http://a/b").rfind("refused: ", 0), 0u);
  EXPECT_EQ(ref("http://user@a/b").rfind("refused: ", 0), 0u);
  EXPECT_EQ(ref("a b.ts").rfind("refused: ", 0), 0u);
}

/// Opens `u` with the reader and reads its whole body (or fails).
struct fetched {
  bool opened = false;
  std::string body, error;
};
fetched fetch(const std::string& u, get_request r = {}) {
  std::string why;
  r.target = *parse_url(u, why);
  fetched f;
  auto reader = http_reader::open(std::move(r), why);
  if (!reader) {
    f.error = why;
    return f;
  }
  f.opened = true;
  uint8_t buf[7]; // small reads: the body comes in several
  for (;;) {
    const long n = reader->read(buf, sizeof buf);
    if (n < 0) {
      f.error = reader->error();
      break;
    }
    if (n == 0)
      break;
    f.body.append(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
  }
  return f;
}

std::string at(const listener& l, const std::string& path = "/") {
  return "http://127.0.0.1:" + std::to_string(l.port()) + path;
}

TEST(http_reader, reads_bodies_follows_checked_redirects_and_sends_ranges) {
  get_request open;
  open.allow_private = true;
  listener chunked{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n9\r\n, chunked\r\n0\r\n\r\n"};
  auto f = fetch(at(chunked, "/a.m3u8"), open);
  EXPECT_EQ(f.body, "hello, chunked") << f.error;
  EXPECT_EQ(chunked.request().rfind("GET /a.m3u8 HTTP/1.1\r\n", 0), 0u);

  listener target{"HTTP/1.1 206 Partial Content\r\nContent-Length: 4\r\n\r\nbody"};
  listener moved{"HTTP/1.1 302 Found\r\nLocation: " + at(target, "/b.ts") +
                 "\r\nContent-Length: 0\r\n\r\n"};
  get_request ranged = open;
  ranged.range_first = 10;
  ranged.range_last = 13;
  ranged.headers = {{"Authorization", "Bearer s3cret"}, {"User-Agent", "ua-test"}};
  f = fetch(at(moved), ranged);
  EXPECT_EQ(f.body, "body") << f.error;
  auto req = target.request();
  EXPECT_EQ(req.rfind("GET /b.ts HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Range: bytes=10-13\r\n"), std::string::npos) << req;
  // The caller's headers went to the origin it named; another origin (a
  // redirect elsewhere) gets the User-Agent only.
  EXPECT_NE(moved.request().find("Authorization: Bearer s3cret\r\n"), std::string::npos);
  EXPECT_EQ(req.find("s3cret"), std::string::npos) << req;
  EXPECT_NE(req.find("User-Agent: ua-test\r\n"), std::string::npos) << req;

  // A range from byte 0 may come back whole; a redirect must say where.
  listener whole{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwhole"};
  get_request from_zero = open;
  from_zero.range_first = 0;
  from_zero.range_last = 4;
  f = fetch(at(whole), from_zero);
  EXPECT_EQ(f.body, "whole") << f.error;
  listener nowhere{"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n"};
  f = fetch(at(nowhere), open);
  EXPECT_EQ(f.error, "redirect without a location");

  // Each hop is checked again: a redirect to the cloud metadata address is
  // refused even where private addresses are allowed, and so is a scheme
  // libav would open.
  for (const std::string location :
       {"http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "gopher://127.0.0.1/"}) {
    listener bad{"HTTP/1.1 301 Moved\r\nLocation: " + location + "\r\nContent-Length: 0\r\n\r\n"};
    f = fetch(at(bad), open);
    EXPECT_FALSE(f.opened) << location;
    EXPECT_NE(f.error.find(location[0] == 'h' ? "address not allowed" : "redirect refused"),
              std::string::npos)
        << location << ": " << f.error;
  }
}

TEST(http_reader, refuses_private_addresses_errors_and_oversized_bodies) {
  listener l{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
  EXPECT_EQ(fetch(at(l)).error, "address not allowed");
  EXPECT_EQ(fetch("http://localhost:" + std::to_string(l.port()) + "/").error,
            "address not allowed");
  get_request open;
  open.allow_private = true;
  listener missing{"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"};
  EXPECT_EQ(fetch(at(missing), open).error, "upstream answered 404");
  listener big{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x')};
  get_request small = open;
  small.max_body = 50;
  auto f = fetch(at(big), small);
  EXPECT_TRUE(f.error == "response too large") << f.error;
  listener cut{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"};
  f = fetch(at(cut), open);
  EXPECT_FALSE(f.error.empty()) << "a body cut short is an error, not an end";
}

TEST(http_reader, waits_are_bounded_and_give_way_to_cancel) {
  get_request r;
  r.allow_private = true;
  r.open_timeout = std::chrono::milliseconds{300};
  listener silent{""};
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fetch(at(silent), r).error, "timed out");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{3});

  // A stream that stops sending: the read gives up after the idle timeout.
  listener stalled{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", true};
  get_request idle = r;
  idle.idle_timeout = std::chrono::milliseconds{300};
  t0 = std::chrono::steady_clock::now();
  auto f = fetch(at(stalled), idle);
  EXPECT_EQ(f.body, "abc");
  EXPECT_EQ(f.error, "timed out");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{3});

  listener held{""};
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  get_request c;
  c.allow_private = true;
  c.cancel = cancel;
  std::thread stopper([&] {
    held.request(); // the GET arrived
    cancel->store(true);
  });
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fetch(at(held), c).error, "cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{3});
  stopper.join();
}

} // namespace
} // namespace hlsgate::net
