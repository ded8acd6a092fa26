// greekwire::Client: a Connection on its own loop thread, with blocking methods.
//
// Every method posts its work to the loop thread and waits on a promise that the Connection's
// callback fulfils; the Connection guarantees each callback exactly once (answer, error,
// timeout, or `closed` when it stops), so no wait is left hanging.
#include "greekwire/client.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

#include "net/event_loop.hpp"

namespace greekwire {

namespace {

Error make_error(ErrorKind kind, std::string message) {
  Error error;
  error.kind = kind;
  error.message = std::move(message);
  return error;
}

Error from_loop_thread() {
  return make_error(ErrorKind::invalid_argument,
                    "a blocking Client method was called from the client's own loop thread "
                    "(a handler): use Client::run_on_loop and the Connection's callbacks");
}

// How long the destructor lets close handshakes finish before it stops the loop anyway.
constexpr auto kCloseGrace = std::chrono::seconds(3);

}  // namespace

struct Client::Impl {
  explicit Impl(ConnectionOptions connection_options) : options(std::move(connection_options)) {
    thread = std::thread([this] {
      loop.run();
      std::lock_guard lock(mutex);
      loop_done = true;
      cv.notify_all();
    });
    loop_thread = thread.get_id();
    run_on_loop([this] {
      connection = std::make_unique<Connection>(loop, options);
      connection->on_event([this](const Event& event) { on_event(event); });
    });
  }

  ~Impl() {
    loop.post([this] {
      if (connection) connection->stop();
      connection.reset();
      loop.native().stop_when_no_connections();
    });
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, kCloseGrace, [this] { return loop_done; })) loop.stop();
    lock.unlock();
    thread.join();
  }

  bool on_loop_thread() const { return std::this_thread::get_id() == loop_thread; }

  // Runs `task` on the loop thread and waits for it.
  void run_on_loop(const std::function<void()>& task) {
    if (on_loop_thread()) {
      task();
      return;
    }
    std::promise<void> done;
    loop.post([&] {
      task();
      done.set_value();
    });
    done.get_future().wait();
  }

  // Posts `start(fulfil)` and waits for the value it passes to fulfil.
  template <class T, class Start>
  T await(Start start) {
    auto promise = std::make_shared<std::promise<T>>();
    std::future<T> future = promise->get_future();
    loop.post([start = std::move(start), promise]() mutable {
      start([promise](T value) { promise->set_value(std::move(value)); });
    });
    return future.get();
  }

  void on_event(const Event& event) {
    if (user_events) user_events(event);  // first: connect() returns after the user saw it
    if (event.type == EventType::ready || event.type == EventType::gave_up) {
      std::lock_guard lock(mutex);
      if (!connect_result) {
        connect_result = event.type == EventType::ready ? Status(Done{}) : Status(*event.error);
        cv.notify_all();
      }
    }
  }

  ConnectionOptions options;
  EventLoop loop;
  std::unique_ptr<Connection> connection;  // created, used and destroyed on the loop thread
  std::thread thread;
  std::thread::id loop_thread;
  Connection::EventCallback user_events;

  std::mutex mutex;
  std::condition_variable cv;
  std::optional<Status> connect_result;  // the first ready or gave_up
  bool loop_done = false;
};

Client::Client(ConnectionOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

void Client::on_event(Connection::EventCallback callback) {
  impl_->run_on_loop([&] { impl_->user_events = std::move(callback); });
}

Status Client::connect(double timeout_s) {
  if (impl_->on_loop_thread()) return from_loop_thread();
  Status started = Done{};
  impl_->run_on_loop([&] { started = impl_->connection->start(); });
  if (!started) return started;
  if (timeout_s <= 0) {
    timeout_s = impl_->options.connect_timeout_s + impl_->options.request_timeout_s + 1.0;
  }
  std::unique_lock lock(impl_->mutex);
  const bool finished = impl_->cv.wait_for(lock, std::chrono::duration<double>(timeout_s),
                                           [this] { return impl_->connect_result.has_value(); });
  if (!finished) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", timeout_s);
    return make_error(ErrorKind::timeout, "not connected within " + std::string(seconds) + " s");
  }
  return *impl_->connect_result;
}

Result<Value> Client::call(std::string_view method, std::string_view params_json,
                           double timeout_s) {
  if (impl_->on_loop_thread()) return from_loop_thread();
  return impl_->await<Result<Value>>([this, method = std::string(method),
                                      params = std::string(params_json), timeout_s](auto fulfil) {
    impl_->connection->call(method, std::string_view(params), std::move(fulfil), timeout_s);
  });
}

Result<std::vector<std::string>> Client::subscribe(std::vector<std::string> channels,
                                                   Handlers handlers) {
  if (impl_->on_loop_thread()) return from_loop_thread();
  return impl_->await<Result<std::vector<std::string>>>(
      [this, channels = std::move(channels), handlers = std::move(handlers)](auto fulfil) mutable {
        impl_->connection->subscribe(std::move(channels), std::move(handlers), std::move(fulfil));
      });
}

Result<std::vector<std::string>> Client::unsubscribe(std::vector<std::string> channels) {
  if (impl_->on_loop_thread()) return from_loop_thread();
  return impl_->await<Result<std::vector<std::string>>>(
      [this, channels = std::move(channels)](auto fulfil) mutable {
        impl_->connection->unsubscribe(std::move(channels), std::move(fulfil));
      });
}

std::optional<BookCopy> Client::book(std::string_view channel) {
  std::optional<BookCopy> copy;
  impl_->run_on_loop([&] {
    const Book* book = impl_->connection->book(channel);
    if (book == nullptr) return;
    copy = BookCopy{book->instrument_name(),  book->state(),
                    book->change_id(),        book->timestamp(),
                    book->bids().to_vector(), book->asks().to_vector()};
  });
  return copy;
}

ConnectionState Client::state() {
  ConnectionState state = ConnectionState::idle;
  impl_->run_on_loop([&] { state = impl_->connection->state(); });
  return state;
}

Stats Client::stats() {
  Stats stats;
  impl_->run_on_loop([&] { stats = impl_->connection->stats(); });
  return stats;
}

void Client::drop_next_change(std::string_view channel) {
  impl_->run_on_loop([&] { impl_->connection->drop_next_change(channel); });
}

void Client::corrupt_next_checksum(std::string_view channel) {
  impl_->run_on_loop([&] { impl_->connection->corrupt_next_checksum(channel); });
}

void Client::run_on_loop(const std::function<void(Connection&)>& task) {
  impl_->run_on_loop([&] { task(*impl_->connection); });
}

void Client::close() {
  impl_->run_on_loop([&] { impl_->connection->stop(); });
}

}  // namespace greekwire
