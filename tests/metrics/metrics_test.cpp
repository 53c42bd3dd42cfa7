#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

using namespace hlsgate::metrics;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line)
      return true;
  return false;
}

/// Value of the sample whose text before the value is exactly `series`.
double value_of(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.size() > series.size() && l.compare(0, series.size(), series) == 0 &&
        l[series.size()] == ' ')
      return std::strtod(l.c_str() + series.size() + 1, nullptr);
  ADD_FAILURE() << "no series " << series;
  return -1;
}

bool is_name_char(char c, bool first, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
         (!first && c >= '0' && c <= '9');
}

/// `name{label="value",...} value` of the text exposition format.
bool is_sample_line(const std::string& l) {
  size_t i = 0;
  const auto name = [&](bool colon) {
    const size_t b = i;
    while (i < l.size() && is_name_char(l[i], i == b, colon))
      ++i;
    return i > b;
  };
  if (!name(true))
    return false;
  if (i < l.size() && l[i] == '{') {
    ++i;
    while (i < l.size() && l[i] != '}') {
      if (!name(false) || l.compare(i, 2, "=\"") != 0)
        return false;
      i += 2;
      while (i < l.size() && l[i] != '"')
        i += l[i] == '\\' ? 2 : 1;
      if (i >= l.size())
        return false;
      ++i;
      if (i < l.size() && l[i] == ',')
        ++i;
    }
    if (i >= l.size())
      return false;
    ++i;
  }
  if (i >= l.size() || l[i] != ' ')
    return false;
  const std::string value = l.substr(i + 1);
  if (value == "+Inf" || value == "-Inf" || value == "NaN")
    return true;
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  return !value.empty() && end == value.c_str() + value.size();
}

} // namespace

TEST(Metrics, RouteNames) {
  EXPECT_STREQ(to_string(route::segment), "segment");
  EXPECT_STREQ(to_string(route::stream_playlist), "stream_playlist");
  EXPECT_STREQ(to_string(route::delete_media), "delete_media");
  EXPECT_STREQ(to_string(route::other), "other");
}

TEST(Metrics, HttpRequests) {
  registry reg;
  reg.http_request(route::segment, method::get, 200, 0.0004);
  reg.http_request(route::segment, method::get, 206, 0.002);
  reg.http_request(route::segment, method::head, 403, 0.001);
  reg.http_request(route::stream_playlist, method::get, 418, 0.02);
  reg.http_request(route::upload, method::other, 99999, 3);
  reg.http_request(route::upload, method::post, 507, 3);
  const std::string text = reg.serialize();

  EXPECT_TRUE(has_line(text, "# TYPE hlsgate_http_requests_total counter"));
  // `code` is the status class: 200 and 206 are one series.
  EXPECT_TRUE(
      has_line(text, R"(hlsgate_http_requests_total{code="2xx",method="GET",route="segment"} 2)"))
      << text.substr(0, 2000);
  EXPECT_TRUE(
      has_line(text, R"(hlsgate_http_requests_total{code="4xx",method="HEAD",route="segment"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(hlsgate_http_requests_total{code="4xx",method="GET",route="stream_playlist"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(hlsgate_http_requests_total{code="other",method="other",route="upload"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(hlsgate_http_requests_total{code="5xx",method="POST",route="upload"} 1)"));
  // Pre-created series are exported at zero.
  EXPECT_TRUE(has_line(
      text, R"(hlsgate_http_requests_total{code="5xx",method="DELETE",route="metrics"} 0)"));

  EXPECT_TRUE(has_line(text, "# TYPE hlsgate_http_request_duration_seconds histogram"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_http_request_duration_seconds_count{route="segment"} 3)"));
  EXPECT_NEAR(value_of(text, R"(hlsgate_http_request_duration_seconds_sum{route="segment"})"),
              0.0034, 1e-9);
  EXPECT_TRUE(has_line(
      text, R"(hlsgate_http_request_duration_seconds_bucket{route="segment",le="0.0005"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(hlsgate_http_request_duration_seconds_bucket{route="segment",le="0.001"} 2)"));
  EXPECT_TRUE(has_line(
      text, R"(hlsgate_http_request_duration_seconds_bucket{route="segment",le="+Inf"} 3)"));
  EXPECT_TRUE(
      has_line(text, R"(hlsgate_http_request_duration_seconds_bucket{route="upload",le="10"} 2)"));
}

TEST(Metrics, CountersAndGauges) {
  registry reg;
  reg.bytes_served(200000);
  reg.bytes_served(1000);
  reg.token_issued();
  reg.token_issued();
  reg.token_issued();
  reg.media_items_add(media_state::processing, 2);
  reg.media_items_add(media_state::processing, -1);
  reg.media_items_add(media_state::ready, 5);
  reg.auth_failure("expired");
  reg.auth_failure("expired");
  reg.auth_failure("bad_url_signature");
  reg.auth_failure("something new");
  reg.auth_failure(nullptr);
  reg.transcode_jobs_add(job_state::running, 1);
  reg.transcode_jobs_add(job_state::queued, 3);
  reg.transcode_queue_depth(3);
  reg.transcode_finished(42.5, 12.25);
  reg.transcode_finished(0.5, 30);
  reg.transcode_failure("watchdog");
  reg.transcode_failure("bogus");
  const std::string text = reg.serialize();

  EXPECT_TRUE(has_line(text, "hlsgate_bytes_served_total 201000"));
  EXPECT_TRUE(has_line(text, "hlsgate_tokens_issued_total 3"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_media_items{status="processing"} 1)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_media_items{status="ready"} 5)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_media_items{status="queued"} 0)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_media_items{status="failed"} 0)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_auth_failures_total{reason="expired"} 2)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_auth_failures_total{reason="bad_url_signature"} 1)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_auth_failures_total{reason="other"} 2)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_auth_failures_total{reason="revoked"} 0)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_transcode_jobs{state="running"} 1)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_transcode_jobs{state="queued"} 3)"));
  EXPECT_TRUE(has_line(text, "hlsgate_transcode_queue_depth 3"));
  EXPECT_TRUE(has_line(text, "hlsgate_transcode_duration_seconds_count 2"));
  EXPECT_TRUE(has_line(text, "hlsgate_transcode_duration_seconds_sum 43"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_transcode_duration_seconds_bucket{le="1"} 1)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_transcode_duration_seconds_bucket{le="60"} 2)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_transcode_duration_seconds_bucket{le="3600"} 2)"));
  EXPECT_TRUE(has_line(text, "hlsgate_transcode_realtime_factor 30"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_transcode_failures_total{reason="watchdog"} 1)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_transcode_failures_total{reason="other"} 1)"));
  EXPECT_TRUE(has_line(text, R"(hlsgate_transcode_failures_total{reason="crashed"} 0)"));
}

TEST(Metrics, ProcessMetrics) {
  registry reg;
  const std::string text = reg.serialize();
  EXPECT_TRUE(has_line(text, "# TYPE process_cpu_seconds_total counter"));
  EXPECT_TRUE(has_line(text, "# TYPE process_resident_memory_bytes gauge"));
  EXPECT_GT(value_of(text, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(value_of(text, "process_virtual_memory_bytes"),
            value_of(text, "process_resident_memory_bytes"));
  EXPECT_GE(value_of(text, "process_open_fds"), 3);
  const double start = value_of(text, "process_start_time_seconds");
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(start, now - 3600);
  EXPECT_LE(start, now + 5);

  // CPU time is monotonic across scrapes.
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i)
    sink = sink + i * 0.5;
  const double cpu1 = value_of(text, "process_cpu_seconds_total");
  const double cpu2 = value_of(reg.serialize(), "process_cpu_seconds_total");
  EXPECT_GE(cpu2, cpu1);
}

TEST(Metrics, MethodOfName) {
  EXPECT_EQ(method_of("GET"), method::get);
  EXPECT_EQ(method_of("HEAD"), method::head);
  EXPECT_EQ(method_of("POST"), method::post);
  EXPECT_EQ(method_of("DELETE"), method::del);
  EXPECT_EQ(method_of("OPTIONS"), method::options);
  EXPECT_EQ(method_of("get"), method::other); // methods are case-sensitive
  EXPECT_EQ(method_of("PROPFIND"), method::other);
  EXPECT_EQ(method_of(""), method::other);
}

TEST(Metrics, ExpositionFormat) {
  registry reg;
  reg.http_request(route::info, method::get, 404, 0.001);
  const std::string text = reg.serialize();
  // Every line is a comment (# HELP/# TYPE) or `name{labels} value`.
  std::istringstream in(text);
  size_t samples = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.empty())
      continue;
    if (l[0] == '#')
      EXPECT_TRUE(l.rfind("# HELP ", 0) == 0 || l.rfind("# TYPE ", 0) == 0) << l;
    else {
      EXPECT_TRUE(is_sample_line(l)) << l;
      ++samples;
    }
  }
  EXPECT_GT(samples, 12u * 21u);
}

// promtool's linter, when installed (it is not a build dependency).
TEST(Metrics, PromtoolCheck) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool not installed";
  registry reg;
  reg.http_request(route::info, method::get, 404, 0.001);
  const std::string text = reg.serialize();
  const std::string path = ::testing::TempDir() + "hlsgate_metrics.txt";
  std::ofstream(path) << text;
  EXPECT_EQ(std::system(("promtool check metrics < " + path + " >/dev/null").c_str()), 0);
  std::remove(path.c_str());
}

TEST(Metrics, ConcurrentRecording) {
  registry reg;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        reg.http_request(route::segment, method::get, 206, 0.0001);
        reg.bytes_served(10);
      }
    });
  std::thread scraper([&] {
    for (int i = 0; i < 20; ++i)
      (void)reg.serialize();
  });
  for (auto& t : threads)
    t.join();
  scraper.join();
  const std::string text = reg.serialize();
  EXPECT_TRUE(has_line(
      text, R"(hlsgate_http_requests_total{code="2xx",method="GET",route="segment"} 40000)"));
  EXPECT_TRUE(has_line(text, "hlsgate_bytes_served_total 400000"));
}
