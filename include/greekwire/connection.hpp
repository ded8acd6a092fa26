// greekwire::Connection: the asynchronous client on an event loop. One WebSocket at a time to a
// Deribit-API-v2 server (greekwire serve or Deribit itself), with JSON-RPC calls matched to
// their answers by id, per-request timeouts, authentication, subscriptions with typed
// callbacks, a local Book per book channel, heartbeats, and reconnection with backoff.
//
// Threading: a Connection belongs to the thread that runs its EventLoop. Construct, use and
// destroy it there (from a callback, or before run() starts); every callback runs there too.
// greekwire::Client (client.hpp) is the blocking facade that owns a loop thread.
//
// Resync: a book whose chain breaks (a lost change, a checksum mismatch) cannot be repaired on
// the same socket (Deribit sends no new snapshot for a channel already subscribed), so the
// connection is recycled: closed, reopened at once, re-authenticated and resubscribed; every
// book gets a fresh snapshot. The break, the reconnect and each book's recovery are reported as
// events, so nothing is lost silently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "greekwire/book.hpp"
#include "greekwire/channels.hpp"
#include "greekwire/error.hpp"
#include "greekwire/events.hpp"
#include "greekwire/options.hpp"
#include "greekwire/value.hpp"

namespace gw::net {
class EventLoop;
}

namespace greekwire {

// greekwire's epoll event loop (one thread). run() until stop(); post() from any thread.
class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void run();
  void stop();                            // thread-safe
  void post(std::function<void()> task);  // thread-safe
  gw::net::EventLoop& native() { return *loop_; }

 private:
  std::unique_ptr<gw::net::EventLoop> loop_;
};

enum class ConnectionState : std::uint8_t {
  idle,                  // not started
  connecting,            // TCP, TLS, WebSocket handshake
  authenticating,        // open; public/auth in flight
  ready,                 // calls and subscriptions flow
  waiting_to_reconnect,  // backoff
  stopped,               // stop(), or gave up
};

std::string_view to_string(ConnectionState state);

class Connection {
 public:
  using ResultCallback = std::function<void(Result<Value>)>;
  using ChannelsCallback = std::function<void(Result<std::vector<std::string>>)>;
  using EventCallback = std::function<void(const Event&)>;

  Connection(EventLoop& loop, ConnectionOptions options);
  ~Connection();  // closes the socket (a close handshake the loop finishes)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Events (set before start()).
  void on_event(EventCallback callback);
  // Checks the options (URL, encoding) and starts connecting.
  Status start();
  // Closes for good: pending calls fail with `closed`, no reconnect.
  void stop();

  // A JSON-RPC request. `params_json` must be a JSON object ("" means none; a Value's
  // to_json() gives one from a tree). Calls made before
  // the connection is ready wait for it (their timeout runs); calls in flight when it drops
  // fail with `disconnected` (they are not repeated: an order must not go twice).
  // timeout_s <= 0: the options' request_timeout_s.
  void call(std::string_view method, std::string_view params_json, ResultCallback callback,
            double timeout_s = 0);

  // Subscribes (private/subscribe with credentials, else public/subscribe) and remembers the
  // channels for every reconnect. `done` gets the channels the server accepted; the others are
  // forgotten and reported as subscription_dropped. Subscribing to a channel again replaces
  // its handlers.
  void subscribe(std::vector<std::string> channels, Handlers handlers, ChannelsCallback done = {});
  void unsubscribe(std::vector<std::string> channels, ChannelsCallback done = {});

  // The checksum number formats of an instrument's books, when the caller knows them already
  // (from its own public/get_instruments, book_format()): the first checksum then needs no
  // public/get_instrument. A relay subscribing hundreds of books would otherwise ask hundreds.
  void set_book_format(std::string_view instrument, const BookFormat& format);

  // The book of a subscribed book.{instrument}.{interval} channel, nullptr if there is none.
  const Book* book(std::string_view channel) const;
  ConnectionState state() const;
  Stats stats() const;
  const ConnectionOptions& options() const;

  // Test hooks: the next change of that book channel is dropped before it reaches the book
  // (so the one after it breaks the chain), or has its checksum flipped.
  void drop_next_change(std::string_view channel);
  void corrupt_next_checksum(std::string_view channel);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace greekwire
