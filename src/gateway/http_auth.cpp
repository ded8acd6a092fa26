#include "gateway/http_auth.hpp"

#include <algorithm>
#include <charconv>

#include "gateway/auth_crypto.hpp"

namespace gw::gateway {
namespace {

constexpr std::size_t kMaxHeaderValue = 16 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
           };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool has_whitespace(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; });
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<HttpAuthorization> parse_basic(std::string_view credentials) {
  const auto decoded = base64_decode(credentials);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == decoded->size()) {
    return std::nullopt;
  }
  HttpAuthorization auth;
  auth.scheme = HttpAuthScheme::basic;
  auth.client_id = decoded->substr(0, colon);
  auth.client_secret = decoded->substr(colon + 1);
  return auth;
}

// id=...,ts=...,sig=...,nonce=... in any order, each exactly once.
std::optional<HttpAuthorization> parse_hmac(std::string_view params) {
  HttpAuthorization auth;
  auth.scheme = HttpAuthScheme::hmac;
  std::optional<std::string_view> id, ts, sig, nonce;
  while (!params.empty()) {
    const std::size_t comma = std::min(params.find(','), params.size());
    const std::string_view item = trim(params.substr(0, comma));
    params.remove_prefix(std::min(comma + 1, params.size()));
    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    const std::string_view name = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    std::optional<std::string_view>* slot = name == "id"      ? &id
                                            : name == "ts"    ? &ts
                                            : name == "sig"   ? &sig
                                            : name == "nonce" ? &nonce
                                                              : nullptr;
    if (!slot) continue;  // a parameter from a later version: ignored
    if (slot->has_value() || value.empty()) return std::nullopt;
    *slot = value;
  }
  if (!id || !ts || !sig || !nonce) return std::nullopt;
  const auto timestamp = parse_int64(*ts);
  if (!timestamp) return std::nullopt;
  auth.client_id = *id;
  auth.timestamp_ms = *timestamp;
  auth.signature = *sig;
  auth.nonce = *nonce;
  return auth;
}

AuthError unauthorized(std::string reason) {
  return {codec::errors::unauthorized, std::move(reason), {}};
}

}  // namespace

std::optional<HttpAuthorization> parse_authorization(std::string_view header_value) {
  if (header_value.size() > kMaxHeaderValue) return std::nullopt;
  const std::string_view value = trim(header_value);
  const std::size_t space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = value.substr(0, space);
  const std::string_view rest = trim(value.substr(space + 1));
  if (rest.empty()) return std::nullopt;
  if (iequals(scheme, "bearer")) {
    if (has_whitespace(rest)) return std::nullopt;
    HttpAuthorization auth;
    auth.scheme = HttpAuthScheme::bearer;
    auth.token = rest;
    return auth;
  }
  if (iequals(scheme, "basic")) return has_whitespace(rest) ? std::nullopt : parse_basic(rest);
  if (iequals(scheme, "deri-hmac-sha256")) return parse_hmac(rest);
  return std::nullopt;
}

bool looks_like_jwt(std::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2;
}

std::string http_signed_rest(const HttpRequestParts& request) {
  std::string rest;
  rest.reserve(request.method.size() + request.uri.size() + request.body.size() + 3);
  rest += request.method;
  rest += '\n';
  rest += request.uri;
  rest += '\n';
  rest += request.body;
  rest += '\n';
  return rest;
}

AuthResult<Identity> authenticate_http(Authenticator& authenticator, std::string_view authorization,
                                       const HttpRequestParts& request, const Caller& caller,
                                       std::int64_t now_ms) {
  if (trim(authorization).empty()) return unauthorized("missing_authorization");
  const auto auth = parse_authorization(authorization);
  if (!auth) return unauthorized("invalid_authorization_header");
  switch (auth->scheme) {
    case HttpAuthScheme::bearer:
      return looks_like_jwt(auth->token)
                 ? authenticator.authenticate_jwt(auth->token, caller, now_ms)
                 : authenticator.validate(auth->token, caller, now_ms);
    case HttpAuthScheme::basic:
      return authenticator.verify_client_secret(auth->client_id, auth->client_secret, caller,
                                                now_ms);
    case HttpAuthScheme::hmac:
      return authenticator.verify_signature(auth->client_id, auth->timestamp_ms, auth->nonce,
                                            auth->signature, http_signed_rest(request), caller,
                                            now_ms, AuthMethod::http_signature);
  }
  return unauthorized("invalid_authorization_header");
}

std::optional<AuthResult<Identity>> authenticate_handshake(Authenticator& authenticator,
                                                           std::string_view authorization,
                                                           std::string_view certificate_sha256,
                                                           const HttpRequestParts& request,
                                                           const Caller& caller,
                                                           std::int64_t now_ms) {
  if (!trim(authorization).empty()) {
    return authenticate_http(authenticator, authorization, request, caller, now_ms);
  }
  if (!certificate_sha256.empty()) {
    return authenticator.authenticate_certificate(certificate_sha256, caller, now_ms);
  }
  return std::nullopt;
}

}  // namespace gw::gateway
