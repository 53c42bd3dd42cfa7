#include "actors/live_ingest.hpp"

#include <exception>

#include "auth/keys.hpp"
#include "config/ladder.hpp"
#include "metrics/log.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::ingest_job)

namespace hlsgate::actors {

namespace {

using ingest_actor = caf::typed_actor<caf::reacts_to<run_atom, ingest_job>>;

/// The job comes as a spawn argument (CAF 0.17 dereferences a null
/// argument tuple when an actor is spawned without any: UBSan reports it).
ingest_actor::behavior_type ingest_behavior(ingest_actor::pointer self, ingest_job job) {
  self->send(self, run_atom_v, std::move(job));
  return {
      [self](run_atom, const ingest_job& j) {
        auto owner = j.owner;
        const auto session = j.session;
        auto on_segment = [&](const media::segment_event& ev) {
          caf::anon_send(owner, segment_atom_v, session, ev);
        };
        std::string reason;
        try {
          auto res = media::transcode("", j.out_dir, j.options, {}, j.cancel.get(), on_segment);
          if (j.cancel->load()) {
            reason.clear();
          } else if (res) {
            reason = "the source ended";
          } else {
            reason = res.err().reason.empty() ? "the ingest failed" : res.err().reason;
            logging::warn(
                "live ingest stopped",
                {{"channel_id", j.channel_id}, {"reason", reason}, {"detail", res.err().detail}});
          }
        } catch (const std::exception& e) {
          // libav glue that throws must not take the process down: the
          // channel restarts the session.
          reason = "the ingest failed";
          logging::error("live ingest crashed", {{"channel_id", j.channel_id}, {"what", e.what()}});
        }
        caf::anon_send(owner, job_failed_atom_v, session, std::move(reason));
        self->quit();
      },
  };
}

} // namespace

media::transcode_options ingest_options(const live_env& env, const live::channel_record& r,
                                        size_t first_segment) {
  const auto& cfg = env.cfg;
  media::transcode_options o;
  o.segment_seconds = r.config.segment_seconds;
  o.x264_preset = cfg.x264_preset;
  o.allow_remux = false;
  o.low_latency = true;
  o.fixed_ladder = true;
  o.first_segment = first_segment;
  std::vector<config::rung> rungs;
  if (r.config.ladder.empty() || !config::parse_ladder(r.config.ladder, rungs).empty())
    rungs = cfg.ladder;
  int top = 0;
  for (auto& g : rungs) {
    o.ladder.push_back({g.height, g.video_bitrate});
    top = std::max(top, g.height);
  }
  if (r.config.source == live::source_type::rtmp) {
    o.source.kind = media::source_kind::live_url;
    o.source.url = cfg.rtmp_url + "/" +
                   auth::rtmp_stream_name(env.rtmp_name_key, r.storage_id, r.stream_key_hash);
    return o;
  }
  if (r.config.source == live::source_type::srt) {
    o.source.kind = media::source_kind::stream; // the caller gives the connection
    return o;
  }
  if (r.config.source == live::source_type::pull) {
    o.source.kind = media::source_kind::pull; // the caller gives the opener
    o.source.url = r.config.pull_url;
    return o;
  }
  o.source.kind = media::source_kind::test_pattern;
  o.source.pattern.height = top > 0 ? top : 720;
  o.source.pattern.width = (o.source.pattern.height * 16 / 9 + 1) & ~1;
  o.source.pattern.fps = 30;
  o.source.pattern.font_file = media::default_font_file();
  return o;
}

void start_ingest(caf::actor_system& sys, ingest_job j) {
  sys.spawn<caf::detached>(ingest_behavior, std::move(j));
}

} // namespace hlsgate::actors
