// The small cryptographic and encoding helpers that the account store, the authenticator, the
// HTTP Authorization parser and the JWT verifier share: OpenSSL's CSPRNG, SHA-256, HMAC-SHA256,
// constant-time comparison, hex and (strict) base64 / base64url.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::gateway {

using Sha256Digest = std::array<std::uint8_t, 32>;

// `count` bytes from OpenSSL's CSPRNG (RAND_bytes). Throws std::runtime_error if the generator
// fails (it never returns predictable bytes silently).
std::string random_bytes(std::size_t count);

// A random string of `length` characters drawn uniformly (rejection sampling, no modulo bias)
// from [A-Za-z0-9]: URL-safe and unambiguous to copy.
std::string random_alphanumeric(std::size_t length);

Sha256Digest sha256(std::string_view data);

// Lowercase hex of HMAC-SHA256(key, message): Deribit's client_signature format.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// Compares in time that depends on the lengths only (CRYPTO_memcmp), never on where the first
// difference is: for secrets and signatures.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string to_hex(std::string_view bytes);  // lowercase

// Base64url without padding (RFC 4648 section 5), as JWTs and our tokens use it.
std::string base64url_encode(std::string_view bytes);
// Strict: only the URL-safe alphabet, no padding, no whitespace, unused trailing bits zero.
std::optional<std::string> base64url_decode(std::string_view text);
// Standard base64 with padding (HTTP Basic). Strict in the same way, padding required.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace gw::gateway
