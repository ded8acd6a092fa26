// The venue's side of a scale-out deployment (`greekwire serve --role venue`, docs/SCALE-OUT.md):
//
//  - market data: a consumer of the venue's ordered event stream publishes every instrument
//    listing and expiry, book change, trade, ticker, index price, volatility surface, block and
//    large transfer to JetStream, one subject per currency and kind (gw.md.BTC.book, ...), as
//    the notification data the gateway's book.*.raw, trades.*.raw, ticker.*.raw,
//    deribit_price_index.*, volsurface.*.raw and chain.* carry, in an envelope with the venue's
//    epoch (random per start) and a sequence number without gaps, so that an edge can tell a
//    continuous stream from a lost message or a restarted venue;
//  - services (NATS request-reply): gw.venue.listing (the instruments of a currency and its
//    last surface, with the epoch), gw.venue.book (a book's full snapshot, consistent with the
//    stream: every change after it chains from its change_id), gw.venue.rpc (requests an edge
//    forwards: answered by the gateway as HTTP twins, at most once per request id, never after
//    their deadline), gw.venue.user.subscribe (an edge's client subscribed to a private
//    channel: its notifications are published to gw.user.<account>, "<route>\n<notification>");
//  - edges' liveness: heartbeats (gw.edge.alive) and stops (gw.edge.gone); the connections of an
//    edge that stopped or went silent are closed at the venue (cancel-on-disconnect).
//
// The stream's limits (age, bytes) bound how long an edge may be away from NATS and still catch
// up from it; past that it resynchronises from snapshots.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gateway/gateway.hpp"
#include "gateway/publisher.hpp"
#include "scale/nats.hpp"
#include "sim/venue.hpp"

namespace gw::scale {

struct VenueBridgeOptions {
  std::string url;                            // nats://host:port
  double stream_max_age_s = 900;              // the stream keeps 15 minutes ...
  std::int64_t stream_max_bytes = 1ll << 30;  // ... and at most 1 GiB
  bool log = true;                            // life-cycle lines on stderr
};

struct VenueBridgeStats {
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> publish_failures{0};  // refused by the client (buffer full, closed)
  std::atomic<std::uint64_t> resyncs{0};           // the bridge lost venue events: edges resync
  std::atomic<std::uint64_t> calls{0};             // forwarded requests taken
  std::atomic<std::uint64_t> calls_refused{0};     // duplicates and calls past their deadline
  std::atomic<std::uint64_t> snapshots{0};
  std::atomic<std::uint64_t> edges_dropped{0};  // not heard from: their connections closed
  std::atomic<bool> connected{false};
};

class VenueBridge {
 public:
  // Takes a consumer of the gateway's venue: construct before gateway.start().
  VenueBridge(VenueBridgeOptions options, gateway::Gateway& gateway);
  ~VenueBridge();
  VenueBridge(const VenueBridge&) = delete;
  VenueBridge& operator=(const VenueBridge&) = delete;

  // Connects, creates the stream, starts publishing and answering. False with `error` when NATS
  // or JetStream cannot be used.
  bool start(std::string* error);
  void stop();
  const VenueBridgeStats& stats() const { return stats_; }
  std::string metrics_text() const;
  const std::string& epoch() const { return epoch_; }

 private:
  void run();
  void publish(const sim::VenueEvent& event);
  template <class WriteData>
  void send(std::string_view currency, std::string_view kind, std::string_view channel,
            WriteData&& write_data);
  template <class Write>
  std::string with_epoch(std::string_view key, Write&& write) const;
  void on_listing(const NatsMessage& message);
  void on_book(const NatsMessage& message);
  void on_call(const NatsMessage& message);
  void on_user_subscribe(const NatsMessage& message);
  void publish_private(std::vector<gateway::Delivery>& deliveries);
  void drop_silent_edges();
  bool first_time(const std::string& request_id);
  void remember(const std::shared_ptr<const market::Instrument>& instrument);
  std::shared_ptr<const market::Instrument> instrument_named(std::string_view name);
  void log(const std::string& line) const;

  VenueBridgeOptions options_;
  gateway::Gateway& gateway_;
  sim::Venue::Consumer& events_;
  VenueBridgeStats stats_;
  std::string epoch_;
  std::unique_ptr<NatsConnection> nats_;
  std::vector<std::unique_ptr<Subscription>> services_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // Publishing thread.
  std::uint64_t seq_ = 0;
  std::vector<std::shared_ptr<const market::Instrument>> by_id_;
  std::string out_, channel_;

  // Private channels (user.*) for edges: a publisher of its own, with the same code as the
  // gateway's, subscribed to each "<account>|<channel>" an edge asked for; its notifications go
  // to gw.user.<account>.
  gateway::Directory directory_;
  sim::Venue::Consumer& private_events_;
  std::unique_ptr<gateway::Publisher> publisher_;
  std::mutex routes_mutex_;
  std::unordered_set<std::string> routes_;

  // The last surface of each currency (BTC, ETH) published, for the listing's answer.
  std::mutex surfaces_mutex_;
  std::array<std::optional<sim::SurfaceSnapshot>, 2> last_surfaces_;

  // Services (libnats' threads): instruments by name for book requests, recent request ids.
  std::mutex names_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const market::Instrument>> by_name_;
  std::mutex seen_mutex_;
  std::unordered_set<std::string> seen_;
  std::deque<std::string> seen_order_;
};

}  // namespace gw::scale
