#include "actors/live_channel_state.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "actors/live_ingest.hpp"
#include "actors/live_pull.hpp"
#include "actors/tokens.hpp"
#include "auth/crypto.hpp"
#include "media/names.hpp"
#include "metrics/log.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

// -- the channel -------------------------------------------------------------------

namespace {

constexpr auto tick_interval = std::chrono::seconds(1);
constexpr unsigned max_backoff_seconds = 30;
constexpr size_t max_markers = 1000;
constexpr int64_t test_marker_interval_ms = 30000;

uint64_t viewers_now(channel_ptr self) {
  auto& st = self->state;
  uint64_t sum = 0;
  for (auto n : st.requests)
    sum += n;
  const int target = st.windows.empty() ? 1 : st.windows[0].target_duration();
  return live::estimate_viewers(sum, viewer_span, target);
}

channel_info make_info(channel_ptr self, bool for_operator) {
  auto& st = self->state;
  auto& r = st.record;
  channel_info i;
  i.channel_id = r.id;
  i.name = r.config.name;
  i.status = st.status;
  i.source = live::to_string(r.config.source);
  i.segment_seconds = r.config.segment_seconds;
  i.dvr_seconds = r.config.dvr_seconds;
  i.ladder = r.config.ladder;
  i.keep_event = r.config.keep_event;
  i.encrypted = r.config.encrypted;
  i.pull_url = r.config.pull_url;
  i.created_at = r.created_at;
  i.expires_at = r.expires_at;
  if (!st.windows.empty()) {
    i.media_sequence = st.windows[0].media_sequence();
    i.window_seconds = st.windows[0].listed_seconds();
    i.segments = st.windows[0].segments().size();
    i.width = r.renditions[0].width;
    i.height = r.renditions[0].height;
    i.fps = r.renditions[0].frame_rate;
  }
  i.ingest_bitrate = st.last_bitrate;
  i.dropped_frames = st.dropped_frames();
  i.viewers = static_cast<unsigned>(viewers_now(self));
  i.markers = st.markers.size();
  i.restarts = st.restarts;
  if (for_operator)
    i.last_error = st.last_error;
  return i;
}

void set_status(channel_ptr self, live::channel_status s) {
  auto& st = self->state;
  if (st.status == s)
    return;
  if (auto* m = st.env->metrics) {
    m->live_channels_add(live::to_string(st.status), -1);
    m->live_channels_add(live::to_string(s), +1);
  }
  st.status = s;
  if (s == live::channel_status::reconnecting && st.lost_since == 0)
    st.lost_since = st.env->now_ms();
  else if (s != live::channel_status::reconnecting)
    st.lost_since = 0;
  st.env->directory->update(st.record.id, make_info(self, false));
}

/// A new view for playlist requests: every window, the master playlist of
/// the renditions seen so far, the markers.
void publish(channel_ptr self) {
  auto& st = self->state;
  auto v = std::make_shared<live_view>();
  v->storage_id = st.record.storage_id;
  v->windows = st.windows;
  v->markers = st.markers;
  for (auto& r : st.record.renditions) {
    v->names.push_back(r.name);
    media::variant_entry e;
    e.uri = r.name + "/playlist.m3u8";
    e.bandwidth = std::max<uint64_t>(r.bandwidth, 1);
    e.codecs = r.codecs;
    e.width = r.width;
    e.height = r.height;
    e.frame_rate = r.frame_rate;
    v->master.variants.push_back(std::move(e));
  }
  st.view = std::move(v);
}

/// The event is over (stopped by its admin, or its source stayed away past
/// HLSGATE_LIVE_RECONNECT_SECONDS): ENDLIST, no more ingest. False (and
/// nothing changed) when the record could not be stored.
bool end_event(channel_ptr self) {
  auto& st = self->state;
  if (st.record.stopped)
    return true;
  st.record.stopped = true;
  if (!persist(self)) {
    st.record.stopped = false;
    return false;
  }
  for (auto& w : st.windows)
    w.end();
  if (st.cancel)
    st.cancel->store(true);
  set_status(self, live::channel_status::ended);
  publish(self);
  return true;
}

/// Every rendition the ingest produces has a name and a listed segment:
/// the master playlist is complete and the channel is live.
bool renditions_ready(const channel_state& st) {
  if (st.windows.empty() || st.windows.size() < st.expected)
    return false;
  for (size_t i = 0; i < st.windows.size(); ++i)
    if (st.windows[i].segments().empty() || st.record.renditions[i].name.empty())
      return false;
  return true;
}

void delete_files(channel_ptr self, size_t rendition, const std::vector<std::string>& names) {
  if (names.empty())
    return;
  const auto dir = folder(self) / self->state.record.renditions[rendition].name;
  std::error_code ec;
  for (auto& n : names)
    fs::remove(dir / n, ec);
}

/// Starts an ingest session. An SRT channel needs its publisher's
/// connection (`publisher`): without one it waits for the next to connect.
void start_session(channel_ptr self, std::shared_ptr<media::stream_reader> publisher = nullptr) {
  auto& st = self->state;
  if (st.ingesting || st.gone || st.draining || st.record.stopped)
    return;
  const bool srt = st.record.config.source == live::source_type::srt;
  if (srt && !publisher)
    return;
  uint64_t first = st.record.next_file;
  for (auto& w : st.windows) {
    first = std::max(first, w.next_sequence()); // records written before next_file
    w.mark_discontinuity();
  }
  st.session_start_ms = now_ms(self);
  st.dropped_before += std::exchange(st.session_dropped, 0);
  st.session_media.assign(st.windows.size(), 0.0);
  st.session_first = first;
  st.session_files.assign(st.windows.size(), 0);
  ingest_job j;
  j.session = ++st.session;
  j.channel_id = st.record.id;
  j.out_dir = folder(self).string();
  j.options = ingest_options(*st.env, st.record, static_cast<size_t>(first));
  if (srt) {
    publisher->watch(j.cancel);
    j.options.source.stream = std::move(publisher);
  }
  if (st.record.config.source == live::source_type::pull)
    j.options.source.opener = make_pull_opener(st.env->cfg.allow_private_upstreams, j.cancel);
  j.owner = self;
  st.cancel = j.cancel;
  st.ingesting = true;
  start_ingest(self->home_system(), std::move(j));
}

/// The channel is gone (deleted or expired): the record first, then the
/// revocation state, then (once the ingest stopped writing) the files.
bool retire(channel_ptr self) {
  auto& st = self->state;
  if (auto s = st.env->store->remove_channel(st.record.id); !s) {
    logging::error("cannot delete a live channel",
                   {{"channel_id", st.record.id}, {"detail", s.err().detail}});
    return false;
  }
  st.gone = true;
  st.env->revocations->erase(st.record.storage_id);
  st.env->directory->erase(st.record.id);
  if (auto* m = st.env->metrics) {
    m->live_channels_add(live::to_string(st.status), -1);
    m->live_channel_gone(st.record.id);
  }
  if (st.cancel)
    st.cancel->store(true);
  if (!st.ingesting) {
    std::error_code ec;
    fs::remove_all(folder(self), ec);
    self->quit();
  }
  return true;
}

bool may_view(channel_ptr self, const auth::token_claims& claims, api_error& err) {
  auto& st = self->state;
  if (st.gone) {
    err = {api_errc::not_found, "Channel not found"};
    return false;
  }
  if (claims.gen != st.record.token_gen) {
    err = {api_errc::forbidden, "Token was revoked"};
    return false;
  }
  if (now_ms(self) / 1000 >= st.record.expires_at) {
    err = {api_errc::expired, "Channel expired"};
    return false;
  }
  return true;
}

bool may_manage(channel_ptr self, const admin_credential& who, api_error& err) {
  auto& st = self->state;
  if (st.gone) {
    err = {api_errc::not_found, "Channel not found"};
    return false;
  }
  if (admin_allowed(who, st.record.admin_key_hash, err))
    return true;
  if (err.code == api_errc::forbidden && st.env->metrics)
    st.env->metrics->auth_failure("bad_admin_key");
  return false;
}

media::status add_marker(channel_ptr self, live::marker& m) {
  auto& st = self->state;
  m.id = auth::random_id().substr(0, 12);
  if (auto s = st.env->store->put_marker(st.record.id, m); !s)
    return s;
  auto at = std::upper_bound(st.markers.begin(), st.markers.end(), m,
                             [](auto& a, auto& b) { return a.start_ms < b.start_ms; });
  st.markers.insert(at, m);
  publish(self);
  return media::ok_status();
}

void on_segment(channel_ptr self, uint64_t session, const media::segment_event& ev) {
  auto& st = self->state;
  if (session != st.session || st.gone)
    return;
  if (st.record.stopped) {
    // Finished before the ingest saw the stop: not part of the event.
    std::error_code ec;
    if (media::is_rendition_name(ev.rendition.name))
      fs::remove(folder(self) / ev.rendition.name / ev.segment.uri, ec);
    return;
  }
  const size_t variants = ev.variant_count == 0 ? ev.rendition_count : ev.variant_count;
  const size_t i = ev.rendition_index;
  if (i >= variants || i >= 16)
    return; // alternate audio is not offered live
  while (st.windows.size() <= i) {
    st.record.renditions.emplace_back();
    st.windows.emplace_back(st.record.config.dvr_seconds,
                            static_cast<int>(std::ceil(st.record.config.segment_seconds)));
    st.windows.back().mark_discontinuity();
  }
  st.expected = variants;
  auto& rs = st.record.renditions[i];
  rs.name = ev.rendition.name;
  rs.width = ev.rendition.width;
  rs.height = ev.rendition.height;
  rs.frame_rate = ev.rendition.frame_rate;
  rs.codecs = ev.rendition.codecs;
  const int64_t t = now_ms(self);
  if (st.session_media.size() <= i) {
    st.session_media.resize(i + 1, 0.0);
    st.session_files.resize(i + 1, 0);
  }
  // Files numbered from session_first in every rendition: the next session
  // starts above the highest any of them reached.
  st.record.next_file = std::max(st.record.next_file, st.session_first + ++st.session_files[i]);
  live::live_segment seg;
  seg.uri = ev.segment.uri;
  seg.duration = ev.segment.duration;
  seg.bytes = ev.segment.bytes;
  seg.pdt_ms = st.session_start_ms + static_cast<int64_t>(std::llround(st.session_media[i] * 1000));
  st.session_media[i] += seg.duration;
  const double latency = (t - seg.pdt_ms) / 1000.0 - seg.duration;
  const uint64_t bps =
      seg.duration > 0 ? static_cast<uint64_t>(std::llround(seg.bytes * 8 / seg.duration)) : 0;
  rs.bandwidth = std::max(rs.bandwidth, bps);
  // EXT-X-TARGETDURATION may not change: a segment longer than the target
  // (a source whose keyframes come late) is still listed, rounded.
  st.windows[i].append(std::move(seg), t);
  if (i == 0) {
    st.last_bitrate = bps;
    st.session_dropped = ev.damaged_frames;
    st.backoff = 0;
    // A kept event's segment is recorded once the window that lists it is
    // stored (its sequence number is then never given out again).
    if (persist(self) && st.record.config.keep_event)
      keep_event_segment(self);
    if (auto* m = st.env->metrics)
      m->live_segment_listed(std::max(0.0, latency));
  }
  if (renditions_ready(st) && st.status != live::channel_status::live) {
    set_status(self, live::channel_status::live);
    if (st.next_test_marker == 0 && st.record.config.source == live::source_type::test)
      st.next_test_marker = t + test_marker_interval_ms;
  }
  publish(self);
}

void on_ended(channel_ptr self, uint64_t session, const std::string& reason) {
  auto& st = self->state;
  if (session != st.session)
    return;
  st.ingesting = false;
  if (st.gone) {
    st.next_publisher.reset();
    std::error_code ec;
    fs::remove_all(folder(self), ec);
    self->quit();
    return;
  }
  if (st.draining || st.record.stopped) {
    st.next_publisher.reset(); // its connection closes
    return;
  }
  if (st.next_publisher) { // an SRT publisher took over
    start_session(self, std::move(st.next_publisher));
    return;
  }
  st.last_error = reason;
  st.backoff = std::min(max_backoff_seconds, std::max(1u, st.backoff * 2));
  ++st.restarts;
  // A channel that never had a picture is still waiting for its source.
  if (!st.windows.empty())
    set_status(self, live::channel_status::reconnecting);
  if (st.record.config.source == live::source_type::srt) {
    // SRT is pushed: the channel waits for its publisher to connect again.
    logging::warn("live ingest stopped; waiting for the publisher",
                  {{"channel_id", st.record.id}, {"reason", reason}});
    return;
  }
  logging::warn("live ingest will restart", {{"channel_id", st.record.id},
                                             {"reason", reason},
                                             {"in_seconds", std::to_string(st.backoff)}});
  self->delayed_send(self, std::chrono::seconds(st.backoff), restart_atom_v, st.session);
}

void on_tick(channel_ptr self) {
  auto& st = self->state;
  if (st.gone)
    return;
  const int64_t t = now_ms(self);
  if (t / 1000 >= st.record.expires_at) {
    logging::info("live channel expired", {{"channel_id", st.record.id}});
    if (retire(self))
      return;
  }
  for (size_t i = 0; i < st.windows.size(); ++i) {
    auto expired = st.windows[i].take_expired(t);
    if (i == 0 && st.record.config.keep_event) // a kept event's top rendition stays
      expired.erase(std::remove_if(expired.begin(), expired.end(),
                                   [&](const std::string& n) { return st.kept_names.count(n); }),
                    expired.end());
    delete_files(self, i, expired);
  }
  if (st.lost_since > 0 &&
      t - st.lost_since >= int64_t{st.env->cfg.live_reconnect_seconds} * 1000) {
    logging::info("live source did not come back; the event ends", {{"channel_id", st.record.id}});
    end_event(self);
  }
  // The viewer estimate looks at the last `viewer_span` seconds.
  const int64_t sec = t / 1000;
  for (int64_t s = st.request_second + 1; s <= sec && s <= st.request_second + int64_t{viewer_span};
       ++s)
    st.requests[static_cast<size_t>(s) % viewer_span] = 0;
  st.request_second = sec;
  if (st.status == live::channel_status::live && st.next_test_marker > 0 &&
      t >= st.next_test_marker) {
    live::marker m;
    m.label = "Test marker " + std::to_string(++st.test_markers);
    m.cls = "hlsgate.test";
    m.start_ms = t;
    m.duration = 5;
    if (auto s = add_marker(self, m); !s)
      logging::error("cannot store a test marker", {{"channel_id", st.record.id}});
    st.next_test_marker = t + test_marker_interval_ms;
  }
  st.env->directory->update(st.record.id, make_info(self, false));
  if (auto* m = st.env->metrics)
    m->live_channel_gauges(st.record.id, static_cast<double>(st.last_bitrate),
                           static_cast<double>(viewers_now(self)),
                           static_cast<double>(st.dropped_frames()));
  self->delayed_send(self, tick_interval, tick_atom_v);
}

channel_actor::behavior_type channel_behavior(channel_ptr self, channel_params p) {
  auto& st = self->state;
  st.env = p.env;
  st.record = std::move(p.record);
  st.markers = std::move(p.markers);
  if (!p.fresh)
    restore_windows(self);
  bool stored = true;
  if (p.fresh) {
    if (auto s = st.env->store->put_channel(st.record); !s) {
      logging::error("cannot store a new live channel", {{"detail", s.err().detail}});
      st.env->directory->release();
      p.creator(api_error{api_errc::internal, "Cannot store the channel"});
      stored = false;
    }
  }
  if (stored) {
    if (auto* m = st.env->metrics)
      m->live_channels_add(live::to_string(st.status), +1);
    st.env->revocations->publish(st.record.storage_id,
                                 {st.record.token_gen, st.record.expires_at, {}});
    st.env->directory->put(st.record.id, {self, make_info(self, false), st.record.storage_id,
                                          st.record.stream_key_hash, st.record.srt_passphrase});
    if (p.fresh)
      p.creator(std::move(p.created));
    publish(self);
    // A new RTMP channel waits for its publisher (on_publish sends run);
    // every other one starts reading now (a restored RTMP channel too: its
    // publisher may still be connected to nginx-rtmp).
    if (!(p.fresh && st.record.config.source == live::source_type::rtmp))
      start_session(self);
    self->send(self, tick_atom_v);
  } else {
    st.gone = true;
    self->quit();
  }
  return {
      [self](playlist_atom, const auth::token_claims& claims, bool media_request,
             completion<live_grant>& done) {
        auto& st = self->state;
        api_error err;
        if (!may_view(self, claims, err))
          return done(std::move(err));
        if (!renditions_ready(st))
          return done(api_error{api_errc::try_later, "The channel is waiting for its source"});
        if (media_request)
          ++st.requests[static_cast<size_t>(now_ms(self) / 1000) % viewer_span];
        live_grant g;
        g.view = st.view;
        g.gen = st.record.token_gen;
        g.jti = claims.jti;
        g.token_exp = claims.exp;
        g.deadline = st.record.expires_at;
        done(std::move(g));
      },
      [self](info_atom, const admin_credential& who, completion<channel_info>& done) {
        api_error err;
        if (!may_manage(self, who, err))
          return done(std::move(err));
        done(make_info(self, who.is_operator));
      },
      [self](stop_atom, const admin_credential& who, completion<channel_info>& done) {
        api_error err;
        if (!may_manage(self, who, err))
          return done(std::move(err));
        if (!end_event(self))
          return done(api_error{api_errc::internal, "Cannot store the channel"});
        done(make_info(self, who.is_operator));
      },
      [self](delete_atom, const admin_credential& who, completion<done>& done) {
        api_error err;
        if (!may_manage(self, who, err))
          return done(std::move(err));
        if (!retire(self))
          return done(api_error{api_errc::internal, "Cannot delete the channel"});
        done(actors::done{});
      },
      [self](refresh_atom, const admin_credential& who, completion<channel_created>& done) {
        auto& st = self->state;
        api_error err;
        if (!may_manage(self, who, err))
          return done(std::move(err));
        ++st.record.token_gen;
        if (!persist(self)) {
          --st.record.token_gen;
          return done(api_error{api_errc::internal, "Cannot store the channel"});
        }
        st.env->revocations->publish(st.record.storage_id,
                                     {st.record.token_gen, st.record.expires_at, {}});
        channel_created c;
        c.channel_id = st.record.id;
        c.storage_id = st.record.storage_id;
        c.expires_at = st.record.expires_at;
        c.access_token = mint_channel_token(*st.env->jwt, st.record.id, st.record.token_gen,
                                            now_ms(self) / 1000);
        if (st.env->metrics)
          st.env->metrics->token_issued();
        done(std::move(c));
      },
      [self](rekey_atom, const admin_credential& who, completion<channel_created>& done) {
        auto& st = self->state;
        api_error err;
        if (!may_manage(self, who, err))
          return done(std::move(err));
        if (!live::pushed(st.record.config.source))
          return done(api_error{api_errc::not_ready, "Only pushed channels have a stream key"});
        if (st.record.stopped)
          return done(api_error{api_errc::not_ready, "The event has ended"});
        const auto old = std::pair{st.record.stream_key_hash, st.record.srt_passphrase};
        channel_created c;
        issue_stream_key(st.env->cfg, st.record, c);
        if (!persist(self)) {
          std::tie(st.record.stream_key_hash, st.record.srt_passphrase) = old;
          return done(api_error{api_errc::internal, "Cannot store the channel"});
        }
        st.env->directory->set_stream_key(st.record.id, st.record.stream_key_hash,
                                          st.record.srt_passphrase);
        // Whoever publishes with the old key is cut off: the session ends
        // (SRT: its connection closes; RTMP: the channel reads the new key's
        // name from now on) and the channel waits for the new key.
        st.next_publisher.reset();
        if (st.cancel)
          st.cancel->store(true);
        logging::info("new stream key", {{"channel_id", st.record.id}});
        c.channel_id = st.record.id;
        done(std::move(c));
      },
      [self](marker_add_atom, const admin_credential& who, live::marker& m,
             completion<live::marker>& done) {
        auto& st = self->state;
        api_error err;
        if (!may_manage(self, who, err))
          return done(std::move(err));
        if (st.markers.size() >= max_markers)
          return done(api_error{api_errc::limit_exceeded, "This channel has 1000 markers"});
        if (auto s = add_marker(self, m); !s)
          return done(api_error{api_errc::internal, "Cannot store the marker"});
        done(std::move(m));
      },
      [self](marker_list_atom, const auth::token_claims& claims, int64_t since,
             completion<std::vector<live::marker>>& done) {
        api_error err;
        if (!may_view(self, claims, err))
          return done(std::move(err));
        std::vector<live::marker> out;
        for (auto& m : self->state.markers)
          if (m.start_ms > since)
            out.push_back(m);
        done(std::move(out));
      },
      [self](marker_del_atom, const admin_credential& who, const std::string& id,
             completion<done>& done) {
        auto& st = self->state;
        api_error err;
        if (!may_manage(self, who, err))
          return done(std::move(err));
        auto removed = st.env->store->remove_marker(st.record.id, id);
        if (!removed)
          return done(api_error{api_errc::internal, "Cannot delete the marker"});
        if (!*removed)
          return done(api_error{api_errc::not_found, "Marker not found"});
        st.markers.erase(std::remove_if(st.markers.begin(), st.markers.end(),
                                        [&](auto& m) { return m.id == id; }),
                         st.markers.end());
        publish(self);
        done(actors::done{});
      },
      [self](archive_atom, const admin_credential& who, completion<archive_plan>& done) {
        api_error err;
        if (!may_manage(self, who, err))
          return done(std::move(err));
        auto plan = plan_archive(self);
        if (plan.segments.empty())
          return done(api_error{api_errc::not_ready, "The channel has no segment to archive yet"});
        done(std::move(plan));
      },
      [self](run_atom) {
        auto& st = self->state;
        if (st.ingesting)
          return;
        st.backoff = 0;
        start_session(self);
      },
      [self](run_atom, std::shared_ptr<media::stream_reader>& publisher) {
        auto& st = self->state;
        // Dropping the reader closes the publisher's connection.
        if (st.record.config.source != live::source_type::srt || st.gone || st.draining ||
            st.record.stopped)
          return;
        if (!st.ingesting) {
          st.backoff = 0;
          return start_session(self, std::move(publisher));
        }
        // A publisher reconnecting before its old connection timed out: the
        // newest one wins (each holds the key); the old session ends first.
        st.next_publisher = std::move(publisher);
        if (st.cancel)
          st.cancel->store(true);
      },
      [self](drain_atom) {
        auto& st = self->state;
        st.draining = true;
        if (st.cancel)
          st.cancel->store(true);
      },
      [self](segment_atom, uint64_t session, const media::segment_event& ev) {
        on_segment(self, session, ev);
      },
      [self](job_failed_atom, uint64_t session, const std::string& reason) {
        on_ended(self, session, reason);
      },
      [self](tick_atom) { on_tick(self); },
      [self](restart_atom, uint64_t session) {
        if (session == self->state.session)
          start_session(self);
      },
  };
}

} // namespace

std::string mint_channel_token(const auth::jwt_codec& jwt, const std::string& id, uint64_t gen,
                               int64_t now_s) {
  auth::token_claims claims;
  claims.sub = id;
  claims.gen = gen;
  claims.jti = auth::random_id();
  claims.iat = now_s;
  return jwt.issue(claims);
}

void issue_stream_key(const config::settings& cfg, live::channel_record& r, channel_created& c) {
  c.stream_key = auth::random_id();
  r.stream_key_hash = auth::sha256_hex(c.stream_key);
  if (r.config.encrypted) // 128 random bits, within libsrt's 10-79 characters
    r.srt_passphrase = c.srt_passphrase = auth::random_id();
  c.ingest_url = r.config.source == live::source_type::rtmp
                     ? cfg.rtmp_public_url
                     : cfg.effective_srt_url() + "?streamid=" + c.stream_key;
  if (!r.srt_passphrase.empty())
    c.ingest_url += "&passphrase=" + r.srt_passphrase;
}

channel_actor spawn_channel(caf::actor_system& sys, channel_params p) {
  return sys.spawn(channel_behavior, std::move(p));
}

} // namespace hlsgate::actors
