// `greekwire echo`: an echo server (or, with --connect, an echo client) for conformance tests
// and benchmarks.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "http/response.hpp"
#include "net/event_loop.hpp"
#include "tls_options.hpp"
#include "ws/client.hpp"
#include "ws/server.hpp"

namespace gw::app {
namespace {

struct EchoConfig {
  std::string listen = "127.0.0.1:9001";
  std::string connect_url;
  int threads = 1;
  std::size_t max_message = 16 * 1024 * 1024;
  double handshake_timeout = 10;
  double idle_timeout = 120;
  double close_timeout = 5;
  double ping_interval = 0;
  std::vector<std::string> origins;
  std::vector<std::string> subprotocols;
  bool deflate = false;
  int deflate_window_bits = 15;
  bool deflate_no_context_takeover = false;
  int deflate_mem_level = 8;
  ServerTlsFlags tls;         // server: certificates; client: --tls-cert/--tls-key identity
  ClientTlsFlags client_tls;  // client: trust and verification
};

// Sends every message back as it came (text as text, binary as binary). Stateless, so one
// instance serves every loop thread.
class EchoHandler : public ws::WebSocketHandler {
 public:
  void on_message(ws::WebSocket& socket, ws::MessageType type,
                  std::span<std::uint8_t> payload) override {
    socket.send(type, payload);
  }
};

ws::SocketOptions socket_options(const EchoConfig& config) {
  ws::SocketOptions options;
  options.protocol.max_message_size = config.max_message;
  options.handshake_timeout_s = config.handshake_timeout;
  options.idle_timeout_s = config.idle_timeout;
  options.close_timeout_s = config.close_timeout;
  options.ping_interval_s = config.ping_interval;
  options.deflate.enabled = config.deflate;
  options.deflate.max_window_bits = config.deflate_window_bits;
  options.deflate.no_context_takeover = config.deflate_no_context_takeover;
  options.deflate.mem_level = config.deflate_mem_level;
  return options;
}

int run_server(const EchoConfig& config) {
  std::string error;
  auto endpoint = net::parse_endpoint(config.listen, &error);
  if (!endpoint) {
    std::fprintf(stderr, "greekwire echo: --listen: %s\n", error.c_str());
    return 2;
  }
  ws::ServerOptions options;
  options.listen = *endpoint;
  options.threads = config.threads;
  options.socket = socket_options(config);
  options.handshake.allowed_origins = config.origins;
  options.handshake.subprotocols = config.subprotocols;
  options.tls = server_tls_config(config.tls, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "greekwire echo: %s\n", error.c_str());
    return 2;
  }

  block_termination_signals();
  EchoHandler handler;
  ws::Server server(options, handler);
  server.route("GET", "/healthz", [](const http::Request&) {
    return http::format_response({200, {{"Content-Type", "text/plain"}}}, "ok\n", true);
  });
  try {
    server.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greekwire echo: %s\n", e.what());
    return 1;
  }
  const bool v6 = endpoint->host.find(':') != std::string::npos;
  std::printf("listening on %s://%s%s%s:%u\n", options.tls ? "wss" : "ws", v6 ? "[" : "",
              endpoint->host.c_str(), v6 ? "]" : "", server.port());
  std::fflush(stdout);

  wait_for_termination([&server] {
    std::string reload_error;
    if (server.reload_tls(&reload_error)) {
      std::printf("reloaded the TLS certificates\n");
    } else {
      std::fprintf(stderr, "greekwire echo: TLS reload failed, keeping the old ones: %s\n",
                   reload_error.c_str());
    }
    std::fflush(stdout);
  });
  server.shutdown();
  server.wait();
  return 0;
}

// The client side of echo: exits when the server closes.
class EchoClientHandler : public EchoHandler {
 public:
  void on_close(ws::WebSocket&, std::uint16_t code, std::string_view reason) override {
    std::printf("closed %u %.*s\n", code, static_cast<int>(reason.size()), reason.data());
    std::fflush(stdout);
    exit_code = code == ws::close_code::normal ? 0 : 1;
  }

  void on_connect_error(ws::WebSocket&, std::string_view error) override {
    std::fprintf(stderr, "greekwire echo: %.*s\n", static_cast<int>(error.size()), error.data());
    exit_code = 2;
  }

  int exit_code = 2;
};

int run_client(const EchoConfig& config) {
  std::string error;
  auto url = ws::parse_url(config.connect_url, &error);
  if (!url) {
    std::fprintf(stderr, "greekwire echo: --connect: %s\n", error.c_str());
    return 2;
  }
  ignore_broken_pipes();
  ws::ClientOptions options;
  options.socket = socket_options(config);
  options.handshake.subprotocols = config.subprotocols;
  if (url->secure) {
    ClientTlsFlags tls = config.client_tls;
    if (config.tls.certificates.size() > 1 ||
        config.tls.certificates.size() != config.tls.keys.size()) {
      std::fprintf(stderr, "greekwire echo: a client takes one --tls-cert with its --tls-key\n");
      return 2;
    }
    if (!config.tls.certificates.empty()) {
      tls.certificate = config.tls.certificates.front();
      tls.key = config.tls.keys.front();
    }
    options.tls = client_tls_config(tls, "echo");
  }
  net::EventLoop loop;
  EchoClientHandler handler;
  if (ws::ClientSocket::connect(loop, *url, options, handler, &error) == nullptr) {
    std::fprintf(stderr, "greekwire echo: %s\n", error.c_str());
    return 2;
  }
  // Returns once the socket is gone: after the close handshake and the server's TCP close.
  loop.stop_when_no_connections();
  loop.run();
  return handler.exit_code;
}

}  // namespace

void add_echo_command(CLI::App& app, CommandRunner& runner) {
  auto config = std::make_shared<EchoConfig>();
  CLI::App* echo = app.add_subcommand("echo", "WebSocket echo server (or client with --connect)");
  echo->add_option("--listen", config->listen, "address to listen on, host:port")
      ->capture_default_str();
  echo->add_option("--connect", config->connect_url,
                   "act as a client: connect to this ws:// or wss:// URL and echo what the "
                   "server sends; exit 0 if it closes with 1000, 1 for other codes, 2 if it "
                   "cannot connect");
  echo->add_option("--threads", config->threads, "event-loop threads (SO_REUSEPORT)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  echo->add_option("--max-message", config->max_message, "largest message accepted, bytes")
      ->capture_default_str();
  echo->add_option("--handshake-timeout", config->handshake_timeout, "seconds")
      ->capture_default_str();
  echo->add_option("--idle-timeout", config->idle_timeout, "seconds without data; 0 = never")
      ->capture_default_str();
  echo->add_option("--close-timeout", config->close_timeout, "seconds")->capture_default_str();
  echo->add_option("--ping-interval", config->ping_interval, "seconds; 0 = never")
      ->capture_default_str();
  echo->add_option("--origin", config->origins, "allowed Origin (repeatable); default: any");
  echo->add_option("--subprotocol", config->subprotocols,
                   "supported subprotocol, in preference order (repeatable)");
  echo->add_flag("--deflate", config->deflate, "offer/accept permessage-deflate (RFC 7692)");
  echo->add_option("--deflate-window-bits", config->deflate_window_bits,
                   "our compressor's window, 9..15 (memory per connection ~ 2^(bits+2) B)")
      ->capture_default_str()
      ->check(CLI::Range(9, 15));
  echo->add_option("--deflate-mem-level", config->deflate_mem_level,
                   "zlib memLevel, 1..9: compressor state ~ 2^(level+9) B")
      ->capture_default_str()
      ->check(CLI::Range(1, 9));
  echo->add_flag("--deflate-no-context-takeover", config->deflate_no_context_takeover,
                 "reset our compressor after every message");
  add_server_tls_flags(*echo, config->tls);
  add_client_tls_flags(*echo, config->client_tls, /*with_identity=*/false);
  echo->callback([config, &runner] {
    runner = [config] {
      return config->connect_url.empty() ? run_server(*config) : run_client(*config);
    };
  });
}

}  // namespace gw::app
