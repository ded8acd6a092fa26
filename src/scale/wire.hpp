// What travels over NATS between an edge and the venue besides the market data: a forwarded
// request and its answer (subject gw.venue.rpc), as small JSON objects (docs/SCALE-OUT.md,
// "Request-reply"). Not a hot path: greekwire::Value builds and parses them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/gateway.hpp"

namespace gw::scale {

struct WireCall {
  gateway::ForwardedCall call;
  std::string request_id;          // "<edge id>-<n>": a venue answers each id once
  std::int64_t expires_at_ms = 0;  // wall clock: the venue drops a call it takes later
};

std::string encode_call(const WireCall& call);
std::optional<WireCall> decode_call(std::string_view data, std::string* error);

std::string encode_answer(const gateway::ForwardedAnswer& answer);
// `delivered` is set; nullopt with `error` for a malformed answer.
std::optional<gateway::ForwardedAnswer> decode_answer(std::string_view data, std::string* error);

}  // namespace gw::scale
