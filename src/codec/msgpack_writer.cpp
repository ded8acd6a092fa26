#include "codec/msgpack_writer.hpp"

#include <simdjson.h>

namespace gw::codec {

namespace {

// Writes a parsed JSON value through `w`, so the fragment gets exactly the writer's encodings.
// Recursion depth is bounded by simdjson's depth limit.
void transcode(MsgpackWriter& w, simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      const simdjson::dom::object object = e.get_object().value_unsafe();
      w.begin_object(object.size());
      for (const auto field : object) {
        w.key(field.key);
        transcode(w, field.value);
      }
      w.end_object();
      return;
    }
    case element_type::ARRAY: {
      const simdjson::dom::array array = e.get_array().value_unsafe();
      w.begin_array(array.size());
      for (const auto item : array) transcode(w, item);
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

}  // namespace

void MsgpackWriter::raw_json(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) {
    assert(false && "MsgpackWriter::raw_json: not one valid JSON value");
    null();
    return;
  }
  // The fragment's containers are checked like the caller's own: as one value here, and each
  // of its containers by the recursive writes.
  transcode(*this, root);
}

}  // namespace gw::codec
