// The publisher thread: turns the venue's ordered event stream into channel notifications,
// each encoded once per encoding in use and framed once, and hands them to the I/O threads,
// which send the same bytes to every subscriber (ws::WebSocket::send_prepared).
//
// It keeps an L2 replica of every book (from the change stream), so that it can answer a new
// subscriber with a snapshot at an exact point of the stream, then the changes after it:
//  - book.{instrument}.raw: the snapshot is taken between two events, and reaches the I/O
//    thread in the same FIFO as the broadcasts, so the subscriber sees exactly the changes
//    whose prev_change_id chains from the snapshot's change_id;
//  - book.{instrument}.100ms / agg2: changes are conflated over 100 ms windows (each level's
//    net change; change_id the window's last, prev_change_id the previous window's), and new
//    subscribers get their snapshot at a window boundary, so the chain holds for them too.
// Tickers and trades are sent as they come (raw) or every 100 ms (latest ticker, trades
// batched). Channels nobody subscribes to cost nothing but the replica update: the names an
// instrument's events feed are built once, when it is listed.
//
// Every notification carries `usIn` (docs/PROTOCOL.md): the wall-clock microsecond at which
// this thread took the venue event (or closed the 100 ms window, or took the snapshot), so that
// a client can measure the gateway's latency end to end.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/channels.hpp"
#include "gateway/directory.hpp"
#include "gateway/encode.hpp"
#include "sim/venue.hpp"
#include "ws/prepared.hpp"

namespace gw::gateway {

// How a connection's messages are written, chosen by its WebSocket subprotocol (none: json).
// json is text frames; the others are binary (docs/PROTOCOL.md, "Encodings").
enum class Encoding : std::uint8_t { json = 0, msgpack = 1, protobuf = 2 };
inline constexpr std::size_t kEncodings = 3;
// The subprotocol names, by Encoding.
inline constexpr std::array<std::string_view, kEncodings> kEncodingNames = {"json", "msgpack",
                                                                            "protobuf"};
inline Encoding encoding_of_subprotocol(std::string_view subprotocol) {
  for (std::size_t e = 0; e < kEncodings; ++e) {
    if (kEncodingNames[e] == subprotocol) return static_cast<Encoding>(e);
  }
  return Encoding::json;
}
inline bool is_binary(Encoding encoding) {
  return encoding != Encoding::json;
}

// One notification, framed once per encoding (null where no subscriber uses that encoding).
// `channel` is the routing key: the channel name, or for private channels "<account>|<name>"
// (the frames carry the plain name).
struct Notification {
  std::string channel;
  std::array<std::shared_ptr<const ws::PreparedMessage>, kEncodings> frames;
};
using NotificationPtr = std::shared_ptr<const Notification>;

// What an I/O thread does with a notification: send it to every subscriber of its channel, or
// (session != 0) only to that session, which thereby becomes a subscriber (a snapshot).
struct Delivery {
  NotificationPtr message;
  std::uint64_t session = 0;
};

// Subscribe requests: a fresh subscription, or a book channel subscribed again after its
// subscriber lost changes (its snapshot says so: "resync": true).
enum class SnapshotKind : std::uint8_t { first, resync };

struct PublisherStats {
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> notifications{0};
  std::atomic<std::uint64_t> stream_gaps{0};
};

class Publisher {
 public:
  // Runs `post(thread, deliveries)` to hand work to I/O thread `thread`: it must take the
  // deliveries (leaving the vector empty; it may swap in another vector's storage, so that
  // buffers are recycled instead of allocated per pass) and return at once.
  using Post = std::function<void(std::size_t thread, std::vector<Delivery>& deliveries)>;

  Publisher(sim::Venue::Consumer& events, Directory& directory, std::size_t threads, Post post);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void start();
  void stop();

  // Any thread. Book channels answer with a snapshot Delivery addressed to `session`; the
  // others are live for the caller at once (it adds the session to its subscribers itself).
  void subscribe(std::size_t thread, std::uint64_t session, const ChannelSpec& spec,
                 std::string channel, Encoding encoding,
                 SnapshotKind snapshot = SnapshotKind::first);
  void unsubscribe(std::size_t thread, std::string channel, Encoding encoding);

  const PublisherStats& stats() const { return stats_; }
  // True for channels whose subscribers start with a snapshot from the publisher.
  static bool starts_with_snapshot(const ChannelSpec& spec);

 private:
  struct Request {
    bool subscribe = true;
    std::size_t thread = 0;
    std::uint64_t session = 0;
    ChannelSpec spec;
    std::string channel;
    Encoding encoding = Encoding::json;
    SnapshotKind snapshot = SnapshotKind::first;
  };
  struct Channel {
    ChannelSpec spec;
    std::vector<int> per_thread;
    std::array<int, kEncodings> per_encoding{};
    int total = 0;
    std::uint64_t last_change_id = 0;           // conflated book channels: the chain so far
    std::vector<market::Trade> pending_trades;  // conflated trade channels
  };
  // The public channel names an instrument's events feed, built once when it is listed (the
  // per-event path only looks them up). Intervals are indexed raw, 100ms, agg2.
  struct ChannelNames {
    std::array<std::string, 3> book, ticker;
    // trades.{instrument}, trades.{kind}.{currency}, trades.any.{currency}, trades.{kind}.any,
    // trades.any.any
    std::array<std::array<std::string, 3>, 5> trades;
    std::vector<std::string> user_orders, user_trades;  // user.{orders|trades}.* (see .cpp)
  };
  struct PendingSnapshot {
    std::size_t thread;
    std::uint64_t session;
    std::string channel;
    SnapshotKind kind = SnapshotKind::first;
  };
  struct Replica {
    InstrumentPtr instrument;
    ChannelNames names;
    std::map<market::Ticks, market::Lots, std::greater<>> bids;
    std::map<market::Ticks, market::Lots> asks;
    std::uint64_t change_id = 0;
    std::uint32_t checksum = 0;
    market::TimestampMs timestamp = 0;
    // The conflation window: each touched level's amount when the window opened.
    std::map<market::Ticks, market::Lots> window_bids, window_asks;
    std::optional<sim::Ticker> ticker;
    bool ticker_dirty = false;
    // A mirrored book's chain broke (resync): the conflated channels send snapshots, not the
    // window's change, at the next flush.
    sim::BookRestart restart = sim::BookRestart::none;
    // Subscribers of a book that has no data yet (a mirror's, before its first snapshot):
    // their snapshot goes out with the book's first message.
    std::vector<PendingSnapshot> awaiting;
  };

  void run();
  bool take_requests();
  void handle(Request& request);
  void on_event(const sim::VenueEvent& event);
  void on_listed(const InstrumentPtr& instrument);
  // Private channels are routed "<account>|<name>"; this counts them per account so that the
  // events of accounts nobody listens to (the simulated participants') cost a lookup.
  void count_private(std::string_view route, int delta);
  std::int64_t stamp();
  void on_book_change(const sim::OwnedBookChange& change);
  void on_trade(const market::Trade& trade);
  void on_ticker(const sim::Ticker& ticker);
  void on_surface(const sim::SurfaceSnapshot& surface);
  void flush_markprices();
  void flush_windows();
  void flush_book_window(Replica& replica);
  void send_snapshot(const PendingSnapshot& target);
  void restart_book(Replica& replica, sim::BookRestart restart);
  void send_last_surface(const PendingSnapshot& target, market::Currency currency);
  void serve_awaiting(Replica& replica);
  void post_outbox();

  Channel* find(std::string_view channel);
  Replica* replica(market::InstrumentId id);
  template <class WriteData>
  NotificationPtr make(std::string_view channel, const Channel& state, WriteData&& write_data) {
    return make_routed(channel, channel, state, std::forward<WriteData>(write_data));
  }
  template <class WriteData>
  NotificationPtr make_routed(std::string_view route, std::string_view channel,
                              const Channel& state, WriteData&& write_data);
  void on_order_update(const sim::OwnedOrderUpdate& update);
  void on_user_trade(const market::Trade& trade);
  void send_user_trade(const market::Trade& trade, bool taker, const sim::OwnedOrderUpdate* order);
  void release_user_trades(const sim::OwnedOrderUpdate& update);
  void flush_user_trades();
  void on_portfolio(const sim::Portfolio& portfolio);
  // Sends to `account`'s subscribers of each private channel named `prefix` + suffix.
  template <class WriteData>
  void to_account(market::AccountId account, std::span<const std::string> channels,
                  WriteData&& write_data);
  void broadcast(const Channel& state, NotificationPtr message);
  void deliver(std::size_t thread, std::uint64_t session, NotificationPtr message);

  sim::Venue::Consumer& events_;
  Directory& directory_;
  const std::size_t threads_;
  Post post_;
  PublisherStats stats_;

  std::mutex requests_mutex_;
  std::vector<Request> requests_;
  std::vector<Request> taking_;

  // Publisher thread only.
  std::unordered_map<std::string, Channel, StringHash, std::equal_to<>> channels_;
  std::vector<Replica> replicas_;  // by instrument id
  // The last surface of each currency (BTC, ETH) for new volsurface subscribers, and those
  // who subscribed before there was one.
  struct LastSurface {
    std::optional<sim::SurfaceSnapshot> surface;
    std::optional<SurfaceView> view;
    std::vector<PendingSnapshot> awaiting;
  };
  std::array<LastSurface, 2> last_surfaces_;
  std::vector<PendingSnapshot> pending_snapshots_;  // conflated book channels, at the next flush
  std::vector<std::vector<Delivery>> outbox_;       // per I/O thread, posted once per pass
  std::string json_scratch_, msgpack_scratch_, protobuf_scratch_, name_scratch_;
  std::unordered_map<market::AccountId, int> private_routes_;  // subscribed routes per account
  // usIn of what is being published (wall clock, microseconds): read once per event, window
  // or request, when its first notification is made (events nobody listens to cost nothing).
  std::int64_t event_us_ = 0;
  std::uint64_t next_flush_ms_ = 0;
  std::uint64_t flushes_ = 0;
  // A user trade says what its order is (type, post_only, reduce_only, label), which the Trade
  // event does not carry: each party's record waits for its order's next OrderUpdate, which the
  // engine emits in the same command right after the fill (the maker's at once, the taker's
  // once it stopped matching). Anything still waiting when the command's other events come (a
  // lost update) goes out without the order's details.
  struct PendingUserTrade {
    market::OrderId order = 0;
    bool taker = false;
    market::Trade trade;
  };
  std::vector<PendingUserTrade> pending_user_trades_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace gw::gateway
