#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <system_error>
#include <unordered_set>

#include "actors/live_channel_state.hpp"
#include "media/names.hpp"
#include "metrics/log.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

/// The segments a channel that keeps its event recorded, oldest first;
/// nullopt (logged) when the store cannot be read.
std::optional<std::vector<live::live_segment>> kept_event(channel_ptr self) {
  auto& st = self->state;
  auto kept = st.env->store->load_event_segments(st.record.id);
  if (!kept) {
    logging::error("cannot read a live event's segments",
                   {{"channel_id", st.record.id}, {"detail", kept.err().detail}});
    return std::nullopt;
  }
  return std::move(kept).value();
}

} // namespace

void keep_event_segment(channel_ptr self) {
  auto& st = self->state;
  if (st.windows.empty() || st.windows[0].segments().empty())
    return;
  const auto& seg = st.windows[0].segments().back();
  if (auto s = st.env->store->add_event_segment(st.record.id, seg); !s) {
    logging::error("cannot record a live event's segment",
                   {{"channel_id", st.record.id}, {"detail", s.err().detail}});
    return;
  }
  st.kept.push_back(seg);
  st.kept_names.insert(seg.uri);
  st.kept_seconds += seg.duration;
  // No archive can be longer than HLSGATE_MAX_SOURCE_SECONDS: the oldest
  // segments beyond it go (their rows first, then the files the window no
  // longer lists; the tick deletes the others when their grace ends). One
  // segment of margin: the joined file's container duration (what the
  // upload's limit check measures) runs a little past the segments' sum.
  const double cap = std::max(st.record.config.segment_seconds,
                              st.env->cfg.max_source_seconds - st.record.config.segment_seconds);
  size_t drop = 0;
  double seconds = st.kept_seconds;
  while (drop + 1 < st.kept.size() && seconds > cap)
    seconds -= st.kept[drop++].duration;
  if (drop == 0)
    return;
  if (auto s = st.env->store->drop_event_segments(st.record.id, st.kept[drop - 1].sequence); !s) {
    logging::error("cannot drop a live event's oldest segments",
                   {{"channel_id", st.record.id}, {"detail", s.err().detail}});
    return;
  }
  std::unordered_set<std::string> in_window;
  for (auto& s : st.windows[0].segments())
    in_window.insert(s.uri);
  for (auto& s : st.windows[0].retired())
    in_window.insert(s.uri);
  const auto dir = folder(self) / st.record.renditions[0].name;
  std::error_code ec;
  for (size_t i = 0; i < drop; ++i) {
    st.kept_names.erase(st.kept.front().uri);
    if (in_window.count(st.kept.front().uri) == 0)
      fs::remove(dir / st.kept.front().uri, ec);
    st.kept.pop_front();
  }
  st.kept_seconds = seconds;
}

/// The record with the windows as they are now, written durably.
bool persist(channel_ptr self) {
  auto& st = self->state;
  for (size_t i = 0; i < st.windows.size(); ++i) {
    auto& rs = st.record.renditions[i];
    auto& w = st.windows[i];
    rs.listed.assign(w.segments().begin(), w.segments().end());
    rs.retired.assign(w.retired().begin(), w.retired().end());
    rs.next_sequence = w.next_sequence();
    rs.discontinuity_sequence = w.discontinuity_sequence();
  }
  if (auto s = st.env->store->put_channel(st.record); !s) {
    logging::error("cannot write a live channel",
                   {{"channel_id", st.record.id}, {"detail", s.err().detail}});
    return false;
  }
  return true;
}

/// A restored channel: its windows as saved; files no window lists (written
/// after the last save, or half-written) are removed.
void restore_windows(channel_ptr self) {
  auto& st = self->state;
  const int target = static_cast<int>(std::ceil(st.record.config.segment_seconds));
  for (auto& rs : st.record.renditions) {
    live::dvr_window w(st.record.config.dvr_seconds, target);
    std::unordered_set<std::string> keep;
    bool sweep = true;
    const bool top = st.windows.empty(); // renditions[0]: the one an event keeps
    if (top && st.record.config.keep_event) {
      if (auto kept = kept_event(self)) {
        for (auto& s : *kept) {
          keep.insert(s.uri);
          st.kept_names.insert(s.uri);
          st.kept_seconds += s.duration;
          st.kept.push_back(std::move(s));
        }
      } else {
        sweep = false; // which files are the event's is unknown: delete none
      }
    }
    for (auto& s : rs.listed)
      keep.insert(s.uri);
    for (auto& s : rs.retired) // deleted by the tick when their grace ends
      keep.insert(s.uri);
    w.restore(rs.listed, rs.next_sequence, rs.discontinuity_sequence, rs.retired);
    st.windows.push_back(std::move(w));
    std::error_code ec;
    if (sweep && media::is_rendition_name(rs.name)) // never the channel folder itself
      for (auto& e : fs::directory_iterator(folder(self) / rs.name, ec))
        if (keep.count(e.path().filename().string()) == 0)
          fs::remove(e.path(), ec);
  }
  st.expected = st.windows.size();
  if (st.record.stopped) {
    for (auto& w : st.windows)
      w.end();
    st.status = live::channel_status::ended;
  } else if (!st.windows.empty()) {
    st.status = live::channel_status::reconnecting;
    st.lost_since = now_ms(self); // it ends if the source does not come back
  }
}

archive_plan plan_archive(channel_ptr self) {
  auto& st = self->state;
  archive_plan p{st.record.id, st.record.config.name, st.record.config.ladder, 0, {}};
  if (st.windows.empty() || !media::is_rendition_name(st.record.renditions[0].name))
    return p;
  const auto dir = folder(self) / st.record.renditions[0].name;
  auto add = [&](const live::live_segment& seg) {
    p.segments.push_back({(dir / seg.uri).string(), seg.discontinuity});
    p.seconds += seg.duration;
  };
  if (st.record.config.keep_event && !st.kept.empty()) {
    for (auto& seg : st.kept)
      add(seg);
    return p;
  }
  for (auto& seg : st.windows[0].segments())
    add(seg);
  return p;
}

} // namespace hlsgate::actors
