// What the outbound HTTP clients of hlsgate_net share: a blocking name
// lookup and the short words an error becomes in a status or a log line.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

namespace hlsgate::net {

using address_list = std::vector<boost::asio::ip::address>;

/// Every address of `host` (getaddrinfo: blocks, cannot be cancelled).
/// False when the lookup fails or finds nothing.
bool resolve_host(const std::string& host, address_list& out);

/// A short description of a connection error: "timed out", "TLS: ...",
/// "connection refused", ...
std::string describe(const boost::system::error_code& ec);

} // namespace hlsgate::net
