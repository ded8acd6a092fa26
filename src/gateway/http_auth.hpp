// HTTP `Authorization` headers, as Deribit's REST API accepts them, for GET/POST
// /api/v2/private/... and for the WebSocket handshake:
//
//   bearer <access_token>                 a token from public/auth (scheme case-insensitive)
//   Bearer <JWT>                          header.payload.signature, verified against the
//                                         account's registered keys (jwt.hpp)
//   Basic base64(client_id:client_secret)
//   deri-hmac-sha256 id=CLIENT_ID,ts=MILLISECONDS,sig=HEX,nonce=NONCE
//       sig = hex HMAC-SHA256(client_secret, ts\nnonce\nMETHOD\nURI\nBODY\n), URI being the
//       request target as sent (path and query), BODY the raw body (empty for GET); the same
//       ±60 s window and single-use nonce as client_signature.
//
// Basic and deri-hmac-sha256 authenticate the one request; no token is issued.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/auth.hpp"

namespace gw::gateway {

enum class HttpAuthScheme : std::uint8_t { bearer, basic, hmac };

struct HttpAuthorization {
  HttpAuthScheme scheme = HttpAuthScheme::bearer;
  std::string token;              // bearer: an access token or a JWT
  std::string client_id;          // basic, hmac
  std::string client_secret;      // basic
  std::int64_t timestamp_ms = 0;  // hmac
  std::string signature;          // hmac
  std::string nonce;              // hmac
};

// nullopt for an unknown scheme or a malformed value.
std::optional<HttpAuthorization> parse_authorization(std::string_view header_value);

// A bearer credential with three dot-separated parts is a JWT; our access tokens have two.
bool looks_like_jwt(std::string_view token);

struct HttpRequestParts {
  std::string_view method;  // "GET", "POST"
  std::string_view uri;     // the request target: "/api/v2/private/get_positions?currency=BTC"
  std::string_view body;
};

// What deri-hmac-sha256 signs after "ts\nnonce\n": "METHOD\nURI\nBODY\n".
std::string http_signed_rest(const HttpRequestParts& request);

// Authenticates a request by its Authorization header. A missing header is 13009 unauthorized
// (reason "missing_authorization"), a malformed one 13009 ("invalid_authorization_header");
// otherwise the errors of the Authenticator call it maps to.
AuthResult<Identity> authenticate_http(Authenticator& authenticator, std::string_view authorization,
                                       const HttpRequestParts& request, const Caller& caller,
                                       std::int64_t now_ms);

// At the WebSocket handshake: the Authorization header if present (any of the forms above),
// else the client certificate's SHA-256 fingerprint if the TLS layer verified one. nullopt when
// neither is present (an anonymous connection, allowed for public methods).
std::optional<AuthResult<Identity>> authenticate_handshake(Authenticator& authenticator,
                                                           std::string_view authorization,
                                                           std::string_view certificate_sha256,
                                                           const HttpRequestParts& request,
                                                           const Caller& caller,
                                                           std::int64_t now_ms);

}  // namespace gw::gateway
