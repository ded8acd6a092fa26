// Relay mode: the venue's market sourced from an upstream Deribit-compatible feed (Deribit
// itself, or another greekwire serve) instead of the simulator. One upstream connection (the
// SDK's Client, on its own loop thread) carries every channel the patterns name; what arrives
// is translated (feed/translate.hpp) and pushed into the venue's mirror (Venue::feed), which
// every downstream subscriber is then served from.
//
//  - start(): connect (and authenticate), list the upstream's instruments
//    (public/get_instruments per currency the patterns name) and feed them, expand the
//    patterns against their names, subscribe in batches. Errors here are final (the caller
//    exits): refused, an HTTP status instead of 101, wrong credentials, channels refused.
//  - Books go through the SDK's typed book handler: its chain and checksum checks, and its
//    resync on a fresh connection, stand between the upstream and the mirror. The other
//    channels go through the raw handler and translate().
//  - Upstream lost: FeedLost (every mirrored book is stale, and each is published as a resync
//    when its next snapshot arrives); the SDK reconnects with backoff, re-authenticates and
//    resubscribes, and the fresh snapshots flow in as ordinary inputs.
//  - Every relist_interval_s the instruments are listed again: new ones are fed and, when a
//    pattern matches them, subscribed; those gone upstream (or no longer active) are fed as
//    FeedExpired and unsubscribed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "feed/patterns.hpp"
#include "feed/repeated_trades.hpp"
#include "greekwire/client.hpp"
#include "greekwire/options.hpp"
#include "sim/venue.hpp"

namespace gw::feed {

struct RelayOptions {
  // The upstream: url, encoding, credentials (optional), TLS, timeouts. The relay sets the
  // reconnection policy (reconnect for ever once started) and heartbeats.
  greekwire::ConnectionOptions connection;
  std::vector<std::string> patterns;  // feed/patterns.hpp; at least one
  double relist_interval_s = 60;
  std::size_t subscribe_batch = 200;  // channels per subscribe request
  int heartbeat_interval_s = 10;      // 0: none
  bool log = true;                    // life-cycle lines on stderr (lost, back, relisted)
};

// Counters (any thread reads them).
struct RelayStats {
  std::uint64_t messages = 0;          // upstream notifications
  std::uint64_t book_messages = 0;     // of which book messages that the SDK's book applied
  std::uint64_t inputs = 0;            // FeedInputs pushed into the venue
  std::uint64_t rejected = 0;          // notifications translate() refused (logged)
  std::uint64_t duplicate_trades = 0;  // dropped: seen on another channel already
  std::uint64_t reconnects = 0;        // the connection was ready again after a loss
  std::uint64_t lost_periods = 0;      // FeedLost fed
  std::uint64_t book_resyncs = 0;      // the SDK's resyncs of upstream books
  std::uint64_t instruments = 0;       // listed and active now
  std::uint64_t channels = 0;          // subscribed upstream now
  std::uint64_t relists = 0;
  bool connected = false;
};

// The counters as Prometheus text (greekwire_relay_*), for the gateway's /metrics.
std::string metrics_text(const RelayStats& stats);

class Relay {
 public:
  Relay(RelayOptions options, sim::Venue& venue);
  ~Relay();  // stop()
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Checks the patterns (a usage error, before any connection): false with `error`.
  static bool parse_patterns(const std::vector<std::string>& texts,
                             std::vector<ChannelPattern>& out, std::string* error);

  // Connects, lists and feeds the instruments, subscribes; then keeps relaying until stop().
  // False with `error` (one line) when any of that fails; the relay is then stopped.
  bool start(std::string* error);
  void stop();

  RelayStats stats() const;
  std::vector<std::string> channels() const;  // subscribed upstream, sorted

 private:
  struct Counters {
    std::atomic<std::uint64_t> messages{0}, book_messages{0}, inputs{0}, rejected{0},
        duplicate_trades{0}, reconnects{0}, lost_periods{0}, book_resyncs{0}, instruments{0},
        channels{0}, relists{0};
    std::atomic<bool> connected{false};
  };

  // Loop thread.
  void on_event(const greekwire::Event& event);
  void on_book(const greekwire::BookUpdate& update);
  void on_notification(std::string_view channel, const greekwire::Value& data);
  void push(std::vector<sim::FeedInput>& inputs);

  // Start and relist thread.
  bool list(std::map<std::string, market::Instrument>& out, std::string* error);
  void adopt(const std::map<std::string, market::Instrument>& listed, bool initial);
  bool subscribe(const std::vector<std::string>& channels, std::string* error);
  void unsubscribe_instrument(const std::string& name);
  void relist_loop();
  void log(const std::string& line) const;

  RelayOptions options_;
  sim::Venue& venue_;
  std::vector<ChannelPattern> patterns_;
  std::unique_ptr<greekwire::Client> client_;
  greekwire::Handlers book_handlers_;
  greekwire::Handlers data_handlers_;
  Counters counters_;

  // Loop thread only.
  bool ever_ready_ = false;
  bool lost_ = false;
  RepeatedTrades repeated_trades_;
  std::vector<sim::FeedInput> scratch_;

  // Start and relist thread; channels_ also read by channels().
  std::map<std::string, market::Instrument> known_;  // active upstream instruments by name
  mutable std::mutex channels_mutex_;
  std::set<std::string> channels_;

  std::thread relister_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace gw::feed
