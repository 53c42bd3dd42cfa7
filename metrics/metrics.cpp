#include "metrics/metrics.hpp"

#include "metrics/build_info.hpp"

#include <sys/statvfs.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <dirent.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

namespace hlsgate::metrics {

namespace {

constexpr size_t route_count = static_cast<size_t>(route::count_);

/// Status classes, the `code` label (few series: route x method x class).
constexpr const char* code_classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
constexpr size_t code_count = std::size(code_classes);
constexpr size_t other_code = code_count - 1;
constexpr size_t code_class(unsigned status) noexcept {
  return status >= 100 && status < 600 ? status / 100 - 1 : other_code;
}

constexpr const char* method_names[] = {"GET", "HEAD", "POST", "DELETE", "OPTIONS", "other"};
constexpr size_t method_count = static_cast<size_t>(method::count_);
static_assert(std::size(method_names) == method_count);

constexpr const char* auth_reasons[] = {"missing",       "malformed",     "bad_algorithm",
                                        "bad_signature", "expired",       "revoked",
                                        "wrong_media",   "bad_admin_key", "bad_url_signature",
                                        "expired_url",   "bad_stream_key"};
constexpr size_t auth_reason_count = std::size(auth_reasons);

constexpr const char* transcode_reasons[] = {"invalid_input", "unsupported_media", "io_error",
                                             "cancelled",     "internal",          "watchdog",
                                             "crashed"};
constexpr size_t transcode_reason_count = std::size(transcode_reasons);
constexpr const char* webhook_outcomes[] = {"delivered", "retried", "failed", "dropped"};
constexpr size_t webhook_outcome_count = std::size(webhook_outcomes);

template <size_t N>
size_t reason_index(const char* const (&names)[N], const char* reason) noexcept {
  if (reason != nullptr)
    for (size_t i = 0; i < N; ++i)
      if (std::strcmp(names[i], reason) == 0)
        return i;
  return N; // "other"
}

constexpr const char* media_state_names[] = {"queued", "processing", "ready", "failed", "imported"};
constexpr const char* job_state_names[] = {"queued", "running"};
static_assert(std::size(media_state_names) == static_cast<size_t>(media_state::count_));
static_assert(std::size(job_state_names) == static_cast<size_t>(job_state::count_));

/// Values read from /proc at scrape time.
struct process_sample {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time = 0;
  double open_fds = 0;
  bool stat_ok = false;
};

double boot_time_seconds() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr)
    return 0;
  char line[256];
  double btime = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long long v = 0;
    if (std::sscanf(line, "btime %llu", &v) == 1) {
      btime = static_cast<double>(v);
      break;
    }
  }
  std::fclose(f);
  return btime;
}

process_sample read_process(double boot_time) {
  process_sample s;
  if (std::FILE* f = std::fopen("/proc/self/stat", "r")) {
    char buf[1024];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // The command name (field 2) may contain spaces and ')': skip past the
    // last ')', then fields 3.. are space separated.
    if (const char* p = std::strrchr(buf, ')')) {
      unsigned long utime = 0, stime = 0, vsize = 0;
      unsigned long long starttime = 0;
      long rss = 0;
      // state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
      // cmajflt utime(14) stime(15) cutime cstime priority nice num_threads
      // itrealvalue starttime(22) vsize(23) rss(24)
      if (std::sscanf(p + 1,
                      " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
                      "%*d %llu %lu %ld",
                      &utime, &stime, &starttime, &vsize, &rss) == 5) {
        const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
        const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
        s.cpu_seconds = static_cast<double>(utime + stime) / ticks;
        s.virtual_bytes = static_cast<double>(vsize);
        s.resident_bytes = static_cast<double>(rss) * page;
        s.start_time = boot_time + static_cast<double>(starttime) / ticks;
        s.stat_ok = true;
      }
    }
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    long n = 0;
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.')
        ++n;
    closedir(d);
    s.open_fds = static_cast<double>(n > 0 ? n - 1 : 0); // minus the DIR's own fd
  }
  return s;
}

} // namespace

const char* to_string(route r) noexcept {
  switch (r) {
  case route::segment:
    return "segment";
  case route::stream_playlist:
    return "stream_playlist";
  case route::stream_file:
    return "stream_file";
  case route::upload:
    return "upload";
  case route::refresh_token:
    return "refresh_token";
  case route::info:
    return "info";
  case route::extend_expiry:
    return "extend_expiry";
  case route::delete_media:
    return "delete_media";
  case route::stream_info:
    return "stream_info";
  case route::import_media:
    return "import";
  case route::library:
    return "library";
  case route::webhooks:
    return "webhooks";
  case route::docs:
    return "docs";
  case route::web:
    return "web";
  case route::tokens:
    return "tokens";
  case route::subtitles:
    return "subtitles";
  case route::edge_check:
    return "edge_check";
  case route::live:
    return "live";
  case route::live_playlist:
    return "live_playlist";
  case route::proxy:
    return "proxy";
  case route::proxy_stream:
    return "proxy_stream";
  case route::health:
    return "health";
  case route::ready:
    return "ready";
  case route::metrics:
    return "metrics";
  case route::other:
  case route::count_:
    break;
  }
  return "other";
}

constexpr const char* live_status_names[] = {"waiting", "live", "reconnecting", "ended"};
constexpr const char* proxy_results[] = {"ok", "error", "coalesced"};

struct registry::impl {
  std::shared_ptr<prometheus::Registry> reg = std::make_shared<prometheus::Registry>();

  // Hot-path series, resolved once: recording is an index + atomic add.
  std::array<std::array<std::array<prometheus::Counter*, code_count>, method_count>, route_count>
      requests{};
  std::array<prometheus::Histogram*, route_count> request_seconds{};
  prometheus::Counter* bytes = nullptr;
  std::array<prometheus::Gauge*, std::size(media_state_names)> media_items{};
  prometheus::Counter* tokens = nullptr;
  std::array<prometheus::Counter*, auth_reason_count + 1> auth_failures{};
  std::array<prometheus::Gauge*, std::size(job_state_names)> jobs{};
  prometheus::Gauge* queue_depth = nullptr;
  prometheus::Histogram* transcode_seconds = nullptr;
  prometheus::Gauge* realtime_factor = nullptr;
  std::array<prometheus::Counter*, transcode_reason_count + 1> transcode_failures{};
  std::array<prometheus::Counter*, webhook_outcome_count + 1> webhook_deliveries{};

  // Process metrics, refreshed by serialize().
  std::mutex process_mutex;
  double boot_time = boot_time_seconds();
  prometheus::Counter* cpu_seconds = nullptr;
  prometheus::Gauge* resident = nullptr;
  prometheus::Gauge* virtual_mem = nullptr;
  prometheus::Gauge* open_fds = nullptr;
  prometheus::Gauge* start_time = nullptr;

  impl() {
    using namespace prometheus;
    auto& req = BuildCounter()
                    .Name("hlsgate_http_requests_total")
                    .Help("HTTP requests by route, method and status class.")
                    .Register(*reg);
    auto& dur = BuildHistogram()
                    .Name("hlsgate_http_request_duration_seconds")
                    .Help("HTTP request duration by route.")
                    .Register(*reg);
    const Histogram::BucketBoundaries http_buckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    for (size_t r = 0; r < route_count; ++r) {
      const std::string name = to_string(static_cast<route>(r));
      for (size_t m = 0; m < method_count; ++m)
        for (size_t c = 0; c < code_count; ++c)
          requests[r][m][c] =
              &req.Add({{"route", name}, {"method", method_names[m]}, {"code", code_classes[c]}});
      request_seconds[r] = &dur.Add({{"route", name}}, http_buckets);
    }

    bytes = &BuildCounter()
                 .Name("hlsgate_bytes_served_total")
                 .Help("Response body bytes served.")
                 .Register(*reg)
                 .Add({});

    auto& items =
        BuildGauge().Name("hlsgate_media_items").Help("Media items by status.").Register(*reg);
    for (size_t i = 0; i < media_items.size(); ++i)
      media_items[i] = &items.Add({{"status", media_state_names[i]}});

    tokens = &BuildCounter()
                  .Name("hlsgate_tokens_issued_total")
                  .Help("Access tokens issued.")
                  .Register(*reg)
                  .Add({});

    auto& auth = BuildCounter()
                     .Name("hlsgate_auth_failures_total")
                     .Help("Rejected credentials by reason.")
                     .Register(*reg);
    for (size_t i = 0; i < auth_reason_count; ++i)
      auth_failures[i] = &auth.Add({{"reason", auth_reasons[i]}});
    auth_failures[auth_reason_count] = &auth.Add({{"reason", "other"}});

    auto& job =
        BuildGauge().Name("hlsgate_transcode_jobs").Help("Transcode jobs by state.").Register(*reg);
    for (size_t i = 0; i < jobs.size(); ++i)
      jobs[i] = &job.Add({{"state", job_state_names[i]}});

    queue_depth = &BuildGauge()
                       .Name("hlsgate_transcode_queue_depth")
                       .Help("Transcode jobs waiting for a worker.")
                       .Register(*reg)
                       .Add({});
    queue_limit = &BuildGauge()
                       .Name("hlsgate_transcode_queue_limit")
                       .Help("Waiting jobs at which uploads are refused (HLSGATE_QUEUE_LIMIT).")
                       .Register(*reg)
                       .Add({});

    transcode_seconds = &BuildHistogram()
                             .Name("hlsgate_transcode_duration_seconds")
                             .Help("Wall time of finished transcode jobs.")
                             .Register(*reg)
                             .Add({}, Histogram::BucketBoundaries{1, 2.5, 5, 10, 30, 60, 120, 300,
                                                                  600, 1200, 1800, 3600});

    realtime_factor = &BuildGauge()
                           .Name("hlsgate_transcode_realtime_factor")
                           .Help("Media seconds per wall second of the last finished job.")
                           .Register(*reg)
                           .Add({});

    auto& tf = BuildCounter()
                   .Name("hlsgate_transcode_failures_total")
                   .Help("Failed transcode jobs by reason.")
                   .Register(*reg);
    for (size_t i = 0; i < transcode_reason_count; ++i)
      transcode_failures[i] = &tf.Add({{"reason", transcode_reasons[i]}});
    transcode_failures[transcode_reason_count] = &tf.Add({{"reason", "other"}});

    auto& wh = BuildCounter()
                   .Name("hlsgate_webhook_deliveries_total")
                   .Help("Webhook delivery attempts by outcome (retried: failed and scheduled "
                         "again; dropped: never queued, the endpoint's queue was full).")
                   .Register(*reg);
    for (size_t i = 0; i < webhook_outcome_count; ++i)
      webhook_deliveries[i] = &wh.Add({{"outcome", webhook_outcomes[i]}});
    webhook_deliveries[webhook_outcome_count] = &wh.Add({{"outcome", "other"}});

    cpu_seconds = &BuildCounter()
                       .Name("process_cpu_seconds_total")
                       .Help("Total user and system CPU time spent in seconds.")
                       .Register(*reg)
                       .Add({});
    resident = &BuildGauge()
                    .Name("process_resident_memory_bytes")
                    .Help("Resident memory size in bytes.")
                    .Register(*reg)
                    .Add({});
    virtual_mem = &BuildGauge()
                       .Name("process_virtual_memory_bytes")
                       .Help("Virtual memory size in bytes.")
                       .Register(*reg)
                       .Add({});
    open_fds = &BuildGauge()
                    .Name("process_open_fds")
                    .Help("Number of open file descriptors.")
                    .Register(*reg)
                    .Add({});
    start_time = &BuildGauge()
                      .Name("process_start_time_seconds")
                      .Help("Start time of the process since unix epoch in seconds.")
                      .Register(*reg)
                      .Add({});
  }

  // Read at each scrape (set up once before the server starts).
  std::function<double()> connections_fn, uploads_fn;
  std::string data_path;
  prometheus::Gauge* queue_limit = nullptr;
  prometheus::Histogram* store_seconds = nullptr;
  prometheus::Counter* store_failures = nullptr;
  prometheus::Gauge* connections = nullptr;
  prometheus::Gauge* uploads = nullptr;
  prometheus::Gauge* data_free = nullptr;
  prometheus::Gauge* data_size = nullptr;

  // Live channels: the per-channel series are added and removed as channels
  // come and go (about once a second per channel, off the request path).
  std::array<prometheus::Gauge*, 4> live_channels{};
  prometheus::Histogram* live_latency = nullptr;
  prometheus::Family<prometheus::Gauge>* live_bitrate = nullptr;
  prometheus::Family<prometheus::Gauge>* live_viewers = nullptr;
  prometheus::Family<prometheus::Gauge>* live_dropped = nullptr;
  struct live_gauges {
    prometheus::Gauge *bitrate, *viewers, *dropped;
  };
  std::mutex live_mutex;
  std::map<std::string, live_gauges> live_series;

  // The stream proxy.
  std::array<prometheus::Counter*, 3> proxy_upstream{}; ///< ok, error, coalesced
  prometheus::Counter* proxy_failovers = nullptr;
  prometheus::Gauge* proxy_viewers = nullptr;
  prometheus::Counter* proxy_bytes = nullptr;
  prometheus::Counter* proxy_bytes_in = nullptr;

  void register_proxy() {
    using namespace prometheus;
    auto& up = BuildCounter()
                   .Name("hlsgate_proxy_upstream_requests_total")
                   .Help("Proxied requests by how the upstream answered them (coalesced: served "
                         "by a fetch another request started).")
                   .Register(*reg);
    for (size_t i = 0; i < proxy_upstream.size(); ++i)
      proxy_upstream[i] = &up.Add({{"result", proxy_results[i]}});
    proxy_failovers = &BuildCounter()
                           .Name("hlsgate_proxy_failovers_total")
                           .Help("Upstream switches of proxied streams.")
                           .Register(*reg)
                           .Add({});
    proxy_viewers = &BuildGauge()
                         .Name("hlsgate_proxy_viewers")
                         .Help("Clients of proxied streams.")
                         .Register(*reg)
                         .Add({});
    proxy_bytes = &BuildCounter()
                       .Name("hlsgate_proxy_bytes_out_total")
                       .Help("Body bytes of proxied segments and streams sent to viewers.")
                       .Register(*reg)
                       .Add({});
    proxy_bytes_in = &BuildCounter()
                          .Name("hlsgate_proxy_bytes_in_total")
                          .Help("Body bytes read from proxied upstreams (playlists, segments, "
                                "continuous streams, resolver answers and probes).")
                          .Register(*reg)
                          .Add({});
  }

  void register_live() {
    using namespace prometheus;
    auto& ch =
        BuildGauge().Name("hlsgate_live_channels").Help("Live channels by status.").Register(*reg);
    for (size_t i = 0; i < live_channels.size(); ++i)
      live_channels[i] = &ch.Add({{"status", live_status_names[i]}});
    live_latency =
        &BuildHistogram()
             .Name("hlsgate_live_segment_latency_seconds")
             .Help("From the capture of a live segment's last frame to its listing.")
             .Register(*reg)
             .Add({}, Histogram::BucketBoundaries{0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10});
    live_bitrate = &BuildGauge()
                        .Name("hlsgate_live_ingest_bitrate_bits")
                        .Help("Bits per second of a channel's top rendition (last segment).")
                        .Register(*reg);
    live_viewers = &BuildGauge()
                        .Name("hlsgate_live_viewers")
                        .Help("Viewers of a channel, estimated from playlist requests.")
                        .Register(*reg);
    live_dropped = &BuildGauge()
                        .Name("hlsgate_live_dropped_frames")
                        .Help("Video frames of a channel's sources that could not be decoded, "
                              "or were decoded damaged, since the channel started here.")
                        .Register(*reg);
  }

  void register_store() {
    using namespace prometheus;
    store_seconds = &BuildHistogram()
                         .Name("hlsgate_store_write_seconds")
                         .Help("Durable store writes (record put or removed, synced to disk).")
                         .Register(*reg)
                         .Add({}, Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                              0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
    store_failures = &BuildCounter()
                          .Name("hlsgate_store_write_failures_total")
                          .Help("Store writes that failed (the change was not acknowledged).")
                          .Register(*reg)
                          .Add({});
  }

  void register_scrape_gauges() {
    using namespace prometheus;
    connections = &BuildGauge()
                       .Name("hlsgate_http_connections")
                       .Help("Open HTTP connections.")
                       .Register(*reg)
                       .Add({});
    uploads = &BuildGauge()
                   .Name("hlsgate_uploads_in_flight")
                   .Help("Upload bodies being received.")
                   .Register(*reg)
                   .Add({});
    data_free = &BuildGauge()
                     .Name("hlsgate_data_free_bytes")
                     .Help("Bytes available to hlsgate on the data volume.")
                     .Register(*reg)
                     .Add({});
    data_size = &BuildGauge()
                     .Name("hlsgate_data_size_bytes")
                     .Help("Size of the data volume in bytes.")
                     .Register(*reg)
                     .Add({});
  }

  void update_scrape_gauges() {
    if (connections_fn)
      connections->Set(connections_fn());
    if (uploads_fn)
      uploads->Set(uploads_fn());
    struct statvfs v {};
    if (!data_path.empty() && ::statvfs(data_path.c_str(), &v) == 0) {
      data_free->Set(static_cast<double>(v.f_bavail) * static_cast<double>(v.f_frsize));
      data_size->Set(static_cast<double>(v.f_blocks) * static_cast<double>(v.f_frsize));
    }
  }

  void register_build_info() {
    using namespace prometheus;
    BuildGauge()
        .Name("hlsgate_build_info")
        .Help("The running build: version, commit, build type and compiler as labels; value 1.")
        .Register(*reg)
        .Add({{"version", build::version()},
              {"commit", build::commit()},
              {"build_type", build::build_type()},
              {"compiler", build::compiler()}})
        .Set(1);
  }

  void update_process() {
    const process_sample s = read_process(boot_time);
    std::lock_guard<std::mutex> lock(process_mutex);
    if (s.stat_ok) {
      const double delta = s.cpu_seconds - cpu_seconds->Value();
      if (delta > 0)
        cpu_seconds->Increment(delta);
      resident->Set(s.resident_bytes);
      virtual_mem->Set(s.virtual_bytes);
      start_time->Set(s.start_time);
    }
    open_fds->Set(s.open_fds);
  }
};

registry::registry() : impl_(std::make_unique<impl>()) {
  impl_->register_build_info();
  impl_->register_scrape_gauges();
  impl_->register_store();
  impl_->register_live();
  impl_->register_proxy();
}

void registry::store_write(double seconds, bool ok) noexcept {
  try {
    impl_->store_seconds->Observe(seconds);
  } catch (...) {
  }
  if (!ok)
    impl_->store_failures->Increment();
}

void registry::http_gauges(std::function<double()> connections, std::function<double()> uploads) {
  std::lock_guard<std::mutex> lock(impl_->process_mutex);
  impl_->connections_fn = std::move(connections);
  impl_->uploads_fn = std::move(uploads);
}

void registry::data_volume(std::string path) {
  std::lock_guard<std::mutex> lock(impl_->process_mutex);
  impl_->data_path = std::move(path);
}
registry::~registry() = default;

method method_of(std::string_view name) noexcept {
  for (size_t i = 0; i + 1 < method_count; ++i)
    if (name == method_names[i])
      return static_cast<method>(i);
  return method::other;
}

void registry::http_request(route r, method m, unsigned status, double seconds) noexcept {
  const size_t ri = static_cast<size_t>(r) < route_count ? static_cast<size_t>(r)
                                                         : static_cast<size_t>(route::other);
  const size_t mi = static_cast<size_t>(m) < method_count ? static_cast<size_t>(m)
                                                          : static_cast<size_t>(method::other);
  impl_->requests[ri][mi][code_class(status)]->Increment();
  try {
    impl_->request_seconds[ri]->Observe(seconds); // takes a (per-series) mutex
  } catch (...) {
  }
}

void registry::bytes_served(uint64_t n) noexcept {
  impl_->bytes->Increment(static_cast<double>(n));
}

void registry::media_items_add(media_state s, double delta) noexcept {
  if (static_cast<size_t>(s) < impl_->media_items.size())
    impl_->media_items[static_cast<size_t>(s)]->Increment(delta);
}

void registry::token_issued() noexcept {
  impl_->tokens->Increment();
}

void registry::auth_failure(const char* reason) noexcept {
  impl_->auth_failures[reason_index(auth_reasons, reason)]->Increment();
}

void registry::transcode_jobs_add(job_state s, double delta) noexcept {
  if (static_cast<size_t>(s) < impl_->jobs.size())
    impl_->jobs[static_cast<size_t>(s)]->Increment(delta);
}

void registry::transcode_queue_depth(double depth) noexcept {
  impl_->queue_depth->Set(depth);
}

void registry::transcode_queue_limit(double limit) noexcept {
  impl_->queue_limit->Set(limit);
}

void registry::transcode_finished(double seconds, double realtime_factor) noexcept {
  try {
    impl_->transcode_seconds->Observe(seconds);
  } catch (...) {
  }
  impl_->realtime_factor->Set(realtime_factor);
}

void registry::transcode_failure(const char* reason) noexcept {
  impl_->transcode_failures[reason_index(transcode_reasons, reason)]->Increment();
}

void registry::webhook_delivery(const char* outcome) noexcept {
  impl_->webhook_deliveries[reason_index(webhook_outcomes, outcome)]->Increment();
}

std::string registry::serialize() const {
  impl_->update_process();
  {
    std::lock_guard<std::mutex> lock(impl_->process_mutex);
    impl_->update_scrape_gauges();
  }
  return prometheus::TextSerializer().Serialize(impl_->reg->Collect());
}

void registry::live_channels_add(const char* status, double delta) noexcept {
  for (size_t i = 0; i < std::size(live_status_names); ++i)
    if (std::strcmp(status, live_status_names[i]) == 0)
      impl_->live_channels[i]->Increment(delta);
}

void registry::proxy_upstream(const char* result) noexcept {
  for (size_t i = 0; i < std::size(proxy_results); ++i)
    if (std::strcmp(result, proxy_results[i]) == 0)
      impl_->proxy_upstream[i]->Increment();
}

void registry::proxy_failover() noexcept {
  impl_->proxy_failovers->Increment();
}

void registry::proxy_viewers(double delta) noexcept {
  impl_->proxy_viewers->Increment(delta);
}

void registry::proxy_bytes_in(uint64_t n) noexcept {
  impl_->proxy_bytes_in->Increment(static_cast<double>(n));
}

void registry::proxy_bytes_out(uint64_t n) noexcept {
  impl_->proxy_bytes->Increment(static_cast<double>(n));
}

void registry::live_segment_listed(double latency_seconds) noexcept {
  impl_->live_latency->Observe(latency_seconds);
}

void registry::live_channel_gauges(const std::string& channel, double bitrate, double viewers,
                                   double dropped_frames) {
  auto& d = *impl_;
  std::lock_guard lk(d.live_mutex);
  auto it = d.live_series.find(channel);
  if (it == d.live_series.end())
    it = d.live_series
             .emplace(channel, impl::live_gauges{&d.live_bitrate->Add({{"channel", channel}}),
                                                 &d.live_viewers->Add({{"channel", channel}}),
                                                 &d.live_dropped->Add({{"channel", channel}})})
             .first;
  it->second.bitrate->Set(bitrate);
  it->second.viewers->Set(viewers);
  it->second.dropped->Set(dropped_frames);
}

void registry::live_channel_gone(const std::string& channel) {
  auto& d = *impl_;
  std::lock_guard lk(d.live_mutex);
  auto it = d.live_series.find(channel);
  if (it == d.live_series.end())
    return;
  d.live_bitrate->Remove(it->second.bitrate);
  d.live_viewers->Remove(it->second.viewers);
  d.live_dropped->Remove(it->second.dropped);
  d.live_series.erase(it);
}

} // namespace hlsgate::metrics
