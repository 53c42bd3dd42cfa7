#include "net/address_policy.hpp"

#include <array>
#include <cstdint>

namespace hlsgate::net {

namespace {

using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

struct v4_range {
  uint32_t net;
  int bits;
  address_kind kind;
};

constexpr uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// First match wins (more specific ranges first).
constexpr v4_range v4_ranges[] = {
    {ip(255, 255, 255, 255), 32, address_kind::reserved},
    {ip(0, 0, 0, 0), 8, address_kind::unspecified},
    {ip(10, 0, 0, 0), 8, address_kind::private_net},
    {ip(100, 64, 0, 0), 10, address_kind::private_net},
    {ip(127, 0, 0, 0), 8, address_kind::loopback},
    {ip(169, 254, 0, 0), 16, address_kind::link_local},
    {ip(172, 16, 0, 0), 12, address_kind::private_net},
    {ip(192, 0, 0, 0), 24, address_kind::reserved},   // IETF protocol assignments
    {ip(192, 0, 2, 0), 24, address_kind::reserved},   // TEST-NET-1
    {ip(192, 88, 99, 0), 24, address_kind::reserved}, // 6to4 relay anycast
    {ip(192, 168, 0, 0), 16, address_kind::private_net},
    {ip(198, 18, 0, 0), 15, address_kind::reserved},   // benchmarking
    {ip(198, 51, 100, 0), 24, address_kind::reserved}, // TEST-NET-2
    {ip(203, 0, 113, 0), 24, address_kind::reserved},  // TEST-NET-3
    {ip(224, 0, 0, 0), 4, address_kind::multicast},
    {ip(240, 0, 0, 0), 4, address_kind::reserved},
};

address_kind classify_v4(uint32_t a) {
  for (auto& r : v4_ranges) {
    const uint32_t mask = r.bits == 0 ? 0 : ~uint32_t{0} << (32 - r.bits);
    if ((a & mask) == r.net)
      return r.kind;
  }
  return address_kind::global;
}

uint32_t v4_at(const address_v6::bytes_type& b, size_t i) {
  return (uint32_t{b[i]} << 24) | (uint32_t{b[i + 1]} << 16) | (uint32_t{b[i + 2]} << 8) |
         uint32_t{b[i + 3]};
}

address_kind classify_v6(const address_v6& a) {
  const auto b = a.to_bytes();
  bool zero10 = true;
  for (size_t i = 0; i < 10; ++i)
    zero10 = zero10 && b[i] == 0;
  if (zero10 && b[10] == 0xff && b[11] == 0xff) // ::ffff:a.b.c.d
    return classify_v4(v4_at(b, 12));
  if (a.is_unspecified())
    return address_kind::unspecified;
  if (a.is_loopback())
    return address_kind::loopback;
  if (zero10 && b[10] == 0 && b[11] == 0) // ::a.b.c.d (deprecated compatible form)
    return address_kind::reserved;
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) { // 64:ff9b::/96 NAT64
    bool zero = true;
    for (size_t i = 4; i < 12; ++i)
      zero = zero && b[i] == 0;
    return zero ? classify_v4(v4_at(b, 12)) : address_kind::reserved;
  }
  if (b[0] == 0x20 && b[1] == 0x02) // 2002::/16 6to4
    return classify_v4(v4_at(b, 2));
  if ((b[0] & 0xfe) == 0xfc)
    return address_kind::private_net;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
    return address_kind::link_local;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) // site-local (deprecated)
    return address_kind::private_net;
  if (b[0] == 0xff)
    return address_kind::multicast;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) // 2001:db8::/32
    return address_kind::reserved;
  if (b[0] == 0x01 && b[1] == 0x00 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 &&
      b[6] == 0 && b[7] == 0) // 100::/64 discard
    return address_kind::reserved;
  if ((b[0] & 0xe0) != 0x20) // outside 2000::/3, the global unicast space
    return address_kind::reserved;
  return address_kind::global;
}

} // namespace

address_kind classify(const boost::asio::ip::address& a) {
  if (a.is_v4())
    return classify_v4(a.to_v4().to_uint());
  return classify_v6(a.to_v6());
}

bool allowed(const boost::asio::ip::address& a, bool allow_private) {
  switch (classify(a)) {
  case address_kind::global:
    return true;
  case address_kind::loopback:
  case address_kind::private_net:
    return allow_private;
  default:
    return false;
  }
}

std::string_view to_string(address_kind k) {
  switch (k) {
  case address_kind::global:
    return "global";
  case address_kind::loopback:
    return "loopback";
  case address_kind::private_net:
    return "private";
  case address_kind::link_local:
    return "link-local";
  case address_kind::unspecified:
    return "unspecified";
  case address_kind::multicast:
    return "multicast";
  case address_kind::reserved:
    return "reserved";
  }
  return "reserved";
}

} // namespace hlsgate::net
