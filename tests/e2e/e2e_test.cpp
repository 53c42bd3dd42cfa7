// End-to-end: the real hlsgate binary over 127.0.0.1, real libav transcoding
// of clips generated with the ffmpeg CLI, playback checked by decoding the
// stream from its HTTP URL with the ffmpeg CLI.
#include "auth/jwt.hpp"
#include "auth/signed_url.hpp"
#include "tests/e2e/e2e_fixture.hpp"

#include <zlib.h>

using namespace hlsgate;
using namespace hlsgate::test;

namespace {

std::string gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK)
    return "<inflateInit2 failed>";
  std::string out(in.size() * 20 + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "<not a complete gzip stream>";
}

} // namespace

TEST_F(e2e, video_upload_transcodes_and_plays_over_http) {
  start();
  auto clip = make_clip(clip_720p(20));
  auto r = upload(clip, "?expiry_minutes=30");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = parse_json(r);
  for (auto* f : {"media_id", "access_token", "admin_key", "playlist_url", "expires_in_minutes",
                  "message", "status"})
    EXPECT_TRUE(j.contains(f)) << f;
  EXPECT_EQ(j["status"], "ready");
  EXPECT_EQ(j["expires_in_minutes"], 30);
  std::string id = j["media_id"], token = j["access_token"];
  EXPECT_EQ(j["playlist_url"], srv->base_url() + "/stream/" + id + "/playlist.m3u8?token=" + token);
  auto media_pl = check_playback(id, token, "avc1.64", 3); // 720p source: 720p, 480p, 360p
  auto durations = extinf(media_pl);
  ASSERT_EQ(durations.size(), 4u) << media_pl;
  for (size_t i = 0; i + 1 < durations.size(); ++i)
    EXPECT_NEAR(durations[i], 6.0, 0.5) << i;
  EXPECT_NEAR(durations.back(), 2.0, 0.5);
  EXPECT_NE(media_pl.find("#EXT-X-TARGETDURATION:6"), std::string::npos);
  check_decodes(id, token, 20);
  // The upload's original is gone once the job succeeded.
  EXPECT_EQ(count_files(data + "/sources"), 0u);
  EXPECT_EQ(count_files(data + "/uploads"), 0u);
  // HEAD and Range on a signed segment.
  auto seg_uri = playlist_uris(media_pl)[0];
  auto head = http_request(port(), "HEAD", seg_uri);
  EXPECT_EQ(head.status, 200u);
  auto full_len = std::stoull(head.header("content-length"));
  EXPECT_GT(full_len, 1000u);
  auto part = http_get(port(), seg_uri, {{"Range", "bytes=100-199"}});
  EXPECT_EQ(part.status, 206u);
  EXPECT_EQ(part.body.size(), 100u);
  EXPECT_EQ(part.header("content-range"), "bytes 100-199/" + std::to_string(full_len));
  // PyHLS-compatible segment access with the token, by name.
  auto name = seg_uri.substr(seg_uri.rfind('/') + 1, seg_uri.find('?') - seg_uri.rfind('/') - 1);
  auto compat =
      http_get(port(), "/stream/" + id + "/" + name, {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(compat.status, 200u);
  EXPECT_EQ(compat.body.size(), full_len);
  // The token in a header works for playlists too.
  auto master =
      http_get(port(), "/stream/" + id + "/playlist.m3u8", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(master.status, 200u);
  // Media playlists: gzip when the client accepts it, the same bytes inflated.
  const std::string media_target = "/stream/" + id + "/v0/playlist.m3u8?token=" + token;
  auto plain = http_get(port(), media_target);
  ASSERT_EQ(plain.status, 200u);
  EXPECT_EQ(plain.header("content-encoding"), "");
  EXPECT_EQ(plain.header("vary"), "Accept-Encoding");
  auto zipped = http_get(port(), media_target, {{"Accept-Encoding", "br, gzip;q=0.5"}});
  ASSERT_EQ(zipped.status, 200u);
  EXPECT_EQ(zipped.header("content-encoding"), "gzip");
  EXPECT_EQ(zipped.header("vary"), "Accept-Encoding");
  EXPECT_EQ(zipped.header("content-length"), std::to_string(zipped.body.size()));
  EXPECT_EQ(gunzip(zipped.body), plain.body);
  auto refused = http_get(port(), media_target, {{"Accept-Encoding", "gzip;q=0, *"}});
  EXPECT_EQ(refused.header("content-encoding"), "");
  EXPECT_EQ(refused.body, plain.body);
}

TEST_F(e2e, audio_only_upload_gives_audio_only_hls) {
  start();
  auto r = upload(make_clip(clip_audio_only(20)));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = parse_json(r);
  std::string id = j["media_id"], token = j["access_token"];
  auto master = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
  ASSERT_EQ(master.status, 200u);
  EXPECT_EQ(master.body.find("RESOLUTION="), std::string::npos) << master.body;
  EXPECT_EQ(master.body.find("avc1"), std::string::npos) << master.body;
  auto media_pl = check_playback(id, token, "mp4a.40.2");
  auto durations = extinf(media_pl);
  ASSERT_GE(durations.size(), 3u);
  for (size_t i = 0; i + 1 < durations.size(); ++i)
    EXPECT_NEAR(durations[i], 6.0, 0.5) << i;
  check_decodes(id, token, 20);
}

TEST_F(e2e, rejected_uploads_leave_nothing_behind) {
  start();
  auto expect_clean = [&](const char* what) {
    EXPECT_EQ(count_files(data + "/uploads"), 0u) << what;
    EXPECT_EQ(count_files(data + "/sources"), 0u) << what;
    EXPECT_EQ(count_files(data + "/media"), 0u) << what;
    EXPECT_EQ(row_count(data), 0) << what;
  };
  auto expect_error = [&](const http_reply& r, unsigned status, const char* what) {
    EXPECT_EQ(r.status, status) << what << ": " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("detail")) << what << ": " << r.body;
    auto detail = j["detail"].get<std::string>();
    EXPECT_EQ(detail.find(data), std::string::npos) << "leaks a path: " << detail;
    EXPECT_EQ(detail.find('/'), std::string::npos) << "leaks a path: " << detail;
    expect_clean(what);
  };
  expect_error(upload(make_clip(clip_of(clip_kind::not_media))), 415, "text file");
  expect_error(upload(make_clip(clip_of(clip_kind::random_bytes))), 415, "random bytes");
  expect_error(upload(make_clip(clip_of(clip_kind::empty))), 415, "empty file");
  auto small = make_clip(clip_720p(4));
  expect_error(upload(small, "?expiry_minutes=0"), 422, "expiry 0");
  expect_error(upload(small, "?expiry_minutes=10081"), 422, "expiry too long");
  expect_error(upload(small, "?expiry_minutes=abc"), 422, "expiry not a number");
  expect_error(upload(small, "", "file"), 422, "wrong field name");
  // Over the limit: declared up front, the server answers before the body.
  {
    std::string big(upload_limit + 1024, 'x');
    auto [type, body] = multipart_body("media", "big.mp4", big);
    http_connection c{port()};
    expect_error(c.request("POST", "/upload/", {{"Content-Type", type}}, body), 413, "too large");
  }
  // Over the limit without a Content-Length (chunked): cut while streaming.
  {
    std::string chunk(1 << 20, 'y');
    http_connection c{port()};
    auto [type, head] = multipart_body("media", "big.mp4", "");
    head = head.substr(0, head.find("\r\n\r\n") + 4);
    std::string req = "POST /upload/ HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
                      "\r\nTransfer-Encoding: chunked\r\n\r\n";
    auto hex = [](size_t n) {
      char b[32];
      std::snprintf(b, sizeof b, "%zx\r\n", n);
      return std::string{b};
    };
    c.send(req + hex(head.size()) + head + "\r\n");
    for (uint64_t sent = 0; sent <= upload_limit + chunk.size(); sent += chunk.size())
      if (!c.send(hex(chunk.size()) + chunk + "\r\n"))
        break;
    c.send("0\r\n\r\n");
    expect_error(c.read_reply(), 413, "too large, chunked");
  }
}

TEST_F(e2e, every_status_code_of_the_api) {
  start();
  auto clip = make_clip(clip_720p(4));
  auto j = parse_json(upload(clip));
  std::string id = j["media_id"], token = j["access_token"], key = j["admin_key"];
  auto j2 = parse_json(upload(clip));
  std::string id2 = j2["media_id"], token2 = j2["access_token"];
  auto pl = [&](const std::string& mid, const std::string& query) {
    return http_get(port(), "/stream/" + mid + "/playlist.m3u8" + query).status;
  };
  EXPECT_EQ(pl(id, "?token=" + token), 200u);
  EXPECT_EQ(pl(id, ""), 401u);
  EXPECT_EQ(pl(id, "?token=garbage"), 403u);
  EXPECT_EQ(pl(id, "?token=" + token2), 403u) << "a token of another media";
  EXPECT_EQ(pl("NoSuchMediaId000000000", "?token=" + token), 403u);
  {
    // A valid token for an id that does not exist: 404.
    auth::jwt_codec jwt{keys().jwt};
    auth::token_claims c;
    c.sub = "NoSuchMediaId000000000";
    c.gen = 1;
    c.iat = unix_now();
    c.exp = unix_now() + 60;
    EXPECT_EQ(pl(c.sub, "?token=" + jwt.issue(c)), 404u);
    c.sub = id;
    c.exp = unix_now() - 1;
    EXPECT_EQ(pl(id, "?token=" + jwt.issue(c)), 403u) << "expired token";
    // alg=none is refused.
    auto none = std::string{"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."} +
                token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1) + ".";
    EXPECT_EQ(pl(id, "?token=" + none), 403u);
  }
  // Signed segment URLs: good, tampered, expired.
  auto media_pl = http_get(port(), "/stream/" + id + "/v0/playlist.m3u8?token=" + token);
  ASSERT_EQ(media_pl.status, 200u) << media_pl.body;
  auto uri = playlist_uris(media_pl.body).at(0);
  EXPECT_EQ(http_get(port(), uri).status, 200u);
  auto tampered = uri;
  tampered[tampered.find("md5=") + 5] ^= 1;
  EXPECT_EQ(http_get(port(), tampered).status, 403u);
  {
    auto prefix = uri.substr(0, uri.find('/', 5) + 1);   // "/seg/<storage_id>/"
    const auto handle = uri.substr(uri.find("&r=") + 3); // "<gen>.<jti>"
    auth::url_signer signer{keys().edge};
    auto expires = unix_now() - 10;
    auto path = uri.substr(0, uri.find('?'));
    auto signed_query = [&](int64_t exp) {
      return "?md5=" + signer.sign(prefix, exp, handle) + "&expires=" + std::to_string(exp) +
             "&r=" + handle;
    };
    EXPECT_EQ(http_get(port(), path + signed_query(expires)).status, 410u);
    auto later = unix_now() + 600;
    EXPECT_EQ(http_get(port(), path + signed_query(later)).status, 200u)
        << "nginx-formula signature accepted";
    auto bad_name = prefix + "v0/../../secret.key" + signed_query(later);
    EXPECT_EQ(http_get(port(), bad_name).status, 404u);
  }
  // Admin API.
  auto info = [&](const header_list& h, const std::string& q = "") {
    return http_get(port(), "/media/" + id + "/info" + q, h);
  };
  EXPECT_EQ(info({}).status, 401u);
  EXPECT_EQ(info({{"X-Admin-Key", "wrong"}}).status, 403u);
  auto ir = info({{"X-Admin-Key", key}});
  ASSERT_EQ(ir.status, 200u);
  auto ij = parse_json(ir);
  for (auto* f : {"media_id", "upload_time", "expiry_minutes", "last_token_refresh", "created_at",
                  "updated_at", "status", "progress", "renditions"})
    EXPECT_TRUE(ij.contains(f)) << f;
  EXPECT_EQ(ij["status"], "ready");
  EXPECT_EQ(ij["expiry_minutes"], 60);
  EXPECT_EQ(info({}, "?admin_key=" + key).status, 200u);
  // Refresh: the old token stops working at once.
  auto rr = http_request(port(), "POST",
                         "/refresh-token/" + id + "?admin_key=" + key + "&expiry_minutes=5");
  ASSERT_EQ(rr.status, 200u) << rr.body;
  std::string fresh = parse_json(rr)["access_token"];
  EXPECT_EQ(pl(id, "?token=" + token), 403u);
  EXPECT_EQ(pl(id, "?token=" + fresh), 200u);
  EXPECT_EQ(http_request(port(), "POST",
                         "/refresh-token/" + id + "?admin_key=" + key + "&expiry_minutes=0")
                .status,
            422u);
  // Extend.
  auto er = http_request(port(), "POST", "/media/" + id + "/extend-expiry?additional_minutes=30",
                         {{"X-Admin-Key", key}});
  ASSERT_EQ(er.status, 200u) << er.body;
  auto ej = parse_json(er);
  EXPECT_EQ(ej["previous_expiry_minutes"], 60);
  EXPECT_EQ(ej["new_expiry_minutes"], 90);
  EXPECT_EQ(ej["extended_by_minutes"], 30);
  EXPECT_EQ(http_request(port(), "POST", "/media/" + id + "/extend-expiry?additional_minutes=10080",
                         {{"X-Admin-Key", key}})
                .status,
            422u);
  EXPECT_EQ(http_request(port(), "POST", "/media/" + id + "/extend-expiry?additional_minutes=x",
                         {{"X-Admin-Key", key}})
                .status,
            422u);
  // Unknown routes and methods.
  EXPECT_EQ(http_get(port(), "/nope").status, 404u);
  EXPECT_EQ(http_request(port(), "PUT", "/media/" + id + "/info").status, 405u);
  // Delete: files and record gone, then 404 everywhere.
  auto storage = uri.substr(5, uri.find('/', 5) - 5);
  ASSERT_TRUE(fs::exists(data + "/media/" + storage));
  EXPECT_EQ(http_request(port(), "DELETE", "/media/" + id, {{"X-Admin-Key", "wrong"}}).status,
            403u);
  EXPECT_EQ(http_request(port(), "DELETE", "/media/" + id, {{"X-Admin-Key", key}}).status, 200u);
  EXPECT_FALSE(fs::exists(data + "/media/" + storage));
  EXPECT_EQ(info({{"X-Admin-Key", key}}).status, 404u);
  EXPECT_EQ(pl(id, "?token=" + fresh), 404u);
  EXPECT_EQ(http_get(port(), uri).status, 404u);
  EXPECT_EQ(row_count(data), 1);
  // Operations endpoints.
  EXPECT_EQ(http_get(port(), "/health").status, 200u);
  EXPECT_EQ(http_get(port(), "/ready").status, 200u);
  auto m = http_get(port(), "/metrics");
  EXPECT_EQ(m.status, 200u);
  EXPECT_NE(m.body.find("hlsgate_http_requests_total{"), std::string::npos);
  EXPECT_NE(m.body.find("hlsgate_transcode_duration_seconds_count 2"), std::string::npos) << m.body;
}

TEST_F(e2e, async_upload_answers_at_once_and_409_until_ready) {
  start();
  auto first = parse_json(upload(make_clip(clip_720p(20)), "?async=true"));
  auto r = upload(make_clip(clip_720p(4)), "?async=true");
  ASSERT_EQ(r.status, 202u) << r.body;
  auto j = parse_json(r);
  std::string id = j["media_id"], token = j["access_token"], key = j["admin_key"];
  EXPECT_NE(j["status"], "ready");
  // One worker, busy with the first job: the second is still queued.
  EXPECT_EQ(http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token).status, 409u);
  // Poll the info endpoint (bounded) until the job is done.
  std::string status;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (std::chrono::steady_clock::now() < deadline) {
    auto info = parse_json(http_get(port(), "/media/" + id + "/info", {{"X-Admin-Key", key}}));
    status = info["status"];
    EXPECT_GE(info["progress"].get<double>(), 0.0);
    if (status == "ready" || status == "failed")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
  }
  ASSERT_EQ(status, "ready");
  EXPECT_EQ(http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token).status, 200u);
  (void)first;
}

TEST_F(e2e, restart_keeps_media_tokens_and_pending_expiry) {
  start();
  auto clip = make_clip(clip_audio_only(4));
  auto keep = parse_json(upload(clip, "?expiry_minutes=60"));
  auto soon = parse_json(upload(clip, "?expiry_minutes=1"));
  auto lapsed = parse_json(upload(clip, "?expiry_minutes=60"));
  std::string keep_id = keep["media_id"], keep_token = keep["access_token"];
  std::string soon_id = soon["media_id"], soon_key = soon["admin_key"];
  std::string lapsed_id = lapsed["media_id"], lapsed_token = lapsed["access_token"];
  ASSERT_GT(parse_iso(soon["expires_at"]), 0);
  auto storage_of = [&](const std::string& id, const std::string& token) {
    auto pl = http_get(port(), "/stream/" + id + "/a0/playlist.m3u8?token=" + token);
    EXPECT_EQ(pl.status, 200u) << pl.body;
    auto uri = playlist_uris(pl.body).at(0);
    return uri.substr(5, uri.find('/', 5) - 5);
  };
  auto keep_storage = storage_of(keep_id, keep_token);
  auto lapsed_storage = storage_of(lapsed_id, lapsed_token);
  auto soon_storage = storage_of(soon_id, soon["access_token"]);
  ASSERT_EQ(srv->stop(), 0);
  srv.reset();
  // While the server is down, `lapsed` passes its deadline, and `soon`'s
  // comes within seconds (instead of the minute of its expiry_minutes).
  const int64_t soon_deadline = unix_now() + 10;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data + "/hlsgate.db").c_str(), &db), SQLITE_OK);
    for (auto [id, at] :
         {std::pair{lapsed_id, unix_now() - 5}, std::pair{soon_id, soon_deadline}}) {
      auto sql =
          "UPDATE media SET expires_at = " + std::to_string(at) + " WHERE media_id = '" + id + "'";
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    }
    sqlite3_close(db);
  }
  // Files no row owns (left by a crash) are removed at start.
  fs::create_directories(data + "/media/orphanFolder0000000000/v0");
  std::ofstream{data + "/sources/orphanFolder0000000000.src"} << "x";
  start();
  EXPECT_FALSE(fs::exists(data + "/media/orphanFolder0000000000"));
  EXPECT_FALSE(fs::exists(data + "/sources/orphanFolder0000000000.src"));
  // The generated secret persisted: the old token still works.
  EXPECT_EQ(http_get(port(), "/stream/" + keep_id + "/playlist.m3u8?token=" + keep_token).status,
            200u);
  EXPECT_TRUE(fs::exists(data + "/media/" + keep_storage));
  // Cleaned up at start: files, then row.
  EXPECT_FALSE(fs::exists(data + "/media/" + lapsed_storage));
  EXPECT_EQ(
      http_get(port(), "/stream/" + lapsed_id + "/playlist.m3u8?token=" + lapsed_token).status,
      404u);
  EXPECT_EQ(row_count(data), 2);
  // The pending expiry survived the restart: gone within 2 s of its deadline.
  int64_t gone_at = 0;
  auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < limit) {
    auto r = http_get(port(), "/media/" + soon_id + "/info", {{"X-Admin-Key", soon_key}});
    if (r.status == 404u) {
      gone_at = unix_now();
      break;
    }
    ASSERT_EQ(r.status, 200u);
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling interval
  }
  ASSERT_GT(gone_at, 0) << "never expired";
  EXPECT_LE(gone_at, soon_deadline + 2);
  EXPECT_GE(gone_at, soon_deadline);
  EXPECT_FALSE(fs::exists(data + "/media/" + soon_storage));
  EXPECT_EQ(row_count(data), 1);
}
