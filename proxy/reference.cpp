#include "proxy/reference.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

#include "auth/keys.hpp"

namespace hlsgate::proxy {

namespace {

// Payload layout (all integers big-endian), version 1 for a whole resource:
//   version(1) = 1 | kind(1) | expires(8, two's complement) |
//   client length(1) | client | URL length(2) | URL
// version 2 for a byte range: the same, then | first(8) | last(8).
constexpr unsigned char payload_version = 1, ranged_version = 2;

void put64(std::string& buf, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8)
    buf += static_cast<char>((u >> shift) & 0xff);
}

int64_t get64(const unsigned char* p) {
  uint64_t u = 0;
  for (size_t i = 0; i < 8; ++i)
    u = (u << 8) | p[i];
  return static_cast<int64_t>(u);
}
constexpr size_t fixed_payload = 1 + 1 + 8 + 1 + 2;
constexpr size_t nonce_size = 12, tag_size = 16;

// HKDF-SHA256 salt and labels of the two keys derived from the codec's key
// (OpenSSL's HKDF failed with an empty salt here).
constexpr std::string_view salt = "hlsgate proxy references";
constexpr std::string_view enc_info = "hlsgate/v1/proxy-reference-aes-256-gcm";
constexpr std::string_view nonce_info = "hlsgate/v1/proxy-reference-synthetic-nonce";

/// AES-256-GCM, fetched once (no implicit fetch per call).
const EVP_CIPHER* aes_gcm() {
  static const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (c == nullptr)
    throw std::runtime_error("OpenSSL: cannot fetch AES-256-GCM");
  return c;
}

/// One cipher context per thread, re-initialised per call.
EVP_CIPHER_CTX* cipher_ctx() {
  struct holder {
    EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
    ~holder() { EVP_CIPHER_CTX_free(p); }
  };
  thread_local holder h;
  if (h.p == nullptr)
    throw std::runtime_error("OpenSSL: EVP_CIPHER_CTX_new failed");
  return h.p;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string derive(std::string_view key, std::string_view info) {
  if (key.size() != 32)
    throw std::invalid_argument("proxy reference key must be 32 bytes");
  return auth::hkdf_sha256(key, salt, info, 32);
}

bool valid_kind(unsigned v) {
  return v <= static_cast<unsigned>(ref_kind::map);
}

} // namespace

reference_codec::reference_codec(std::string_view key)
    : enc_key_(derive(key, enc_info)), nonce_mac_(derive(key, nonce_info)) {}

std::string reference_codec::seal(std::string_view stream_id, const ref_payload& p) const {
  const bool ranged = p.range_first >= 0;
  if (p.client.size() > max_client || p.url.size() > max_url ||
      !valid_kind(static_cast<unsigned>(p.kind)) ||
      stream_id.find('\0') != std::string_view::npos || (ranged && p.range_last < p.range_first))
    throw std::invalid_argument("proxy reference payload out of bounds");

  // stream id || 0 || payload: the nonce's input, the payload a view into it.
  std::string buf;
  buf.reserve(stream_id.size() + 1 + fixed_payload + p.client.size() + p.url.size());
  buf += stream_id;
  buf += '\0';
  const size_t at = buf.size();
  buf += static_cast<char>(ranged ? ranged_version : payload_version);
  buf += static_cast<char>(p.kind);
  put64(buf, p.expires);
  buf += static_cast<char>(p.client.size());
  buf += p.client;
  buf += static_cast<char>(p.url.size() >> 8);
  buf += static_cast<char>(p.url.size() & 0xff);
  buf += p.url;
  if (ranged) {
    put64(buf, p.range_first);
    put64(buf, p.range_last);
  }
  const std::string_view payload = std::string_view{buf}.substr(at);
  const auto mac = nonce_mac_.sign(buf);

  std::string raw(nonce_size + payload.size() + tag_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  std::memcpy(out, mac.data(), nonce_size);
  EVP_CIPHER_CTX* ctx = cipher_ctx();
  int len = 0, fin = 0;
  const bool ok = EVP_EncryptInit_ex2(ctx, aes_gcm(), bytes(enc_key_), out, nullptr) == 1 &&
                  EVP_EncryptUpdate(ctx, nullptr, &len, bytes(stream_id),
                                    static_cast<int>(stream_id.size())) == 1 &&
                  EVP_EncryptUpdate(ctx, out + nonce_size, &len, bytes(payload),
                                    static_cast<int>(payload.size())) == 1 &&
                  static_cast<size_t>(len) == payload.size() &&
                  EVP_EncryptFinal_ex(ctx, out + nonce_size + len, &fin) == 1 && fin == 0 &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size),
                                      out + nonce_size + payload.size()) == 1;
  if (!ok)
    throw std::runtime_error("OpenSSL: AES-256-GCM encryption failed");
  std::string ref;
  ref.reserve((raw.size() * 4 + 2) / 3);
  auth::base64url_encode(raw, ref);
  return ref;
}

bool reference_codec::open(std::string_view stream_id, std::string_view ref, int64_t now,
                           ref_payload& out) const {
  if (ref.size() > max_ref || stream_id.find('\0') != std::string_view::npos)
    return false;
  try {
    thread_local std::string raw, plain;
    if (!auth::base64url_decode(ref, raw) || raw.size() < nonce_size + fixed_payload + tag_size)
      return false;
    const size_t n = raw.size() - nonce_size - tag_size;
    auto* in = reinterpret_cast<unsigned char*>(raw.data());
    plain.resize(n);
    auto* pt = reinterpret_cast<unsigned char*>(plain.data());
    EVP_CIPHER_CTX* ctx = cipher_ctx();
    int len = 0, fin = 0;
    const bool ok = EVP_DecryptInit_ex2(ctx, aes_gcm(), bytes(enc_key_), in, nullptr) == 1 &&
                    EVP_DecryptUpdate(ctx, nullptr, &len, bytes(stream_id),
                                      static_cast<int>(stream_id.size())) == 1 &&
                    EVP_DecryptUpdate(ctx, pt, &len, in + nonce_size, static_cast<int>(n)) == 1 &&
                    static_cast<size_t>(len) == n &&
                    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size),
                                        in + nonce_size + n) == 1 &&
                    EVP_DecryptFinal_ex(ctx, pt + len, &fin) == 1 && fin == 0;
    if (!ok)
      return false;

    // Authentic: only seal() wrote it, but the layout is checked all the same.
    if ((pt[0] != payload_version && pt[0] != ranged_version) || !valid_kind(pt[1]))
      return false;
    const size_t tail = pt[0] == ranged_version ? 16 : 0;
    const int64_t expires = get64(pt + 2);
    const size_t client_len = pt[10];
    if (client_len > max_client || 11 + client_len + 2 > n)
      return false;
    const size_t url_at = 11 + client_len + 2;
    const size_t url_len = (size_t{pt[url_at - 2]} << 8) | pt[url_at - 1];
    if (url_len > max_url || url_at + url_len + tail != n)
      return false;
    if (expires <= now)
      return false;
    out.range_first = out.range_last = -1;
    if (tail) {
      out.range_first = get64(pt + url_at + url_len);
      out.range_last = get64(pt + url_at + url_len + 8);
      if (out.range_first < 0 || out.range_last < out.range_first)
        return false;
    }
    out.kind = static_cast<ref_kind>(pt[1]);
    out.expires = expires;
    out.client.assign(plain, 11, client_len);
    out.url.assign(plain, url_at, url_len);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace hlsgate::proxy
