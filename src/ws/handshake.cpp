// RFC 6455 §4 opening handshake. Both roles are pure functions over parsed heads, so every
// rule below is unit-tested without a socket.
#include "ws/handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "http/response.hpp"
#include "ws/protocol.hpp"

namespace gw::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t kKeyBytes = 16;
constexpr std::size_t kKeyChars = 24;  // base64 of 16 bytes: 22 symbols and "=="

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  // EVP_EncodeBlock writes a terminating NUL after the output; give it room, then drop it.
  out.push_back('\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// A Sec-WebSocket-Key must be the base64 of exactly 16 bytes (§4.2.1 item 5). Checked
// strictly: EVP_DecodeBlock alone would skip surrounding whitespace and count padding as
// zero bytes (24 chars always decode to 18), so the shape is verified first, including that
// the unused low bits of the last symbol are zero (the canonical encoding).
bool valid_client_key(std::string_view key) {
  if (key.size() != kKeyChars || key.substr(kKeyChars - 2) != "==") return false;
  for (std::size_t i = 0; i < kKeyChars - 2; ++i) {
    if (base64_value(key[i]) < 0) return false;
  }
  if ((base64_value(key[kKeyChars - 3]) & 0x0F) != 0) return false;

  std::array<unsigned char, 18> decoded{};
  const int n = EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(key.data()),
                                static_cast<int>(key.size()));
  return n == static_cast<int>(kKeyBytes) + 2;  // the two '=' come back as two zero bytes
}

// Does any header called `name` list `token`? Case-insensitive, for Upgrade and Connection.
bool any_has_token(const http::HeaderList& headers, std::string_view name, std::string_view token) {
  for (std::size_t i = 0; i < headers.count; ++i) {
    const http::Header& h = headers.items[i];
    if (http::iequals(h.name, name) && http::has_token(h.value, token)) return true;
  }
  return false;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each non-empty element of a comma-separated list.
template <class F>
void for_each_element(std::string_view list, F f) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    f(trim_ows(list.substr(0, comma)));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
}

// Subprotocol names are compared case-sensitively (they are registered strings, §11.3.4, and
// browsers compare them exactly), unlike Upgrade/Connection tokens.
bool offered_protocol(const http::HeaderList& headers, std::string_view protocol) {
  bool found = false;
  for (std::size_t i = 0; i < headers.count && !found; ++i) {
    const http::Header& h = headers.items[i];
    if (!http::iequals(h.name, "Sec-WebSocket-Protocol")) continue;
    for_each_element(h.value, [&](std::string_view element) { found |= element == protocol; });
  }
  return found;
}

// All lines of a list header joined with ", " (RFC 9110 §5.3 makes them equivalent).
std::string joined_values(const http::HeaderList& headers, std::string_view name) {
  std::string joined;
  for (std::size_t i = 0; i < headers.count; ++i) {
    const http::Header& h = headers.items[i];
    if (!http::iequals(h.name, name) || h.value.empty()) continue;
    if (!joined.empty()) joined.append(", ");
    joined.append(h.value);
  }
  return joined;
}

// Header values we write come partly from configuration; a CR or LF in them must not split
// the request, so they are replaced (the same rule as http::format_response).
void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  for (char c : value) out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
  out.append("\r\n");
}

ServerHandshake refuse(int status, std::string message, HeaderPairs headers = {}) {
  ServerHandshake result;
  result.status = status;
  result.response = http::error_response(status, message, std::move(headers));
  result.error = std::move(message);
  return result;
}

// The checks of §4.2.1 that make a request a WebSocket handshake at all; the first failure is
// returned as a complete refusal, nullopt if the request passes.
std::optional<ServerHandshake> check_request(const http::Request& request,
                                             const ServerHandshakeOptions& options) {
  const http::HeaderList& headers = request.headers;
  if (request.method != "GET") {
    return refuse(405, "WebSocket handshake must use GET", {{"Allow", "GET"}});
  }
  if (request.version_minor != 1) return refuse(400, "WebSocket handshake needs HTTP/1.1");
  if (headers.count_of("Host") != 1) return refuse(400, "exactly one Host header is required");
  if (!any_has_token(headers, "Upgrade", "websocket")) {
    return refuse(400, "missing Upgrade: websocket");
  }
  if (!any_has_token(headers, "Connection", "upgrade")) {
    return refuse(400, "Connection header lacks the upgrade token");
  }
  // §4.2.2: an unsupported version is answered with the versions we speak, so a client can
  // retry; checked before the key so that old-draft clients get that hint.
  if (headers.count_of("Sec-WebSocket-Version") != 1 ||
      headers.get("Sec-WebSocket-Version") != "13") {
    return refuse(426, "unsupported Sec-WebSocket-Version (13 required)",
                  {{"Sec-WebSocket-Version", "13"}});
  }
  if (headers.count_of("Sec-WebSocket-Key") != 1 ||
      !valid_client_key(*headers.get("Sec-WebSocket-Key"))) {
    return refuse(400, "Sec-WebSocket-Key must be one base64-encoded 16-byte value");
  }
  // Origin protects browsers' users from cross-site pages (§10.2). Non-browser clients send
  // none, so a missing Origin is accepted; serialized origins (scheme://host[:port]) compare
  // case-insensitively as a whole since the port is numeric.
  if (!options.allowed_origins.empty() && headers.count_of("Origin") > 0) {
    const std::string_view origin = *headers.get("Origin");
    const bool allowed =
        headers.count_of("Origin") == 1 &&
        std::any_of(options.allowed_origins.begin(), options.allowed_origins.end(),
                    [&](const std::string& o) { return http::iequals(o, origin); });
    if (!allowed) return refuse(403, "Origin not allowed");
  }
  return std::nullopt;
}

}  // namespace

std::string accept_key(std::string_view client_key) {
  std::string input;
  input.reserve(client_key.size() + kGuid.size());
  input.append(client_key);
  input.append(kGuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) !=
      1) {
    return {};  // only on a broken libcrypto; the empty value fails any comparison
  }
  return base64(digest.data(), digest_size);
}

bool is_upgrade_request(const http::Request& request) {
  return any_has_token(request.headers, "Upgrade", "websocket");
}

ServerHandshake accept_upgrade(const http::Request& request,
                               const ServerHandshakeOptions& options) {
  if (auto refusal = check_request(request, options)) return std::move(*refusal);

  ServerHandshake result;
  result.accepted = true;
  result.status = 101;

  // §4.2.2 item 5.4: the server picks; we take its own preference order, among whatever the
  // client offered. No overlap is not an error: the answer just names no protocol.
  for (const std::string& protocol : options.subprotocols) {
    if (offered_protocol(request.headers, protocol)) {
      result.subprotocol = protocol;
      break;
    }
  }
  if (options.negotiate_extensions) {
    const std::string offers = joined_values(request.headers, "Sec-WebSocket-Extensions");
    if (!offers.empty()) result.extensions = options.negotiate_extensions(offers);
  }

  http::ResponseHead head;
  head.status = 101;
  head.headers.reserve(5 + options.extra_headers.size());
  head.headers.emplace_back("Upgrade", "websocket");
  head.headers.emplace_back("Connection", "Upgrade");
  head.headers.emplace_back("Sec-WebSocket-Accept",
                            accept_key(*request.headers.get("Sec-WebSocket-Key")));
  if (!result.subprotocol.empty()) {
    head.headers.emplace_back("Sec-WebSocket-Protocol", result.subprotocol);
  }
  if (!result.extensions.empty()) {
    head.headers.emplace_back("Sec-WebSocket-Extensions", result.extensions);
  }
  head.headers.insert(head.headers.end(), options.extra_headers.begin(),
                      options.extra_headers.end());
  result.response = http::format_response(head);
  return result;
}

// ---- client role ----

namespace {

bool set_error(std::string* error, std::string_view message) {
  if (error) error->assign(message);
  return false;
}

// reg-name characters of RFC 3986 (unreserved, sub-delims, pct-encoded '%'), which keeps
// spaces, '@' (userinfo is not part of a ws-URI) and control bytes out of the Host header.
bool is_host_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~%!$&'()*+,;=").find(c) != std::string_view::npos;
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

// Splits "host[:port]" / "[v6]:port" into url.host and url.port.
bool parse_authority(std::string_view authority, Url& url, std::string* error) {
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return set_error(error, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_ipv6_char)) {
      return set_error(error, "invalid IPv6 literal");
    }
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return set_error(error, "junk after IPv6 literal");
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return set_error(error, "empty host");
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
      return set_error(error, "invalid character in host");
    }
  }
  url.host.assign(host);

  if (has_port) {
    // Digits only: from_chars would stop at junk (checked anyway) but this keeps "+80" out.
    const bool digits = !port.empty() && std::all_of(port.begin(), port.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return set_error(error, "port is not a number");
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size()) value = 0;  // overflow
    if (value == 0 || value > 65535) return set_error(error, "port out of range");
    url.port = static_cast<std::uint16_t>(value);
  }
  return true;
}

}  // namespace

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  Url url;
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    set_error(error, "not a ws:// or wss:// URL");
    return std::nullopt;
  }
  const std::string_view scheme = text.substr(0, sep);
  if (http::iequals(scheme, "wss")) {
    url.secure = true;
  } else if (!http::iequals(scheme, "ws")) {
    set_error(error, "scheme must be ws or wss");
    return std::nullopt;
  }
  url.port = url.secure ? 443 : 80;

  // §3: "Fragment identifiers are meaningless in the context of WebSocket URIs".
  const std::string_view rest = text.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) {
    set_error(error, "fragments are not allowed in WebSocket URLs");
    return std::nullopt;
  }
  const std::size_t path_start = rest.find_first_of("/?");
  if (!parse_authority(rest.substr(0, path_start), url, error)) return std::nullopt;

  std::string_view resource =
      path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  // The resource goes verbatim into the request line: spaces or control bytes would break it.
  if (!std::all_of(resource.begin(), resource.end(), [](char c) { return c > 0x20 && c < 0x7F; })) {
    set_error(error, "invalid character in path");
    return std::nullopt;
  }
  url.resource.clear();
  if (resource.empty() || resource.front() == '?') url.resource = "/";
  url.resource.append(resource);

  const bool ipv6 = url.host.find(':') != std::string::npos;
  url.host_header = ipv6 ? "[" + url.host + "]" : url.host;
  if (url.port != (url.secure ? 443 : 80)) url.host_header += ":" + std::to_string(url.port);
  return url;
}

std::string make_client_key() {
  std::array<std::uint8_t, kKeyBytes> bytes{};
  secure_random(bytes.data(), bytes.size());
  return base64(bytes.data(), bytes.size());
}

std::string build_client_request(const Url& url, std::string_view key,
                                 const ClientHandshakeOptions& options) {
  std::string out;
  out.reserve(256);
  out.append("GET ");
  out.append(url.resource.empty() ? "/" : url.resource);
  out.append(" HTTP/1.1\r\n");
  append_header(out, "Host", url.host_header);
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Key", key);
  append_header(out, "Sec-WebSocket-Version", "13");
  if (!options.origin.empty()) append_header(out, "Origin", options.origin);
  if (!options.subprotocols.empty()) {
    std::string list;
    for (const std::string& protocol : options.subprotocols) {
      if (!list.empty()) list.append(", ");
      list.append(protocol);
    }
    append_header(out, "Sec-WebSocket-Protocol", list);
  }
  if (!options.extensions.empty())
    append_header(out, "Sec-WebSocket-Extensions", options.extensions);
  for (const auto& [name, value] : options.headers) append_header(out, name, value);
  out.append("\r\n");
  return out;
}

ClientHandshake verify_server_response(const http::Response& response, std::string_view key,
                                       const ClientHandshakeOptions& options) {
  ClientHandshake result;
  const http::HeaderList& headers = response.headers;
  auto fail = [&](std::string message) {
    result.error = std::move(message);
    return result;
  };

  // §4.1: the client's checks, in the order the RFC lists them.
  if (response.status != 101) {
    return fail("expected status 101, got " + std::to_string(response.status));
  }
  if (!any_has_token(headers, "Upgrade", "websocket")) return fail("missing Upgrade: websocket");
  if (!any_has_token(headers, "Connection", "upgrade")) {
    return fail("Connection header lacks the upgrade token");
  }
  if (headers.count_of("Sec-WebSocket-Accept") != 1 ||
      *headers.get("Sec-WebSocket-Accept") != accept_key(key)) {
    return fail("wrong or missing Sec-WebSocket-Accept");
  }

  const std::size_t protocol_lines = headers.count_of("Sec-WebSocket-Protocol");
  if (protocol_lines > 0) {
    const std::string_view chosen = *headers.get("Sec-WebSocket-Protocol");
    const bool ours = std::find(options.subprotocols.begin(), options.subprotocols.end(), chosen) !=
                      options.subprotocols.end();
    if (protocol_lines != 1 || !ours) {
      return fail("server chose a subprotocol we did not offer: " + std::string(chosen));
    }
    result.subprotocol.assign(chosen);
  }

  std::string extensions = joined_values(headers, "Sec-WebSocket-Extensions");
  if (!extensions.empty()) {
    if (!options.verify_extensions) return fail("server accepted extensions we did not offer");
    if (std::string why = options.verify_extensions(extensions); !why.empty()) {
      return fail("extension negotiation failed: " + why);
    }
    result.extensions = std::move(extensions);
  }

  result.ok = true;
  return result;
}

}  // namespace gw::ws
