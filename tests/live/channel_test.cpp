// The channel model of live/channel: POST /live's strict body parser, the
// store's JSON form of a record (windows included), channel folder names,
// the viewer estimate, and a window restored after a restart.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "live/channel.hpp"
#include "live/markers.hpp"

namespace hlsgate::live {
namespace {

TEST(channel_request, reads_every_field) {
  channel_config c;
  c.ladder = "720:2800k";
  ASSERT_EQ(parse_channel_request(R"({"name":"Match day","source":{"type":"test"},)"
                                  R"("segment_seconds":2.5,"dvr_window_seconds":120,)"
                                  R"("ladder":"360:800k,720:2800k","expiry_minutes":90,)"
                                  R"("keep_event":true})",
                                  c),
            "");
  EXPECT_EQ(c.name, "Match day");
  EXPECT_EQ(c.source, source_type::test);
  EXPECT_DOUBLE_EQ(c.segment_seconds, 2.5);
  EXPECT_DOUBLE_EQ(c.dvr_seconds, 120);
  EXPECT_EQ(c.ladder, "720:2800k,360:800k"); // canonical order
  EXPECT_EQ(c.expiry_minutes, 90u);
  EXPECT_TRUE(c.keep_event);
}

TEST(channel_request, rtmp_sources_round_trip) {
  channel_config c;
  ASSERT_EQ(parse_channel_request(R"({"name":"x","source":{"type":"rtmp"}})", c), "");
  EXPECT_EQ(c.source, source_type::rtmp);
  channel_record r;
  r.id = "c";
  r.storage_id = channel_storage_id("0123456789abcdefghij_-");
  r.stream_key_hash = "abc";
  r.config = c;
  channel_record back;
  ASSERT_TRUE(from_json(to_json(r), back));
  EXPECT_EQ(back.config.source, source_type::rtmp);
  EXPECT_EQ(back.stream_key_hash, "abc");
}

TEST(channel_request, keeps_defaults_for_missing_fields) {
  channel_config c;
  c.ladder = "480:1200k";
  ASSERT_EQ(parse_channel_request(R"({"name":"x","source":{"type":"test"}})", c), "");
  EXPECT_EQ(c.ladder, "480:1200k");
  EXPECT_DOUBLE_EQ(c.segment_seconds, 2);
  EXPECT_DOUBLE_EQ(c.dvr_seconds, 600);
  EXPECT_EQ(c.expiry_minutes, 1440u);
}

TEST(channel_request, refuses_what_it_does_not_know) {
  const char* bad[] = {
      "",
      "[]",
      R"({"source":{"type":"test"}})",
      R"({"name":"x"})",
      R"({"name":"","source":{"type":"test"}})",
      R"({"name":"a\"b","source":{"type":"test"}})",
      R"({"name":"a\nb","source":{"type":"test"}})",
      R"({"name":"x","source":{"type":"srt","port":1}})",
      R"({"name":"x","source":{"type":"rtmp","url":"rtmp://10.0.0.1/x"}})",
      R"({"name":"x","source":{"type":"pull"}})",
      R"({"name":"x","source":{"type":"pull","url":"ftp://10.0.0.1/"}})",
      R"({"name":"x","source":{"type":"pull","url":"file:///etc/passwd"}})",
      R"({"name":"x","source":{"type":"pull","url":"http://user:pw@host/"}})",
      R"({"name":"x","source":{"type":"pull","url":"http://host/a b"}})",
      R"({"name":"x","source":{"type":"pull","url":7}})",
      R"({"name":"x","source":{"type":"test","url":"http://host/"}})",
      R"({"name":"x","source":{}})",
      R"({"name":"x","source":"test"})",
      R"({"name":"x","source":{"type":"test"},"extra":1})",
      R"({"name":"x","source":{"type":"test"},"segment_seconds":0.5})",
      R"({"name":"x","source":{"type":"test"},"segment_seconds":"2"})",
      R"({"name":"x","source":{"type":"test"},"dvr_window_seconds":5})",
      R"({"name":"x","source":{"type":"test"},"segment_seconds":10,"dvr_window_seconds":20})",
      R"({"name":"x","source":{"type":"test"},"segment_seconds":1,"dvr_window_seconds":1801})",
      R"({"name":"x","source":{"type":"test"},"ladder":"720"})",
      R"({"name":"x","source":{"type":"test"},"expiry_minutes":0})",
      R"({"name":"x","source":{"type":"test"},"expiry_minutes":10081})",
      R"({"name":"x","source":{"type":"test"},"keep_event":1})",
  };
  for (const char* b : bad) {
    channel_config c;
    c.name = "unchanged";
    EXPECT_NE(parse_channel_request(b, c), "") << b;
    EXPECT_EQ(c.name, "unchanged") << "a refused body leaves the config alone: " << b;
  }
  channel_config c;
  EXPECT_NE(parse_channel_request(std::string(5000, ' '), c), "");
}

TEST(channel_record, round_trips_through_the_store_form) {
  channel_record r;
  r.id = "abc";
  r.storage_id = channel_storage_id("0123456789abcdefghij_-");
  r.admin_key_hash = "ff";
  r.config.name = "Ünïcode";
  r.config.ladder = "720:2800k";
  r.created_at = 100;
  r.expires_at = 200;
  r.token_gen = 3;
  r.stopped = true;
  rendition_state s;
  s.name = "v0";
  s.width = 1280;
  s.height = 720;
  s.frame_rate = 30;
  s.codecs = "avc1.64001f,mp4a.40.2";
  s.bandwidth = 3000000;
  s.next_sequence = 12;
  s.discontinuity_sequence = 2;
  live_segment seg;
  seg.sequence = 11;
  seg.uri = "seg_00011.ts";
  seg.duration = 2.002;
  seg.pdt_ms = 1796587200123;
  seg.discontinuity = true;
  seg.bytes = 4242;
  s.listed.push_back(seg);
  s.retired.push_back({"seg_00010.ts", 1796587210000});
  r.renditions.push_back(s);
  r.next_file = 14;
  channel_record back;
  ASSERT_TRUE(from_json(to_json(r), back));
  EXPECT_EQ(to_json(back), to_json(r));
  EXPECT_EQ(back.renditions.at(0).listed.at(0).uri, "seg_00011.ts");
  ASSERT_EQ(back.renditions[0].retired.size(), 1u);
  EXPECT_EQ(back.renditions[0].retired[0].uri, "seg_00010.ts");
  EXPECT_EQ(back.renditions[0].retired[0].delete_at_ms, 1796587210000);
  EXPECT_EQ(back.next_file, 14u);
  EXPECT_TRUE(back.renditions[0].listed[0].discontinuity);
  EXPECT_TRUE(back.stopped);

  EXPECT_FALSE(from_json("{}", back));
  EXPECT_FALSE(from_json("not json", back));
  auto text = to_json(r);
  text.replace(text.find("live-"), 5, "xxxx-"); // not a channel folder
  EXPECT_FALSE(from_json(text, back));
}

/// A minimal record of channel config `c`.
channel_record record_of(const channel_config& c) {
  channel_record r;
  r.id = "a";
  r.storage_id = channel_storage_id("0123456789abcdefghij_-");
  r.config = c;
  return r;
}

TEST(channel_request, pull_sources_round_trip) {
  channel_config c;
  ASSERT_EQ(
      parse_channel_request(
          R"({"name":"x","source":{"type":"pull","url":"https://cdn.example/a.m3u8?t=1"}})", c),
      "");
  EXPECT_EQ(c.source, source_type::pull);
  EXPECT_EQ(c.pull_url, "https://cdn.example/a.m3u8?t=1");
  EXPECT_FALSE(pushed(c.source));
  const channel_record r = record_of(c);
  channel_record back;
  ASSERT_TRUE(from_json(to_json(r), back));
  EXPECT_EQ(back.config.source, source_type::pull);
  EXPECT_EQ(back.config.pull_url, c.pull_url);
  // A stored record whose URL was tampered with is not restored.
  auto j = nlohmann::json::parse(to_json(r));
  j["pull_url"] = "file:///etc/passwd";
  EXPECT_FALSE(from_json(j.dump(), back));
  j["pull_url"] = "";
  EXPECT_FALSE(from_json(j.dump(), back));
}

TEST(channel_request, srt_sources_and_stream_ids) {
  channel_config c;
  ASSERT_EQ(parse_channel_request(R"({"name":"x","source":{"type":"srt"}})", c), "");
  EXPECT_EQ(c.source, source_type::srt);
  EXPECT_TRUE(pushed(c.source));
  EXPECT_FALSE(pushed(source_type::test));
  channel_record back;
  ASSERT_TRUE(from_json(to_json(record_of(c)), back));
  EXPECT_EQ(back.config.source, source_type::srt);

  EXPECT_EQ(srt_stream_key("AbC_-123"), "AbC_-123");
  EXPECT_EQ(srt_stream_key("#!::r=AbC_-123,m=publish"), "AbC_-123");
  EXPECT_EQ(srt_stream_key("#!::u=joe,r=key"), "key");
  for (std::string bad :
       std::vector<std::string>{"", "#!::m=publish", "#!::r=key,m=request", "#!::r=a,r=b", "#!::r",
                                "#!::r=", "key with space", "key/../x", "#!::r=k\n",
                                std::string(65, 'a'), "#!::r=" + std::string(600, 'a')})
    EXPECT_EQ(srt_stream_key(bad), "") << bad;
}

TEST(channel_record, storage_ids_are_not_vod_ids) {
  const auto id = channel_storage_id("0123456789abcdefghij_-");
  EXPECT_TRUE(is_channel_storage_id(id));
  EXPECT_EQ(id.size(), 27u); // the VOD sweep only takes 22-character names
  EXPECT_FALSE(is_channel_storage_id("0123456789abcdefghij_-"));
  EXPECT_FALSE(is_channel_storage_id("live-0123456789abcdefghij/."));
  EXPECT_FALSE(is_channel_storage_id("live-short"));
}

TEST(channel_record, markers_round_trip) {
  marker m;
  m.id = "m1";
  m.label = "Goal";
  m.cls = "sports.goal";
  m.start_ms = 1796587200123;
  m.duration = -1;
  m.data = R"({"a":1})";
  marker back;
  ASSERT_TRUE(from_json(to_json(m), back));
  EXPECT_EQ(back.id, "m1");
  EXPECT_EQ(back.start_ms, m.start_ms);
  EXPECT_EQ(back.duration, -1);
  EXPECT_EQ(back.data, m.data);
  EXPECT_FALSE(from_json(R"({"id":"x"})", back));
}

TEST(viewers, estimate_from_playlist_requests) {
  EXPECT_EQ(estimate_viewers(0, 10, 2), 0u);
  EXPECT_EQ(estimate_viewers(5, 10, 2), 1u);  // one player, a playlist every 2 s
  EXPECT_EQ(estimate_viewers(15, 10, 2), 3u); // three players
  EXPECT_EQ(estimate_viewers(6, 10, 2), 2u);  // rounded up
  EXPECT_EQ(estimate_viewers(3, 0, 2), 0u);
}

TEST(dvr_window, restores_after_a_restart_with_a_discontinuity) {
  std::vector<live_segment> saved;
  for (uint64_t i = 7; i < 10; ++i) {
    live_segment s;
    s.sequence = i;
    s.uri = "seg_0000" + std::to_string(i) + ".ts";
    s.duration = 2;
    saved.push_back(s);
  }
  dvr_window w(60, 2);
  w.restore(saved, 10, 1);
  EXPECT_EQ(w.media_sequence(), 7u);
  EXPECT_EQ(w.discontinuity_sequence(), 1u);
  EXPECT_DOUBLE_EQ(w.listed_seconds(), 6);
  live_segment next;
  next.uri = "seg_00010.ts";
  next.duration = 2;
  w.append(next, 0);
  ASSERT_EQ(w.segments().size(), 4u);
  EXPECT_EQ(w.segments().back().sequence, 10u);
  EXPECT_TRUE(w.segments().back().discontinuity) << "the source cannot continue where it was";
}

TEST(dvr_window, segments_in_their_grace_survive_a_restart) {
  dvr_window w(4, 1); // keeps max(4 s, 3 targets) = 4 s
  for (int i = 0; i < 4; ++i) {
    live_segment s;
    s.uri = "seg_0000" + std::to_string(i) + ".ts";
    s.duration = 2;
    w.append(s, 1000 * i);
  }
  ASSERT_EQ(w.retired().size(), 2u);
  const int64_t due = w.retired().back().delete_at_ms;

  dvr_window back(4, 1);
  back.restore({w.segments().begin(), w.segments().end()}, w.next_sequence(),
               w.discontinuity_sequence(), {w.retired().begin(), w.retired().end()});
  EXPECT_TRUE(back.take_expired(due - 1).size() < 2u) << "nothing is deleted before its grace";
  auto later = back.take_expired(due);
  auto all = back.take_expired(due); // each is returned once
  EXPECT_TRUE(all.empty());
  EXPECT_TRUE(back.retired().empty());
  EXPECT_FALSE(later.empty());
}

} // namespace
} // namespace hlsgate::live
