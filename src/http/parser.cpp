// HTTP/1.1 head parser (RFC 9112 §2–§5), strict by design: it sits in front of a WebSocket
// server, so anything a well-behaved client would not send is refused early rather than
// tolerated. One linear pass over at most max_head_bytes; no allocation, no copies.
#include "http/parser.hpp"

#include <charconv>

#include <algorithm>
#include <array>

namespace gw::http {
namespace {

// tchar, RFC 9110 §5.6.2: the characters of methods, header names and list tokens.
constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kTchar = make_tchar_table();

bool is_tchar(char c) {
  return kTchar[static_cast<unsigned char>(c)];
}

// field-value and reason-phrase bytes (RFC 9110 §5.5): HTAB, SP, VCHAR and obs-text. Other
// control characters (NUL, lone CR/LF, DEL...) are refused: they are the raw material of
// request smuggling and header injection.
bool is_field_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

// Bytes of an origin-form request-target: visible ASCII. '#' is excluded because a fragment
// never goes on the wire (RFC 9112 §3.2); raw non-ASCII must be percent-encoded.
bool is_target_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F && u != '#';
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Outcome of one parsing step over the window [0, buf.size()).
enum class Step {
  ok,        // the element is complete; pos is past it
  more,      // the window ends before the element does (nothing wrong so far)
  bad,       // a byte that can never become valid: fail now, do not wait for more
  too_many,  // more header lines than the limit
};

// Matches `literal` at pos. A prefix that agrees with the available bytes is `more`, so that
// garbage ("\x16\x03\x01" of a TLS ClientHello) is rejected on its first wrong byte.
Step expect_literal(std::string_view buf, std::size_t& pos, std::string_view literal) {
  const std::size_t available = std::min(literal.size(), buf.size() - pos);
  if (buf.compare(pos, available, literal, 0, available) != 0) return Step::bad;
  if (available < literal.size()) return Step::more;
  pos += literal.size();
  return Step::ok;
}

// Line terminator: CRLF only. A bare LF or a CR followed by anything else is refused.
Step expect_crlf(std::string_view buf, std::size_t& pos) {
  return expect_literal(buf, pos, "\r\n");
}

// "HTTP/1.0" or "HTTP/1.1"; anything else (HTTP/2.0, HTTP/1.2, http/1.1) is malformed.
Step parse_version(std::string_view buf, std::size_t& pos, int& minor) {
  if (Step s = expect_literal(buf, pos, "HTTP/1."); s != Step::ok) return s;
  if (pos == buf.size()) return Step::more;
  if (buf[pos] != '0' && buf[pos] != '1') return Step::bad;
  minor = buf[pos] - '0';
  ++pos;
  return Step::ok;
}

// Scans a run of tchar starting at pos; on success `token` is non-empty and pos is on the
// (unconsumed) byte that ended it, which must be `terminator`.
Step parse_token(std::string_view buf, std::size_t& pos, char terminator, std::string_view& token) {
  const std::size_t start = pos;
  while (pos < buf.size() && is_tchar(buf[pos])) ++pos;
  if (pos == buf.size()) return Step::more;
  if (buf[pos] != terminator || pos == start) return Step::bad;
  token = buf.substr(start, pos - start);
  return Step::ok;
}

// request-line = method SP request-target SP HTTP-version CRLF
Step parse_request_line(std::string_view buf, std::size_t& pos, Request& out) {
  if (Step s = parse_token(buf, pos, ' ', out.method); s != Step::ok) return s;
  ++pos;  // SP

  // Only origin-form: absolute-form is for proxies, authority-form for CONNECT and
  // asterisk-form for OPTIONS *, none of which a WebSocket endpoint serves.
  if (pos == buf.size()) return Step::more;
  if (buf[pos] != '/') return Step::bad;
  const std::size_t start = pos;
  while (pos < buf.size() && is_target_byte(buf[pos])) ++pos;
  if (pos == buf.size()) return Step::more;
  if (buf[pos] != ' ') return Step::bad;
  out.target = buf.substr(start, pos - start);
  ++pos;  // SP

  if (Step s = parse_version(buf, pos, out.version_minor); s != Step::ok) return s;
  return expect_crlf(buf, pos);
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
// The SP before an empty reason is optional in practice (RFC 9112 §4 asks recipients to
// accept its absence).
Step parse_status_line(std::string_view buf, std::size_t& pos, Response& out) {
  if (Step s = parse_version(buf, pos, out.version_minor); s != Step::ok) return s;
  if (Step s = expect_literal(buf, pos, " "); s != Step::ok) return s;

  int status = 0;
  for (int i = 0; i < 3; ++i, ++pos) {
    if (pos == buf.size()) return Step::more;
    if (!is_digit(buf[pos])) return Step::bad;
    status = status * 10 + (buf[pos] - '0');
  }
  out.status = status;

  if (pos == buf.size()) return Step::more;
  if (buf[pos] == ' ') {
    ++pos;
  } else if (buf[pos] != '\r') {
    return Step::bad;  // a fourth digit, or junk after the code
  }
  const std::size_t start = pos;
  while (pos < buf.size() && buf[pos] != '\r') {
    if (!is_field_byte(buf[pos])) return Step::bad;
    ++pos;
  }
  out.reason = buf.substr(start, pos - start);
  return expect_crlf(buf, pos);
}

// field-line = field-name ":" OWS field-value OWS CRLF, repeated until the empty line.
// Rejected on sight: whitespace before the colon (RFC 9112 §5.1), obs-fold (a line starting
// with SP/HTAB, §5.2), an empty name, control characters in the value.
Step parse_headers(std::string_view buf, std::size_t& pos, HeaderList& out,
                   std::size_t max_headers) {
  for (;;) {
    if (pos == buf.size()) return Step::more;
    if (buf[pos] == '\r') return expect_crlf(buf, pos);  // the blank line ending the head
    if (out.count == max_headers) return Step::too_many;

    Header header;
    if (Step s = parse_token(buf, pos, ':', header.name); s != Step::ok) return s;
    ++pos;  // ':'

    while (pos < buf.size() && is_ows(buf[pos])) ++pos;
    const std::size_t start = pos;
    std::size_t end = pos;  // one past the last non-OWS byte: trailing OWS is trimmed
    while (pos < buf.size() && buf[pos] != '\r') {
      const char c = buf[pos];
      if (!is_field_byte(c)) return Step::bad;
      ++pos;
      if (!is_ows(c)) end = pos;
    }
    if (Step s = expect_crlf(buf, pos); s != Step::ok) return s;
    header.value = buf.substr(start, end - start);
    out.items[out.count++] = header;
  }
}

// Shared driver: the parse only ever looks at the first max_head_bytes, so a head that has not
// ended by then is too large whether or not its end is already buffered.
template <class Message, class StartLine>
ParseResult parse_message(std::string_view data, Message& out, const Limits& limits,
                          StartLine start_line) {
  out.headers.count = 0;
  const std::string_view buf = data.substr(0, std::min(data.size(), limits.max_head_bytes));
  const std::size_t max_headers = std::min(limits.max_headers, kMaxHeaders);

  std::size_t pos = 0;
  Step step = start_line(buf, pos, out);
  if (step == Step::ok) step = parse_headers(buf, pos, out.headers, max_headers);

  switch (step) {
    case Step::ok:
      return {ParseStatus::complete, pos};
    case Step::bad:
      return {ParseStatus::bad_request, 0};
    case Step::too_many:
      return {ParseStatus::head_too_large, 0};
    case Step::more:
      break;
  }
  return {
      data.size() > limits.max_head_bytes ? ParseStatus::head_too_large : ParseStatus::incomplete,
      0};
}

}  // namespace

std::optional<std::string_view> HeaderList::get(std::string_view name) const {
  for (std::size_t i = 0; i < count; ++i) {
    if (iequals(items[i].name, name)) return items[i].value;
  }
  return std::nullopt;
}

std::size_t HeaderList::count_of(std::string_view name) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count; ++i) n += iequals(items[i].name, name) ? 1 : 0;
  return n;
}

std::string_view Request::path() const {
  return target.substr(0, target.find('?'));
}

std::string_view Request::query() const {
  const std::size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

ParseResult parse_request(std::string_view data, Request& out, const Limits& limits) {
  return parse_message(data, out, limits, parse_request_line);
}

ParseResult parse_response(std::string_view data, Response& out, const Limits& limits) {
  return parse_message(data, out, limits, parse_status_line);
}

BodyFraming request_body(const Request& request, std::size_t& length) {
  length = 0;
  if (request.headers.get("Transfer-Encoding")) return BodyFraming::unsupported;
  bool seen = false;
  for (std::size_t i = 0; i < request.headers.count; ++i) {
    const Header& h = request.headers.items[i];
    if (!iequals(h.name, "Content-Length")) continue;
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(h.value.data(), h.value.data() + h.value.size(), value);
    if (h.value.empty() || ec != std::errc{} || end != h.value.data() + h.value.size())
      return BodyFraming::bad;
    // Repeated headers must agree (section 6.3: otherwise the message is invalid).
    if (seen && value != length) return BodyFraming::bad;
    seen = true;
    length = value;
  }
  return seen && length > 0 ? BodyFraming::length : BodyFraming::none;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool has_token(std::string_view header_value, std::string_view token) {
  while (!header_value.empty()) {
    const std::size_t comma = header_value.find(',');
    std::string_view element = header_value.substr(0, comma);
    header_value =
        comma == std::string_view::npos ? std::string_view{} : header_value.substr(comma + 1);
    while (!element.empty() && is_ows(element.front())) element.remove_prefix(1);
    while (!element.empty() && is_ows(element.back())) element.remove_suffix(1);
    if (!element.empty() && iequals(element, token)) return true;
  }
  return false;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace gw::http
