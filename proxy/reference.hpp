// Opaque references to upstream URLs for the stream proxy. A viewer's URL
// carries one as a query value instead of the upstream URL: the URL, its
// kind, the viewer's client id and an expiry, encrypted and authenticated
// (AES-256-GCM) with the id of the stream as associated data, so only the
// proxy can make one, nobody learns the upstream from it, a reference
// minted for one stream does not open for another nor after it expires, and
// the caller can refuse one presented by another viewer than its client.
// The nonce is synthetic (an HMAC of the stream id and the payload): the
// same payload always gives the same reference, which keeps rewritten
// playlists stable and cacheable. Pure (OpenSSL only, no I/O).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/crypto.hpp"
#include "proxy/rewrite.hpp"

namespace hlsgate::proxy {

struct ref_payload {
  ref_kind kind = ref_kind::segment;
  int64_t expires = 0; ///< unix seconds; open() refuses it from that second on
  std::string client;  ///< the viewer's client id (server-assigned, up to 64 bytes)
  std::string url;     ///< absolute upstream URL text (up to 4096 bytes)
  /// The bytes of `url` it names, both included; -1: the whole resource.
  int64_t range_first = -1, range_last = -1;
};

class reference_codec {
public:
  static constexpr size_t max_client = 64;
  static constexpr size_t max_url = 4096;
  static constexpr size_t max_ref = 8192; ///< longer references are refused undecoded

  /// `key`: 32 raw bytes (std::invalid_argument otherwise). The cipher and
  /// nonce keys are derived from it with HKDF-SHA256 under labels of their own.
  explicit reference_codec(std::string_view key);

  /// base64url of nonce(12) || ciphertext || tag(16). Throws
  /// std::invalid_argument for a payload out of bounds (client or URL too
  /// long, kind outside the enum) or a stream id holding a NUL byte.
  std::string seal(std::string_view stream_id, const ref_payload& p) const;

  /// Fills `out` and returns true only for a reference seal() made for
  /// `stream_id` that has not expired at `now`; false for anything
  /// tampered, truncated, for another stream, of unknown kind or expired.
  bool open(std::string_view stream_id, std::string_view ref, int64_t now, ref_payload& out) const;

private:
  std::string enc_key_; ///< AES-256 key
  auth::hmac_sha256 nonce_mac_;
};

} // namespace hlsgate::proxy
