// Where ConnectionOptions::url points: the URL taken apart the way a Connection reads it, so that
// a program can turn a bad URL into a usage error before it tries to connect.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "greekwire/error.hpp"

namespace greekwire {

struct Endpoint {
  bool secure = false;         // wss://
  std::string host;            // without brackets for IPv6 literals
  std::uint16_t port = 0;      // the URL's, else 80 (ws://) or 443 (wss://)
  std::string resource = "/";  // path and query, as they go into the request line
};

// Parses a ws:// or wss:// URL (RFC 6455 §3). Anything else (another scheme, a fragment, a bad
// port, spaces in the path) is an invalid_argument error "bad URL 'TEXT': why", the error
// Connection::start() gives for the same URL.
Result<Endpoint> parse_url(std::string_view url);

}  // namespace greekwire
