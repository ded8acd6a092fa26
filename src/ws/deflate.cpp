#include "ws/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>

namespace gw::ws {

namespace {

constexpr std::string_view kName = "permessage-deflate";
constexpr std::uint8_t kTail[4] = {0x00, 0x00, 0xFF, 0xFF};  // §7.2.1: removed by the sender

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on `separator` outside quoted strings. False if a quote is left open.
bool split_outside_quotes(std::string_view text, char separator,
                          std::vector<std::string_view>& parts) {
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (quoted) return false;
  parts.push_back(text.substr(start));
  return true;
}

// A parameter value: a token, or a quoted string (unescaped).
std::optional<std::string> parse_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  if (!is_token(v)) return std::nullopt;
  return std::string(v);
}

// 8..15 in plain decimal (RFC 7692 §7.1.2: 1*DIGIT, no leading zero).
std::optional<int> parse_window_bits(const std::optional<std::string>& value) {
  if (!value || value->empty() || value->front() == '0') return std::nullopt;
  int bits = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, bits);
  if (ec != std::errc{} || ptr != end || bits < 8 || bits > 15) return std::nullopt;
  return bits;
}

// The permessage-deflate parameters of one offer or response, each allowed once (§7).
struct Parameters {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::optional<int> server_max_window_bits;
  bool client_max_window_bits = false;  // present (with or without a value)
  std::optional<int> client_max_window_bits_value;
};

std::optional<Parameters> read_parameters(const ExtensionOffer& offer, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Parameters> {
    if (error != nullptr) *error = std::move(why);
    return std::nullopt;
  };
  Parameters p;
  bool seen[4] = {false, false, false, false};
  for (const auto& [name, value] : offer.params) {
    int index = -1;
    if (name == "server_no_context_takeover") index = 0;
    if (name == "client_no_context_takeover") index = 1;
    if (name == "server_max_window_bits") index = 2;
    if (name == "client_max_window_bits") index = 3;
    if (index < 0) return fail("unknown parameter " + name);
    if (seen[index]) return fail("duplicate parameter " + name);
    seen[index] = true;
    switch (index) {
      case 0:
      case 1:
        if (value) return fail(name + " takes no value");
        (index == 0 ? p.server_no_context_takeover : p.client_no_context_takeover) = true;
        break;
      case 2:
        p.server_max_window_bits = parse_window_bits(value);
        if (!p.server_max_window_bits) return fail("bad server_max_window_bits");
        break;
      default:
        p.client_max_window_bits = true;
        if (value) {
          p.client_max_window_bits_value = parse_window_bits(value);
          if (!p.client_max_window_bits_value) return fail("bad client_max_window_bits");
        }
        break;
    }
  }
  return p;
}

}  // namespace

std::optional<std::vector<ExtensionOffer>> parse_extensions(std::string_view header) {
  std::vector<std::string_view> elements;
  if (!split_outside_quotes(header, ',', elements)) return std::nullopt;
  std::vector<ExtensionOffer> result;
  for (std::string_view element : elements) {
    element = trim(element);
    if (element.empty()) continue;  // tolerate empty list elements (RFC 9110 §5.6.1)
    std::vector<std::string_view> parts;
    split_outside_quotes(element, ';', parts);
    ExtensionOffer offer;
    offer.name = std::string(trim(parts[0]));
    if (!is_token(offer.name)) return std::nullopt;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      const std::string_view part = trim(parts[i]);
      const auto eq = part.find('=');
      const std::string_view name = trim(part.substr(0, eq));
      if (!is_token(name)) return std::nullopt;
      std::optional<std::string> value;
      if (eq != std::string_view::npos) {
        value = parse_value(trim(part.substr(eq + 1)));
        if (!value) return std::nullopt;
      }
      offer.params.emplace_back(std::string(name), std::move(value));
    }
    result.push_back(std::move(offer));
  }
  return result;
}

std::string negotiate_deflate(std::string_view offers, const DeflateOptions& options) {
  if (!options.enabled) return {};
  const auto list = parse_extensions(offers);
  if (!list) return {};
  for (const ExtensionOffer& offer : *list) {
    if (offer.name != kName) continue;
    const auto p = read_parameters(offer, nullptr);
    if (!p) continue;  // §7: decline an offer with invalid or duplicate parameters
    std::string response(kName);
    // §7.1.1: the server may always announce either no-context-takeover.
    if (p->server_no_context_takeover || options.no_context_takeover)
      response += "; server_no_context_takeover";
    if (p->client_no_context_takeover || options.request_peer_no_context_takeover)
      response += "; client_no_context_takeover";
    // §7.1.2.1: answer a requested limit with the same or a smaller one; a window of 8 is
    // accepted too (zlib cannot compress with it, so we then send every message uncompressed,
    // which the RFC allows). Without a request the parameter must not appear; our compressor
    // may still use a smaller window than the peer's 32 KiB, which any decoder handles.
    if (p->server_max_window_bits) {
      const int bits = std::min(*p->server_max_window_bits, options.max_window_bits);
      response += "; server_max_window_bits=" + std::to_string(bits);
    }
    // client_max_window_bits is not limited: our decompressor always has a 32 KiB window.
    return response;
  }
  return {};
}

std::string deflate_offer(const DeflateOptions& options) {
  std::string offer(kName);
  if (options.request_peer_no_context_takeover) offer += "; server_no_context_takeover";
  if (options.no_context_takeover) offer += "; client_no_context_takeover";
  offer += "; client_max_window_bits";
  if (options.max_window_bits < 15) offer += "=" + std::to_string(options.max_window_bits);
  return offer;
}

std::optional<DeflateParams> parse_deflate_response(std::string_view response,
                                                    const DeflateOptions& options,
                                                    std::string* error) {
  auto fail = [&](std::string why) -> std::optional<DeflateParams> {
    if (error != nullptr) *error = std::move(why);
    return std::nullopt;
  };
  const auto list = parse_extensions(response);
  if (!list) return fail("malformed Sec-WebSocket-Extensions");
  if (list->size() != 1 || (*list)[0].name != kName)
    return fail("unexpected extension in the response: " + std::string(response));
  const auto p = read_parameters((*list)[0], error);
  if (!p) return std::nullopt;
  DeflateParams params;
  params.server_no_context_takeover = p->server_no_context_takeover;
  params.client_no_context_takeover = p->client_no_context_takeover;
  if (p->server_max_window_bits) params.server_max_window_bits = *p->server_max_window_bits;
  if (p->client_max_window_bits) {
    if (!p->client_max_window_bits_value) return fail("client_max_window_bits needs a value");
    params.client_max_window_bits = *p->client_max_window_bits_value;
    if (params.client_max_window_bits > options.max_window_bits)
      return fail("client_max_window_bits above the offered limit");
  }
  return params;
}

DeflateConfig deflate_config(bool is_server, const DeflateParams& params,
                             const DeflateOptions& options) {
  DeflateConfig config;
  const int agreed = is_server ? params.server_max_window_bits : params.client_max_window_bits;
  config.compress_window_bits = std::min(agreed, options.max_window_bits);
  // zlib's raw deflate cannot use a 256-byte window; messages then go uncompressed.
  config.compress = config.compress_window_bits >= 9;
  config.compress_reset =
      options.no_context_takeover ||
      (is_server ? params.server_no_context_takeover : params.client_no_context_takeover);
  config.decompress_reset =
      is_server ? params.client_no_context_takeover : params.server_no_context_takeover;
  config.level = std::clamp(options.level, 1, 9);
  config.mem_level = std::clamp(options.mem_level, 1, 9);
  config.threshold = options.threshold;
  return config;
}

// ---- Deflater ----

struct Deflater::State {
  z_stream z{};
  bool ready = false;
};

Deflater::Deflater(int window_bits, int level, int mem_level, bool reset_each_message)
    : state_(std::make_unique<State>()), reset_each_message_(reset_each_message) {
  state_->ready = deflateInit2(&state_->z, level, Z_DEFLATED, -window_bits, mem_level,
                               Z_DEFAULT_STRATEGY) == Z_OK;
}

Deflater::~Deflater() {
  if (state_->ready) deflateEnd(&state_->z);
}

bool Deflater::compress(std::span<const std::uint8_t> message, std::vector<std::uint8_t>& out) {
  if (!state_->ready) return false;
  z_stream& z = state_->z;
  const std::size_t start = out.size();
  z.next_in = const_cast<Bytef*>(message.data());
  z.avail_in = static_cast<uInt>(message.size());
  // deflateBound() covers the input; a sync flush adds at most a few bytes more.
  std::size_t room = deflateBound(&z, static_cast<uLong>(message.size())) + 16;
  for (;;) {
    const std::size_t used = out.size();
    out.resize(used + room);
    z.next_out = out.data() + used;
    z.avail_out = static_cast<uInt>(room);
    const int rc = deflate(&z, Z_SYNC_FLUSH);
    out.resize(used + room - z.avail_out);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    if (z.avail_in == 0 && z.avail_out != 0) break;
    room = std::max<std::size_t>(room, 1024);
  }
  // §7.2.1: drop the 00 00 FF FF that ends a sync flush.
  if (out.size() - start >= 4 && std::equal(kTail, kTail + 4, out.end() - 4))
    out.resize(out.size() - 4);
  if (reset_each_message_) deflateReset(&z);
  return true;
}

// ---- Inflater ----

struct Inflater::State {
  z_stream z{};
  bool ready = false;
};

Inflater::Inflater(bool reset_each_message)
    : state_(std::make_unique<State>()), reset_each_message_(reset_each_message) {
  // Always a 32 KiB window: it decodes streams made with any smaller window.
  state_->ready = inflateInit2(&state_->z, -15) == Z_OK;
}

Inflater::~Inflater() {
  if (state_->ready) inflateEnd(&state_->z);
}

Inflater::Result Inflater::inflate(std::span<const std::uint8_t> piece,
                                   std::vector<std::uint8_t>& out, std::size_t limit) {
  if (!state_->ready) return Result::bad_data;
  z_stream& z = state_->z;
  z.next_in = const_cast<Bytef*>(piece.data());
  z.avail_in = static_cast<uInt>(piece.size());
  // Output may grow to limit + 1 bytes: reaching that extra byte proves the message is too big,
  // and memory never goes further. Room grows geometrically from a small start, so a short
  // message does not pay for zero-filling a large buffer.
  const std::size_t cap = limit + 1;
  for (;;) {
    const std::size_t used = out.size();
    if (used >= cap) return Result::too_big;
    const std::size_t room =
        std::min(cap - used, std::max<std::size_t>({1024, used, piece.size() * 4}));
    out.resize(used + room);
    z.next_out = out.data() + used;
    z.avail_out = static_cast<uInt>(room);
    const int rc = ::inflate(&z, Z_SYNC_FLUSH);
    out.resize(used + room - z.avail_out);
    if (out.size() > limit) return Result::too_big;
    if (rc == Z_STREAM_END) {
      // A final block ended the stream (allowed, §7.2.3.3): the next data starts a new one.
      inflateReset(&z);
      if (z.avail_in == 0) return Result::ok;
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress: either the output was full (grow it and go on) or the input is used up.
      if (z.avail_out == 0) continue;
      if (z.avail_in == 0) return Result::ok;
      return Result::bad_data;
    }
    if (rc != Z_OK) return Result::bad_data;
    if (z.avail_in == 0 && z.avail_out != 0) return Result::ok;
  }
}

Inflater::Result Inflater::finish(std::vector<std::uint8_t>& out, std::size_t limit) {
  const Result result = inflate({kTail, sizeof kTail}, out, limit);
  if (reset_each_message_ && state_->ready) inflateReset(&state_->z);
  return result;
}

}  // namespace gw::ws
