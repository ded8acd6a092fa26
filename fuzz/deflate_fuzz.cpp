// libFuzzer target for permessage-deflate: the Sec-WebSocket-Extensions grammar and
// negotiation (both roles), inflation of arbitrary bytes under a limit, and a server Protocol
// with deflate enabled fed arbitrary frames. Invariants: no crash, no leak, output bounded.
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "ws/deflate.hpp"
#include "ws/protocol.hpp"

namespace {

using namespace gw::ws;

void negotiation(std::string_view text) {
  DeflateOptions options;
  options.enabled = true;
  (void)parse_extensions(text);
  const std::string answer = negotiate_deflate(text, options);
  if (!answer.empty()) {
    // Whatever we answer must be a valid answer.
    CHECK(parse_deflate_response(answer, options).has_value());
  }
  (void)parse_deflate_response(text, options);
}

void inflation(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kLimit = 4096;
  Inflater inflater(size % 2 == 0);
  std::vector<std::uint8_t> out;
  const std::size_t half = size / 2;
  if (inflater.inflate({data, half}, out, kLimit) == Inflater::Result::ok &&
      inflater.inflate({data + half, size - half}, out, kLimit) == Inflater::Result::ok) {
    (void)inflater.finish(out, kLimit);
  }
  CHECK(out.size() <= kLimit + 1);
}

struct Sink : ProtocolHandler {
  void on_message(MessageType, std::span<std::uint8_t> payload) override {
    CHECK(payload.size() <= 2048);
  }
};

void protocol(const std::uint8_t* data, std::size_t size) {
  Sink sink;
  ProtocolOptions options;
  options.max_message_size = 2048;
  Protocol server(Role::server, options, sink);
  DeflateConfig config;
  config.decompress_reset = size % 3 == 0;
  server.enable_deflate(config);
  std::vector<std::uint8_t> copy(data, data + size);
  server.feed(copy);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0] % 3;
  ++data;
  --size;
  switch (mode) {
    case 0:
      negotiation({reinterpret_cast<const char*>(data), size});
      break;
    case 1:
      inflation(data, size);
      break;
    default:
      protocol(data, size);
      break;
  }
  return 0;
}
