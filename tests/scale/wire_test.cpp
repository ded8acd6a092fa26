// The scale-out wire format (scale/wire.hpp): forwarded calls and answers survive the trip,
// and what is malformed is refused with a reason, never half-read.
#include "scale/wire.hpp"

#include <gtest/gtest.h>

namespace gw::scale {
namespace {

WireCall sample_call() {
  WireCall w;
  w.request_id = "Xq1Zx-17";
  w.expires_at_ms = 1795736321246;
  w.call.request = R"({"jsonrpc":"2.0","id":5,"method":"private/buy","params":{"amount":10}})";
  w.call.authorization = "Bearer 1795736321246.abc";
  w.call.http_method = "POST";
  w.call.uri = "/api/v2/private/buy";
  w.call.body = w.call.request;
  w.call.peer = "203.0.113.7";
  w.call.connection_id = (std::uint64_t{0xabcdef} << 40) | 42;
  w.call.rate_limited = true;
  return w;
}

TEST(ScaleWire, CallRoundTrip) {
  const WireCall in = sample_call();
  std::string error;
  const auto out = decode_call(encode_call(in), &error);
  ASSERT_TRUE(out) << error;
  EXPECT_EQ(out->request_id, in.request_id);
  EXPECT_EQ(out->expires_at_ms, in.expires_at_ms);
  EXPECT_EQ(out->call.request, in.call.request);
  EXPECT_EQ(out->call.authorization, in.call.authorization);
  EXPECT_EQ(out->call.http_method, "POST");
  EXPECT_EQ(out->call.uri, in.call.uri);
  EXPECT_EQ(out->call.body, in.call.body);
  EXPECT_EQ(out->call.peer, in.call.peer);
  EXPECT_EQ(out->call.connection_id, in.call.connection_id);
  EXPECT_TRUE(out->call.rate_limited);
  EXPECT_FALSE(out->call.handshake);
  EXPECT_TRUE(out->call.certificate_sha256.empty());
}

TEST(ScaleWire, ClientCertificatesTravelWithTheCall) {
  WireCall in = sample_call();
  in.call.certificate_sha256 = std::string(64, 'a');
  std::string error;
  const auto out = decode_call(encode_call(in), &error);
  ASSERT_TRUE(out) << error;
  EXPECT_EQ(out->call.certificate_sha256, in.call.certificate_sha256);
}

TEST(ScaleWire, HandshakeCallsCarryNoRequest) {
  WireCall in;
  in.request_id = "Xq1Zx-18";
  in.call.handshake = true;
  in.call.authorization = "Basic Y2lkOnNlY3JldA==";
  in.call.http_method = "GET";
  in.call.uri = "/ws/api/v2";
  std::string error;
  const auto out = decode_call(encode_call(in), &error);
  ASSERT_TRUE(out) << error;
  EXPECT_TRUE(out->call.handshake);
  EXPECT_TRUE(out->call.request.empty());
  EXPECT_EQ(out->call.authorization, in.call.authorization);
  EXPECT_EQ(out->call.uri, "/ws/api/v2");
  // Without the flag, a call needs its request.
  EXPECT_FALSE(decode_call(R"({"id":"a-1","handshake":false})", &error));
}

TEST(ScaleWire, DisconnectsCarryTheirConnectionAndNoRequest) {
  WireCall in;
  in.request_id = "Xq1Zx-19";
  in.call.disconnect = true;
  in.call.connection_id = (0xabcdefull << 40) | 17;
  in.call.peer = "203.0.113.7";
  std::string error;
  const auto out = decode_call(encode_call(in), &error);
  ASSERT_TRUE(out) << error;
  EXPECT_TRUE(out->call.disconnect);
  EXPECT_FALSE(out->call.handshake);
  EXPECT_EQ(out->call.connection_id, in.call.connection_id);
  EXPECT_EQ(out->call.peer, "203.0.113.7");
  // Other calls are no disconnects; a disconnect without its connection is refused.
  in.call.disconnect = false;
  in.call.request = "{}";
  EXPECT_FALSE(decode_call(encode_call(in), &error)->call.disconnect);
  EXPECT_FALSE(decode_call(R"({"id":"a-1","disconnect":true})", &error));
  EXPECT_EQ(error, "a disconnect needs its connection_id");
}

TEST(ScaleWire, CallsWithoutIdOrRequestAreRefused) {
  std::string error;
  EXPECT_FALSE(decode_call(R"({"request":"{}"})", &error));
  EXPECT_NE(error.find("id"), std::string::npos);
  EXPECT_FALSE(decode_call(R"({"id":"a-1"})", &error));
  EXPECT_FALSE(decode_call(R"({"id":7,"request":"{}"})", &error));  // id must be a string
  EXPECT_FALSE(decode_call("not json", &error));
  EXPECT_FALSE(decode_call("", &error));
}

TEST(ScaleWire, AnswerRoundTripWithIdentity) {
  gateway::ForwardedAnswer in;
  in.delivered = true;
  in.response = R"({"jsonrpc":"2.0","id":1,"result":{"access_token":"t"}})";
  in.access_token = "t";
  gateway::Identity identity;
  identity.account_id = 3;
  identity.account = "carol";
  identity.client_id = "cid";
  identity.scopes = *gateway::Scopes::parse("session:bots trade:read account:read_write");
  identity.method = gateway::AuthMethod::client_signature;
  identity.session_id = 99;
  identity.expires_at_ms = 1795736321246;
  in.identity = identity;
  std::string error;
  const auto out = decode_answer(encode_answer(in), &error);
  ASSERT_TRUE(out) << error;
  EXPECT_TRUE(out->delivered);
  EXPECT_FALSE(out->is_error);
  EXPECT_EQ(out->http_status, 200);
  EXPECT_EQ(out->response, in.response);
  EXPECT_EQ(out->access_token, "t");
  ASSERT_TRUE(out->identity);
  EXPECT_EQ(out->identity->account_id, 3);
  EXPECT_EQ(out->identity->account, "carol");
  EXPECT_EQ(out->identity->client_id, "cid");
  EXPECT_EQ(out->identity->scopes.to_string(), identity.scopes.to_string());
  EXPECT_EQ(out->identity->scopes.binding, gateway::ScopeBinding::session);
  EXPECT_EQ(out->identity->method, gateway::AuthMethod::client_signature);
  EXPECT_EQ(out->identity->session_id, 99u);
  EXPECT_EQ(out->identity->expires_at_ms, 1795736321246);
}

TEST(ScaleWire, ErrorAnswersKeepTheirStatus) {
  gateway::ForwardedAnswer in;
  in.response = R"({"jsonrpc":"2.0","id":1,"error":{"code":10028,"message":"too_many_requests"}})";
  in.is_error = true;
  in.http_status = 429;
  std::string error;
  const auto out = decode_answer(encode_answer(in), &error);
  ASSERT_TRUE(out) << error;
  EXPECT_TRUE(out->is_error);
  EXPECT_EQ(out->http_status, 429);
  EXPECT_FALSE(out->identity);
}

TEST(ScaleWire, MalformedAnswersAndIdentitiesAreRefused) {
  std::string error;
  EXPECT_FALSE(decode_answer(R"({"is_error":false})", &error));  // no response
  EXPECT_FALSE(decode_answer(R"({"response":""})", &error));
  EXPECT_FALSE(decode_answer("[", &error));
  // An identity that does not parse is dropped, not half-read: the edge then does not
  // authenticate the connection (its next private request is the venue's to refuse).
  const auto bad_scope = decode_answer(
      R"({"response":"{}","identity":{"account_id":1,"scope":"trade:sometimes","method":0}})",
      &error);
  ASSERT_TRUE(bad_scope);
  EXPECT_FALSE(bad_scope->identity);
  const auto bad_method = decode_answer(
      R"({"response":"{}","identity":{"account_id":1,"scope":"trade:read","method":99}})", &error);
  ASSERT_TRUE(bad_method);
  EXPECT_FALSE(bad_method->identity);
  const auto no_account =
      decode_answer(R"({"response":"{}","identity":{"scope":"trade:read","method":0}})", &error);
  ASSERT_TRUE(no_account);
  EXPECT_FALSE(no_account->identity);
}

TEST(ScaleWire, StreamMessages) {
  std::string error;
  const auto m = decode_stream_message(
      R"({"epoch":"3f9c","seq":48213,"channel":"book.BTC-PERPETUAL.raw","data":{"change_id":7}})",
      &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->epoch, "3f9c");
  EXPECT_EQ(m->seq, 48213u);
  EXPECT_EQ(m->channel, "book.BTC-PERPETUAL.raw");
  EXPECT_EQ(m->data["change_id"].as_int(), 7);
  for (const char* bad : {
           R"({"seq":1,"channel":"c","data":1})",                // no epoch
           R"({"epoch":"e","seq":0,"channel":"c","data":1})",    // seq 0
           R"({"epoch":"e","seq":"1","channel":"c","data":1})",  // seq not a number
           R"({"epoch":"e","seq":1.5,"channel":"c","data":1})",  // seq not an integer
           R"({"epoch":"e","seq":1,"channel":2,"data":1})",      // channel not a string
           R"({"epoch":"e","seq":1,"channel":"c"})",             // no data
           R"([1,2])",
           "",
       }) {
    EXPECT_FALSE(decode_stream_message(bad, &error)) << bad;
  }
}

}  // namespace
}  // namespace gw::scale
