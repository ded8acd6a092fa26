// `greekwire serve`: the simulated venue and the Deribit-compatible gateway in one process,
// configured by defaults, then `--config FILE` (config.hpp), then the flags given. With
// `--replay FILE` the venue mirrors a recording (feed/replay.hpp) instead of simulating.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config.hpp"
#include "feed/relay.hpp"
#include "feed/replay.hpp"
#include "gateway/gateway.hpp"
#include "scale/edge.hpp"
#include "scale/venue_bridge.hpp"
#include "tls_options.hpp"

namespace gw::app {
namespace {

// The gateway's defaults, for the flags' (one instance: a temporary per flag trips g++'s
// maybe-uninitialized analysis).
const gateway::GatewayConfig& gateway_defaults() {
  static const gateway::GatewayConfig defaults;
  return defaults;
}

// The serve flags, as given; each one given on the command line overrides the config file.
struct ServeFlags {
  std::string config;
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "greekwire-data";
  std::string web_root;
  int threads = 1;
  std::uint64_t seed = 1;
  double speed = 1.0;
  bool deflate = false;
  std::size_t max_connections_per_ip = 32;
  std::size_t send_buffer_cap = gateway_defaults().send_buffer_cap;
  std::size_t send_buffer_hard_cap = gateway_defaults().send_buffer_hard_cap;
  double slow_subscriber_timeout = gateway_defaults().slow_subscriber_timeout_s;
  ServerTlsFlags tls;
  UpstreamSettings upstream;
  std::string replay;
  double replay_delay = 0;
  ScaleSettings scale;
};

// Each connection is a descriptor: take every one the hard limit allows.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

bool has_index(const std::filesystem::path& dir) {
  std::error_code error;
  return std::filesystem::is_regular_file(dir / "index.html", error);
}

// The dashboard's built assets when no --web-root is given: web/dist of the source tree that
// this binary was built in (build/release/greekwire -> ../../web/dist), else under the working
// directory. Empty when neither has an index.html (serve then says how to build it).
std::string default_web_root() {
  std::vector<std::filesystem::path> candidates;
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    candidates.push_back(std::filesystem::path(exe).parent_path() / "../../web/dist");
  }
  candidates.emplace_back("web/dist");
  for (const auto& dir : candidates) {
    std::error_code error;
    if (has_index(dir)) return std::filesystem::weakly_canonical(dir, error).string();
  }
  return {};
}

// A flag and what it sets when it was given.
struct Override {
  const CLI::Option* option;
  std::function<void(const ServeFlags&, ServeSettings&)> apply;
};

// Relay mode's options from the settings; nullopt with `error` for a usage error (exit 2).
std::optional<feed::RelayOptions> relay_options(const UpstreamSettings& u, std::string* error) {
  feed::RelayOptions options;
  options.patterns = u.subscribe;
  std::vector<feed::ChannelPattern> patterns;
  if (!feed::Relay::parse_patterns(u.subscribe, patterns, error)) {
    *error = "--subscribe: " + *error;
    return std::nullopt;
  }
  greekwire::ConnectionOptions& c = options.connection;
  c.url = u.url;
  const auto encoding = greekwire::parse_encoding(u.encoding);
  if (!encoding) {
    *error = "--upstream-encoding takes json, msgpack or protobuf";
    return std::nullopt;
  }
  c.encoding = *encoding;
  if (!u.auth.empty()) {
    const std::size_t colon = u.auth.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == u.auth.size()) {
      *error = "--upstream-auth takes CLIENT_ID:CLIENT_SECRET";
      return std::nullopt;
    }
    c.credentials = greekwire::Credentials{u.auth.substr(0, colon), u.auth.substr(colon + 1), {}};
  }
  if (u.tls.certificate.empty() != u.tls.key.empty()) {
    *error = "--upstream-tls-cert and --upstream-tls-key go together";
    return std::nullopt;
  }
  const net::TlsClientConfig tls = client_tls_config(u.tls, "serve --upstream");
  c.tls.ca_file = tls.ca_file;
  c.tls.verify = tls.verify_peer;
  c.tls.certificate_file = tls.client.certificate;
  c.tls.private_key_file = tls.client.private_key;
  options.relist_interval_s = u.relist_interval_s;
  options.heartbeat_interval_s = u.heartbeat_s;
  return options;
}

// The replay of `settings.replay.file` into the gateway's venue, its instruments fed (before
// the gateway starts); nullptr with `error` for a file that cannot be replayed.
std::unique_ptr<feed::Replay> open_replay(const ServeSettings& settings, gateway::Gateway& gateway,
                                          std::string* error) {
  feed::ReplayOptions options;
  options.path = settings.replay.file;
  options.speed = settings.gateway.venue.speed;
  options.delay_s = settings.replay.delay_s;
  auto replay = std::make_unique<feed::Replay>(options, gateway.venue());
  if (!replay->open(error)) return nullptr;
  return replay;
}

void print_market(const ServeSettings& settings, const feed::Replay* replay) {
  const sim::VenueConfig& venue = settings.gateway.venue;
  if (replay == nullptr) {
    std::printf("  market     simulated (seed %llu, speed %g)\n",
                static_cast<unsigned long long>(venue.seed), venue.speed);
    return;
  }
  const feed::ReplaySummary& s = replay->summary();
  std::printf(
      "  market     replay of %s (recorded from %s: %llu messages, %llu instruments, %.1f s; "
      "speed %g, first message in %g s)\n",
      settings.replay.file.c_str(), s.header.url.c_str(), static_cast<unsigned long long>(s.frames),
      static_cast<unsigned long long>(s.instruments),
      static_cast<double>(s.last_us - s.first_us) / 1e6, venue.speed, settings.replay.delay_s);
}

// The scale-out settings' usage errors; empty when they make sense.
std::string scale_usage_error(const ServeSettings& settings) {
  const ScaleSettings& scale = settings.scale;
  if (scale.role != "single" && scale.role != "venue" && scale.role != "edge") {
    return "--role takes single, venue or edge";
  }
  if (scale.role == "single") {
    return scale.nats.empty() ? "" : "--nats needs --role venue or --role edge";
  }
  if (scale.nats.empty()) return "--role " + scale.role + " needs --nats nats://HOST:PORT";
  if (!scale.nats.starts_with("nats://")) return "--nats takes a nats:// URL";
  if (!settings.upstream.url.empty() || !settings.replay.file.empty()) {
    return "--role " + scale.role + " excludes --upstream and --replay (the venue simulates)";
  }
  return "";
}

int run_serve(const ServeSettings& settings) {
  std::string error;
  auto endpoint = net::parse_endpoint(settings.listen, &error);
  if (!endpoint) {
    std::fprintf(stderr, "greekwire serve: --listen: %s\n", error.c_str());
    return 2;
  }
  const bool relayed = !settings.upstream.url.empty();
  std::optional<feed::RelayOptions> relaying;
  if (relayed) {
    relaying = relay_options(settings.upstream, &error);
    if (!relaying) {
      std::fprintf(stderr, "greekwire serve: %s\n", error.c_str());
      return 2;
    }
  } else if (!settings.upstream.subscribe.empty()) {
    std::fprintf(stderr, "greekwire serve: --subscribe needs --upstream\n");
    return 2;
  }
  gateway::GatewayConfig options = settings.gateway;
  if (relayed) options.venue.source = sim::MarketSource::mirror;
  options.listen = *endpoint;
  options.send_buffer_hard_cap = std::max(options.send_buffer_hard_cap, options.send_buffer_cap);
  options.tls = server_tls_config(settings.tls, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "greekwire serve: %s\n", error.c_str());
    return 2;
  }
  const bool replaying = !settings.replay.file.empty();
  if (replaying && relayed) {
    std::fprintf(stderr, "greekwire serve: --replay and --upstream exclude each other\n");
    return 2;
  }
  if (replaying) options.venue.source = sim::MarketSource::mirror;
  if (const std::string problem = scale_usage_error(settings); !problem.empty()) {
    std::fprintf(stderr, "greekwire serve: %s\n", problem.c_str());
    return 2;
  }
  if (options.web_root.empty()) {
    options.web_root = default_web_root();
  } else if (!has_index(options.web_root)) {
    // Asked for by name: a typo should not quietly serve the placeholder page.
    std::fprintf(stderr, "greekwire serve: --web-root %s: no index.html there (make build)\n",
                 options.web_root.c_str());
    return 2;
  }
  block_termination_signals();
  raise_open_file_limit();
  // An edge: the market and the accounts are the venue's, over NATS.
  std::unique_ptr<scale::Edge> edge;
  if (settings.scale.role == "edge") {
    edge = std::make_unique<scale::Edge>(
        scale::EdgeOptions{settings.scale.nats, settings.scale.venue_timeout_s});
    if (!edge->connect(&error)) {
      std::fprintf(stderr, "greekwire serve: --nats: %s\n", error.c_str());
      return 1;
    }
    options.venue.source = sim::MarketSource::mirror;
    options.forward = edge->forwarder();
    options.subscribe_forwarded = [&edge](gateway::AccountRowId account,
                                          const std::string& channel) {
      edge->subscribe_private(account, channel);
    };
    options.edge_id = edge->id();
  }
  gateway::Gateway gateway(options);
  if (edge) {
    if (!edge->start(gateway.venue(), &error)) {
      std::fprintf(stderr, "greekwire serve: the venue over NATS: %s\n", error.c_str());
      return 1;
    }
    gateway.add_metrics([&edge] { return edge->metrics_text(); });
  }
  // The venue: its event stream to JetStream (a consumer taken before the market opens).
  std::unique_ptr<scale::VenueBridge> bridge;
  if (settings.scale.role == "venue") {
    scale::VenueBridgeOptions bridge_options;
    bridge_options.url = settings.scale.nats;
    bridge_options.stream_max_age_s = settings.scale.stream_max_age_s;
    bridge = std::make_unique<scale::VenueBridge>(bridge_options, gateway);
    gateway.add_metrics([&bridge] { return bridge->metrics_text(); });
  }
  std::unique_ptr<feed::Replay> replay;
  if (replaying && !(replay = open_replay(settings, gateway, &error))) {
    std::fprintf(stderr, "greekwire serve: --replay: %s\n", error.c_str());
    return 2;
  }
  // Relay mode: the upstream's instruments are fed before the gateway starts, so that the
  // market opens with them and the first get_instruments lists them.
  std::unique_ptr<feed::Relay> relay;
  if (relaying) {
    relay = std::make_unique<feed::Relay>(std::move(*relaying), gateway.venue());
    if (!relay->start(&error)) {
      std::fprintf(stderr, "greekwire serve: %s\n", error.c_str());
      return 1;
    }
    gateway.add_metrics([&relay] { return feed::metrics_text(relay->stats()); });
  }
  try {
    gateway.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greekwire serve: %s\n", e.what());
    return 1;
  }
  if (replay) replay->start();
  if (edge) {
    edge->set_private_sink([&gateway](std::string_view route, std::string_view notification) {
      gateway.deliver_forwarded(route, notification);
    });
    edge->set_dropped_sink([&gateway] { gateway.close_forwarded_sessions(); });
  }
  if (bridge && !bridge->start(&error)) {
    std::fprintf(stderr, "greekwire serve: --nats: %s\n", error.c_str());
    gateway.stop();
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
  if (const std::string root = gateway.dashboard_root(); !root.empty()) {
    std::printf("  dashboard  %s://%s/   (web root %s)\n", http, host.c_str(), root.c_str());
  } else {
    std::printf("  dashboard  not built (make build builds web/dist)\n");
  }
  if (edge) {
    std::printf(
        "  market     the venue's, over NATS at %s (edge; private methods forwarded, "
        "%g s timeout)\n",
        settings.scale.nats.c_str(), settings.scale.venue_timeout_s);
  } else if (relay) {
    const feed::RelayStats stats = relay->stats();
    std::printf("  market     relayed from %s (%llu instruments, %llu channels)\n",
                settings.upstream.url.c_str(), static_cast<unsigned long long>(stats.instruments),
                static_cast<unsigned long long>(stats.channels));
  } else {
    print_market(settings, replay.get());
  }
  if (bridge) {
    std::printf("  scale-out  venue: market data to JetStream stream %s, requests on %s, at %s\n",
                std::string(scale::kStreamName).c_str(), std::string(scale::kRpcSubject).c_str(),
                settings.scale.nats.c_str());
  }
  if (!edge) {
    std::printf("  data       %s (accounts and API keys: greekwire keys --data-dir %s)\n",
                options.data_dir.c_str(), options.data_dir.c_str());
  }
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
  if (replay) replay->stop();
  if (relay) relay->stop();  // before the venue it feeds stops
  if (edge) edge->stop();    // its requests in flight are answered 13028
  if (bridge) bridge->stop();
  gateway.stop();
  return 0;
}

// The defaults, then the config file, then the flags given.
int configure_and_serve(const ServeFlags& flags, const std::vector<Override>& overrides) {
  ServeSettings settings;
  if (!flags.config.empty()) {
    std::string error;
    if (!load_config(flags.config, settings, &error)) {
      std::istringstream problems(error);
      for (std::string line; std::getline(problems, line);) {
        std::fprintf(stderr, "greekwire serve: --config %s\n", line.c_str());
      }
      return 2;
    }
  }
  for (const Override& o : overrides) {
    if (o.option->count() > 0) o.apply(flags, settings);
  }
  return run_serve(settings);
}

// Relay mode: the market from an upstream Deribit-compatible feed.
template <class Given>
void add_upstream_flags(CLI::App& serve, ServeFlags& flags, Given& given) {
  UpstreamSettings& u = flags.upstream;
  given(serve
            .add_option("--upstream", u.url,
                        "relay mode: the market from this Deribit-compatible feed instead of the "
                        "simulator, ws:// or wss://, e.g. wss://www.deribit.com/ws/api/v2")
            ->check([](const std::string& url) -> std::string {
              return url.starts_with("ws://") || url.starts_with("wss://")
                         ? ""
                         : "--upstream takes a ws:// or wss:// URL";
            }),
        [](const ServeFlags& f, ServeSettings& s) { s.upstream.url = f.upstream.url; });
  given(serve.add_option("--subscribe", u.subscribe,
                         "with --upstream: channels to relay, `*` for any instrument (or index) "
                         "name, e.g. 'book.BTC-*.100ms' 'ticker.*.100ms' 'deribit_price_index.*'"),
        [](const ServeFlags& f, ServeSettings& s) { s.upstream.subscribe = f.upstream.subscribe; });
  given(serve.add_option("--upstream-auth", u.auth,
                         "authenticate upstream with this API key, CLIENT_ID:CLIENT_SECRET (needed "
                         "for raw channels)"),
        [](const ServeFlags& f, ServeSettings& s) { s.upstream.auth = f.upstream.auth; });
  given(serve.add_option("--upstream-encoding", u.encoding, "what the upstream sends")
            ->capture_default_str()
            ->check(CLI::IsMember({"json", "msgpack", "protobuf"})),
        [](const ServeFlags& f, ServeSettings& s) { s.upstream.encoding = f.upstream.encoding; });
  given(serve.add_option("--upstream-tls-ca", u.tls.ca_file,
                         "PEM bundle to verify the upstream against (default: the system's)"),
        [](const ServeFlags& f, ServeSettings& s) {
          s.upstream.tls.ca_file = f.upstream.tls.ca_file;
        });
  given(serve.add_flag("--upstream-tls-insecure", u.tls.insecure,
                       "do not verify the upstream's certificate (tests only)"),
        [](const ServeFlags&, ServeSettings& s) { s.upstream.tls.insecure = true; });
  given(serve.add_option("--upstream-tls-cert", u.tls.certificate,
                         "client certificate for the upstream (mutual TLS), PEM"),
        [](const ServeFlags& f, ServeSettings& s) {
          s.upstream.tls.certificate = f.upstream.tls.certificate;
        });
  given(serve.add_option("--upstream-tls-key", u.tls.key, "its private key, PEM"),
        [](const ServeFlags& f, ServeSettings& s) { s.upstream.tls.key = f.upstream.tls.key; });
  given(serve
            .add_option("--upstream-relist", u.relist_interval_s,
                        "seconds between listings of the upstream's instruments")
            ->capture_default_str()
            ->check(CLI::Range(1.0, 86400.0)),
        [](const ServeFlags& f, ServeSettings& s) {
          s.upstream.relist_interval_s = f.upstream.relist_interval_s;
        });
}

// Scale-out: one venue and any number of edges over NATS JetStream (docs/SCALE-OUT.md).
template <class Given>
void add_scale_flags(CLI::App& serve, ServeFlags& flags, Given& given) {
  ScaleSettings& scale = flags.scale;
  given(serve
            .add_option("--role", scale.role,
                        "single: everything in one process; venue: the market, accounts and "
                        "matching, published over NATS; edge: a gateway serving the venue's "
                        "market from NATS")
            ->capture_default_str()
            ->check(CLI::IsMember({"single", "venue", "edge"})),
        [](const ServeFlags& f, ServeSettings& s) { s.scale.role = f.scale.role; });
  given(serve.add_option("--nats", scale.nats,
                         "with --role venue|edge: the NATS server, "
                         "nats://HOST:4222 (JetStream enabled)"),
        [](const ServeFlags& f, ServeSettings& s) { s.scale.nats = f.scale.nats; });
  given(serve
            .add_option("--venue-timeout", scale.venue_timeout_s,
                        "edge: seconds before a forwarded request is answered 13028 "
                        "temporarily_unavailable")
            ->capture_default_str()
            ->check(CLI::Range(0.1, 600.0)),
        [](const ServeFlags& f, ServeSettings& s) {
          s.scale.venue_timeout_s = f.scale.venue_timeout_s;
        });
  given(serve
            .add_option("--stream-max-age", scale.stream_max_age_s,
                        "venue: seconds of market data the JetStream stream keeps for edges to "
                        "catch up")
            ->capture_default_str()
            ->check(CLI::Range(1.0, 31536000.0)),
        [](const ServeFlags& f, ServeSettings& s) {
          s.scale.stream_max_age_s = f.scale.stream_max_age_s;
        });
}

}  // namespace

void add_serve_command(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<ServeFlags>();
  auto overrides = std::make_shared<std::vector<Override>>();
  auto given = [&overrides](CLI::Option* option, auto apply) {
    overrides->push_back({option, apply});
    return option;
  };
  CLI::App* serve =
      app.add_subcommand("serve", "the simulated venue behind a Deribit-compatible gateway");
  serve
      ->add_option("--config", flags->config,
                   "TOML file with any of these settings and more (greekwire.example.toml); "
                   "flags given here win")
      ->check(CLI::ExistingFile);
  given(serve->add_option("--listen", flags->listen, "address to listen on, host:port"),
        [](const ServeFlags& f, ServeSettings& s) { s.listen = f.listen; })
      ->capture_default_str();
  given(serve->add_option("--threads", flags->threads, "I/O threads (SO_REUSEPORT)"),
        [](const ServeFlags& f, ServeSettings& s) { s.gateway.threads = f.threads; })
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  given(serve->add_option("--data-dir", flags->data_dir, "accounts, API keys and the audit log"),
        [](const ServeFlags& f, ServeSettings& s) { s.gateway.data_dir = f.data_dir; })
      ->capture_default_str();
  given(serve->add_option("--web-root", flags->web_root,
                          "the dashboard's built assets, served at / (default: web/dist next to "
                          "the source tree or under the working directory)"),
        [](const ServeFlags& f, ServeSettings& s) { s.gateway.web_root = f.web_root; });
  given(serve->add_option("--seed", flags->seed, "seed of the simulated market"),
        [](const ServeFlags& f, ServeSettings& s) { s.gateway.venue.seed = f.seed; })
      ->capture_default_str();
  given(serve->add_option("--speed", flags->speed,
                          "simulated (or replayed) seconds per second (0: as fast as possible)"),
        [](const ServeFlags& f, ServeSettings& s) { s.gateway.venue.speed = f.speed; })
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  given(serve->add_option("--replay", flags->replay,
                          "serve a recording (greekwire record) as the market instead of the "
                          "simulator; --speed is the replay's"),
        [](const ServeFlags& f, ServeSettings& s) { s.replay.file = f.replay; });
  given(serve->add_option("--replay-delay", flags->replay_delay,
                          "seconds before the replay's first market message (time to subscribe)"),
        [](const ServeFlags& f, ServeSettings& s) { s.replay.delay_s = f.replay_delay; })
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  given(serve->add_flag("--deflate", flags->deflate, "accept permessage-deflate"),
        [](const ServeFlags&, ServeSettings& s) { s.gateway.deflate = true; });
  given(serve->add_option("--max-connections-per-ip", flags->max_connections_per_ip,
                          "WebSocket connections per client address (more get HTTP 429)"),
        [](const ServeFlags& f, ServeSettings& s) {
          s.gateway.max_connections_per_ip = f.max_connections_per_ip;
        })
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  given(
      serve->add_option("--send-buffer-cap", flags->send_buffer_cap,
                        "bytes queued to a subscriber above which its notifications are dropped "
                        "(book channels resync when it drains)"),
      [](const ServeFlags& f, ServeSettings& s) { s.gateway.send_buffer_cap = f.send_buffer_cap; })
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40));
  given(serve->add_option("--send-buffer-hard-cap", flags->send_buffer_hard_cap,
                          "bytes queued to a subscriber above which it is closed with 1008"),
        [](const ServeFlags& f, ServeSettings& s) {
          s.gateway.send_buffer_hard_cap = f.send_buffer_hard_cap;
        })
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40));
  given(serve->add_option("--slow-subscriber-timeout", flags->slow_subscriber_timeout,
                          "seconds a subscriber may keep losing notifications before it is "
                          "closed with 1008"),
        [](const ServeFlags& f, ServeSettings& s) {
          s.gateway.slow_subscriber_timeout_s = f.slow_subscriber_timeout;
        })
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1e6));
  add_server_tls_flags(*serve, flags->tls);
  given(serve->get_option("--tls-cert"),
        [](const ServeFlags& f, ServeSettings& s) { s.tls.certificates = f.tls.certificates; });
  given(serve->get_option("--tls-key"),
        [](const ServeFlags& f, ServeSettings& s) { s.tls.keys = f.tls.keys; });
  given(serve->get_option("--tls-client-ca"),
        [](const ServeFlags& f, ServeSettings& s) { s.tls.client_ca = f.tls.client_ca; });
  given(serve->get_option("--tls-client-cert"), [](const ServeFlags& f, ServeSettings& s) {
    s.tls.client_certificates = f.tls.client_certificates;
  });
  add_upstream_flags(*serve, *flags, given);
  add_scale_flags(*serve, *flags, given);
  serve->callback([flags, overrides, &runner] {
    runner = [flags, overrides] { return configure_and_serve(*flags, *overrides); };
  });
}

}  // namespace gw::app
