// A thin C++ face on the NATS C client (libnats, Debian's libnats-dev): one connection with
// JetStream, subscriptions that own their C handles, and the subjects and stream greekwire uses
// (docs/SCALE-OUT.md). Callbacks run on libnats' threads.
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::scale {

// ---- Names (docs/SCALE-OUT.md, "Subjects") ------------------------------------------------------

// The venue's market data: gw.md.<CURRENCY>.<kind>, kind one of instrument, book, trades,
// ticker, index, surface, chain, control. One JetStream stream holds them all.
inline constexpr std::string_view kStreamName = "GREEKWIRE_MD";
inline constexpr std::string_view kMarketSubjects = "gw.md.>";
// Request-reply services of the venue.
inline constexpr std::string_view kRpcSubject = "gw.venue.rpc";          // forwarded requests
inline constexpr std::string_view kListingSubject = "gw.venue.listing";  // instruments + epoch
inline constexpr std::string_view kBookSubject = "gw.venue.book";        // one book's snapshot
inline constexpr std::string_view kUserSubscribeSubject = "gw.venue.user.subscribe";
// Private channels' notifications: gw.user.<account>.
inline constexpr std::string_view kUserSubjectPrefix = "gw.user.";
// Edges' liveness (core NATS, the edge's id in decimal): a heartbeat every second; a graceful
// stop; and the venue's notice that it dropped an edge's connections (it heard nothing for
// kEdgeSilenceMs).
inline constexpr std::string_view kEdgeAliveSubject = "gw.edge.alive";
inline constexpr std::string_view kEdgeGoneSubject = "gw.edge.gone";
inline constexpr std::string_view kEdgeDroppedSubject = "gw.edge.dropped";
inline constexpr int kEdgeHeartbeatMs = 1000;
inline constexpr std::int64_t kEdgeSilenceMs = 5000;

std::string market_subject(std::string_view currency, std::string_view kind);

// ---- Connection
// ----------------------------------------------------------------------------------

struct NatsMessage {
  std::string_view subject;
  std::string_view reply;  // empty: no reply expected
  std::string_view data;
  std::uint64_t stream_sequence = 0;  // JetStream messages
  bool no_responders = false;         // a request's answer: nobody listens on its subject
};
using MessageHandler = std::function<void(const NatsMessage&)>;

class Subscription {
 public:
  // The handler and what tells the destructor that libnats is done with it.
  struct State;
  Subscription(natsSubscription* sub, std::unique_ptr<State> state);
  // Unsubscribes, and returns once the last call of the handler has (libnats' on-complete
  // callback), so that what the handler uses may go right after.
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

 private:
  natsSubscription* sub_;
  std::unique_ptr<State> state_;
};

class NatsConnection {
 public:
  struct Options {
    std::string url;   // nats://host:port
    std::string name;  // shown by the server (connz)
    double connect_timeout_s = 5;
    // Publications kept while disconnected, replayed on reconnect (more fail, and count).
    int reconnect_buffer_bytes = 64 << 20;
    std::function<void()> on_disconnected;
    std::function<void()> on_reconnected;
  };

  // Connects (reconnecting for ever afterwards); nullptr with `error` when the server cannot be
  // reached now.
  static std::unique_ptr<NatsConnection> connect(Options options, std::string* error);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  bool connected() const;
  // Fire and forget; false when the client refused it (closed, reconnect buffer full).
  bool publish(std::string_view subject, std::string_view data);
  bool publish_request(std::string_view subject, std::string_view reply, std::string_view data);
  // A blocking request; false with `error` on timeout, no responders or a closed connection.
  bool request(std::string_view subject, std::string_view data, double timeout_s,
               std::string& answer, std::string* error);
  // Many requests to one subject at once, answered in any order: the answers by request, each
  // nullopt when none came within `timeout_s` of sending them all. False with `error` when they
  // could not be sent, or when no one answers at all (no responders).
  bool request_all(std::string_view subject, const std::vector<std::string>& requests,
                   double timeout_s, std::vector<std::optional<std::string>>& answers,
                   std::string* error);
  std::unique_ptr<Subscription> subscribe(std::string_view subject, MessageHandler handler,
                                          std::string* error);
  // JetStream: creates the market-data stream, or updates its limits if it exists.
  bool ensure_stream(double max_age_s, std::int64_t max_bytes, std::string* error);
  // JetStream: an ephemeral push consumer of `subject`, from new messages on, without acks.
  // Not libnats' "ordered consumer": its 3.4 reset thread frees the consumer's name while an
  // unsubscribe reads it (a use after free under AddressSanitizer after a NATS restart); what it
  // would recover, the caller's sequence check and silence watchdog recover by resynchronising.
  std::unique_ptr<Subscription> subscribe_stream(std::string_view subject, MessageHandler handler,
                                                 std::string* error);
  std::string new_inbox() const;

  struct Events;  // the connection's callbacks, kept until libnats' last one (closed)

 private:
  explicit NatsConnection(Options options);
  Options options_;
  std::unique_ptr<Events> events_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

std::string nats_error(natsStatus status);

}  // namespace gw::scale
