// Incremental, zero-copy HTTP/1.1 request and response head parser.
//
// The parser never allocates and never copies: every string_view in Request/Response points
// into the caller's buffer, which must outlive them. It is "incremental" in the picohttpparser
// sense: the caller appends bytes and calls parse again with the whole buffer; until the blank
// line that ends the head has arrived the answer is `incomplete` (cheap: the scan is linear).
// Bodies are not parsed here (the WebSocket upgrade has none).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace gw::http {

struct Header {
  std::string_view name;
  std::string_view value;  // leading and trailing whitespace removed
};

inline constexpr std::size_t kMaxHeaders = 64;

struct Limits {
  std::size_t max_head_bytes = 8192;  // request/status line + headers + blank line
  std::size_t max_headers = kMaxHeaders;
};

enum class ParseStatus {
  complete,        // head parsed; head_length bytes consumed
  incomplete,      // need more bytes
  bad_request,     // malformed: answer 400 and close
  head_too_large,  // over max_head_bytes or max_headers: answer 431 and close
};

struct ParseResult {
  ParseStatus status = ParseStatus::incomplete;
  std::size_t head_length = 0;  // bytes of the head, including the final CRLF CRLF
};

// Headers of one message; lookup is case-insensitive on the name.
struct HeaderList {
  std::array<Header, kMaxHeaders> items{};
  std::size_t count = 0;

  // The first header with this name, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  // Number of headers with this name (used to reject duplicates where they are not allowed).
  std::size_t count_of(std::string_view name) const;
};

struct Request {
  std::string_view method;
  std::string_view target;  // origin-form, as sent: path and optional ?query
  int version_minor = 1;    // HTTP/1.<minor>
  HeaderList headers;

  std::string_view path() const;   // target up to '?'
  std::string_view query() const;  // after '?', empty if none
};

struct Response {
  int status = 0;
  std::string_view reason;
  int version_minor = 1;
  HeaderList headers;
};

ParseResult parse_request(std::string_view data, Request& out, const Limits& limits = {});
ParseResult parse_response(std::string_view data, Response& out, const Limits& limits = {});

// How a request's body is delimited (RFC 9112 section 6). We accept Content-Length only: a
// request with Transfer-Encoding is `unsupported` (answer 501), conflicting or malformed
// Content-Length values are `bad` (answer 400).
enum class BodyFraming { none, length, bad, unsupported };
BodyFraming request_body(const Request& request, std::size_t& length);

// Case-insensitive ASCII comparison (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

// True if a comma-separated header value (e.g. Connection: keep-alive, Upgrade) contains
// `token`, compared case-insensitively with surrounding whitespace ignored.
bool has_token(std::string_view header_value, std::string_view token);

// The canonical reason phrase for a status code ("Bad Request" for 400), "Unknown" otherwise.
std::string_view reason_phrase(int status);

}  // namespace gw::http
