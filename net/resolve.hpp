// What the outbound HTTP clients of hlsgate_net share: a blocking name
// lookup, the TLS client context and the peer check, and the short words an
// error becomes in a status or a log line.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/error_code.hpp>

#include "net/url.hpp"

namespace hlsgate::net {

using address_list = std::vector<boost::asio::ip::address>;

/// Every address of `host` (getaddrinfo: blocks, cannot be cancelled).
/// False when the lookup fails or finds nothing.
bool resolve_host(const std::string& host, address_list& out);

/// The TLS client context every outbound request uses: the system's trust
/// store, peers verified. Made once; never freed.
boost::asio::ssl::context& client_tls();

/// Before the handshake with `u`'s server: SNI for a host name, and the
/// peer's certificate must name `u.host`.
void expect_host(boost::beast::ssl_stream<boost::beast::tcp_stream>& s, const url& u);

/// A short description of a connection error: "timed out", "TLS: ...",
/// "connection refused", ...
std::string describe(const boost::system::error_code& ec);

} // namespace hlsgate::net
