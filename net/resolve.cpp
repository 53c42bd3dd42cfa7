#include "net/resolve.hpp"

#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/error.hpp>

namespace hlsgate::net {

namespace asio = boost::asio;

bool resolve_host(const std::string& host, address_list& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const bool ok = ::getaddrinfo(host.c_str(), nullptr, &hints, &res) == 0;
  for (auto* a = res; ok && a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      auto* sa = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      out.push_back(asio::ip::address_v4(ntohl(sa->sin_addr.s_addr)));
    } else if (a->ai_family == AF_INET6) {
      auto* sa = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &sa->sin6_addr, b.size());
      out.push_back(asio::ip::address_v6(b, sa->sin6_scope_id));
    }
  }
  if (res != nullptr)
    ::freeaddrinfo(res);
  return ok && !out.empty();
}

boost::asio::ssl::context& client_tls() {
  static auto* ctx = [] {
    auto* c = new asio::ssl::context(asio::ssl::context::tls_client);
    c->set_default_verify_paths();
    c->set_verify_mode(asio::ssl::verify_peer);
    return c;
  }();
  return *ctx;
}

void expect_host(boost::beast::ssl_stream<boost::beast::tcp_stream>& s, const url& u) {
  if (!u.host_is_ip)
    SSL_set_tlsext_host_name(s.native_handle(), u.host.c_str());
  s.set_verify_callback(asio::ssl::host_name_verification(u.host));
}

std::string describe(const boost::system::error_code& ec) {
  if (ec == boost::beast::error::timeout)
    return "timed out";
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category())
    return "TLS: " + ec.message();
  return ec.message();
}

} // namespace hlsgate::net
