// The client commands (`hlsgate upload`, `ls`, `info`, ...) run as their
// users run them: the real binary as a child process, against the real server
// over 127.0.0.1, checked by their output, their exit codes and the server's
// state afterwards.
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/nginx_process.hpp"

namespace hlsgate::test {
namespace {

const std::string k_token = "cli-token-0123456789abcdef";

struct cli_result {
  int rc = -1;
  std::string out, err;
};

class cli : public e2e {
protected:
  /// Runs `hlsgate ARGS` with a clean client environment plus `vars`.
  cli_result run(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& vars = {}) {
    const std::string err_file = make_temp_dir("cli-err") + "/stderr";
    std::string cmd = "env -u HLSGATE_API_TOKEN -u HLSGATE_ADMIN_KEY -u HLSGATE_SERVER";
    for (auto& [k, v] : vars)
      cmd += " " + k + "=" + shell_quote(v);
    cmd += " " + shell_quote(HLSGATE_BINARY);
    for (auto& a : args)
      cmd += " " + shell_quote(a);
    cmd += " 2>" + shell_quote(err_file);
    cli_result r;
    r.rc = run_command(cmd, &r.out);
    r.err = read_file(err_file);
    return r;
  }
  std::map<std::string, std::string> with_token() const {
    return {{"HLSGATE_SERVER", srv->base_url()}, {"HLSGATE_API_TOKEN", k_token}};
  }
  std::map<std::string, std::string> anonymous() const {
    return {{"HLSGATE_SERVER", srv->base_url()}};
  }
};

TEST_F(cli, upload_wait_then_manage_the_item_with_each_command) {
  env["HLSGATE_API_TOKEN"] = k_token;
  start();
  const std::string dir = make_temp_dir("cli-clip");
  const std::string clip = dir + "/Holiday clip.mp4";
  fs::copy_file(make_clip(clip_720p(4)), clip);

  // upload --wait --json: one JSON line per file, ready; the progress bar
  // (forced: stderr is not a terminal here) shows bytes and then transcoding.
  auto up = run({"upload", clip, "--wait", "--json", "--progress", "--expiry", "30"}, with_token());
  ASSERT_EQ(up.rc, 0) << up.err;
  auto item = json::parse(up.out);
  EXPECT_EQ(item["status"], "ready") << up.out;
  EXPECT_EQ(item["file"], clip);
  EXPECT_NEAR(item["duration"].get<double>(), 4, 0.5);
  EXPECT_NE(up.err.find("100%"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("MiB / "), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("ready"), std::string::npos) << up.err;
  const std::string id = item["media_id"], key = item["admin_key"];
  EXPECT_EQ(info(id, key)["original_name"], "Holiday clip.mp4");
  EXPECT_EQ(http_get(port(), item["playlist_url"].get<std::string>().substr(srv->base_url().size()))
                .status,
            200u);

  // ls: the table, and JSON with filters.
  auto ls = run({"ls"}, with_token());
  ASSERT_EQ(ls.rc, 0) << ls.err;
  EXPECT_EQ(ls.out.rfind("ID ", 0), 0u) << ls.out;
  EXPECT_NE(ls.out.find(id), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("Holiday clip.mp4"), std::string::npos) << ls.out;
  auto ls_json = run({"ls", "--json", "--status", "ready", "--name", "holiday"}, with_token());
  ASSERT_EQ(ls_json.rc, 0) << ls_json.err;
  auto listed = json::parse(ls_json.out);
  ASSERT_EQ(listed.size(), 1u) << ls_json.out;
  EXPECT_EQ(listed[0]["media_id"], id);
  EXPECT_EQ(json::parse(run({"ls", "--json", "--status", "failed"}, with_token()).out).size(), 0u);

  // info with the admin key alone (no API token).
  auto admin = anonymous();
  admin["HLSGATE_ADMIN_KEY"] = key;
  auto inf = run({"info", "--", id}, admin);
  ASSERT_EQ(inf.rc, 0) << inf.err;
  EXPECT_NE(inf.out.find("status:       ready"), std::string::npos) << inf.out;
  EXPECT_NE(inf.out.find("1280x720"), std::string::npos) << inf.out;
  EXPECT_EQ(json::parse(run({"info", "--json", "--", id}, with_token()).out)["media_id"], id);

  // extend moves the deadline by exactly the minutes asked.
  const auto before = parse_iso(info(id, key)["expires_at"]);
  auto ext = run({"extend", "--json", "--", id, "45"}, with_token());
  ASSERT_EQ(ext.rc, 0) << ext.err;
  EXPECT_EQ(parse_iso(json::parse(ext.out)["expires_at"]), before + 45 * 60);

  // tokens: mint one with a label and a lifetime, see it listed, revoke it.
  auto minted =
      run({"tokens", "--new", "--label", "phone", "--ttl", "10", "--json", "--", id}, with_token());
  ASSERT_EQ(minted.rc, 0) << minted.err;
  auto tok = json::parse(minted.out);
  const std::string jti = tok["jti"], minted_url = tok["playlist_url"];
  const std::string minted_path = minted_url.substr(srv->base_url().size());
  EXPECT_EQ(http_get(port(), minted_path).status, 200u);
  auto listed_tokens = run({"tokens", "--", id}, with_token());
  ASSERT_EQ(listed_tokens.rc, 0);
  EXPECT_NE(listed_tokens.out.find(jti), std::string::npos) << listed_tokens.out;
  EXPECT_NE(listed_tokens.out.find("phone"), std::string::npos) << listed_tokens.out;
  ASSERT_EQ(run({"tokens", "--revoke", jti, "--", id}, with_token()).rc, 0);
  EXPECT_NE(http_get(port(), minted_path).status, 200u) << "a revoked token still plays";

  // open prints a playable URL and nothing else.
  auto opened = run({"open", "--", id}, with_token());
  ASSERT_EQ(opened.rc, 0) << opened.err;
  ASSERT_EQ(opened.out.back(), '\n');
  const std::string url = opened.out.substr(0, opened.out.size() - 1);
  ASSERT_EQ(url.rfind(srv->base_url() + "/stream/" + id + "/playlist.m3u8?token=", 0), 0u) << url;
  EXPECT_EQ(http_get(port(), url.substr(srv->base_url().size())).status, 200u);

  // refresh: every earlier link stops, the new one plays.
  auto ref = run({"refresh", "--json", "--", id}, with_token());
  ASSERT_EQ(ref.rc, 0) << ref.err;
  EXPECT_NE(http_get(port(), url.substr(srv->base_url().size())).status, 200u);
  EXPECT_EQ(http_get(port(), json::parse(ref.out)["playlist_url"].get<std::string>().substr(
                                 srv->base_url().size()))
                .status,
            200u);

  // rm, then the item is gone for every command (exit 5).
  auto rm = run({"rm", "--", id}, with_token());
  ASSERT_EQ(rm.rc, 0) << rm.err;
  EXPECT_EQ(rm.out, "deleted " + id + "\n");
  auto gone = run({"info", "--", id}, with_token());
  EXPECT_EQ(gone.rc, 5) << gone.err;
  EXPECT_NE(gone.err.find("HTTP 404"), std::string::npos) << gone.err;
  EXPECT_EQ(run({"rm", "--", id}, with_token()).rc, 5);
  fs::remove_all(dir);
}

TEST_F(cli, exit_codes_scripts_can_rely_on) {
  env["HLSGATE_API_TOKEN"] = k_token;
  env["HLSGATE_MAX_UPLOAD_BYTES"] = "100000";
  start();
  // 2: bad command lines, and a file that is not there, before any request.
  EXPECT_EQ(run({"info", "../../etc/passwd"}, with_token()).rc, 2);
  EXPECT_EQ(run({"upload"}, with_token()).rc, 2);
  auto missing = run({"upload", "/nonexistent/clip.mp4"}, with_token());
  EXPECT_EQ(missing.rc, 2) << missing.err;
  // 4: no API token, or a wrong one; the hint names what to set.
  auto anon = run({"ls"}, anonymous());
  EXPECT_EQ(anon.rc, 4) << anon.err;
  EXPECT_NE(anon.err.find("HLSGATE_API_TOKEN"), std::string::npos) << anon.err;
  auto wrong = with_token();
  wrong["HLSGATE_API_TOKEN"] = "wrong";
  EXPECT_EQ(run({"ls"}, wrong).rc, 4);
  // The token file form (DATA_DIR/api_token is such a file).
  const std::string token_file = make_temp_dir("cli-tok") + "/api_token";
  std::ofstream{token_file} << k_token << "\n";
  EXPECT_EQ(run({"ls", "--token-file", token_file}, anonymous()).rc, 0);
  // 5: an id the server does not know.
  EXPECT_EQ(run({"info", "AAAAAAAAAAAAAAAAAAAAAA"}, with_token()).rc, 5);
  // 1: refused. Larger than HLSGATE_MAX_UPLOAD_BYTES: the server answers 413
  // before reading the body and the client reports it (not a broken pipe).
  auto big = run({"upload", make_clip(clip_720p(4))}, with_token());
  EXPECT_EQ(big.rc, 1) << big.err;
  EXPECT_NE(big.err.find("HTTP 413"), std::string::npos) << big.err;
  // 3: nothing listens there.
  auto down =
      run({"ls", "--server", "http://127.0.0.1:" + std::to_string(free_port())}, with_token());
  EXPECT_EQ(down.rc, 3) << down.err;
  EXPECT_EQ(row_count(data), 0) << "no refused upload left a row";
}

TEST_F(cli, wait_timeout_is_exit_7_and_the_upload_stays_manageable) {
  env["HLSGATE_API_TOKEN"] = k_token;
  start();
  // The first status poll comes right after the upload: no 720p clip is
  // transcoded by then, and --timeout 1 leaves no time for a second poll.
  auto r =
      run({"upload", make_clip(clip_720p(4)), "--wait", "--timeout", "1", "--json"}, with_token());
  EXPECT_EQ(r.rc, 7) << r.err;
  EXPECT_NE(r.err.find("not ready within 1 s"), std::string::npos) << r.err;
  auto item = json::parse(r.out);
  EXPECT_NE(item["status"], "ready");
  // The item goes on transcoding, and the JSON line carried its keys: its
  // admin key manages it (deleted here rather than waited for).
  const std::string id = item["media_id"], key = item["admin_key"];
  EXPECT_NE(info(id, key)["status"], "failed");
  auto rm =
      run({"rm", "--", id}, {{"HLSGATE_SERVER", srv->base_url()}, {"HLSGATE_ADMIN_KEY", key}});
  EXPECT_EQ(rm.rc, 0) << rm.err;
}

// https: the certificate chain and the host name are checked. nginx
// terminates TLS in front of the server with a certificate for 127.0.0.1
// signed by a CA this test makes.
TEST_F(cli, https_checks_the_certificate_and_the_host_name) {
  if (!fs::exists(nginx_binary))
    GTEST_SKIP() << "nginx is not installed (scripts/install-deps.sh installs it)";
  env["HLSGATE_API_TOKEN"] = k_token;
  start();
  const std::string pki = make_temp_dir("cli-pki");
  std::ofstream{pki + "/san.ext"} << "subjectAltName=IP:127.0.0.1\n";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string out;
  ASSERT_EQ(run_command("cd " + shell_quote(pki) + " && openssl req -x509" + ec +
                            " -keyout ca.key -out ca.pem -days 1 -subj /CN=hlsgate-test-ca"
                            " 2>&1 && openssl req" +
                            ec +
                            " -keyout srv.key -out srv.csr -subj /CN=hlsgate-test 2>&1 &&"
                            " openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key"
                            " -CAcreateserial -out srv.pem -days 1 -extfile san.ext 2>&1",
                        &out),
            0)
      << out;
  const std::string prefix = make_temp_dir("cli-nginx");
  const uint16_t tls_port = free_port();
  nginx_process nginx{prefix};
  ASSERT_TRUE(nginx.start(
      "events {}\nhttp {\n  access_log off;\n  client_body_temp_path " + prefix +
          "/cb;\n  proxy_temp_path " + prefix +
          "/px;\n  server {\n    listen 127.0.0.1:" + std::to_string(tls_port) +
          " ssl;\n    ssl_certificate " + pki + "/srv.pem;\n    ssl_certificate_key " + pki +
          "/srv.key;\n    client_max_body_size 0;\n    proxy_request_buffering off;\n"
          "    location / { proxy_pass http://127.0.0.1:" +
          std::to_string(port()) + "; }\n  }\n}\n",
      tls_port))
      << read_file(nginx.error_log());
  const std::string https = "https://127.0.0.1:" + std::to_string(tls_port);
  auto trusted = anonymous();
  trusted["HLSGATE_API_TOKEN"] = k_token;
  trusted["SSL_CERT_FILE"] = pki + "/ca.pem";

  // Trusted CA and matching address: an upload streams through TLS.
  auto up = run({"upload", make_clip(clip_audio_only(2)), "--wait", "--json", "--server", https},
                trusted);
  ASSERT_EQ(up.rc, 0) << up.err << read_file(nginx.error_log());
  EXPECT_EQ(json::parse(up.out)["status"], "ready");
  auto ls = run({"ls", "--json", "--server", https}, trusted);
  ASSERT_EQ(ls.rc, 0) << ls.err;
  EXPECT_EQ(json::parse(ls.out).size(), 1u);

  // The system's trust store does not know the test CA.
  auto untrusted = trusted;
  untrusted.erase("SSL_CERT_FILE");
  untrusted["SSL_CERT_DIR"] = make_temp_dir("no-certs");
  untrusted["SSL_CERT_FILE"] = pki + "/san.ext"; // not a certificate
  auto r = run({"ls", "--server", https}, untrusted);
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;

  // A trusted certificate for another name: "localhost" is not 127.0.0.1.
  r = run({"ls", "--server", "https://localhost:" + std::to_string(tls_port)}, trusted);
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

} // namespace
} // namespace hlsgate::test
