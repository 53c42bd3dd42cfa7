// The media actor's side of a running job under CAF's deterministic test
// scheduler: segment events become an EVENT playlist (alternate audio
// tracks included once they play), and a stale worker's messages are ignored.
#include "tests/actors/media_actor_fixture.hpp"

namespace {
// Its own suite name: the fixture class of each file is its own (anonymous
// namespace), and one suite must use one class.
class media_events_test : public media_actor_test {};
} // namespace

TEST_F(media_events_test, segment_events_turn_into_an_event_playlist) {
  // A running job: the item is processing and has no snapshot yet.
  auto r = new_record(media_status::processing, 60);
  r.source_path = (dir / "source.mp4").string();
  std::ofstream{r.source_path} << "original";
  auto a = spawn_restored(r);
  ASSERT_EQ(jobs.size(), 1u) << "the unfinished job is resumed";
  EXPECT_EQ(jobs[0].source_path, r.source_path);
  auto event = [&](size_t index, const char* name, const char* uri) {
    media::segment_event ev;
    ev.rendition_count = 2;
    ev.rendition_index = index;
    ev.rendition.name = name;
    ev.rendition.has_video = true;
    ev.rendition.width = index == 0 ? 1280 : 640;
    ev.rendition.height = index == 0 ? 720 : 360;
    ev.segment = {uri, 6.0, 750000};
    caf::anon_send(a, segment_atom_v, jobs.back().id, ev);
    sched->run();
  };
  auto fetch = [&] { return playlist_of(a); };
  event(0, "v0", "seg_00000.ts");
  // Only one of two renditions has a segment: nothing playable yet.
  EXPECT_EQ(fetch(), nullptr);
  event(1, "v1", "seg_00000.ts");
  event(0, "v0", "seg_00001.ts");
  auto snap = fetch();
  ASSERT_NE(snap, nullptr);
  ASSERT_EQ(snap->renditions.size(), 2u);
  EXPECT_EQ(snap->renditions[0].type, media::playlist_type::event);
  EXPECT_FALSE(snap->renditions[0].ended);
  EXPECT_EQ(snap->renditions[0].segments.size(), 2u);
  EXPECT_EQ(snap->renditions[1].segments.size(), 1u);
  EXPECT_EQ(snap->master.variants[0].bandwidth, 1000000u); // 750000 B * 8 / 6 s
  // While the job runs the master lists one variant (players that loaded
  // several growing variants misjudge the duration when one of them ends).
  EXPECT_EQ(snap->master.variants.size(), 1u);
  EXPECT_EQ(snap->renditions[0].min_target_duration, 6);
}

// Alternate audio: the variants and one audio track make the item playable;
// a track without a segment yet (its sound starts later, or never) is left
// out of the master until it has one.
TEST_F(media_events_test, alternate_audio_tracks_are_listed_once_they_play) {
  auto r = new_record(media_status::processing, 60);
  r.source_path = (dir / "source.mkv").string();
  std::ofstream{r.source_path} << "original";
  auto a = spawn_restored(r);
  ASSERT_EQ(jobs.size(), 1u);
  auto event = [&](size_t index, const char* name) {
    media::segment_event ev;
    ev.rendition_count = 3; // v0, a0, a1
    ev.variant_count = 1;
    ev.rendition_index = index;
    ev.rendition.name = name;
    ev.rendition.has_video = index == 0;
    ev.rendition.has_audio = index != 0;
    ev.rendition.alternate = index != 0;
    ev.rendition.language = index == 1 ? "en" : "de";
    ev.rendition.label = index == 1 ? "English" : "Deutsch";
    ev.rendition.codecs = index == 0 ? "avc1.64001f" : "mp4a.40.2";
    ev.segment = {"seg_00000.ts", 6.0, index == 0 ? 750000u : 96000u};
    caf::anon_send(a, segment_atom_v, jobs.back().id, ev);
    sched->run();
  };
  auto fetch = [&] { return playlist_of(a); };
  event(0, "v0");
  EXPECT_EQ(fetch(), nullptr) << "no sound yet: the video alone would play silent";
  event(1, "a0");
  auto snap = fetch();
  ASSERT_NE(snap, nullptr) << "a1 has no segment, and need not";
  ASSERT_EQ(snap->master.media.size(), 1u);
  EXPECT_EQ(snap->master.media[0].name, "English");
  ASSERT_EQ(snap->master.variants.size(), 1u);
  EXPECT_EQ(snap->master.variants[0].codecs, "avc1.64001f,mp4a.40.2");
  EXPECT_EQ(snap->master.variants[0].audio_group, "aud");
  EXPECT_EQ(snap->rendition_names, (std::vector<std::string>{"v0", "a0"}));
  event(2, "a1");
  snap = fetch();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->master.media.size(), 2u);
  EXPECT_EQ(snap->rendition_names, (std::vector<std::string>{"v0", "a0", "a1"}));
}

// A worker abandoned by the watchdog may still report on its old job after
// the item started a new one: those messages are stale and ignored.
TEST_F(media_events_test, messages_of_an_earlier_job_are_ignored) {
  auto r = new_record(media_status::processing, 60);
  r.source_path = env->files.owned_source(r.storage_id);
  std::ofstream{r.source_path} << "uploaded original";
  ASSERT_TRUE(db->put(r).ok());
  auto a = spawn_restored(r);
  ASSERT_EQ(jobs.size(), 1u);
  const auto current = jobs[0].id;
  caf::anon_send(a, job_failed_atom_v,
                 job_failure{current + 1000, media::errc::internal, "stale", "stale"});
  job_result stale;
  stale.job = current + 1000;
  caf::anon_send(a, job_done_atom_v, stale);
  sched->run();
  std::optional<reply<info_result>> out;
  caf::anon_send(a, info_atom_v, key(),
                 completion<info_result>{[&](reply<info_result> x) { out = std::move(x); }});
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<info_result>(*out));
  EXPECT_NE(std::get<info_result>(*out).record.status, media_status::failed);
  EXPECT_NE(std::get<info_result>(*out).record.status, media_status::ready);
  EXPECT_TRUE(fs::exists(r.source_path));
}
