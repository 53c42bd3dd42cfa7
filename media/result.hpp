// media/ depends on nothing else of ours. Fallible calls return result<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hlsgate::media {

/// Error classes that the layers above map to HTTP codes (in exactly one place).
enum class errc {
  invalid_input,     ///< the input is not something we can read (415 at upload)
  unsupported_media, ///< readable, but has no audio or video stream we can use (415)
  io_error,          ///< disk full, permission denied, ... (500)
  cancelled,         ///< the job was cancelled by its owner
  internal,          ///< a libav call failed unexpectedly (500)
  limit_exceeded,    ///< the source is beyond an operator's limit (check_source_limits)
};

struct error {
  errc code = errc::internal;
  /// Short, user-safe reason: never a path, never a raw libav log line.
  std::string reason;
  /// For operators' logs: the failing stage and, for a libav failure, libav's
  /// text for its error code, e.g. "decode video: Invalid data found when
  /// processing input". Never a path either (the caller logs which file).
  std::string detail;

  error() = default;
  error(errc c, std::string r, std::string d = {})
      : code(c), reason(std::move(r)), detail(std::move(d)) {}
};

/// A value or an error; a minimal `expected<T>` for C++17.
template <class T> class result {
public:
  result(T value) : v_(std::move(value)) {}
  result(error err) : v_(std::move(err)) {}

  explicit operator bool() const noexcept { return v_.index() == 0; }
  bool ok() const noexcept { return v_.index() == 0; }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const error& err() const& { return std::get<1>(v_); }

private:
  std::variant<T, error> v_;
};

struct unit {};
using status = result<unit>;
inline status ok_status() {
  return unit{};
}

} // namespace hlsgate::media
