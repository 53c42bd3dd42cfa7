// The JSON bodies of the API (PyHLS-compatible field names) and the parsing
// of POST /import's body. Pure functions over the service's result types.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/media_index.hpp"
#include "actors/types.hpp"
#include "http/server.hpp"

namespace hlsgate::http {

/// A JSON response with Cache-Control: no-store (bodies carry keys).
response json_response(unsigned status, const nlohmann::json& body);

/// "2024-01-02T03:04:05Z"; empty for t <= 0.
std::string iso8601(int64_t t);

/// The longest expiry a caller may ask for: 7 days.
constexpr unsigned max_expiry_minutes = 10080;

/// A media item's master playlist URL with its viewer token.
std::string vod_playlist_url(const std::string& public_url, const std::string& id,
                             const std::string& token);

nlohmann::json upload_json(const actors::upload_result& u, const std::string& playlist_url);
nlohmann::json token_json(const actors::token_result& t, const std::string& playlist_url);
nlohmann::json token_list_json(const actors::token_list& l);
nlohmann::json info_json(const actors::info_result& i);
nlohmann::json extend_json(const actors::extend_result& x);
/// GET /media: {"items": [{media_id, original_name, status, created_at,
/// expires_at, duration}], "next_cursor": "..." or null}.
nlohmann::json media_page_json(const actors::media_page& p);

/// GET/DELETE /media's filter: `status` one of the listed statuses (or
/// empty), `q` at most 200 bytes of UTF-8 without control characters. ""
/// when fine, else the reason.
std::string parse_media_filter(std::string_view status, std::string_view q,
                               actors::media_filter& out);
nlohmann::json stream_info_json(const actors::stream_info_result& s, const std::string& public_url,
                                const std::string& token);
nlohmann::json
import_json(const actors::import_result& r,
            const std::function<std::string(const std::string&, const std::string&)>& url);

/// The storyboard with "sprite.jpg#..." references carrying `?token=`.
std::string storyboard_with_token(const std::string& vtt, const std::string& token);

struct body_error {
  unsigned status = 0; ///< 0 = fine
  std::string detail;
};

/// {"paths": ["/abs", ...], "expiry_minutes": N}: every path absolute and,
/// once its symlinks and dot-segments are resolved, under `import_root`.
body_error parse_import_body(const std::string& body, const std::string& import_root,
                             unsigned max_expiry_minutes, actors::import_params& out);

/// POST /media/{id}/tokens: an empty body, or {"expires_in_minutes": N
/// (1..10080, optional), "label": "..." (optional, at most 200 bytes)};
/// unknown members are refused. Returns "" or a short reason.
std::string parse_token_request(const std::string& body, actors::token_request& out);

/// POST /media/{id}/subtitles's query: `language` an RFC 5646-shaped tag
/// (letters, digits and '-', subtags of 1-8, the first 2-3 letters; at most
/// 35 bytes; may be empty) and `name` at most 64 bytes of UTF-8 without
/// control characters or '"' (may be empty). "" when fine, else the reason.
std::string check_subtitle_params(std::string_view language, std::string_view name);

nlohmann::json subtitle_json(const actors::subtitle_result& r);

} // namespace hlsgate::http
