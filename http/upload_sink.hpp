// Where a multipart upload body goes while it is read: the `media` part is
// streamed into an owner-only (0600) temporary file created with O_EXCL in
// the upload folder; every other part is parsed and dropped. Limits are
// enforced as bytes arrive. On any failure, and on destruction unless the
// file was released, the temporary file is removed: nothing is left behind.
// Plain C++ (no Beast), unit-tested on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/multipart.hpp"

namespace hlsgate::http {

class upload_sink {
public:
  /// At most this many parts per upload (a form has a few fields).
  static constexpr unsigned max_parts = 16;

  /// `boundary` from multipart_parser::boundary_from_content_type;
  /// `max_body_bytes` bounds the whole body as received.
  upload_sink(std::string tmp_dir, std::string_view boundary, uint64_t max_body_bytes);
  ~upload_sink();
  upload_sink(const upload_sink&) = delete;
  upload_sink& operator=(const upload_sink&) = delete;

  /// The next piece of the body. False once failed (see status()/detail()).
  bool feed(std::string_view data);
  /// End of the body: the closing delimiter and a complete `media` part must
  /// have been seen. False once failed.
  bool finish();

  /// 0 while fine; else 400 (malformed multipart), 413 (body too large),
  /// 422 (no `media` part) or 500 (the file could not be written).
  unsigned status() const noexcept { return status_; }
  const std::string& detail() const noexcept { return detail_; }

  /// After a successful finish(): the file's path; the caller owns the
  /// file from now on (this sink will not remove it).
  std::string release();
  /// Removes the temporary file now (idempotent).
  void discard() noexcept;

  const std::string& filename() const noexcept { return filename_; }
  uint64_t bytes() const noexcept { return bytes_; }
  uint64_t received() const noexcept { return received_; }
  /// Path of the temporary file while one exists (tests).
  const std::string& path() const noexcept { return path_; }

private:
  bool fail(unsigned status, std::string detail);
  bool on_part_begin(const multipart_part& p);
  bool on_part_data(std::string_view d);

  std::string dir_;
  uint64_t max_body_;
  std::optional<multipart_parser> parser_;
  std::string path_;
  int fd_ = -1;
  std::string filename_;
  uint64_t bytes_ = 0;
  uint64_t received_ = 0;
  unsigned parts_ = 0;
  bool seen_media_ = false;
  bool writing_ = false;
  bool media_done_ = false;
  unsigned status_ = 0;
  std::string detail_;
};

} // namespace hlsgate::http
