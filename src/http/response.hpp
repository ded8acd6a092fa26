// Building simple HTTP/1.1 responses (error pages, upgrade answers, small bodies).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::http {

struct ResponseHead {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Serializes "HTTP/1.1 <status> <reason>\r\n" + headers + Content-Length (when a body is given
// or the status allows one) + "\r\n" + body. `close` adds "Connection: close".
std::string format_response(const ResponseHead& head, std::string_view body = {},
                            bool close = false);

// A plain-text error answer: status, a one-line body, Connection: close.
std::string error_response(int status, std::string_view message,
                           std::vector<std::pair<std::string, std::string>> extra_headers = {});

}  // namespace gw::http
