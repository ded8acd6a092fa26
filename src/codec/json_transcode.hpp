// Writes a pre-encoded JSON value through any Writer (codec/writer.hpp), so that a fragment
// gets exactly that writer's encodings (MessagePack maps and integers, protobuf fields). Not for
// hot paths: the fragment is parsed with simdjson first.
#pragma once

#include <simdjson.h>

#include <cassert>
#include <string_view>

namespace gw::codec {

// Recursion depth is bounded by simdjson's depth limit.
template <class Writer>
void transcode_json(Writer& w, simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      const simdjson::dom::object object = e.get_object().value_unsafe();
      w.begin_object(object.size());
      for (const auto field : object) {
        w.key(field.key);
        transcode_json(w, field.value);
      }
      w.end_object();
      return;
    }
    case element_type::ARRAY: {
      const simdjson::dom::array array = e.get_array().value_unsafe();
      w.begin_array(array.size());
      for (const auto item : array) transcode_json(w, item);
      w.end_array();
      return;
    }
    case element_type::STRING:
      w.value(e.get_string().value_unsafe());
      return;
    case element_type::INT64:
      w.value(e.get_int64().value_unsafe());
      return;
    case element_type::UINT64:
      w.value(e.get_uint64().value_unsafe());
      return;
    case element_type::DOUBLE:
      w.value(e.get_double().value_unsafe());
      return;
    case element_type::BOOL:
      w.value(e.get_bool().value_unsafe());
      return;
    case element_type::NULL_VALUE:
      w.null();
      return;
  }
}

// One JSON value as text. The caller vouches for it (it is our own encoder's output); invalid
// text is a bug, written as null in release builds.
template <class Writer>
void write_raw_json(Writer& w, std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) {
    assert(false && "raw_json: not one valid JSON value");
    w.null();
    return;
  }
  transcode_json(w, root);
}

}  // namespace gw::codec
