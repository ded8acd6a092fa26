// Kernel benchmarks of the WebSocket protocol core: unmasking, UTF-8 validation, header parsing
// and one full receive-and-echo of a small text message.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ws/frame.hpp"
#include "ws/protocol.hpp"
#include "ws/utf8.hpp"

namespace {

using namespace gw::ws;

void BM_ApplyMask(benchmark::State& state) {
  std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)), 0x5A);
  const std::array<std::uint8_t, 4> key{0x37, 0xFA, 0x21, 0x3D};
  for (auto _ : state) {
    apply_mask(data.data(), data.size(), key, 1);
    benchmark::DoNotOptimize(data.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ApplyMask)->Arg(512)->Arg(64 << 10);

std::vector<std::uint8_t> ascii_text(std::size_t n) {
  std::vector<std::uint8_t> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<std::uint8_t>(' ' + i % 95);
  return s;
}

// Market chatter as a Greek desk might write it: ASCII instrument names and numbers mixed with
// Greek, a little CJK, symbols and emoji (1- to 4-byte sequences; about 60% of the bytes are in
// multi-byte sequences).
std::vector<std::uint8_t> mixed_text(std::size_t n) {
  const std::string line =
      "Αγοράζουμε BTC-27DEC24-100000-C στο 0.0450 ₿ — η "
      "μεταβλητότητα "
      "ανεβαίνει "
      "📈 "
      "市场波动 Δ=0.52 Γ=0.0001 ϴ=-12.3 €/ημέρα; κλείσιμο θέσης αύριο ✔ ";
  std::vector<std::uint8_t> s;
  while (s.size() + line.size() <= n) s.insert(s.end(), line.begin(), line.end());
  while (s.size() < n) s.push_back('.');
  return s;
}

void BM_Utf8Ascii(benchmark::State& state) {
  const auto text = ascii_text(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(is_valid_utf8(text.data(), text.size()));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Utf8Ascii)->Arg(64 << 10);

void BM_Utf8Mixed(benchmark::State& state) {
  const auto text = mixed_text(static_cast<std::size_t>(state.range(0)));
  if (!is_valid_utf8(text.data(), text.size())) state.SkipWithError("benchmark text invalid");
  for (auto _ : state) {
    benchmark::DoNotOptimize(is_valid_utf8(text.data(), text.size()));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Utf8Mixed)->Arg(64 << 10);

void BM_Utf8MixedIncremental(benchmark::State& state) {
  // The streaming path: the same text arriving in 1460-byte TCP segments.
  const auto text = mixed_text(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    Utf8Validator v;
    bool ok = true;
    for (std::size_t pos = 0; pos < text.size(); pos += 1460) {
      ok &= v.feed(text.data() + pos, std::min<std::size_t>(1460, text.size() - pos));
    }
    benchmark::DoNotOptimize(ok && v.complete());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Utf8MixedIncremental)->Arg(64 << 10);

void parse_header_bench(benchmark::State& state, std::vector<std::uint8_t> header) {
  FrameHeader h;
  for (auto _ : state) {
    benchmark::DoNotOptimize(header.data());
    benchmark::DoNotOptimize(parse_frame_header(header.data(), header.size(), h));
    benchmark::DoNotOptimize(h);
  }
}
void BM_ParseHeader2(benchmark::State& state) {
  parse_header_bench(state, {0x81, 0x7D});
}
void BM_ParseHeader4(benchmark::State& state) {
  parse_header_bench(state, {0x82, 0x7E, 0x01, 0x00});
}
void BM_ParseHeader14(benchmark::State& state) {
  parse_header_bench(state, {0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0x37, 0xFA, 0x21, 0x3D});
}
BENCHMARK(BM_ParseHeader2);
BENCHMARK(BM_ParseHeader4);
BENCHMARK(BM_ParseHeader14);

struct EchoHandler : ProtocolHandler {
  Protocol* protocol = nullptr;
  void on_message(MessageType type, std::span<std::uint8_t> payload) override {
    protocol->send(type, payload);
  }
};

// One masked 512-byte text frame in, unmasked and validated in place, echoed out, output
// consumed. feed() unmasks the payload in place, so each iteration first masks it again, as the
// peer would: that 512-byte apply_mask (about 10 ns, see BM_ApplyMask/512) is in the figure.
void BM_ProtocolEcho512(benchmark::State& state) {
  EchoHandler handler;
  Protocol protocol(Role::server, {}, handler);
  handler.protocol = &protocol;

  const std::array<std::uint8_t, 4> key{0x37, 0xFA, 0x21, 0x3D};
  std::vector<std::uint8_t> frame{0x81, 0xFE, 0x02, 0x00, key[0], key[1], key[2], key[3]};
  const auto text = ascii_text(512);
  frame.insert(frame.end(), text.begin(), text.end());

  for (auto _ : state) {
    apply_mask(frame.data() + 8, 512, key);
    protocol.feed(frame);
    benchmark::DoNotOptimize(protocol.output().data());
    protocol.consume_output(protocol.output().size());
  }
  if (protocol.state() != Protocol::State::open) state.SkipWithError("connection failed");
  state.SetBytesProcessed(state.iterations() * 512);
}
BENCHMARK(BM_ProtocolEcho512);

}  // namespace
