// The audit log: each line a JSON object (checked with simdjson), UTC timestamps, escaping,
// redaction of secret-looking details, file mode 0600, rotation by size keeping N files, two
// writers (as the server and `greekwire keys`) appending to and rotating the same file, many
// threads at once, the background writer (flush, bounded queue, draining on destruction), and
// the records of order actions (OrderAuditTrail).
#include "gateway/audit_log.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <sstream>
#include <thread>
#include <vector>

#include "codec/request.hpp"
#include "gateway/auth_test_support.hpp"
#include "gateway/order_audit.hpp"

namespace {

using namespace gw::gateway;
using gw::gateway::testing::file_mode;
using gw::gateway::testing::read_file;
using gw::gateway::testing::TempDir;

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Parses one line; fails the test if it is not a JSON object.
simdjson::dom::object parse(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::dom::object object;
  EXPECT_EQ(parser.parse(line).get(object), simdjson::SUCCESS) << line;
  return object;
}

std::string field(simdjson::dom::object object, const char* name) {
  std::string_view value;
  if (object[name].get(value) != simdjson::SUCCESS) return "<missing>";
  return std::string(value);
}

TEST(AuditLog, Iso8601Utc) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(iso8601_utc(-1), "1969-12-31T23:59:59.999Z");
}

TEST(AuditLog, LineFormat) {
  const AuditEvent event{
      "auth.failure", "alice", "fo7WAPRm4P",
      "203.0.113.7",  "42",    {{"method", "client_signature"}, {"reason", "nonce_reused"}}};
  EXPECT_EQ(format_audit_line(event, 1'700'000'000'123),
            R"({"time":"2023-11-14T22:13:20.123Z","event":"auth.failure","account":"alice",)"
            R"("client_id":"fo7WAPRm4P","ip":"203.0.113.7","request_id":"42",)"
            R"("details":{"method":"client_signature","reason":"nonce_reused"}})");
  // Empty fields are left out.
  EXPECT_EQ(format_audit_line({"key.revoke", {}, "abc", {}, {}, {}}, 0),
            R"({"time":"1970-01-01T00:00:00.000Z","event":"key.revoke","client_id":"abc"})");
}

TEST(AuditLog, EscapesAndRedacts) {
  const AuditEvent event{"x",
                         "quote\"back\\slash\nnewline\x01",
                         {},
                         {},
                         "\"id\"",
                         {{"client_secret", "s3cr3t"},
                          {"access_token", "tok"},
                          {"Signature", "sig"},
                          {"note", "ünïcode"}}};
  const std::string line = format_audit_line(event, 0);
  simdjson::dom::parser parser;
  const auto object = parse(parser, line);
  EXPECT_EQ(field(object, "account"), "quote\"back\\slash\nnewline\x01");
  EXPECT_EQ(field(object, "request_id"), "\"id\"");
  EXPECT_EQ(line.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(line.find("tok\""), std::string::npos);
  EXPECT_EQ(line.find("\"sig\""), std::string::npos);
  simdjson::dom::object details;
  ASSERT_EQ(object["details"].get(details), simdjson::SUCCESS);
  EXPECT_EQ(field(details, "client_secret"), "[redacted]");
  EXPECT_EQ(field(details, "note"), "ünïcode");
}

TEST(AuditLog, AppendsWithMode0600) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir / "data";  // created
  {
    AuditLog log(options);
    log.record({"a", "alice", {}, {}, {}, {}}, 1);
    log.record({"b", "alice", {}, {}, {}, {}}, 2);
  }
  AuditLog again(options);
  again.record({"c", "alice", {}, {}, {}, {}}, 3);
  EXPECT_EQ(file_mode(again.path()), 0600u);
  EXPECT_EQ(file_mode(dir / "data"), 0700u);
  const auto lines = lines_of(again.path());
  ASSERT_EQ(lines.size(), 3u);
  simdjson::dom::parser parser;
  EXPECT_EQ(field(parse(parser, lines[2]), "event"), "c");
  EXPECT_EQ(again.write_errors(), 0u);
}

TEST(AuditLog, RotatesBySizeKeepingNFiles) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir.path();
  options.max_bytes = 1'000;
  options.keep_files = 3;
  AuditLog log(options);
  const AuditEvent event{"order.buy", "alice", "abcdefghij",
                         "10.0.0.1",  "1",     {{"instrument", "BTC-PERPETUAL"}}};
  const std::size_t line_size = format_audit_line(event, 0).size() + 1;
  const int per_file = static_cast<int>(1'000 / line_size);
  const int total = per_file * 6;
  for (int i = 0; i < total; ++i) log.record(event, i);
  const std::string base = log.path().string();
  EXPECT_TRUE(std::filesystem::exists(base + ".1"));
  EXPECT_TRUE(std::filesystem::exists(base + ".3"));
  EXPECT_FALSE(std::filesystem::exists(base + ".4"));
  for (const std::string& path : {base, base + ".1", base + ".2", base + ".3"}) {
    EXPECT_LE(std::filesystem::file_size(path), 1'000u) << path;
    EXPECT_EQ(file_mode(path), 0600u) << path;
  }
  // The newest lines are in the current file; every kept line is whole.
  simdjson::dom::parser parser;
  const auto current = lines_of(base);
  ASSERT_FALSE(current.empty());
  EXPECT_EQ(field(parse(parser, current.back()), "time"), iso8601_utc(total - 1));
  for (const std::string& path : {base + ".1", base + ".2", base + ".3"}) {
    for (const std::string& line : lines_of(path)) parse(parser, line);
  }
}

// The server and `greekwire keys` each have their own descriptor on the same file. When one
// rotates, the other notices (the path's inode changed) and follows.
TEST(AuditLog, TwoWritersShareAndRotate) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir.path();
  options.max_bytes = 600;
  options.keep_files = 20;
  AuditLog server(options);
  AuditLog keys(options);
  for (int i = 0; i < 40; ++i) {
    (i % 2 ? server : keys).record({"e", "acct", {}, {}, std::to_string(i), {}}, i);
  }
  std::vector<std::string> all;
  for (int n = 20; n >= 1; --n) {
    const std::string path = server.path().string() + "." + std::to_string(n);
    if (!std::filesystem::exists(path)) continue;
    for (const auto& line : lines_of(path)) all.push_back(line);
  }
  for (const auto& line : lines_of(server.path())) all.push_back(line);
  ASSERT_EQ(all.size(), 40u);
  simdjson::dom::parser parser;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(field(parse(parser, all[i]), "request_id"), std::to_string(i));
  }
}

TEST(AuditLog, ManyThreads) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir.path();
  AuditLog log(options);
  constexpr int kThreads = 4;
  constexpr int kEach = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      const std::string account = "account" + std::to_string(t);
      for (int i = 0; i < kEach; ++i) log.record({"order.cancel", account, {}, {}, {}, {}}, i);
    });
  }
  for (auto& thread : threads) thread.join();
  const auto lines = lines_of(log.path());
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kEach));
  simdjson::dom::parser parser;
  for (const auto& line : lines) parse(parser, line);
}

TEST(AuditLog, BackgroundWriterFlushesEverything) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir.path();
  options.background = true;
  options.max_bytes = 4096;  // rotation happens on the writer thread too
  options.keep_files = 50;
  AuditLog log(options);
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = std::to_string(t * kEach + i);
        log.record({"order.buy", "alice", {}, "127.0.0.1", id, {}}, i);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  log.flush();
  std::size_t lines = 0;
  simdjson::dom::parser parser;
  for (int n = 0; n <= options.keep_files; ++n) {
    const std::filesystem::path path =
        n == 0 ? log.path() : std::filesystem::path(log.path().string() + "." + std::to_string(n));
    if (!std::filesystem::exists(path)) continue;
    for (const auto& line : lines_of(path)) {
      EXPECT_EQ(field(parse(parser, line), "event"), "order.buy");
      ++lines;
    }
  }
  EXPECT_EQ(lines, static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(log.dropped(), 0u);
  EXPECT_EQ(log.write_errors(), 0u);
}

TEST(AuditLog, BackgroundQueueIsBoundedAndDrainedOnDestruction) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir.path();
  options.background = true;
  options.max_pending = 0;  // nothing may wait: every line is dropped, and counted
  {
    AuditLog log(options);
    for (int i = 0; i < 10; ++i) log.record({"order.sell", {}, {}, {}, {}, {}}, i);
    log.flush();
    EXPECT_EQ(log.dropped(), 10u);
  }
  EXPECT_TRUE(lines_of(dir.path() / "audit.log").empty());
  options.max_pending = 100'000;
  {
    AuditLog log(options);
    for (int i = 0; i < 500; ++i) log.record({"order.sell", {}, {}, {}, {}, {}}, i);
  }  // no flush: the destructor writes what is queued
  EXPECT_EQ(lines_of(dir.path() / "audit.log").size(), 500u);
}

// ---- order actions ---------------------------------------------------------------------------

struct ParsedRequest {
  gw::codec::RequestParser parser;
  gw::codec::Request request;
  explicit ParsedRequest(std::string_view text) {
    EXPECT_EQ(parser.parse(text, request), gw::codec::ParseError::none) << text;
  }
};

TEST(OrderAudit, OnlyOrderActions) {
  for (const char* method :
       {"private/buy", "private/sell", "private/edit", "private/cancel", "private/cancel_all",
        "private/cancel_all_by_currency", "private/cancel_all_by_instrument"}) {
    EXPECT_TRUE(is_order_action(method)) << method;
  }
  for (const char* method :
       {"private/get_order_state", "public/buy", "private/buyer", "private/subscribe", "buy", ""}) {
    EXPECT_FALSE(is_order_action(method)) << method;
  }
  ParsedRequest test(R"({"jsonrpc":"2.0","id":1,"method":"public/test"})");
  EXPECT_EQ(OrderAuditTrail::begin("public/test", test.request.params, "1.2.3.4", "1"), nullptr);
}

TEST(OrderAudit, RecordsTheRequestTheCallerAndTheOutcomeOnce) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir.path();
  AuditLog log(options);
  ParsedRequest buy(
      R"({"jsonrpc":"2.0","id":"a-7","method":"private/buy","params":{"instrument_name":)"
      R"("BTC-PERPETUAL","amount":20,"price":64999.5,"label":"bot \"1\"","type":"limit",)"
      R"("access_token":"1.secret"}})");
  auto trail = OrderAuditTrail::begin(buy.request.method, buy.request.params, "203.0.113.7",
                                      buy.request.id.json);
  ASSERT_NE(trail, nullptr);
  trail->set_caller("alice", "fo7WAPRm4P");
  trail->succeeded(&log, {{"order_id", "BTC-42"}, {"order_state", "open"}}, 1'700'000'000'123);
  EXPECT_TRUE(trail->written());
  trail->failed(&log, gw::codec::errors::order_not_found, {}, 1'700'000'000'124);  // ignored
  const auto lines = lines_of(log.path());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], R"({"time":"2023-11-14T22:13:20.123Z","event":"order.buy","account":"alice",)"
                      R"("client_id":"fo7WAPRm4P","ip":"203.0.113.7","request_id":"\"a-7\"",)"
                      R"("details":{"instrument_name":"BTC-PERPETUAL","type":"limit",)"
                      R"("label":"bot \"1\"","amount":"20","price":"64999.5","outcome":"ok",)"
                      R"("order_id":"BTC-42","order_state":"open"}})");
  EXPECT_EQ(lines[0].find("secret"), std::string::npos);  // tokens are never copied
}

TEST(OrderAudit, TheOutcomeDoesNotRepeatARequestedName) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir.path();
  AuditLog log(options);
  ParsedRequest cancel(
      R"({"jsonrpc":"2.0","id":3,"method":"private/cancel","params":{"order_id":"BTC-42"}})");
  auto trail = OrderAuditTrail::begin(cancel.request.method, cancel.request.params, {}, "3");
  trail->succeeded(&log, {{"order_id", "BTC-42"}, {"order_state", "cancelled"}}, 0);
  const auto lines = lines_of(log.path());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            R"({"time":"1970-01-01T00:00:00.000Z","event":"order.cancel","request_id":"3",)"
            R"("details":{"order_id":"BTC-42","outcome":"ok","order_state":"cancelled"}})");
}

TEST(OrderAudit, ErrorsNameTheCodeAndTheParameter) {
  TempDir dir;
  AuditLogOptions options;
  options.directory = dir.path();
  AuditLog log(options);
  ParsedRequest cancel(
      R"({"jsonrpc":"2.0","id":9,"method":"private/cancel","params":{"order_id":42}})");
  auto trail = OrderAuditTrail::begin(cancel.request.method, cancel.request.params, "10.0.0.1",
                                      cancel.request.id.json);
  ASSERT_NE(trail, nullptr);
  trail->failed(&log, gw::codec::errors::invalid_params, "order_id", 0);  // before any caller
  ParsedRequest all(R"({"jsonrpc":"2.0","id":10,"method":"private/cancel_all_by_currency",)"
                    R"("params":{"currency":"BTC","kind":"option"}})");
  auto cancel_all = OrderAuditTrail::begin(all.request.method, all.request.params, "10.0.0.1",
                                           all.request.id.json);
  cancel_all->set_caller("bob", {});
  cancel_all->failed(&log, gw::codec::errors::too_many_requests, {}, 0);
  const std::string long_label(300, 'x');
  ParsedRequest sell(R"({"jsonrpc":"2.0","id":11,"method":"private/sell","params":{"label":")" +
                     long_label + R"("}})");
  OrderAuditTrail::begin(sell.request.method, sell.request.params, "10.0.0.1", "11")
      ->failed(&log, gw::codec::errors::invalid_params, "label", 0);
  const auto lines = lines_of(log.path());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            R"({"time":"1970-01-01T00:00:00.000Z","event":"order.cancel","ip":"10.0.0.1",)"
            R"("request_id":"9","details":{"outcome":"error","error_code":"-32602",)"
            R"("error":"Invalid params","param":"order_id"}})");
  EXPECT_EQ(lines[1],
            R"({"time":"1970-01-01T00:00:00.000Z","event":"order.cancel_all_by_currency",)"
            R"("account":"bob","ip":"10.0.0.1","request_id":"10","details":{"currency":"BTC",)"
            R"("kind":"option","outcome":"error","error_code":"10028",)"
            R"("error":"too_many_requests"}})");
  EXPECT_NE(lines[2].find("\"label\":\"" + std::string(64, 'x') + "\""), std::string::npos);
  EXPECT_EQ(lines[2].find(std::string(65, 'x')), std::string::npos);
}

TEST(OrderAudit, ShortestNumbers) {
  EXPECT_EQ(audit_number(65000), "65000");
  EXPECT_EQ(audit_number(0.0445), "0.0445");
  EXPECT_EQ(audit_number(-1.5), "-1.5");
  EXPECT_EQ(audit_number(1e21), "1e+21");
}

}  // namespace
