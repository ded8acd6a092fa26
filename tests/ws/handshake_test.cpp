// RFC 6455 §4 opening handshake, both roles: each rule of the RFC as its own test.
#include "ws/handshake.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "http/parser.hpp"

namespace gw::ws {
namespace {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// A parsed response together with the bytes its views point into.
struct ParsedResponse {
  std::string text;
  http::Response head;
  std::string body;
};

std::unique_ptr<ParsedResponse> parse_answer(const std::string& text) {
  auto parsed = std::make_unique<ParsedResponse>();
  parsed->text = text;
  const http::ParseResult result = http::parse_response(parsed->text, parsed->head);
  EXPECT_EQ(result.status, http::ParseStatus::complete) << text;
  parsed->body = parsed->text.substr(result.head_length);
  return parsed;
}

// ---- accept key ----

TEST(AcceptKey, Rfc6455Section1_3Example) {
  EXPECT_EQ(accept_key(kRfcKey), kRfcAccept);
}

TEST(AcceptKey, AnotherKnownVector) {
  EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

// ---- server role ----

// Builds the RFC 6455 §1.3 client request, which each test then bends in one place.
class ServerHandshakeTest : public ::testing::Test {
 protected:
  void set(const std::string& name, const std::string& value) {
    remove(name);
    headers_.emplace_back(name, value);
  }
  void add(const std::string& name, const std::string& value) {
    headers_.emplace_back(name, value);
  }
  void remove(const std::string& name) {
    std::erase_if(headers_, [&](const auto& h) { return http::iequals(h.first, name); });
  }

  ServerHandshake run() {
    text_ = request_line_ + "\r\n";
    for (const auto& [name, value] : headers_) text_ += name + ": " + value + "\r\n";
    text_ += "\r\n";
    request_ = http::Request{};
    EXPECT_EQ(http::parse_request(text_, request_).status, http::ParseStatus::complete) << text_;
    return accept_upgrade(request_, options_);
  }

  // Runs and checks the request was refused with `status`, a complete closing HTTP answer
  // whose plain-text body explains why.
  ServerHandshake expect_refused(int status) {
    ServerHandshake result = run();
    EXPECT_FALSE(result.accepted);
    EXPECT_EQ(result.status, status);
    EXPECT_FALSE(result.error.empty());
    answer_ = parse_answer(result.response);
    EXPECT_EQ(answer_->head.status, status);
    EXPECT_EQ(answer_->head.headers.get("Connection"), "close");
    EXPECT_EQ(answer_->head.headers.get("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(answer_->head.headers.get("Content-Length"), std::to_string(answer_->body.size()));
    EXPECT_EQ(answer_->body, result.error + "\n");
    EXPECT_EQ(answer_->head.headers.count_of("Sec-WebSocket-Accept"), 0u);
    return result;
  }

  ServerHandshake expect_accepted() {
    ServerHandshake result = run();
    EXPECT_TRUE(result.accepted) << result.error;
    EXPECT_EQ(result.status, 101);
    answer_ = parse_answer(result.response);
    EXPECT_EQ(answer_->head.status, 101);
    EXPECT_TRUE(answer_->body.empty());
    return result;
  }

  std::string request_line_ = "GET /chat HTTP/1.1";
  HeaderPairs headers_ = {{"Host", "server.example.com"},   {"Upgrade", "websocket"},
                          {"Connection", "Upgrade"},        {"Sec-WebSocket-Key", kRfcKey},
                          {"Origin", "http://example.com"}, {"Sec-WebSocket-Version", "13"}};
  ServerHandshakeOptions options_;
  std::string text_;
  http::Request request_;
  std::unique_ptr<ParsedResponse> answer_;
};

TEST_F(ServerHandshakeTest, AcceptsTheRfcExample) {
  const ServerHandshake result = expect_accepted();
  EXPECT_TRUE(result.error.empty());
  EXPECT_TRUE(result.subprotocol.empty());
  EXPECT_TRUE(result.extensions.empty());
  const http::HeaderList& h = answer_->head.headers;
  EXPECT_EQ(h.get("Upgrade"), "websocket");
  EXPECT_EQ(h.get("Connection"), "Upgrade");
  EXPECT_EQ(h.get("Sec-WebSocket-Accept"), kRfcAccept);
  EXPECT_EQ(h.count_of("Sec-WebSocket-Protocol"), 0u);
  EXPECT_EQ(h.count_of("Sec-WebSocket-Extensions"), 0u);
  EXPECT_EQ(h.count_of("Content-Length"), 0u);  // a 101 has no body framing
  EXPECT_EQ(h.count_of("Connection"), 1u);
}

TEST_F(ServerHandshakeTest, ResponseIsExactlyTheRfcAnswer) {
  const ServerHandshake result = expect_accepted();
  EXPECT_EQ(result.response,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

TEST_F(ServerHandshakeTest, PostIs405WithAllow) {
  request_line_ = "POST /chat HTTP/1.1";
  expect_refused(405);
  EXPECT_EQ(answer_->head.headers.get("Allow"), "GET");
}

TEST_F(ServerHandshakeTest, HeadIs405) {
  request_line_ = "HEAD /chat HTTP/1.1";
  expect_refused(405);
}

TEST_F(ServerHandshakeTest, MethodIsCaseSensitive) {
  request_line_ = "get /chat HTTP/1.1";
  expect_refused(405);
}

TEST_F(ServerHandshakeTest, Http10Is400) {
  request_line_ = "GET /chat HTTP/1.0";
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, MissingHostIs400) {
  remove("Host");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, DuplicateHostIs400) {
  add("Host", "evil.example.com");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, MissingUpgradeIs400) {
  remove("Upgrade");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, OtherUpgradeIs400) {
  set("Upgrade", "h2c");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, UpgradeListWithWebsocketIsAccepted) {
  set("Upgrade", "foo/2, websocket");
  expect_accepted();
}

TEST_F(ServerHandshakeTest, MissingConnectionIs400) {
  remove("Connection");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, ConnectionKeepAliveOnlyIs400) {
  set("Connection", "keep-alive");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, ConnectionListWithUpgradeIsAccepted) {
  // What Firefox sends.
  set("Connection", "keep-alive, Upgrade");
  expect_accepted();
}

TEST_F(ServerHandshakeTest, ConnectionTokenOnSecondLineIsAccepted) {
  set("Connection", "keep-alive");
  add("Connection", "upgrade");
  expect_accepted();
}

TEST_F(ServerHandshakeTest, MixedCaseTokensAndNamesAreAccepted) {
  remove("Upgrade");
  remove("Connection");
  add("uPgRaDe", "WebSocket");
  add("CONNECTION", "UPGRADE");
  remove("Sec-WebSocket-Key");
  add("sec-websocket-key", kRfcKey);
  expect_accepted();
  EXPECT_EQ(answer_->head.headers.get("Sec-WebSocket-Accept"), kRfcAccept);
}

TEST_F(ServerHandshakeTest, Version8Is426WithSupportedVersion) {
  set("Sec-WebSocket-Version", "8");
  expect_refused(426);
  EXPECT_EQ(answer_->head.headers.get("Sec-WebSocket-Version"), "13");
  EXPECT_EQ(answer_->head.reason, "Upgrade Required");
}

TEST_F(ServerHandshakeTest, MissingVersionIs426) {
  remove("Sec-WebSocket-Version");
  expect_refused(426);
  EXPECT_EQ(answer_->head.headers.get("Sec-WebSocket-Version"), "13");
}

TEST_F(ServerHandshakeTest, VersionListIs426) {
  set("Sec-WebSocket-Version", "13, 8");
  expect_refused(426);
}

TEST_F(ServerHandshakeTest, DuplicateVersionIs426) {
  add("Sec-WebSocket-Version", "13");
  expect_refused(426);
}

TEST_F(ServerHandshakeTest, MissingKeyIs400) {
  remove("Sec-WebSocket-Key");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, ShortKeyIs400) {
  set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA");  // 15 bytes
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, FifteenBytesPaddedTo24CharsIs400) {
  set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA====");  // 24 chars, but 15 bytes + junk pad
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, LongKeyIs400) {
  set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA=");  // 17 bytes
  expect_refused(400);
  set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAAA");  // 18 bytes
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, UnpaddedKeyIs400) {
  set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, NonBase64KeyIs400) {
  set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ!=");
  expect_refused(400);
  set("Sec-WebSocket-Key", "dGhlIHNhbXBs ZSBub25jZQ=");
  expect_refused(400);
  set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j-Q==");  // base64url alphabet
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, NonCanonicalKeyIs400) {
  // 'R' instead of 'Q' sets one of the unused low bits of the last symbol.
  set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZR==");
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, DuplicateKeyIs400) {
  add("Sec-WebSocket-Key", kRfcKey);
  expect_refused(400);
}

TEST_F(ServerHandshakeTest, KeyWithSurroundingWhitespaceIsTrimmedByTheParser) {
  set("Sec-WebSocket-Key", std::string("  ") + kRfcKey + "\t");
  expect_accepted();
  EXPECT_EQ(answer_->head.headers.get("Sec-WebSocket-Accept"), kRfcAccept);
}

TEST_F(ServerHandshakeTest, AllowedOriginIsAccepted) {
  options_.allowed_origins = {"https://trade.example.com", "http://example.com"};
  expect_accepted();
}

TEST_F(ServerHandshakeTest, OriginComparisonIgnoresCase) {
  options_.allowed_origins = {"https://Trade.Example.com"};
  set("Origin", "HTTPS://trade.example.COM");
  expect_accepted();
}

TEST_F(ServerHandshakeTest, OtherOriginIs403) {
  options_.allowed_origins = {"https://trade.example.com"};
  set("Origin", "https://evil.example.com");
  expect_refused(403);
}

TEST_F(ServerHandshakeTest, OriginPortAndSchemeMatter) {
  options_.allowed_origins = {"https://trade.example.com"};
  set("Origin", "https://trade.example.com:8443");
  expect_refused(403);
  set("Origin", "http://trade.example.com");
  expect_refused(403);
  set("Origin", "null");
  expect_refused(403);
}

TEST_F(ServerHandshakeTest, DuplicateOriginIs403) {
  options_.allowed_origins = {"http://example.com"};
  add("Origin", "http://example.com");
  expect_refused(403);
}

TEST_F(ServerHandshakeTest, MissingOriginIsAccepted) {
  options_.allowed_origins = {"https://trade.example.com"};
  remove("Origin");
  expect_accepted();
}

TEST_F(ServerHandshakeTest, EmptyAllowListAcceptsAnyOrigin) {
  set("Origin", "https://anything.example");
  expect_accepted();
}

TEST_F(ServerHandshakeTest, SubprotocolFollowsServerPreference) {
  options_.subprotocols = {"v2.greekwire", "v1.greekwire"};
  add("Sec-WebSocket-Protocol", "v1.greekwire, v2.greekwire");
  const ServerHandshake result = expect_accepted();
  EXPECT_EQ(result.subprotocol, "v2.greekwire");
  EXPECT_EQ(answer_->head.headers.get("Sec-WebSocket-Protocol"), "v2.greekwire");
}

TEST_F(ServerHandshakeTest, SubprotocolFromAnyHeaderLine) {
  options_.subprotocols = {"chat"};
  add("Sec-WebSocket-Protocol", "superchat");
  add("Sec-WebSocket-Protocol", "other, chat");
  EXPECT_EQ(expect_accepted().subprotocol, "chat");
}

TEST_F(ServerHandshakeTest, NoCommonSubprotocolAcceptsWithoutOne) {
  options_.subprotocols = {"chat"};
  add("Sec-WebSocket-Protocol", "superchat, chatty");
  EXPECT_EQ(expect_accepted().subprotocol, "");
  EXPECT_EQ(answer_->head.headers.count_of("Sec-WebSocket-Protocol"), 0u);
}

TEST_F(ServerHandshakeTest, SubprotocolsAreCaseSensitive) {
  options_.subprotocols = {"chat"};
  add("Sec-WebSocket-Protocol", "Chat");
  EXPECT_EQ(expect_accepted().subprotocol, "");
}

TEST_F(ServerHandshakeTest, ServerWithoutSubprotocolsIgnoresTheOffer) {
  add("Sec-WebSocket-Protocol", "chat");
  EXPECT_EQ(expect_accepted().subprotocol, "");
  EXPECT_EQ(answer_->head.headers.count_of("Sec-WebSocket-Protocol"), 0u);
}

TEST_F(ServerHandshakeTest, ClientWithoutSubprotocolsGetsNone) {
  options_.subprotocols = {"chat"};
  EXPECT_EQ(expect_accepted().subprotocol, "");
}

TEST_F(ServerHandshakeTest, ExtensionHookGetsAllOffersAndItsAnswerIsEchoed) {
  std::string seen;
  options_.negotiate_extensions = [&](std::string_view offers) {
    seen = offers;
    return std::string("permessage-deflate; server_no_context_takeover");
  };
  add("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
  add("Sec-WebSocket-Extensions", "x-webkit-deflate-frame");
  const ServerHandshake result = expect_accepted();
  EXPECT_EQ(seen, "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame");
  EXPECT_EQ(result.extensions, "permessage-deflate; server_no_context_takeover");
  EXPECT_EQ(answer_->head.headers.get("Sec-WebSocket-Extensions"),
            "permessage-deflate; server_no_context_takeover");
}

TEST_F(ServerHandshakeTest, ExtensionHookDecliningSendsNoHeader) {
  options_.negotiate_extensions = [](std::string_view) { return std::string(); };
  add("Sec-WebSocket-Extensions", "x-unknown");
  EXPECT_EQ(expect_accepted().extensions, "");
  EXPECT_EQ(answer_->head.headers.count_of("Sec-WebSocket-Extensions"), 0u);
}

TEST_F(ServerHandshakeTest, ExtensionHookNotCalledWithoutOffers) {
  bool called = false;
  options_.negotiate_extensions = [&](std::string_view) {
    called = true;
    return std::string("permessage-deflate");
  };
  EXPECT_EQ(expect_accepted().extensions, "");
  EXPECT_FALSE(called);
}

TEST_F(ServerHandshakeTest, ExtensionsIgnoredWithoutHook) {
  add("Sec-WebSocket-Extensions", "permessage-deflate");
  EXPECT_EQ(expect_accepted().extensions, "");
  EXPECT_EQ(answer_->head.headers.count_of("Sec-WebSocket-Extensions"), 0u);
}

TEST_F(ServerHandshakeTest, ExtraHeadersGoIntoThe101) {
  options_.extra_headers = {{"Server", "greekwire"}, {"X-Session", "abc"}};
  expect_accepted();
  EXPECT_EQ(answer_->head.headers.get("Server"), "greekwire");
  EXPECT_EQ(answer_->head.headers.get("X-Session"), "abc");
}

TEST_F(ServerHandshakeTest, ExtraHeadersAreNotAddedToRefusals) {
  options_.extra_headers = {{"X-Session", "abc"}};
  remove("Host");
  expect_refused(400);
  EXPECT_EQ(answer_->head.headers.count_of("X-Session"), 0u);
}

TEST_F(ServerHandshakeTest, MethodIsCheckedFirst) {
  request_line_ = "POST /chat HTTP/1.0";
  remove("Upgrade");
  expect_refused(405);
}

TEST_F(ServerHandshakeTest, IsUpgradeRequest) {
  run();
  EXPECT_TRUE(is_upgrade_request(request_));
  set("Upgrade", "WebSocket");
  run();
  EXPECT_TRUE(is_upgrade_request(request_));
  set("Upgrade", "h2c");
  run();
  EXPECT_FALSE(is_upgrade_request(request_));
  remove("Upgrade");
  run();
  EXPECT_FALSE(is_upgrade_request(request_));
}

// ---- client role: URLs ----

TEST(ParseUrl, PlainHost) {
  const auto url = parse_url("ws://example.com");
  ASSERT_TRUE(url);
  EXPECT_FALSE(url->secure);
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->resource, "/");
  EXPECT_EQ(url->host_header, "example.com");
}

TEST(ParseUrl, PortPathAndQuery) {
  const auto url = parse_url("ws://localhost:9001/runCase?case=1&agent=gw");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 9001);
  EXPECT_EQ(url->resource, "/runCase?case=1&agent=gw");
  EXPECT_EQ(url->host_header, "localhost:9001");
}

TEST(ParseUrl, QueryWithoutPath) {
  const auto url = parse_url("ws://h?x=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "h");
  EXPECT_EQ(url->resource, "/?x=1");
}

TEST(ParseUrl, SecureDefaultsTo443) {
  const auto url = parse_url("wss://stream.example.com/ws/v2");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->secure);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->resource, "/ws/v2");
  EXPECT_EQ(url->host_header, "stream.example.com");
}

TEST(ParseUrl, DefaultPortIsOmittedFromHostHeader) {
  EXPECT_EQ(parse_url("ws://h:80/")->host_header, "h");
  EXPECT_EQ(parse_url("wss://h:443/")->host_header, "h");
  EXPECT_EQ(parse_url("ws://h:443/")->host_header, "h:443");
  EXPECT_EQ(parse_url("wss://h:80/")->host_header, "h:80");
}

TEST(ParseUrl, Ipv6Literal) {
  const auto url = parse_url("ws://[::1]:9001/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9001);
  EXPECT_EQ(url->resource, "/");
  EXPECT_EQ(url->host_header, "[::1]:9001");
  const auto plain = parse_url("wss://[2001:db8::7]");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "2001:db8::7");
  EXPECT_EQ(plain->host_header, "[2001:db8::7]");
}

TEST(ParseUrl, SchemeIsCaseInsensitive) {
  const auto url = parse_url("WSS://h/");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->secure);
}

TEST(ParseUrl, MaxPort) {
  EXPECT_EQ(parse_url("ws://h:65535")->port, 65535);
}

TEST(ParseUrl, Rejects) {
  for (const char* text : {"http://example.com/",
                           "https://h/",
                           "ftp://h/",
                           "example.com",
                           "ws:/h",
                           "ws:h",
                           "ws://h#frag",
                           "ws://h/path#frag",
                           "ws://",
                           "ws:///path",
                           "ws://:9001/",
                           "ws://h:0/",
                           "ws://h:65536/",
                           "ws://h:99999999999/",
                           "ws://h:abc/",
                           "ws://h:/",
                           "ws://h:-1/",
                           "ws://h:+80/",
                           "ws://[::1",
                           "ws://[::1]x/",
                           "ws://[]/",
                           "ws://[zz::1]/",
                           "ws://user@h/",
                           "ws://h/a b",
                           "ws://h/\x01",
                           "ws://ho st/",
                           ""}) {
    std::string error;
    EXPECT_FALSE(parse_url(text, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  EXPECT_FALSE(parse_url("ws://h:0/"));  // error pointer is optional
}

// ---- client role: request and verification ----

TEST(ClientRequest, KeyIsSixteenRandomBytesInBase64) {
  std::set<std::string> keys;
  for (int i = 0; i < 32; ++i) {
    const std::string key = make_client_key();
    EXPECT_EQ(key.size(), 24u);
    EXPECT_EQ(key.substr(22), "==");
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 32u);
}

TEST(ClientRequest, RequestHead) {
  const Url url = *parse_url("ws://h:9001/feed?x=1");
  ClientHandshakeOptions options;
  options.origin = "https://app.example.com";
  options.subprotocols = {"v2.greekwire", "v1.greekwire"};
  options.extensions = "permessage-deflate; client_max_window_bits";
  options.headers = {{"Authorization", "Bearer t0ken"}};
  const std::string text = build_client_request(url, kRfcKey, options);

  http::Request request;
  const http::ParseResult result = http::parse_request(text, request);
  ASSERT_EQ(result.status, http::ParseStatus::complete);
  EXPECT_EQ(result.head_length, text.size());
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/feed?x=1");
  EXPECT_EQ(request.version_minor, 1);
  const http::HeaderList& h = request.headers;
  EXPECT_EQ(h.get("Host"), "h:9001");
  EXPECT_EQ(h.get("Upgrade"), "websocket");
  EXPECT_EQ(h.get("Connection"), "Upgrade");
  EXPECT_EQ(h.get("Sec-WebSocket-Key"), kRfcKey);
  EXPECT_EQ(h.get("Sec-WebSocket-Version"), "13");
  EXPECT_EQ(h.get("Origin"), "https://app.example.com");
  EXPECT_EQ(h.get("Sec-WebSocket-Protocol"), "v2.greekwire, v1.greekwire");
  EXPECT_EQ(h.get("Sec-WebSocket-Extensions"), "permessage-deflate; client_max_window_bits");
  EXPECT_EQ(h.get("Authorization"), "Bearer t0ken");
}

TEST(ClientRequest, MinimalRequestHasNoOptionalHeaders) {
  const std::string text = build_client_request(*parse_url("ws://h"), kRfcKey, {});
  EXPECT_EQ(text,
            "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
}

TEST(ClientRequest, ExtraHeaderValuesCannotSplitTheRequest) {
  ClientHandshakeOptions options;
  options.headers = {{"Authorization", "x\r\nHost: evil"}};
  const std::string text = build_client_request(*parse_url("ws://h"), kRfcKey, options);
  http::Request request;
  ASSERT_EQ(http::parse_request(text, request).status, http::ParseStatus::complete);
  EXPECT_EQ(request.headers.count_of("Host"), 1u);
}

// Client request → server accept_upgrade → client verification, over the real bytes.
TEST(ClientRequest, RoundTripAgainstTheServer) {
  const Url url = *parse_url("wss://h/ws");
  const std::string key = make_client_key();
  ClientHandshakeOptions client;
  client.subprotocols = {"v1.greekwire", "v2.greekwire"};
  client.extensions = "permessage-deflate";
  client.origin = "https://app.example.com";
  std::string verified;
  client.verify_extensions = [&](std::string_view answer) {
    verified = answer;
    return std::string();
  };
  const std::string request_text = build_client_request(url, key, client);

  http::Request request;
  ASSERT_EQ(http::parse_request(request_text, request).status, http::ParseStatus::complete);
  ServerHandshakeOptions server;
  server.subprotocols = {"v2.greekwire", "v1.greekwire"};
  server.allowed_origins = {"https://app.example.com"};
  server.negotiate_extensions = [](std::string_view offers) {
    return std::string(offers == "permessage-deflate" ? "permessage-deflate" : "");
  };
  const ServerHandshake answer = accept_upgrade(request, server);
  ASSERT_TRUE(answer.accepted) << answer.error;

  http::Response response;
  ASSERT_EQ(http::parse_response(answer.response, response).status, http::ParseStatus::complete);
  const ClientHandshake result = verify_server_response(response, key, client);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.error.empty());
  EXPECT_EQ(result.subprotocol, "v2.greekwire");
  EXPECT_EQ(result.extensions, "permessage-deflate");
  EXPECT_EQ(verified, "permessage-deflate");
}

// Builds a server answer for the RFC key, which each test then bends in one place.
class ClientVerifyTest : public ::testing::Test {
 protected:
  ClientHandshake run() {
    text_ = status_line_ + "\r\n";
    for (const auto& [name, value] : headers_) text_ += name + ": " + value + "\r\n";
    text_ += "\r\n";
    response_ = http::Response{};
    EXPECT_EQ(http::parse_response(text_, response_).status, http::ParseStatus::complete);
    return verify_server_response(response_, kRfcKey, options_);
  }
  void expect_failure(std::string_view mentioning) {
    const ClientHandshake result = run();
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.error.find(mentioning), std::string::npos) << result.error;
  }

  std::string status_line_ = "HTTP/1.1 101 Switching Protocols";
  HeaderPairs headers_ = {
      {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", kRfcAccept}};
  ClientHandshakeOptions options_;
  std::string text_;
  http::Response response_;
};

TEST_F(ClientVerifyTest, AcceptsTheRfcAnswer) {
  const ClientHandshake result = run();
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.subprotocol.empty());
  EXPECT_TRUE(result.extensions.empty());
}

TEST_F(ClientVerifyTest, TokensAreCaseInsensitive) {
  headers_[0] = {"upgrade", "WebSocket"};
  headers_[1] = {"connection", "keep-alive, UPGRADE"};
  EXPECT_TRUE(run().ok);
}

TEST_F(ClientVerifyTest, Status200Fails) {
  status_line_ = "HTTP/1.1 200 OK";
  expect_failure("200");
}

TEST_F(ClientVerifyTest, Status426Fails) {
  status_line_ = "HTTP/1.1 426 Upgrade Required";
  expect_failure("426");
}

TEST_F(ClientVerifyTest, MissingUpgradeFails) {
  headers_.erase(headers_.begin());
  expect_failure("Upgrade");
}

TEST_F(ClientVerifyTest, ConnectionWithoutUpgradeFails) {
  headers_[1] = {"Connection", "keep-alive"};
  expect_failure("Connection");
}

TEST_F(ClientVerifyTest, WrongAcceptFails) {
  headers_[2] = {"Sec-WebSocket-Accept", accept_key("x3JJHMbDL1EzLkh9GBhXDw==")};
  expect_failure("Sec-WebSocket-Accept");
}

TEST_F(ClientVerifyTest, AcceptIsCaseSensitive) {
  std::string upper = kRfcAccept;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  headers_[2] = {"Sec-WebSocket-Accept", upper};
  expect_failure("Sec-WebSocket-Accept");
}

TEST_F(ClientVerifyTest, MissingAcceptFails) {
  headers_.pop_back();
  expect_failure("Sec-WebSocket-Accept");
}

TEST_F(ClientVerifyTest, OfferedSubprotocolIsAccepted) {
  options_.subprotocols = {"a", "b"};
  headers_.emplace_back("Sec-WebSocket-Protocol", "b");
  const ClientHandshake result = run();
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.subprotocol, "b");
}

TEST_F(ClientVerifyTest, UnofferedSubprotocolFails) {
  options_.subprotocols = {"a"};
  headers_.emplace_back("Sec-WebSocket-Protocol", "c");
  expect_failure("subprotocol");
}

TEST_F(ClientVerifyTest, SubprotocolWhenNoneOfferedFails) {
  headers_.emplace_back("Sec-WebSocket-Protocol", "a");
  expect_failure("subprotocol");
}

TEST_F(ClientVerifyTest, MoreThanOneSubprotocolFails) {
  options_.subprotocols = {"a", "b"};
  headers_.emplace_back("Sec-WebSocket-Protocol", "a, b");
  expect_failure("subprotocol");
}

TEST_F(ClientVerifyTest, TwoSubprotocolLinesFail) {
  options_.subprotocols = {"a", "b"};
  headers_.emplace_back("Sec-WebSocket-Protocol", "a");
  headers_.emplace_back("Sec-WebSocket-Protocol", "a");
  expect_failure("subprotocol");
}

TEST_F(ClientVerifyTest, NoSubprotocolWhenOfferedIsFine) {
  // The server may decline every offered subprotocol; the application decides.
  options_.subprotocols = {"a"};
  const ClientHandshake result = run();
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.subprotocol, "");
}

TEST_F(ClientVerifyTest, UnexpectedExtensionFailsWithoutHook) {
  headers_.emplace_back("Sec-WebSocket-Extensions", "permessage-deflate");
  expect_failure("extension");
}

TEST_F(ClientVerifyTest, ExtensionHookRejection) {
  options_.verify_extensions = [](std::string_view answer) {
    return answer == "permessage-deflate" ? std::string() : std::string("unknown extension");
  };
  headers_.emplace_back("Sec-WebSocket-Extensions", "x-foo");
  expect_failure("unknown extension");
}

TEST_F(ClientVerifyTest, ExtensionHookAcceptanceWithJoinedLines) {
  std::string seen;
  options_.verify_extensions = [&](std::string_view answer) {
    seen = answer;
    return std::string();
  };
  headers_.emplace_back("Sec-WebSocket-Extensions", "permessage-deflate");
  headers_.emplace_back("Sec-WebSocket-Extensions", "x-foo");
  const ClientHandshake result = run();
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(seen, "permessage-deflate, x-foo");
  EXPECT_EQ(result.extensions, "permessage-deflate, x-foo");
}

TEST_F(ClientVerifyTest, NoExtensionsDoesNotCallTheHook) {
  bool called = false;
  options_.verify_extensions = [&](std::string_view) {
    called = true;
    return std::string("no");
  };
  EXPECT_TRUE(run().ok);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace gw::ws
