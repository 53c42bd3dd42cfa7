// The operator's view checked against the real Prometheus: it scrapes a
// running hlsgate (after an upload, a playback and a refused request), loads
// deploy/prometheus/alerts.yml, and answers every expression of
// deploy/grafana/hlsgate.json with data. Needs prometheus (Debian package;
// scripts/install-deps.sh --test). Label "system".
#include "tests/e2e/players_support.hpp"

using namespace hlsgate::test;
using namespace hlsgate::test::players_support;

namespace {

std::string query_escape(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

class prometheus_scrape : public e2e {
protected:
  uint16_t prom_port = 0;
  std::unique_ptr<child_process> prom;

  json query(const std::string& expr) {
    auto r = http_get(prom_port, "/api/v1/query?query=" + query_escape(expr));
    auto j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json{{"status", "error"}, {"error", r.body}} : j;
  }
  /// The first sample's value of an instant query (NaN when there is none).
  double value(const std::string& expr) {
    auto j = query(expr);
    const auto& res = j["data"]["result"];
    if (j.value("status", "") != "success" || !res.is_array() || res.empty())
      return std::nan("");
    return std::stod(res[0]["value"][1].get<std::string>());
  }
  /// Polls (bounded) until `pred` holds.
  template <class Pred> bool until(Pred pred, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred())
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
    }
    return pred();
  }
};

TEST_F(prometheus_scrape, every_dashboard_expression_returns_data_and_the_alerts_load) {
  ASSERT_TRUE(have_command("prometheus"))
      << "prometheus is missing: scripts/install-deps.sh --test";
  start();
  const std::string source = HLSGATE_SOURCE_DIR;
  const std::string dir = make_temp_dir("prometheus");
  prom_port = free_port();
  {
    std::ofstream cfg{dir + "/prometheus.yml"};
    cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "rule_files:\n  - " << source << "/deploy/prometheus/alerts.yml\n"
        << "scrape_configs:\n  - job_name: hlsgate\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << port() << "']\n";
  }
  prom = std::make_unique<child_process>();
  ASSERT_TRUE(prom->spawn({"prometheus", "--config.file=" + dir + "/prometheus.yml",
                           "--storage.tsdb.path=" + dir + "/data",
                           "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)}));
  ASSERT_TRUE(until([&] { return value("up{job=\"hlsgate\"}") == 1; }, 60))
      << "Prometheus never scraped hlsgate: " << query("up").dump();

  // Traffic while it scrapes: an upload, a playback, a refused request.
  auto r = upload(make_clip(clip_720p(4)), "?expiry_minutes=60");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = parse_json(r);
  const std::string id = j["media_id"], token = j["access_token"];
  auto master = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
  auto pl = http_get(port(), "/stream/" + id + "/" + playlist_uris(master.body)[0]);
  for (auto& u : playlist_uris(pl.body))
    EXPECT_EQ(http_get(port(), u).status, 200u);
  EXPECT_EQ(http_get(port(), "/stream/" + id + "/playlist.m3u8?token=bad").status, 403u);
  ASSERT_TRUE(until(
      [&] {
        return value("sum(hlsgate_http_requests_total{route=\"segment\"})") > 0 &&
               value("count_over_time(up{job=\"hlsgate\"}[1m])") >= 8;
      },
      60))
      << "the segment requests never reached Prometheus";
  EXPECT_EQ(value("hlsgate_media_items{status=\"ready\"}"), 1);
  EXPECT_GT(value("hlsgate_data_size_bytes"), 0);
  EXPECT_EQ(value("count(hlsgate_build_info)"), 1);

  // The alert rules loaded and evaluate.
  auto rules = json::parse(http_get(prom_port, "/api/v1/rules").body, nullptr, false);
  size_t loaded = 0;
  for (auto& g : rules["data"]["groups"])
    for (auto& rule : g["rules"]) {
      ++loaded;
      EXPECT_EQ(rule.value("health", ""), "ok") << rule.dump();
    }
  EXPECT_EQ(loaded, 6u) << rules.dump();

  // Every expression of the dashboard parses and returns data.
  std::ifstream in{source + "/deploy/grafana/hlsgate.json"};
  auto dash = json::parse(in, nullptr, false);
  ASSERT_FALSE(dash.is_discarded());
  size_t checked = 0;
  for (auto& panel : dash["panels"])
    for (auto& target : panel["targets"]) {
      std::string expr = target["expr"];
      for (size_t p; (p = expr.find("$__rate_interval")) != std::string::npos;)
        expr.replace(p, 16, "30s");
      auto res = query(expr);
      EXPECT_EQ(res.value("status", ""), "success") << panel["title"] << ": " << expr << "\n"
                                                    << res.dump();
      EXPECT_FALSE(res["data"]["result"].empty()) << panel["title"] << ": no data for " << expr;
      ++checked;
    }
  EXPECT_GE(checked, 20u);
  std::printf("[ measure ] %zu dashboard expressions answered by Prometheus\n", checked);
}

} // namespace
