// `greekwire bench echo|handshake`: load generators on our own client (`bench fanout`:
// bench_fanout.cpp).
//   echo       N connections each keep K messages in flight; every echo is timed from send to
//              receipt.
//   handshake  N connections each connect, open (TCP, TLS, upgrade), close and start again;
//              every opening is timed from connect to open.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
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

// Counts and latencies of one run, the per-second progress line and the summary.
class LoadStats {
 public:
  explicit LoadStats(const char* unit) : unit_(unit) { latencies_ns_.reserve(1 << 22); }

  void start_measuring() {
    measuring_ = true;
    count_ = 0;
    latencies_ns_.clear();
    start_ns_ = now_ns();
  }
  void stop_measuring() {
    end_ns_ = now_ns();
    measuring_ = false;
  }
  void record(std::uint64_t latency_ns) {
    if (measuring_) {
      ++count_;
      latencies_ns_.push_back(latency_ns);
    }
    ++interval_count_;
  }
  void error() { ++errors_; }

  void progress(double elapsed_s, int open) {
    const bool tty = isatty(STDERR_FILENO) != 0;
    std::fprintf(stderr, "%s[%5.1fs] %8llu %s/s  %d connections open  %llu errors%s",
                 tty ? "\r" : "", elapsed_s, static_cast<unsigned long long>(interval_count_),
                 unit_, open, static_cast<unsigned long long>(errors_), tty ? "   " : "\n");
    std::fflush(stderr);
    interval_count_ = 0;
  }

  int report(const BenchConfig& config, const char* what) {
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    std::sort(latencies_ns_.begin(), latencies_ns_.end());
    const double seconds = static_cast<double>(end_ns_ - start_ns_) / 1e9;
    const double rate = seconds > 0 ? static_cast<double>(count_) / seconds : 0.0;
    if (config.json) {
      std::printf(
          "{\"url\": \"%s\", \"test\": \"%s\", \"connections\": %d, \"size\": %zu, "
          "\"pipeline\": %d, \"duration_s\": %.3f, \"%ss\": %llu, \"%ss_per_second\": %.1f, "
          "\"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"errors\": %llu}\n",
          config.url.c_str(), what, config.connections, config.size, config.pipeline, seconds,
          unit_, static_cast<unsigned long long>(count_), unit_, rate, percentile_us(0.5),
          percentile_us(0.99), percentile_us(0.999), static_cast<unsigned long long>(errors_));
    } else {
      std::printf("%s %s: %d connections x %zu B, pipeline %d, %.1f s\n", what, config.url.c_str(),
                  config.connections, config.size, config.pipeline, seconds);
      std::printf("  %.0f %ss/s (%llu), %llu errors\n", rate, unit_,
                  static_cast<unsigned long long>(count_),
                  static_cast<unsigned long long>(errors_));
      std::printf("  latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us\n", percentile_us(0.5),
                  percentile_us(0.99), percentile_us(0.999));
    }
    return errors_ == 0 && count_ > 0 ? 0 : 1;
  }

 private:
  double percentile_us(double p) const {
    if (latencies_ns_.empty()) return 0.0;
    const auto index = static_cast<std::size_t>(p * static_cast<double>(latencies_ns_.size() - 1));
    return static_cast<double>(latencies_ns_[index]) / 1000.0;
  }

  const char* unit_;
  std::vector<std::uint64_t> latencies_ns_;
  std::uint64_t count_ = 0;
  std::uint64_t interval_count_ = 0;
  std::uint64_t errors_ = 0;
  bool measuring_ = false;
  std::uint64_t start_ns_ = 0;
  std::uint64_t end_ns_ = 0;
};

// The open connections of a load, so that stop() can close them.
class OpenSockets {
 public:
  void add(ws::WebSocket& socket) { sockets_.push_back(&socket); }
  void remove(ws::WebSocket& socket) { std::erase(sockets_, &socket); }
  int count() const { return static_cast<int>(sockets_.size()); }
  void close_all() {
    const std::vector<ws::WebSocket*> open = sockets_;
    for (ws::WebSocket* socket : open) socket->close();
  }

 private:
  std::vector<ws::WebSocket*> sockets_;
};

class EchoLoad : public ws::WebSocketHandler {
 public:
  explicit EchoLoad(const BenchConfig& config)
      : config_(config), payload_(market_data_text(config.size)) {}

  void start(net::EventLoop& loop, const ws::Url& url, const ws::ClientOptions& options) {
    for (int i = 0; i < config_.connections; ++i) {
      std::string error;
      if (ws::ClientSocket::connect(loop, url, options, *this, &error) == nullptr)
        throw std::runtime_error(error);
    }
  }

  void on_open(ws::WebSocket& socket) override {
    auto* flight = new InFlight;
    flight->sent_ns.resize(static_cast<std::size_t>(config_.pipeline));
    socket.user_data = flight;
    open_.add(socket);
    for (int i = 0; i < config_.pipeline; ++i) send_one(socket, *flight);
  }

  void on_message(ws::WebSocket& socket, ws::MessageType,
                  std::span<std::uint8_t> payload) override {
    auto& flight = *static_cast<InFlight*>(socket.user_data);
    const std::uint64_t now = now_ns();
    if (flight.count == 0 || payload.size() != payload_.size()) {
      stats.error();
      return;
    }
    const std::uint64_t sent = flight.sent_ns[flight.head];
    flight.head = (flight.head + 1) % flight.sent_ns.size();
    --flight.count;
    stats.record(now - sent);
    if (!stopping_) send_one(socket, flight);
  }

  void on_close(ws::WebSocket& socket, std::uint16_t code, std::string_view reason) override {
    delete static_cast<InFlight*>(socket.user_data);
    socket.user_data = nullptr;
    if (!stopping_) {
      stats.error();
      std::fprintf(stderr, "connection closed early: %u %.*s\n", code,
                   static_cast<int>(reason.size()), reason.data());
    }
    open_.remove(socket);
  }

  void on_connect_error(ws::WebSocket&, std::string_view error) override {
    stats.error();
    std::fprintf(stderr, "connect failed: %.*s\n", static_cast<int>(error.size()), error.data());
  }

  // Closes every open connection; the loop ends when the last one is gone.
  void stop() {
    stats.stop_measuring();
    stopping_ = true;
    open_.close_all();
  }
  int open_count() const { return open_.count(); }

  LoadStats stats{"message"};

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
  OpenSockets open_;
  bool stopping_ = false;
};

// Each of N slots connects, opens, closes and connects again.
class HandshakeLoad : public ws::WebSocketHandler {
 public:
  explicit HandshakeLoad(const BenchConfig& config) : config_(config) {}

  void start(net::EventLoop& loop, const ws::Url& url, const ws::ClientOptions& options) {
    loop_ = &loop;
    url_ = &url;
    options_ = &options;
    for (int i = 0; i < config_.connections; ++i) {
      std::string error;
      if (!connect_one(&error)) throw std::runtime_error(error);
    }
  }

  void on_open(ws::WebSocket& socket) override {
    const std::uint64_t started = reinterpret_cast<std::uintptr_t>(socket.user_data);
    stats.record(now_ns() - started);
    open_.add(socket);
    socket.close();
  }

  void on_message(ws::WebSocket&, ws::MessageType, std::span<std::uint8_t>) override {}

  void on_close(ws::WebSocket& socket, std::uint16_t, std::string_view) override {
    open_.remove(socket);
    reconnect();
  }

  void on_connect_error(ws::WebSocket&, std::string_view error) override {
    stats.error();
    if (!stopping_) {
      std::fprintf(stderr, "connect failed: %.*s\n", static_cast<int>(error.size()), error.data());
    }
    reconnect();
  }

  void stop() {
    stats.stop_measuring();
    stopping_ = true;
    open_.close_all();
  }
  int open_count() const { return open_.count(); }

  LoadStats stats{"handshake"};

 private:
  bool connect_one(std::string* error) {
    const std::uint64_t started = now_ns();
    ws::ClientSocket* socket = ws::ClientSocket::connect(*loop_, *url_, *options_, *this, error);
    if (socket == nullptr) return false;
    socket->user_data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(started));
    return true;
  }

  void reconnect() {
    if (stopping_) return;
    std::string error;
    if (!connect_one(&error)) {
      stats.error();
      std::fprintf(stderr, "connect failed: %s\n", error.c_str());
    }
  }

  const BenchConfig& config_;
  net::EventLoop* loop_ = nullptr;
  const ws::Url* url_ = nullptr;
  const ws::ClientOptions* options_ = nullptr;
  OpenSockets open_;
  bool stopping_ = false;
};

// Parses the URL and builds the client options shared by every connection.
bool prepare_client(const BenchConfig& config, const char* command, ws::Url& url,
                    ws::ClientOptions& options) {
  std::string error;
  auto parsed = ws::parse_url(config.url, &error);
  if (!parsed) {
    std::fprintf(stderr, "greekwire %s: %s\n", command, error.c_str());
    return false;
  }
  url = *parsed;
  if (config.tls) url.secure = true;  // same host and port, over TLS
  options.socket.idle_timeout_s = 0;
  options.socket.protocol.max_message_size = config.size + 1024;
  options.socket.deflate.enabled = config.deflate;
  if (url.secure) {
    // One context for every connection: the trust store is loaded once.
    options.tls_context =
        net::TlsClientContext::create(client_tls_config(config.client_tls, command), &error);
    if (!options.tls_context) {
      std::fprintf(stderr, "greekwire %s: %s\n", command, error.c_str());
      return false;
    }
  }
  return true;
}

// Runs `load` for the warm-up and the measured duration with a once-a-second progress line.
template <class Load>
int run_load(const BenchConfig& config, const char* command, const char* what) {
  ws::Url url;
  ws::ClientOptions options;
  if (!prepare_client(config, command, url, options)) return 2;
  ignore_broken_pipes();
  net::EventLoop loop;
  Load load(config);
  try {
    load.start(loop, url, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greekwire %s: %s\n", command, e.what());
    return 2;
  }
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
      load.stats.start_measuring();
    }
    if (elapsed >= end_ms) {
      load.stop();
      tick.cancel();
      return;
    }
    if (elapsed >= next_tick_ms) {
      load.stats.progress(static_cast<double>(elapsed) / 1000.0, load.open_count());
      next_tick_ms += 1000;
    }
    const std::uint64_t next = std::min({next_tick_ms, end_ms, measuring ? end_ms : warmup_ms});
    loop.timers().arm(tick, start_ms + std::max(next, elapsed + 1));
  });
  loop.timers().arm(tick, start_ms + std::min<std::uint64_t>(warmup_ms, 1000));
  loop.stop_when_no_connections();
  loop.run();
  return load.stats.report(config, what);
}

}  // namespace

void add_bench_fanout(CLI::App& bench, CommandRunner& runner);  // bench_fanout.cpp

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
  echo->callback([config, &runner] {
    runner = [config] { return run_load<EchoLoad>(*config, "bench echo", "echo"); };
  });

  auto shake = std::make_shared<BenchConfig>();
  shake->connections = 8;
  CLI::App* handshake = bench->add_subcommand(
      "handshake", "connections opened per second: TCP connect, TLS, upgrade, close, again");
  handshake->add_option("url", shake->url, "ws:// or wss:// URL of a WebSocket server")->required();
  handshake->add_option("--connections", shake->connections, "concurrent connection attempts")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  handshake->add_option("--duration", shake->duration, "measured seconds")->capture_default_str();
  handshake->add_option("--warmup", shake->warmup, "seconds before measuring")
      ->capture_default_str();
  handshake->add_flag("--json", shake->json, "print the summary as one JSON object");
  handshake->add_flag("--tls", shake->tls, "use TLS even if the URL says ws://");
  add_client_tls_flags(*handshake, shake->client_tls);
  handshake->callback([shake, &runner] {
    runner = [shake] { return run_load<HandshakeLoad>(*shake, "bench handshake", "handshake"); };
  });
  add_bench_fanout(*bench, runner);
}

}  // namespace gw::app
