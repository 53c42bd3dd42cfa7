// What players show of an alternate track (EXT-X-MEDIA): its LANGUAGE, from a
// container's language tag, and its NAME, from a title found in a file or
// given by a caller. Both come from untrusted input and end up inside a
// quoted playlist attribute, so one place cleans them. Pure; part of
// hlsgate_media_pure.
#pragma once

#include <string>
#include <vector>

namespace hlsgate::media {

/// At most this many bytes of a NAME are kept.
constexpr size_t max_label_bytes = 64;

/// What players may show as NAME: UTF-8 without control characters (C0, DEL,
/// C1), double quotes or line separators (U+2028/9), at most max_label_bytes
/// (cut at a character boundary). Invalid UTF-8 gives "".
std::string clean_label(const std::string& in);

/// An RFC 5646 primary language tag from a container's language tag: ISO
/// 639-2 codes of common languages become their two-letter form ("eng" ->
/// "en"); other 2-3 letter codes are kept lower-cased; "und", empty or
/// anything else gives "".
std::string language_tag(const std::string& container_language);

/// `base`, or `base` followed by " 2", " 3", ... : the first that is not in
/// `taken` (NAME is unique in its group, RFC 8216 4.3.4.1.1).
std::string unique_label(const std::string& base, const std::vector<std::string>& taken);

} // namespace hlsgate::media
