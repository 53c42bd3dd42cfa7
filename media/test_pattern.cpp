#include "media/test_pattern.hpp"

#include <algorithm>
#include <unistd.h>

namespace hlsgate::media {

std::string test_pattern_graph(test_pattern p) {
  const int w = std::clamp(p.width, 64, 3840) & ~1;
  const int h = std::clamp(p.height, 64, 2160) & ~1;
  const int fps = std::clamp(p.fps, 1, 60);
  const int font = std::max(16, h / 12);
  const std::string size = std::to_string(w) + "x" + std::to_string(h);
  // `realtime` paces each chain to the wall clock: the channel sees frames
  // as a camera would deliver them.
  std::string clock;
  if (!p.font_file.empty() && p.font_file.find_first_of("':\\,;[]") == std::string::npos)
    clock = ",drawtext=fontfile=" + p.font_file +
            ":text='%{gmtime\\:%T}':fontsize=" + std::to_string(font) +
            ":fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=" + std::to_string(font / 4) +
            ":x=(w-tw)/2:y=h-th-" + std::to_string(font);
  return "testsrc2=size=" + size + ":rate=" + std::to_string(fps) + clock +
         ",realtime[out0];"
         "sine=frequency=440:sample_rate=48000:samples_per_frame=1024,arealtime[out1]";
}

std::string default_font_file() {
  for (const char* f : {"/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"})
    if (::access(f, R_OK) == 0)
      return f;
  return {};
}

} // namespace hlsgate::media
