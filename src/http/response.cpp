#include "http/response.hpp"

#include "http/parser.hpp"

namespace gw::http {
namespace {

// RFC 9110 §8.6 and §15.4.5: 1xx and 204 never carry Content-Length or a body, and a 304
// has no body either (a Content-Length there would describe the unsent representation).
bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

// Appends "name: value\r\n". CR, LF and NUL in a value are replaced by spaces: values may be
// derived from what a peer sent (an extension offer, an auth echo), and a raw line break
// would let it inject headers or a whole second response.
void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  for (char c : value) out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
  out.append("\r\n");
}

bool has_header(const ResponseHead& head, std::string_view name) {
  for (const auto& [key, value] : head.headers) {
    if (iequals(key, name)) return true;
  }
  return false;
}

}  // namespace

std::string format_response(const ResponseHead& head, std::string_view body, bool close) {
  const bool with_body = status_has_body(head.status);
  if (!with_body) body = {};

  std::string out;
  out.reserve(128 + head.headers.size() * 48 + body.size());
  out.append("HTTP/1.1 ");
  out.append(std::to_string(head.status));
  out.push_back(' ');
  out.append(reason_phrase(head.status));
  out.append("\r\n");
  for (const auto& [name, value] : head.headers) append_header(out, name, value);
  // Always framed, even when empty: a keep-alive client would otherwise wait for a body that
  // ends only when we close.
  if (with_body && !has_header(head, "Content-Length")) {
    append_header(out, "Content-Length", std::to_string(body.size()));
  }
  if (close) append_header(out, "Connection", "close");
  out.append("\r\n");
  out.append(body);
  return out;
}

std::string error_response(int status, std::string_view message,
                           std::vector<std::pair<std::string, std::string>> extra_headers) {
  ResponseHead head;
  head.status = status;
  head.headers = std::move(extra_headers);
  head.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  std::string body(message);
  body.push_back('\n');
  return format_response(head, body, /*close=*/true);
}

}  // namespace gw::http
