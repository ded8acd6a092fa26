// `greekwire serve`: the simulated venue and the Deribit-compatible gateway in one process.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "gateway/gateway.hpp"
#include "tls_options.hpp"

namespace gw::app {
namespace {

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "greekwire-data";
  int threads = 1;
  std::uint64_t seed = 1;
  double speed = 1.0;
  bool deflate = false;
  std::size_t max_connections_per_ip = 32;
  std::size_t send_buffer_cap = 4 << 20;
  std::size_t send_buffer_hard_cap = 16 << 20;
  double slow_subscriber_timeout = 30;
  ServerTlsFlags tls;
};

// Each connection is a descriptor: take every one the hard limit allows.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

int run_serve(const ServeConfig& config) {
  std::string error;
  auto endpoint = net::parse_endpoint(config.listen, &error);
  if (!endpoint) {
    std::fprintf(stderr, "greekwire serve: --listen: %s\n", error.c_str());
    return 2;
  }
  gateway::GatewayConfig options;
  options.listen = *endpoint;
  options.data_dir = config.data_dir;
  options.threads = config.threads;
  options.venue.seed = config.seed;
  options.venue.speed = config.speed;
  options.deflate = config.deflate;
  options.max_connections_per_ip = config.max_connections_per_ip;
  options.send_buffer_cap = config.send_buffer_cap;
  options.send_buffer_hard_cap = std::max(config.send_buffer_hard_cap, config.send_buffer_cap);
  options.slow_subscriber_timeout_s = config.slow_subscriber_timeout;
  options.tls = server_tls_config(config.tls, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "greekwire serve: %s\n", error.c_str());
    return 2;
  }
  block_termination_signals();
  raise_open_file_limit();
  gateway::Gateway gateway(options);
  try {
    gateway.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greekwire serve: %s\n", e.what());
    return 1;
  }
  const bool v6 = endpoint->host.find(':') != std::string::npos;
  const std::string host =
      (v6 ? "[" : "") + endpoint->host + (v6 ? "]" : "") + ":" + std::to_string(gateway.port());
  const char* ws = options.tls ? "wss" : "ws";
  const char* http = options.tls ? "https" : "http";
  std::printf("listening on %s://%s/ws/api/v2\n", ws, host.c_str());
  std::printf("  HTTP API   %s://%s/api/v2/public/<method>\n", http, host.c_str());
  std::printf("  health     %s://%s/healthz   metrics %s://%s/metrics\n", http, host.c_str(), http,
              host.c_str());
  std::printf("  market     simulated (seed %llu, speed %g)\n",
              static_cast<unsigned long long>(config.seed), config.speed);
  std::printf("  data       %s (accounts and API keys: greekwire keys --data-dir %s)\n",
              config.data_dir.c_str(), config.data_dir.c_str());
  if (const auto& demo = gateway.created_demo()) {
    // Printed once, when the data directory is created: the secret is not shown again.
    std::printf("  demo account created: client_id %s client_secret %s\n", demo->client_id.c_str(),
                demo->client_secret.c_str());
  }
  std::fflush(stdout);
  wait_for_termination([&gateway] {
    std::string reload_error;
    if (gateway.reload_tls(&reload_error)) {
      std::printf("reloaded the TLS certificates\n");
    } else {
      std::fprintf(stderr, "greekwire serve: TLS reload failed: %s\n", reload_error.c_str());
    }
    std::fflush(stdout);
  });
  gateway.stop();
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, CommandRunner& runner) {
  auto config = std::make_shared<ServeConfig>();
  CLI::App* serve =
      app.add_subcommand("serve", "the simulated venue behind a Deribit-compatible gateway");
  serve->add_option("--listen", config->listen, "address to listen on, host:port")
      ->capture_default_str();
  serve->add_option("--threads", config->threads, "I/O threads (SO_REUSEPORT)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  serve->add_option("--data-dir", config->data_dir, "accounts, API keys and the audit log")
      ->capture_default_str();
  serve->add_option("--seed", config->seed, "seed of the simulated market")->capture_default_str();
  serve
      ->add_option("--speed", config->speed,
                   "simulated seconds per second (0: as fast as possible)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  serve->add_flag("--deflate", config->deflate, "accept permessage-deflate");
  serve
      ->add_option("--max-connections-per-ip", config->max_connections_per_ip,
                   "WebSocket connections per client address (more get HTTP 429)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  serve
      ->add_option("--send-buffer-cap", config->send_buffer_cap,
                   "bytes queued to a subscriber above which its notifications are dropped "
                   "(book channels resync when it drains)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40));
  serve
      ->add_option("--send-buffer-hard-cap", config->send_buffer_hard_cap,
                   "bytes queued to a subscriber above which it is closed with 1008")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40));
  serve
      ->add_option("--slow-subscriber-timeout", config->slow_subscriber_timeout,
                   "seconds a subscriber may keep losing notifications before it is closed "
                   "with 1008")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1e6));
  add_server_tls_flags(*serve, config->tls);
  serve->callback([config, &runner] { runner = [config] { return run_serve(*config); }; });
}

}  // namespace gw::app
