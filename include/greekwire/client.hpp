// greekwire::Client: the blocking facade for scripts and tests. It owns an event loop thread
// running a Connection; its methods wait for the answer. Handlers and event callbacks run on
// that thread (do not call the blocking methods from them: they return an error if you do).
//
//   greekwire::ConnectionOptions options;
//   options.url = "ws://127.0.0.1:8080/ws/api/v2";
//   greekwire::Client client(options);
//   if (auto status = client.connect(); !status) die(status.error().describe());
//   auto time = client.call("public/get_time");
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greekwire/connection.hpp"

namespace greekwire {

// A copy of a Book at one moment (Client::book()).
struct BookCopy {
  std::string instrument_name;
  Book::State state = Book::State::awaiting_snapshot;
  std::uint64_t change_id = 0;
  std::int64_t timestamp = 0;
  std::vector<Level> bids;  // best first
  std::vector<Level> asks;
};

class Client {
 public:
  explicit Client(ConnectionOptions options);
  ~Client();  // closes the connection and stops the thread
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs on the loop thread for every event (set before connect()).
  void on_event(Connection::EventCallback callback);
  // Connects and waits until ready, or until the first attempt fails (its error; with
  // reconnect.retry_initial_connect the attempts go on until timeout_s). timeout_s <= 0: the
  // options' connect_timeout_s plus the request timeout (for the authentication).
  Status connect(double timeout_s = 0);
  Result<Value> call(std::string_view method, std::string_view params_json = {},
                     double timeout_s = 0);
  Result<std::vector<std::string>> subscribe(std::vector<std::string> channels, Handlers handlers);
  Result<std::vector<std::string>> unsubscribe(std::vector<std::string> channels);
  std::optional<BookCopy> book(std::string_view channel);
  ConnectionState state();
  Stats stats();
  void drop_next_change(std::string_view channel);
  void corrupt_next_checksum(std::string_view channel);
  // Runs `task` on the loop thread with the Connection and waits for it.
  void run_on_loop(const std::function<void(Connection&)>& task);
  // Stops the connection (pending calls fail with `closed`). The destructor does it too.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace greekwire
