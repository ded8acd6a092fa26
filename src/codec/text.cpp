#include "codec/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>

namespace gw::codec {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the UTF-8 sequence at p[0..n): {length, true} if it is well formed, else
// {length of its maximal ill-formed subpart (at least 1), false} (Unicode 15, table 3-7).
struct Sequence {
  std::size_t length;
  bool valid;
};

Sequence next_sequence(const unsigned char* p, std::size_t n) {
  const unsigned c = p[0];
  if (c < 0x80) return {1, true};
  std::size_t tail;
  unsigned lo = 0x80, hi = 0xBF;  // range of the first continuation byte
  if (c >= 0xC2 && c <= 0xDF) {
    tail = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    tail = 2;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    tail = 3;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {1, false};
  }
  for (std::size_t k = 1; k <= tail; ++k) {
    if (k >= n || p[k] < lo || p[k] > hi) return {k, false};
    lo = 0x80;
    hi = 0xBF;
  }
  return {tail + 1, true};
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Bytes that may be copied into a JSON string as they are: printable ASCII but " and \.
constexpr auto kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();
bool plain_ascii(unsigned char c) {
  return kPlain[c];
}

// The length of the ASCII prefix of p[0..n), eight bytes at a time.
std::size_t ascii_prefix(const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word & 0x8080808080808080u) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
  out.append(u, 6);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  const unsigned char* p = bytes(s);
  const std::size_t n = s.size();
  out.push_back('"');
  std::size_t i = 0;
  while (i < n) {
    std::size_t run = i;  // copy runs of plain bytes in one append
    while (run < n && plain_ascii(p[run])) ++run;
    out.append(s.data() + i, run - i);
    i = run;
    if (i == n) break;
    if (p[i] < 0x80) {
      append_escape(out, p[i]);
      ++i;
      continue;
    }
    const Sequence seq = next_sequence(p + i, n - i);
    if (seq.valid) {
      out.append(s.data() + i, seq.length);
    } else {
      out += kReplacement;
    }
    i += seq.length;
  }
  out.push_back('"');
}

bool is_valid_utf8(std::string_view s) {
  const unsigned char* p = bytes(s);
  for (std::size_t i = ascii_prefix(p, s.size()); i < s.size();) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const Sequence seq = next_sequence(p + i, s.size() - i);
    if (!seq.valid) return false;
    i += seq.length;
  }
  return true;
}

std::string_view sanitize_utf8(std::string_view s, std::string& scratch) {
  if (is_valid_utf8(s)) return s;
  scratch.clear();
  const unsigned char* p = bytes(s);
  for (std::size_t i = 0; i < s.size();) {
    const Sequence seq = next_sequence(p + i, s.size() - i);
    if (seq.valid) {
      scratch.append(s.data() + i, seq.length);
    } else {
      scratch += kReplacement;
    }
    i += seq.length;
  }
  return scratch;
}

namespace {

// Fast path for the common case of prices and amounts: a value that is exactly the double
// nearest to some decimal with at most 8 fractional digits, in [1e-4, 2^51 / 10^k). For the
// smallest such k, the digits units = round(|value| * 10^k) are the shortest that round-trip:
// below 2^51 the product is off by less than a quarter, so no shorter candidate is missed, and
// units / 10^k (both exact, one correctly rounded division) == |value| is precisely the
// round-trip test. A candidate is that close to |value| * 10^k (within 2^-52 of it, relative),
// so farther ones are skipped without dividing. Anything else takes std::to_chars.
bool append_short_decimal(std::string& out, double value) {
  static constexpr double kScale[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  const double magnitude = std::fabs(value);
  if (!(magnitude >= 1e-4)) return false;
  for (std::size_t k = 0; k < std::size(kScale); ++k) {
    const double scaled = magnitude * kScale[k];
    if (scaled >= 0x1p51) return false;
    // Signed conversions: x86-64 has single instructions for these, not for unsigned ones.
    const auto units = static_cast<std::int64_t>(scaled + 0.5);  // exact below 2^52
    const double error = std::fabs(scaled - static_cast<double>(units));
    if (error > scaled * 0x1p-50) continue;
    if (static_cast<double>(units) / kScale[k] != magnitude) continue;
    // Print the digits of units with the point k digits from the right, composed in one
    // buffer and appended once. k is minimal, so the last fractional digit is not 0.
    char text[40];
    char* p = text;
    if (value < 0) *p++ = '-';
    char digits[24];
    char* const end = std::to_chars(digits, digits + sizeof digits, units).ptr;
    const auto count = static_cast<std::size_t>(end - digits);
    if (k == 0) {
      // An integral double keeps its ".0", as Deribit prints reals ("volume":869.0); integer
      // quantities are written with value(int64) and print without it ("amount":21).
      p = std::copy(digits, end, p);
      *p++ = '.';
      *p++ = '0';
    } else if (count > k) {
      p = std::copy(digits, end - k, p);
      *p++ = '.';
      p = std::copy(end - k, end, p);
    } else {
      *p++ = '0';
      *p++ = '.';
      p = std::fill_n(p, k - count, '0');
      p = std::copy(digits, end, p);
    }
    out.append(text, p);
    return true;
  }
  return false;
}

}  // namespace

void append_json_double(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  if (value == 0) {
    out += std::signbit(value) ? "-0.0" : "0.0";
    return;
  }
  if (append_short_decimal(out, value)) return;
  // The shortest digits that round-trip, in scientific form: "-d.ddde+XX".
  char sci[32];
  const auto [end, ec] = std::to_chars(sci, sci + sizeof sci, value, std::chars_format::scientific);
  (void)ec;  // 32 bytes always suffice ("-1.7976931348623157e+308" is 24)
  const char* e =
      static_cast<const char*>(std::memchr(sci, 'e', static_cast<std::size_t>(end - sci)));
  int exponent = 0;
  std::from_chars(e[1] == '+' ? e + 2 : e + 1, end, exponent);
  if (exponent < -4 || exponent >= 16) {  // Python's repr() switches at the same points
    out.append(sci, end);
    return;
  }
  // Plain decimal: gather the significant digits, then place the point.
  const char* m = sci;
  if (*m == '-') out.push_back(*m++);
  char digits[20];
  std::size_t count = 0;
  for (; m < e; ++m) {
    if (*m != '.') digits[count++] = *m;
  }
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out.append(digits, count);
    return;
  }
  const auto integer = static_cast<std::size_t>(exponent) + 1;
  if (count <= integer) {
    out.append(digits, count);
    out.append(integer - count, '0');
    out += ".0";
  } else {
    out.append(digits, integer);
    out.push_back('.');
    out.append(digits + integer, count - integer);
  }
}

void append_base64(std::string& out, std::span<const std::uint8_t> in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = std::uint32_t{in[i]} << 16 | std::uint32_t{in[i + 1]} << 8 | in[i + 2];
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                          kAlphabet[v & 63]};
    out.append(quad, 4);
  }
  if (i == in.size()) return;
  const bool two = i + 2 == in.size();
  const std::uint32_t v = std::uint32_t{in[i]} << 16 | (two ? std::uint32_t{in[i + 1]} << 8 : 0);
  const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63],
                        two ? kAlphabet[(v >> 6) & 63] : '=', '='};
  out.append(quad, 4);
}

}  // namespace gw::codec
