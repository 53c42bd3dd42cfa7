#include "auth/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cerrno>
#include <stdexcept>

#include "auth/crypto.hpp"

namespace hlsgate::auth {

namespace {

// Labels of the two derived keys; changing one invalidates what it signed.
constexpr std::string_view jwt_info = "hlsgate/v1/jwt-hs256";
constexpr std::string_view edge_info = "hlsgate/v1/edge-secure-link";
constexpr std::string_view rtmp_info = "hlsgate/v1/rtmp-stream-names";
constexpr std::string_view proxy_info = "hlsgate/v1/proxy-references";
constexpr std::string_view salt = "hlsgate key derivation";

constexpr size_t min_secret = 32;
constexpr size_t max_secret = 1024;

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0)
      ::close(fd);
  }
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

secret_file create_secret(const std::string& path, const std::string& what) {
  secret_file out;
  const std::string secret = base64url_encode(random_bytes(32));
  if (!write_key_file(path, secret, 0600)) {
    out.error = "cannot write " + what;
    return out;
  }
  out.secret = secret;
  out.created = true;
  return out;
}

} // namespace

bool write_key_file(const std::string& path, std::string_view key, mode_t mode, gid_t group) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  fd_closer f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)};
  const bool ok = f.fd >= 0 &&
                  (group == static_cast<gid_t>(-1) || ::fchown(f.fd, -1, group) == 0) &&
                  ::fchmod(f.fd, mode) == 0 && write_all(f.fd, std::string{key} + "\n") &&
                  ::fsync(f.fd) == 0 && ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    ::unlink(tmp.c_str());
    return false;
  }
  // The rename is durable once the folder is.
  fd_closer dir{::open(parent_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd >= 0)
    ::fsync(dir.fd);
  return true;
}

std::string hkdf_sha256(std::string_view ikm, std::string_view salt_bytes, std::string_view info,
                        size_t length) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr)
    throw std::runtime_error("OpenSSL: cannot fetch HKDF");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr)
    throw std::runtime_error("OpenSSL: EVP_KDF_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()),
                                        ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt_bytes.data()),
                                        salt_bytes.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end(),
  };
  std::string out(length, '\0');
  const int rc = EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), length, params);
  EVP_KDF_CTX_free(ctx);
  if (rc != 1)
    throw std::runtime_error("OpenSSL: HKDF failed");
  return out;
}

signing_keys derive_keys(std::string_view master, std::string_view edge_override) {
  signing_keys k;
  k.jwt = hkdf_sha256(master, salt, jwt_info, 32);
  k.edge = edge_override.empty() ? base64url_encode(hkdf_sha256(master, salt, edge_info, 32))
                                 : std::string{edge_override};
  k.rtmp = hkdf_sha256(master, salt, rtmp_info, 32);
  k.proxy = hkdf_sha256(master, salt, proxy_info, 32);
  return k;
}

std::string rtmp_stream_name(std::string_view rtmp_key, std::string_view storage_id,
                             std::string_view stream_key_hash) {
  std::string message{storage_id};
  message += '\n';
  message += stream_key_hash;
  const auto mac = hmac_sha256{rtmp_key}.sign(message);
  std::string name{storage_id};
  name += '_';
  name += base64url_encode({reinterpret_cast<const char*>(mac.data()), mac.size()}).substr(0, 22);
  return name;
}

secret_file load_or_create_secret(const std::string& path, std::string_view label) {
  const std::string what{label};
  secret_file out;
  fd_closer f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (f.fd < 0) {
    if (errno == ENOENT)
      return create_secret(path, what);
    out.error = errno == ELOOP ? what + " is a symbolic link" : "cannot read " + what;
    return out;
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    out.error = what + " is not a regular file";
    return out;
  }
  if (st.st_uid != ::geteuid()) {
    out.error = what + " belongs to another user";
    return out;
  }
  if ((st.st_mode & 077) != 0) {
    out.error = what + " is accessible to group or others (chmod 600 it)";
    return out;
  }
  char buf[max_secret + 2];
  size_t len = 0;
  for (;;) {
    const ssize_t n = ::read(f.fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      out.error = "cannot read " + what;
      return out;
    }
    if (n == 0 || (len += static_cast<size_t>(n)) == sizeof buf)
      break;
  }
  std::string_view text(buf, len);
  if (!text.empty() && text.back() == '\n')
    text.remove_suffix(1);
  bool ok = text.size() >= min_secret && text.size() <= max_secret;
  for (char c : text)
    ok = ok && is_base64url_char(c);
  if (!ok) {
    out.error = what + " is malformed (expected one line of 32 to 1024 base64url "
                       "characters)";
    return out;
  }
  out.secret.assign(text);
  return out;
}

} // namespace hlsgate::auth
