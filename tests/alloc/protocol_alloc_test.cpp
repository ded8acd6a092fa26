// Allocation discipline of Protocol: an echo loop in steady state makes no heap allocation, and
// buffers that grew for a big message are released once it is done.
//
// This file replaces the global operator new/delete (forwarding to malloc/free) to count
// allocations made on the counting thread while a Counter is alive. The replacements are weak:
// where a sanitizer runtime or another test brings its own, theirs win, the self-check below
// sees no counting and the tests skip instead of passing vacuously.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "ws/protocol.hpp"

namespace {

struct Counts {
  long allocations = 0;
  long big_live = 0;  // live blocks of more than 1 MiB
};
thread_local Counts* counting = nullptr;

constexpr std::size_t kBig = 1024 * 1024;
constexpr std::size_t kMaxTracked = 64;
thread_local void* big_blocks[kMaxTracked];

void* counted_alloc(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p != nullptr && counting != nullptr) {
    ++counting->allocations;
    if (n > kBig) {
      for (auto& slot : big_blocks) {
        if (slot == nullptr) {
          slot = p;
          ++counting->big_live;
          break;
        }
      }
    }
  }
  return p;
}

void counted_free(void* p) {
  if (p == nullptr) return;
  if (counting != nullptr) {
    for (auto& slot : big_blocks) {
      if (slot == p) {
        slot = nullptr;
        --counting->big_live;
        break;
      }
    }
  }
  std::free(p);
}

}  // namespace

#define GW_WEAK __attribute__((weak))
GW_WEAK void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
GW_WEAK void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
GW_WEAK void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return counted_alloc(n);
}
GW_WEAK void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return counted_alloc(n);
}
GW_WEAK void operator delete(void* p) noexcept {
  counted_free(p);
}
GW_WEAK void operator delete[](void* p) noexcept {
  counted_free(p);
}
GW_WEAK void operator delete(void* p, std::size_t) noexcept {
  counted_free(p);
}
GW_WEAK void operator delete[](void* p, std::size_t) noexcept {
  counted_free(p);
}
GW_WEAK void operator delete(void* p, const std::nothrow_t&) noexcept {
  counted_free(p);
}
GW_WEAK void operator delete[](void* p, const std::nothrow_t&) noexcept {
  counted_free(p);
}

namespace gw::ws {
namespace {

class Counter {
 public:
  Counter() { counting = &counts_; }
  ~Counter() { counting = nullptr; }
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  long allocations() const { return counts_.allocations; }
  long big_live() const { return counts_.big_live; }

 private:
  Counts counts_;
};

bool counting_works() {
  Counter c;
  auto* volatile probe = new int(1);
  delete probe;
  return c.allocations() == 1;
}

using Bytes = std::vector<std::uint8_t>;

Bytes masked_frame(std::uint8_t opcode, const Bytes& payload, bool fin = true) {
  const std::uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
  const std::size_t n = payload.size();
  Bytes out;  // push_back only: g++ 12 -O3 raises a bogus -Warray-bounds on insert here
  out.reserve(14 + n);
  out.push_back(static_cast<std::uint8_t>((fin ? 0x80 : 0) | opcode));
  if (n < 126) {
    out.push_back(static_cast<std::uint8_t>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(0xFE);
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    out.push_back(0xFF);
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(n >> shift));
  }
  for (auto b : key) out.push_back(b);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<std::uint8_t>(payload[i] ^ key[i % 4]));
  return out;
}

struct Echo : ProtocolHandler {
  Protocol* protocol = nullptr;
  long messages = 0;
  void on_message(MessageType type, std::span<std::uint8_t> payload) override {
    ++messages;
    protocol->send(type, payload);
  }
};

TEST(Allocations, EchoSteadyStateAllocatesNothing) {
  if (!counting_works()) GTEST_SKIP() << "global operator new is not replaceable in this build";
  Echo echo;
  ProtocolOptions options;
  options.fragment_size = 16 * 1024;
  Protocol protocol(Role::server, options, echo);
  echo.protocol = &protocol;

  // One round: a 512-byte text frame delivered in place, a 70 KB binary message streamed in
  // 1500-byte pieces, a fragmented text message with a ping between its fragments, and a header
  // cut in the middle.
  const Bytes small = masked_frame(0x1, Bytes(512, 'a'));
  const Bytes big = masked_frame(0x2, Bytes(70000, 0x5A));
  Bytes fragmented = masked_frame(0x1, Bytes(300, 'b'), false);
  const Bytes ping = masked_frame(0x9, Bytes(10, 'p'));
  const Bytes last = masked_frame(0x0, Bytes(200, 'c'));
  fragmented.insert(fragmented.end(), ping.begin(), ping.end());
  fragmented.insert(fragmented.end(), last.begin(), last.end());
  Bytes buffer(big.size());  // scratch the protocol unmasks in place

  auto feed = [&](const Bytes& input, std::size_t piece) {
    std::memcpy(buffer.data(), input.data(), input.size());
    for (std::size_t pos = 0; pos < input.size(); pos += piece) {
      const std::size_t n = std::min(piece, input.size() - pos);
      protocol.feed({buffer.data() + pos, n});
    }
  };
  auto round = [&] {
    feed(small, small.size());
    feed(big, 1500);
    feed(fragmented, fragmented.size());
    feed(small, 5);
    protocol.consume_output(protocol.output().size() / 2);
    protocol.consume_output(protocol.output().size());
  };

  for (int i = 0; i < 3; ++i) round();  // warm up: buffers reach their working size
  Counter counter;
  for (int i = 0; i < 200; ++i) round();
  EXPECT_EQ(counter.allocations(), 0);
  EXPECT_EQ(echo.messages, 4 * 203);
  EXPECT_EQ(protocol.state(), Protocol::State::open);
}

TEST(Allocations, BigMessageBuffersAreReleased) {
  if (!counting_works()) GTEST_SKIP() << "global operator new is not replaceable in this build";
  Bytes big = masked_frame(0x2, Bytes(3 << 20, 7));
  Counter counter;
  Echo echo;
  Protocol protocol(Role::server, {}, echo);
  echo.protocol = &protocol;
  // Streamed in pieces, so it is assembled in the message buffer.
  for (std::size_t pos = 0; pos < big.size(); pos += 65536) {
    protocol.feed({big.data() + pos, std::min<std::size_t>(65536, big.size() - pos)});
  }
  EXPECT_EQ(echo.messages, 1);
  EXPECT_GE(counter.big_live(), 1);  // the echo is still waiting in output()
  protocol.consume_output(protocol.output().size());
  EXPECT_EQ(counter.big_live(), 0);
}

}  // namespace
}  // namespace gw::ws
