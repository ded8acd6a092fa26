// RFC 6455 §5 frame headers: parsing, serialization and masking, as pure functions over bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gw::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

inline constexpr bool is_control(Opcode op) {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

// Largest header: 2 bytes + 8-byte extended length + 4-byte mask.
inline constexpr std::size_t kMaxFrameHeader = 14;
inline constexpr std::size_t kMaxControlPayload = 125;

struct FrameHeader {
  bool fin = false;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  std::uint8_t opcode = 0;  // raw 4 bits; the protocol layer decides which are legal
  bool masked = false;
  std::uint64_t payload_length = 0;
  std::array<std::uint8_t, 4> mask{};
  std::uint8_t header_length = 0;  // bytes the header occupied on the wire
};

enum class HeaderParse {
  ok,          // `out` is filled, out.header_length bytes consumed
  incomplete,  // fewer bytes than the header needs
  bad_length,  // 64-bit length with the top bit set, or a length not in minimal encoding
};

// Parses one frame header from the start of [data, data+size). Never reads past size.
// Only the syntax is checked here; RSV/opcode/masking rules belong to the protocol layer.
HeaderParse parse_frame_header(const std::uint8_t* data, std::size_t size, FrameHeader& out);

// Writes a frame header into `out` (at least kMaxFrameHeader bytes) and returns its length.
// `mask` null means an unmasked frame (server to client).
std::size_t write_frame_header(std::uint8_t* out, bool fin, Opcode opcode,
                               std::uint64_t payload_length, const std::uint8_t* mask = nullptr,
                               bool rsv1 = false);

// XORs data with the masking key, as if data started at payload offset `offset` (so a payload
// that arrives in pieces can be unmasked piece by piece). Masking and unmasking are the same.
void apply_mask(std::uint8_t* data, std::size_t size, std::array<std::uint8_t, 4> key,
                std::uint64_t offset = 0);

// Close status codes a peer may send (RFC 6455 §7.4, IANA registry); 1005, 1006, 1015 and
// unassigned ranges are not valid on the wire.
bool is_valid_close_code(std::uint16_t code);

namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005;  // never sent: the peer's close had no code
inline constexpr std::uint16_t abnormal = 1006;   // never sent: TCP closed without a close frame
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t mandatory_extension = 1010;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

}  // namespace gw::ws
