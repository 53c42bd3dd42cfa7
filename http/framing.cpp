#include "http/framing.hpp"

#include "http/text.hpp"

namespace hlsgate::http {

framing_verdict check_framing(int version, const std::vector<std::string_view>& transfer_encoding,
                              const std::vector<std::string_view>& content_length) {
  if (!transfer_encoding.empty()) {
    // RFC 9112 §6.1: Transfer-Encoding is HTTP/1.1; with Content-Length the
    // message "ought to be handled as an error"; chunked must be final and
    // we implement no other coding, so it must be the only one.
    if (version < 11 || !content_length.empty() || transfer_encoding.size() != 1 ||
        !text::iequals(text::trim(transfer_encoding.front()), "chunked"))
      return framing_verdict::bad_transfer_encoding;
    return framing_verdict::ok;
  }
  if (content_length.empty())
    return framing_verdict::ok;
  if (content_length.size() != 1)
    return framing_verdict::bad_content_length;
  // RFC 9112 §6.3 item 5: anything but one valid length is unrecoverable.
  const std::string_view v = text::trim(content_length.front());
  if (v.empty() || v.size() > 19)
    return framing_verdict::bad_content_length;
  for (char c : v)
    if (c < '0' || c > '9')
      return framing_verdict::bad_content_length;
  return framing_verdict::ok;
}

const char* to_string(framing_verdict v) noexcept {
  switch (v) {
  case framing_verdict::ok:
    return "ok";
  case framing_verdict::bad_transfer_encoding:
    return "Unsupported or conflicting Transfer-Encoding";
  case framing_verdict::bad_content_length:
    return "Invalid Content-Length";
  }
  return "?";
}

} // namespace hlsgate::http
