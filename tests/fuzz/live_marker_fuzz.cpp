// POST /live/{id}/markers's body (live/markers): hostile JSON, then the
// playlist line it becomes. Invariants: an accepted marker has a label and a
// class the playlist can quote, a start inside [2000, 2100) that survives a
// round trip through its ISO 8601 form, bounded data; its EXT-X-DATERANGE is
// one line. Also: the ISO 8601 reader on arbitrary text, and POST /live's
// body (live/channel): an accepted channel has a quotable name, bounds kept,
// and survives a round trip through the store's JSON form. And an SRT
// caller's stream id: a key found is 1-64 characters of [A-Za-z0-9_-].
#include "live/channel.hpp"
#include "live/markers.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  int64_t ms = 0;
  (void)live::parse_iso8601_ms(body, ms); // any text: no crash, no overflow (UBSan)
  const std::string key = live::srt_stream_key(body);
  if (key.size() > 64 ||
      key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789-_") != std::string::npos)
    fuzz::fail();
  live::channel_config cfg;
  if (live::parse_channel_request(body, cfg).empty()) {
    if (!live::valid_label(cfg.name) || !(cfg.segment_seconds >= 1 && cfg.segment_seconds <= 10) ||
        !(cfg.dvr_seconds >= 3 * cfg.segment_seconds) ||
        cfg.dvr_seconds > 1800 * cfg.segment_seconds || cfg.expiry_minutes < 1 ||
        cfg.expiry_minutes > 10080 || (cfg.encrypted && cfg.source != live::source_type::srt))
      fuzz::fail();
    live::channel_record r;
    r.id = "c";
    r.storage_id = live::channel_storage_id("AAAAAAAAAAAAAAAAAAAAAA");
    r.config = cfg;
    live::channel_record back;
    if (!live::from_json(live::to_json(r), back) || back.config.name != cfg.name ||
        back.config.ladder != cfg.ladder)
      fuzz::fail();
  }
  live::marker m;
  m.id = "m";
  if (!live::parse_marker(body, 1796587200000, m).empty())
    return 0;
  if (m.label.empty() || m.label.size() > 200 || m.cls.empty() || m.cls.size() > 64 ||
      m.data.size() > live::max_marker_data || m.duration > 86400 || m.id != "m")
    fuzz::fail();
  if (m.label.find_first_of("\"\r\n") != std::string::npos ||
      m.cls.find_first_of("\"\r\n,") != std::string::npos)
    fuzz::fail();
  int64_t back = 0;
  if (!live::parse_iso8601_ms(live::iso8601_ms(m.start_ms), back) || back != m.start_ms)
    fuzz::fail();
  std::string line;
  live::write_daterange(m, line);
  if (line.rfind("#EXT-X-DATERANGE:", 0) != 0 || line.find('\n') != line.size() - 1)
    fuzz::fail();
  return 0;
}
