// Response, error, notification and heartbeat messages: Deribit's member order byte for byte in
// JSON, the same trees in MessagePack, ids echoed exactly, and the error table.
#include "codec/response.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "codec/json_writer.hpp"
#include "codec/msgpack_writer.hpp"
#include "codec/tree.hpp"

namespace {

using namespace gw::codec;
using gw::codec::test::canonical_json;
using gw::codec::test::canonical_msgpack;

const ResponseMeta kMeta{.us_in = 1699999999999100, .us_out = 1699999999999900, .testnet = false};

RequestId parse_id(RequestParser& parser, Request& r, std::string_view text) {
  EXPECT_EQ(parser.parse(text, r), ParseError::none) << text;
  return r.id;
}

// Writes `message` with both writers; checks the JSON text and that both trees are equal.
template <class F>
void expect_both(F&& message, std::string_view expected_json) {
  std::string json, msgpack;
  {
    JsonWriter w(json);
    message(w);
  }
  {
    MsgpackWriter w(msgpack);
    message(w);
  }
  EXPECT_EQ(json, expected_json);
  EXPECT_EQ(canonical_msgpack(msgpack), canonical_json(json));
}

TEST(Response, ResultInDeribitOrder) {
  RequestParser parser;
  Request r;
  const RequestId id = parse_id(parser, r, R"({"id":1,"method":"public/set_heartbeat"})");
  expect_both([&](auto& w) { write_result(w, id, kMeta, [](auto& v) { v.value("ok"); }); },
              R"({"jsonrpc":"2.0","id":1,"result":"ok","usIn":1699999999999100,)"
              R"("usOut":1699999999999900,"usDiff":800,"testnet":false})");
}

TEST(Response, AuthResultLikeTheReference) {
  RequestParser parser;
  Request r;
  const RequestId id = parse_id(parser, r, R"({"id":1,"method":"public/auth"})");
  auto result = [](auto& w) {
    w.begin_object(6);
    w.key("access_token");
    w.value("1582628593469.1MbQ-J_4...");
    w.key("expires_in");
    w.value(31536000);
    w.key("refresh_token");
    w.value("1582628593469.1GP4rQd0...");
    w.key("scope");
    w.value("connection mainaccount");
    w.key("enabled_features");
    w.begin_array(0);
    w.end_array();
    w.key("token_type");
    w.value("bearer");
    w.end_object();
  };
  expect_both([&](auto& w) { write_result(w, id, kMeta, result); },
              R"({"jsonrpc":"2.0","id":1,"result":{"access_token":"1582628593469.1MbQ-J_4...",)"
              R"("expires_in":31536000,"refresh_token":"1582628593469.1GP4rQd0...",)"
              R"("scope":"connection mainaccount","enabled_features":[],"token_type":"bearer"},)"
              R"("usIn":1699999999999100,"usOut":1699999999999900,"usDiff":800,"testnet":false})");
}

TEST(Response, IdsEchoedByteForByte) {
  RequestParser parser;
  Request r;
  for (std::string_view id : {R"("101")", "42", R"("a\/b\u00E9")", "null", "-9223372036854775808",
                              "18446744073709551615"}) {
    const std::string text = R"({"method":"public/test","id":)" + std::string(id) + "}";
    const RequestId parsed = parse_id(parser, r, text);
    std::string json;
    JsonWriter w(json);
    write_result(w, parsed, kMeta, [](auto& v) { v.null(); });
    EXPECT_EQ(json.substr(0, 23 + id.size()), R"({"jsonrpc":"2.0","id":)" + std::string(id) + ",")
        << json;
    // In MessagePack the id is its value: the string unescaped, integers as integers.
    std::string msgpack;
    MsgpackWriter m(msgpack);
    write_result(m, parsed, kMeta, [](auto& v) { v.null(); });
    EXPECT_EQ(canonical_msgpack(msgpack), canonical_json(json));
  }
}

TEST(Response, NoIdWhenTheRequestHadNone) {
  RequestParser parser;
  Request r;
  const RequestId id = parse_id(parser, r, R"({"method":"public/test"})");
  expect_both(
      [&](auto& w) { write_result(w, id, kMeta, [](auto& v) { v.value(std::int64_t{7}); }); },
      R"({"jsonrpc":"2.0","result":7,"usIn":1699999999999100,"usOut":1699999999999900,)"
      R"("usDiff":800,"testnet":false})");
}

TEST(Response, NotJsonIsBadRequestWithoutId) {
  RequestParser parser;
  Request r;
  const ParseError e = parser.parse("this is not json", r);
  ASSERT_EQ(e, ParseError::invalid_json);
  expect_both([&](auto& w) { write_error(w, r.id, kMeta, rpc_error(e)); },
              R"({"jsonrpc":"2.0","error":{"code":11050,"message":"bad_request",)"
              R"("data":"invalid json"},"usIn":1699999999999100,"usOut":1699999999999900,)"
              R"("usDiff":800,"testnet":false})");
}

TEST(Response, BatchIsInvalidRequest) {
  RequestParser parser;
  Request r;
  const ParseError e = parser.parse(R"([{"id":1,"method":"public/test"}])", r);
  expect_both([&](auto& w) { write_error(w, r.id, kMeta, rpc_error(e)); },
              R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request",)"
              R"("data":"batch requests are not supported"},"usIn":1699999999999100,)"
              R"("usOut":1699999999999900,"usDiff":800,"testnet":false})");
}

TEST(Response, StructuralErrorEchoesTheId) {
  RequestParser parser;
  Request r;
  const ParseError e = parser.parse(R"({"id":"x1","params":{}})", r);
  ASSERT_EQ(e, ParseError::missing_method);
  std::string json;
  JsonWriter w(json);
  write_error(w, r.id, kMeta, rpc_error(e));
  EXPECT_EQ(json.substr(0, 28), R"({"jsonrpc":"2.0","id":"x1",")");
}

TEST(Response, ErrorWithoutData) {
  RequestParser parser;
  Request r;
  const RequestId id = parse_id(parser, r, R"({"id":8,"method":"public/nope"})");
  expect_both([&](auto& w) { write_error(w, id, kMeta, errors::method_not_found); },
              R"({"jsonrpc":"2.0","id":8,"error":{"code":-32601,"message":"Method not found"},)"
              R"("usIn":1699999999999100,"usOut":1699999999999900,"usDiff":800,"testnet":false})");
}

TEST(Response, InvalidParamsNamesTheParameter) {
  RequestParser parser;
  Request r;
  const RequestId id =
      parse_id(parser, r, R"({"id":3,"method":"private/buy","params":{"amount":"x"}})");
  const ParamStatus status = r.params.get_double("amount").status;
  ASSERT_EQ(status, ParamStatus::wrong_type);
  expect_both([&](auto& w) { write_param_error(w, id, kMeta, "amount", status); },
              R"({"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"Invalid params",)"
              R"("data":{"reason":"wrong format","param":"amount"}},"usIn":1699999999999100,)"
              R"("usOut":1699999999999900,"usDiff":800,"testnet":false})");
  std::string json;
  JsonWriter w(json);
  write_param_error(w, id, kMeta, "instrument_name", r.params.get_string("instrument_name").status);
  EXPECT_NE(json.find(R"("data":{"reason":"missing","param":"instrument_name"})"),
            std::string::npos);
}

TEST(Response, UnauthorizedWithReason) {
  RequestParser parser;
  Request r;
  const RequestId id = parse_id(parser, r, R"({"id":"s1","method":"private/subscribe"})");
  auto data = [](auto& w) {
    w.begin_object(1);
    w.key("reason");
    w.value("invalid_token");
    w.end_object();
  };
  expect_both([&](auto& w) { write_error(w, id, kMeta, errors::unauthorized, data); },
              R"({"jsonrpc":"2.0","id":"s1","error":{"code":13009,"message":"unauthorized",)"
              R"("data":{"reason":"invalid_token"}},"usIn":1699999999999100,)"
              R"("usOut":1699999999999900,"usDiff":800,"testnet":false})");
}

TEST(Response, BookChangeNotificationLikeDeribit) {
  // The reference's captured frame, written through the builders.
  auto data = [](auto& w) {
    w.begin_object(7);
    w.key("type");
    w.value("change");
    w.key("timestamp");
    w.value(std::int64_t{1626993724318});
    w.key("prev_change_id");
    w.value(std::int64_t{33195894164});
    w.key("instrument_name");
    w.value("BTC-24SEP21-8000-P");
    w.key("change_id");
    w.value(std::int64_t{33195894355});
    w.key("bids");
    w.begin_array(0);
    w.end_array();
    w.key("asks");
    w.begin_array(1);
    w.begin_array(3);
    w.value("new");
    w.value(0.001);
    w.value(2.6);
    w.end_array();
    w.end_array();
    w.end_object();
  };
  expect_both([&](auto& w) { write_notification(w, "book.BTC-24SEP21-8000-P.raw", data); },
              R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":)"
              R"("book.BTC-24SEP21-8000-P.raw","data":{"type":"change","timestamp":1626993724318,)"
              R"("prev_change_id":33195894164,"instrument_name":"BTC-24SEP21-8000-P",)"
              R"("change_id":33195894355,"bids":[],"asks":[["new",0.001,2.6]]}}})");
}

TEST(Response, Heartbeats) {
  expect_both([](auto& w) { write_heartbeat(w); },
              R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}})");
  expect_both([](auto& w) { write_test_request(w); },
              R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})");
}

TEST(Response, RequestsParseBack) {
  std::string json;
  JsonWriter w(json);
  write_request(w, 5275, "private/buy", [](auto& p) {
    p.begin_object(2);
    p.key("instrument_name");
    p.value("ETH-PERPETUAL");
    p.key("amount");
    p.value(std::int64_t{40});
    p.end_object();
  });
  EXPECT_EQ(json, R"({"jsonrpc":"2.0","id":5275,"method":"private/buy","params":)"
                  R"({"instrument_name":"ETH-PERPETUAL","amount":40}})");
  RequestParser parser;
  Request r;
  ASSERT_EQ(parser.parse(json, r), ParseError::none);
  EXPECT_EQ(r.params.get_double("amount").value, 40.0);
}

TEST(Errors, TableIsConsistent) {
  EXPECT_EQ(errors::authorization_required.code, 10000);
  EXPECT_EQ(errors::too_many_requests.message, "too_many_requests");
  EXPECT_EQ(errors::bad_request.code, 11050);
  EXPECT_EQ(errors::unauthorized.code, 13009);
  EXPECT_EQ(errors::raw_subscriptions_not_available_for_unauthorized.code, 13778);
  EXPECT_EQ(errors::parse_error.code, -32700);
  EXPECT_EQ(errors::missing_params.message, "Missing params");
  std::set<int> codes;
  for (const ErrorCode& e : errors::all) {
    EXPECT_TRUE(codes.insert(e.code).second) << e.code;
    EXPECT_EQ(error_message(e.code), e.message);
  }
  EXPECT_EQ(codes.size(), 40u);
  EXPECT_TRUE(error_message(12345).empty());
  static_assert(error_message(10009) == "not_enough_funds");
}

}  // namespace
