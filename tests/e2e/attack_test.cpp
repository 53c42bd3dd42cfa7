// Attack probes against the real hlsgate binary over 127.0.0.1: traversal
// on every route of the route table, token tampering and algorithm
// confusion, request smuggling, slowloris and slow POST, oversized
// everything, and a hostile container. Every probe must get a 4xx with a JSON
// `detail` that names no filesystem path; afterwards the server is healthy
// and nothing is half-written in the data folder.
#include "tests/e2e/e2e_fixture.hpp"

#include "auth/crypto.hpp"
#include "auth/signed_url.hpp"
#include "http/api.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <future>

namespace hlsgate::test {
namespace {

std::string b64(std::string_view s) {
  return auth::base64url_encode(s);
}

/// header.payload.signature with the given alg name and signing function.
std::string make_jwt(const std::string& alg, const json& claims,
                     const std::function<std::string(const std::string&)>& sign) {
  std::string head = b64(json{{"alg", alg}, {"typ", "JWT"}}.dump()) + "." + b64(claims.dump());
  return head + "." + sign(head);
}

json with(json j, const char* key, json value) {
  j[key] = std::move(value);
  return j;
}

std::string hmac(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return b64(std::string(reinterpret_cast<char*>(out), len));
}

class attack : public e2e {
protected:
  size_t probes = 0;

  /// The probe's answer: a 4xx with {"detail": "..."} naming no path.
  void expect_refused(const http_reply& r, const std::string& what) {
    ++probes;
    EXPECT_GE(r.status, 400u) << what << ": " << r.status << " " << r.body;
    EXPECT_LT(r.status, 500u) << what << ": " << r.status << " " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("detail") && j["detail"].is_string())
        << what << ": " << r.body.substr(0, 200);
    const auto detail = j["detail"].get<std::string>();
    for (const std::string& leak :
         {data, std::string("/tmp/"), std::string("/etc/"), std::string("/work/"),
          std::string(".part"), std::string("upload-"), std::string("/media/")})
      EXPECT_EQ(detail.find(leak), std::string::npos) << what << " leaks: " << detail;
  }

  /// Still serving, and no upload left half-written. While the slow POST
  /// runs, its own temporary file (one) may exist.
  void expect_healthy(const std::string& what, size_t uploads_in_progress = 0) {
    EXPECT_EQ(http_get(port(), "/health").status, 200u) << "after " << what;
    EXPECT_LE(count_files(data + "/uploads"), uploads_in_progress) << "after " << what;
  }

  http_reply raw(const std::string& bytes, int timeout = 30) {
    http_connection c{port(), timeout};
    if (!c.send(bytes))
      return {};
    return c.read_reply();
  }

  void probe(const std::string& method, const std::string& target, const std::string& what,
             const header_list& headers = {}) {
    http_connection c{port(), 30};
    expect_refused(c.request(method, target, headers), what + " " + method + " " + target);
  }
};

/// A route pattern with its placeholders filled in, one part replaced by `evil`.
std::vector<std::string> instantiate(const std::string& pattern, const std::string& id,
                                     const std::string& evil) {
  std::vector<std::string> parts;
  std::stringstream ss{pattern};
  std::string p;
  while (std::getline(ss, p, '/'))
    if (!p.empty())
      parts.push_back(p == "{id}"          ? id
                      : p == "{rendition}" ? "v0"
                      : p == "{playlist}"  ? "playlist.m3u8"
                      : p == "{name}"      ? "seg_00000.ts"
                                           : p);
  std::vector<std::string> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string t;
    for (size_t k = 0; k < parts.size(); ++k)
      t += "/" + (k == i ? evil : parts[k]);
    out.push_back(t);
  }
  return out;
}

TEST_F(attack, probes_are_refused_and_leave_nothing) {
  start();
  // One item to aim at (answered at once; its job runs meanwhile).
  auto up = upload(make_clip(clip_720p(4)), "?async=true&expiry_minutes=30");
  ASSERT_EQ(up.status, 202u) << up.body;
  auto item = parse_json(up);
  const std::string id = item["media_id"], token = item["access_token"], admin = item["admin_key"];

  // Slow clients run alongside everything else (default deadlines: 10 s
  // head, 1024 B/s over 30 s windows for bodies).
  auto slowloris = std::async(std::launch::async, [this] {
    http_connection c{port(), 60};
    const std::string head = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 's');
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    for (size_t i = 0; i < head.size() && std::chrono::steady_clock::now() < end; ++i) {
      if (!c.send(head.substr(i, 1)))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // the attacker's pace
      if (i == 60) // past the 10 s deadline by then: read what the server said
        return c.read_reply();
    }
    return c.read_reply();
  });
  auto slow_post = std::async(std::launch::async, [this] {
    http_connection c{port(), 90};
    auto [type, body] = multipart_body("media", "slow.mp4", std::string(100000, 'z'));
    c.send("POST /upload/ HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    for (size_t i = 0; i < 300; ++i) { // 10 bytes every 200 ms: 50 B/s, far below the minimum
      if (!c.send(body.substr(i * 10, 10)))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (i == 200) // 40 s: past the first 30 s window
        break;
    }
    return c.read_reply();
  });

  // -- traversal on every route of the table, and on /seg/ ------------------------
  auto routes = http::api::routes();
  routes.push_back({http::m_get_head, "/seg/{id}/{rendition}/{name}", metrics::route::segment});
  const std::vector<std::string> evils = {"..",
                                          "%2e%2e",
                                          "%252e%252e",
                                          ".%2e",
                                          "..%2f..%2f..%2fetc%2fhostname",
                                          "%2e%2e%5c%2e%2e%5cetc%5chostname",
                                          "..%5c..%5c",
                                          "a%00b",
                                          "%00",
                                          "%c0%ae%c0%ae",
                                          "..;",
                                          "~root"};
  for (auto& r : routes) {
    const std::string method = (r.methods & http::m_get)    ? "GET"
                               : (r.methods & http::m_post) ? "POST"
                                                            : "DELETE";
    for (auto& evil : evils)
      for (auto& target : instantiate(r.pattern, id, evil))
        probe(method, target + "?token=" + token, "traversal");
    // Raw backslash and raw dots, which a client library would not send.
    for (auto& target : instantiate(r.pattern, id, "..\\..\\etc"))
      expect_refused(raw(method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"), "backslash");
  }
  expect_healthy("traversal", 1);

  // -- tokens -------------------------------------------------------------------------
  const auto keys = this->keys();
  const json claims = {
      {"sub", id}, {"gen", 1}, {"iat", unix_now()}, {"exp", unix_now() + 3600}, {"typ", "access"}};
  auth::hmac_sha256 mac{keys.jwt};
  auto hs256 = [&](const std::string& s) {
    auto d = mac.sign(s);
    return b64(std::string(reinterpret_cast<const char*>(d.data()), d.size()));
  };
  std::vector<std::pair<std::string, std::string>> bad_tokens = {
      {"alg none", make_jwt("none", claims, [](const std::string&) { return std::string(); })},
      {"alg None", make_jwt("None", claims, [](const std::string&) { return std::string(); })},
      {"HS512 with our key",
       make_jwt("HS512", claims,
                [&](const std::string& s) { return hmac(EVP_sha512(), keys.jwt, s); })},
      {"RS256 with our key as HMAC", make_jwt("RS256", claims, hs256)},
      {"RS256 with the edge key as HMAC",
       make_jwt("RS256", claims,
                [&](const std::string& s) { return hmac(EVP_sha256(), keys.edge, s); })},
      {"HS256 with the edge key",
       make_jwt("HS256", claims,
                [&](const std::string& s) { return hmac(EVP_sha256(), keys.edge, s); })},
      {"other media", make_jwt("HS256", with(claims, "sub", "AAAAAAAAAAAAAAAAAAAAAA"), hs256)},
      {"expired", make_jwt("HS256", with(claims, "exp", unix_now() - 10), hs256)},
      {"old generation", make_jwt("HS256", with(claims, "gen", 0), hs256)},
      {"future iat", make_jwt("HS256", with(claims, "iat", unix_now() + 3600), hs256)},
      {"empty", ""},
      {"garbage", "a.b.c"},
  };
  std::string flipped = token;
  flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
  bad_tokens.push_back({"flipped signature", flipped});
  std::string payload_swapped = token;
  const size_t dot = token.find('.');
  payload_swapped[dot + 3] = payload_swapped[dot + 3] == 'x' ? 'y' : 'x';
  bad_tokens.push_back({"tampered payload", payload_swapped});
  for (auto& [what, t] : bad_tokens) {
    probe("GET", "/stream/" + id + "/playlist.m3u8?token=" + t, "token " + what);
    probe("GET", "/media/" + id + "/stream-info", "bearer " + what,
          {{"Authorization", "Bearer " + t}});
  }
  // Admin routes with a wrong key, or a token posing as the API token.
  for (const std::string& target :
       std::vector<std::string>{"/media/" + id + "/info", "/media/" + id}) {
    const std::string m = target.size() > id.size() + 7 ? "GET" : "DELETE";
    probe(m, target, "no admin key");
    probe(m, target, "wrong admin key", {{"X-Admin-Key", admin + "x"}});
    probe(m, target + "?admin_key=" + token, "token as admin key");
    probe(m, target, "token as API token", {{"Authorization", "Bearer " + token}});
  }
  probe("POST", "/refresh-token/" + id, "wrong admin key", {{"X-Admin-Key", "nope"}});
  probe("POST", "/media/" + id + "/extend-expiry?additional_minutes=5", "wrong admin key",
        {{"X-Admin-Key", "nope"}});
  probe("POST", "/import", "import without API token");
  // Signed segment URLs: tampered signature, other prefix, expired.
  {
    std::string t = "/seg/AAAAAAAAAAAAAAAAAAAAAA/v0/seg_00000.ts?";
    auth::url_signer signer{keys.edge};
    signer.append_query("/seg/BBBBBBBBBBBBBBBBBBBBBB/", unix_now() + 600, t);
    probe("GET", t, "signature for another prefix");
    std::string e = "/seg/AAAAAAAAAAAAAAAAAAAAAA/v0/seg_00000.ts?";
    signer.append_query("/seg/AAAAAAAAAAAAAAAAAAAAAA/", unix_now() - 1, e);
    probe("GET", e, "expired signature");
    probe("GET", "/seg/AAAAAAAAAAAAAAAAAAAAAA/v0/seg_00000.ts?md5=x&expires=99999999999",
          "forged signature");
  }
  expect_healthy("tokens", 1);

  // -- smuggling: each is 400 and the pipelined request after it is never served ----------
  const std::string next = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string& head : {
           std::string("Content-Length: 4\r\nTransfer-Encoding: chunked"),
           std::string("Transfer-Encoding: chunked\r\nContent-Length: 4"),
           std::string("Transfer-Encoding: xchunked"),
           std::string("Transfer-Encoding: identity"),
           std::string("Transfer-Encoding: chunked;q=1"),
           std::string("Transfer-Encoding: gzip, chunked"),
           std::string("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"),
           std::string("Transfer-Encoding: identity\r\nTransfer-Encoding: chunked"),
           std::string("Transfer-Encoding:\r\n chunked"),
           std::string("Transfer-Encoding: identity\r\n chunked"),
           std::string("Content-Length: 4\r\nContent-Length: 4"),
           std::string("Content-Length: 4\r\nContent-Length: 5"),
           std::string("Content-Length: 4, 4"),
           std::string("Content-Length: +4"),
           std::string("Content-Length: 4\r\n X-Fold: y"),
       }) {
    http_connection c{port(), 30};
    c.send("POST /media/" + id + "/extend-expiry HTTP/1.1\r\nHost: x\r\n" + head +
           "\r\n\r\n0\r\n\r\n" + next);
    expect_refused(c.read_reply(), "smuggling " + head);
    EXPECT_EQ(c.read_reply().status, 0u) << "served after: " << head;
  }
  expect_refused(
      raw("POST /health HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      "TE on HTTP/1.0");
  expect_healthy("smuggling", 1);

  // -- oversized everything ------------------------------------------------------------------
  expect_refused(raw("GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                 "request target 10 KB");
  expect_refused(raw("GET /" + std::string(40000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                 "request line 40 KB");
  expect_refused(raw("GET /health?" + std::string(12000, 'q') + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                 "query 12 KB");
  {
    std::string many;
    for (int i = 0; i < 150; ++i)
      many += "X-H" + std::to_string(i) + ": v\r\n";
    expect_refused(raw("GET /health HTTP/1.1\r\nHost: x\r\n" + many + "\r\n"), "150 fields");
  }
  expect_refused(
      raw("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n"),
      "one field of 20 KB");
  for (const std::string& target :
       {std::string("/import"), "/media/" + id + "/extend-expiry", "/refresh-token/" + id}) {
    expect_refused(raw("POST " + target +
                       " HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" +
                       std::string(65536, 'x')),
                   "body of 5 MB on " + target);
  }
  {
    const std::string part_head =
        "--b\r\nContent-Disposition: form-data; name=\"media\"\r\nX-Pad: " +
        std::string(20000, 'p') + "\r\n\r\nabc\r\n--b--\r\n";
    expect_refused(raw("POST /upload/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                       "boundary=b\r\nContent-Length: " +
                       std::to_string(part_head.size()) + "\r\n\r\n" + part_head),
                   "multipart part header 20 KB");
    std::string parts;
    for (int i = 0; i < 40; ++i)
      parts +=
          "--b\r\nContent-Disposition: form-data; name=\"f" + std::to_string(i) + "\"\r\n\r\nv\r\n";
    parts += "--b--\r\n";
    expect_refused(raw("POST /upload/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                       "boundary=b\r\nContent-Length: " +
                       std::to_string(parts.size()) + "\r\n\r\n" + parts),
                   "40 form fields");
    std::string big(upload_limit + 1, 'u');
    auto [type, body] = multipart_body("media", "big.mp4", big);
    expect_refused(raw("POST /upload/ HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
                       "\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nExpect: 100-continue\r\n\r\n"),
                   "upload above the limit");
  }
  expect_healthy("oversized", 1);

  // -- slow clients ----------------------------------------------------------------------------
  expect_refused(slowloris.get(), "slowloris");
  expect_refused(slow_post.get(), "slow POST");
  expect_healthy("slow clients");

  std::printf("attack probes: %zu\n", probes);
  RecordProperty("probes", static_cast<int>(probes));
}

// Depends on the media library refusing non-file protocols in demuxers (a
// change outside http/): an HLS playlist disguised as .mp4 must not make the
// server read local files.
TEST_F(attack, hostile_playlist_named_mp4_is_415_and_nothing_kept) {
  start();
  const std::string dir = make_temp_dir("hostile");
  const std::string path = dir + "/clip.mp4";
  std::ofstream(path) << "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/hostname\n"
                         "#EXT-X-ENDLIST\n";
  auto r = upload(path);
  EXPECT_EQ(r.status, 415u) << r.body;
  auto j = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("detail")) << r.body;
  EXPECT_EQ(j["detail"].get<std::string>().find("/etc/"), std::string::npos);
  EXPECT_EQ(count_files(data + "/uploads"), 0u);
  EXPECT_EQ(count_files(data + "/sources"), 0u);
  EXPECT_EQ(count_files(data + "/media"), 0u);
  EXPECT_EQ(row_count(data), 0);
  EXPECT_EQ(http_get(port(), "/health").status, 200u);
  std::printf("attack probes: 1 (hostile container)\n");
}

// An uploader that goes away before its synchronous upload is answered
// never learns the keys: the answer is undelivered and the item is removed
// (http::response::on_undelivered -> service::abandon), not kept ownerless.
TEST_F(attack, upload_whose_client_left_is_removed) {
  start();
  auto content = read_file(make_clip(clip_720p(20)));
  auto [type, body] = multipart_body("media", "left.mp4", content);
  {
    http_connection c{port(), 60};
    ASSERT_TRUE(
        c.send("POST /upload/?expiry_minutes=30 HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (row_count(data) < 1 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50)); // polling interval
    ASSERT_EQ(row_count(data), 1) << "the upload was never registered";
  } // the client goes away while the server waits for the media
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while ((row_count(data) != 0 || count_files(data + "/media") != 0) &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling interval
  EXPECT_EQ(row_count(data), 0);
  EXPECT_EQ(count_files(data + "/media"), 0u);
  EXPECT_EQ(count_files(data + "/uploads"), 0u);
  EXPECT_EQ(http_get(port(), "/health").status, 200u);
}

} // namespace
} // namespace hlsgate::test
