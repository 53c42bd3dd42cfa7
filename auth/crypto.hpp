// Small, allocation-aware crypto helpers over OpenSSL 3 (EVP APIs only).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_st;
using EVP_MD = evp_md_st; // <openssl/types.h>

namespace hlsgate::auth {

/// 128 random bits from the OS CSPRNG, base64url without padding (22 chars).
std::string random_id();

/// `n` random bytes (RAND_bytes).
std::string random_bytes(size_t n);

/// Lower-case hex SHA-256 of `data` (64 chars).
std::string sha256_hex(std::string_view data);

/// Compares in time independent of where the inputs first differ.
/// Inputs of different length compare unequal (length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// RFC 4648 §5 base64url alphabet.
inline constexpr char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// True for a character of that alphabet.
constexpr bool is_base64url_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

/// RFC 4648 §5 base64url, no padding.
std::string base64url_encode(std::string_view bytes);
/// Appends the encoding to `out` (no allocation if `out` has capacity).
void base64url_encode(std::string_view bytes, std::string& out);
/// Canonical decoding only: false on characters outside the alphabet, on
/// padding ("=") and on non-zero trailing bits, so every byte string has
/// exactly one accepted encoding (RFC 7515 §2).
bool base64url_decode(std::string_view text, std::string& out);

/// Raw 16-byte MD5 (EVP_Digest).
std::array<unsigned char, 16> md5(std::string_view data);
/// OpenSSL's MD5, fetched once (no locked implicit fetch per digest);
/// throws std::runtime_error when OpenSSL has none.
const EVP_MD* md5_digest();

/// Pre-keyed HMAC-SHA256. The key schedule is computed once; `sign` dups the
/// keyed context (≈1 µs), so one instance is cheap to use per request.
/// Thread-safe for concurrent `sign` calls.
class hmac_sha256 {
public:
  explicit hmac_sha256(std::string_view key);
  ~hmac_sha256();
  hmac_sha256(const hmac_sha256&) = delete;
  hmac_sha256& operator=(const hmac_sha256&) = delete;

  std::array<unsigned char, 32> sign(std::string_view data) const;

private:
  void* ctx_ = nullptr; // EVP_MAC_CTX*, kept out of the header
};

} // namespace hlsgate::auth
