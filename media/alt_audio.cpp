#include "media/alt_audio.hpp"

#include <algorithm>

#include "media/track_labels.hpp"

extern "C" {
#include <libavformat/avformat.h>
}

namespace hlsgate::media::detail {

namespace {

/// Adds "N audio track(s) <what>" to `warning` when `n` > 0; `what` has
/// the singular and plural forms.
void add_warning(std::string& warning, size_t n, const char* one, const char* many) {
  if (n == 0)
    return;
  warning += (warning.empty() ? "" : "; ") + std::to_string(n) + " audio track" +
             (n > 1 ? "s " : " ") + (n > 1 ? many : one);
}

} // namespace

std::vector<int> alternate_audio::choose(AVFormatContext* in, int vidx, size_t& skipped) {
  skipped = 0;
  std::vector<int> streams;
  if (vidx < 0)
    return streams;
  for (unsigned i = 0; i < in->nb_streams; ++i) {
    const AVStream* st = in->streams[i];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && libav::usable_stream(st))
      streams.push_back(static_cast<int>(i));
  }
  if (streams.size() < 2)
    return {};
  if (streams.size() > kMaxAudioTracks) {
    skipped = streams.size() - kMaxAudioTracks;
    streams.resize(kMaxAudioTracks);
  }
  return streams;
}

status alternate_audio::open_tracks(AVFormatContext* in, const std::vector<int>& streams,
                                    size_t skipped, int threads, int bitrate, int64_t start_ticks) {
  const std::string limit = "skipped: at most " + std::to_string(kMaxAudioTracks) + " are kept";
  add_warning(warning_, skipped, limit.c_str(), limit.c_str());
  const std::vector<audio_stream_info> tags = list_audio_streams(in);
  size_t failed = 0;
  for (int idx : streams) {
    const AVStream* st = in->streams[idx];
    auto t = std::make_unique<track>();
    t->stream = idx;
    for (const auto& info : tags)
      if (info.index == idx)
        t->tags = info;
    track* self = t.get();
    t->encoder = std::make_unique<audio_encoder>([self](AVPacket* pkt) -> status {
      libav::packet_ptr copy(av_packet_clone(pkt));
      if (!copy)
        return libav::fail(errc::internal, "out of memory", "queue audio", libav::kNoMemory);
      return self->writer->write_audio(std::move(copy));
    });
    if (!t->encoder->open_encode(st, threads, bitrate, start_ticks)) {
      ++failed; // no decoder for it, or a broken one: the others still play
      continue;
    }
    tracks_.push_back(std::move(t));
  }
  add_warning(warning_, failed, "could not be decoded and was left out",
              "could not be decoded and were left out");
  return ok_status();
}

status alternate_audio::open_writers(const std::filesystem::path& out_dir, job_shared& shared,
                                     size_t first_index, size_t count, int64_t seg_ticks) {
  std::vector<std::string> labels;
  bool have_default = false;
  for (size_t k = 0; k < tracks_.size(); ++k) {
    track& t = *tracks_[k];
    libav::codecpar_ptr par(avcodec_parameters_alloc());
    if (!par)
      return libav::fail(errc::internal, "out of memory", "open renditions", libav::kNoMemory);
    if (auto s = t.encoder->parameters(par.get()); !s)
      return s;
    t.writer = std::make_unique<rendition_writer>(shared, first_index + k, count, seg_ticks);
    rendition_output& info = t.writer->info();
    info.name = "a" + std::to_string(k);
    info.alternate = true;
    info.language = language_tag(t.tags.language);
    const std::string title = clean_label(t.tags.title);
    const std::string base = !title.empty()           ? title
                             : !info.language.empty() ? info.language
                                                      : "Audio " + std::to_string(k + 1);
    info.label = unique_label(base, labels);
    labels.push_back(info.label);
    info.is_default = !have_default && t.tags.is_default;
    info.channels = par->ch_layout.nb_channels;
    have_default = have_default || info.is_default;
    t.writer->follow_picture();
    if (auto s = t.writer->open(out_dir / info.name, nullptr, par.get()); !s)
      return s;
  }
  if (!have_default && !tracks_.empty())
    tracks_[0]->writer->info().is_default = true;
  return ok_status();
}

bool alternate_audio::owns(int stream_index) const {
  return std::any_of(tracks_.begin(), tracks_.end(),
                     [&](const auto& t) { return t->stream == stream_index; });
}

status alternate_audio::on_packet(AVPacket* pkt) {
  for (auto& t : tracks_)
    if (t->stream == pkt->stream_index)
      return t->encoder->on_packet(pkt);
  return ok_status();
}

status alternate_audio::picture_started(int64_t t) {
  for (auto& tr : tracks_)
    if (auto s = tr->writer->picture_started(t); !s)
      return s;
  return ok_status();
}

status alternate_audio::finish() {
  for (auto& t : tracks_) {
    if (auto s = t->encoder->flush_decoder(); !s)
      return s;
    if (auto s = t->encoder->finish(); !s)
      return s;
    if (auto s = t->writer->finish(); !s)
      return s;
  }
  return ok_status();
}

bool alternate_audio::got_media() const {
  return std::any_of(tracks_.begin(), tracks_.end(),
                     [](const auto& t) { return t->encoder->got_media(); });
}

int alternate_audio::skipped_error() const {
  for (const auto& t : tracks_)
    if (t->encoder->skipped_error() < 0)
      return t->encoder->skipped_error();
  return 0;
}

void alternate_audio::take_outputs(std::vector<rendition_output>& out) {
  const size_t first = out.size();
  size_t empty = 0;
  bool have_default = false;
  for (auto& t : tracks_) {
    rendition_output& info = t->writer->info();
    if (info.segments.empty()) {
      ++empty; // no sound at all (or none after the first picture)
      continue;
    }
    have_default = have_default || info.is_default;
    out.push_back(std::move(info));
  }
  if (!have_default && out.size() > first)
    out[first].is_default = true; // the default track was the one left out
  add_warning(warning_, empty, "had no sound and was left out", "had no sound and were left out");
}

} // namespace hlsgate::media::detail
