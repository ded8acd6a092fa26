// What travels over NATS between an edge and the venue besides the market data: a forwarded
// request and its answer (subject gw.venue.rpc), as small JSON objects (docs/SCALE-OUT.md,
// "Request-reply"). Not a hot path: greekwire::Value builds and parses them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <greekwire/value.hpp>

#include "gateway/gateway.hpp"

namespace gw::scale {

struct WireCall {
  gateway::ForwardedCall call;
  std::string request_id;          // "<edge id>-<n>": a venue answers each id once
  std::int64_t expires_at_ms = 0;  // wall clock: the venue drops a call it takes later
};

std::string encode_call(const WireCall& call);
std::optional<WireCall> decode_call(std::string_view data, std::string* error);

// One market-data message of the stream (docs/SCALE-OUT.md, "Subjects"):
// {"epoch": ..., "seq": ..., "channel": ..., "data": ...}.
struct StreamMessage {
  std::string epoch;
  std::uint64_t seq = 0;
  std::string channel;
  greekwire::Value data;
};
// nullopt with `error` unless every member is there with its type (seq > 0).
std::optional<StreamMessage> decode_stream_message(std::string_view text, std::string* error);

std::string encode_answer(const gateway::ForwardedAnswer& answer);
// `delivered` is set; nullopt with `error` for a malformed answer.
std::optional<gateway::ForwardedAnswer> decode_answer(std::string_view data, std::string* error);

}  // namespace gw::scale
