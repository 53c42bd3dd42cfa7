// The client commands' pure parts: the command line, the server URL, exit
// codes, what is printed, and the multipart framing of an upload.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/format.hpp"
#include "cli/http_client.hpp"
#include "cli/options.hpp"

namespace hlsgate::cli {
namespace {

std::optional<std::string> no_file(const std::string&) {
  return std::nullopt;
}
std::optional<std::string> token_file(const std::string& path) {
  if (path == "/data/api_token")
    return std::string{"tok-from-file\n"};
  return std::nullopt;
}

parse_result p(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  return parse(args, env, &token_file);
}

TEST(cli_options, commands_options_and_environment) {
  auto r = p({"upload", "a.mp4", "--wait", "--expiry=30", "b.mkv", "--ladder", "360:800k",
              "--timeout", "90", "--json"},
             {{"HLSGATE_API_TOKEN", "t"}, {"HLSGATE_SERVER", "https://media.example:8443/hls/"}});
  ASSERT_TRUE(r.ok) << r.message;
  const auto& v = r.value;
  EXPECT_EQ(v.command, "upload");
  EXPECT_EQ(v.args, (std::vector<std::string>{"a.mp4", "b.mkv"}));
  EXPECT_TRUE(v.wait);
  EXPECT_TRUE(v.json);
  EXPECT_EQ(v.expiry_minutes, 30);
  EXPECT_EQ(v.ladder, "360:800k");
  EXPECT_EQ(v.timeout_seconds, 90);
  EXPECT_EQ(v.api_token, "t");
  EXPECT_TRUE(v.where.tls);
  EXPECT_EQ(v.where.host, "media.example");
  EXPECT_EQ(v.where.port, 8443);
  EXPECT_EQ(v.where.base_path, "/hls");

  // --server beats HLSGATE_SERVER; --token-file beats HLSGATE_API_TOKEN.
  r = p({"ls", "--server", "http://127.0.0.1:9", "--token-file", "/data/api_token", "--status",
         "ready", "--name", "holiday", "--limit", "5"},
        {{"HLSGATE_SERVER", "http://other:1"}, {"HLSGATE_API_TOKEN", "env"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.where.port, 9);
  EXPECT_EQ(r.value.api_token, "tok-from-file");
  EXPECT_EQ(r.value.status, "ready");
  EXPECT_EQ(r.value.name_query, "holiday");
  EXPECT_EQ(r.value.limit, 5u);
  EXPECT_EQ(r.value.server, "http://127.0.0.1:9");

  // An id that starts with "--" goes after "--".
  r = p({"info", "--", "--abcdefghijklmnopqrst"}, {{"HLSGATE_ADMIN_KEY", "k"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.args[0], "--abcdefghijklmnopqrst");
  EXPECT_EQ(r.value.admin_key, "k");

  r = p({"tokens", "abc", "--new", "--label", "phone", "--ttl", "15"});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(r.value.mint);
  EXPECT_EQ(r.value.ttl_minutes, 15);

  r = p({"rm", "-h"});
  EXPECT_TRUE(r.help) << "-h is help, not a media id";
  r = p({"rm", "--", "-h"});
  EXPECT_TRUE(r.ok && !r.help) << "after --, it is an id";
  r = p({"rm", "--help"});
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.help);
  EXPECT_NE(r.message.find("Exit codes"), std::string::npos);
}

TEST(cli_options, refusals) {
  const std::vector<std::vector<std::string>> bad{
      {"nope"},
      {"upload"},                           // needs a file
      {"upload", "a", "--expiry", "0"},     // range
      {"upload", "a", "--expiry", "x"},     // not a number
      {"upload", "a", "--timeout", "5"},    // needs --wait
      {"upload", "a", "--wait=yes"},        // a switch takes no value
      {"upload", "a", "--status", "ready"}, // ls only
      {"ls", "extra"},                      // no arguments
      {"ls", "--status", "gone"},           // unknown status
      {"ls", "--limit"},                    // missing value
      {"info"},
      {"info", "a", "b"},
      {"info", "../../etc/passwd"}, // never becomes part of a URL
      {"info", "a%2F..%2F"},
      {"extend", "abc", "0"},
      {"extend", "abc", "10081"},
      {"tokens", "abc", "--label", "x"}, // --label goes with --new
      {"tokens", "abc", "--new", "--revoke", "j"},
      {"tokens", "abc", "--revoke", "a/b"},
      {"rm", "ok", "not/ok"},
      {"ls", "--server", "ftp://host"},
      {"ls", "--server", "http://user:pw@host"},
      {"ls", "--server", "http://host:99999"},
      {"ls", "--server", "http://host?x=1"},
      {"ls", "--server", "http://ho st"},
      {"ls", "--token-file", "/missing"},
  };
  for (auto& args : bad) {
    auto r = p(args);
    std::string joined;
    for (auto& a : args)
      joined += a + " ";
    EXPECT_FALSE(r.ok) << joined;
    EXPECT_FALSE(r.message.empty()) << joined;
  }
  EXPECT_FALSE(parse({"ls", "--token-file", "/data/api_token"}, {}, &no_file).ok);
}

TEST(cli_options, server_urls) {
  std::string why;
  auto ep = parse_server_url("http://[::1]:8000", why);
  ASSERT_TRUE(ep) << why;
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 8000);
  EXPECT_FALSE(ep->tls);
  ep = parse_server_url("https://example.org", why);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->port, 443);
  EXPECT_EQ(ep->base_path, "");
  ep = parse_server_url("http://h/", why);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->port, 80);
  EXPECT_EQ(ep->base_path, "");
  EXPECT_FALSE(parse_server_url("http://[::1", why));
  EXPECT_FALSE(parse_server_url("http://[::1]x", why));
  EXPECT_FALSE(parse_server_url("http://:80", why));
  EXPECT_FALSE(parse_server_url("http://h:0", why));
}

TEST(cli_options, exit_codes_and_ids) {
  EXPECT_EQ(exit_for_status(200), exit_code::ok);
  EXPECT_EQ(exit_for_status(202), exit_code::ok);
  EXPECT_EQ(exit_for_status(401), exit_code::auth);
  EXPECT_EQ(exit_for_status(403), exit_code::auth);
  EXPECT_EQ(exit_for_status(404), exit_code::not_found);
  EXPECT_EQ(exit_for_status(410), exit_code::not_found);
  EXPECT_EQ(exit_for_status(413), exit_code::failed);
  EXPECT_EQ(exit_for_status(503), exit_code::failed);
  EXPECT_EQ(exit_for_status(0), exit_code::unreachable);
  EXPECT_TRUE(valid_media_id("X-WAD9mH5EOn9ExVHVor-A"));
  EXPECT_FALSE(valid_media_id(""));
  EXPECT_FALSE(valid_media_id(std::string(65, 'a')));
  EXPECT_FALSE(valid_media_id("a.b"));
  EXPECT_TRUE(is_client_command("upload"));
  EXPECT_FALSE(is_client_command("serve"));
  EXPECT_FALSE(is_client_command("import"));
}

TEST(cli_format, sizes_clocks_and_progress) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(5ull << 30), "5.0 GiB");
  EXPECT_EQ(clock_text(75.4), "1:15");
  EXPECT_EQ(clock_text(3725), "1:02:05");
  EXPECT_EQ(clock_text(-1), "?");
  EXPECT_EQ(progress_line("a.mp4", 0.5, "1 B / 2 B", 10),
            "a.mp4                    [#####.....]  50%  1 B / 2 B");
  EXPECT_EQ(progress_line("x", 7, "", 4), "x                        [####] 100%");
  EXPECT_EQ(progress_line("x", -3, "", 4), "x                        [....]   0%");
  // A file name cannot move the cursor or clear the screen.
  auto line = progress_line("evil\x1b[2J\r\nname-that-is-very-long.mp4", 0, "d\x07");
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x07'), std::string::npos);
  EXPECT_EQ(line.rfind("evil?[2J??name-that-i...", 0), 0u) << line;
}

TEST(cli_format, tables) {
  auto items = nlohmann::json::parse(R"([
    {"media_id": "a1", "status": "ready", "duration": 4.2, "expires_at": "2026-12-06T17:00:00Z",
     "original_name": "clip\u001b.mp4", "created_at": "x"},
    {"media_id": "b22", "status": "processing", "duration": 0, "expires_at": null,
     "original_name": "long name.mkv"}])");
  EXPECT_EQ(media_table(items), "ID   STATUS      DURATION  EXPIRES               NAME\n"
                                "a1   ready       0:04      2026-12-06T17:00:00Z  clip?.mp4\n"
                                "b22  processing  0:00      -                     long name.mkv\n");
  EXPECT_EQ(media_table(nlohmann::json::object()), "ID  STATUS  DURATION  EXPIRES  NAME\n");
  auto info = nlohmann::json::parse(R"({"media_id": "a1", "original_name": "c.mp4",
    "status": "processing", "progress": 41.6, "eta_seconds": 12, "duration": 20,
    "upload_time": "t0", "expires_at": "t1", "imported": false, "thumbnails": true,
    "renditions": [{"name": "v0", "kind": "variant", "width": 1280, "height": 720,
                    "bandwidth": 2800000, "codecs": "avc1.64001f,mp4a.40.2"},
                   {"name": "a0", "kind": "audio", "language": "en", "bandwidth": 128000,
                    "codecs": "mp4a.40.2"}]})");
  auto text = info_text(info);
  EXPECT_NE(text.find("status:       processing (42%, ETA 0:12)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  v0         variant  1280x720  2800    avc1.64001f,mp4a.40.2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  a0         audio    en        128     mp4a.40.2\n"), std::string::npos)
      << text;
  auto tokens = nlohmann::json::parse(R"([
    {"jti": "j1", "label": "", "created_at": "c", "expires_at": null, "revoked": false},
    {"jti": "j2", "label": "tv", "created_at": "c", "expires_at": "e", "revoked": true}])");
  EXPECT_EQ(tokens_table(tokens), "JTI  CREATED  EXPIRES         STATE    LABEL\n"
                                  "j1   c        with the media  valid    -\n"
                                  "j2   c        e               revoked  tv\n");
}

TEST(cli_multipart, frame_and_hostile_file_names) {
  auto f = multipart_for("media", "a\"b\\c\r\nd.mp4", "BOUND");
  EXPECT_EQ(f.content_type, "multipart/form-data; boundary=BOUND");
  EXPECT_EQ(f.prefix,
            "--BOUND\r\nContent-Disposition: form-data; name=\"media\"; "
            "filename=\"a_b_c__d.mp4\"\r\nContent-Type: application/octet-stream\r\n\r\n");
  EXPECT_EQ(f.suffix, "\r\n--BOUND--\r\n");
  EXPECT_NE(multipart_for("media", "Café.mp4", "B").prefix.find("filename=\"Café.mp4\""),
            std::string::npos);
  EXPECT_NE(multipart_for("media", "", "B").prefix.find("filename=\"upload\""), std::string::npos);
}

} // namespace
} // namespace hlsgate::cli
