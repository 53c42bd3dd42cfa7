// hlsgate: a thin main over the libraries. Parses the configuration, starts
// the actors and the HTTP server, and waits for SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>

#include "actors/service.hpp"
#include "config/config.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "metrics/log.hpp"
#include "metrics/metrics.hpp"

using namespace hlsgate;

int main(int argc, char** argv) {
  auto parsed = config::parse(argc, argv, config::process_environment());
  if (parsed.help) {
    std::fputs(parsed.message.c_str(), stdout);
    return 0;
  }
  if (!parsed.ok) {
    std::fprintf(stderr, "hlsgate: %s\n", parsed.message.c_str());
    return 2;
  }
  for (auto& a : parsed.args) {
    if (a != "serve") {
      std::fprintf(stderr, "hlsgate: unknown command '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  const auto& cfg = parsed.value;
  logging::set_level(cfg.log_level);
  // Block the termination signals in every thread; main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  metrics::registry metrics;
  actors::service svc{cfg, metrics};
  if (auto st = svc.start(); !st) {
    std::fprintf(stderr, "hlsgate: %s\n", st.err().reason.c_str());
    return 1;
  }
  http::api router{svc, metrics};
  http::server_options opts;
  opts.bind = cfg.bind;
  opts.port = cfg.port;
  opts.threads =
      cfg.http_threads > 0 ? cfg.http_threads : std::max(1u, std::thread::hardware_concurrency());
  opts.max_upload_bytes = cfg.max_upload_bytes;
  opts.upload_tmp_dir = cfg.data_dir + "/uploads";
  opts.media_root = cfg.data_dir + "/media";
  opts.cors_origins = cfg.cors_origins;
  http::server srv{opts, router, svc.signer(), metrics};
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
  logging::info("shutting down", {{"signal", std::to_string(sig)}});
  srv.stop();
  svc.shutdown();
  return 0;
}
