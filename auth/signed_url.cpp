#include "auth/signed_url.hpp"

#include "auth/crypto.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>
#include <stdexcept>

namespace hlsgate::auth {

namespace {

constexpr size_t md5_b64_len = 22; // base64url(16 bytes), no padding

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

/// One digest context per thread, reset by every EVP_DigestInit_ex2: no
/// EVP_MD_CTX allocation per signature.
EVP_MD_CTX* thread_md_ctx() {
  thread_local std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

/// MD5(expires + prefix + handle + " " + secret) as 22 base64url chars in
/// `out`. `expires` is hashed as given, like nginx's $arg_expires.
bool md5_b64(std::string_view expires, std::string_view prefix, std::string_view handle,
             std::string_view secret, char (&out)[md5_b64_len]) noexcept {
  EVP_MD_CTX* ctx = thread_md_ctx();
  const EVP_MD* md = nullptr;
  try {
    md = md5_digest();
  } catch (...) {
    return false;
  }
  unsigned char d[16];
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, expires.data(), expires.size()) != 1 ||
      EVP_DigestUpdate(ctx, prefix.data(), prefix.size()) != 1 ||
      EVP_DigestUpdate(ctx, handle.data(), handle.size()) != 1 ||
      EVP_DigestUpdate(ctx, " ", 1) != 1 ||
      EVP_DigestUpdate(ctx, secret.data(), secret.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, d, &len) != 1 || len != 16)
    return false;
  char* p = out;
  for (int i = 0; i < 15; i += 3) {
    const uint32_t v = (uint32_t{d[i]} << 16) | (uint32_t{d[i + 1]} << 8) | d[i + 2];
    *p++ = base64url_alphabet[(v >> 18) & 63];
    *p++ = base64url_alphabet[(v >> 12) & 63];
    *p++ = base64url_alphabet[(v >> 6) & 63];
    *p++ = base64url_alphabet[v & 63];
  }
  *p++ = base64url_alphabet[d[15] >> 2];
  *p = base64url_alphabet[(d[15] & 3) << 4];
  return true;
}

bool is_b64url_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

/// Non-negative decimal int64: digits only, no sign, no overflow.
bool parse_expires(std::string_view s, int64_t& v) noexcept {
  if (s.empty())
    return false;
  int64_t r = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    const int digit = c - '0';
    if (r > (std::numeric_limits<int64_t>::max() - digit) / 10)
      return false;
    r = r * 10 + digit;
  }
  v = r;
  return true;
}

} // namespace

int64_t bucketed_expiry(int64_t token_exp, int64_t deadline, int64_t bucket) noexcept {
  const int64_t end = token_exp > 0 ? std::min(token_exp, deadline) : deadline;
  if (bucket <= 0 || end <= 0)
    return end;
  const int64_t rem = end % bucket;
  if (rem == 0 || end > std::numeric_limits<int64_t>::max() - bucket)
    return end;
  return end - rem + bucket;
}

url_signer::url_signer(std::string secret) : secret_(std::move(secret)) {}

std::string url_signer::sign(std::string_view prefix, int64_t expires,
                             std::string_view handle) const {
  char num[24];
  const auto res = std::to_chars(num, num + sizeof num, expires);
  char sig[md5_b64_len];
  if (!md5_b64(std::string_view(num, static_cast<size_t>(res.ptr - num)), prefix, handle, secret_,
               sig))
    throw std::runtime_error("OpenSSL: MD5 failed");
  return std::string(sig, sizeof sig);
}

void url_signer::append_query(std::string_view prefix, int64_t expires, std::string_view handle,
                              std::string& out) const {
  char num[24];
  const auto res = std::to_chars(num, num + sizeof num, expires);
  const std::string_view exp(num, static_cast<size_t>(res.ptr - num));
  char sig[md5_b64_len];
  if (!md5_b64(exp, prefix, handle, secret_, sig))
    throw std::runtime_error("OpenSSL: MD5 failed");
  out.reserve(out.size() + 4 + sizeof sig + 9 + exp.size() + 3 + handle.size());
  out.append("md5=", 4);
  out.append(sig, sizeof sig);
  out.append("&expires=", 9);
  out.append(exp);
  if (!handle.empty()) {
    out.append("&r=", 3);
    out.append(handle);
  }
}

signature_check url_signer::verify(std::string_view prefix, std::string_view md5,
                                   std::string_view expires, std::string_view handle,
                                   int64_t now) const {
  int64_t exp = 0;
  if (!parse_expires(expires, exp))
    return signature_check::bad;
  if (md5.size() != md5_b64_len)
    return signature_check::bad;
  for (char c : md5)
    if (!is_b64url_char(c))
      return signature_check::bad;
  char expected[md5_b64_len];
  if (!md5_b64(expires, prefix, handle, secret_, expected))
    return signature_check::bad;
  if (!constant_time_equal(md5, std::string_view(expected, sizeof expected)))
    return signature_check::bad;
  return exp <= now ? signature_check::expired : signature_check::ok;
}

} // namespace hlsgate::auth
