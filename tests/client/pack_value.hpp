// Test helpers that turn JSON text into the frames a Deribit server sends: `json` parses it
// (a typo in a test throws rather than sending nothing), `pack` writes a Value tree through a
// codec Writer: MessagePack, as greekwire does for the msgpack subprotocol, or any other.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "codec/msgpack_writer.hpp"
#include "greekwire/value.hpp"

namespace gw::client::test {

template <class W>
void pack(const greekwire::Value& v, W& w) {
  using T = greekwire::Value::Type;
  switch (v.type()) {
    case T::null:
      w.null();
      break;
    case T::boolean:
      w.value(v.as_bool());
      break;
    case T::integer:
      w.value(v.as_int());
      break;
    case T::unsigned_integer:
      w.value(v.as_uint());
      break;
    case T::real:
      w.value(v.as_double());
      break;
    case T::string:
      w.value(v.as_string());
      break;
    case T::array:
      w.begin_array(v.size());
      for (const auto& e : v.array()) pack(e, w);
      w.end_array();
      break;
    case T::object:
      w.begin_object(v.size());
      for (const auto& m : v.object()) {
        w.key(m.key);
        pack(m.value, w);
      }
      w.end_object();
      break;
  }
}

// The tree without what protobuf cannot carry: members that are null, [] or {} (to compare a
// protobuf-decoded tree with the JSON one).
inline greekwire::Value without_empty_members(const greekwire::Value& v) {
  using greekwire::Value;
  if (v.is_array()) {
    Value::Array out;
    for (const Value& e : v.array()) out.push_back(without_empty_members(e));
    return Value(std::move(out));
  }
  if (!v.is_object()) return v;
  Value::Object out;
  for (const auto& m : v.object()) {
    Value value = without_empty_members(m.value);
    const bool empty =
        value.is_null() || ((value.is_array() || value.is_object()) && value.size() == 0);
    if (!empty) out.push_back({m.key, std::move(value)});
  }
  return Value(std::move(out));
}

inline greekwire::Value json(std::string_view text) {
  std::string error;
  auto value = greekwire::Value::parse_json(text, &error);
  if (!value) throw std::runtime_error("bad JSON in a test: " + error + ": " + std::string(text));
  return std::move(*value);
}

}  // namespace gw::client::test
