// Text helpers shared by the writers: JSON string escaping with invalid UTF-8 replaced, the
// Deribit-style shortest form of doubles, and base64 for binary values in JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gw::codec {

// Appends `s` as a JSON string literal (quotes included). Escapes what RFC 8259 requires
// (", \, U+0000..U+001F, with the short forms \b \f \n \r \t) and nothing else: UTF-8 passes
// through. Each maximal ill-formed UTF-8 subpart is replaced by U+FFFD, because the result goes
// into WebSocket text frames, which a client must reject if they are not valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

// True if `s` is well-formed UTF-8 (RFC 3629).
bool is_valid_utf8(std::string_view s);
// `s` with each maximal ill-formed subpart replaced by U+FFFD, built in `scratch`; `s` itself
// when it is valid (the common case costs one scan and no copy).
std::string_view sanitize_utf8(std::string_view s, std::string& scratch);

// Appends a finite double in its shortest round-trip form, laid out the way Deribit prints
// numbers: plain decimal when the decimal exponent is in [-4, 16) ("0.0005", "202.8",
// "31536000"; an integral value has no ".0", like Deribit's "amount":21), otherwise scientific
// with a signed, at least two-digit exponent ("7.766e-05", "1e+21"). Negative zero is "-0.0",
// the only spelling that keeps its sign through a JSON parser. NaN and infinities are not JSON:
// they are written as null.
void append_json_double(std::string& out, double value);

// The value of one hexadecimal digit (either case), or -1.
constexpr int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends standard base64 (RFC 4648, with padding).
void append_base64(std::string& out, std::span<const std::uint8_t> bytes);

}  // namespace gw::codec
