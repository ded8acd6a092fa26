// libFuzzer target for the Protocol state machine, in both roles.
//
// Input layout: 4 configuration bytes, a count byte k, k chunk-length bytes, then the byte
// stream. The stream is fed twice, once whole and once cut into the chosen chunks (cycled),
// through a handler that echoes messages and may close or ping midway; the two runs must
// produce the same events and (server role: byte for byte; client role: frame for frame, the
// masks being random) the same output, and every event must respect the protocol's promises.
// max_message_size is small so that the 1009 path and the message buffer limits are exercised.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "ws/frame.hpp"
#include "ws/protocol.hpp"
#include "ws/utf8.hpp"

namespace {

using namespace gw::ws;

struct Config {
  Role role = Role::server;
  ProtocolOptions options;
  bool echo = false;
  int close_after = -1;  // call close() in the handler after this many messages
  bool ping_on_message = false;
  std::size_t consume = 0;  // output bytes the "socket" takes after each feed (0 = all)
};

struct Recorder : ProtocolHandler {
  const Config* config = nullptr;
  Protocol* protocol = nullptr;
  std::string log;  // every event, serialized
  int messages = 0;
  int closes = 0;

  void on_message(MessageType type, std::span<std::uint8_t> payload) override {
    CHECK(closes == 0);
    CHECK(payload.size() <= config->options.max_message_size);
    if (type == MessageType::text) CHECK(is_valid_utf8(payload.data(), payload.size()));
    CHECK(protocol->state() != Protocol::State::closed);
    log += type == MessageType::text ? "T" : "B";
    log += std::to_string(payload.size()) + ":";
    log.append(payload.begin(), payload.end());
    ++messages;
    if (config->echo) protocol->send(type, payload);
    if (config->ping_on_message)
      protocol->ping(payload.first(std::min<std::size_t>(payload.size(), 125)));
    if (messages == config->close_after) protocol->close(1000, "enough");
  }
  void on_ping(std::span<const std::uint8_t> payload) override {
    CHECK(closes == 0);
    CHECK(payload.size() <= kMaxControlPayload);
    log += "I" + std::to_string(payload.size()) + ":";
    log.append(payload.begin(), payload.end());
  }
  void on_pong(std::span<const std::uint8_t> payload) override {
    CHECK(closes == 0);
    CHECK(payload.size() <= kMaxControlPayload);
    log += "O" + std::to_string(payload.size()) + ":";
    log.append(payload.begin(), payload.end());
  }
  void on_close(std::uint16_t code, std::string_view reason, bool by_peer) override {
    ++closes;
    CHECK(closes == 1);
    CHECK(protocol->state() == Protocol::State::closed);
    CHECK(protocol->failed() == !by_peer);
    CHECK(reason.size() <= 123);
    CHECK(is_valid_utf8(reinterpret_cast<const std::uint8_t*>(reason.data()), reason.size()));
    if (by_peer) CHECK(code == close_code::no_status || is_valid_close_code(code));
    log += "C" + std::to_string(code) + (by_peer ? "p" : "u") + std::string(reason) + ";";
  }
};

struct Frame {
  std::uint8_t first;
  std::vector<std::uint8_t> payload;
  bool operator==(const Frame&) const = default;
};

// Output must be whole frames, masked exactly when we are the client, control frames short.
std::vector<Frame> decode_output(const std::vector<std::uint8_t>& out, Role role) {
  std::vector<Frame> frames;
  std::size_t pos = 0;
  while (pos < out.size()) {
    FrameHeader h;
    CHECK(parse_frame_header(out.data() + pos, out.size() - pos, h) == HeaderParse::ok);
    CHECK(h.masked == (role == Role::client));
    CHECK(!h.rsv2 && !h.rsv3);
    CHECK(h.opcode <= 2 || (h.opcode >= 8 && h.opcode <= 10));
    if (h.opcode >= 8) CHECK(h.fin && h.payload_length <= kMaxControlPayload);
    pos += h.header_length;
    CHECK(out.size() - pos >= h.payload_length);
    Frame f{static_cast<std::uint8_t>((out[pos - h.header_length] & 0xF0) | h.opcode),
            std::vector<std::uint8_t>(
                out.begin() + static_cast<std::ptrdiff_t>(pos),
                out.begin() + static_cast<std::ptrdiff_t>(pos + h.payload_length))};
    if (h.masked) apply_mask(f.payload.data(), f.payload.size(), h.mask);
    pos += h.payload_length;
    frames.push_back(std::move(f));
  }
  return frames;
}

struct Result {
  std::string log;
  std::vector<std::uint8_t> output;  // everything written, consumed or still queued
  Protocol::State state;
  bool failed;
  std::uint16_t code;
};

Result run(const Config& config, const std::uint8_t* stream, std::size_t size,
           const std::uint8_t* lengths, std::size_t nlengths) {
  Recorder recorder;
  Protocol protocol(config.role, config.options, recorder);
  recorder.config = &config;
  recorder.protocol = &protocol;
  Result r;
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < size; ++k) {
    std::size_t n = nlengths == 0 ? size : static_cast<std::size_t>(lengths[k % nlengths]) + 1;
    n = std::min(n, size - pos);
    // A fresh exact-size buffer per chunk, freed after feed(): catches kept pointers.
    auto chunk = std::make_unique<std::uint8_t[]>(n);
    std::memcpy(chunk.get(), stream + pos, n);
    protocol.feed({chunk.get(), n});
    pos += n;
    const auto& out = protocol.output();
    const std::size_t take =
        config.consume == 0 ? out.size() : std::min(config.consume, out.size());
    r.output.insert(r.output.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(take));
    protocol.consume_output(take);
    CHECK(protocol.close_code() == protocol.close_code());
    if (protocol.failed()) CHECK(protocol.state() == Protocol::State::closed);
  }
  r.output.insert(r.output.end(), protocol.output().begin(), protocol.output().end());
  r.log = recorder.log;
  r.state = protocol.state();
  r.failed = protocol.failed();
  r.code = protocol.close_code();
  CHECK(recorder.closes == (r.state == Protocol::State::closed ? 1 : 0));
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  Config config;
  config.role = (data[0] & 1) != 0 ? Role::client : Role::server;
  config.options.auto_pong = (data[0] & 2) == 0;
  config.options.allowed_rsv = (data[0] & 4) != 0 ? 0x4 : 0;
  config.echo = (data[0] & 8) != 0;
  config.ping_on_message = (data[0] & 16) != 0;
  config.close_after = (data[0] & 32) != 0 ? (data[0] >> 6) + 1 : -1;
  config.options.max_message_size = static_cast<std::size_t>(data[1]) * 8;
  config.options.fragment_size = data[2] % 8 == 0 ? 0 : data[2] % 8 * 3;
  config.consume = data[3] % 4 == 0 ? 0 : data[3];
  const std::size_t nlengths = std::min<std::size_t>(data[4], size - 5);
  const std::uint8_t* lengths = data + 5;
  const std::uint8_t* stream = lengths + nlengths;
  const std::size_t stream_size = size - 5 - nlengths;

  const Result whole = run(config, stream, stream_size, nullptr, 0);
  const Result chunked = run(config, stream, stream_size, lengths, nlengths == 0 ? 1 : nlengths);
  CHECK(whole.log == chunked.log);
  CHECK(whole.state == chunked.state);
  CHECK(whole.failed == chunked.failed);
  CHECK(whole.code == chunked.code);
  const auto whole_frames = decode_output(whole.output, config.role);
  const auto chunked_frames = decode_output(chunked.output, config.role);
  CHECK(whole_frames == chunked_frames);
  if (config.role == Role::server) CHECK(whole.output == chunked.output);
  return 0;
}
