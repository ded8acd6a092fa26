// An edge gateway's link to the venue (`greekwire serve --role edge`, docs/SCALE-OUT.md):
//
//  - market: an ephemeral JetStream consumer of gw.md.> feeds the gateway's mirror (the same
//    sim::Mirror relay mode uses), after a bootstrap that lists every instrument and takes each
//    book's snapshot from the venue (gw.venue.listing, gw.venue.book); changes the snapshot
//    already holds are skipped, so every book continues the venue's change_id chain exactly.
//    The venue's surfaces (the last one comes with the listing), blocks and transfers pass
//    through the mirror unchanged.
//    The stream's envelope carries the venue's epoch and a gapless sequence: a missing number,
//    another epoch (the venue restarted), the venue's own resync notice or a silent stream
//    marks every book stale (subscribers get a "resync" snapshot) and bootstraps again. A NATS
//    outage the library recovers from goes unnoticed when nothing was lost (the venue's client
//    buffers its publications; the consumer resumes); otherwise the sequence check resynchronises.
//  - liveness: a heartbeat every second (gw.edge.alive) and a last word at stop (gw.edge.gone),
//    so that the venue closes this edge's connections (cancel-on-disconnect) when it goes; a
//    notice from the venue that it dropped them anyway (gw.edge.dropped) closes them here too.
//  - requests: forward() sends a request to gw.venue.rpc with a request id and a deadline and
//    answers within the venue timeout, from the venue's answer or with an error (no venue, NATS
//    down, timed out). Never retried: at most once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gateway/gateway.hpp"
#include "scale/nats.hpp"
#include "sim/venue.hpp"

namespace gw::scale {

struct EdgeOptions {
  std::string url;               // nats://host:port
  double venue_timeout_s = 5;    // forwarded requests and bootstrap requests
  double silence_resync_s = 10;  // no market data for this long: bootstrap again
  bool log = true;
};

struct EdgeStats {
  std::atomic<std::uint64_t> messages{0};  // stream messages applied
  std::atomic<std::uint64_t> skipped{0};   // book changes a snapshot already held
  std::atomic<std::uint64_t> gaps{0};      // sequence gaps, epoch changes, venue resyncs
  std::atomic<std::uint64_t> bootstraps{0};
  std::atomic<std::uint64_t> forwarded{0};
  std::atomic<std::uint64_t> forward_failures{0};  // no venue, NATS down, timed out
  std::atomic<bool> connected{false};
  std::atomic<bool> live{false};  // bootstrapped and following the stream
};

class Edge {
 public:
  explicit Edge(EdgeOptions options);
  ~Edge();
  Edge(const Edge&) = delete;
  Edge& operator=(const Edge&) = delete;

  // Connects to NATS (false with `error` when it cannot be reached).
  bool connect(std::string* error);
  // For GatewayConfig::forward (valid while this Edge lives) and GatewayConfig::edge_id.
  gateway::Forwarder forwarder();
  // For GatewayConfig::subscribe_forwarded: asks the venue for an account's private channel
  // (again after every bootstrap: the venue may have restarted).
  void subscribe_private(gateway::AccountRowId account, const std::string& channel);
  // Where the venue's private notifications go (Gateway::deliver_forwarded), once the gateway
  // runs; until then they are dropped.
  using PrivateSink = std::function<void(std::string_view route, std::string_view notification)>;
  void set_private_sink(PrivateSink sink);
  // Called (on a NATS thread) when the venue says it dropped this edge's connections, having
  // not heard from it for kEdgeSilenceMs: Gateway::close_forwarded_sessions.
  void set_dropped_sink(std::function<void()> sink);
  std::uint32_t id() const { return id_; }
  // Bootstraps the mirror (before the gateway starts, so that the market opens listed) and
  // follows the stream from then on. False with `error` when the venue does not answer.
  bool start(sim::Venue& mirror, std::string* error);
  void stop();
  const EdgeStats& stats() const { return stats_; }
  std::string metrics_text() const;

 private:
  struct Pending {
    gateway::ForwardDone done;
    std::chrono::steady_clock::time_point deadline;
  };

  void forward(gateway::ForwardedCall call, gateway::ForwardDone done);
  void report_disconnect(gateway::ForwardedCall call);
  void on_answer(const NatsMessage& message);
  void expire_requests();
  void fail(gateway::ForwardDone& done, std::string reason);

  void on_private(const NatsMessage& message);
  void request_private(gateway::AccountRowId account, const std::string& channel);
  bool bootstrap(std::string* error);
  void run();
  void apply(const std::string& data, std::vector<sim::FeedInput>& inputs);
  void lose(const std::string& why, std::vector<sim::FeedInput>& inputs);
  void log(const std::string& line) const;

  EdgeOptions options_;
  std::uint32_t id_;
  std::string id_text_;
  EdgeStats stats_;
  std::unique_ptr<NatsConnection> nats_;
  std::unique_ptr<Subscription> answers_;
  std::string inbox_;
  sim::Venue* mirror_ = nullptr;

  // Forwarded requests in flight.
  std::mutex pending_mutex_;
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::uint64_t next_request_ = 1;
  std::atomic<std::uint64_t> next_disconnect_{0};

  // Private channels: what the gateway's clients subscribed to, and where notifications go.
  std::mutex private_mutex_;
  std::set<std::pair<gateway::AccountRowId, std::string>> private_channels_;
  PrivateSink private_sink_;
  // gw.user.<account> of each account followed.
  std::mutex accounts_mutex_;
  std::unordered_map<gateway::AccountRowId, std::unique_ptr<Subscription>> accounts_;
  // Liveness: the venue's notice that it dropped this edge, and what to do then.
  std::function<void()> dropped_sink_;
  std::unique_ptr<Subscription> dropped_;

  // The stream: the consumer's callback queues, the feed thread applies.
  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<std::string> queue_;
  bool overflowed_ = false;  // the queue was full: messages were dropped
  std::unique_ptr<Subscription> stream_;
  std::thread thread_;
  // Expires forwarded requests on time, whatever the feed thread is doing (a bootstrap blocks
  // it for up to a venue timeout per request).
  std::thread expiry_;
  std::condition_variable stopping_;
  std::atomic<bool> stop_{false};

  // Feed thread.
  bool need_bootstrap_ = false;
  std::string epoch_;
  std::uint64_t next_seq_ = 0;                                      // 0: the first message sets it
  std::unordered_map<std::string, std::uint64_t> snapshot_change_;  // book → snapshot change_id
  std::unordered_set<std::string> listed_;
  std::chrono::steady_clock::time_point last_message_;
};

}  // namespace gw::scale
