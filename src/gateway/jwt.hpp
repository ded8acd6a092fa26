// Verification of compact JWS tokens (JWTs) that clients present at the WebSocket handshake as
// `Authorization: Bearer <JWT>`, signed with a key registered to their account.
//
// Accepted: header {"alg":"EdDSA"|"ES256","kid":ID[,"typ":"JWT"]}, claims {"sub":ACCOUNT,
// "exp":T[,"nbf":T][,"iat":T][,"scope":"..."]}. EdDSA is Ed25519 (RFC 8037); ES256 is ECDSA on
// P-256 with SHA-256 and the signature as the 64 bytes r||s (RFC 7518 section 3.4), converted to
// DER for OpenSSL. Refused: any other alg (none, HS256 and every HMAC — a public key must never
// be usable as an HMAC secret — RS*, PS*, ES384...), a header with `crit`, a token without `exp`,
// one whose `kid` is not among the account's keys or whose key is of another algorithm,
// duplicate header or claim names, and tokens above 8 KiB. `exp` and `nbf` are enforced with a
// small leeway for clock skew.
//
// The claims are read before the signature is checked only to learn which account's keys to
// try (`sub`); nothing else in them is trusted until the signature verifies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/account_store.hpp"

namespace gw::gateway {

enum class JwtAlgorithm : std::uint8_t { eddsa, es256 };

std::optional<JwtAlgorithm> jwt_algorithm_named(std::string_view name);  // "EdDSA", "ES256"
std::string_view jwt_algorithm_name(JwtAlgorithm algorithm);

// The algorithm a PEM public key (SubjectPublicKeyInfo) can verify: Ed25519 → EdDSA,
// EC P-256 → ES256. nullopt (and `error`) for anything else or unparsable PEM.
std::optional<JwtAlgorithm> jwt_algorithm_for_public_key(std::string_view pem,
                                                         std::string* error = nullptr);

struct JwtClaims {
  std::string subject;  // sub: the account name
  std::string key_id;   // the header's kid
  JwtAlgorithm algorithm = JwtAlgorithm::eddsa;
  std::int64_t expires_at_s = 0;             // exp (seconds since the epoch)
  std::optional<std::int64_t> not_before_s;  // nbf
  std::string scope;                         // optional scope claim (narrows the grant)
};

enum class JwtFailure : std::uint8_t {
  none,
  malformed,              // not three base64url parts of JSON objects, too long, duplicate names
  unsupported_algorithm,  // alg none, HS*, RS*, ..., or `crit`
  missing_claim,          // no sub or no exp
  unknown_key,            // the account has no key with that kid and algorithm
  bad_signature,
  expired,        // now > exp + leeway
  not_yet_valid,  // now < nbf - leeway
};

std::string_view jwt_failure_name(JwtFailure failure);

struct JwtResult {
  std::optional<JwtClaims> claims;  // set only when the token verified
  JwtFailure failure = JwtFailure::none;
  std::string detail;

  explicit operator bool() const { return claims.has_value(); }
};

inline constexpr std::size_t kMaxJwtSize = 8192;
inline constexpr std::int64_t kJwtLeewaySeconds = 30;

// The public keys registered to the account named by `sub` (empty if no such account).
using JwtKeyLookup = std::function<std::vector<JwtPublicKey>(std::string_view subject)>;

JwtResult verify_jwt(std::string_view token, const JwtKeyLookup& keys_for_subject,
                     std::int64_t now_s, std::int64_t leeway_s = kJwtLeewaySeconds);

}  // namespace gw::gateway
