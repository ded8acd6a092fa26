// `greekwire bench echo`: a load generator on our own client. N connections each keep K
// messages in flight; every echo is timed from send to receipt.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "net/event_loop.hpp"
#include "tls_options.hpp"
#include "ws/client.hpp"

namespace gw::app {
namespace {

struct BenchConfig {
  std::string url;
  int connections = 100;
  std::size_t size = 512;
  double duration = 10;
  double warmup = 1;
  int pipeline = 1;
  bool binary = false;
  bool json = false;
  bool deflate = false;
  bool tls = false;
  ClientTlsFlags client_tls;
};

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// Send times of the messages a connection has in flight (echoes come back in order).
struct InFlight {
  std::vector<std::uint64_t> sent_ns;
  std::size_t head = 0;
  std::size_t count = 0;
};

// Text shaped like a market-data notification (so that --deflate sees realistic redundancy):
// book levels with pseudo-random prices and amounts, cut or padded to `size` bytes.
std::string market_data_text(std::size_t size) {
  std::string text = R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":)"
                     R"("book.BTC-PERPETUAL.100ms","data":{"bids":[)";
  std::uint32_t seed = 12345;
  while (text.size() < size) {
    seed = seed * 1103515245u + 12345u;
    text += "[\"new\"," + std::to_string(100000 + seed % 5000) + "." + std::to_string(seed % 10) +
            "," + std::to_string(10 * (1 + (seed >> 8) % 900)) + "],";
  }
  text.resize(size);
  return text;
}

class EchoLoad : public ws::WebSocketHandler {
 public:
  explicit EchoLoad(const BenchConfig& config)
      : config_(config), payload_(market_data_text(config.size)) {
    latencies_ns_.reserve(1 << 22);
  }

  void on_open(ws::WebSocket& socket) override {
    auto* flight = new InFlight;
    flight->sent_ns.resize(static_cast<std::size_t>(config_.pipeline));
    socket.user_data = flight;
    ++open_;
    open_sockets_.push_back(&socket);
    for (int i = 0; i < config_.pipeline; ++i) send_one(socket, *flight);
  }

  void on_message(ws::WebSocket& socket, ws::MessageType,
                  std::span<std::uint8_t> payload) override {
    auto& flight = *static_cast<InFlight*>(socket.user_data);
    const std::uint64_t now = now_ns();
    if (flight.count == 0 || payload.size() != payload_.size()) {
      ++errors_;
      return;
    }
    const std::uint64_t sent = flight.sent_ns[flight.head];
    flight.head = (flight.head + 1) % flight.sent_ns.size();
    --flight.count;
    if (measuring_) {
      ++messages_;
      latencies_ns_.push_back(now - sent);
    }
    ++interval_messages_;
    if (!stopping_) send_one(socket, flight);
  }

  void on_close(ws::WebSocket& socket, std::uint16_t code, std::string_view reason) override {
    delete static_cast<InFlight*>(socket.user_data);
    socket.user_data = nullptr;
    if (!stopping_) {
      ++errors_;
      std::fprintf(stderr, "connection closed early: %u %.*s\n", code,
                   static_cast<int>(reason.size()), reason.data());
    }
    --open_;
    std::erase(open_sockets_, &socket);
  }

  void on_connect_error(ws::WebSocket&, std::string_view error) override {
    ++errors_;
    ++failed_connects_;
    std::fprintf(stderr, "connect failed: %.*s\n", static_cast<int>(error.size()), error.data());
  }

  void start_measuring() {
    measuring_ = true;
    messages_ = 0;
    latencies_ns_.clear();
    measure_start_ns_ = now_ns();
  }

  // Closes every open connection; the loop ends when the last one is gone.
  void stop() {
    measure_end_ns_ = now_ns();
    measuring_ = false;
    stopping_ = true;
    const std::vector<ws::WebSocket*> open = open_sockets_;
    for (ws::WebSocket* socket : open) socket->close();
  }

  // Per-second progress on stderr.
  void progress(double elapsed_s) {
    const bool tty = isatty(STDERR_FILENO) != 0;
    std::fprintf(stderr, "%s[%5.1fs] %8llu msg/s  %d connections open  %llu errors%s",
                 tty ? "\r" : "", elapsed_s, static_cast<unsigned long long>(interval_messages_),
                 open_, static_cast<unsigned long long>(errors_), tty ? "   " : "\n");
    std::fflush(stderr);
    interval_messages_ = 0;
  }

  int report() {
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    std::sort(latencies_ns_.begin(), latencies_ns_.end());
    auto percentile_us = [&](double p) {
      if (latencies_ns_.empty()) return 0.0;
      const auto index =
          static_cast<std::size_t>(p * static_cast<double>(latencies_ns_.size() - 1));
      return static_cast<double>(latencies_ns_[index]) / 1000.0;
    };
    const double seconds = static_cast<double>(measure_end_ns_ - measure_start_ns_) / 1e9;
    const double rate = seconds > 0 ? static_cast<double>(messages_) / seconds : 0.0;
    if (config_.json) {
      std::printf(
          "{\"url\": \"%s\", \"connections\": %d, \"size\": %zu, \"pipeline\": %d, "
          "\"duration_s\": %.3f, \"messages\": %llu, \"messages_per_second\": %.1f, "
          "\"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"errors\": %llu}\n",
          config_.url.c_str(), config_.connections, config_.size, config_.pipeline, seconds,
          static_cast<unsigned long long>(messages_), rate, percentile_us(0.5), percentile_us(0.99),
          percentile_us(0.999), static_cast<unsigned long long>(errors_));
    } else {
      std::printf("%s: %d connections x %zu B, pipeline %d, %.1f s\n", config_.url.c_str(),
                  config_.connections, config_.size, config_.pipeline, seconds);
      std::printf("  %.0f messages/s (%llu echoes), %llu errors\n", rate,
                  static_cast<unsigned long long>(messages_),
                  static_cast<unsigned long long>(errors_));
      std::printf("  latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us\n", percentile_us(0.5),
                  percentile_us(0.99), percentile_us(0.999));
    }
    return errors_ == 0 && messages_ > 0 ? 0 : 1;
  }

 private:
  void send_one(ws::WebSocket& socket, InFlight& flight) {
    const std::size_t slot = (flight.head + flight.count) % flight.sent_ns.size();
    flight.sent_ns[slot] = now_ns();
    ++flight.count;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(payload_.data());
    socket.send(config_.binary ? ws::MessageType::binary : ws::MessageType::text,
                {bytes, payload_.size()});
  }

  const BenchConfig& config_;
  std::string payload_;
  std::vector<std::uint64_t> latencies_ns_;
  std::vector<ws::WebSocket*> open_sockets_;
  std::uint64_t messages_ = 0;
  std::uint64_t interval_messages_ = 0;
  std::uint64_t errors_ = 0;
  int failed_connects_ = 0;
  int open_ = 0;
  bool measuring_ = false;
  bool stopping_ = false;
  std::uint64_t measure_start_ns_ = 0;
  std::uint64_t measure_end_ns_ = 0;
};

int run_bench_echo(const BenchConfig& config) {
  std::string error;
  auto url = ws::parse_url(config.url, &error);
  if (!url) {
    std::fprintf(stderr, "greekwire bench echo: %s\n", error.c_str());
    return 2;
  }
  if (config.tls) url->secure = true;  // same host and port, over TLS
  ignore_broken_pipes();
  ws::ClientOptions options;
  options.socket.idle_timeout_s = 0;
  options.socket.protocol.max_message_size = config.size + 1024;
  options.socket.deflate.enabled = config.deflate;
  if (url->secure) {
    // One context for every connection: the trust store is loaded once.
    options.tls_context =
        net::TlsClientContext::create(client_tls_config(config.client_tls, "bench echo"), &error);
    if (!options.tls_context) {
      std::fprintf(stderr, "greekwire bench echo: %s\n", error.c_str());
      return 2;
    }
  }
  net::EventLoop loop;
  EchoLoad load(config);
  for (int i = 0; i < config.connections; ++i) {
    if (ws::ClientSocket::connect(loop, *url, options, load, &error) == nullptr) {
      std::fprintf(stderr, "greekwire bench echo: %s\n", error.c_str());
      return 2;
    }
  }
  // A once-a-second tick drives the progress line, the end of the warm-up and the end.
  const std::uint64_t start_ms = net::monotonic_ms();
  const auto warmup_ms = static_cast<std::uint64_t>(config.warmup * 1000);
  const auto end_ms = warmup_ms + static_cast<std::uint64_t>(config.duration * 1000);
  std::uint64_t next_tick_ms = 1000;
  bool measuring = false;
  net::Timer tick;
  tick.set_callback([&] {
    const std::uint64_t elapsed = net::monotonic_ms() - start_ms;
    if (!measuring && elapsed >= warmup_ms) {
      measuring = true;
      load.start_measuring();
    }
    if (elapsed >= end_ms) {
      load.stop();
      tick.cancel();
      return;
    }
    if (elapsed >= next_tick_ms) {
      load.progress(static_cast<double>(elapsed) / 1000.0);
      next_tick_ms += 1000;
    }
    const std::uint64_t next = std::min({next_tick_ms, end_ms, measuring ? end_ms : warmup_ms});
    loop.timers().arm(tick, start_ms + std::max(next, elapsed + 1));
  });
  loop.timers().arm(tick, start_ms + std::min<std::uint64_t>(warmup_ms, 1000));
  loop.stop_when_no_connections();
  loop.run();
  return load.report();
}

}  // namespace

void add_bench_command(CLI::App& app, CommandRunner& runner) {
  auto config = std::make_shared<BenchConfig>();
  CLI::App* bench = app.add_subcommand("bench", "load generators");
  bench->require_subcommand(1);
  CLI::App* echo = bench->add_subcommand("echo", "echo round trips against a WebSocket server");
  echo->add_option("url", config->url, "ws:// or wss:// URL of an echo server")->required();
  echo->add_option("--connections", config->connections, "concurrent connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  echo->add_option("--size", config->size, "message size, bytes")->capture_default_str();
  echo->add_option("--duration", config->duration, "measured seconds")->capture_default_str();
  echo->add_option("--warmup", config->warmup, "seconds before measuring")->capture_default_str();
  echo->add_option("--pipeline", config->pipeline, "messages in flight per connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  echo->add_flag("--binary", config->binary, "send binary messages (default: text)");
  echo->add_flag("--json", config->json, "print the summary as one JSON object");
  echo->add_flag("--deflate", config->deflate, "offer permessage-deflate");
  echo->add_flag("--tls", config->tls, "use TLS even if the URL says ws:// (same host and port)");
  add_client_tls_flags(*echo, config->client_tls);
  echo->callback([config, &runner] { runner = [config] { return run_bench_echo(*config); }; });
}

}  // namespace gw::app
