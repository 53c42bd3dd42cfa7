#include "media/segmenter.hpp"

#include "media/names.hpp"

#include <cstdio>
#include <system_error>
#include <utility>

extern "C" {
#include <libavutil/opt.h>
}

namespace hlsgate::media::detail {

namespace fs = std::filesystem;
using libav::fail;
using libav::kNoMemory;
using libav::packet_ptr;

int64_t next_boundary(int64_t t, int64_t seg) {
  return t < 0 ? seg : (t / seg + 1) * seg;
}

void keep_dts_increasing(AVPacket* pkt, int64_t& last) {
  if (pkt->dts == AV_NOPTS_VALUE)
    return;
  if (last != kNoTs && pkt->dts <= last)
    pkt->dts = last + 1;
  if (pkt->pts != AV_NOPTS_VALUE && pkt->pts < pkt->dts)
    pkt->pts = pkt->dts;
  last = pkt->dts;
}

std::string avc1_codecs(const uint8_t* data, int size) {
  for (int i = 0; i + 6 < size; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && (data[i + 3] & 0x1f) == 7) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "avc1.%02x%02x%02x", data[i + 4], data[i + 5], data[i + 6]);
      return buf;
    }
  }
  return {};
}

// ---------------------------------------------------------------------------

void job_shared::emit(segment_event ev) {
  ev.variant_count = variant_count;
  {
    std::lock_guard<std::mutex> lk(m);
    events.push_back(std::move(ev));
  }
  cv.notify_all();
}

void job_shared::record_failure(const error& e) {
  {
    std::lock_guard<std::mutex> lk(m);
    if (!failed) {
      failed = true;
      first_error = e;
    }
  }
  cv.notify_all();
}

// ---------------------------------------------------------------------------

void rendition_writer::output_closer::operator()(AVFormatContext* p) const noexcept {
  if (p->pb)
    avio_closep(&p->pb);
  avformat_free_context(p);
}

rendition_writer::rendition_writer(job_shared& shared, size_t index, size_t count,
                                   int64_t seg_ticks)
    : shared_(shared), index_(index), count_(count), seg_ticks_(seg_ticks), next_cut_(seg_ticks) {}

rendition_writer::~rendition_writer() = default;

status rendition_writer::open(const fs::path& dir, const AVCodecParameters* video,
                              const AVCodecParameters* audio) {
  dir_ = dir;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    return fail(errc::io_error, "could not create the output directory",
                "create rendition directory", AVERROR(ec.value()));
  for (auto [src, dst] : {std::pair{video, &vpar_}, std::pair{audio, &apar_}}) {
    if (!src)
      continue;
    dst->reset(avcodec_parameters_alloc());
    if (!*dst || avcodec_parameters_copy(dst->get(), src) < 0)
      return fail(errc::internal, "out of memory", "open rendition", kNoMemory);
    (*dst)->codec_tag = 0;
  }
  video_active_ = video != nullptr;
  return ok_status();
}

status rendition_writer::write_video(AVPacket* pkt, bool cut) {
  const int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
  if (!saw_video_) {
    first_video_ = t;
    while (!audio_queue_.empty() && before_first_picture(*audio_queue_.front()))
      audio_queue_.pop_front();
  }
  if (avc1_.empty() && (pkt->flags & AV_PKT_FLAG_KEY))
    avc1_ = avc1_codecs(pkt->data, pkt->size);
  if (!open_) {
    if (auto s = start_segment(t); !s)
      return s;
  } else if (cut) {
    if (auto s = route_queued_audio(t, false); !s)
      return s;
    if (auto s = start_segment(t); !s)
      return s;
  }
  if (auto s = route_queued_audio(next_cut_, false); !s)
    return s;
  saw_video_ = true;
  return write(pkt, mux_vidx_);
}

status rendition_writer::write_audio(packet_ptr pkt) {
  if (pkt->pts == AV_NOPTS_VALUE)
    return ok_status();
  end_ = std::max(end_, pkt->pts + std::max<int64_t>(0, pkt->duration));
  if (first_video_ != kNoTs && before_first_picture(*pkt))
    return ok_status();
  audio_queue_.push_back(std::move(pkt));
  // Before the first picture, audio waits (up to 30 s of it, some 500 kB
  // of AAC) so that what precedes the picture can be dropped.
  constexpr int64_t picture_wait = 30 * 90000;
  if (follows_picture() && first_video_ == kNoTs &&
      audio_queue_.back()->pts - audio_queue_.front()->pts < std::max(seg_ticks_, picture_wait))
    return ok_status();
  return video_active_ ? route_queued_audio(next_cut_, false)
                       : route_queued_audio(std::numeric_limits<int64_t>::max(), true);
}

status rendition_writer::picture_started(int64_t t) {
  if (first_video_ != kNoTs)
    return ok_status();
  first_video_ = t;
  while (!audio_queue_.empty() && before_first_picture(*audio_queue_.front()))
    audio_queue_.pop_front();
  return route_queued_audio(std::numeric_limits<int64_t>::max(), true);
}

// Audio and video start together: audio that ends before the first picture
// (the AAC encoder's priming frame, a source whose sound starts earlier)
// would open the rendition with sound and no picture, a hole players skip
// over with a warning. Once audio has been written (a source whose picture
// comes more than a segment after its sound), nothing more is dropped: that
// would cut a gap into the sound.
bool rendition_writer::before_first_picture(const AVPacket& pkt) const {
  return follows_picture() && first_video_ != kNoTs && !saw_audio_ &&
         pkt.pts + std::max<int64_t>(0, pkt.duration) <= first_video_;
}

status rendition_writer::finish() {
  // The video is done: the remaining audio decides the last cuts, but a
  // short tail (< 1 s past the next boundary) stays in the last segment.
  video_active_ = false;
  if (!audio_queue_.empty()) {
    const bool cut = !open_ || end_ > next_cut_ + 90000;
    if (auto s = route_queued_audio(std::numeric_limits<int64_t>::max(), cut); !s)
      return s;
  }
  if (auto s = close_segment(end_, true); !s)
    return s;
  fill_info(info_);
  return ok_status();
}

/// Writes queued audio packets with pts < limit into the current segment.
/// With cut_on_audio (no video to follow), starts new segments at boundaries.
status rendition_writer::route_queued_audio(int64_t limit, bool cut_on_audio) {
  while (!audio_queue_.empty()) {
    AVPacket* pkt = audio_queue_.front().get();
    const int64_t t = pkt->pts;
    if (t >= limit)
      break;
    if (!open_) {
      if (auto s = start_segment(t); !s)
        return s;
    } else if (cut_on_audio && t >= next_cut_) {
      if (auto s = start_segment(t); !s)
        return s;
    }
    saw_audio_ = true;
    if (auto s = write(pkt, mux_aidx_); !s)
      return s;
    audio_queue_.pop_front();
  }
  return ok_status();
}

status rendition_writer::write(AVPacket* pkt, int idx) {
  if (idx < 0)
    return ok_status();
  const int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
  if (segments_ == 1 && t != AV_NOPTS_VALUE)
    cur_.start = std::min(cur_.start, t);
  pkt->stream_index = idx;
  av_packet_rescale_ts(pkt, kTicks, mux_->streams[idx]->time_base);
  if (int e = av_interleaved_write_frame(mux_.get(), pkt); e < 0)
    return fail(errc::io_error, "could not write a segment", "write segment", e);
  return ok_status();
}

status rendition_writer::start_segment(int64_t start) {
  if (auto s = close_segment(start, false); !s)
    return s;
  segment_state seg;
  seg.name = segment_file_name(shared_.first_segment + segments_, segment_kind::ts);
  seg.path = dir_ / seg.name;
  seg.part = dir_ / (seg.name + ".part");
  seg.start = start;

  // One muxer per rendition for all its segments: continuity counters and
  // timestamps run on across segment files, as a demuxer reading the
  // segments back to back expects; each file starts with PAT and PMT.
  const bool first = !mux_;
  if (first) {
    AVFormatContext* raw = nullptr;
    if (int e = avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr); e < 0 || !raw)
      return fail(errc::internal, "MPEG-TS muxer unavailable", "open MPEG-TS muxer", e);
    output_ptr mux(raw);
    mux_vidx_ = mux_aidx_ = -1;
    for (const AVCodecParameters* par : {vpar_.get(), apar_.get()}) {
      if (!par)
        continue;
      AVStream* st = avformat_new_stream(mux.get(), nullptr);
      if (!st || avcodec_parameters_copy(st->codecpar, par) < 0)
        return fail(errc::internal, "out of memory", "open MPEG-TS muxer", kNoMemory);
      st->time_base = kTicks;
      (par == vpar_.get() ? mux_vidx_ : mux_aidx_) = st->index;
    }
    // 1.4 s offset (as ffmpeg's CLI does) keeps DTS ahead of the PCR; media
    // time 0 is PTS mpegts_time_zero (media/names.hpp) in every rendition.
    mux->max_delay = 700000;
    mux->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    // Without video the PCR rides on the audio, whose AAC frame duration the
    // muxer cannot tell from the parameters ("frame size not set"): a PCR
    // every 80 ms, under the 100 ms of ISO 13818-1.
    if (!vpar_) {
      if (int e = av_opt_set_int(mux->priv_data, "pcr_period", 80, 0); e < 0)
        return fail(errc::internal, "MPEG-TS muxer option refused", "open MPEG-TS muxer", e);
    }
    mux_ = std::move(mux);
  }
  if (int e = avio_open(&mux_->pb, seg.part.c_str(), AVIO_FLAG_WRITE); e < 0)
    return fail(errc::io_error, "could not create a segment file", "create segment", e);
  if (first) {
    if (int e = avformat_write_header(mux_.get(), nullptr); e < 0)
      return fail(errc::io_error, "could not write a segment", "write segment header", e);
  } else if (int e = av_opt_set(mux_->priv_data, "mpegts_flags", "+resend_headers", 0); e < 0) {
    return fail(errc::internal, "MPEG-TS muxer option refused", "open segment", e);
  }
  cur_ = std::move(seg);
  open_ = true;
  ++segments_;
  next_cut_ = next_boundary(start, seg_ticks_);
  return ok_status();
}

/// Closes the open segment (if any), which ends at `end`; renames it to its
/// final name and reports it. Between segments the muxer's queues and
/// buffered PES data are flushed into the file being closed; after the last
/// one the trailer is written.
status rendition_writer::close_segment(int64_t end, bool last) {
  if (!open_)
    return ok_status();
  open_ = false;
  int e = 0;
  if (last) {
    e = av_write_trailer(mux_.get());
  } else {
    e = av_interleaved_write_frame(mux_.get(), nullptr);
    if (e >= 0)
      e = av_write_frame(mux_.get(), nullptr);
  }
  const int closed = avio_closep(&mux_->pb);
  if (e < 0 || closed < 0)
    return fail(errc::io_error, "could not write a segment", "close segment", e < 0 ? e : closed);
  std::error_code ec;
  const auto size = fs::file_size(cur_.part, ec);
  if (!ec)
    fs::rename(cur_.part, cur_.path, ec);
  if (ec)
    return fail(errc::io_error, "could not write a segment", "rename segment", AVERROR(ec.value()));

  const double d = end == kNoTs ? 0 : std::max<int64_t>(0, end - cur_.start) / 90000.0;
  segment_entry entry{cur_.name, d, static_cast<uint64_t>(size)};
  info_.segments.push_back(entry);
  total_bytes_ += entry.bytes;
  total_duration_ += d;
  if (d > 0)
    info_.peak_bandwidth =
        std::max(info_.peak_bandwidth, static_cast<uint64_t>(entry.bytes * 8 / d));

  segment_event ev;
  ev.rendition_count = count_;
  ev.rendition_index = index_;
  fill_info(ev.rendition);
  ev.rendition.segments.clear();
  ev.segment = std::move(entry);
  shared_.emit(std::move(ev));
  return ok_status();
}

/// Copies what is known so far into `r` (segments excepted).
void rendition_writer::fill_info(rendition_output& r) const {
  if (&r != &info_) {
    r.name = info_.name;
    r.alternate = info_.alternate;
    r.language = info_.language;
    r.label = info_.label;
    r.is_default = info_.is_default;
    r.remuxed = info_.remuxed;
    r.width = info_.width;
    r.height = info_.height;
    r.frame_rate = info_.frame_rate;
    r.peak_bandwidth = info_.peak_bandwidth;
  }
  r.has_video = vpar_ && saw_video_;
  r.has_audio = apar_ && saw_audio_;
  if (!r.has_video) {
    r.width = r.height = 0;
    r.frame_rate = 0;
  }
  r.codecs.clear();
  if (r.has_video)
    r.codecs = avc1_.empty() ? "avc1.640028" : avc1_;
  if (r.has_audio)
    r.codecs += r.codecs.empty() ? "mp4a.40.2" : ",mp4a.40.2";
  r.average_bandwidth =
      total_duration_ > 0 ? static_cast<uint64_t>(total_bytes_ * 8 / total_duration_) : 0;
  r.peak_bandwidth = std::max(r.peak_bandwidth, r.average_bandwidth);
}

} // namespace hlsgate::media::detail
