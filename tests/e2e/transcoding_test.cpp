// End-to-end tests of transcoding: the ladder, playback during transcoding,
// job control (cancel, queue limit, restart, watchdog), thumbnails, stream
// info and library import. Real server, real libav, real HTTP on 127.0.0.1.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/e2e/e2e_fixture.hpp"

using namespace hlsgate::test;

namespace {

class transcoding : public e2e {
protected:
  std::string ffprobe(const std::string& args, const std::string& url) {
    std::string out;
    int rc = run_command("ffprobe -v error " + args + " " + shell_quote(url) + " 2>&1", &out);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }

  std::string base(const std::string& id) const { return srv->base_url() + "/stream/" + id + "/"; }

  /// The only file in a data sub-folder (the source of the one running job).
  std::string only_file(const std::string& sub) const {
    std::string found;
    for (auto& e : fs::directory_iterator(data + "/" + sub))
      found = e.path().string();
    return found;
  }
};

std::map<std::string, std::string> attributes(const std::string& stream_inf) {
  std::map<std::string, std::string> out;
  std::regex re{"([A-Z-]+)=(\"[^\"]*\"|[^,]*)"};
  for (std::sregex_iterator i{stream_inf.begin(), stream_inf.end(), re}, e; i != e; ++i) {
    auto v = (*i)[2].str();
    if (!v.empty() && v.front() == '"')
      v = v.substr(1, v.size() - 2);
    out[(*i)[1]] = v;
  }
  return out;
}

} // namespace

TEST_F(transcoding, ladder_from_1080p_matches_what_ffprobe_sees) {
  start();
  clip_spec spec = clip_720p(12);
  spec.width = 1920;
  spec.height = 1080;
  auto r = upload(make_clip(spec));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = parse_json(r);
  std::string id = j["media_id"], token = j["access_token"];
  auto master = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
  ASSERT_EQ(master.status, 200u);
  EXPECT_NE(master.body.find("#EXT-X-INDEPENDENT-SEGMENTS"), std::string::npos);
  std::istringstream in{master.body};
  std::string line, inf;
  std::vector<std::pair<std::map<std::string, std::string>, std::string>> variants;
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-STREAM-INF:", 0) == 0)
      inf = line;
    else if (!line.empty() && line[0] != '#')
      variants.emplace_back(attributes(inf), line);
  }
  ASSERT_GE(variants.size(), 4u) << master.body;
  std::vector<std::string> expected = {"1920x1080", "1280x720", "854x480", "640x360"};
  std::vector<double> first_boundaries;
  for (size_t v = 0; v < variants.size(); ++v) {
    auto& [attrs, uri] = variants[v];
    SCOPED_TRACE(uri);
    EXPECT_EQ(attrs["RESOLUTION"], expected.at(v));
    for (auto* a : {"BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "RESOLUTION", "FRAME-RATE"})
      EXPECT_TRUE(attrs.count(a)) << a;
    EXPECT_GE(std::stoull(attrs["BANDWIDTH"]), std::stoull(attrs["AVERAGE-BANDWIDTH"]));
    auto pl = http_get(port(), "/stream/" + id + "/" + uri);
    ASSERT_EQ(pl.status, 200u);
    auto target = std::stoi(pl.body.substr(pl.body.find("#EXT-X-TARGETDURATION:") + 22));
    auto durations = extinf(pl.body);
    ASSERT_EQ(durations.size(), 2u) << pl.body; // 12 s at 6 s
    for (auto d : durations)
      EXPECT_LE(std::lround(d), target);
    auto segs = playlist_uris(pl.body);
    for (auto& seg : segs) {
      auto url = srv->base_url() + seg;
      auto flags = ffprobe("-select_streams v -read_intervals %+#1 -show_entries packet=flags "
                           "-of csv=p=0",
                           url);
      EXPECT_EQ(flags.substr(0, 1), "K") << "segment does not start with a keyframe: " << seg;
    }
    // RESOLUTION and CODECS agree with the stream itself.
    auto first = srv->base_url() + segs.at(0);
    auto size =
        ffprobe("-select_streams v -show_entries stream=width,height -of csv=s=x:p=0", first);
    EXPECT_EQ(size.substr(0, size.find('\n')), attrs["RESOLUTION"]);
    auto prof = ffprobe("-select_streams v -show_entries stream=profile,level -of csv=p=0", first);
    auto comma = prof.find(',');
    int level = std::stoi(prof.substr(comma + 1));
    char want[16];
    std::snprintf(want, sizeof want, "avc1.%s00%02x",
                  prof.rfind("High", 0) == 0 ? "64" : (prof.rfind("Main", 0) == 0 ? "4d" : "42"),
                  level);
    EXPECT_EQ(attrs["CODECS"].substr(0, 11), std::string{want}) << prof;
    EXPECT_NE(attrs["CODECS"].find("mp4a.40.2"), std::string::npos);
    auto rate = ffprobe("-select_streams v -show_entries stream=avg_frame_rate -of csv=p=0", first);
    auto slash = rate.find('/');
    EXPECT_NEAR(std::stod(rate.substr(0, slash)) / std::stod(rate.substr(slash + 1)),
                std::stod(attrs["FRAME-RATE"]), 0.01)
        << rate;
    // Decodes from its URL.
    std::string out;
    int rc = run_command("ffmpeg -nostdin -v error -i " +
                             shell_quote(srv->base_url() + "/stream/" + id + "/" + uri) +
                             " -f null - 2>&1",
                         &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, "");
  }
}

TEST_F(transcoding, per_upload_ladder_and_bad_ladder) {
  start();
  auto clip = make_clip(clip_720p(4));
  auto bad = upload(clip, "?ladder=big");
  EXPECT_EQ(bad.status, 422u) << bad.body;
  EXPECT_EQ(count_files(data + "/uploads"), 0u);
  auto r = upload(clip, "?ladder=360:800k");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = parse_json(r);
  auto master =
      http_get(port(), "/stream/" + j["media_id"].get<std::string>() +
                           "/playlist.m3u8?token=" + j["access_token"].get<std::string>());
  EXPECT_EQ(playlist_uris(master.body).size(), 1u) << master.body;
  EXPECT_NE(master.body.find("RESOLUTION=640x360"), std::string::npos) << master.body;
}

TEST_F(transcoding, event_playlist_is_served_before_the_job_ends_then_turns_vod) {
  start();
  auto clip = make_clip(clip_720p(30));
  auto t0 = std::chrono::steady_clock::now();
  auto r = upload(clip, "?async=true");
  auto uploaded = std::chrono::steady_clock::now();
  ASSERT_EQ(r.status, 202u) << r.body;
  auto j = parse_json(r);
  std::string id = j["media_id"], token = j["access_token"], key = j["admin_key"];
  auto url = "/stream/" + id + "/v0/playlist.m3u8?token=" + token;
  http_reply pl;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    pl = http_get(port(), url);
    if (pl.status == 200u)
      break;
    EXPECT_EQ(pl.status, 409u) << pl.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // polling interval
  }
  auto first_playable = std::chrono::steady_clock::now();
  ASSERT_EQ(pl.status, 200u);
  auto i = info(id, key);
  ASSERT_NE(i["status"], "ready") << "the job ended before an EVENT playlist was seen";
  EXPECT_NE(pl.body.find("#EXT-X-PLAYLIST-TYPE:EVENT"), std::string::npos) << pl.body;
  EXPECT_EQ(pl.body.find("#EXT-X-ENDLIST"), std::string::npos) << pl.body;
  auto problems = validate_media_playlist(pl.body);
  EXPECT_TRUE(problems.ok()) << problems.str() << pl.body;
  auto uris = playlist_uris(pl.body);
  ASSERT_FALSE(uris.empty());
  EXPECT_EQ(http_get(port(), uris[0]).status, 200u);
  EXPECT_GE(i["eta_seconds"].get<double>(), -1.0);
  std::printf("[ measure ] upload %.2f s, upload end to first playable segment %.2f s\n",
              std::chrono::duration<double>(uploaded - t0).count(),
              std::chrono::duration<double>(first_playable - uploaded).count());
  auto done = poll_info(id, key, [](const json& x) {
    return x["status"] != "processing" && x["status"] != "queued";
  });
  ASSERT_EQ(done["status"], "ready");
  pl = http_get(port(), url);
  EXPECT_NE(pl.body.find("#EXT-X-PLAYLIST-TYPE:VOD"), std::string::npos);
  EXPECT_NE(pl.body.find("#EXT-X-ENDLIST"), std::string::npos);
  EXPECT_EQ(extinf(pl.body).size(), 5u);
}

TEST_F(transcoding, delete_cancels_a_running_job_and_cleans_up) {
  start();
  auto r = upload(make_clip(clip_720p(30)), "?async=true");
  ASSERT_EQ(r.status, 202u);
  auto j = parse_json(r);
  std::string id = j["media_id"], key = j["admin_key"];
  auto i = poll_info(id, key, [](const json& x) { return x["progress"].get<double>() > 0; });
  ASSERT_EQ(i["status"], "processing");
  auto del = http_request(port(), "DELETE", "/media/" + id, {{"X-Admin-Key", key}});
  EXPECT_EQ(del.status, 200u);
  EXPECT_EQ(count_files(data + "/sources"), 0u);
  EXPECT_EQ(row_count(data), 0);
  // The worker stops promptly: the running gauge drops back to 0.
  std::string metrics;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    metrics = http_get(port(), "/metrics").body;
    if (metrics.find("hlsgate_transcode_jobs{state=\"running\"} 0") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // polling interval
  }
  EXPECT_NE(metrics.find("hlsgate_transcode_jobs{state=\"running\"} 0"), std::string::npos);
  EXPECT_NE(metrics.find("hlsgate_transcode_failures_total{reason=\"cancelled\"} 1"),
            std::string::npos);
  EXPECT_EQ(count_files(data + "/media"), 0u);
}

TEST_F(transcoding, full_queue_answers_429_and_keeps_nothing) {
  env["HLSGATE_QUEUE_LIMIT"] = "1";
  start();
  auto clip = make_clip(clip_720p(20));
  auto a = upload(clip, "?async=true"); // runs
  auto b = upload(clip, "?async=true"); // waits in the queue
  ASSERT_EQ(a.status, 202u);
  ASSERT_EQ(b.status, 202u);
  auto c = upload(clip, "?async=true");
  EXPECT_EQ(c.status, 429u) << c.body;
  EXPECT_FALSE(c.header("retry-after").empty());
  EXPECT_EQ(count_files(data + "/uploads"), 0u);
  EXPECT_EQ(count_files(data + "/sources"), 2u);
  EXPECT_EQ(row_count(data), 2);
  // Jobs are served in order: b is queued while a runs.
  auto bj = parse_json(b);
  EXPECT_EQ(info(bj["media_id"], bj["admin_key"])["status"], "queued");
}

TEST_F(transcoding, kill_9_mid_job_resumes_on_the_next_start) {
  start();
  auto r = upload(make_clip(clip_720p(20)), "?async=true");
  ASSERT_EQ(r.status, 202u);
  auto j = parse_json(r);
  std::string id = j["media_id"], key = j["admin_key"], token = j["access_token"];
  auto i = poll_info(id, key, [](const json& x) { return x["progress"].get<double>() > 5; });
  ASSERT_EQ(i["status"], "processing");
  srv->kill9();
  srv.reset();
  start();
  i = info(id, key);
  EXPECT_TRUE(i["status"] == "queued" || i["status"] == "processing") << i.dump();
  auto done = poll_info(
      id, key, [](const json& x) { return x["status"] == "ready" || x["status"] == "failed"; });
  ASSERT_EQ(done["status"], "ready") << done.dump();
  check_playback(id, token, "avc1.64", 3);
  check_decodes(id, token, 20);
  EXPECT_EQ(count_files(data + "/sources"), 0u);
  for (auto& e : fs::recursive_directory_iterator(data + "/media"))
    EXPECT_NE(e.path().extension(), ".part") << e.path();
}

TEST_F(transcoding, watchdog_fails_a_hung_job_and_replaces_the_worker) {
  env["HLSGATE_WATCHDOG_SECONDS"] = "2";
  start();
  auto clip = make_clip(clip_720p(20));
  auto r = upload(clip, "?async=true");
  ASSERT_EQ(r.status, 202u);
  auto j = parse_json(r);
  std::string id = j["media_id"], key = j["admin_key"];
  poll_info(id, key, [](const json& x) { return x["progress"].get<double>() > 0; });
  srv->kill9();
  srv.reset();
  // Its original becomes a FIFO that never delivers data: the resumed job
  // blocks in a read, like a hung network mount.
  auto source = only_file("sources");
  ASSERT_FALSE(source.empty());
  fs::remove(source);
  ASSERT_EQ(::mkfifo(source.c_str(), 0600), 0);
  int fifo = ::open(source.c_str(), O_RDWR | O_CLOEXEC); // keeps the reader from seeing EOF
  ASSERT_GE(fifo, 0);
  start();
  auto i = poll_info(
      id, key, [](const json& x) { return x["status"] == "failed"; }, 60);
  EXPECT_EQ(i["status"], "failed");
  EXPECT_NE(i["error"].get<std::string>().find("progress"), std::string::npos) << i.dump();
  auto m = http_get(port(), "/metrics").body;
  EXPECT_NE(m.find("hlsgate_transcode_failures_total{reason=\"watchdog\"} 1"), std::string::npos);
  // The replacement worker takes new jobs.
  auto next = upload(make_clip(clip_720p(4)));
  EXPECT_EQ(next.status, 200u) << next.body;
  ::close(fifo); // the hung thread reads EOF and ends, so the server can stop
}

TEST_F(transcoding, stream_info_and_thumbnails) {
  start();
  auto r = upload(make_clip(clip_720p(20)));
  ASSERT_EQ(r.status, 200u);
  auto j = parse_json(r);
  std::string id = j["media_id"], token = j["access_token"];
  EXPECT_EQ(http_get(port(), "/media/" + id + "/stream-info").status, 401u);
  auto si = http_get(port(), "/media/" + id + "/stream-info?token=" + token);
  ASSERT_EQ(si.status, 200u) << si.body;
  auto s = parse_json(si);
  EXPECT_EQ(s["format"], "hls");
  EXPECT_EQ(s["ready"], true);
  EXPECT_EQ(s["manifest_url"], base(id) + "playlist.m3u8?token=" + token);
  EXPECT_NEAR(s["duration"].get<double>(), 20, 0.5);
  EXPECT_EQ(s["renditions"].size(), 3u);
  ASSERT_TRUE(s.contains("poster_url"));
  auto poster = http_get(port(), "/stream/" + id + "/poster.jpg?token=" + token);
  ASSERT_EQ(poster.status, 200u);
  EXPECT_EQ(poster.header("content-type"), "image/jpeg");
  EXPECT_EQ(poster.body.substr(0, 2), "\xff\xd8");
  auto vtt = http_get(port(), "/stream/" + id + "/storyboard.vtt?token=" + token);
  ASSERT_EQ(vtt.status, 200u);
  EXPECT_EQ(vtt.body.rfind("WEBVTT", 0), 0u);
  auto ref = vtt.body.find("sprite.jpg?token=" + token + "#xywh=");
  ASSERT_NE(ref, std::string::npos) << vtt.body;
  auto sprite = http_get(port(), "/stream/" + id + "/sprite.jpg?token=" + token);
  EXPECT_EQ(sprite.status, 200u);
  EXPECT_EQ(sprite.body.substr(0, 2), "\xff\xd8");
  EXPECT_EQ(http_get(port(), "/stream/" + id + "/poster.jpg").status, 401u);
}

TEST_F(transcoding, library_import_transcodes_on_first_request) {
  auto library = make_temp_dir("library");
  fs::create_directories(library + "/shows");
  fs::copy_file(make_clip(clip_720p(12)), library + "/shows/episode.mp4");
  std::ofstream{library + "/notes.txt"} << "not media";
  env["HLSGATE_API_TOKEN"] = "admin-token-0123456789";
  env["HLSGATE_IMPORT_ROOT"] = library;
  start();
  auto body = json{{"paths", {library}}}.dump();
  EXPECT_EQ(http_request(port(), "POST", "/import", {}, body).status, 401u);
  EXPECT_EQ(
      http_request(port(), "POST", "/import", {{"Authorization", "Bearer nope"}}, body).status,
      403u);
  EXPECT_EQ(http_request(port(), "POST", "/import",
                         {{"Authorization", "Bearer admin-token-0123456789"}},
                         json{{"paths", {"/etc"}}}.dump())
                .status,
            403u);
  auto r = http_request(port(), "POST", "/import",
                        {{"Authorization", "Bearer admin-token-0123456789"}}, body);
  ASSERT_EQ(r.status, 200u) << r.body;
  auto items = parse_json(r)["items"];
  ASSERT_EQ(items.size(), 1u) << r.body; // the .txt is not a media file
  std::string id = items[0]["media_id"], token = items[0]["access_token"],
              key = items[0]["admin_key"];
  EXPECT_EQ(info(id, key)["status"], "imported") << "never played yet";
  EXPECT_NE(http_get(port(), "/metrics").body.find("hlsgate_media_items{status=\"imported\"} 1"),
            std::string::npos);
  EXPECT_EQ(count_files(data + "/sources"), 0u); // registered, not copied
  // The first playlist request starts the job and is answered once the
  // first segments exist.
  auto pl = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
  EXPECT_EQ(pl.status, 200u) << pl.body;
  auto done = poll_info(
      id, key, [](const json& x) { return x["status"] == "ready" || x["status"] == "failed"; });
  ASSERT_EQ(done["status"], "ready");
  const std::string m = http_get(port(), "/metrics").body;
  EXPECT_NE(m.find("hlsgate_media_items{status=\"imported\"} 0"), std::string::npos);
  EXPECT_NE(m.find("hlsgate_media_items{status=\"ready\"} 1"), std::string::npos);
  EXPECT_TRUE(fs::exists(library + "/shows/episode.mp4")) << "imported originals are never deleted";
  check_decodes(id, token, 12);
  // The command-line import, with the server stopped.
  ASSERT_EQ(srv->stop(), 0);
  srv.reset();
  std::string cmd = "HLSGATE_DATA_DIR=" + shell_quote(data) + " " + HLSGATE_BINARY + " import " +
                    shell_quote(library + "/shows/episode.mp4") + " 2>/dev/null";
  std::string out;
  ASSERT_EQ(run_command(cmd, &out), 0) << out;
  auto line = json::parse(out.substr(0, out.find('\n')), nullptr, false);
  ASSERT_TRUE(line.contains("media_id")) << out;
  start();
  auto pl2 =
      http_get(port(), "/stream/" + line["media_id"].get<std::string>() +
                           "/playlist.m3u8?token=" + line["access_token"].get<std::string>());
  EXPECT_EQ(pl2.status, 200u) << pl2.body;
}
