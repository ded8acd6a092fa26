#include "ws/prepared.hpp"

#include <algorithm>
#include <string>

#include "ws/deflate.hpp"
#include "ws/frame.hpp"

namespace gw::ws {

namespace {

net::SharedBytes make_frame(MessageType type, std::span<const std::uint8_t> payload,
                            bool compressed) {
  std::uint8_t header[kMaxFrameHeader];
  const std::size_t header_size = write_frame_header(header, true, static_cast<Opcode>(type),
                                                     payload.size(), nullptr, compressed);
  auto bytes = std::make_shared<std::string>();
  bytes->reserve(header_size + payload.size());
  bytes->append(reinterpret_cast<const char*>(header), header_size);
  bytes->append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return bytes;
}

}  // namespace

PreparedMessage::PreparedMessage(MessageType type, std::span<const std::uint8_t> payload,
                                 std::size_t threshold, int level)
    : type_(type),
      payload_(payload.begin(), payload.end()),
      threshold_(threshold),
      level_(level),
      frame_(make_frame(type, payload, false)) {}

net::SharedBytes PreparedMessage::compressed_frame(int window_bits) const {
  if (payload_.size() < threshold_) return nullptr;
  window_bits = std::clamp(window_bits, 9, 15);
  const auto slot = static_cast<std::size_t>(window_bits - 9);
  std::call_once(compressed_once_[slot], [&] {
    // A fresh compressor per message is exactly what a no-context-takeover receiver expects.
    Deflater deflater(window_bits, level_, 8, true);
    std::vector<std::uint8_t> compressed;
    if (deflater.compress(payload_, compressed) && compressed.size() < payload_.size())
      compressed_[slot] = make_frame(type_, compressed, true);
  });
  return compressed_[slot];
}

}  // namespace gw::ws
