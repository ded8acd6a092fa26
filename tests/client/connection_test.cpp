// greekwire::Connection / Client against a scripted server (scripted_server.hpp): JSON-RPC
// correlation and timeouts, typed errors, connect failures, authentication, heartbeats, and the
// book resync state machine (gap, checksum, test hooks, server snapshots, reconnects), in JSON
// and in MessagePack.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <map>
#include <mutex>
#include <thread>

#include "client/scripted_server.hpp"
#include "greekwire/client.hpp"
#include "net/tcp.hpp"

namespace greekwire {
namespace {

using gw::client::test::json;
using gw::client::test::Peer;
using gw::client::test::ScriptedServer;
using gw::client::test::wait_until;

constexpr const char* kBook = "book.BTC-PERPETUAL.raw";
constexpr const char* kSnapshot =
    R"({"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":100,
        "bids":[["new",65000.0,12000.0],["new",64999.5,500.0],["new",64990.0,10.0]],
        "asks":[["new",65000.5,3000.0],["new",65001.0,20.0]],"checksum":3370445602})";
// Book A -> the "asks only" test vector.
constexpr const char* kChangeToAsksOnly =
    R"({"type":"change","timestamp":2,"prev_change_id":100,"change_id":101,
        "instrument_name":"BTC-PERPETUAL",
        "bids":[["delete",65000.0,0.0],["delete",64999.5,0.0],["delete",64990.0,0.0]],
        "asks":[["delete",65001.0,0.0],["new",65005.0,10.0]],"checksum":4181265969})";
constexpr const char* kInstrument =
    R"({"tick_size":0.5,"tick_size_steps":[],"min_trade_amount":10.0,
        "instrument_name":"BTC-PERPETUAL"})";

// Records events (they arrive on the client's loop thread).
class Events {
 public:
  void add(const Event& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  std::vector<Event> all() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  int count(EventType type, std::string_view channel = {}) {
    int n = 0;
    for (const Event& e : all()) n += e.type == type && (channel.empty() || e.channel == channel);
    return n;
  }
  std::optional<Event> last(EventType type) {
    std::optional<Event> found;
    for (const Event& e : all())
      if (e.type == type) found = e;
    return found;
  }

 private:
  std::mutex mutex_;
  std::vector<Event> events_;
};

ConnectionOptions options_for(const std::string& url) {
  ConnectionOptions options;
  options.url = url;
  options.request_timeout_s = 3;
  options.connect_timeout_s = 3;
  options.reconnect.initial_delay_s = 0.05;
  options.reconnect.max_delay_s = 0.2;
  return options;
}

// A server that answers subscribe with the channels, get_instrument with kInstrument, and
// after subscribing a book sends `script(connection index)` as notifications on that channel.
void serve_books(ScriptedServer& server, std::function<std::vector<std::string>(int)> script) {
  server.on_request = [script](Peer& peer, const Value& request) {
    const std::string_view method = request["method"].as_string();
    if (method == "public/subscribe" || method == "private/subscribe") {
      peer.reply(request, request["params"]["channels"]);
      for (const Value& channel : request["params"]["channels"].array()) {
        if (channel.as_string() != kBook) continue;
        for (const std::string& data : script(peer.index)) peer.notify(kBook, data);
      }
    } else if (method == "public/get_instrument") {
      peer.reply(request, json(kInstrument));
    } else {
      peer.reply(request, Value("ok"));
    }
  };
}

std::vector<Level> asks_only() {
  return {{65000.5, 3000}, {65005, 10}};
}

// ---- JSON-RPC ---------------------------------------------------------------------------------

TEST(Connection, AnswersReachTheirCallersWhateverTheirOrder) {
  ScriptedServer server;
  std::mutex mutex;
  std::optional<Value> held;
  server.on_request = [&](Peer& peer, const Value& request) {
    const std::string_view method = request["method"].as_string();
    if (method == "test/first") {
      held = request;  // answered after the second
      return;
    }
    peer.reply(request, Value(method));
    if (held) peer.reply(*held, Value(held->operator[]("method").as_string()));
  };
  Client client(options_for(server.url()));
  ASSERT_TRUE(client.connect());
  std::vector<std::string> answers(2);
  std::atomic<int> done{0};
  client.run_on_loop([&](Connection& c) {
    for (int i = 0; i < 2; ++i) {
      c.call(i == 0 ? "test/first" : "test/second", "{}", [&, i](Result<Value> r) {
        std::lock_guard lock(mutex);
        answers[static_cast<std::size_t>(i)] = std::string(r.value().as_string());
        ++done;
      });
    }
  });
  ASSERT_TRUE(wait_until([&] { return done == 2; }));
  EXPECT_EQ(answers, (std::vector<std::string>{"test/first", "test/second"}));
  const Stats stats = client.stats();
  EXPECT_EQ(stats.responses, 2u);
  EXPECT_EQ(stats.request_latency.count, 2u);
  EXPECT_GT(stats.request_latency.max_us, 0);
}

TEST(Connection, ATimedOutCallFailsAndItsLateAnswerIsIgnored) {
  ScriptedServer server;
  std::optional<Value> late;
  server.on_request = [&](Peer& peer, const Value& request) {
    if (request["method"].as_string() == "test/late") {
      late = request;
      return;
    }
    if (late) peer.reply(*late, Value("late"));  // after the caller gave up
    peer.reply(request, Value("pong"));
  };
  Client client(options_for(server.url()));
  ASSERT_TRUE(client.connect());
  const auto timed_out = client.call("test/late", "{}", 0.2);
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().kind, ErrorKind::timeout);
  const auto next = client.call("test/ping");
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next.value().as_string(), "pong");
  const Stats stats = client.stats();
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.responses, 1u);  // the late answer matched nothing
}

TEST(Connection, ServerErrorsAreTypedWithTheirMeaning) {
  ScriptedServer server;
  server.on_request = [](Peer& peer, const Value& request) {
    peer.reply_error(request, -32601, "Method not found");
  };
  Client client(options_for(server.url()));
  ASSERT_TRUE(client.connect());
  const auto r = client.call("public/nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::rpc);
  EXPECT_EQ(r.error().code, -32601);
  EXPECT_EQ(r.error().message, "Method not found");
  EXPECT_EQ(r.error().describe(), "-32601 Method not found (no such method)");
  EXPECT_EQ(client.stats().rpc_errors, 1u);
}

TEST(Connection, ParamsMustBeAJsonObject) {
  ScriptedServer server;
  Client client(options_for(server.url()));
  ASSERT_TRUE(client.connect());
  for (const char* params : {"[1]", "{not json", "42"}) {
    const auto r = client.call("public/test", params);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument) << params;
  }
  EXPECT_TRUE(server.requests().empty());
}

TEST(Connection, AMessageWithoutAnIdIsReportedAndTheConnectionSurvives) {
  ScriptedServer server;
  server.on_request = [](Peer& peer, const Value& request) {
    peer.send_json(R"({"jsonrpc":"2.0","error":{"code":11050,"message":"bad_request"}})");
    peer.send_json("[1,2]");  // not a message at all
    peer.reply(request, Value("ok"));
  };
  Events events;
  Client client(options_for(server.url()));
  client.on_event([&](const Event& e) { events.add(e); });
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.call("public/test").ok());
  std::vector<Event> errors;
  for (const Event& e : events.all())
    if (e.type == EventType::error) errors.push_back(e);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].error->code, 11050);
  EXPECT_EQ(errors[1].error->kind, ErrorKind::protocol);
  EXPECT_EQ(client.stats().decode_errors, 1u);
}

// ---- connecting -------------------------------------------------------------------------------

TEST(Connection, ARefusedConnectionIsReportedAsUnreachable) {
  const int fd = gw::net::listen_tcp({"127.0.0.1", 0}, false);
  const std::uint16_t port = gw::net::local_port(fd);
  ::close(fd);  // nobody listens there now
  Client client(options_for("ws://127.0.0.1:" + std::to_string(port) + "/ws"));
  const Status status = client.connect();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::unreachable);
  EXPECT_NE(status.error().message.find("Connection refused"), std::string::npos)
      << status.error().message;
  EXPECT_EQ(client.state(), ConnectionState::stopped);
  // Calls on a connection that gave up fail at once.
  EXPECT_EQ(client.call("public/test").error().kind, ErrorKind::closed);
}

TEST(Connection, RetriesBackOffExponentiallyWithJitterThenGiveUp) {
  const int fd = gw::net::listen_tcp({"127.0.0.1", 0}, false);
  const std::uint16_t port = gw::net::local_port(fd);
  ::close(fd);
  ConnectionOptions options = options_for("ws://127.0.0.1:" + std::to_string(port) + "/ws");
  options.reconnect.retry_initial_connect = true;
  options.reconnect.initial_delay_s = 0.02;
  options.reconnect.multiplier = 2;
  options.reconnect.max_delay_s = 0.1;
  options.reconnect.jitter = 0.5;
  options.reconnect.max_attempts = 5;
  Events events;
  Client client(options);
  client.on_event([&](const Event& e) { events.add(e); });
  const Status status = client.connect(10);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::unreachable);
  std::vector<Event> retries;
  for (const Event& e : events.all())
    if (e.type == EventType::reconnecting) retries.push_back(e);
  ASSERT_EQ(retries.size(), 5u);
  const double bases[] = {0.02, 0.04, 0.08, 0.1, 0.1};  // capped at max_delay_s
  for (std::size_t i = 0; i < retries.size(); ++i) {
    EXPECT_EQ(retries[i].attempt, static_cast<int>(i) + 1);
    EXPECT_LE(retries[i].delay_s, bases[i]);
    EXPECT_GE(retries[i].delay_s, bases[i] * 0.5);  // jitter takes off at most half
  }
  EXPECT_EQ(events.count(EventType::disconnected), 6);  // the first try and five retries
  EXPECT_EQ(events.count(EventType::gave_up), 1);
}

TEST(Connection, AnHttpStatusInsteadOf101ComesWithTheBody) {
  ScriptedServer server;
  Client client(options_for(server.url("/elsewhere")));
  const Status status = client.connect();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::http_status);
  EXPECT_EQ(status.error().http_status, 404);
  EXPECT_NE(status.error().body.find("the WebSocket API is at /ws"), std::string::npos);
  EXPECT_NE(status.error().message.find("HTTP 404"), std::string::npos) << status.error().message;
}

TEST(Connection, ExtraHeadersGoWithTheHandshake) {
  ScriptedServer server;
  server.required_authorization = "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln";
  server.on_request = [](Peer& peer, const Value& request) { peer.reply(request, Value("ok")); };
  ConnectionOptions options = options_for(server.url());
  Client refused(options);
  const Status status = refused.connect();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().http_status, 401);
  EXPECT_NE(status.error().body.find("a bearer token is required"), std::string::npos);
  options.headers = {{"Authorization", "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln"}};
  Client client(options);
  ASSERT_TRUE(client.connect());
  EXPECT_TRUE(client.call("public/test").ok());
}

TEST(Connection, BadOptionsAreRefusedBeforeConnecting) {
  Client bad_url(options_for("http://127.0.0.1:1/ws"));
  EXPECT_EQ(bad_url.connect().error().kind, ErrorKind::invalid_argument);
  // Every encoding is accepted: this one gets as far as the (refused) connection.
  ConnectionOptions protobuf = options_for("ws://127.0.0.1:1/ws");
  protobuf.encoding = Encoding::protobuf;
  Client client(protobuf);
  EXPECT_EQ(client.connect().error().kind, ErrorKind::unreachable);
}

TEST(Connection, CallsMadeBeforeTheConnectionIsReadyWaitForIt) {
  ScriptedServer server;
  server.on_request = [](Peer& peer, const Value& request) { peer.reply(request, Value(7)); };
  EventLoop loop;
  Connection connection(loop, options_for(server.url()));
  std::optional<Result<Value>> answer;
  connection.call("public/test", "", [&](Result<Value> r) {
    answer = std::move(r);
    loop.stop();
  });
  ASSERT_TRUE(connection.start());
  loop.run();
  ASSERT_TRUE(answer && answer->ok());
  EXPECT_EQ(answer->value().as_int(), 7);
  connection.stop();
}

// ---- authentication and heartbeats ------------------------------------------------------------

std::string hmac_hex(std::string_view key, std::string_view message) {
  unsigned char mac[32];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &size);
  std::string out;
  char digits[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(digits, sizeof digits, "%02x", mac[i]);
    out += digits;
  }
  return out;
}

// Checks client_signature the way Deribit does, with the key "id1" / "secret1".
void serve_auth(ScriptedServer& server) {
  server.on_request = [](Peer& peer, const Value& request) {
    const std::string_view method = request["method"].as_string();
    if (method != "public/auth") {
      peer.reply(request, Value(method));
      return;
    }
    const Value& p = request["params"];
    const std::string message = std::to_string(p["timestamp"].as_int()) + "\n" +
                                std::string(p["nonce"].as_string()) + "\n" +
                                std::string(p["data"].as_string());
    if (p["grant_type"].as_string() == "client_signature" && p["client_id"].as_string() == "id1" &&
        p["signature"].as_string() == hmac_hex("secret1", message)) {
      peer.reply(request,
                 json(R"({"access_token":"t","token_type":"bearer","scope":"connection"})"));
    } else {
      peer.reply_error(request, 13004, "invalid_credentials");
    }
  };
}

TEST(Connection, AuthenticatesWithClientSignatureBeforeAnyCall) {
  ScriptedServer server;
  serve_auth(server);
  ConnectionOptions options = options_for(server.url());
  options.credentials = Credentials{"id1", "secret1", {}};
  Events events;
  Client client(options);
  client.on_event([&](const Event& e) { events.add(e); });
  ASSERT_TRUE(client.connect());
  EXPECT_EQ(events.count(EventType::authenticated), 1);
  ASSERT_TRUE(client.call("private/get_positions", R"({"currency":"BTC"})").ok());
  EXPECT_EQ(server.methods(), (std::vector<std::string>{"public/auth", "private/get_positions"}));
  // The secret never goes over the wire.
  for (const auto& [index, request] : server.requests())
    EXPECT_EQ(request.to_json().find("secret1"), std::string::npos);
}

TEST(Connection, WrongCredentialsEndTheConnectionWithTheCodeAndItsMeaning) {
  ScriptedServer server;
  serve_auth(server);
  ConnectionOptions options = options_for(server.url());
  options.credentials = Credentials{"id1", "wrong", {}};
  options.reconnect.retry_initial_connect = true;  // still final: retrying cannot help
  Client client(options);
  const Status status = client.connect();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, 13004);
  EXPECT_EQ(status.error().describe(),
            "13004 invalid_credentials (wrong client_id or client_secret)");
  EXPECT_EQ(client.state(), ConnectionState::stopped);
  EXPECT_EQ(server.connections(), 1);
}

TEST(Connection, AnswersTestRequestsWithPublicTest) {
  ScriptedServer server;
  server.on_request = [](Peer& peer, const Value& request) {
    peer.reply(request, Value("ok"));
    if (request["method"].as_string() == "public/set_heartbeat") {
      peer.send_json(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}})");
      peer.send_json(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})");
    }
  };
  ConnectionOptions options = options_for(server.url());
  options.heartbeat_interval_s = 10;
  Client client(options);
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(wait_until([&] { return server.methods().size() == 2; }));
  EXPECT_EQ(server.methods(), (std::vector<std::string>{"public/set_heartbeat", "public/test"}));
  EXPECT_EQ(server.requests()[0].second["params"]["interval"].as_int(), 10);
  EXPECT_EQ(client.stats().heartbeats_answered, 1u);
}

// ---- books and resync -------------------------------------------------------------------------

class BookResync : public ::testing::TestWithParam<bool> {  // true: MessagePack
 protected:
  ConnectionOptions options(const ScriptedServer& server) {
    ConnectionOptions o = options_for(server.url());
    if (GetParam()) o.encoding = Encoding::msgpack;
    return o;
  }
  // Records the client's events into `events`, then connects it and subscribes `channels`.
  static void connect_and_subscribe(Client& client, Events& events,
                                    const std::vector<std::string>& channels = {kBook}) {
    client.on_event([&events](const Event& e) { events.add(e); });
    ASSERT_TRUE(client.connect());
    ASSERT_TRUE(client.subscribe(channels, {}).ok());
  }
  // Waits for the book's first resync to finish.
  static bool resynced_once(Events& events) {
    return wait_until([&] { return events.count(EventType::resynced, kBook) == 1; });
  }
};

TEST_P(BookResync, ABookFollowsSnapshotAndChangesWithVerifiedChecksums) {
  ScriptedServer server(GetParam());
  // Both messages arrive before get_instrument has answered: the last checksum is verified
  // against the book when the formats come.
  serve_books(server, [](int) { return std::vector<std::string>{kSnapshot, kChangeToAsksOnly}; });
  Events events;
  Client client(options(server));
  client.on_event([&](const Event& e) { events.add(e); });
  ASSERT_TRUE(client.connect());
  std::atomic<int> updates{0};
  Handlers handlers;
  handlers.book = [&](const Book& book, const BookUpdate& update) {
    EXPECT_EQ(book.change_id(), update.change_id);
    ++updates;
  };
  const auto subscribed = client.subscribe({kBook}, handlers);
  ASSERT_TRUE(subscribed.ok());
  EXPECT_EQ(subscribed.value(), std::vector<std::string>{kBook});
  ASSERT_TRUE(wait_until([&] { return client.stats().checksums_verified == 1; }));
  EXPECT_EQ(updates, 2);
  const auto book = client.book(kBook);
  ASSERT_TRUE(book);
  EXPECT_EQ(book->state, Book::State::live);
  EXPECT_EQ(book->change_id, 101u);
  EXPECT_TRUE(book->bids.empty());
  EXPECT_EQ(book->asks, asks_only());
  EXPECT_EQ(events.count(EventType::resync), 0);
  EXPECT_EQ(server.connections(), 1);
}

TEST_P(BookResync, AGapResubscribesOnAFreshConnectionAndReportsIt) {
  ScriptedServer server(GetParam());
  serve_books(server, [](int connection) -> std::vector<std::string> {
    if (connection == 1) {
      // 101 is lost: 102 does not chain.
      return {kSnapshot,
              R"({"type":"change","prev_change_id":101,"change_id":102,
                  "instrument_name":"BTC-PERPETUAL","bids":[],"asks":[["change",65001.0,1.0]]})"};
    }
    return {kSnapshot, kChangeToAsksOnly};
  });
  Events events;
  Client client(options(server));
  ASSERT_NO_FATAL_FAILURE(connect_and_subscribe(client, events));
  ASSERT_TRUE(resynced_once(events));
  const auto resync = events.last(EventType::resync);
  ASSERT_TRUE(resync);
  EXPECT_EQ(resync->channel, kBook);
  EXPECT_EQ(resync->reason, ResyncReason::gap);
  EXPECT_EQ(events.last(EventType::resynced)->reason, ResyncReason::gap);
  EXPECT_EQ(server.connections(), 2);
  ASSERT_TRUE(wait_until([&] { return client.book(kBook)->change_id == 101; }));
  EXPECT_EQ(client.book(kBook)->asks, asks_only());
  const Stats stats = client.stats();
  EXPECT_EQ(stats.gaps, 1u);
  EXPECT_EQ(stats.resyncs, 1u);
  EXPECT_EQ(stats.connects, 2u);
  EXPECT_EQ(stats.reconnects, 1u);
}

TEST_P(BookResync, AChecksumMismatchResyncs) {
  ScriptedServer server(GetParam());
  serve_books(server, [](int connection) -> std::vector<std::string> {
    if (connection == 1) {
      return {kSnapshot,
              R"({"type":"change","prev_change_id":100,"change_id":101,
                  "instrument_name":"BTC-PERPETUAL","bids":[],"asks":[["change",65001.0,1.0]],
                  "checksum":3370445602})"};
    }
    return {kSnapshot};
  });
  Events events;
  Client client(options(server));
  ASSERT_NO_FATAL_FAILURE(connect_and_subscribe(client, events));
  ASSERT_TRUE(resynced_once(events));
  EXPECT_EQ(events.last(EventType::resync)->reason, ResyncReason::checksum_mismatch);
  EXPECT_EQ(client.stats().checksum_mismatches, 1u);
  EXPECT_EQ(client.book(kBook)->change_id, 100u);
}

TEST_P(BookResync, AnUnreadableBookMessageIsReportedAndResyncs) {
  ScriptedServer server(GetParam());
  serve_books(server, [](int connection) -> std::vector<std::string> {
    if (connection == 1)
      return {kSnapshot, R"({"type":"change","prev_change_id":100,"change_id":"101",
                             "instrument_name":"BTC-PERPETUAL","bids":[],"asks":[]})"};
    return {kSnapshot};
  });
  Events events;
  Client client(options(server));
  ASSERT_NO_FATAL_FAILURE(connect_and_subscribe(client, events));
  ASSERT_TRUE(resynced_once(events));
  EXPECT_EQ(events.last(EventType::resync)->reason, ResyncReason::inconsistent);
  const auto error = events.last(EventType::error);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->error->kind, ErrorKind::protocol);
  EXPECT_EQ(error->channel, kBook);
  EXPECT_EQ(client.stats().decode_errors, 1u);
  EXPECT_EQ(client.book(kBook)->state, Book::State::live);
}

TEST_P(BookResync, TestHooksDropAChangeOrCorruptAChecksum) {
  ScriptedServer server(GetParam());
  // Each connection: the snapshot at once, then a change each time the test asks: 100 -> 101,
  // then 101 -> 102.
  std::map<int, int> changes_sent;  // by connection (server thread only)
  server.on_request = [&](Peer& peer, const Value& request) {
    const std::string_view method = request["method"].as_string();
    if (method == "public/subscribe") {
      peer.reply(request, request["params"]["channels"]);
      peer.notify(kBook, kSnapshot);
    } else if (method == "public/get_instrument") {
      peer.reply(request, json(kInstrument));
    } else if (method == "test/send_change") {
      peer.notify(kBook, changes_sent[peer.index]++ == 0
                             ? kChangeToAsksOnly
                             : R"({"type":"change","prev_change_id":101,"change_id":102,
                                  "instrument_name":"BTC-PERPETUAL","bids":[],
                                  "asks":[["change",65005.0,20.0]]})");
      peer.reply(request, Value("sent"));
    }
  };
  Events events;
  Client client(options(server));
  ASSERT_NO_FATAL_FAILURE(connect_and_subscribe(client, events));
  ASSERT_TRUE(wait_until([&] { return client.stats().checksums_verified >= 1; }));

  client.corrupt_next_checksum(kBook);
  ASSERT_TRUE(client.call("test/send_change").ok());
  ASSERT_TRUE(resynced_once(events));
  EXPECT_EQ(events.last(EventType::resync)->reason, ResyncReason::checksum_mismatch);

  // Dropping a change: the book misses it silently at first (nothing chains after it yet),
  // then the next change does not chain.
  ASSERT_TRUE(wait_until([&] { return client.state() == ConnectionState::ready; }));
  client.drop_next_change(kBook);
  ASSERT_TRUE(client.call("test/send_change").ok());
  ASSERT_TRUE(client.call("test/send_change").ok());
  ASSERT_TRUE(wait_until([&] { return events.count(EventType::resynced, kBook) == 2; }));
  EXPECT_EQ(events.last(EventType::resync)->reason, ResyncReason::gap);
  EXPECT_EQ(server.connections(), 3);
}

TEST_P(BookResync, AnAnswerStillDueOnTheRetiredSocketIsDelivered) {
  ScriptedServer server(GetParam());
  std::optional<Value> held;
  gw::ws::WebSocket* first_socket = nullptr;
  server.on_request = [&](Peer& peer, const Value& request) {
    const std::string_view method = request["method"].as_string();
    if (method == "public/subscribe") {
      peer.reply(request, request["params"]["channels"]);
      peer.notify(kBook, kSnapshot);
    } else if (method == "private/buy") {
      held = request;  // answered after the resync started
      first_socket = &peer.socket;
      // A change that does not chain: the client resyncs on a new socket.
      peer.notify(kBook, R"({"type":"change","prev_change_id":7,"change_id":8,
                             "instrument_name":"BTC-PERPETUAL","bids":[],"asks":[]})");
    } else if (method == "test/release" && held) {
      Peer old{*first_socket, 1, peer.msgpack};
      old.reply(*held, Value("filled"));
      peer.reply(request, Value("released"));
    } else {
      peer.reply(request, Value("ok"));
    }
  };
  Events events;
  Client client(options(server));
  ASSERT_NO_FATAL_FAILURE(connect_and_subscribe(client, events));
  std::optional<Result<Value>> order;
  std::atomic<bool> answered{false};
  client.run_on_loop([&](Connection& c) {
    c.call("private/buy", R"({"instrument_name":"BTC-PERPETUAL","amount":10})",
           [&](Result<Value> r) {
             order = std::move(r);
             answered = true;
           });
  });
  ASSERT_TRUE(resynced_once(events));
  EXPECT_FALSE(answered);
  ASSERT_TRUE(client.call("test/release").ok());
  ASSERT_TRUE(wait_until([&] { return answered.load(); }));
  ASSERT_TRUE(order->ok()) << order->error().describe();
  EXPECT_EQ(order->value().as_string(), "filled");
}

TEST_P(BookResync, ASnapshotTheServerSendsOnItsOwnIsReported) {
  ScriptedServer server(GetParam());
  serve_books(server, [](int) -> std::vector<std::string> {
    return {kSnapshot, kChangeToAsksOnly, kSnapshot};
  });
  Events events;
  Client client(options(server));
  ASSERT_NO_FATAL_FAILURE(connect_and_subscribe(client, events));
  ASSERT_TRUE(resynced_once(events));
  EXPECT_EQ(events.last(EventType::resync)->reason, ResyncReason::server_snapshot);
  EXPECT_EQ(client.book(kBook)->change_id, 100u);
  EXPECT_EQ(server.connections(), 1);  // nothing to repair on our side
}

TEST_P(BookResync, AClosedConnectionReconnectsResubscribesAndResyncs) {
  ScriptedServer server(GetParam());
  std::atomic<int> subscribes{0};
  server.on_request = [&](Peer& peer, const Value& request) {
    const std::string_view method = request["method"].as_string();
    if (method == "public/subscribe") {
      peer.reply(request, request["params"]["channels"]);
      peer.notify(kBook, kSnapshot);
      if (++subscribes == 1) peer.socket.close(1001, "restarting");
    } else {
      peer.reply(request, Value("ok"));
    }
  };
  Events events;
  Client client(options(server));
  ASSERT_NO_FATAL_FAILURE(
      connect_and_subscribe(client, events, {kBook, "ticker.BTC-PERPETUAL.100ms"}));
  ASSERT_TRUE(resynced_once(events));
  const auto disconnected = events.last(EventType::disconnected);
  ASSERT_TRUE(disconnected);
  EXPECT_EQ(disconnected->close_code, 1001);
  EXPECT_EQ(events.count(EventType::reconnecting), 1);
  EXPECT_EQ(events.last(EventType::resync)->reason, ResyncReason::reconnect);
  EXPECT_EQ(events.count(EventType::ready), 2);
  // Both channels were subscribed again on the new connection.
  std::vector<std::string> second;
  for (const auto& [index, request] : server.requests()) {
    if (index == 2 && request["method"].as_string() == "public/subscribe")
      for (const Value& c : request["params"]["channels"].array())
        second.emplace_back(c.as_string());
  }
  std::sort(second.begin(), second.end());
  EXPECT_EQ(second, (std::vector<std::string>{kBook, "ticker.BTC-PERPETUAL.100ms"}));
  EXPECT_EQ(client.book(kBook)->state, Book::State::live);
}

INSTANTIATE_TEST_SUITE_P(Encodings, BookResync, ::testing::Bool(), [](const auto& param_info) {
  return param_info.param ? "msgpack" : "json";
});

TEST(Connection, ChannelsTheServerLeavesOutAreDroppedAndReported) {
  ScriptedServer server;
  server.on_request = [](Peer& peer, const Value& request) {
    peer.reply(request, json(R"(["ticker.BTC-PERPETUAL.100ms"])"));
  };
  Events events;
  Client client(options_for(server.url()));
  client.on_event([&](const Event& e) { events.add(e); });
  ASSERT_TRUE(client.connect());
  const auto r = client.subscribe({"ticker.BTC-PERPETUAL.100ms", "book.NOPE.100ms"}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), std::vector<std::string>{"ticker.BTC-PERPETUAL.100ms"});
  EXPECT_EQ(events.count(EventType::subscription_dropped, "book.NOPE.100ms"), 1);
  EXPECT_FALSE(client.book("book.NOPE.100ms"));
}

TEST(Connection, TypedHandlersGetTheirChannelsAndRawSeesEverything) {
  ScriptedServer server;
  server.on_request = [](Peer& peer, const Value& request) {
    peer.reply(request, request["params"]["channels"]);
    peer.notify("ticker.BTC-PERPETUAL.100ms",
                R"({"instrument_name":"BTC-PERPETUAL","timestamp":5,"last_price":null,
                    "mark_price":65000.5,"best_bid_price":65000.0,"best_bid_amount":10.0,
                    "stats":{"volume":1.5,"low":null}})");
    peer.notify("trades.BTC-PERPETUAL.100ms",
                R"([{"trade_id":"BTC-1","trade_seq":1,"price":65000.0,"amount":20,
                     "direction":"buy","timestamp":6,"instrument_name":"BTC-PERPETUAL"},
                    {"trade_id":"BTC-2","trade_seq":2,"price":65000.5,"amount":10,
                     "direction":"sell","timestamp":6,"instrument_name":"BTC-PERPETUAL"}])");
    peer.notify("user.orders.BTC-PERPETUAL.raw",
                R"({"order_id":"BTC-9","order_state":"open","price":"market_price",
                    "amount":10.0})");
    peer.notify("deribit_price_index.btc_usd",
                R"({"index_name":"btc_usd","price":65000.1,"timestamp":7})");
  };
  Client client(options_for(server.url()));
  ASSERT_TRUE(client.connect());
  std::mutex mutex;
  std::vector<std::string> raw;
  std::optional<Ticker> ticker;
  std::vector<Trade> trades;
  std::vector<Order> orders;
  std::optional<PriceIndex> index;
  Handlers h;
  h.raw = [&](std::string_view channel, const Value&) {
    std::lock_guard lock(mutex);
    raw.emplace_back(channel);
  };
  h.ticker = [&](const Ticker& t) { ticker = t; };
  h.trades = [&](const std::vector<Trade>& t) { trades = t; };
  h.orders = [&](const std::vector<Order>& o) { orders = o; };
  h.price_index = [&](const PriceIndex& p) { index = p; };
  ASSERT_TRUE(client
                  .subscribe({"ticker.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.100ms",
                              "user.orders.BTC-PERPETUAL.raw", "deribit_price_index.btc_usd"},
                             h)
                  .ok());
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return raw.size() == 4;
  }));
  client.run_on_loop([](Connection&) {});  // the handlers of the last message have run
  ASSERT_TRUE(ticker);
  EXPECT_EQ(ticker->mark_price, 65000.5);
  EXPECT_FALSE(ticker->last_price);
  EXPECT_EQ(ticker->stats.volume, 1.5);
  EXPECT_FALSE(ticker->stats.low);
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[1].trade_id, "BTC-2");
  EXPECT_EQ(trades[0].amount, 20.0);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_FALSE(orders[0].price);  // market_price
  ASSERT_TRUE(index);
  EXPECT_EQ(index->price, 65000.1);
}

TEST(Channels, NamesAreClassifiedByDeribitsGrammarAndOurs) {
  EXPECT_EQ(classify_channel("book.BTC-PERPETUAL.100ms").kind, ChannelKind::book);
  EXPECT_EQ(classify_channel("book.BTC-PERPETUAL.100ms").instrument, "BTC-PERPETUAL");
  EXPECT_EQ(classify_channel("book.ETH-PERPETUAL.5.1.100ms").kind, ChannelKind::grouped_book);
  EXPECT_EQ(classify_channel("ticker.BTC-27MAR26-70000-C.raw").instrument, "BTC-27MAR26-70000-C");
  EXPECT_EQ(classify_channel("trades.option.BTC.100ms").kind, ChannelKind::trades);
  EXPECT_EQ(classify_channel("markprice.options.btc_usd").kind, ChannelKind::mark_price);
  EXPECT_EQ(classify_channel("user.portfolio.btc").kind, ChannelKind::user_portfolio);
  EXPECT_EQ(classify_channel("volsurface.BTC.100ms").kind, ChannelKind::vol_surface);
  EXPECT_EQ(classify_channel("chain.BTC.blocks").kind, ChannelKind::chain_blocks);
  EXPECT_EQ(classify_channel("chain.ETH.transfers").kind, ChannelKind::chain_transfers);
  EXPECT_EQ(classify_channel("platform_state").kind, ChannelKind::other);
  EXPECT_EQ(classify_channel("book.X").kind, ChannelKind::other);
}

}  // namespace
}  // namespace greekwire
