// The opening handshake (RFC 6455 §4), both roles, as pure functions over parsed HTTP heads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/parser.hpp"

namespace gw::ws {

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), RFC 6455 §1.3.
std::string accept_key(std::string_view client_key);

// ---- server role ----

struct ServerHandshakeOptions {
  std::vector<std::string> subprotocols;     // in server preference order; empty: none offered
  std::vector<std::string> allowed_origins;  // empty: any Origin (or none) is accepted
  // Extension negotiation hook: given the client's Sec-WebSocket-Extensions values (all header
  // lines joined with ", "), returns the value to answer with (empty: no extension accepted).
  // permessage-deflate plugs in here.
  std::function<std::string(std::string_view offers)> negotiate_extensions;
  std::vector<std::pair<std::string, std::string>> extra_headers;  // added to a 101 answer
};

struct ServerHandshake {
  bool accepted = false;
  int status = 0;           // 101 when accepted; otherwise 400, 403, 405, 426
  std::string response;     // complete HTTP response bytes to write
  std::string subprotocol;  // chosen one, empty if none
  std::string extensions;   // accepted extensions, empty if none
  std::string error;        // why it was refused (for logs and tests)
};

// Checks an upgrade request and builds the answer: 101 Switching Protocols, or 400 (not a valid
// handshake: HTTP/1.0, missing Host, no Upgrade: websocket, Connection without the upgrade
// token, missing/invalid key), 405 (not GET, with Allow: GET), 426 (Sec-WebSocket-Version not
// 13, with Sec-WebSocket-Version: 13), 403 (Origin not allowed). Refusals carry Connection: close.
ServerHandshake accept_upgrade(const http::Request& request, const ServerHandshakeOptions& options);

// True if the request asks for a WebSocket upgrade at all (has Upgrade: websocket), so a
// router can tell a plain GET from a broken handshake.
bool is_upgrade_request(const http::Request& request);

// ---- client role ----

struct Url {
  bool secure = false;  // wss://
  std::string host;     // without brackets for IPv6 literals
  std::uint16_t port = 80;
  std::string resource = "/";  // path and query
  std::string host_header;     // host[:port] as it goes into the Host header
};

// Parses ws:// and wss:// URLs (RFC 6455 §3). nullopt with `error` set if malformed
// (other schemes, fragments, bad ports).
std::optional<Url> parse_url(std::string_view text, std::string* error = nullptr);

struct ClientHandshakeOptions {
  std::vector<std::string> subprotocols;  // Sec-WebSocket-Protocol offer, in preference order
  std::string extensions;                 // Sec-WebSocket-Extensions offer, empty: none
  std::string origin;                     // Origin header, empty: none
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (auth)
  // Checks the server's Sec-WebSocket-Extensions answer against our offer; empty string
  // means OK, otherwise the reason to fail. Unset: any extension in the answer fails.
  std::function<std::string(std::string_view answer)> verify_extensions;
};

// A fresh Sec-WebSocket-Key: 16 random bytes from a CSPRNG, base64-encoded.
std::string make_client_key();

// The request head to send.
std::string build_client_request(const Url& url, std::string_view key,
                                 const ClientHandshakeOptions& options);

struct ClientHandshake {
  bool ok = false;
  std::string error;        // why the server's answer is not acceptable
  std::string subprotocol;  // the one the server chose, empty if none
  std::string extensions;   // the server's accepted extensions
};

// Verifies the server's answer: status 101, Upgrade: websocket, Connection: upgrade, the
// Sec-WebSocket-Accept for our key, a subprotocol only if one of ours, extensions per the
// verify hook.
ClientHandshake verify_server_response(const http::Response& response, std::string_view key,
                                       const ClientHandshakeOptions& options);

}  // namespace gw::ws
