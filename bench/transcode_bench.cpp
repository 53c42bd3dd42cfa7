// transcode_bench: transcodes one input into a temporary directory and prints
// wall time, realtime factor and the renditions. Used by bench/transcode.sh.
//
//   transcode_bench INPUT [--ladder 1080:5000k,...] [--segment 6] [--preset veryfast]
//                         [--threads N] [--no-remux] [--keep DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "config/ladder.hpp"
#include "media/transcoder.hpp"

namespace fs = std::filesystem;
using namespace hlsgate::media;

namespace {

int usage() {
  std::fprintf(stderr, "usage: transcode_bench INPUT [--ladder SPEC] [--segment S] "
                       "[--preset P] [--threads N] [--no-remux] [--keep DIR]\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    return usage();
  const std::string input = argv[1];
  transcode_options opts;
  for (const auto& r : hlsgate::config::default_ladder()) // media/ has no default ladder
    opts.ladder.push_back({r.height, r.video_bitrate});
  std::string keep;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--ladder" && has_value) {
      std::vector<hlsgate::config::rung> rungs;
      if (!hlsgate::config::parse_ladder(argv[++i], rungs).empty()) {
        std::fprintf(stderr, "bad ladder: %s\n", argv[i]);
        return 2;
      }
      opts.ladder.clear();
      for (auto& r : rungs)
        opts.ladder.push_back({r.height, r.video_bitrate});
    } else if (a == "--segment" && has_value) {
      opts.segment_seconds = std::atof(argv[++i]);
    } else if (a == "--preset" && has_value) {
      opts.x264_preset = argv[++i];
    } else if (a == "--threads" && has_value) {
      opts.threads = std::atoi(argv[++i]);
    } else if (a == "--no-remux") {
      opts.allow_remux = false;
    } else if (a == "--keep" && has_value) {
      keep = argv[++i];
    } else {
      return usage();
    }
  }

  std::string dir = keep;
  if (dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "transcode_bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  } else {
    fs::create_directories(dir);
  }

  double first_segment = -1;
  std::vector<double> first_per_rendition; // wall seconds of each rendition's first segment
  size_t events = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto out = transcode(input, dir, opts, nullptr, nullptr, [&](const segment_event& ev) {
    const double t = since();
    if (first_segment < 0)
      first_segment = t;
    if (first_per_rendition.size() < ev.rendition_count)
      first_per_rendition.resize(ev.rendition_count, -1);
    if (first_per_rendition[ev.rendition_index] < 0)
      first_per_rendition[ev.rendition_index] = t;
    ++events;
  });
  const double wall = since();
  if (keep.empty())
    fs::remove_all(dir);
  if (!out) {
    std::fprintf(stderr, "transcode failed: %s\n", out.err().reason.c_str());
    return 1;
  }
  std::printf("wall_seconds=%.3f\n", wall);
  std::printf("media_seconds=%.3f\n", out->duration);
  std::printf("realtime_factor=%.1f\n", wall > 0 ? out->duration / wall : 0.0);
  std::printf("first_segment_seconds=%.3f\n", first_segment);
  std::printf("segments=%zu\n", events);
  double all_first = 0;
  for (double t : first_per_rendition)
    all_first = std::max(all_first, t);
  std::printf("first_segment_all_renditions_seconds=%.3f\n", all_first);
  for (size_t i = 0; i < out->renditions.size(); ++i) {
    const auto& r = out->renditions[i];
    std::printf("rendition=%s %dx%d %.3ffps %s remuxed=%d segments=%zu avg=%llu peak=%llu "
                "first_segment=%.3fs\n",
                r.name.c_str(), r.width, r.height, r.frame_rate, r.codecs.c_str(),
                r.remuxed ? 1 : 0, r.segments.size(),
                static_cast<unsigned long long>(r.average_bandwidth),
                static_cast<unsigned long long>(r.peak_bandwidth),
                i < first_per_rendition.size() ? first_per_rendition[i] : -1.0);
  }
  return 0;
}
