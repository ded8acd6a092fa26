// The protocol state machine, organised like the Autobahn TestSuite's categories (1 framing,
// 2 ping/pong, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close, 9 limits,
// 10 sending), plus roles and buffer discipline.
//
// Every input goes through feed_all_ways(): it is fed whole, cut in two at every byte (or at a
// sample of positions for big inputs), one byte at a time and in random chunks, and every way
// must produce the same events, output and final state. Frames are built here by hand, not with
// the code under test.
#include "ws/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace gw::ws {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
std::string str(std::span<const std::uint8_t> s) {
  return std::string(s.begin(), s.end());
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

constexpr std::uint8_t kText = 0x1, kBinary = 0x2, kCont = 0x0, kClose = 0x8, kPing = 0x9,
                       kPong = 0xA;

// ---- building frames ----

struct RawFrame {
  RawFrame(std::uint8_t op, Bytes data) : opcode(op), payload(std::move(data)) {}
  RawFrame& not_fin() {
    fin = false;
    return *this;
  }
  RawFrame& with_rsv(std::uint8_t bits) {
    rsv = bits;
    return *this;
  }
  RawFrame& unmasked() {
    masked = false;
    return *this;
  }
  RawFrame& length_form(int bits) {
    length_bits = bits;
    return *this;
  }
  RawFrame& declare(std::uint64_t length) {
    declared_length = length;
    return *this;
  }

  std::uint8_t opcode;
  Bytes payload;
  bool fin = true;
  std::uint8_t rsv = 0;  // 0x4 RSV1, 0x2 RSV2, 0x1 RSV3
  bool masked = true;
  std::array<std::uint8_t, 4> key{0x37, 0xFA, 0x21, 0x3D};
  int length_bits = 0;  // 0: minimal; 16 or 64: force that form (even if not minimal)
  std::optional<std::uint64_t> declared_length;  // announce this instead of payload.size()
};

Bytes encode(const RawFrame& f) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>((f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode));
  const std::uint64_t len = f.declared_length.value_or(f.payload.size());
  const std::uint8_t mask_bit = f.masked ? 0x80 : 0;
  int bits = f.length_bits;
  if (bits == 0) bits = len < 126 ? 7 : (len <= 0xFFFF ? 16 : 64);
  if (bits == 7) {
    out.push_back(static_cast<std::uint8_t>(mask_bit | len));
  } else {
    out.push_back(static_cast<std::uint8_t>(mask_bit | (bits == 16 ? 126 : 127)));
    for (int shift = bits - 8; shift >= 0; shift -= 8) {
      out.push_back(static_cast<std::uint8_t>((len >> shift) & 0xFF));
    }
  }
  if (f.masked) out.insert(out.end(), f.key.begin(), f.key.end());
  for (std::size_t i = 0; i < f.payload.size(); ++i) {
    out.push_back(f.masked ? static_cast<std::uint8_t>(f.payload[i] ^ f.key[i % 4]) : f.payload[i]);
  }
  return out;
}

// A frame as a client sends it (masked).
Bytes cf(std::uint8_t opcode, const Bytes& payload, bool fin = true, std::uint8_t rsv = 0) {
  RawFrame f(opcode, payload);
  f.fin = fin;
  return encode(f.with_rsv(rsv));
}
Bytes cf(std::uint8_t opcode, std::string_view payload, bool fin = true, std::uint8_t rsv = 0) {
  return cf(opcode, bytes(payload), fin, rsv);
}
// A frame as a server sends it (unmasked).
Bytes sf(std::uint8_t opcode, std::string_view payload, bool fin = true) {
  RawFrame f(opcode, bytes(payload));
  f.fin = fin;
  return encode(f.unmasked());
}

Bytes close_body(int code, std::string_view reason = {}) {
  Bytes b{static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code & 0xFF)};
  b.insert(b.end(), reason.begin(), reason.end());
  return b;
}

Bytes pattern(std::size_t n, std::uint8_t seed = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 31 + (i >> 8));
  return b;
}

std::string ascii(std::size_t n) {
  std::string s(n, ' ');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

// ---- decoding output (independently of parse_frame_header) ----

struct OutFrame {
  bool fin;
  std::uint8_t rsv;
  std::uint8_t opcode;
  bool masked;
  Bytes payload;  // unmasked
  bool operator==(const OutFrame&) const = default;
};

void PrintTo(const OutFrame& f, std::ostream* os) {
  *os << "{op " << int(f.opcode) << (f.fin ? " fin" : "") << (f.masked ? " masked" : "") << " len "
      << f.payload.size() << "}";
}

// Decodes frames; a truncated trailing frame is an error (returns nullopt).
std::optional<std::vector<OutFrame>> decode(const Bytes& b) {
  std::vector<OutFrame> frames;
  std::size_t i = 0;
  while (i < b.size()) {
    if (b.size() - i < 2) return std::nullopt;
    OutFrame f{(b[i] & 0x80) != 0,
               static_cast<std::uint8_t>((b[i] >> 4) & 7),
               static_cast<std::uint8_t>(b[i] & 0xF),
               (b[i + 1] & 0x80) != 0,
               {}};
    std::uint64_t len = b[i + 1] & 0x7F;
    i += 2;
    const int ext = len == 126 ? 2 : (len == 127 ? 8 : 0);
    if (b.size() - i < static_cast<std::size_t>(ext)) return std::nullopt;
    if (ext != 0) {
      len = 0;
      for (int k = 0; k < ext; ++k) len = (len << 8) | b[i++];
    }
    std::uint8_t key[4] = {0, 0, 0, 0};
    if (f.masked) {
      if (b.size() - i < 4) return std::nullopt;
      std::memcpy(key, &b[i], 4);
      i += 4;
    }
    if (b.size() - i < len) return std::nullopt;
    f.payload.assign(b.begin() + static_cast<std::ptrdiff_t>(i),
                     b.begin() + static_cast<std::ptrdiff_t>(i + len));
    for (std::size_t k = 0; k < f.payload.size(); ++k) f.payload[k] ^= key[k % 4];
    i += len;
    frames.push_back(std::move(f));
  }
  return frames;
}

OutFrame out(std::uint8_t opcode, const Bytes& payload, bool fin = true, bool masked = false) {
  return {fin, 0, opcode, masked, payload};
}
OutFrame out(std::uint8_t opcode, std::string_view payload, bool fin = true) {
  return out(opcode, bytes(payload), fin);
}

// ---- recording events ----

struct Event {
  enum Kind { message, ping, pong, close } kind;
  int type = 0;  // MessageType for messages
  std::string data;
  std::uint16_t code = 0;
  bool by_peer = false;
  bool operator==(const Event&) const = default;
};

void PrintTo(const Event& e, std::ostream* os) {
  static const char* names[] = {"message", "ping", "pong", "close"};
  *os << "{" << names[e.kind] << " type " << e.type << " len " << e.data.size();
  if (e.data.size() <= 40) *os << " '" << e.data << "'";
  if (e.kind == Event::close) *os << " code " << e.code << (e.by_peer ? " by peer" : " by us");
  *os << "}";
}

Event msg(MessageType type, std::string_view data) {
  return {Event::message, static_cast<int>(type), std::string(data)};
}
Event text(std::string_view data) {
  return msg(MessageType::text, data);
}
Event binary(const Bytes& data) {
  return msg(MessageType::binary, str(data));
}
Event ping_event(std::string_view data) {
  return {Event::ping, 0, std::string(data)};
}
Event pong_event(std::string_view data) {
  return {Event::pong, 0, std::string(data)};
}
Event closed_by_peer(int code, std::string_view reason = {}) {
  return {Event::close, 0, std::string(reason), static_cast<std::uint16_t>(code), true};
}

class Recorder : public ProtocolHandler {
 public:
  std::vector<Event> events;
  Protocol* protocol = nullptr;
  bool echo = false;  // send every message back, like Autobahn's echo server
  int close_calls = 0;

  void on_message(MessageType type, std::span<std::uint8_t> payload) override {
    events.push_back(msg(type, str(payload)));
    if (echo && protocol != nullptr) protocol->send(type, payload);
  }
  void on_ping(std::span<const std::uint8_t> p) override { events.push_back(ping_event(str(p))); }
  void on_pong(std::span<const std::uint8_t> p) override { events.push_back(pong_event(str(p))); }
  void on_close(std::uint16_t code, std::string_view reason, bool by_peer) override {
    ++close_calls;
    events.push_back({Event::close, 0, std::string(reason), code, by_peer});
  }
};

struct Outcome {
  std::vector<Event> events;
  Bytes output;
  std::vector<OutFrame> frames;
  Protocol::State state = Protocol::State::open;
  bool failed = false;
  std::uint16_t close_code = 0;
  int close_calls = 0;
};

struct Setup {
  Role role = Role::server;
  ProtocolOptions options{};
  bool echo = true;
};

// Feeds `input` cut at `cuts` (ascending positions), each chunk from its own heap buffer that is
// freed right after feed() returns, so ASan catches any pointer the protocol kept into it.
Outcome run(const Setup& setup, const Bytes& input, const std::vector<std::size_t>& cuts) {
  Recorder recorder;
  Protocol protocol(setup.role, setup.options, recorder);
  recorder.protocol = &protocol;
  recorder.echo = setup.echo;
  std::size_t pos = 0;
  auto feed_to = [&](std::size_t end) {
    if (end <= pos) return;
    auto chunk = std::make_unique<std::uint8_t[]>(end - pos);
    std::memcpy(chunk.get(), input.data() + pos, end - pos);
    protocol.feed({chunk.get(), end - pos});
    pos = end;
  };
  for (auto cut : cuts) feed_to(cut);
  feed_to(input.size());

  Outcome o;
  o.events = recorder.events;
  o.output = protocol.output();
  auto frames = decode(o.output);
  EXPECT_TRUE(frames.has_value()) << "output is not a sequence of whole frames";
  if (frames) o.frames = *frames;
  o.state = protocol.state();
  o.failed = protocol.failed();
  o.close_code = protocol.close_code();
  o.close_calls = recorder.close_calls;
  return o;
}

::testing::AssertionResult same(const Outcome& a, const Outcome& b, bool compare_bytes) {
  if (a.events != b.events) return ::testing::AssertionFailure() << "events differ";
  if (a.frames != b.frames) return ::testing::AssertionFailure() << "output frames differ";
  if (compare_bytes && a.output != b.output) {
    return ::testing::AssertionFailure() << "output bytes differ";
  }
  if (a.state != b.state || a.failed != b.failed || a.close_code != b.close_code ||
      a.close_calls != b.close_calls) {
    return ::testing::AssertionFailure() << "final state differs";
  }
  return ::testing::AssertionSuccess();
}

// Feeds the input every way and checks that all ways agree; returns the outcome.
Outcome feed_all_ways(const Setup& setup, const Bytes& input) {
  const Outcome whole = run(setup, input, {});
  // Client output is masked with random keys: compare decoded frames only.
  const bool compare_bytes = setup.role == Role::server;
  const std::size_t n = input.size();

  std::vector<std::size_t> splits;
  if (n <= 4096) {
    for (std::size_t i = 1; i < n; ++i) splits.push_back(i);
  } else {
    for (std::size_t i = 1; i < 64; ++i) splits.push_back(i);
    for (std::size_t i = n - 64; i < n; ++i) splits.push_back(i);
    std::mt19937 rng(static_cast<unsigned>(n));
    for (int i = 0; i < 32; ++i) splits.push_back(1 + rng() % (n - 1));
  }
  for (auto s : splits) {
    const auto result = same(whole, run(setup, input, {s}), compare_bytes);
    EXPECT_TRUE(result) << "input split at " << s << " of " << n;
    if (!result) return whole;
  }
  if (n <= 256 * 1024) {
    std::vector<std::size_t> every(n > 0 ? n - 1 : 0);
    for (std::size_t i = 0; i < every.size(); ++i) every[i] = i + 1;
    EXPECT_TRUE(same(whole, run(setup, input, every), compare_bytes)) << "1-byte chunks";
  }
  std::mt19937 rng(static_cast<unsigned>(n * 7 + 1));
  for (int round = 0; round < 4; ++round) {
    std::vector<std::size_t> cuts;
    const std::size_t max_chunk = round == 0 ? 3 : (round == 1 ? 20 : 3000);
    for (std::size_t pos = 1 + rng() % max_chunk; pos < n; pos += 1 + rng() % max_chunk) {
      cuts.push_back(pos);
    }
    EXPECT_TRUE(same(whole, run(setup, input, cuts), compare_bytes))
        << "random chunks up to " << max_chunk;
  }
  return whole;
}

Outcome server(const Bytes& input, ProtocolOptions options = {}) {
  return feed_all_ways({Role::server, options, true}, input);
}
Outcome client(const Bytes& input, ProtocolOptions options = {}) {
  return feed_all_ways({Role::client, options, true}, input);
}

// The connection failed with `code`: our close frame carrying it is the last output, the state
// is closed and on_close(code, by_peer=false) was the last event, called once.
void expect_failed(const Outcome& o, std::uint16_t code) {
  EXPECT_EQ(o.state, Protocol::State::closed);
  EXPECT_TRUE(o.failed);
  EXPECT_EQ(o.close_code, code);
  EXPECT_EQ(o.close_calls, 1);
  ASSERT_FALSE(o.events.empty());
  EXPECT_EQ(o.events.back().kind, Event::close);
  EXPECT_EQ(o.events.back().code, code);
  EXPECT_FALSE(o.events.back().by_peer);
  ASSERT_FALSE(o.frames.empty());
  const OutFrame& last = o.frames.back();
  EXPECT_EQ(last.opcode, kClose);
  EXPECT_TRUE(last.fin);
  ASSERT_GE(last.payload.size(), 2u);
  EXPECT_EQ((last.payload[0] << 8) | last.payload[1], code);
  EXPECT_LE(last.payload.size(), 125u);
}

void expect_open(const Outcome& o) {
  EXPECT_EQ(o.state, Protocol::State::open);
  EXPECT_FALSE(o.failed);
  EXPECT_EQ(o.close_calls, 0);
}

// =================================== 1 framing ===================================

void check_echo(std::uint8_t opcode, std::size_t length) {
  SCOPED_TRACE("length " + std::to_string(length));
  const Bytes payload = opcode == kText ? bytes(ascii(length)) : pattern(length);
  const auto o = server(cf(opcode, payload));
  expect_open(o);
  const auto type = opcode == kText ? MessageType::text : MessageType::binary;
  EXPECT_EQ(o.events, (std::vector<Event>{msg(type, str(payload))}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(opcode, payload)}));
}

TEST(Framing, TextAtBoundaryLengths) {
  for (std::size_t n : {0, 125, 126, 127, 128, 65535, 65536}) check_echo(kText, n);
}

TEST(Framing, BinaryAtBoundaryLengths) {
  for (std::size_t n : {0, 125, 126, 127, 128, 65535, 65536}) check_echo(kBinary, n);
}

TEST(Framing, SixteenMebibyteMessage) {
  const Bytes payload = pattern(16 << 20);
  const Bytes input = cf(kBinary, payload);
  for (std::size_t chunk : {input.size(), std::size_t{65536}, std::size_t{4093}}) {
    std::vector<std::size_t> cuts;
    for (std::size_t pos = chunk; pos < input.size(); pos += chunk) cuts.push_back(pos);
    const auto o = run({}, input, cuts);
    expect_open(o);
    ASSERT_EQ(o.events.size(), 1u);
    EXPECT_TRUE(o.events[0].data == str(payload));
    ASSERT_EQ(o.frames.size(), 1u);
    EXPECT_TRUE(o.frames[0].payload == payload);
  }
}

TEST(Framing, SeveralFramesInOneBuffer) {
  const auto o = server(cat({cf(kText, "one"), cf(kBinary, "two"), cf(kText, "three")}));
  EXPECT_EQ(o.events, (std::vector<Event>{text("one"), binary(bytes("two")), text("three")}));
  EXPECT_EQ(o.frames.size(), 3u);
}

TEST(Framing, NonMinimalSixteenBitLength) {
  expect_failed(server(encode(RawFrame(kText, bytes("hi")).length_form(16))), 1002);
}

TEST(Framing, NonMinimalSixtyFourBitLength) {
  expect_failed(server(encode(RawFrame(kText, bytes(ascii(300))).length_form(64))), 1002);
}

TEST(Framing, SixtyFourBitLengthWithTopBitSet) {
  expect_failed(server(encode(RawFrame(kBinary, {}).declare((1ull << 63) | 70000))), 1002);
}

TEST(Framing, NoEventsBeforeTheFrameCompletes) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  Bytes input = cf(kText, "hello");
  p.feed({input.data(), input.size() - 1});
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(p.output().empty());
  p.feed({input.data() + input.size() - 1, 1});
  EXPECT_EQ(r.events, (std::vector<Event>{text("hello")}));
}

// =================================== 2 ping/pong ===================================

TEST(PingPong, EmptyPingIsAnswered) {
  const auto o = server(cf(kPing, ""));
  expect_open(o);
  EXPECT_EQ(o.events, (std::vector<Event>{ping_event("")}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kPong, "")}));
}

TEST(PingPong, PingWith125BytesIsEchoed) {
  const Bytes payload = pattern(125);
  const auto o = server(cf(kPing, payload));
  expect_open(o);
  EXPECT_EQ(o.events, (std::vector<Event>{ping_event(str(payload))}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kPong, payload)}));
}

TEST(PingPong, PingWithBinaryPayload) {
  const Bytes payload{0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF};
  const auto o = server(cf(kPing, payload));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kPong, payload)}));
}

TEST(PingPong, PingWith126BytesFails) {
  // 126 needs the 16-bit length form, which no control frame may use.
  expect_failed(server(cf(kPing, pattern(126))), 1002);
}

TEST(PingPong, UnsolicitedPongIsReportedAndNotAnswered) {
  const auto o = server(cf(kPong, "unsolicited"));
  expect_open(o);
  EXPECT_EQ(o.events, (std::vector<Event>{pong_event("unsolicited")}));
  EXPECT_TRUE(o.frames.empty());
}

TEST(PingPong, UnsolicitedPongThenPing) {
  const auto o = server(cat({cf(kPong, "unsolicited"), cf(kPing, "ping")}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kPong, "ping")}));
}

TEST(PingPong, TenPingsTenPongs) {
  Bytes input;
  std::vector<OutFrame> expected;
  for (int i = 0; i < 10; ++i) {
    const std::string payload = "payload-" + std::to_string(i);
    input = cat({input, cf(kPing, payload)});
    expected.push_back(out(kPong, payload));
  }
  EXPECT_EQ(server(input).frames, expected);
}

TEST(PingPong, PingBetweenFragments) {
  const auto o = server(cat({cf(kText, "frag", false), cf(kPing, "p"), cf(kCont, "ment")}));
  expect_open(o);
  EXPECT_EQ(o.events, (std::vector<Event>{ping_event("p"), text("fragment")}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kPong, "p"), out(kText, "fragment")}));
}

TEST(PingPong, AutoPongOff) {
  ProtocolOptions options;
  options.auto_pong = false;
  const auto o = server(cf(kPing, "x"), options);
  EXPECT_EQ(o.events, (std::vector<Event>{ping_event("x")}));
  EXPECT_TRUE(o.frames.empty());
}

// ================================= 3 reserved bits =================================

TEST(ReservedBits, Rsv1OnText) {
  expect_failed(server(cf(kText, "hi", true, 0x4)), 1002);
}
TEST(ReservedBits, Rsv2OnText) {
  expect_failed(server(cf(kText, "hi", true, 0x2)), 1002);
}
TEST(ReservedBits, Rsv3OnBinary) {
  expect_failed(server(cf(kBinary, "hi", true, 0x1)), 1002);
}
TEST(ReservedBits, AllOnBinary) {
  expect_failed(server(cf(kBinary, "hi", true, 0x7)), 1002);
}
TEST(ReservedBits, Rsv1OnPing) {
  expect_failed(server(cf(kPing, "hi", true, 0x4)), 1002);
}
TEST(ReservedBits, Rsv2OnClose) {
  expect_failed(server(cf(kClose, close_body(1000), true, 0x2)), 1002);
}
TEST(ReservedBits, Rsv3OnPong) {
  expect_failed(server(cf(kPong, "", true, 0x1)), 1002);
}
TEST(ReservedBits, OnContinuation) {
  expect_failed(server(cat({cf(kText, "a", false), cf(kCont, "b", true, 0x2)})), 1002);
}

TEST(ReservedBits, ValidMessageBeforeIsEchoedAndPingAfterIsNotAnswered) {
  // Autobahn 3.2: echo, then the bad frame fails the connection, then nothing.
  const auto o = server(cat({cf(kText, "hello"), cf(kText, "bad", true, 0x2), cf(kPing, "")}));
  EXPECT_EQ(o.events.front(), text("hello"));
  EXPECT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.frames.front(), out(kText, "hello"));
  EXPECT_EQ(o.frames.size(), 2u);
  expect_failed(o, 1002);
}

TEST(ReservedBits, Rsv1AllowedWhenNegotiated) {
  ProtocolOptions options;
  options.allowed_rsv = 0x4;
  const auto o = server(cf(kText, "hi", true, 0x4), options);
  expect_open(o);
  EXPECT_EQ(o.events, (std::vector<Event>{text("hi")}));
}

TEST(ReservedBits, OtherBitsStillRejectedWhenRsv1Negotiated) {
  ProtocolOptions options;
  options.allowed_rsv = 0x4;
  expect_failed(server(cf(kText, "hi", true, 0x2), options), 1002);
  expect_failed(server(cf(kText, "hi", true, 0x5), options), 1002);
}

TEST(ReservedBits, NeverAllowedOnControlFrames) {
  ProtocolOptions options;
  options.allowed_rsv = 0x7;
  expect_failed(server(cf(kPing, "hi", true, 0x4), options), 1002);
}

// =================================== 4 opcodes ===================================

TEST(Opcodes, ReservedNonControlOpcodes) {
  for (std::uint8_t op = 3; op <= 7; ++op) {
    SCOPED_TRACE(op);
    expect_failed(server(cf(op, "x")), 1002);
  }
}

TEST(Opcodes, ReservedControlOpcodes) {
  for (std::uint8_t op = 0xB; op <= 0xF; ++op) {
    SCOPED_TRACE(op);
    expect_failed(server(cf(op, "x")), 1002);
  }
}

TEST(Opcodes, ReservedOpcodeAfterValidMessage) {
  const auto o = server(cat({cf(kText, "ok"), cf(5, "x"), cf(kPing, "")}));
  EXPECT_EQ(o.events.front(), text("ok"));
  EXPECT_EQ(o.frames.front(), out(kText, "ok"));
  EXPECT_EQ(o.frames.size(), 2u);
  expect_failed(o, 1002);
}

TEST(Opcodes, ReservedOpcodeWithEmptyPayload) {
  expect_failed(server(cf(0xB, "")), 1002);
}

// ================================= 5 fragmentation =================================

TEST(Fragmentation, TextInTwoFragments) {
  const auto o = server(cat({cf(kText, "frag", false), cf(kCont, "ment")}));
  expect_open(o);
  EXPECT_EQ(o.events, (std::vector<Event>{text("fragment")}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kText, "fragment")}));
}

TEST(Fragmentation, BinaryInThreeFragments) {
  const auto o = server(cat({cf(kBinary, "a", false), cf(kCont, "b", false), cf(kCont, "c")}));
  EXPECT_EQ(o.events, (std::vector<Event>{binary(bytes("abc"))}));
}

TEST(Fragmentation, EmptyFragments) {
  const auto o = server(cat({cf(kText, "", false), cf(kCont, "", false), cf(kCont, "")}));
  EXPECT_EQ(o.events, (std::vector<Event>{text("")}));
}

TEST(Fragmentation, ManySmallFragments) {
  const std::string message = ascii(300);
  Bytes input = cf(kText, message.substr(0, 1), false);
  for (std::size_t i = 1; i + 1 < message.size(); ++i) {
    input = cat({input, cf(kCont, message.substr(i, 1), false)});
  }
  input = cat({input, cf(kCont, message.substr(message.size() - 1))});
  const auto o = server(input);
  EXPECT_EQ(o.events, (std::vector<Event>{text(message)}));
}

TEST(Fragmentation, FragmentedPing) {
  expect_failed(server(cf(kPing, "x", false)), 1002);
}

TEST(Fragmentation, FragmentedPingWithContinuation) {
  expect_failed(server(cat({cf(kPing, "x", false), cf(kCont, "y")})), 1002);
}

TEST(Fragmentation, FragmentedPong) {
  expect_failed(server(cf(kPong, "x", false)), 1002);
}

TEST(Fragmentation, FragmentedClose) {
  expect_failed(server(cf(kClose, close_body(1000), false)), 1002);
}

TEST(Fragmentation, ContinuationWithoutStart) {
  expect_failed(server(cf(kCont, "x", true)), 1002);
  expect_failed(server(cf(kCont, "x", false)), 1002);
}

TEST(Fragmentation, ContinuationAfterCompleteMessage) {
  const auto o = server(cat({cf(kText, "done"), cf(kCont, "more")}));
  EXPECT_EQ(o.events.front(), text("done"));
  expect_failed(o, 1002);
}

TEST(Fragmentation, TextInsideText) {
  expect_failed(server(cat({cf(kText, "a", false), cf(kText, "b")})), 1002);
}

TEST(Fragmentation, BinaryInsideText) {
  expect_failed(server(cat({cf(kText, "a", false), cf(kBinary, "b")})), 1002);
}

TEST(Fragmentation, ControlFramesBetweenFragments) {
  const auto o = server(cat({cf(kText, "a", false), cf(kPing, "1"), cf(kCont, "b", false),
                             cf(kPong, "2"), cf(kCont, "c")}));
  expect_open(o);
  EXPECT_EQ(o.events, (std::vector<Event>{ping_event("1"), pong_event("2"), text("abc")}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kPong, "1"), out(kText, "abc")}));
}

TEST(Fragmentation, CloseBetweenFragmentsEndsWithoutTheMessage) {
  const auto o = server(cat({cf(kText, "a", false), cf(kClose, close_body(1000)), cf(kCont, "b")}));
  EXPECT_EQ(o.events, (std::vector<Event>{closed_by_peer(1000)}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kClose, close_body(1000))}));
}

TEST(Fragmentation, BigFragmentsInterleavedWithPings) {
  const Bytes a = pattern(70000, 1), b = pattern(300, 2), c = pattern(1000, 3);
  const auto o =
      server(cat({cf(kBinary, a, false), cf(kPing, "x"), cf(kCont, b, false), cf(kCont, c)}));
  EXPECT_EQ(o.events, (std::vector<Event>{ping_event("x"), binary(cat({a, b, c}))}));
}

// ===================================== 6 UTF-8 =====================================

TEST(Utf8, ValidGreekTextDelivered) {
  const std::string kosme = "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5";
  const auto o = server(cf(kText, kosme));
  EXPECT_EQ(o.events, (std::vector<Event>{text(kosme)}));
}

TEST(Utf8, BoundaryCodePointsDelivered) {
  for (const std::string& s :
       {std::string(1, '\0'), std::string("\xC2\x80"), std::string("\xE0\xA0\x80"),
        std::string("\xF0\x90\x80\x80"), std::string("\xED\x9F\xBF"), std::string("\xEE\x80\x80"),
        std::string("\xEF\xBF\xBD"), std::string("\xF4\x8F\xBF\xBF")}) {
    const auto o = server(cf(kText, s));
    EXPECT_EQ(o.events, (std::vector<Event>{text(s)}));
  }
}

TEST(Utf8, InvalidTextFails) {
  for (const char* s : {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                        "\xFE", "\xFF", "\xC2", "ab\xE2\x82", "\xED\xA0\x80\xED\xB0\x80"}) {
    SCOPED_TRACE(s);
    const auto o = server(cf(kText, s));
    expect_failed(o, 1007);
    EXPECT_EQ(o.events.size(), 1u);  // only the close
  }
}

TEST(Utf8, BinaryIsNotValidated) {
  const auto o = server(cf(kBinary, bytes("\xFF\xFE\xC0")));
  expect_open(o);
}

TEST(Utf8, CodePointSplitAcrossFragments) {
  // κόσμε with every fragment boundary inside a code point.
  const std::string kosme = "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5";
  for (std::size_t cut = 1; cut < kosme.size(); ++cut) {
    const auto o =
        server(cat({cf(kText, kosme.substr(0, cut), false), cf(kCont, kosme.substr(cut))}));
    EXPECT_EQ(o.events, (std::vector<Event>{text(kosme)}));
  }
}

TEST(Utf8, EveryByteItsOwnFragment) {
  const std::string s = "\xF0\x9F\x98\x80 \xE2\x82\xAC";
  Bytes input = cf(kText, s.substr(0, 1), false);
  for (std::size_t i = 1; i + 1 < s.size(); ++i)
    input = cat({input, cf(kCont, s.substr(i, 1), false)});
  input = cat({input, cf(kCont, s.substr(s.size() - 1))});
  EXPECT_EQ(server(input).events, (std::vector<Event>{text(s)}));
}

TEST(Utf8, MessageEndingInsideACodePointFails) {
  expect_failed(server(cat({cf(kText, "\xCE", false), cf(kCont, "")})), 1007);
}

TEST(Utf8, FailsFastOnTheFirstFragment) {
  // Autobahn 6.4.x: the first fragment is already invalid; we must fail before the rest.
  Recorder r;
  Protocol p(Role::server, {}, r);
  Bytes first = cf(kText, "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xF4\x90\x80\x80", false);
  p.feed(first);
  EXPECT_EQ(p.state(), Protocol::State::closed);
  EXPECT_EQ(p.close_code(), 1007);
  const auto frames = decode(p.output());
  ASSERT_TRUE(frames && frames->size() == 1);
  EXPECT_EQ(frames->front().opcode, kClose);
  EXPECT_EQ(frames->front().payload[1], 1007 & 0xFF);
  // The rest arrives: nothing changes.
  const std::size_t output_size = p.output().size();
  Bytes rest = cf(kCont, "edited");
  p.feed(rest);
  EXPECT_EQ(p.output().size(), output_size);
  EXPECT_EQ(r.close_calls, 1);
}

TEST(Utf8, FailsFastInsideAFramesPayload) {
  // Only the header and the first bytes of the payload have arrived; the bad byte is among them.
  Recorder r;
  Protocol p(Role::server, {}, r);
  Bytes frame = cf(kText, "abc\xFF" + ascii(1000));
  p.feed({frame.data(), 2 + 2 + 4 + 4});  // header (16-bit length) + "abc\xFF"
  EXPECT_EQ(p.state(), Protocol::State::closed);
  EXPECT_EQ(p.close_code(), 1007);
  EXPECT_TRUE(p.failed());
  EXPECT_FALSE(p.output().empty());
}

TEST(Utf8, FailsFastWithinAFirstFragmentStillArriving) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  Bytes frame = cf(kText, "\xED\xA0\x80" + ascii(200), false);
  p.feed({frame.data(), 4 + 4 + 2});  // header + ED A0: A0 cannot follow ED
  EXPECT_EQ(p.close_code(), 1007);
  EXPECT_EQ(p.state(), Protocol::State::closed);
}

TEST(Utf8, ValidPrefixOfACutCodePointIsNotAFailure) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  Bytes frame = cf(kText, "\xF0\x9F\x98\x80");
  p.feed({frame.data(), 6 + 2});
  EXPECT_EQ(p.state(), Protocol::State::open);
  p.feed({frame.data() + 8, frame.size() - 8});
  EXPECT_EQ(r.events, (std::vector<Event>{text("\xF0\x9F\x98\x80")}));
}

TEST(Utf8, ValidMessageThenInvalidFragments) {
  const auto o = server(cat({cf(kText, "ok"), cf(kText, "\xCE\xBA", false), cf(kCont, "\xFF")}));
  EXPECT_EQ(o.events.front(), text("ok"));
  expect_failed(o, 1007);
}

// ===================================== 7 close =====================================

TEST(Close, EmptyCloseIsEchoedEmpty) {
  const auto o = server(cf(kClose, ""));
  EXPECT_EQ(o.state, Protocol::State::closed);
  EXPECT_FALSE(o.failed);
  EXPECT_EQ(o.close_code, close_code::no_status);
  EXPECT_EQ(o.events, (std::vector<Event>{closed_by_peer(1005)}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kClose, "")}));
}

TEST(Close, CodeOnly) {
  const auto o = server(cf(kClose, close_body(1000)));
  EXPECT_EQ(o.events, (std::vector<Event>{closed_by_peer(1000)}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kClose, close_body(1000))}));
  EXPECT_FALSE(o.failed);
}

TEST(Close, CodeAndReason) {
  const auto o = server(cf(kClose, close_body(1001, "going away")));
  EXPECT_EQ(o.events, (std::vector<Event>{closed_by_peer(1001, "going away")}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kClose, close_body(1001))}));
}

TEST(Close, ReasonOf123Bytes) {
  const std::string reason = ascii(123);
  const auto o = server(cf(kClose, close_body(1000, reason)));
  EXPECT_EQ(o.events, (std::vector<Event>{closed_by_peer(1000, reason)}));
}

TEST(Close, PayloadOf126BytesFails) {
  expect_failed(server(cf(kClose, close_body(1000, ascii(124)))), 1002);
}

TEST(Close, OneBytePayloadFails) {
  expect_failed(server(cf(kClose, Bytes{0x03})), 1002);
}

TEST(Close, InvalidCodesFail) {
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    SCOPED_TRACE(code);
    expect_failed(server(cf(kClose, close_body(code))), 1002);
  }
}

TEST(Close, ValidCodesEchoed) {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                   3999, 4000, 4999}) {
    SCOPED_TRACE(code);
    const auto o = server(cf(kClose, close_body(code, "r")));
    EXPECT_FALSE(o.failed);
    EXPECT_EQ(o.events, (std::vector<Event>{closed_by_peer(code, "r")}));
    EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kClose, close_body(code))}));
  }
}

TEST(Close, InvalidUtf8ReasonFails) {
  // Autobahn 7.5.1: κόσμε, a surrogate, "edited".
  expect_failed(server(cf(kClose, close_body(1000,
                                             "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"
                                             "\xED\xA0\x80\x65\x64\x69\x74\x65\x64"))),
                1007);
}

TEST(Close, DataAfterCloseIsIgnored) {
  const auto o = server(cat({cf(kClose, close_body(1000)), cf(kText, "late"), cf(kPing, "")}));
  EXPECT_EQ(o.events, (std::vector<Event>{closed_by_peer(1000)}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kClose, close_body(1000))}));
}

TEST(Close, GarbageAfterCloseIsIgnored) {
  const auto o = server(cat({cf(kClose, ""), Bytes{0xFF, 0xFF, 0xFF}}));
  EXPECT_FALSE(o.failed);
  EXPECT_EQ(o.frames.size(), 1u);
}

TEST(Close, MessageBeforeCloseIsDelivered) {
  const auto o = server(cat({cf(kText, "hi"), cf(kClose, close_body(1000))}));
  EXPECT_EQ(o.events, (std::vector<Event>{text("hi"), closed_by_peer(1000)}));
  EXPECT_EQ(o.frames, (std::vector<OutFrame>{out(kText, "hi"), out(kClose, close_body(1000))}));
}

// We start the close handshake; the peer's frames are read but not delivered until its close.
struct Initiated {
  Recorder recorder;
  Protocol protocol{Role::server, {}, recorder};
  Initiated() {
    recorder.protocol = &protocol;
    recorder.echo = true;
    protocol.close(1000, "bye");
  }
  void feed(Bytes b) { protocol.feed(b); }
};

TEST(Close, OurCloseThenPeerClose) {
  Initiated t;
  EXPECT_EQ(t.protocol.state(), Protocol::State::closing);
  auto frames = decode(t.protocol.output());
  EXPECT_EQ(*frames, (std::vector<OutFrame>{out(kClose, close_body(1000, "bye"))}));
  t.feed(cf(kClose, close_body(1001, "ok")));
  EXPECT_EQ(t.protocol.state(), Protocol::State::closed);
  EXPECT_FALSE(t.protocol.failed());
  EXPECT_EQ(t.protocol.close_code(), 1001);
  EXPECT_EQ(t.protocol.close_reason(), "ok");
  EXPECT_EQ(t.recorder.events, (std::vector<Event>{closed_by_peer(1001, "ok")}));
  // No second close frame.
  EXPECT_EQ(decode(t.protocol.output())->size(), 1u);
}

TEST(Close, DataWhileClosingIsNotDelivered) {
  Initiated t;
  t.feed(cat({cf(kText, "a"), cf(kBinary, pattern(70000)), cf(kText, "x", false), cf(kPing, "p"),
              cf(kCont, "y"), cf(kClose, "")}));
  EXPECT_EQ(t.recorder.events, (std::vector<Event>{closed_by_peer(1005)}));
  EXPECT_EQ(decode(t.protocol.output())->size(), 1u);  // no echo, no pong
}

TEST(Close, ViolationWhileClosingSendsNoSecondClose) {
  Initiated t;
  t.feed(cf(5, "x"));
  EXPECT_EQ(t.protocol.state(), Protocol::State::closed);
  EXPECT_TRUE(t.protocol.failed());
  EXPECT_EQ(t.protocol.close_code(), 1002);
  EXPECT_EQ(decode(t.protocol.output())->size(), 1u);
}

TEST(Close, InputAfterClosedIsIgnored) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  Bytes c = cf(kClose, "");
  p.feed(c);
  const Bytes before = p.output();
  Bytes more = cat({cf(kText, "x"), cf(kPing, ""), Bytes{0xFF}});
  p.feed(more);
  EXPECT_EQ(p.output(), before);
  EXPECT_EQ(r.close_calls, 1);
}

TEST(Close, CloseIsNoOpUnlessOpen) {
  Initiated t;
  const Bytes before = t.protocol.output();
  t.protocol.close(1001);
  EXPECT_EQ(t.protocol.output(), before);
}

TEST(Close, ReasonTruncatedAtCodePointBoundary) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  std::string reason(121, 'x');
  reason += "\xE2\x82\xAC";  // € at bytes 121..123: byte 123 does not fit
  p.close(1000, reason);
  const auto frames = decode(p.output());
  ASSERT_TRUE(frames && frames->size() == 1);
  EXPECT_EQ(frames->front().payload, close_body(1000, std::string(121, 'x')));
}

TEST(Close, LongAsciiReasonTruncatedTo123Bytes) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  p.close(4000, ascii(500));
  const auto frames = decode(p.output());
  ASSERT_TRUE(frames);
  EXPECT_EQ(frames->front().payload, close_body(4000, ascii(123)));
}

TEST(Close, NoStatusSendsEmptyClose) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  p.close(close_code::no_status, "ignored");
  EXPECT_EQ(*decode(p.output()), (std::vector<OutFrame>{out(kClose, "")}));
}

TEST(Close, InvalidCodeBecomesInternalError) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  p.close(1006);
  EXPECT_EQ(*decode(p.output()), (std::vector<OutFrame>{out(kClose, close_body(1011))}));
}

TEST(Close, NothingSentAfterClose) {
  Initiated t;
  const std::uint8_t x[1] = {'x'};
  EXPECT_FALSE(t.protocol.send(MessageType::text, x));
  EXPECT_FALSE(t.protocol.send_text("x"));
  EXPECT_FALSE(t.protocol.send_frame(Opcode::binary, x, true));
  EXPECT_FALSE(t.protocol.ping());
  EXPECT_FALSE(t.protocol.pong());
  EXPECT_EQ(decode(t.protocol.output())->size(), 1u);
}

TEST(Close, OnCloseCalledOnceAfterFailure) {
  const auto o = server(cat({cf(5, ""), cf(5, ""), cf(kClose, "")}));
  EXPECT_EQ(o.close_calls, 1);
  expect_failed(o, 1002);
}

TEST(Close, HandlerClosingDuringMessage) {
  struct Closer : Recorder {
    void on_message(MessageType type, std::span<std::uint8_t> payload) override {
      Recorder::on_message(type, payload);
      protocol->close(1000);
    }
  } r;
  Protocol p(Role::server, {}, r);
  r.protocol = &p;
  Bytes input = cat({cf(kText, "first"), cf(kText, "second"), cf(kClose, close_body(1000))});
  p.feed(input);
  EXPECT_EQ(r.events, (std::vector<Event>{text("first"), closed_by_peer(1000)}));
  EXPECT_EQ(p.state(), Protocol::State::closed);
}

// ================================ 9 limits and sizes ================================

TEST(Limits, OneMebibyteTextInSmallChunks) {
  const std::string message = ascii(1 << 20);
  const Bytes input = cf(kText, message);
  std::vector<std::size_t> cuts;
  for (std::size_t pos = 997; pos < input.size(); pos += 997) cuts.push_back(pos);
  const auto o = run({}, input, cuts);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_TRUE(o.events[0] == text(message));
  ASSERT_EQ(o.frames.size(), 1u);
  EXPECT_EQ(o.frames[0].payload.size(), message.size());
}

TEST(Limits, OneMebibyteInFragmentsOf64KiB) {
  const Bytes message = pattern(1 << 20);
  Bytes input;
  for (std::size_t pos = 0; pos < message.size(); pos += 65536) {
    const Bytes part(message.begin() + static_cast<std::ptrdiff_t>(pos),
                     message.begin() + static_cast<std::ptrdiff_t>(pos + 65536));
    input = cat({input, cf(pos == 0 ? kBinary : kCont, part, pos + 65536 == message.size())});
  }
  const auto o = server(input);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_TRUE(o.events[0] == binary(message));
}

TEST(Limits, SixteenMebibyteTextInSmallChunks) {
  const std::string message = ascii(16 << 20);
  const Bytes input = cf(kText, message);
  std::vector<std::size_t> cuts;
  for (std::size_t pos = 4096; pos < input.size(); pos += 4096) cuts.push_back(pos);
  const auto o = run({}, input, cuts);
  expect_open(o);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].data.size(), message.size());
  EXPECT_TRUE(o.events[0].data == message);
}

TEST(Limits, ExactlyMaxMessageSizeIsAccepted) {
  ProtocolOptions options;
  options.max_message_size = 1000;
  EXPECT_EQ(server(cf(kBinary, pattern(1000)), options).events.size(), 1u);
  EXPECT_EQ(server(cat({cf(kBinary, pattern(600), false), cf(kCont, pattern(400))}), options)
                .events.size(),
            1u);
}

TEST(Limits, TooBigFailsOnTheHeaderAlone) {
  ProtocolOptions options;
  options.max_message_size = 1000;
  Recorder r;
  Protocol p(Role::server, options, r);
  Bytes input = cf(kBinary, pattern(1001));
  p.feed({input.data(), 8});  // just the header: nothing buffered yet
  EXPECT_EQ(p.state(), Protocol::State::closed);
  EXPECT_EQ(p.close_code(), 1009);
  expect_failed(server(input, options), 1009);
}

TEST(Limits, TooBigAcrossFragmentsFailsOnTheOffendingHeader) {
  ProtocolOptions options;
  options.max_message_size = 1000;
  Recorder r;
  Protocol p(Role::server, options, r);
  Bytes first = cf(kBinary, pattern(600), false);
  Bytes second = cf(kCont, pattern(401));
  p.feed(first);
  EXPECT_EQ(p.state(), Protocol::State::open);
  p.feed({second.data(), 8});
  EXPECT_EQ(p.close_code(), 1009);
  expect_failed(server(cat({first, second}), options), 1009);
}

TEST(Limits, HugeAnnouncedLengthFailsWithoutAllocating) {
  expect_failed(server(encode(RawFrame(kBinary, {}).declare(1ull << 62))), 1009);
}

TEST(Limits, ControlFramesDoNotCountTowardsTheMessage) {
  ProtocolOptions options;
  options.max_message_size = 10;
  const auto o = server(
      cat({cf(kText, ascii(5), false), cf(kPing, ascii(100)), cf(kCont, ascii(5))}), options);
  expect_open(o);
  EXPECT_EQ(o.events.back(), text(ascii(5) + ascii(5)));
}

// =================================== 10 sending ===================================

std::vector<OutFrame> sent(ProtocolOptions options, auto&& action) {
  Recorder r;
  Protocol p(Role::server, options, r);
  action(p);
  return *decode(p.output());
}

TEST(Sending, FragmentSizeSplitsMessages) {
  ProtocolOptions options;
  options.fragment_size = 3;
  const auto frames = sent(options, [](Protocol& p) { EXPECT_TRUE(p.send_text("abcdefghij")); });
  EXPECT_EQ(frames, (std::vector<OutFrame>{out(kText, "abc", false), out(kCont, "def", false),
                                           out(kCont, "ghi", false), out(kCont, "j", true)}));
}

TEST(Sending, FragmentSizeExactMultiple) {
  ProtocolOptions options;
  options.fragment_size = 4;
  const Bytes payload = pattern(8);
  const auto frames = sent(options, [&](Protocol& p) { p.send(MessageType::binary, payload); });
  EXPECT_EQ(frames,
            (std::vector<OutFrame>{out(kBinary, Bytes(payload.begin(), payload.begin() + 4), false),
                                   out(kCont, Bytes(payload.begin() + 4, payload.end()), true)}));
}

TEST(Sending, FragmentSizeNotExceeded) {
  ProtocolOptions options;
  options.fragment_size = 4;
  const auto frames = sent(options, [](Protocol& p) {
    p.send_text("abcd");
    p.send_text("");
  });
  EXPECT_EQ(frames, (std::vector<OutFrame>{out(kText, "abcd"), out(kText, "")}));
}

TEST(Sending, EchoedMessagesAreFragmented) {
  ProtocolOptions options;
  options.fragment_size = 100;
  const auto o = server(cf(kBinary, pattern(250)), options);
  ASSERT_EQ(o.frames.size(), 3u);
  EXPECT_EQ(o.frames[0].opcode, kBinary);
  EXPECT_EQ(o.frames[2].payload.size(), 50u);
  EXPECT_TRUE(o.frames[2].fin);
}

TEST(Sending, LengthEncodings) {
  for (std::size_t n : {0, 125, 126, 65535, 65536}) {
    const Bytes payload = pattern(n);
    Recorder r;
    Protocol p(Role::server, {}, r);
    p.send(MessageType::binary, payload);
    const std::size_t header = n < 126 ? 2 : (n < 65536 ? 4 : 10);
    EXPECT_EQ(p.output().size(), header + n);
    EXPECT_EQ(*decode(p.output()), (std::vector<OutFrame>{out(kBinary, payload)}));
  }
}

TEST(Sending, SendFrameSequence) {
  const auto frames = sent({}, [](Protocol& p) {
    const std::uint8_t a[] = {'a'};
    EXPECT_FALSE(p.send_frame(Opcode::continuation, a, true));  // nothing to continue
    EXPECT_TRUE(p.send_frame(Opcode::text, a, false));
    EXPECT_FALSE(p.send_frame(Opcode::binary, a, true));  // a message is under way
    EXPECT_FALSE(p.send_text("interleaved"));
    EXPECT_TRUE(p.ping());  // control frames may go between fragments
    EXPECT_TRUE(p.send_frame(Opcode::continuation, a, true));
    EXPECT_FALSE(p.send_frame(Opcode::ping, a, true));
    EXPECT_TRUE(p.send_text("next"));
  });
  EXPECT_EQ(frames, (std::vector<OutFrame>{out(kText, "a", false), out(kPing, ""),
                                           out(kCont, "a", true), out(kText, "next")}));
}

TEST(Sending, PingPongLimits) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  EXPECT_TRUE(p.ping(pattern(125)));
  EXPECT_FALSE(p.ping(pattern(126)));
  EXPECT_TRUE(p.pong(pattern(125)));
  EXPECT_FALSE(p.pong(pattern(126)));
  EXPECT_EQ(*decode(p.output()),
            (std::vector<OutFrame>{out(kPing, pattern(125)), out(kPong, pattern(125))}));
}

TEST(Sending, ConsumeOutput) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  p.send_text("hello");
  p.send_text("world");
  ASSERT_EQ(p.output().size(), 14u);
  p.consume_output(3);
  EXPECT_EQ(p.output().size(), 11u);
  EXPECT_EQ(p.output()[0], 'e');  // 0x81 0x05 'h' consumed
  p.consume_output(4);
  EXPECT_EQ(*decode(p.output()), (std::vector<OutFrame>{out(kText, "world")}));
  p.consume_output(100);
  EXPECT_TRUE(p.output().empty());
}

// ===================================== roles =====================================

TEST(Roles, ServerRejectsUnmaskedClientFrames) {
  expect_failed(server(sf(kText, "hi")), 1002);
  expect_failed(server(sf(kPing, "")), 1002);
}

TEST(Roles, ClientRejectsMaskedServerFrames) {
  expect_failed(client(cf(kText, "hi")), 1002);
  expect_failed(client(cf(kClose, "")), 1002);
}

TEST(Roles, ClientReceivesUnmaskedFrames) {
  const auto o = client(cat({sf(kText, "hello"), sf(kPing, "p"), sf(kBinary, "\x01\x02"),
                             sf(kText, "a", false), sf(kCont, "b")}));
  expect_open(o);
  EXPECT_EQ(o.events, (std::vector<Event>{text("hello"), ping_event("p"), binary(bytes("\x01\x02")),
                                          text("ab")}));
}

TEST(Roles, ClientMasksEveryFrame) {
  const auto o = client(cat({sf(kText, "hello"), sf(kPing, "p"), sf(kClose, "")}));
  ASSERT_EQ(o.frames.size(), 3u);
  for (const auto& f : o.frames) EXPECT_TRUE(f.masked);
  // decode() unmasked them: the payloads are the originals.
  EXPECT_EQ(o.frames[0].payload, bytes("hello"));
  EXPECT_EQ(o.frames[1].payload, bytes("p"));
  EXPECT_EQ(o.frames[1].opcode, kPong);
  EXPECT_EQ(o.frames[2].opcode, kClose);
}

TEST(Roles, ClientMaskingKeysVary) {
  Recorder r;
  Protocol p(Role::client, {}, r);
  const Bytes zeros(64, 0);
  for (int i = 0; i < 8; ++i) p.send(MessageType::binary, zeros);
  // With an all-zero payload the masked bytes are the key; 8 equal keys would be a broken RNG.
  int distinct = 0;
  std::vector<Bytes> keys;
  for (std::size_t i = 0; i < p.output().size(); i += 2 + 4 + 64) {
    Bytes key(p.output().begin() + static_cast<std::ptrdiff_t>(i + 2),
              p.output().begin() + static_cast<std::ptrdiff_t>(i + 6));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) ++distinct;
    keys.push_back(key);
    EXPECT_EQ(p.output()[i + 1], 0x80 | 64);
  }
  EXPECT_GE(distinct, 7);
}

TEST(Roles, ClientFailureCloseIsMasked) {
  const auto o = client(sf(5, ""));
  expect_failed(o, 1002);
  EXPECT_TRUE(o.frames.back().masked);
}

TEST(Roles, ClientCloseHandshake) {
  Recorder r;
  Protocol p(Role::client, {}, r);
  p.close(1000);
  Bytes reply = sf(kClose, "\x03\xE8");
  p.feed(reply);
  EXPECT_EQ(p.state(), Protocol::State::closed);
  EXPECT_EQ(p.close_code(), 1000);
  EXPECT_FALSE(p.failed());
}

// ============================== zero copy and buffers ==============================

TEST(ZeroCopy, WholeFrameDeliveredInPlace) {
  struct Spy : ProtocolHandler {
    const std::uint8_t* seen = nullptr;
    void on_message(MessageType, std::span<std::uint8_t> payload) override {
      seen = payload.data();
    }
  } spy;
  Protocol p(Role::server, {}, spy);
  Bytes input = cf(kBinary, pattern(1000));
  p.feed(input);
  EXPECT_EQ(spy.seen, input.data() + 8);  // straight after the 8-byte header
  // The payload was unmasked in place.
  EXPECT_EQ(Bytes(input.begin() + 8, input.end()), pattern(1000));
}

TEST(ZeroCopy, HandlerMayModifyThePayload) {
  struct Upper : Recorder {
    void on_message(MessageType type, std::span<std::uint8_t> payload) override {
      for (auto& b : payload) b = static_cast<std::uint8_t>(std::toupper(b));
      Recorder::on_message(type, payload);
    }
  } r;
  Protocol p(Role::server, {}, r);
  r.protocol = &p;
  r.echo = true;
  Bytes input = cat({cf(kText, "abc"), cf(kText, "d", false), cf(kCont, "e")});
  p.feed(input);
  EXPECT_EQ(r.events, (std::vector<Event>{text("ABC"), text("DE")}));
}

TEST(ZeroCopy, OutputBuffersAreReused) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  r.protocol = &p;
  r.echo = true;
  Bytes frame = cf(kText, ascii(512));
  Bytes input = frame;
  p.feed(input);
  const auto* data = p.output().data();
  for (int i = 0; i < 100; ++i) {
    p.consume_output(p.output().size());
    input = frame;
    p.feed(input);
    ASSERT_EQ(p.output().data(), data);
  }
}

TEST(ZeroCopy, BigOutputReleasedWhenConsumed) {
  Recorder r;
  Protocol p(Role::server, {}, r);
  p.send(MessageType::binary, pattern(2 << 20));
  p.consume_output(p.output().size());
  EXPECT_LT(p.output().capacity(), std::size_t{1} << 20);
  p.send_text("small");
  p.consume_output(p.output().size());
  EXPECT_GT(p.output().capacity(), 0u);
}

}  // namespace
}  // namespace gw::ws
