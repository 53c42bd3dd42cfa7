#include "auth/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace hlsgate::auth {

namespace {

// 0..63 for alphabet characters, 0xff otherwise.
struct decode_table {
  unsigned char v[256];
  constexpr decode_table() : v() {
    for (auto& x : v)
      x = 0xff;
    for (int i = 0; i < 64; ++i)
      v[static_cast<unsigned char>(base64url_alphabet[i])] = static_cast<unsigned char>(i);
  }
};
constexpr decode_table b64url_decode_table{};

/// Explicitly fetched digests: avoids the implicit fetch (a locked lookup)
/// that EVP_md5()/EVP_sha256() incur on every EVP_DigestInit in OpenSSL 3.
const EVP_MD* fetched_md(const char* name) {
  const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr)
    throw std::runtime_error(std::string("OpenSSL: cannot fetch digest ") + name);
  return md;
}

const EVP_MD* sha256_md() {
  static const EVP_MD* md = fetched_md("SHA256");
  return md;
}

} // namespace

const EVP_MD* md5_digest() {
  static const EVP_MD* md = fetched_md("MD5");
  return md;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL: RAND_bytes failed");
  return out;
}

std::string random_id() {
  unsigned char buf[16];
  if (RAND_bytes(buf, sizeof buf) != 1)
    throw std::runtime_error("OpenSSL: RAND_bytes failed");
  std::string out;
  out.reserve(22);
  base64url_encode(std::string_view(reinterpret_cast<const char*>(buf), sizeof buf), out);
  OPENSSL_cleanse(buf, sizeof buf);
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[32];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, sha256_md(), nullptr) != 1 || len != 32)
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(64, '\0');
  for (size_t i = 0; i < 32; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0x0f];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  if (a.empty())
    return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void base64url_encode(std::string_view bytes, std::string& out) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  const size_t old = out.size();
  out.resize(old + (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1));
  char* p = out.data() + old;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    p[0] = base64url_alphabet[(v >> 18) & 63];
    p[1] = base64url_alphabet[(v >> 12) & 63];
    p[2] = base64url_alphabet[(v >> 6) & 63];
    p[3] = base64url_alphabet[v & 63];
    p += 4;
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{in[i]} << 16;
    p[0] = base64url_alphabet[(v >> 18) & 63];
    p[1] = base64url_alphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    p[0] = base64url_alphabet[(v >> 18) & 63];
    p[1] = base64url_alphabet[(v >> 12) & 63];
    p[2] = base64url_alphabet[(v >> 6) & 63];
  }
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  base64url_encode(bytes, out);
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  // Canonical form only (RFC 7515 §2): no padding, no trailing bits; '='
  // is not in the alphabet, so a padded input fails below.
  const size_t n = text.size();
  const size_t rem = n % 4;
  if (rem == 1)
    return false;

  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  out.resize((n / 4) * 3 + (rem == 0 ? 0 : rem - 1));
  char* p = out.data();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const unsigned a = b64url_decode_table.v[in[i]], b = b64url_decode_table.v[in[i + 1]],
                   c = b64url_decode_table.v[in[i + 2]], d = b64url_decode_table.v[in[i + 3]];
    if ((a | b | c | d) & 0x80) {
      out.clear();
      return false;
    }
    const uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    p[0] = static_cast<char>(v >> 16);
    p[1] = static_cast<char>(v >> 8);
    p[2] = static_cast<char>(v);
    p += 3;
  }
  if (rem != 0) {
    const unsigned a = b64url_decode_table.v[in[i]], b = b64url_decode_table.v[in[i + 1]];
    const unsigned c = rem == 3 ? b64url_decode_table.v[in[i + 2]] : 0;
    // Reject invalid characters and non-zero trailing bits (non-canonical).
    if (((a | b | c) & 0x80) || (rem == 2 && (b & 0x0f)) || (rem == 3 && (c & 0x03))) {
      out.clear();
      return false;
    }
    const uint32_t v = (a << 18) | (b << 12) | (c << 6);
    p[0] = static_cast<char>(v >> 16);
    if (rem == 3)
      p[1] = static_cast<char>(v >> 8);
  }
  return true;
}

std::array<unsigned char, 16> md5(std::string_view data) {
  std::array<unsigned char, 16> digest{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, md5_digest(), nullptr) != 1 ||
      len != 16)
    throw std::runtime_error("OpenSSL: MD5 failed");
  return digest;
}

// -- hmac_sha256 --------------------------------------------------------------

hmac_sha256::hmac_sha256(std::string_view key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr)
    throw std::runtime_error("OpenSSL: cannot fetch HMAC");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac); // the context holds its own reference
  if (ctx == nullptr)
    throw std::runtime_error("OpenSSL: EVP_MAC_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  // HMAC zero-pads keys to the block size, so an empty key is the same key as
  // a single zero byte; OpenSSL refuses zero-length keys, hence the substitute.
  static const unsigned char zero = 0;
  const auto* k = key.empty() ? &zero : reinterpret_cast<const unsigned char*>(key.data());
  const size_t klen = key.empty() ? 1 : key.size();
  if (EVP_MAC_init(ctx, k, klen, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    throw std::runtime_error("OpenSSL: EVP_MAC_init failed");
  }
  ctx_ = ctx;
}

hmac_sha256::~hmac_sha256() {
  EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(ctx_));
}

std::array<unsigned char, 32> hmac_sha256::sign(std::string_view data) const {
  std::array<unsigned char, 32> out{};
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(static_cast<const EVP_MAC_CTX*>(ctx_));
  if (ctx == nullptr)
    throw std::runtime_error("OpenSSL: EVP_MAC_CTX_dup failed");
  size_t len = 0;
  const bool ok =
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == out.size();
  EVP_MAC_CTX_free(ctx);
  if (!ok)
    throw std::runtime_error("OpenSSL: HMAC-SHA256 failed");
  return out;
}

} // namespace hlsgate::auth
