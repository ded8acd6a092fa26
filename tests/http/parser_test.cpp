// HTTP/1.1 head parser: RFC 9112 conformance, strictness, limits and incremental behaviour.
#include "http/parser.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>
#include <vector>

namespace gw::http {
namespace {

ParseResult parse(std::string_view text, Request& out, const Limits& limits = {}) {
  return parse_request(text, out, limits);
}

ParseStatus request_status(std::string_view text, const Limits& limits = {}) {
  Request request;
  return parse_request(text, request, limits).status;
}

ParseStatus response_status(std::string_view text, const Limits& limits = {}) {
  Response response;
  return parse_response(text, response, limits).status;
}

// A request whose head is exactly `size` bytes, padded with one long header value.
std::string request_of_size(std::size_t size) {
  const std::string start = "GET / HTTP/1.1\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(size - start.size() - end.size(), 'a') + end;
}

std::string request_with_headers(std::size_t n) {
  std::string text = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < n; ++i) text += "H" + std::to_string(i) + ": v\r\n";
  return text + "\r\n";
}

const std::vector<std::string>& valid_requests() {
  static const std::vector<std::string> requests = {
      "GET / HTTP/1.1\r\n\r\n",
      "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n",
      "GET /api/v2/ws?token=abc&x=%20y HTTP/1.0\r\nHost: h\r\n\r\n",
      "M-SEARCH /a/b/c HTTP/1.1\r\nX-Empty:\r\nX-Spaces: \t padded \t \r\n\r\n",
      "POST /x HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: tchar name\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
  };
  return requests;
}

const std::vector<std::string>& valid_responses() {
  static const std::vector<std::string> responses = {
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.0 404\r\n\r\n",
      "HTTP/1.1 500 Internal\tServer Error \xff\r\nX: y\r\n\r\n",
  };
  return responses;
}

void expect_same(const Request& a, const Request& b) {
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.version_minor, b.version_minor);
  ASSERT_EQ(a.headers.count, b.headers.count);
  for (std::size_t i = 0; i < a.headers.count; ++i) {
    EXPECT_EQ(a.headers.items[i].name, b.headers.items[i].name);
    EXPECT_EQ(a.headers.items[i].value, b.headers.items[i].value);
  }
}

// ---- valid input ----

TEST(HttpParser, ParsesTheRfc6455ClientHandshake) {
  const std::string& text = valid_requests()[1];
  Request request;
  const ParseResult result = parse(text, request);
  ASSERT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(result.head_length, text.size());
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/chat");
  EXPECT_EQ(request.version_minor, 1);
  ASSERT_EQ(request.headers.count, 7u);
  EXPECT_EQ(request.headers.items[0].name, "Host");
  EXPECT_EQ(request.headers.items[0].value, "server.example.com");
  EXPECT_EQ(request.headers.get("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(request.headers.get("SEC-WEBSOCKET-PROTOCOL"), "chat, superchat");
  EXPECT_EQ(request.headers.get("Cookie"), std::nullopt);
}

TEST(HttpParser, ViewsPointIntoTheCallersBuffer) {
  const std::string text = "GET /p HTTP/1.1\r\nHost: h\r\n\r\n";
  Request request;
  ASSERT_EQ(parse(text, request).status, ParseStatus::complete);
  EXPECT_EQ(request.target.data(), text.data() + 4);
  EXPECT_EQ(request.headers.items[0].value.data(), text.data() + 23);
}

TEST(HttpParser, PathAndQuery) {
  const std::string text = "GET /api/v2/ws?token=abc&x=%20y HTTP/1.0\r\n\r\n";
  Request request;
  ASSERT_EQ(parse(text, request).status, ParseStatus::complete);
  EXPECT_EQ(request.path(), "/api/v2/ws");
  EXPECT_EQ(request.query(), "token=abc&x=%20y");
  EXPECT_EQ(request.version_minor, 0);

  const std::string plain = "GET /plain HTTP/1.1\r\n\r\n";
  ASSERT_EQ(parse(plain, request).status, ParseStatus::complete);
  EXPECT_EQ(request.path(), "/plain");
  EXPECT_EQ(request.query(), "");

  const std::string empty_query = "GET /q? HTTP/1.1\r\n\r\n";
  ASSERT_EQ(parse(empty_query, request).status, ParseStatus::complete);
  EXPECT_EQ(request.path(), "/q");
  EXPECT_EQ(request.query(), "");
}

TEST(HttpParser, TrimsOptionalWhitespaceAroundValues) {
  const std::string& text = valid_requests()[3];
  Request request;
  ASSERT_EQ(parse(text, request).status, ParseStatus::complete);
  EXPECT_EQ(request.method, "M-SEARCH");
  EXPECT_EQ(request.headers.get("X-Empty"), "");
  EXPECT_EQ(request.headers.get("X-Spaces"), "padded");
}

TEST(HttpParser, KeepsInnerWhitespaceAndObsText) {
  const std::string text = "GET / HTTP/1.1\r\nA: x \t y\r\nB: caf\xc3\xa9\r\n\r\n";
  Request request;
  ASSERT_EQ(parse(text, request).status, ParseStatus::complete);
  EXPECT_EQ(request.headers.get("A"), "x \t y");
  EXPECT_EQ(request.headers.get("B"), "caf\xc3\xa9");
}

TEST(HttpParser, DuplicateHeadersAreKeptInOrder) {
  const std::string text = "GET / HTTP/1.1\r\nX: 1\r\nx: 2\r\nY: 3\r\nX: 4\r\n\r\n";
  Request request;
  ASSERT_EQ(parse(text, request).status, ParseStatus::complete);
  EXPECT_EQ(request.headers.count_of("X"), 3u);
  EXPECT_EQ(request.headers.count_of("y"), 1u);
  EXPECT_EQ(request.headers.count_of("Z"), 0u);
  EXPECT_EQ(request.headers.get("X"), "1");  // the first one
}

TEST(HttpParser, HeadLengthExcludesFollowingBytes) {
  // A client may pipeline its first frame right behind the handshake.
  const std::string head = valid_requests()[1];
  const std::string text = head + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  Request request;
  const ParseResult result = parse(text, request);
  ASSERT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(result.head_length, head.size());
}

TEST(HttpParser, ReparsingResetsTheHeaderList) {
  Request request;
  ASSERT_EQ(parse(valid_requests()[1], request).status, ParseStatus::complete);
  ASSERT_EQ(parse(valid_requests()[0], request).status, ParseStatus::complete);
  EXPECT_EQ(request.headers.count, 0u);
}

// Every valid message, cut at every byte: incomplete before its end, then the same result
// as a one-shot parse.
TEST(HttpParser, EveryRequestSplitAtEveryByte) {
  for (const std::string& text : valid_requests()) {
    SCOPED_TRACE(text);
    Request reference;
    const ParseResult full = parse(text, reference);
    ASSERT_EQ(full.status, ParseStatus::complete);
    ASSERT_EQ(full.head_length, text.size());
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
      Request partial;
      ASSERT_EQ(parse(std::string_view(text).substr(0, cut), partial).status,
                ParseStatus::incomplete)
          << "cut at " << cut;
    }
    // Growing one buffer in place, as a connection does, ends with the same answer.
    std::string buffer;
    Request request;
    ParseResult result;
    for (char c : text) {
      buffer.push_back(c);
      result = parse(buffer, request);
    }
    ASSERT_EQ(result.status, ParseStatus::complete);
    EXPECT_EQ(result.head_length, full.head_length);
    expect_same(request, reference);
  }
}

TEST(HttpParser, EveryResponseSplitAtEveryByte) {
  for (const std::string& text : valid_responses()) {
    SCOPED_TRACE(text);
    Response reference;
    const ParseResult full = parse_response(text, reference);
    ASSERT_EQ(full.status, ParseStatus::complete);
    ASSERT_EQ(full.head_length, text.size());
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
      Response partial;
      ASSERT_EQ(parse_response(std::string_view(text).substr(0, cut), partial).status,
                ParseStatus::incomplete)
          << "cut at " << cut;
    }
    Response again;
    const std::string with_trailer = text + "trailing";  // the views point into it
    ASSERT_EQ(parse_response(with_trailer, again).head_length, text.size());
    EXPECT_EQ(again.status, reference.status);
    EXPECT_EQ(again.reason, reference.reason);
    EXPECT_EQ(again.headers.count, reference.headers.count);
  }
}

// ---- request line errors ----

TEST(HttpParser, RejectsLowercaseHttpName) {
  EXPECT_EQ(request_status("GET / http/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsHttp2Version) {
  EXPECT_EQ(request_status("GET / HTTP/2.0\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/2"), ParseStatus::bad_request);  // before the line ends
}

TEST(HttpParser, RejectsUnknownMinorVersion) {
  EXPECT_EQ(request_status("GET / HTTP/1.2\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.10\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.x\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsMissingVersion) {
  EXPECT_EQ(request_status("GET /\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsAbsoluteFormTarget) {
  EXPECT_EQ(request_status("GET http://example.com/ HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsAsteriskAndAuthorityForms) {
  EXPECT_EQ(request_status("OPTIONS * HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("CONNECT example.com:443 HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsEmptyMethod) {
  EXPECT_EQ(request_status(" / HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsNonTokenMethodBeforeTheLineEnds) {
  EXPECT_EQ(request_status("GE(T"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("G\x01"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsDoubleSpaces) {
  EXPECT_EQ(request_status("GET  / HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET /  HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1 \r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsTabAsSeparator) {
  EXPECT_EQ(request_status("GET\t/ HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsControlAndNonAsciiBytesInTarget) {
  EXPECT_EQ(request_status("GET /a\x01 HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET /a\x7f HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsFragmentInTarget) {
  EXPECT_EQ(request_status("GET /a#frag HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsLeadingEmptyLine) {
  EXPECT_EQ(request_status("\r\nGET / HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsBareLfAfterRequestLine) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\nHost: h\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsBareCrAfterRequestLine) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\rHost: h\r\n\r\n"), ParseStatus::bad_request);
}

// ---- header errors ----

TEST(HttpParser, RejectsWhitespaceBeforeColon) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsObsFold) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsEmptyHeaderName) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\n: value\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsNonTokenHeaderName) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX Y: v\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX(Y): v\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX\xc3\xa9: v\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsHeaderLineWithoutColon) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nHost\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsNulInValue) {
  using namespace std::string_literals;
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"s), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsControlCharactersInValue) {
  for (int c = 0x01; c < 0x20; ++c) {
    if (c == '\t' || c == '\r') continue;  // HTAB is allowed; CR is the terminator case
    const std::string text =
        "GET / HTTP/1.1\r\nX: a" + std::string(1, static_cast<char>(c)) + "b\r\n\r\n";
    EXPECT_EQ(request_status(text), ParseStatus::bad_request) << "byte " << c;
  }
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsBareLfInHeaders) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nHost: h\r\n\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\n\n"), ParseStatus::bad_request);
}

TEST(HttpParser, RejectsBareCrInHeaders) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX: a\r\n\rX"), ParseStatus::bad_request);
}

TEST(HttpParser, ErrorsAreDetectedBeforeTheHeadEnds) {
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX : "), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX: a\r\n b"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nX: \x01"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET /\x01"), ParseStatus::bad_request);
  EXPECT_EQ(request_status("GET / HTTP/3"), ParseStatus::bad_request);
}

// ---- limits ----

TEST(HttpParser, HeadOfExactlyMaxBytesIsAccepted) {
  const std::string text = request_of_size(8192);
  ASSERT_EQ(text.size(), 8192u);
  Request request;
  const ParseResult result = parse(text, request);
  EXPECT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(result.head_length, 8192u);
}

TEST(HttpParser, HeadOneByteOverMaxIsTooLarge) {
  const std::string text = request_of_size(8193);
  EXPECT_EQ(request_status(text), ParseStatus::head_too_large);
}

TEST(HttpParser, UnfinishedHeadOverMaxIsTooLargeAtOnce) {
  const std::string text = request_of_size(20000);
  // 8192 bytes without the blank line: could still end in time.
  EXPECT_EQ(request_status(std::string_view(text).substr(0, 8192)), ParseStatus::incomplete);
  // One more byte and it cannot: refuse without waiting for the rest.
  EXPECT_EQ(request_status(std::string_view(text).substr(0, 8193)), ParseStatus::head_too_large);
}

TEST(HttpParser, CustomByteLimit) {
  const Limits limits{.max_head_bytes = 32, .max_headers = kMaxHeaders};
  EXPECT_EQ(request_status(request_of_size(32), limits), ParseStatus::complete);
  EXPECT_EQ(request_status(request_of_size(33), limits), ParseStatus::head_too_large);
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\n", {.max_head_bytes = 0}),
            ParseStatus::head_too_large);
  EXPECT_EQ(request_status("", {.max_head_bytes = 0}), ParseStatus::incomplete);
}

TEST(HttpParser, MaxHeadersIsAccepted) {
  Request request;
  const std::string text = request_with_headers(64);
  ASSERT_EQ(parse(text, request).status, ParseStatus::complete);
  EXPECT_EQ(request.headers.count, 64u);
  EXPECT_EQ(request.headers.items[63].name, "H63");
}

TEST(HttpParser, OneHeaderOverMaxIsTooLarge) {
  const std::string text = request_with_headers(65);
  EXPECT_EQ(request_status(text), ParseStatus::head_too_large);
  // Known as soon as the 65th line starts.
  const std::string prefix = text.substr(0, text.find("H64") + 1);
  EXPECT_EQ(request_status(prefix), ParseStatus::head_too_large);
}

TEST(HttpParser, CustomHeaderLimit) {
  const Limits limits{.max_head_bytes = 8192, .max_headers = 2};
  EXPECT_EQ(request_status(request_with_headers(2), limits), ParseStatus::complete);
  EXPECT_EQ(request_status(request_with_headers(3), limits), ParseStatus::head_too_large);
  EXPECT_EQ(request_status(request_with_headers(0), {.max_headers = 0}), ParseStatus::complete);
  EXPECT_EQ(request_status(request_with_headers(1), {.max_headers = 0}),
            ParseStatus::head_too_large);
}

TEST(HttpParser, HeaderLimitIsCappedByTheArray) {
  const Limits limits{.max_head_bytes = 1 << 20, .max_headers = 1000};
  EXPECT_EQ(request_status(request_with_headers(64), limits), ParseStatus::complete);
  EXPECT_EQ(request_status(request_with_headers(65), limits), ParseStatus::head_too_large);
}

// ---- garbage ----

TEST(HttpParser, TlsClientHelloIsRejectedOnItsFirstByte) {
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  EXPECT_EQ(request_status(hello.substr(0, 1)), ParseStatus::bad_request);
  EXPECT_EQ(request_status(hello), ParseStatus::bad_request);
  EXPECT_EQ(response_status(hello.substr(0, 1)), ParseStatus::bad_request);
}

TEST(HttpParser, EveryNonTokenFirstByteIsRejectedAtOnce) {
  for (int c = 0; c < 256; ++c) {
    const std::string one(1, static_cast<char>(c));
    const bool token = std::isalnum(c) && c < 0x80;
    const bool special =
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    EXPECT_EQ(request_status(one),
              token || special ? ParseStatus::incomplete : ParseStatus::bad_request)
        << "byte " << c;
  }
}

TEST(HttpParser, BinaryGarbageIsBadRequestNotTooLarge) {
  std::string garbage(100000, '\0');
  std::mt19937 rng(7);
  for (char& c : garbage) c = static_cast<char>(rng() & 0xFF);
  garbage[0] = '\x80';
  EXPECT_EQ(request_status(garbage), ParseStatus::bad_request);
  EXPECT_EQ(response_status(garbage), ParseStatus::bad_request);
}

TEST(HttpParser, LongTokenWithoutSpaceHitsTheLimit) {
  // A method that never ends is only stopped by the size limit.
  EXPECT_EQ(request_status(std::string(8192, 'A')), ParseStatus::incomplete);
  EXPECT_EQ(request_status(std::string(8193, 'A')), ParseStatus::head_too_large);
}

// Once a prefix is malformed every extension is too, and a complete head stays complete with
// the same length: the property incremental callers rely on.
TEST(HttpParser, VerdictsAreStableAsBytesArrive) {
  std::mt19937 rng(2024);
  for (int round = 0; round < 400; ++round) {
    const auto& base = valid_requests()[rng() % valid_requests().size()];
    std::string text = base;
    const int mutations = 1 + static_cast<int>(rng() % 3);
    for (int m = 0; m < mutations; ++m) {
      text[rng() % text.size()] = static_cast<char>(rng() & 0xFF);
    }
    ParseStatus previous = ParseStatus::incomplete;
    std::size_t complete_length = 0;
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      Request request;
      const ParseResult result = parse(std::string_view(text).substr(0, cut), request);
      if (previous == ParseStatus::bad_request) {
        ASSERT_EQ(result.status, ParseStatus::bad_request) << text;
      } else if (previous == ParseStatus::complete) {
        ASSERT_EQ(result.status, ParseStatus::complete) << text;
        ASSERT_EQ(result.head_length, complete_length) << text;
      }
      if (result.status == ParseStatus::complete && previous != ParseStatus::complete) {
        complete_length = result.head_length;
        ASSERT_EQ(std::string_view(text).substr(0, cut).substr(cut - 4), "\r\n\r\n");
      }
      previous = result.status;
    }
  }
}

// ---- responses ----

TEST(HttpResponseParser, ParsesSwitchingProtocols) {
  const std::string& text = valid_responses()[0];
  Response response;
  const ParseResult result = parse_response(text, response);
  ASSERT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(response.status, 101);
  EXPECT_EQ(response.reason, "Switching Protocols");
  EXPECT_EQ(response.version_minor, 1);
  EXPECT_EQ(response.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(HttpResponseParser, EmptyReasonWithAndWithoutSpace) {
  Response response;
  ASSERT_EQ(parse_response("HTTP/1.1 200 \r\n\r\n", response).status, ParseStatus::complete);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.reason, "");
  ASSERT_EQ(parse_response("HTTP/1.0 404\r\n\r\n", response).status, ParseStatus::complete);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.version_minor, 0);
  EXPECT_EQ(response.reason, "");
}

TEST(HttpResponseParser, ReasonMayContainTabsAndObsText) {
  Response response;
  ASSERT_EQ(parse_response(valid_responses()[3], response).status, ParseStatus::complete);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.reason, "Internal\tServer Error \xff");
}

TEST(HttpResponseParser, RejectsBadStatusCodes) {
  EXPECT_EQ(response_status("HTTP/1.1 10 X\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(response_status("HTTP/1.1 1010 X\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(response_status("HTTP/1.1 abc X\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(response_status("HTTP/1.1  101 X\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(response_status("HTTP/1.1\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpResponseParser, RejectsBadVersions) {
  EXPECT_EQ(response_status("HTTP/2 101\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(response_status("HTTP/1.2 101\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(response_status("ICY 200 OK\r\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpResponseParser, RejectsControlCharactersInReason) {
  EXPECT_EQ(response_status("HTTP/1.1 200 O\x01K\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(response_status("HTTP/1.1 200 OK\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpResponseParser, HeaderRulesApply) {
  EXPECT_EQ(response_status("HTTP/1.1 101 X\r\nUpgrade : websocket\r\n\r\n"),
            ParseStatus::bad_request);
  EXPECT_EQ(response_status("HTTP/1.1 101 X\r\nA: b\r\n c\r\n\r\n"), ParseStatus::bad_request);
  EXPECT_EQ(response_status("HTTP/1.1 101 X\r\nA: b\n\r\n"), ParseStatus::bad_request);
}

TEST(HttpResponseParser, Limits) {
  std::string text = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 65; ++i) text += "H: v\r\n";
  text += "\r\n";
  EXPECT_EQ(response_status(text), ParseStatus::head_too_large);
  EXPECT_EQ(response_status("HTTP/1.1 200 OK\r\n\r\n", {.max_head_bytes = 19}),
            ParseStatus::complete);
  EXPECT_EQ(response_status("HTTP/1.1 200 OK\r\n\r\n", {.max_head_bytes = 18}),
            ParseStatus::head_too_large);
}

// ---- helpers ----

TEST(HttpHelpers, Iequals) {
  EXPECT_TRUE(iequals("Sec-WebSocket-Key", "sec-websocket-key"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Host", "Hos"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("\xc3", "\xe3"));  // only ASCII letters fold
  EXPECT_FALSE(iequals("@", "`"));        // 0x40 vs 0x60: not letters
}

TEST(HttpHelpers, HasToken) {
  EXPECT_TRUE(has_token("Upgrade", "upgrade"));
  EXPECT_TRUE(has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(has_token("keep-alive,Upgrade", "UPGRADE"));
  EXPECT_TRUE(has_token(" \tupgrade\t , close", "upgrade"));
  EXPECT_TRUE(has_token(",,upgrade,,", "upgrade"));
  EXPECT_FALSE(has_token("keep-alive", "upgrade"));
  EXPECT_FALSE(has_token("upgrades", "upgrade"));
  EXPECT_FALSE(has_token("up grade", "upgrade"));
  EXPECT_FALSE(has_token("", "upgrade"));
  EXPECT_FALSE(has_token("x-upgrade", "upgrade"));
}

TEST(HttpHelpers, ReasonPhrase) {
  EXPECT_EQ(reason_phrase(101), "Switching Protocols");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(403), "Forbidden");
  EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(426), "Upgrade Required");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

}  // namespace
}  // namespace gw::http
