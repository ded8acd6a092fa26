// Response builder: framing (Content-Length), Connection: close, error pages, injection.
#include "http/response.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http/parser.hpp"

namespace gw::http {
namespace {

// Parses a built response back; `text` must outlive the result.
Response parse_back(const std::string& text, std::size_t* head_length = nullptr) {
  Response response;
  const ParseResult result = parse_response(text, response);
  EXPECT_EQ(result.status, ParseStatus::complete) << text;
  if (head_length) *head_length = result.head_length;
  return response;
}

TEST(FormatResponse, OkWithBody) {
  ResponseHead head;
  head.headers = {{"Content-Type", "application/json"}};
  const std::string text = format_response(head, "{\"ok\":true}");
  EXPECT_EQ(text,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
            "{\"ok\":true}");
}

TEST(FormatResponse, EmptyBodyStillGetsContentLength) {
  const std::string text = format_response({.status = 200, .headers = {}});
  EXPECT_EQ(text, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(format_response({.status = 404, .headers = {}}),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

TEST(FormatResponse, NoContentLengthOrBodyFor1xx204And304) {
  for (int status : {100, 101, 204, 304}) {
    const std::string text = format_response({.status = status, .headers = {}}, "ignored");
    EXPECT_EQ(text.find("Content-Length"), std::string::npos) << status;
    EXPECT_EQ(text.find("ignored"), std::string::npos) << status;
    EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
  }
  EXPECT_EQ(format_response({.status = 101, .headers = {{"Upgrade", "websocket"}}}),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
}

TEST(FormatResponse, CloseAddsConnectionClose) {
  const std::string text = format_response({.status = 200, .headers = {}}, "x", true);
  EXPECT_EQ(text, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
  EXPECT_EQ(format_response({.status = 200, .headers = {}}, "x").find("Connection"),
            std::string::npos);
}

TEST(FormatResponse, CallerContentLengthIsNotDuplicated) {
  // e.g. a HEAD answer describing a body it does not send.
  const std::string text = format_response({.status = 200, .headers = {{"content-length", "42"}}});
  const Response response = parse_back(text);
  EXPECT_EQ(response.headers.count_of("Content-Length"), 1u);
  EXPECT_EQ(response.headers.get("Content-Length"), "42");
}

TEST(FormatResponse, UnknownStatus) {
  EXPECT_EQ(format_response({.status = 299, .headers = {}}),
            "HTTP/1.1 299 Unknown\r\nContent-Length: 0\r\n\r\n");
}

TEST(FormatResponse, LineBreaksInValuesCannotInjectHeaders) {
  const std::string text = format_response(
      {.status = 200, .headers = {{"X-Echo", "a\r\nSet-Cookie: evil=1\r\n\r\nHTTP/1.1 200"}}});
  const Response response = parse_back(text);
  EXPECT_EQ(response.headers.count_of("Set-Cookie"), 0u);
  EXPECT_EQ(response.headers.count, 2u);  // X-Echo and Content-Length
}

TEST(FormatResponse, RoundTripsThroughTheParser) {
  ResponseHead head;
  head.status = 503;
  head.headers = {{"Retry-After", "5"}, {"X-A", "b"}};
  const std::string body = "try later";
  const std::string text = format_response(head, body, true);
  std::size_t head_length = 0;
  const Response response = parse_back(text, &head_length);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.reason, "Service Unavailable");
  EXPECT_EQ(response.headers.get("Retry-After"), "5");
  EXPECT_EQ(response.headers.get("Connection"), "close");
  EXPECT_EQ(text.substr(head_length), body);
}

TEST(ErrorResponse, PlainTextOneLineBodyAndClose) {
  const std::string text = error_response(400, "missing Host header");
  std::size_t head_length = 0;
  const Response response = parse_back(text, &head_length);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.reason, "Bad Request");
  EXPECT_EQ(response.headers.get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response.headers.get("Connection"), "close");
  const std::string body = text.substr(head_length);
  EXPECT_EQ(body, "missing Host header\n");
  EXPECT_EQ(response.headers.get("Content-Length"), std::to_string(body.size()));
}

TEST(ErrorResponse, ExtraHeaders) {
  const std::string text = error_response(405, "use GET", {{"Allow", "GET"}});
  const Response response = parse_back(text);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.get("Allow"), "GET");
  EXPECT_EQ(response.headers.count_of("Content-Type"), 1u);
}

}  // namespace
}  // namespace gw::http
