// What a Connection reports besides data: its life cycle, book resyncs, and its statistics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "greekwire/error.hpp"

namespace greekwire {

enum class EventType : std::uint8_t {
  connected,      // the WebSocket is open
  authenticated,  // public/auth succeeded (after every connect, with credentials)
  ready,          // connected, authenticated, subscriptions re-sent: calls flow
  disconnected,   // the connection ended (close_code, close_reason; error when it never opened)
  reconnecting,   // the next attempt is scheduled (attempt, delay_s)
  gave_up,        // no more attempts (max_attempts, a final error such as bad credentials)
  resync,         // a book lost its chain (channel, reason): it is being resubscribed
  resynced,       // that book has a fresh snapshot and is live again (channel, reason)
  subscription_dropped,  // the server did not subscribe a channel we asked for (channel)
  error,                 // something went wrong that no request is waiting for (error)
};

enum class ResyncReason : std::uint8_t {
  gap,                // a prev_change_id that does not chain: a change was lost
  checksum_mismatch,  // the book does not match the message's checksum
  inconsistent,       // a level action that does not fit the book
  reconnect,          // the connection dropped: the book is resubscribed on the next one
  server_snapshot,    // the server sent a new snapshot on its own (greekwire does after it had
                      // to drop messages for a slow reader)
};

std::string_view to_string(EventType type);
std::string_view to_string(ResyncReason reason);

struct Event {
  EventType type = EventType::error;
  std::string channel;
  ResyncReason reason = ResyncReason::gap;
  std::optional<Error> error;
  int attempt = 0;     // reconnecting: 1 for the first retry
  double delay_s = 0;  // reconnecting
  int close_code = 0;  // disconnected
  std::string close_reason;

  // One line for people: "resync book.BTC-PERPETUAL.raw: gap".
  std::string describe() const;
};

// Request round trips (send to answer), in microseconds.
struct LatencyStats {
  std::uint64_t count = 0;
  double mean_us = 0, min_us = 0, max_us = 0;
  double p50_us = 0, p99_us = 0;  // from a log-scale histogram: within 10 %
};

struct Stats {
  std::uint64_t messages_received = 0;  // frames
  std::uint64_t bytes_received = 0;
  std::uint64_t notifications = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t responses = 0;
  std::uint64_t rpc_errors = 0;  // responses that were errors
  std::uint64_t timeouts = 0;
  std::uint64_t decode_errors = 0;
  std::uint64_t heartbeats_answered = 0;  // test_request answered with public/test
  std::uint64_t connects = 0;             // connections opened
  std::uint64_t reconnects = 0;           // of which after a drop or a resync
  std::uint64_t book_updates = 0;         // book messages applied
  std::uint64_t checksums_verified = 0;
  std::uint64_t gaps = 0;
  std::uint64_t checksum_mismatches = 0;
  std::uint64_t inconsistencies = 0;
  std::uint64_t resyncs = 0;  // books resubscribed (any reason)
  LatencyStats request_latency;
};

}  // namespace greekwire
