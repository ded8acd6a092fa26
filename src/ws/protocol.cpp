// The RFC 6455 state machine. See protocol.hpp for the rules it enforces.
//
// Parsing is a loop over two steps, "read (the rest of) a header" and "read (the rest of) a
// payload", each consuming at least one byte or closing the connection, so no input can make
// it spin or recurse. Its memory is bounded: at most kMaxFrameHeader bytes of a cut header,
// kMaxControlPayload bytes of a cut control frame and max_message_size bytes of a message.
//
// Zero copy: a payload is unmasked in place in the caller's buffer. A data frame that is a whole
// message and arrived whole in one feed() is delivered straight from that buffer; any other data
// frame is appended, chunk by chunk as it arrives, to message_ (whose capacity is kept between
// messages, so a steady stream allocates nothing). Text is validated as it arrives, so invalid
// UTF-8 fails the connection at the first bad chunk, before the frame or message completes.
//
// Every rule that needs only the first two header bytes (opcode, RSV, FIN, masking, control
// length, fragmentation order) is checked as soon as those two bytes are here, and whichever way
// the input is chopped the same checks run in the same order: the events and output do not
// depend on how the bytes were split between feed() calls.
#include "ws/protocol.hpp"

#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gw::ws {

namespace {

// Buffers that grew beyond this for one big message are released afterwards, so that a
// connection that once carried a 16 MiB message does not keep 16 MiB while idle.
constexpr std::size_t kKeepCapacity = 1024 * 1024;

// Close reasons are at most 123 bytes: 125 bytes of control payload minus the 2-byte code.
constexpr std::size_t kMaxCloseReason = kMaxControlPayload - 2;

constexpr std::uint8_t kOpContinuation = 0x0;
constexpr std::uint8_t kOpBinary = 0x2;
constexpr std::uint8_t kOpClose = 0x8;
constexpr std::uint8_t kOpPing = 0x9;
constexpr std::uint8_t kOpPong = 0xA;

constexpr bool is_control_opcode(std::uint8_t op) {
  return (op & 0x8) != 0;
}

// Header length (2 to 14) implied by the second header byte.
constexpr std::size_t header_length_for(std::uint8_t b1) {
  const unsigned len7 = b1 & 0x7Fu;
  return 2 + (len7 == 126 ? 2 : (len7 == 127 ? 8 : 0)) + ((b1 & 0x80) != 0 ? 4 : 0);
}

void release_if_big(std::vector<std::uint8_t>& buffer) {
  if (buffer.capacity() > kKeepCapacity) {
    std::vector<std::uint8_t>().swap(buffer);
  } else {
    buffer.clear();
  }
}

// Longest prefix of `reason` that fits a close frame and ends on a code point boundary (the
// cut backs up over continuation bytes, so the prefix of valid UTF-8 stays valid).
std::string_view truncate_reason(std::string_view reason) {
  if (reason.size() <= kMaxCloseReason) return reason;
  std::size_t cut = kMaxCloseReason;
  while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
  return reason.substr(0, cut);
}

// Builds a close payload (code + reason) into `out`, returns its length.
std::size_t close_payload(std::uint8_t (&out)[kMaxControlPayload], std::uint16_t code,
                          std::string_view reason) {
  out[0] = static_cast<std::uint8_t>(code >> 8);
  out[1] = static_cast<std::uint8_t>(code & 0xFF);
  const std::size_t n = std::min(reason.size(), kMaxCloseReason);
  if (n != 0) std::memcpy(out + 2, reason.data(), n);
  return 2 + n;
}

}  // namespace

Protocol::Protocol(Role role, const ProtocolOptions& options, ProtocolHandler& handler)
    : role_(role), options_(options), handler_(handler) {}

// ---- receiving ----

void Protocol::feed(std::span<std::uint8_t> data) {
  std::uint8_t* p = data.data();
  std::size_t left = data.size();
  while (left > 0 && state_ != State::closed) {
    const std::size_t used = in_frame_ ? read_payload(p, left) : read_header(p, left);
    p += used;
    left -= used;
  }
}

// Reads (the rest of) a frame header. Returns the bytes consumed: all of `size` if the header is
// still incomplete or the connection failed.
std::size_t Protocol::read_header(const std::uint8_t* data, std::size_t size) {
  // Common case: the whole header is in this buffer; parse it where it is.
  if (header_size_ == 0 && size >= 2 && size >= header_length_for(data[1])) {
    if (!check_header_start(data[0], data[1])) return size;
    if (parse_frame_header(data, size, frame_) != HeaderParse::ok) {
      fail(close_code::protocol_error, "bad frame length encoding");
      return size;
    }
    begin_frame();
    return frame_.header_length;
  }

  // The header is cut: gather it in header_, checking the first two bytes once they are here.
  std::size_t used = 0;
  if (header_size_ < 2) {
    const std::size_t take = std::min<std::size_t>(2 - header_size_, size);
    std::memcpy(header_ + header_size_, data, take);
    header_size_ = static_cast<std::uint8_t>(header_size_ + take);
    used = take;
    if (header_size_ < 2) return used;
    if (!check_header_start(header_[0], header_[1])) return size;
  }
  const std::size_t need = header_length_for(header_[1]);
  const std::size_t take = std::min(need - header_size_, size - used);
  std::memcpy(header_ + header_size_, data + used, take);
  header_size_ = static_cast<std::uint8_t>(header_size_ + take);
  used += take;
  if (header_size_ < need) return used;

  header_size_ = 0;
  if (parse_frame_header(header_, need, frame_) != HeaderParse::ok) {
    fail(close_code::protocol_error, "bad frame length encoding");
    return size;
  }
  begin_frame();
  return used;
}

// The rules decided by the first two header bytes. Fails the connection and returns false on a
// violation.
bool Protocol::check_header_start(std::uint8_t b0, std::uint8_t b1) {
  const auto op = static_cast<std::uint8_t>(b0 & 0x0F);
  const auto rsv = static_cast<std::uint8_t>((b0 >> 4) & 0x7);
  const bool fin = (b0 & 0x80) != 0;
  const bool masked = (b1 & 0x80) != 0;
  const unsigned len7 = b1 & 0x7Fu;

  if (is_control_opcode(op)) {
    if (op > kOpPong) {
      fail(close_code::protocol_error, "reserved opcode");
      return false;
    }
    // No extension defines RSV bits for control frames (RFC 7692 §6 forbids RSV1 there).
    if (rsv != 0) {
      fail(close_code::protocol_error, "reserved bits set");
      return false;
    }
  } else {
    if (op > kOpBinary) {
      fail(close_code::protocol_error, "reserved opcode");
      return false;
    }
    if ((rsv & ~options_.allowed_rsv) != 0) {
      fail(close_code::protocol_error, "reserved bits set");
      return false;
    }
    // RFC 7692 §6.1: "compressed" is said by the first frame of a message, never a continuation.
    if ((rsv & 0x4) != 0 && op == kOpContinuation && inflater_) {
      fail(close_code::protocol_error, "RSV1 on a continuation frame");
      return false;
    }
  }
  // §5.1: clients mask every frame, servers none.
  if (masked != (role_ == Role::server)) {
    fail(close_code::protocol_error, masked ? "masked frame from server" : "unmasked frame");
    return false;
  }
  if (is_control_opcode(op)) {
    // §5.5: control frames are never fragmented and carry at most 125 bytes (so a 7-bit length).
    if (!fin) {
      fail(close_code::protocol_error, "fragmented control frame");
      return false;
    }
    if (len7 > kMaxControlPayload) {
      fail(close_code::protocol_error, "control frame too long");
      return false;
    }
  } else if (op == kOpContinuation && !in_message_) {
    fail(close_code::protocol_error, "continuation without a message");
    return false;
  } else if (op != kOpContinuation && in_message_) {
    fail(close_code::protocol_error, "new message inside a fragmented one");
    return false;
  }
  return true;
}

// A complete, syntactically valid header is in frame_ and passed check_header_start().
void Protocol::begin_frame() {
  frame_received_ = 0;
  const std::uint8_t op = frame_.opcode;
  if (!is_control_opcode(op)) {
    if (op != kOpContinuation) {
      in_message_ = true;
      message_type_ = static_cast<MessageType>(op);
      utf8_.reset();
      message_compressed_ = inflater_ && frame_.rsv1;
    }
    // Refuse an oversized message on the header's word, before buffering any of it. After our
    // close the payload is dropped unread, so no limit applies then. A compressed message is
    // bounded as it inflates instead.
    if (state_ == State::open && !message_compressed_ &&
        frame_.payload_length > options_.max_message_size - message_.size()) {
      fail(close_code::message_too_big, "message too big");
      return;
    }
  }
  if (frame_.payload_length == 0) {
    if (is_control_opcode(op)) {
      handle_control({});
    } else {
      end_data_frame();
    }
    return;
  }
  in_frame_ = true;
}

std::size_t Protocol::read_payload(std::uint8_t* data, std::size_t size) {
  return is_control_opcode(frame_.opcode) ? read_control_payload(data, size)
                                          : read_data_payload(data, size);
}

std::size_t Protocol::read_control_payload(std::uint8_t* data, std::size_t size) {
  const auto length = static_cast<std::size_t>(frame_.payload_length);  // ≤ 125
  const std::size_t n = std::min(length - static_cast<std::size_t>(frame_received_), size);
  if (frame_received_ == 0 && n == length) {
    // Whole control frame in this buffer: unmask and handle it in place.
    in_frame_ = false;
    if (frame_.masked) apply_mask(data, n, frame_.mask);
    handle_control({data, n});
    return n;
  }
  std::memcpy(control_ + frame_received_, data, n);
  frame_received_ += n;
  if (frame_received_ == length) {
    in_frame_ = false;
    if (frame_.masked) apply_mask(control_, length, frame_.mask);
    handle_control({control_, length});
  }
  return n;
}

std::size_t Protocol::read_data_payload(std::uint8_t* data, std::size_t size) {
  const std::uint64_t remaining = frame_.payload_length - frame_received_;
  const std::size_t n = remaining < size ? static_cast<std::size_t>(remaining) : size;

  if (state_ != State::open) {
    // We sent our close: read past the data to find the peer's close, but deliver nothing.
    frame_received_ += n;
    if (frame_received_ == frame_.payload_length) end_data_frame();
    return n;
  }

  if (frame_.masked) apply_mask(data, n, frame_.mask, frame_received_);
  const bool text = message_type_ == MessageType::text;

  if (message_compressed_) {
    frame_received_ += n;
    const bool frame_done = frame_received_ == frame_.payload_length;
    if (!inflate_into_message(data, n, false)) return n;
    if (frame_done) end_data_frame();
    return n;
  }

  // Fast path: an unfragmented message whose payload is all here is delivered in place.
  if (frame_received_ == 0 && n == remaining && frame_.fin && frame_.opcode != kOpContinuation) {
    in_frame_ = false;
    in_message_ = false;
    if (text && !is_valid_utf8(data, n)) {
      fail(close_code::invalid_payload, "invalid UTF-8 in text message");
      return n;
    }
    handler_.on_message(message_type_, {data, n});
    return n;
  }

  if (text && !utf8_.feed(data, n)) {
    fail(close_code::invalid_payload, "invalid UTF-8 in text message");
    return n;
  }
  message_.insert(message_.end(), data, data + n);
  frame_received_ += n;
  if (frame_received_ == frame_.payload_length) end_data_frame();
  return n;
}

// The current data frame's payload is complete (or empty).
void Protocol::end_data_frame() {
  in_frame_ = false;
  if (!frame_.fin) return;
  in_message_ = false;
  if (state_ != State::open) {
    release_message();
    return;
  }
  if (message_compressed_ && !inflate_into_message(nullptr, 0, true)) return;
  // A code point may be split between frames, but not cut by the end of the message.
  if (message_type_ == MessageType::text && !utf8_.complete()) {
    fail(close_code::invalid_payload, "invalid UTF-8 in text message");
    return;
  }
  handler_.on_message(message_type_, message_);
  release_message();
}

// Inflates a piece of a compressed message (or, with `last`, its end) into message_, bounded by
// max_message_size, and validates the new text as it appears. False if the connection failed.
bool Protocol::inflate_into_message(const std::uint8_t* data, std::size_t size, bool last) {
  const std::size_t before = message_.size();
  const Inflater::Result result =
      last ? inflater_->finish(message_, options_.max_message_size)
           : inflater_->inflate({data, size}, message_, options_.max_message_size);
  if (result == Inflater::Result::too_big) {
    fail(close_code::message_too_big, "message too big");
    return false;
  }
  if (result == Inflater::Result::bad_data) {
    fail(close_code::invalid_payload, "invalid compressed data");
    return false;
  }
  if (message_type_ == MessageType::text &&
      !utf8_.feed(message_.data() + before, message_.size() - before)) {
    fail(close_code::invalid_payload, "invalid UTF-8 in text message");
    return false;
  }
  return true;
}

void Protocol::enable_deflate(const DeflateConfig& config) {
  deflate_config_ = config;
  options_.allowed_rsv |= 0x4;
  inflater_ = std::make_unique<Inflater>(config.decompress_reset);
  if (config.compress) {
    deflater_ = std::make_unique<Deflater>(config.compress_window_bits, config.level,
                                           config.mem_level, config.compress_reset);
  }
}

void Protocol::handle_control(std::span<std::uint8_t> payload) {
  switch (frame_.opcode) {
    case kOpClose:
      handle_close(payload);
      return;
    case kOpPing:
      // After our close only the peer's close matters: no pong, no event.
      if (state_ != State::open) return;
      if (options_.auto_pong) append_frame(Opcode::pong, payload, true);
      handler_.on_ping(payload);
      return;
    case kOpPong:
      if (state_ != State::open) return;
      handler_.on_pong(payload);
      return;
    default:
      return;  // unreachable: check_header_start() rejected the other opcodes
  }
}

void Protocol::handle_close(std::span<const std::uint8_t> payload) {
  std::uint16_t code = close_code::no_status;
  std::string_view reason;
  if (payload.size() == 1) {
    fail(close_code::protocol_error, "close payload of 1 byte");
    return;
  }
  if (payload.size() >= 2) {
    code = static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);
    if (!is_valid_close_code(code)) {
      fail(close_code::protocol_error, "invalid close code");
      return;
    }
    if (!is_valid_utf8(payload.data() + 2, payload.size() - 2)) {
      fail(close_code::invalid_payload, "close reason is not UTF-8");
      return;
    }
    reason = {reinterpret_cast<const char*>(payload.data() + 2), payload.size() - 2};
  }
  close_received_ = true;
  if (!close_sent_) {
    // §5.5.1: answer with a close frame, echoing the status code (none if the peer sent none).
    std::uint8_t body[2] = {static_cast<std::uint8_t>(code >> 8),
                            static_cast<std::uint8_t>(code & 0xFF)};
    const std::size_t n = code == close_code::no_status ? 0 : 2;
    append_frame(Opcode::close, {body, n}, true);
    close_sent_ = true;
  }
  become_closed(code, reason, true);
}

void Protocol::fail(std::uint16_t code, std::string_view reason) {
  if (state_ == State::closed) return;
  failed_ = true;
  // Only one close frame ever goes out: if ours is already sent, just stop.
  if (!close_sent_) {
    std::uint8_t body[kMaxControlPayload];
    const std::size_t n = close_payload(body, code, reason);
    append_frame(Opcode::close, {body, n}, true);
    close_sent_ = true;
  }
  become_closed(code, reason, false);
}

void Protocol::become_closed(std::uint16_t code, std::string_view reason, bool by_peer) {
  state_ = State::closed;
  close_code_ = code;
  close_reason_.assign(reason);
  in_frame_ = false;
  in_message_ = false;
  release_message();
  handler_.on_close(code, close_reason_, by_peer);
}

void Protocol::release_message() {
  release_if_big(message_);
}

// ---- sending ----

bool Protocol::send(MessageType type, std::span<const std::uint8_t> payload) {
  if (state_ != State::open || sending_message_) return false;
  const auto opcode = static_cast<Opcode>(type);
  bool compressed = false;
  if (deflater_ && payload.size() >= deflate_config_.threshold) {
    compressed_.clear();
    if (deflater_->compress(payload, compressed_)) {
      payload = compressed_;
      compressed = true;
    }
  }
  const std::size_t fragment = options_.fragment_size;
  if (fragment == 0 || payload.size() <= fragment) {
    append_frame(opcode, payload, true, compressed);
  } else {
    for (std::size_t offset = 0; offset < payload.size(); offset += fragment) {
      const std::size_t n = std::min(fragment, payload.size() - offset);
      const bool last = offset + n == payload.size();
      // RSV1 marks the whole message as compressed, on its first frame only.
      append_frame(offset == 0 ? opcode : Opcode::continuation, payload.subspan(offset, n), last,
                   offset == 0 && compressed);
    }
  }
  if (compressed) release_if_big(compressed_);
  return true;
}

bool Protocol::send_text(std::string_view text) {
  return send(MessageType::text, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

bool Protocol::send_frame(Opcode opcode, std::span<const std::uint8_t> payload, bool fin) {
  if (state_ != State::open) return false;
  if (opcode == Opcode::continuation) {
    if (!sending_message_) return false;
  } else if (opcode == Opcode::text || opcode == Opcode::binary) {
    if (sending_message_) return false;
  } else {
    return false;  // control frames go through ping(), pong() and close()
  }
  append_frame(opcode, payload, fin);
  sending_message_ = !fin;
  return true;
}

bool Protocol::ping(std::span<const std::uint8_t> payload) {
  if (state_ != State::open || payload.size() > kMaxControlPayload) return false;
  append_frame(Opcode::ping, payload, true);
  return true;
}

bool Protocol::pong(std::span<const std::uint8_t> payload) {
  if (state_ != State::open || payload.size() > kMaxControlPayload) return false;
  append_frame(Opcode::pong, payload, true);
  return true;
}

void Protocol::close(std::uint16_t code, std::string_view reason) {
  if (state_ != State::open) return;
  std::uint8_t body[kMaxControlPayload];
  std::size_t n = 0;
  // 1005 ("no status") asks for a close frame without a body. Any other code that may not go on
  // the wire is a caller bug; sending it would make the peer fail us, so say 1011 instead.
  if (code != close_code::no_status) {
    if (!is_valid_close_code(code)) code = close_code::internal_error;
    reason = truncate_reason(reason);
    if (!is_valid_utf8(reinterpret_cast<const std::uint8_t*>(reason.data()), reason.size())) {
      reason = {};
    }
    n = close_payload(body, code, reason);
  }
  append_frame(Opcode::close, {body, n}, true);
  close_sent_ = true;
  state_ = State::closing;
}

void Protocol::consume_output(std::size_t n) {
  if (n >= out_.size()) {
    release_if_big(out_);
    return;
  }
  out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(n));
}

void Protocol::append_frame(Opcode opcode, std::span<const std::uint8_t> payload, bool fin,
                            bool rsv1) {
  std::uint8_t header[kMaxFrameHeader];
  std::array<std::uint8_t, 4> key{};
  const bool masked = role_ == Role::client;
  if (masked) secure_random(key.data(), key.size());
  const std::size_t header_length =
      write_frame_header(header, fin, opcode, payload.size(), masked ? key.data() : nullptr, rsv1);
  const std::size_t start = out_.size();
  out_.insert(out_.end(), header, header + header_length);
  out_.insert(out_.end(), payload.begin(), payload.end());
  if (masked) apply_mask(out_.data() + start + header_length, payload.size(), key);
}

// ---- randomness ----

namespace {

// A forked child inherits its parent's pool, and would reuse its masking keys; bumping this in
// the child makes every thread's pool refill before it serves another byte.
std::atomic<unsigned> fork_generation{0};

void after_fork_in_child() {
  fork_generation.fetch_add(1, std::memory_order_relaxed);
}

struct RandomPool {
  std::uint8_t bytes[4096];
  std::size_t used = sizeof bytes;
  unsigned generation = 0;
};

thread_local RandomPool pool;

void random_or_die(std::uint8_t* out, std::size_t size) {
  // OpenSSL's DRBG does not fail once seeded; if it cannot be seeded there is no safe masking
  // key to use, and no sensible way to go on.
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    std::fputs("greekwire: RAND_bytes failed\n", stderr);
    std::abort();
  }
}

}  // namespace

void secure_random(std::uint8_t* out, std::size_t size) {
  static const int registered = pthread_atfork(nullptr, nullptr, after_fork_in_child);
  (void)registered;
  if (size > sizeof pool.bytes / 2) {
    // Big requests would drain the pool at once; draw them directly, in int-sized pieces.
    while (size > 0) {
      const std::size_t n = std::min<std::size_t>(size, 1 << 30);
      random_or_die(out, n);
      out += n;
      size -= n;
    }
    return;
  }
  const unsigned generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation) {
    pool.generation = generation;
    pool.used = sizeof pool.bytes;
  }
  while (size > 0) {
    if (pool.used == sizeof pool.bytes) {
      random_or_die(pool.bytes, sizeof pool.bytes);
      pool.used = 0;
    }
    const std::size_t n = std::min(size, sizeof pool.bytes - pool.used);
    std::memcpy(out, pool.bytes + pool.used, n);
    // Bytes handed out are wiped, so the pool never holds a key that is already in use.
    std::memset(pool.bytes + pool.used, 0, n);
    pool.used += n;
    out += n;
    size -= n;
  }
}

}  // namespace gw::ws
