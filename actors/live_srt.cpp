#include "actors/live_srt.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <syslog.h>

#include <algorithm>
#include <cstring>

extern "C" {
#include <libavutil/error.h>
}
#include <srt/access_control.h>
#include <srt/srt.h>

#include "live/channel.hpp"
#include "metrics/log.hpp"
#include "metrics/metrics.hpp"

namespace hlsgate::actors {

namespace {

constexpr int read_timeout_ms = 500;   ///< a blocked read looks at the cancel flag this often
constexpr int stall_timeout_ms = 5000; ///< no data for this long ends the session
constexpr size_t max_message = 1500;   ///< SRT live mode: 1316-byte payloads (7 TS packets)

/// One publisher's connection, read by its channel's ingest thread. SRT's
/// live mode delivers whole messages; a message larger than the caller's
/// buffer is kept and handed out in pieces.
class srt_reader final : public media::stream_reader {
public:
  explicit srt_reader(SRTSOCKET s) : s_(s) {}
  ~srt_reader() override { srt_close(s_); }

  int read(uint8_t* buf, int size) override {
    if (size <= 0)
      return AVERROR(EINVAL);
    int idle_ms = 0;
    while (off_ >= have_) {
      if (cancelled())
        return AVERROR_EXIT;
      const int n = srt_recvmsg(s_, msg_, sizeof msg_);
      if (n > 0) {
        have_ = n;
        off_ = 0;
        break;
      }
      const int e = n == SRT_ERROR ? srt_getlasterror(nullptr) : 0;
      if (e == SRT_ETIMEOUT || e == SRT_EASYNCRCV) {
        // The receive timeout (a blocking socket reports SRT_ETIMEOUT):
        // nothing arrived for read_timeout_ms; a stall ends the session.
        idle_ms += read_timeout_ms;
        if (idle_ms >= stall_timeout_ms)
          return AVERROR(ETIMEDOUT);
        continue;
      }
      return 0; // the publisher went away (or the connection broke)
    }
    const int n = std::min(size, have_ - off_);
    std::memcpy(buf, msg_ + off_, static_cast<size_t>(n));
    off_ += n;
    return n;
  }

private:
  SRTSOCKET s_;
  char msg_[max_message];
  int have_ = 0, off_ = 0;
};

/// libsrt's own log lines (errors only) go to hlsgate's log, not to stderr,
/// at most 5 a second: a stray or spoofed UDP packet makes one, so anyone can
/// send them.
void log_srt(void*, int, const char*, int, const char*, const char* message) {
  static logging::rate_limit lines{5};
  uint64_t suppressed = 0;
  if (lines.allow(suppressed))
    logging::warn("libsrt", {{"detail", message ? message : ""},
                             {"suppressed_before", std::to_string(suppressed)}});
}

std::string last_error() {
  const char* e = srt_getlasterror_str();
  return e ? e : "unknown error";
}

} // namespace

srt_listener::srt_listener(std::shared_ptr<channel_directory> channels, metrics::registry* metrics)
    : channels_(std::move(channels)), metrics_(metrics) {}

srt_listener::~srt_listener() {
  stop();
}

int srt_listener::on_handshake(void* opaque, int socket, int hs_version, const sockaddr*,
                               const char* stream_id) {
  auto* self = static_cast<srt_listener*>(opaque);
  // HSv4 callers (before SRT 1.3) cannot send a stream id.
  const std::string key = hs_version >= 5 && stream_id ? live::srt_stream_key(stream_id) : "";
  std::string storage_id, passphrase;
  if (key.empty() ||
      !self->channels_->find_by_stream_key(key, live::source_type::srt, storage_id, &passphrase)) {
    if (self->metrics_)
      self->metrics_->auth_failure("bad_stream_key");
    srt_setrejectreason(socket, SRT_REJX_FORBIDDEN);
    return -1;
  }
  // An encrypted channel: libsrt derives the key from this passphrase and
  // refuses a caller whose own differs or is missing (encryption is
  // enforced, libsrt's default, so an unencrypted caller is refused too).
  if (!passphrase.empty() && srt_setsockflag(socket, SRTO_PASSPHRASE, passphrase.data(),
                                             static_cast<int>(passphrase.size())) == SRT_ERROR) {
    srt_setrejectreason(socket, SRT_REJX_FORBIDDEN);
    return -1;
  }
  return 0;
}

std::string srt_listener::start(const std::string& bind, uint16_t port) {
  srt_setloglevel(LOG_ERR);
  srt_setloghandler(nullptr, log_srt);
  if (srt_startup() < 0)
    return "cannot start libsrt: " + last_error();
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  const std::string host = bind.empty() ? "0.0.0.0" : bind;
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    return "HLSGATE_BIND is not an IP address the SRT listener can use";
  }
  socket_ = srt_create_socket();
  if (socket_ == SRT_INVALID_SOCK)
    return "cannot create the SRT socket: " + last_error();
  const int yes = 1, timeout = read_timeout_ms;
  // Accepted connections inherit these: blocking reads with a timeout.
  srt_setsockflag(socket_, SRTO_RCVSYN, &yes, sizeof yes);
  srt_setsockflag(socket_, SRTO_RCVTIMEO, &timeout, sizeof timeout);
  if (addr.ss_family == AF_INET6) {
    const int dual_stack = 0; // libsrt 1.5.2+ refuses "::" unless this is set
    srt_setsockflag(socket_, SRTO_IPV6ONLY, &dual_stack, sizeof dual_stack);
  }
  if (srt_bind(socket_, reinterpret_cast<sockaddr*>(&addr), static_cast<int>(len)) == SRT_ERROR)
    return "cannot listen for SRT on UDP port " + std::to_string(port) + ": " + last_error();
  if (srt_listen_callback(socket_, &srt_listener::on_handshake, this) == SRT_ERROR ||
      srt_listen(socket_, 16) == SRT_ERROR)
    return "cannot listen for SRT: " + last_error();
  poll_ = srt_epoll_create();
  const int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  if (poll_ < 0 || srt_epoll_add_usock(poll_, socket_, &events) == SRT_ERROR)
    return "cannot watch the SRT socket: " + last_error();
  thread_ = std::thread([this] { run(); });
  return "";
}

void srt_listener::run() {
  while (!stopping_.load()) {
    SRTSOCKET ready[4];
    int n = 4;
    if (srt_epoll_wait(poll_, ready, &n, nullptr, nullptr, 500, nullptr, nullptr, nullptr,
                       nullptr) <= 0)
      continue;
    sockaddr_storage peer{};
    int peer_len = sizeof peer;
    const SRTSOCKET s = srt_accept(socket_, reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (s == SRT_INVALID_SOCK)
      continue;
    auto reader = std::make_shared<srt_reader>(s); // closes the socket when dropped
    char id[513];
    int id_len = sizeof id; // libsrt needs room for the terminating NUL
    if (srt_getsockflag(s, SRTO_STREAMID, id, &id_len) == SRT_ERROR)
      continue;
    id[std::clamp(id_len, 0, static_cast<int>(sizeof id - 1))] = '\0';
    std::string storage_id;
    // Looked up again: the channel may have ended since the handshake.
    auto channel =
        channels_->find_by_stream_key(live::srt_stream_key(id), live::source_type::srt, storage_id);
    if (!channel)
      continue;
    caf::anon_send(channel, run_atom_v, std::shared_ptr<media::stream_reader>(std::move(reader)));
  }
}

void srt_listener::stop() {
  if (stopping_.exchange(true))
    return;
  // Closed first: that wakes an srt_accept blocked on a caller that vanished
  // between its handshake and the accept.
  if (socket_ != -1 && socket_ != SRT_INVALID_SOCK)
    srt_close(socket_);
  if (thread_.joinable())
    thread_.join();
  if (poll_ >= 0)
    srt_epoll_release(poll_);
  poll_ = -1;
  socket_ = -1;
}

} // namespace hlsgate::actors
