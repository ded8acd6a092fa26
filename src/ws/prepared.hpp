// Fan-out: a server-to-client message framed once, and compressed once per window size, so
// that the same bytes go to every subscriber (WebSocket::send_prepared). Server frames are not
// masked, which is what makes them shareable; a client must frame each message itself.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "net/tcp.hpp"
#include "ws/protocol.hpp"

namespace gw::ws {

class PreparedMessage {
 public:
  // `threshold` and `level` play the role of DeflateOptions' for the compressed variants.
  PreparedMessage(MessageType type, std::span<const std::uint8_t> payload,
                  std::size_t threshold = 64, int level = 6);
  PreparedMessage(const PreparedMessage&) = delete;
  PreparedMessage& operator=(const PreparedMessage&) = delete;

  MessageType type() const { return type_; }
  std::span<const std::uint8_t> payload() const { return payload_; }
  // The message as one unmasked, uncompressed frame.
  const net::SharedBytes& frame() const { return frame_; }
  // The message as one frame compressed for a receiver whose server-side compressor resets
  // after every message (server_no_context_takeover) within 2^window_bits bytes (9..15).
  // Compressed on first use, once, whichever thread asks (thread-safe). nullptr when the
  // payload is under the threshold or does not shrink.
  net::SharedBytes compressed_frame(int window_bits) const;

 private:
  MessageType type_;
  std::vector<std::uint8_t> payload_;
  std::size_t threshold_;
  int level_;
  net::SharedBytes frame_;
  mutable std::array<std::once_flag, 7> compressed_once_;  // window bits 9..15
  mutable std::array<net::SharedBytes, 7> compressed_;
};

}  // namespace gw::ws
