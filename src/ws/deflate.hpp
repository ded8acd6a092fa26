// permessage-deflate (RFC 7692): negotiation of its parameters in both roles, and the
// per-connection compressor and decompressor (zlib raw deflate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::ws {

// What this endpoint is willing to do (configuration).
struct DeflateOptions {
  bool enabled = false;
  int level = 6;             // zlib compression level, 1..9
  int mem_level = 8;         // zlib memLevel, 1..9: deflate state ≈ 2^(mem_level+9) bytes
  int max_window_bits = 15;  // our compressor's LZ77 window, 9..15 (memory ≈ 2^(bits+2) bytes)
  // Reset our compressor after every message (saves its window's memory between messages and
  // lets one compressed frame be sent to many receivers).
  bool no_context_takeover = false;
  // Ask the peer to reset its compressor after every message (so our decompressor keeps no
  // state between messages).
  bool request_peer_no_context_takeover = false;
  std::size_t threshold = 64;  // messages shorter than this go uncompressed
};

// The parameters both sides agreed on, as in the server's response (RFC 7692 §7.1).
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
};

// One extension of a Sec-WebSocket-Extensions list.
struct ExtensionOffer {
  std::string name;
  std::vector<std::pair<std::string, std::optional<std::string>>> params;  // value unquoted
};

// Parses `ext; p; q=1, ext2` (RFC 6455 §9.1 grammar, quoted values allowed). nullopt if the
// header is malformed.
std::optional<std::vector<ExtensionOffer>> parse_extensions(std::string_view header);

// Server role: picks the first permessage-deflate offer it can accept and returns the
// response value ("permessage-deflate; server_no_context_takeover" …), or "" to decline them
// all (invalid parameters, duplicates, unknown parameters: RFC 7692 §5, §7).
std::string negotiate_deflate(std::string_view offers, const DeflateOptions& options);

// Client role: the offer to send.
std::string deflate_offer(const DeflateOptions& options);

// Reads an accepted response (either role: the server's own answer, or the answer a client
// received to `deflate_offer(options)`). nullopt and `error` if it is not a valid answer to
// that offer.
std::optional<DeflateParams> parse_deflate_response(std::string_view response,
                                                    const DeflateOptions& options,
                                                    std::string* error = nullptr);

// How one endpoint runs the extension, derived from the agreed parameters and its role.
struct DeflateConfig {
  bool compress = true;  // false when the window we may use is 8 (see deflate.cpp)
  int compress_window_bits = 15;
  bool compress_reset = false;    // reset our compressor after each message
  bool decompress_reset = false;  // the peer resets: so may we
  int level = 6;
  int mem_level = 8;
  std::size_t threshold = 64;
};
DeflateConfig deflate_config(bool is_server, const DeflateParams& params,
                             const DeflateOptions& options);

// Compresses whole messages (raw deflate, sync flush, the 00 00 FF FF tail removed, §7.2.1).
class Deflater {
 public:
  Deflater(int window_bits, int level, int mem_level, bool reset_each_message);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Appends the compressed form of `message` to `out`. False on a zlib failure.
  bool compress(std::span<const std::uint8_t> message, std::vector<std::uint8_t>& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool reset_each_message_;
};

// Decompresses a message as its frames arrive, never producing more than a limit.
class Inflater {
 public:
  enum class Result { ok, too_big, bad_data };

  explicit Inflater(bool reset_each_message);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates a piece of a compressed message, appending to `out`; fails with too_big as soon as
  // `out` would exceed `limit` bytes (so a compression bomb never gets further than that).
  Result inflate(std::span<const std::uint8_t> piece, std::vector<std::uint8_t>& out,
                 std::size_t limit);
  // The message's last frame has been inflated: adds the removed 00 00 FF FF tail and
  // resets the stream if the sender does not keep its context.
  Result finish(std::vector<std::uint8_t>& out, std::size_t limit);

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool reset_each_message_;
};

}  // namespace gw::ws
