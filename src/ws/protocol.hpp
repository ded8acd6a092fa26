// The RFC 6455 protocol state machine for one connection, in either role, independent of I/O.
//
// Bytes received go in through feed(); complete messages, pings, pongs and the close come out
// through a ProtocolHandler; bytes to send accumulate in output(), which the I/O layer writes
// and then trims with consume_output(). Nothing here touches a socket, a clock or a thread, so
// every rule can be tested, and fuzzed, over plain byte arrays.
//
// Rules enforced (each failure sends a close frame with the code the RFC names, then the state
// becomes `closed`): masking by role (1002), RSV bits not negotiated (1002), reserved opcodes
// (1002), control frames > 125 bytes or fragmented (1002), continuation without a message or a
// new message inside one (1002), bad length encoding (1002), text that is not UTF-8, checked
// incrementally and failing on the first bad frame (1007), messages over max_message_size
// (1009), close payloads of 1 byte or with invalid codes (1002) or non-UTF-8 reasons (1007).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/utf8.hpp"

namespace gw::ws {

enum class Role { server, client };
enum class MessageType : std::uint8_t { text = 1, binary = 2 };

struct ProtocolOptions {
  std::size_t max_message_size = 16 * 1024 * 1024;  // larger incoming messages fail with 1009
  bool auto_pong = true;          // answer every ping with a pong carrying its payload
  std::uint8_t allowed_rsv = 0;   // RSV bits an extension negotiated: 0x4 RSV1, 0x2, 0x1
  std::size_t fragment_size = 0;  // split outgoing messages into frames this big; 0 = never
};

class ProtocolHandler {
 public:
  virtual ~ProtocolHandler() = default;
  // A complete text or binary message (text is valid UTF-8). The span is valid only during the
  // call; it is mutable so that a handler may transform it in place.
  virtual void on_message(MessageType type, std::span<std::uint8_t> payload) = 0;
  virtual void on_ping(std::span<const std::uint8_t> /*payload*/) {}
  virtual void on_pong(std::span<const std::uint8_t> /*payload*/) {}
  // Called once, when the state becomes `closed`: `code` is the peer's close code (1005 if its
  // close frame had none) or the code we failed the connection with; `by_peer` tells which.
  virtual void on_close(std::uint16_t /*code*/, std::string_view /*reason*/, bool /*by_peer*/) {}
};

class Protocol {
 public:
  enum class State {
    open,     // messages flow both ways
    closing,  // we sent a close frame and wait for the peer's
    closed,   // close frames exchanged, or the connection failed: flush output(), then close
              // the transport (a server at once; a client after the server closes or a timeout)
  };

  Protocol(Role role, const ProtocolOptions& options, ProtocolHandler& handler);

  // Consumes received bytes. They may be modified in place (unmasking) and need not stay valid
  // after the call: the part of a frame still incomplete is copied. Handler callbacks run from
  // inside feed(). Bytes arriving after the state became `closed` are ignored.
  void feed(std::span<std::uint8_t> data);

  // Queues a message (fragmented per options.fragment_size). False if we already sent a close.
  bool send(MessageType type, std::span<const std::uint8_t> payload);
  bool send_text(std::string_view text);
  // Queues one frame of a message the caller fragments itself (first frame: text or binary;
  // then continuation). False if we already sent a close.
  bool send_frame(Opcode opcode, std::span<const std::uint8_t> payload, bool fin);
  bool ping(std::span<const std::uint8_t> payload = {});  // payload ≤ 125 bytes
  bool pong(std::span<const std::uint8_t> payload = {});  // unsolicited pong, ≤ 125 bytes

  // Turns permessage-deflate on (after the handshake negotiated it): RSV1 becomes legal on a
  // message's first frame, compressed messages are inflated (bounded by max_message_size) and
  // messages of at least config.threshold bytes are sent compressed.
  void enable_deflate(const DeflateConfig& config);
  bool deflate_enabled() const { return inflater_ != nullptr; }
  // Our compressor's settings, or nullptr when we do not compress what we send.
  const DeflateConfig* compressor_config() const { return deflater_ ? &deflate_config_ : nullptr; }
  // A whole message may be queued now (open, and not in the middle of a fragmented one).
  bool can_send_message() const { return state_ == State::open && !sending_message_; }

  // Starts the close handshake (no-op unless open). `code` must be valid on the wire and the
  // reason ≤ 123 bytes of UTF-8 (it is cut at a code point boundary if longer).
  void close(std::uint16_t code = close_code::normal, std::string_view reason = {});

  // Bytes waiting to be written, in order.
  const std::vector<std::uint8_t>& output() const { return out_; }
  std::vector<std::uint8_t>& output() { return out_; }
  void consume_output(std::size_t n);

  State state() const { return state_; }
  Role role() const { return role_; }
  bool failed() const { return failed_; }  // we detected a violation and failed the connection
  std::uint16_t close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }

 private:
  // Implementation-defined; see protocol.cpp.
  void fail(std::uint16_t code, std::string_view reason);
  void append_frame(Opcode opcode, std::span<const std::uint8_t> payload, bool fin,
                    bool rsv1 = false);
  std::size_t read_header(const std::uint8_t* data, std::size_t size);
  bool check_header_start(std::uint8_t b0, std::uint8_t b1);
  void begin_frame();
  std::size_t read_payload(std::uint8_t* data, std::size_t size);
  std::size_t read_control_payload(std::uint8_t* data, std::size_t size);
  std::size_t read_data_payload(std::uint8_t* data, std::size_t size);
  void end_data_frame();
  void handle_control(std::span<std::uint8_t> payload);
  void handle_close(std::span<const std::uint8_t> payload);
  void become_closed(std::uint16_t code, std::string_view reason, bool by_peer);
  void release_message();

  Role role_;
  ProtocolOptions options_;
  ProtocolHandler& handler_;
  State state_ = State::open;
  bool failed_ = false;
  bool close_sent_ = false;
  bool close_received_ = false;
  bool sending_message_ = false;  // send_frame() started a message that has not ended yet
  std::uint16_t close_code_ = close_code::no_status;
  std::string close_reason_;
  std::vector<std::uint8_t> out_;

  // Parser state.
  std::uint8_t header_[kMaxFrameHeader]{};  // bytes of a header cut by the end of a feed()
  std::uint8_t header_size_ = 0;
  FrameHeader frame_{};
  bool in_frame_ = false;             // header parsed, payload still arriving
  std::uint64_t frame_received_ = 0;  // payload bytes of the current frame seen so far
  bool in_message_ = false;           // a data message is under way (its last frame not seen)
  MessageType message_type_ = MessageType::binary;
  std::vector<std::uint8_t> message_;  // payload of a data message that is not delivered in place
  std::uint8_t control_[kMaxControlPayload]{};  // a control frame cut by the end of a feed()
  Utf8Validator utf8_;

  // permessage-deflate, when negotiated.
  DeflateConfig deflate_config_;
  std::unique_ptr<Deflater> deflater_;
  std::unique_ptr<Inflater> inflater_;
  bool message_compressed_ = false;       // the message being received has RSV1
  std::vector<std::uint8_t> compressed_;  // scratch for outgoing compressed messages
  bool inflate_into_message(const std::uint8_t* data, std::size_t size, bool last);
};

// Fills `out` with bytes from a cryptographically secure generator (OpenSSL's DRBG, drawn in
// blocks so that a masking key costs a few nanoseconds). Thread-safe (per-thread buffer).
void secure_random(std::uint8_t* out, std::size_t size);

}  // namespace gw::ws
