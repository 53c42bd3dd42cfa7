#include "media/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>

#include <dlfcn.h>

extern "C" {
#include <libavformat/avio.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
}

namespace hlsgate::media::libav {

// Plain single-file containers. Deliberately absent: hls, dash, concat,
// imf, image2 and the image pipes, tee, mpjpeg, sdp/rtsp, webm_dash_manifest,
// mxf (may reference external essence), and anything else that reads more
// than the one file or describes one in text.
const char* const kAllowedDemuxers[] = {"mov,mp4,m4a,3gp,3g2,mj2",
                                        "matroska,webm",
                                        "mpegts",
                                        "mpeg",
                                        "avi",
                                        "flv",
                                        "asf",
                                        "mp3",
                                        "aac",
                                        "wav",
                                        "w64",
                                        "ogg",
                                        "flac",
                                        "aiff",
                                        "caf",
                                        "amr",
                                        "ac3",
                                        "eac3",
                                        "h264",
                                        "hevc",
                                        "mpegvideo",
                                        "dv",
                                        nullptr};

namespace {

namespace fs = std::filesystem;

constexpr int kBufferSize = 64 * 1024; ///< AVIO read buffer, bytes
constexpr const char* kRefusedFile = "not a supported media file";
constexpr const char* kRefusedContainer = "not a supported media container";

/// The "location" option of our I/O context over a pulled URL: where its
/// body came from, after redirects. The HLS demuxer asks for it
/// (av_opt_get(pb, "location", AV_OPT_SEARCH_CHILDREN)) and resolves the
/// playlist's relative entries against it; libav reaches it as the child
/// object of the context's class (pulled_io_class).
struct location_option {
  const AVClass* cls = nullptr; ///< first: libav reads an object through its class
  char* location = nullptr;     ///< av_malloc'ed, never empty once set
};

/// The descriptor libav reads through our AVIOContext.
struct fd_source {
  int fd = -1;
  std::shared_ptr<stream_reader> stream; ///< read instead of `fd` when set
  location_option where;                 ///< pulled bodies only
  ~fd_source() {
    if (fd >= 0)
      ::close(fd);
    av_free(where.location);
  }
};

int read_fd(void* opaque, uint8_t* buf, int size) {
  auto* src = static_cast<fd_source*>(opaque);
  if (src->stream) {
    const int n = src->stream->read(buf, size);
    return n == 0 ? AVERROR_EOF : n;
  }
  const int fd = src->fd;
  for (;;) {
    const ssize_t n = ::read(fd, buf, static_cast<size_t>(size));
    if (n > 0)
      return static_cast<int>(n);
    if (n == 0)
      return AVERROR_EOF;
    if (errno != EINTR)
      return AVERROR(errno);
  }
}

int64_t seek_fd(void* opaque, int64_t offset, int whence) {
  const int fd = static_cast<fd_source*>(opaque)->fd;
  if (whence & AVSEEK_SIZE) {
    struct stat st;
    if (::fstat(fd, &st) < 0)
      return AVERROR(errno);
    return st.st_size;
  }
  const off_t r = ::lseek(fd, static_cast<off_t>(offset), whence & ~AVSEEK_FORCE);
  return r < 0 ? AVERROR(errno) : static_cast<int64_t>(r);
}

/// Frees an AVIOContext made by make_io, its buffer and its descriptor.
void free_io(AVIOContext* pb) {
  if (!pb)
    return;
  delete static_cast<fd_source*>(pb->opaque);
  av_freep(&pb->buffer);
  avio_context_free(&pb);
}

struct io_closer {
  void operator()(AVIOContext* pb) const noexcept { free_io(pb); }
};
using io_ptr = std::unique_ptr<AVIOContext, io_closer>;

/// Our I/O context over `src` (owned by it from now on); null when out of memory.
io_ptr make_io(std::unique_ptr<fd_source> src, bool seekable) {
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBufferSize));
  if (!buffer)
    return nullptr;
  io_ptr io(avio_alloc_context(buffer, kBufferSize, 0, src.get(), read_fd, nullptr,
                               seekable ? seek_fd : nullptr));
  if (!io) {
    av_free(buffer);
    return nullptr;
  }
  src.release(); // owned by io now (free_io)
  return io;
}

const AVOption kLocationOptions[] = {{"location",
                                      "the URL the body came from, after redirects",
                                      offsetof(location_option, location),
                                      AV_OPT_TYPE_STRING,
                                      {},
                                      0,
                                      0,
                                      AV_OPT_FLAG_DECODING_PARAM | AV_OPT_FLAG_READONLY,
                                      nullptr},
                                     {}};

AVClass av_class(const char* name, const AVOption* options,
                 void* (*child_next)(void*, void*) = nullptr) {
  AVClass k{};
  k.class_name = name;
  k.item_name = av_default_item_name;
  k.option = options;
  k.version = LIBAVUTIL_VERSION_INT;
  k.child_next = child_next;
  return k;
}

void* pulled_io_child(void* obj, void* prev) {
  auto* src = static_cast<fd_source*>(static_cast<AVIOContext*>(obj)->opaque);
  return prev == nullptr && src != nullptr ? &src->where : nullptr;
}

const AVClass kLocationClass = av_class("pulled body", kLocationOptions);
/// The class of our I/O context over a pulled body: its child holds the
/// location option.
const AVClass kPulledIoClass = av_class("pulled I/O", nullptr, pulled_io_child);

/// Our I/O context over the body `reader` fetched for `url`, answering
/// libav's question where it came from; null when out of memory.
io_ptr make_pulled_io(std::shared_ptr<stream_reader> reader, const std::string& url) {
  auto src = std::make_unique<fd_source>();
  const std::string at = reader->location().empty() ? url : reader->location();
  src->where.cls = &kLocationClass;
  src->where.location = av_strdup(at.c_str());
  if (!src->where.location)
    return nullptr;
  src->stream = std::move(reader);
  io_ptr io = make_io(std::move(src), false);
  if (io)
    io->av_class = &kPulledIoClass;
  return io;
}

/// Demuxers must not open anything besides the source itself.
int refuse_nested_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
  return AVERROR(EPERM);
}

bool allowed_demuxer(const char* name) {
  for (const char* const* a = kAllowedDemuxers; *a; ++a) {
    if (name && std::strcmp(name, *a) == 0)
      return true;
  }
  return false;
}

std::string allowlist_text() {
  std::string list;
  for (const char* const* a = kAllowedDemuxers; *a; ++a)
    list += (list.empty() ? "" : ",") + std::string(*a);
  return list;
}

/// Whether `file` is inside `root` (both absolute, canonical), compared
/// component by component: "/data/src" contains "/data/src/a", not "/data/srcx/a".
bool inside(const fs::path& root, const fs::path& file) {
  auto f = file.begin();
  for (const fs::path& part : root) {
    if (part.empty())
      continue; // a trailing separator
    if (f == file.end() || *f != part)
      return false;
    ++f;
  }
  return f != file.end();
}

/// Opens `path` ourselves and applies the policy to the descriptor.
result<int> open_checked(const std::string& path, const open_policy& policy) {
  constexpr const char* stage = "open source";
  fs::path root;
  if (!policy.confine_root.empty()) {
    if (!fs::path(policy.confine_root).is_absolute())
      return fail(errc::internal, "the source folder is misconfigured", stage);
    char* resolved = ::realpath(policy.confine_root.c_str(), nullptr);
    if (!resolved)
      return fail(errc::io_error, "the source folder is not available", stage, AVERROR(errno));
    root = resolved;
    std::free(resolved);
  }

  auto src = std::make_unique<fd_source>();
  // O_NONBLOCK: opening a FIFO without a writer must not block the thread
  // (a prober or worker stuck in open() cannot be cancelled); it is cleared
  // below once the file is known to be acceptable.
  src->fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (src->fd < 0) {
    const int err = errno;
    if (err == ELOOP)
      return fail(errc::unsupported_media, kRefusedFile, "open source: symbolic link refused");
    return fail(errc::invalid_input, "not a readable media file", stage, AVERROR(err));
  }
  struct stat st;
  if (::fstat(src->fd, &st) < 0)
    return fail(errc::invalid_input, "not a readable media file", stage, AVERROR(errno));
  if (!S_ISREG(st.st_mode) && !(S_ISFIFO(st.st_mode) && policy.allow_fifo))
    return fail(errc::unsupported_media, kRefusedFile, "open source: not a regular file");
  if (S_ISFIFO(st.st_mode)) {
    // An accepted FIFO is read as a stream: reopen the very same FIFO
    // (through the descriptor, not the path) blocking, which waits for its
    // writer as reading a pipe should.
    const std::string self = "/proc/self/fd/" + std::to_string(src->fd);
    const int blocking = ::open(self.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (blocking < 0)
      return fail(errc::invalid_input, "not a readable media file", stage, AVERROR(errno));
    ::close(src->fd);
    src->fd = blocking;
  } else {
    const int flags = ::fcntl(src->fd, F_GETFL);
    if (flags < 0 || ::fcntl(src->fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
      return fail(errc::internal, "not a readable media file", stage, AVERROR(errno));
  }

  if (!root.empty()) {
    // What the descriptor really is, every link of the parents resolved.
    const std::string link = "/proc/self/fd/" + std::to_string(src->fd);
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof buf)
      return fail(errc::unsupported_media, kRefusedFile, "open source: cannot resolve the file",
                  n < 0 ? AVERROR(errno) : 0);
    if (!inside(root, fs::path(std::string(buf, static_cast<size_t>(n)))))
      return fail(errc::unsupported_media, kRefusedFile,
                  "open source: outside the confinement root");
  }
  const int fd = src->fd;
  src->fd = -1;
  return fd;
}

} // namespace

/// What a pulled source's context carries in its `opaque` (freed with it).
struct pull_state {
  std::shared_ptr<url_opener> opener;
};

void input_closer::operator()(AVFormatContext* p) const noexcept {
  AVIOContext* pb = (p->flags & AVFMT_FLAG_CUSTOM_IO) ? p->pb : nullptr;
  auto* pull = static_cast<pull_state*>(p->opaque); // set by open_pull only
  avformat_close_input(&p);
  free_io(pb);
  delete pull;
}

namespace {

/// The live test signal: libav's lavfi device running the graph hlsgate
/// wrote (media/test_pattern.hpp); nothing of it comes from a caller.
///
/// libavdevice (and the libavfilter it runs) is loaded only here, at run
/// time: linking it would pull dozens of libraries (SDL, PulseAudio,
/// speech recognition, OCR) into every install and the container image for
/// a demo source. Without it (Debian package libavdevice59) the test
/// pattern is refused with a clear reason.
bool load_devices() {
  static const bool loaded = [] {
    for (const char* name : {"libavdevice.so.59", "libavdevice.so"}) {
      void* lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib == nullptr)
        continue;
      if (auto* reg = reinterpret_cast<void (*)()>(::dlsym(lib, "avdevice_register_all"))) {
        reg();
        return true;
      }
    }
    return false;
  }();
  return loaded;
}

result<input_ptr> open_test_pattern(const test_pattern& p) {
  constexpr const char* stage = "open test pattern";
  const AVInputFormat* lavfi = load_devices() ? av_find_input_format("lavfi") : nullptr;
  if (!lavfi)
    return fail(errc::unsupported_media,
                "the test pattern needs libavdevice59, which is not installed", stage,
                AVERROR_DEMUXER_NOT_FOUND);
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  raw->io_open = refuse_nested_open;
  raw->protocol_whitelist = av_strdup("none");
  if (!raw->protocol_whitelist) {
    avformat_free_context(raw);
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  }
  if (int e = avformat_open_input(&raw, test_pattern_graph(p).c_str(), lavfi, nullptr); e < 0)
    return fail(errc::internal, "the test pattern could not start", stage, e);
  input_ptr fmt(raw);
  if (int e = avformat_find_stream_info(fmt.get(), nullptr); e < 0)
    return fail(errc::internal, "the test pattern could not start", "read stream info", e);
  return result<input_ptr>{std::move(fmt)};
}

/// libavformat opens the input URL itself through io_open: this one lets
/// exactly that URL (the context's own, which hlsgate built) through, with
/// the protocol allowlist, and refuses every other open.
int open_only_own_url(AVFormatContext* s, AVIOContext** pb, const char* url, int flags,
                      AVDictionary** options) {
  if (url == nullptr || s->url == nullptr || std::strcmp(url, s->url) != 0 ||
      (flags & AVIO_FLAG_WRITE) != 0)
    return AVERROR(EPERM);
  av_dict_set(options, "protocol_whitelist", "rtmp,tcp", 0);
  return avio_open2(pb, url, flags, &s->interrupt_callback, options);
}

/// A live RTMP stream from hlsgate's own nginx-rtmp application: only the
/// rtmp and tcp protocols and the FLV demuxer; a stalled stream fails
/// after 5 s instead of holding the thread.
result<input_ptr> open_live_url(const std::string& url) {
  constexpr const char* stage = "open live source";
  if (url.rfind("rtmp://", 0) != 0)
    return fail(errc::unsupported_media, "not a live source hlsgate reads", stage, AVERROR(EINVAL));
  const AVInputFormat* flv = av_find_input_format("flv");
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  raw->io_open = open_only_own_url;
  raw->protocol_whitelist = av_strdup("rtmp,tcp");
  raw->format_whitelist = av_strdup("flv");
  if (!raw->protocol_whitelist || !raw->format_whitelist) {
    avformat_free_context(raw);
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  }
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "rtmp_live", "live", 0);
  av_dict_set(&opts, "rw_timeout", "5000000", 0);
  av_dict_set(&opts, "analyzeduration", "2000000", 0);
  const int e = avformat_open_input(&raw, url.c_str(), flv, &opts);
  av_dict_free(&opts);
  if (e < 0)
    return fail(errc::invalid_input, "the live source is not available", stage, e);
  input_ptr fmt(raw);
  if (int e2 = avformat_find_stream_info(fmt.get(), nullptr); e2 < 0)
    return fail(errc::invalid_input, "could not read the live source", "read stream info", e2);
  return result<input_ptr>{std::move(fmt)};
}

/// MPEG-TS pushed by a publisher (SRT): only the MPEG-TS demuxer reads it,
/// through our I/O context; it opens nothing.
result<input_ptr> open_stream(std::shared_ptr<stream_reader> reader) {
  constexpr const char* stage = "open live source";
  if (!reader)
    return fail(errc::unsupported_media, "not a live source hlsgate reads", stage, AVERROR(EINVAL));
  auto src = std::make_unique<fd_source>();
  src->stream = std::move(reader);
  io_ptr io = make_io(std::move(src), false);
  const AVInputFormat* ts = av_find_input_format("mpegts");
  AVFormatContext* raw = io ? avformat_alloc_context() : nullptr;
  if (!raw)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  raw->pb = io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  raw->io_open = refuse_nested_open;
  raw->format_whitelist = av_strdup("mpegts");
  raw->protocol_whitelist = av_strdup("none");
  if (!raw->format_whitelist || !raw->protocol_whitelist) {
    avformat_free_context(raw);
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  }
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "analyzeduration", "2000000", 0);
  const int e = avformat_open_input(&raw, "", ts, &opts);
  av_dict_free(&opts);
  if (e < 0)
    return fail(errc::invalid_input, "the live source is not MPEG-TS", stage, e);
  input_ptr fmt(raw);
  io.release(); // freed with the input (input_closer)
  if (int e2 = avformat_find_stream_info(fmt.get(), nullptr); e2 < 0)
    return fail(errc::invalid_input, "could not read the live source", "read stream info", e2);
  return result<input_ptr>{std::move(fmt)};
}

/// Every URL the HLS demuxer opens (a variant playlist, a segment, a key)
/// goes to the channel's opener, which vets it; byte ranges arrive as the
/// "offset"/"end_offset" options libav's own http protocol would take.
int pull_io_open(AVFormatContext* s, AVIOContext** pb, const char* url, int flags,
                 AVDictionary** options) {
  auto* ps = static_cast<pull_state*>(s->opaque);
  if (ps == nullptr || url == nullptr || (flags & AVIO_FLAG_WRITE) != 0)
    return AVERROR(EPERM);
  int64_t first = -1, last = -1;
  if (options != nullptr) {
    if (auto* e = av_dict_get(*options, "offset", nullptr, 0))
      first = std::strtoll(e->value, nullptr, 10);
    if (auto* e = av_dict_get(*options, "end_offset", nullptr, 0); e && first >= 0) {
      last = std::strtoll(e->value, nullptr, 10) - 1;
      if (last < first)
        return AVERROR_INVALIDDATA; // an empty byte range names nothing
    }
    if (first == 0 && last < 0)
      first = -1;
  }
  std::string why;
  auto reader = ps->opener->open(url, first, last, true, why);
  if (!reader) {
    av_log(s, AV_LOG_ERROR, "refused or failed: %s\n", why.c_str());
    return AVERROR(EPERM);
  }
  io_ptr io = make_pulled_io(std::move(reader), url);
  if (!io)
    return AVERROR(ENOMEM);
  *pb = io.release();
  return 0;
}

int pull_io_close(AVFormatContext*, AVIOContext* pb) {
  free_io(pb);
  return 0;
}

int pull_interrupted(void* opaque) {
  return static_cast<pull_state*>(opaque)->opener->cancelled() ? 1 : 0;
}

/// A pulled source: an HLS playlist (master or media, live or not) whose
/// every nested open goes through pull_io_open, or a continuous MPEG-TS
/// stream. Only those two demuxers run (segments are MPEG-TS: the HLS
/// demuxer hands its own segment reader the same allowlist).
result<input_ptr> open_pull(const std::string& url, std::shared_ptr<url_opener> opener) {
  constexpr const char* stage = "open live source";
  if (!opener)
    return fail(errc::unsupported_media, "not a live source hlsgate reads", stage, AVERROR(EINVAL));
  std::string why;
  auto reader = opener->open(url, -1, -1, false, why);
  if (!reader) {
    const std::string text = "the pull source is not available: " + why;
    return fail(errc::invalid_input, text.c_str(), stage, AVERROR(EIO));
  }
  // Relative entries of a redirected playlist are relative to where it is
  // (for variant playlists, the HLS demuxer asks their I/O context).
  const std::string base = reader->location().empty() ? url : reader->location();
  io_ptr io = make_pulled_io(std::move(reader), url);
  auto ps = std::make_unique<pull_state>();
  ps->opener = std::move(opener);
  AVFormatContext* raw = io ? avformat_alloc_context() : nullptr;
  if (!raw)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  raw->pb = io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  raw->io_open = pull_io_open;
  raw->io_close2 = pull_io_close;
  raw->interrupt_callback = {pull_interrupted, ps.get()};
  raw->format_whitelist = av_strdup("hls,mpegts");
  raw->protocol_whitelist = av_strdup("none");
  if (!raw->format_whitelist || !raw->protocol_whitelist) {
    avformat_free_context(raw);
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  }
  raw->opaque = ps.get();
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "analyzeduration", "3000000", 0);
  av_dict_set(&opts, "http_persistent", "0", 0); // keep-alive would bypass io_open
  av_dict_set(&opts, "http_multiple", "0", 0);
  av_dict_set(&opts, "m3u8_hold_counters", "10", 0); // a frozen playlist ends the session
  av_dict_set(&opts, "max_reload", "10", 0);
  // On failure avformat_open_input frees the context (not its opaque or I/O).
  const int e = avformat_open_input(&raw, base.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  // The HLS demuxer takes a failed read for the end of a playlist: what
  // the opener saw fail is the better reason.
  const url_opener& notes = *ps->opener;
  auto failed = [&](const char* otherwise, const char* at, int code) {
    const std::string why = notes.last_failure();
    const std::string text = "the pull source or a URL it names cannot be read: " + why;
    return fail(errc::invalid_input, why.empty() ? otherwise : text.c_str(), at, code);
  };
  if (e < 0)
    return failed("the pull source is not an HLS playlist or MPEG-TS", stage, e);
  input_ptr fmt(raw);
  io.release(); // freed with the input (input_closer)
  ps.release(); // likewise
  if (int e2 = avformat_find_stream_info(fmt.get(), nullptr); e2 < 0)
    return failed("could not read the live source", "read stream info", e2);
  if (fmt->nb_streams == 0)
    return failed("the pull source has no audio or video", "read stream info", AVERROR_INVALIDDATA);
  return result<input_ptr>{std::move(fmt)};
}

} // namespace

result<input_ptr> open_source(const std::string& path, const open_policy& policy) {
  if (policy.kind == source_kind::test_pattern)
    return open_test_pattern(policy.pattern);
  if (policy.kind == source_kind::live_url)
    return open_live_url(policy.url);
  if (policy.kind == source_kind::stream)
    return open_stream(policy.stream);
  if (policy.kind == source_kind::pull)
    return open_pull(policy.url, policy.opener);
  auto fd = open_checked(path, policy);
  if (!fd)
    return fd.err();
  auto src = std::make_unique<fd_source>();
  src->fd = *fd;
  struct stat st;
  const bool seekable = ::fstat(src->fd, &st) == 0 && S_ISREG(st.st_mode);

  constexpr const char* stage = "open input";
  io_ptr io = make_io(std::move(src), seekable);
  if (!io)
    return fail(errc::internal, "out of memory", stage, kNoMemory);

  // The container, judged from the bytes only (no file name to guess from).
  const AVInputFormat* format = nullptr;
  if (int e = av_probe_input_buffer2(io.get(), &format, "", nullptr, 0, 0); e < 0 || !format)
    return fail(errc::invalid_input, "not a readable media file", stage,
                e < 0 ? e : AVERROR_INVALIDDATA);
  if (!allowed_demuxer(format->name)) {
    const std::string detail = std::string("open input: container refused: ") + format->name;
    return fail(errc::unsupported_media, kRefusedContainer, detail.c_str());
  }

  AVFormatContext* raw = avformat_alloc_context();
  if (!raw)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  raw->pb = io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  raw->io_open = refuse_nested_open;
  raw->format_whitelist = av_strdup(allowlist_text().c_str());
  raw->protocol_whitelist = av_strdup("file");
  if (!raw->format_whitelist || !raw->protocol_whitelist) {
    avformat_free_context(raw);
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  }
  // On failure avformat_open_input frees the context, but not our I/O.
  if (int e = avformat_open_input(&raw, "", format, nullptr); e < 0)
    return fail(errc::invalid_input, "not a readable media file", stage, e);
  input_ptr fmt(raw);
  io.release(); // freed with the input (input_closer)
  if (int e = avformat_find_stream_info(fmt.get(), nullptr); e < 0)
    return fail(errc::invalid_input, "could not read stream information", "read stream info", e);
  return result<input_ptr>{std::move(fmt)};
}

} // namespace hlsgate::media::libav
