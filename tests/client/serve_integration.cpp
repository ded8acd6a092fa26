// The SDK against `greekwire serve` (started here, on 127.0.0.1 with a port of its choosing and
// its own data directory; credentials from `greekwire keys add --json`):
//  - books of several instruments, kept by the SDK from raw changes, equal public/get_order_book
//    at the same change_id, with every checksum verified, in JSON and MessagePack;
//  - the SDK's test hooks drop a change and corrupt a checksum: each is reported as a resync and
//    the books are right afterwards;
//  - the server is killed and restarted on the same port: the SDK reconnects, re-authenticates,
//    resubscribes and reports every book's resync (no silent gap), and the books are right;
//    all of it in JSON, MessagePack and protobuf;
//  - a JSON and a protobuf client on the same account see the same notifications and results as
//    Value trees, member for member, integers as integers and reals as reals (protobuf leaves
//    out what it cannot carry: null members, [] and {}).
//
// Usage: client_serve_test PATH_TO_GREEKWIRE (or $GREEKWIRE); exits 77 (skipped) without it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client/pack_value.hpp"
#include "client/scripted_server.hpp"
#include "greekwire/client.hpp"

namespace greekwire {
namespace {

using gw::client::test::wait_until;

std::string g_binary;  // the greekwire executable

// `greekwire serve` in a child process.
class Serve {
 public:
  explicit Serve(std::string data_dir, std::vector<std::string> extra_args = {})
      : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {}
  ~Serve() { kill(); }

  // Starts it on `port` (0: any) and waits for its "listening on" line.
  void start(std::uint16_t port = 0) {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<const char*> argv = {g_binary.c_str(), "serve",      "--listen",
                                       listen.c_str(),   "--data-dir", data_dir_.c_str()};
      for (const std::string& arg : extra_args_) argv.push_back(arg.c_str());
      argv.push_back(nullptr);
      execv(g_binary.c_str(), const_cast<char* const*>(argv.data()));
      _exit(127);
    }
    close(out[1]);
    FILE* stdout_of_child = fdopen(out[0], "r");
    char line[512];
    ASSERT_NE(fgets(line, sizeof line, stdout_of_child), nullptr) << "serve did not start";
    const std::string ready = line;
    ASSERT_EQ(ready.rfind("listening on ws://127.0.0.1:", 0), 0u) << ready;
    port_ = static_cast<std::uint16_t>(std::stoi(ready.substr(ready.rfind(':') + 1)));
    // Keep reading its output so that it never blocks on a full pipe.
    drain_ = std::thread([stdout_of_child] {
      char buffer[4096];
      while (fread(buffer, 1, sizeof buffer, stdout_of_child) > 0) {
      }
      fclose(stdout_of_child);
    });
  }

  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    if (drain_.joinable()) drain_.join();
  }

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws/api/v2"; }
  std::uint16_t port() const { return port_; }

 private:
  std::string data_dir_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::thread drain_;
};

// A new account's API key, from `greekwire keys add --json`.
Credentials new_key(const std::string& data_dir) {
  const std::string command =
      g_binary + " keys add --account sdk --json --data-dir " + data_dir + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  std::string out;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, p) != nullptr) out += buffer;
  EXPECT_EQ(pclose(p), 0) << out;
  const auto keys = Value::parse_json(out);
  EXPECT_TRUE(keys) << out;
  return {std::string((*keys)["client_id"].as_string()),
          std::string((*keys)["client_secret"].as_string()),
          {}};
}

std::vector<Level> levels_of(const Value& side) {
  std::vector<Level> out;
  for (const Value& pair : side.array()) out.push_back({pair[0].as_double(), pair[1].as_double()});
  return out;
}

// Events and the book states after every update, recorded on the client's loop thread.
class Recorder {
 public:
  struct State {
    std::uint64_t change_id;
    std::vector<Level> bids, asks;
  };

  void on_event(const Event& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  void on_book(const std::string& channel, const Book& book) {
    std::lock_guard lock(mutex_);
    auto& history = history_[channel];
    history.push_back({book.change_id(), book.bids().to_vector(), book.asks().to_vector()});
    if (history.size() > 4000) history.pop_front();
  }
  Handlers handlers_for(const std::string& channel) {
    Handlers h;
    h.book = [this, channel](const Book& book, const BookUpdate&) { on_book(channel, book); };
    return h;
  }
  int count(EventType type, const std::string& channel = {},
            std::optional<ResyncReason> reason = {}) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const Event& e : events_) {
      n += e.type == type && (channel.empty() || e.channel == channel) &&
           (!reason || e.reason == *reason);
    }
    return n;
  }
  std::size_t updates(const std::string& channel) {
    std::lock_guard lock(mutex_);
    return history_[channel].size();
  }
  // The book as it was after every message up to `change_id` (messages that change nothing are
  // not sent, so it is the last state at or before that id), once a later one has arrived or
  // the stream has been quiet for a while.
  std::optional<State> state_at(const std::string& channel, std::uint64_t change_id) {
    wait_until(
        [&] {
          std::lock_guard lock(mutex_);
          const auto& h = history_[channel];
          return !h.empty() && h.back().change_id > change_id;
        },
        1.0);
    std::lock_guard lock(mutex_);
    const auto& h = history_[channel];
    for (auto it = h.rbegin(); it != h.rend(); ++it) {
      if (it->change_id <= change_id) return *it;
    }
    return std::nullopt;
  }
  std::string describe_events() {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const Event& e : events_) text += e.describe() + "\n";
    return text;
  }

 private:
  std::mutex mutex_;
  std::vector<Event> events_;
  std::map<std::string, std::deque<State>> history_;
};

class ServeTest : public ::testing::TestWithParam<Encoding> {
 protected:
  void SetUp() override {
    data_dir_ = std::filesystem::temp_directory_path() /
                ("gw-sdk-test-" + std::to_string(getpid()) + "-" +
                 std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(data_dir_);
    serve_ = std::make_unique<Serve>(data_dir_.string());
    serve_->start();
    credentials_ = new_key(data_dir_.string());
  }
  void TearDown() override {
    client_.reset();
    serve_.reset();
    std::filesystem::remove_all(data_dir_);
  }

  // A client authenticated with the test's key, subscribed to the raw books of `instruments`.
  void connect_and_subscribe(const std::vector<std::string>& instruments) {
    ConnectionOptions options;
    options.url = serve_->url();
    options.encoding = GetParam();
    options.credentials = credentials_;
    options.reconnect.initial_delay_s = 0.1;
    options.reconnect.max_delay_s = 0.5;
    client_ = std::make_unique<Client>(options);
    client_->on_event([this](const Event& e) { recorder_.on_event(e); });
    ASSERT_TRUE(client_->connect()) << recorder_.describe_events();
    for (const std::string& instrument : instruments) {
      const std::string channel = "book." + instrument + ".raw";
      channels_.push_back(channel);
      const auto subscribed = client_->subscribe({channel}, recorder_.handlers_for(channel));
      ASSERT_TRUE(subscribed.ok()) << subscribed.error().describe();
      ASSERT_EQ(subscribed.value(), std::vector<std::string>{channel});
    }
    wait_for_live_books();
  }

  void wait_for_live_books() {
    for (const std::string& channel : channels_) {
      ASSERT_TRUE(wait_until(
          [&] {
            const auto book = client_->book(channel);
            return book && book->state == Book::State::live;
          },
          15))
          << channel << "\n"
          << recorder_.describe_events();
    }
  }

  // The SDK's book equals public/get_order_book at the change_id the query answered with.
  void expect_books_match_the_server() {
    std::size_t compared = 0;
    for (const std::string& channel : channels_) {
      const std::string instrument = channel.substr(5, channel.size() - 9);
      const auto answer = client_->call(
          "public/get_order_book", R"({"instrument_name":")" + instrument + R"(","depth":10000})");
      ASSERT_TRUE(answer.ok()) << answer.error().describe();
      const std::uint64_t change_id = answer.value()["change_id"].as_uint();
      const auto state = recorder_.state_at(channel, change_id);
      ASSERT_TRUE(state) << channel << " has no state at or before " << change_id;
      EXPECT_EQ(state->bids, levels_of(answer.value()["bids"])) << channel << " @" << change_id;
      EXPECT_EQ(state->asks, levels_of(answer.value()["asks"])) << channel << " @" << change_id;
      compared += state->bids.size() + state->asks.size();
    }
    EXPECT_GT(compared, 0u);  // not empty (a market that just started can be thin)
  }

  // BTC-PERPETUAL, ETH-PERPETUAL and two BTC options.
  std::vector<std::string> instruments() {
    ConnectionOptions options;
    options.url = serve_->url();
    Client probe(options);
    EXPECT_TRUE(probe.connect());
    const auto options_list =
        probe.call("public/get_instruments", R"({"currency":"BTC","kind":"option"})");
    EXPECT_TRUE(options_list.ok());
    std::vector<std::string> names = {"BTC-PERPETUAL", "ETH-PERPETUAL"};
    for (std::size_t i = 0; i < 2 && i < options_list.value().size(); ++i)
      names.emplace_back(options_list.value()[i]["instrument_name"].as_string());
    return names;
  }

  std::filesystem::path data_dir_;
  std::unique_ptr<Serve> serve_;
  Credentials credentials_;
  Recorder recorder_;
  std::unique_ptr<Client> client_;
  std::vector<std::string> channels_;
};

TEST_P(ServeTest, BooksEqualGetOrderBookAtTheSameChangeId) {
  connect_and_subscribe(instruments());
  // Let the books move for a while.
  ASSERT_TRUE(wait_until([&] { return recorder_.updates("book.BTC-PERPETUAL.raw") > 20; }, 15));
  expect_books_match_the_server();
  const Stats stats = client_->stats();
  EXPECT_GT(stats.checksums_verified, 20u);
  EXPECT_EQ(stats.gaps, 0u);
  EXPECT_EQ(stats.checksum_mismatches, 0u);
  EXPECT_EQ(stats.resyncs, 0u) << recorder_.describe_events();
}

TEST_P(ServeTest, ADroppedChangeAndACorruptChecksumResyncAndTheBooksAreRightAfterwards) {
  connect_and_subscribe({"BTC-PERPETUAL", "ETH-PERPETUAL"});
  const std::string btc = "book.BTC-PERPETUAL.raw";
  const std::string eth = "book.ETH-PERPETUAL.raw";

  client_->drop_next_change(btc);
  ASSERT_TRUE(wait_until([&] { return recorder_.count(EventType::resynced, btc) == 1; }, 20))
      << recorder_.describe_events();
  EXPECT_EQ(recorder_.count(EventType::resync, btc, ResyncReason::gap), 1);
  // The other book lost its socket too, and says so.
  EXPECT_EQ(recorder_.count(EventType::resync, eth, ResyncReason::reconnect), 1);
  wait_for_live_books();
  expect_books_match_the_server();

  client_->corrupt_next_checksum(btc);
  ASSERT_TRUE(wait_until([&] { return recorder_.count(EventType::resynced, btc) == 2; }, 20))
      << recorder_.describe_events();
  EXPECT_EQ(recorder_.count(EventType::resync, btc, ResyncReason::checksum_mismatch), 1);
  wait_for_live_books();
  expect_books_match_the_server();
  const Stats stats = client_->stats();
  EXPECT_EQ(stats.gaps, 1u);
  EXPECT_EQ(stats.checksum_mismatches, 1u);
  EXPECT_EQ(stats.reconnects, 2u);
}

TEST_P(ServeTest, AServerRestartIsSurvivedWithEveryBookResynced) {
  connect_and_subscribe({"BTC-PERPETUAL", "ETH-PERPETUAL"});
  const std::uint16_t port = serve_->port();
  serve_->kill();
  serve_->start(port);  // same port, same data directory: the key still works
  for (const std::string& channel : channels_) {
    ASSERT_TRUE(wait_until([&] { return recorder_.count(EventType::resynced, channel) == 1; }, 30))
        << channel << "\n"
        << recorder_.describe_events();
    EXPECT_EQ(recorder_.count(EventType::resync, channel, ResyncReason::reconnect), 1);
  }
  EXPECT_GE(recorder_.count(EventType::disconnected), 1);
  EXPECT_GE(recorder_.count(EventType::reconnecting), 1);
  EXPECT_EQ(recorder_.count(EventType::authenticated), 2);
  EXPECT_EQ(recorder_.count(EventType::ready), 2);
  wait_for_live_books();
  expect_books_match_the_server();
  EXPECT_EQ(client_->stats().reconnects, 1u);
}

INSTANTIATE_TEST_SUITE_P(Encodings, ServeTest,
                         ::testing::Values(Encoding::json, Encoding::msgpack, Encoding::protobuf),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param));
                         });

// ---- the same trees in JSON and protobuf ------------------------------------------------------

// Every notification a client got, as (channel, tree), in order.
class Notifications {
 public:
  Handlers handlers() {
    Handlers h;
    h.raw = [this](std::string_view channel, const Value& data) {
      std::lock_guard lock(mutex_);
      got_.emplace_back(std::string(channel), data);
    };
    return h;
  }
  std::vector<std::pair<std::string, Value>> copy() {
    std::lock_guard lock(mutex_);
    return got_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, Value>> got_;
};

class SameTrees : public ::testing::Test {
 protected:
  virtual std::vector<std::string> serve_args() const { return {}; }
  void SetUp() override {
    data_dir_ =
        std::filesystem::temp_directory_path() / ("gw-sdk-trees-" + std::to_string(getpid()));
    std::filesystem::create_directories(data_dir_);
    serve_ = std::make_unique<Serve>(data_dir_.string(), serve_args());
    serve_->start();
    const Credentials credentials = new_key(data_dir_.string());
    for (Encoding encoding : {Encoding::json, Encoding::protobuf}) {
      ConnectionOptions options;
      options.url = serve_->url();
      options.encoding = encoding;
      options.credentials = credentials;
      auto& client = encoding == Encoding::json ? json_ : protobuf_;
      client = std::make_unique<Client>(options);
      ASSERT_TRUE(client->connect());
    }
  }
  void TearDown() override {
    json_.reset();
    protobuf_.reset();
    serve_.reset();
    std::filesystem::remove_all(data_dir_);
  }

  // `method` answered alike on both connections (asked again while the market moves between
  // the two answers).
  void expect_same_result(const std::string& method, const std::string& params) {
    SCOPED_TRACE(method + " " + params);
    std::string last;
    for (int attempt = 0; attempt < 50; ++attempt) {
      // Both at once, so that they rarely straddle a market event.
      auto asked = std::async(std::launch::async, [&] { return json_->call(method, params); });
      const auto from_protobuf = protobuf_->call(method, params);
      const auto from_json = asked.get();
      ASSERT_EQ(from_json.ok(), from_protobuf.ok());
      if (!from_json.ok()) {
        EXPECT_EQ(from_protobuf.error().code, from_json.error().code);
        EXPECT_EQ(from_protobuf.error().message, from_json.error().message);
        EXPECT_EQ(from_protobuf.error().data, from_json.error().data);
        return;
      }
      const Value expected = gw::client::test::without_empty_members(from_json.value());
      if (from_protobuf.value() == expected) return;
      last = "protobuf " + from_protobuf.value().to_json() + "\njson     " + expected.to_json();
    }
    ADD_FAILURE() << "never the same tree:\n" << last;
  }

  std::filesystem::path data_dir_;
  std::unique_ptr<Serve> serve_;
  // The clients' handlers write here until TearDown stops them.
  Notifications json_notifications_, protobuf_notifications_;
  std::unique_ptr<Client> json_, protobuf_;
};

// Simulated time 10x: a volsurface every second.
class SameTreesFast : public SameTrees {
 protected:
  std::vector<std::string> serve_args() const override { return {"--speed", "10"}; }
};

TEST_F(SameTreesFast, NotificationsOfEveryKind) {
  const auto options_list =
      json_->call("public/get_instruments", R"({"currency":"BTC","kind":"option"})");
  ASSERT_TRUE(options_list.ok() && options_list.value().size() > 0);
  const std::string option(options_list.value()[0]["instrument_name"].as_string());
  const std::vector<std::string> channels = {
      "book.BTC-PERPETUAL.raw",       "book.ETH-PERPETUAL.100ms",
      "book." + option + ".raw",      "book.BTC-PERPETUAL.1.10.100ms",
      "ticker.BTC-PERPETUAL.raw",     "ticker." + option + ".100ms",
      "trades.BTC-PERPETUAL.raw",     "trades.option.BTC.100ms",
      "deribit_price_index.btc_usd",  "markprice.options.btc_usd",
      "volsurface.BTC.100ms",         "chain.BTC.blocks",
      "chain.BTC.transfers",          "user.orders.BTC-PERPETUAL.raw",
      "user.orders.future.BTC.100ms", "user.trades.BTC-PERPETUAL.raw",
      "user.portfolio.btc",
  };
  // JSON first: every protobuf notification but a subscriber's own first ones has a JSON twin.
  const auto subscribed = json_->subscribe(channels, json_notifications_.handlers());
  ASSERT_TRUE(subscribed.ok()) << subscribed.error().describe();
  ASSERT_EQ(subscribed.value().size(), channels.size());
  ASSERT_EQ(protobuf_->subscribe(channels, protobuf_notifications_.handlers()).value(),
            subscribed.value());
  // Orders of our own, for the user channels: a resting one cancelled, and a market order.
  for (int i = 0; i < 3; ++i) {
    const auto book =
        json_->call("public/get_order_book", R"({"instrument_name":"BTC-PERPETUAL"})");
    ASSERT_TRUE(book.ok());
    const double bid = book.value()["best_bid_price"].as_double();
    ASSERT_TRUE(
        json_
            ->call("private/buy",
                   R"({"instrument_name":"BTC-PERPETUAL","amount":10,"type":"limit","price":)" +
                       Value(bid - 500).to_json() + "}")
            .ok());
    ASSERT_TRUE(json_->call("private/cancel_all").ok());
    ASSERT_TRUE(json_
                    ->call("private/buy",
                           R"({"instrument_name":"BTC-PERPETUAL","amount":10,"type":"market"})")
                    .ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
  }
  // Until every channel but the chain's (blocks are minutes apart) has brought two messages
  // (the first may be the subscriber's own) and the surface one more (a slower build's market
  // runs behind its clock).
  const auto enough = [&] {
    std::map<std::string, int> count;
    for (const auto& [channel, data] : protobuf_notifications_.copy()) ++count[channel];
    for (const std::string& channel : channels) {
      if (!channel.starts_with("chain.") && count[channel] < 2) return false;
    }
    return true;
  };
  EXPECT_TRUE(wait_until(enough, 60));
  const auto got = protobuf_notifications_.copy();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the JSON twins of the last
  const auto expected = json_notifications_.copy();

  std::map<std::string, std::multiset<std::string>> twins;  // channel -> trees as JSON text
  for (const auto& [channel, data] : expected) {
    twins[channel].insert(gw::client::test::without_empty_members(data).to_json());
  }
  std::map<std::string, int> matched, seen;
  for (const auto& [channel, data] : got) {
    const std::string text = data.to_json();  // prints integers and reals apart: 5 vs 5.0
    auto& candidates = twins[channel];
    const auto it = candidates.find(text);
    // The first message of a channel may be the subscriber's own (a book's snapshot, a grouped
    // book's current window): the JSON client had its own when it subscribed.
    const bool own = seen[channel]++ == 0;
    if (it != candidates.end()) {
      candidates.erase(it);
      ++matched[channel];
    } else if (!own) {
      std::string near;
      for (const std::string& c : candidates) near += "\n  json     " + c.substr(0, 600);
      ADD_FAILURE() << channel << ": no JSON twin for\n  protobuf " << text.substr(0, 600)
                    << near.substr(0, 3000);
    }
  }
  // Every kind came through (the chain's blocks are minutes apart: not awaited).
  for (const std::string& channel : channels) {
    if (channel.starts_with("chain.")) continue;
    EXPECT_GT(matched[channel], 0) << channel;
  }
}

TEST_F(SameTrees, ResultsAndErrors) {
  ASSERT_TRUE(json_
                  ->call("private/buy",
                         R"({"instrument_name":"BTC-PERPETUAL","amount":10,"type":"market"})")
                  .ok());
  ASSERT_TRUE(
      json_
          ->call("private/buy",
                 R"({"instrument_name":"ETH-PERPETUAL","amount":1,"type":"limit","price":1000})")
          .ok());
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"public/test", ""},
      {"public/status", ""},
      {"public/get_currencies", ""},
      {"public/get_instruments", R"({"currency":"BTC"})"},
      {"public/get_instrument", R"({"instrument_name":"BTC-PERPETUAL"})"},
      {"public/get_index_price", R"({"index_name":"btc_usd"})"},
      {"public/get_order_book", R"({"instrument_name":"BTC-PERPETUAL","depth":5})"},
      {"public/ticker", R"({"instrument_name":"ETH-PERPETUAL"})"},
      {"public/get_book_summary_by_currency", R"({"currency":"BTC","kind":"future"})"},
      {"public/get_last_trades_by_instrument", R"({"instrument_name":"BTC-PERPETUAL"})"},
      {"private/get_positions", R"({"currency":"BTC"})"},
      {"private/get_position", R"({"instrument_name":"BTC-PERPETUAL"})"},
      {"private/get_account_summary", R"({"currency":"BTC"})"},
      {"private/get_open_orders_by_currency", R"({"currency":"ETH"})"},
      {"private/get_user_trades_by_instrument", R"({"instrument_name":"BTC-PERPETUAL"})"},
      {"private/get_risk_matrix", R"({"currency":"BTC","per_position":true})"},
      {"private/get_cancel_on_disconnect", ""},
      // Errors: unknown method, invalid params (data: an object), an unknown instrument.
      {"public/nope", ""},
      {"public/get_order_book", R"({"instrument_name":7})"},
      {"public/ticker", R"({"instrument_name":"BTC-1JAN20"})"},
  };
  for (const auto& [method, params] : calls) expect_same_result(method, params);
}

}  // namespace
}  // namespace greekwire

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const char* binary = argc > 1 ? argv[1] : std::getenv("GREEKWIRE");
  if (binary == nullptr || access(binary, X_OK) != 0) {
    std::printf("SKIP: usage: client_serve_test PATH_TO_GREEKWIRE\n");
    return 77;
  }
  greekwire::g_binary = binary;
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
