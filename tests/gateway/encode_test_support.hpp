// Helpers for the tests of the gateway's writers: every writer is generic over JsonWriter and
// MsgpackWriter, and both encodings must carry the same tree.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "codec/json_writer.hpp"
#include "codec/msgpack_writer.hpp"
#include "codec/tree.hpp"
#include "market/instrument.hpp"

namespace gw::gateway::testing {

// Runs `write` on a JsonWriter and on a MsgpackWriter, expects both to decode to the same tree
// (member order included; a wrong count in MessagePack fails to decode or leaves trailing
// bytes), and returns the JSON.
template <class F>
std::string encode(F&& write) {
  std::string json;
  {
    codec::JsonWriter w(json);
    write(w);
  }
  std::string packed;
  {
    codec::MsgpackWriter w(packed);
    write(w);
  }
  EXPECT_EQ(codec::test::canonical_json(json), codec::test::canonical_msgpack(packed)) << json;
  return json;
}

// The instrument `name`, listed under `id`.
inline market::Instrument listed(market::InstrumentName name, market::InstrumentId id) {
  market::Instrument i = market::make_instrument(name);
  i.id = id;
  return i;
}

}  // namespace gw::gateway::testing
