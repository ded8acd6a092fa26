// The scale-out wire format (scale/wire.hpp): what an edge or a venue reads from NATS. Anything
// must be refused or decoded, never crash; what decodes must encode and decode the same again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "scale/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (const auto call = gw::scale::decode_call(text, &error)) {
    const auto again = gw::scale::decode_call(gw::scale::encode_call(*call), &error);
    CHECK(again && again->request_id == call->request_id &&
          again->call.request == call->call.request &&
          again->call.connection_id == call->call.connection_id);
  }
  if (const auto answer = gw::scale::decode_answer(text, &error)) {
    const auto again = gw::scale::decode_answer(gw::scale::encode_answer(*answer), &error);
    CHECK(again && again->response == answer->response && again->is_error == answer->is_error &&
          again->identity.has_value() == answer->identity.has_value());
  }
  if (const auto message = gw::scale::decode_stream_message(text, &error)) {
    CHECK(message->seq > 0);
  }
  return 0;
}
