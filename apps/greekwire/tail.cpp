// `greekwire tail URL CHANNEL...`: subscribes through the SDK and prints each notification as a
// JSON line {"channel","data"}; with --book, book channels print the reconstructed top of book
// instead, one line per update, and resyncs as {"event":"resync"|"resynced",...} lines. The
// connection reconnects and resubscribes by itself; what happens to it goes to stderr.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "client_flags.hpp"
#include "commands.hpp"
#include "greekwire/client.hpp"

namespace gw::app {
namespace {

struct TailConfig {
  ClientFlags client;
  std::vector<std::string> channels;
  bool book = false;
  std::uint64_t count = 0;  // 0: until interrupted
  double duration = 0;      // 0: until interrupted
  int heartbeat = 0;
  bool stats = false;
};

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // for pipes: one line as soon as it is there
}

greekwire::Value level_or_null(const std::optional<greekwire::Level>& level) {
  if (!level) return {};
  greekwire::Value pair;
  pair.push_back(level->price).push_back(level->amount);
  return pair;
}

std::string top_of_book(const greekwire::Book& book, std::string_view channel) {
  greekwire::Value line;
  line.set("channel", greekwire::Value(channel));
  line.set("instrument_name", greekwire::Value(book.instrument_name()));
  line.set("change_id", greekwire::Value(book.change_id()));
  line.set("timestamp", greekwire::Value(book.timestamp()));
  line.set("best_bid", level_or_null(book.best_bid()));
  line.set("best_ask", level_or_null(book.best_ask()));
  line.set("bid_levels", greekwire::Value(static_cast<std::uint64_t>(book.bids().size())));
  line.set("ask_levels", greekwire::Value(static_cast<std::uint64_t>(book.asks().size())));
  return line.to_json();
}

std::string stats_line(const greekwire::Stats& s) {
  greekwire::Value v;
  v.set("messages", greekwire::Value(s.messages_received));
  v.set("bytes", greekwire::Value(s.bytes_received));
  v.set("notifications", greekwire::Value(s.notifications));
  v.set("book_updates", greekwire::Value(s.book_updates));
  v.set("checksums_verified", greekwire::Value(s.checksums_verified));
  v.set("gaps", greekwire::Value(s.gaps));
  v.set("checksum_mismatches", greekwire::Value(s.checksum_mismatches));
  v.set("resyncs", greekwire::Value(s.resyncs));
  v.set("reconnects", greekwire::Value(s.reconnects));
  v.set("requests", greekwire::Value(s.request_latency.count));
  v.set("request_min_us", greekwire::Value(s.request_latency.min_us));
  v.set("request_p50_us", greekwire::Value(s.request_latency.p50_us));
  v.set("request_p99_us", greekwire::Value(s.request_latency.p99_us));
  return v.to_json();
}

// What the loop thread tells the main thread.
struct TailState {
  std::atomic<std::uint64_t> lines{0};
  std::atomic<bool> finished{false};
  std::atomic<int> exit_code{0};

  // Whether one more line may be printed (--count): the loop thread keeps receiving while the
  // main thread wakes up to finish, and those lines must not show.
  bool take_line(std::uint64_t limit) {
    if (limit != 0 && lines >= limit) return false;
    if (++lines == limit) finished = true;
    return true;
  }
  void fail(int code) {
    exit_code = code;
    finished = true;
  }
};

void on_event(const TailConfig& config, TailState& state, const greekwire::Event& event) {
  using greekwire::EventType;
  const bool resync = event.type == EventType::resync || event.type == EventType::resynced;
  if (resync && config.book) {
    greekwire::Value line;
    line.set("event", greekwire::Value(to_string(event.type)));
    line.set("channel", greekwire::Value(event.channel));
    line.set("reason", greekwire::Value(to_string(event.reason)));
    print_line(line.to_json());
    return;
  }
  switch (event.type) {
    case EventType::connected:
    case EventType::authenticated:
    case EventType::ready:
      return;  // quiet on the way up
    case EventType::gave_up:
      std::fprintf(stderr, "greekwire tail: %s\n", event.describe().c_str());
      state.fail(event.error ? connect_exit_code(*event.error) : kExitError);
      return;
    default:
      std::fprintf(stderr, "greekwire tail: %s\n", event.describe().c_str());
  }
}

// Every notification as a {"channel","data"} line.
greekwire::Handlers raw_lines(const TailConfig& config, TailState& state) {
  greekwire::Handlers handlers;
  handlers.raw = [&state, limit = config.count](std::string_view channel,
                                                const greekwire::Value& data) {
    if (!state.take_line(limit)) return;
    greekwire::Value line;
    line.set("channel", greekwire::Value(channel));
    line.set("data", data);
    print_line(line.to_json());
  };
  return handlers;
}

// Waits for SIGINT/SIGTERM, the end of --duration, or `state.finished`.
void wait_until_done(const TailConfig& config, const TailState& state) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  const timespec tick{0, 100'000'000};  // 100 ms
  while (!state.finished) {
    const int signal_number = sigtimedwait(&set, nullptr, &tick);
    if (signal_number == SIGINT || signal_number == SIGTERM) return;
    if (config.duration > 0 &&
        std::chrono::steady_clock::now() - start >= std::chrono::duration<double>(config.duration))
      return;
  }
}

int run_tail(const TailConfig& config) {
  std::string error;
  auto options = connection_options(config.client, "tail", &error);
  if (!options) {
    std::fprintf(stderr, "greekwire tail: %s\n", error.c_str());
    return kExitUsage;
  }
  std::size_t books = 0;
  for (const std::string& channel : config.channels)
    books += greekwire::classify_channel(channel).kind == greekwire::ChannelKind::book;
  if (config.book && books == 0) {
    std::fprintf(stderr, "greekwire tail: --book needs a book.{instrument}.{interval} channel\n");
    return kExitUsage;
  }
  options->heartbeat_interval_s = config.heartbeat;
  block_termination_signals();  // before the client's thread starts: it inherits the mask
  TailState state;
  greekwire::Client client(*options);
  client.on_event([&](const greekwire::Event& event) { on_event(config, state, event); });
  if (const greekwire::Status connected = client.connect(); !connected) {
    print_connect_error("tail", connected.error());
    return connect_exit_code(connected.error());
  }
  // One subscription per book channel (its handler knows its channel), one for the rest.
  std::vector<std::string> others;
  for (const std::string& channel : config.channels) {
    if (!config.book || greekwire::classify_channel(channel).kind != greekwire::ChannelKind::book) {
      others.push_back(channel);
      continue;
    }
    // No raw handler: the messages are not turned into trees just to be dropped.
    greekwire::Handlers handlers;
    handlers.book = [&state, channel, limit = config.count](const greekwire::Book& book,
                                                            const greekwire::BookUpdate&) {
      if (state.take_line(limit)) print_line(top_of_book(book, channel));
    };
    const auto subscribed = client.subscribe({channel}, std::move(handlers));
    if (!subscribed) {
      std::fprintf(stderr, "greekwire tail: subscribe: %s\n",
                   subscribed.error().describe().c_str());
      return kExitError;
    }
  }
  if (!others.empty()) {
    const auto subscribed = client.subscribe(others, raw_lines(config, state));
    if (!subscribed) {
      std::fprintf(stderr, "greekwire tail: subscribe: %s\n",
                   subscribed.error().describe().c_str());
      return kExitError;
    }
  }
  wait_until_done(config, state);
  if (config.stats) std::fprintf(stderr, "%s\n", stats_line(client.stats()).c_str());
  client.close();
  return state.exit_code;
}

}  // namespace

void add_tail_command(CLI::App& app, CommandRunner& runner) {
  auto config = std::make_shared<TailConfig>();
  CLI::App* tail = app.add_subcommand(
      "tail", "subscribe and print notifications as JSON lines (--book: the top of book)");
  add_client_flags(*tail, config->client);
  tail->add_option("channels", config->channels,
                   "channels, e.g. book.BTC-PERPETUAL.100ms ticker.BTC-PERPETUAL.100ms")
      ->required();
  tail->add_flag("--book", config->book,
                 "for book.{instrument}.{interval} channels print the SDK's reconstructed top of "
                 "book and its resyncs instead of the raw messages");
  tail->add_option("--count", config->count, "exit after this many lines (0: never)")
      ->capture_default_str();
  tail->add_option("--duration", config->duration, "exit after this many seconds (0: never)")
      ->capture_default_str();
  tail->add_option("--heartbeat", config->heartbeat,
                   "ask for heartbeats every N seconds (>= 10; 0: none)")
      ->capture_default_str();
  tail->add_flag("--stats", config->stats,
                 "at exit, print the connection's statistics on stderr as JSON");
  tail->callback([config, &runner] { runner = [config] { return run_tail(*config); }; });
}

}  // namespace gw::app
