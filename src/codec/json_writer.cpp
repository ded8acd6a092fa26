#include "codec/json_writer.hpp"

#ifndef NDEBUG
#include <simdjson.h>
#endif

namespace gw::codec {

#ifndef NDEBUG
namespace {

bool valid_json_value(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  return !parser.parse(json.data(), json.size()).error();
}

}  // namespace
#endif

void JsonWriter::raw_json(std::string_view json) {
  assert(valid_json_value(json) && "JsonWriter::raw_json: not one valid JSON value");
  begin_value();
  out_->append(json);
}

}  // namespace gw::codec
