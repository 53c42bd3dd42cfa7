// The keys hlsgate signs with, and the master secret they come from.
//
// One master secret (SECRET_KEY, or a generated one kept in
// DATA_DIR/secret.key) yields two independent keys through HKDF-SHA256
// (RFC 5869) with distinct `info` labels:
//   - the JWT key (HS256 access tokens), which never leaves the origin;
//   - the edge key (nginx secure_link_md5 segment URLs), the only secret an
//     nginx edge holds: reading its config lets nobody mint access tokens;
//   - the RTMP name key, which makes the names hlsgate reads RTMP channels
//     back under (from nginx-rtmp) unguessable;
//   - the proxy key, which seals the upstream references in proxied
//     playlists (proxy/reference.hpp).
// HLSGATE_EDGE_SECRET replaces the derived edge key.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace hlsgate::auth {

/// RFC 5869 HKDF-SHA256: `length` bytes of output keying material.
std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                        size_t length);

struct signing_keys {
  std::string jwt;   ///< 32 raw bytes
  std::string edge;  ///< printable (base64url of 32 bytes) or HLSGATE_EDGE_SECRET as given
  std::string rtmp;  ///< 32 raw bytes (rtmp_stream_name)
  std::string proxy; ///< 32 raw bytes: the stream proxy's upstream references and client ids
};

/// The nginx-rtmp stream name an RTMP channel is renamed to on publish and
/// read back from: its storage id, '_', and 22 base64url characters (132
/// bits) of HMAC-SHA256(`rtmp_key`, storage id and the hash of its current
/// stream key). Storage ids appear in segment URLs; this name appears
/// nowhere a viewer looks, so nobody can play a channel's raw stream from
/// the RTMP server by guessing it, even where that server lets anyone play
/// (as in the compose stack); a new stream key gives a new name, so a
/// publisher (or anyone who learnt the name) of the old key is left out.
std::string rtmp_stream_name(std::string_view rtmp_key, std::string_view storage_id,
                             std::string_view stream_key_hash);

/// Derives both keys from `master`; a non-empty `edge_override` is used as
/// the edge key instead of the derived one.
signing_keys derive_keys(std::string_view master, std::string_view edge_override = {});

/// The master secret kept in `path`, created (0600, fsync'ed, atomically
/// renamed into place) when the file does not exist. Refuses, with a short
/// message in `error`, a file that is not a regular file owned by this user,
/// that group or others may read or write, or whose content is not one line
/// of 32 to 1024 base64url characters: silently making a new secret would
/// invalidate every token in circulation.
struct secret_file {
  std::string secret;
  std::string error; ///< empty on success
  bool created = false;
};
/// `label` names the file in those messages.
secret_file load_or_create_secret(const std::string& path,
                                  std::string_view label = "the secret key file");

/// Writes `key` and a newline to `path` atomically and durably (a temporary
/// file, fsync, rename, fsync of the folder) with `mode`, and `group` unless
/// it is -1. A symbolic link at the temporary name is never followed.
bool write_key_file(const std::string& path, std::string_view key, mode_t mode,
                    gid_t group = static_cast<gid_t>(-1));

} // namespace hlsgate::auth
