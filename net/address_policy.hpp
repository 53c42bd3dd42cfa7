// Which IP addresses hlsgate may connect to on a user's behalf (webhook
// targets now; pull sources and proxy upstreams share the same rule): only
// globally routable unicast, unless the operator allows private targets.
// Pure.
#pragma once

#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace hlsgate::net {

enum class address_kind {
  global,      ///< routable unicast
  loopback,    ///< 127/8, ::1
  private_net, ///< RFC 1918, CGNAT 100.64/10, IPv6 ULA fc00::/7
  link_local,  ///< 169.254/16 (cloud metadata lives here), fe80::/10
  unspecified, ///< 0.0.0.0/8, ::
  multicast,   ///< 224/4, ff00::/8
  reserved,    ///< documentation, benchmarking, 240/4, broadcast, discard prefixes
};

/// The kind of `a`. IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and
/// 6to4 (2002::/16) addresses are judged by the IPv4 address they carry.
address_kind classify(const boost::asio::ip::address& a);

/// True when a connection to `a` is allowed: always for `global`; for
/// loopback and private only when `allow_private`; never for link-local
/// (169.254.169.254 is where clouds serve instance credentials),
/// unspecified, multicast or reserved addresses.
bool allowed(const boost::asio::ip::address& a, bool allow_private);

std::string_view to_string(address_kind k);

} // namespace hlsgate::net
