// hlsgate: a thin main over the libraries. Parses the configuration, starts
// the actors and the HTTP server, and waits for SIGINT/SIGTERM.
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "actors/service.hpp"
#include "cli/cli.hpp"
#include "cli/options.hpp"
#include "config/config.hpp"
#include "http/api.hpp"
#include "http/options.hpp"
#include "http/server.hpp"
#include "media/log.hpp"
#include "metrics/build_info.hpp"
#include "metrics/log.hpp"
#include "metrics/metrics.hpp"

using namespace hlsgate;

namespace {

/// `hlsgate import PATH...`: registers library files as on-demand items
/// (no copy; transcoded on their first playlist request) and prints one JSON
/// line per file. Run it while the server is stopped: it opens the same store.
int run_import(config::settings cfg, const std::vector<std::string>& paths) {
  cfg.srt_port = 0; // an import takes no publisher (and may run beside the server)
  metrics::registry metrics;
  metrics.data_volume(cfg.data_dir);
  actors::service svc{cfg, metrics};
  if (auto st = svc.start(); !st) {
    std::fprintf(stderr, "hlsgate: %s\n", st.err().reason.c_str());
    return 1;
  }
  actors::import_params p;
  for (auto& path : paths) {
    std::error_code ec;
    p.paths.push_back(std::filesystem::absolute(path, ec).lexically_normal().string());
  }
  std::promise<actors::reply<actors::import_result>> done;
  svc.import(std::move(p),
             [&done](actors::reply<actors::import_result> r) { done.set_value(std::move(r)); });
  auto r = done.get_future().get();
  svc.shutdown();
  if (auto* e = std::get_if<actors::api_error>(&r)) {
    std::fprintf(stderr, "hlsgate: %s\n", e->detail.c_str());
    return 1;
  }
  int failed = 0;
  auto base = cfg.effective_public_url();
  for (auto& i : std::get<actors::import_result>(r).items) {
    nlohmann::json j{{"path", i.path}};
    if (!i.error.empty()) {
      j["error"] = i.error;
      ++failed;
    } else {
      j["media_id"] = i.media_id;
      j["access_token"] = i.access_token;
      j["admin_key"] = i.admin_key;
      j["playlist_url"] = base + "/stream/" + i.media_id + "/playlist.m3u8?token=" + i.access_token;
    }
    std::printf("%s\n", j.dump().c_str());
  }
  return failed == 0 ? 0 : 3;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 2 &&
      (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "version") == 0)) {
    std::printf("%s\n", build::describe().c_str());
    return 0;
  }
  if (argc >= 2 && cli::is_client_command(argv[1]))
    return cli::run({argv + 1, argv + argc}, config::process_environment());
  auto parsed = config::parse(argc, argv, config::process_environment());
  if (parsed.help) {
    std::fputs(parsed.message.c_str(), stdout);
    return 0;
  }
  if (!parsed.ok) {
    std::fprintf(stderr, "hlsgate: %s\n", parsed.message.c_str());
    return 2;
  }
  const auto& cfg = parsed.value;
  logging::set_level(cfg.log_level);
  logging::set_format(cfg.log_format);
  // Defence in depth: every file and folder hlsgate creates gets its mode
  // set explicitly; the umask only guarantees that nothing libav or SQLite
  // creates on its own is ever world-readable.
  ::umask(027);
  // libav's own messages go through our logger (escaped: they may quote
  // bytes of an uploaded file), never straight to stderr.
  static logging::rate_limit libav_lines{20}; // a warning per frame must not flood the log
  media::set_log_sink(
      [](int level, std::string_view line) {
        uint64_t suppressed = 0;
        if (!libav_lines.allow(suppressed))
          return;
        const std::string dropped = std::to_string(suppressed);
        if (level <= media::log_level::error)
          logging::error("libav", {{"line", line}, {"suppressed_before", dropped}});
        else
          logging::warn("libav", {{"line", line}, {"suppressed_before", dropped}});
      },
      logging::enabled(logging::level::debug) ? media::log_level::info : media::log_level::warning);
  if (!parsed.args.empty() && parsed.args[0] == "edge-key") {
    // What an nginx edge needs to verify segment URLs, and nothing more.
    auto keys = actors::load_signing_keys(cfg);
    if (!keys) {
      std::fprintf(stderr, "hlsgate: %s\n", keys.err().reason.c_str());
      return 1;
    }
    std::printf("%s\n", keys->edge.c_str());
    return 0;
  }
  if (!parsed.args.empty() && parsed.args[0] == "import") {
    if (parsed.args.size() < 2) {
      std::fprintf(stderr, "usage: hlsgate import PATH...\n");
      return 2;
    }
    return run_import(cfg, {parsed.args.begin() + 1, parsed.args.end()});
  }
  if (!parsed.args.empty() && (parsed.args[0] != "serve" || parsed.args.size() > 1)) {
    std::fprintf(stderr, "hlsgate: unknown command '%s' (see --help)\n", parsed.args[0].c_str());
    return 2;
  }
  // Block the termination signals in every thread; main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  metrics::registry metrics;
  metrics.data_volume(cfg.data_dir);
  actors::service svc{cfg, metrics};
  if (auto st = svc.start(); !st) {
    std::fprintf(stderr, "hlsgate: %s\n", st.err().reason.c_str());
    return 1;
  }
  http::api router{svc, metrics};
  auto opts = http::make_server_options(cfg);
  http::server srv{opts, router, svc.signer(), metrics, &svc.revocations()};
  try {
    srv.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hlsgate: %s\n", e.what());
    svc.shutdown();
    return 1;
  }
  // One machine-readable line so scripts and tests know where we listen.
  std::printf("hlsgate listening on %s:%u (public URL %s)\n", cfg.bind.c_str(),
              static_cast<unsigned>(srv.port()), cfg.effective_public_url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  // Graceful shutdown: stop accepting; refuse new uploads and answer every
  // waiting synchronous upload now (with its keys); let in-flight answers
  // finish within the deadline; an upload answer that could not be
  // delivered removes its item (service::abandon, awaited by shutdown).
  logging::info("shutting down", {{"signal", std::to_string(sig)}});
  srv.begin_shutdown();
  svc.begin_drain();
  const bool drained =
      srv.drain(std::chrono::steady_clock::now() + std::chrono::seconds(cfg.shutdown_seconds));
  if (!drained)
    logging::warn("shutdown deadline reached with requests in flight",
                  {{"in_flight", std::to_string(srv.in_flight())}});
  srv.stop();
  svc.shutdown();
  logging::info("stopped", {{"drained", drained ? "true" : "false"}});
  return 0;
}
