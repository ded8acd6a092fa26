// libFuzzer target for the JSON-RPC request parser and the writers.
//
// The input is parsed as it is, and also spliced into a request as its params and as its id,
// so that random bytes reach the accessors and the id handling without the fuzzer first having
// to discover a whole request. For each, with a tiny and the default limits:
//  - a failure maps to an error response (code, message, non-empty data), and JSON-level
//    failures carry no id;
//  - every params accessor is called on every key, recursively, and the results agree with
//    each other (has() vs missing, a string is not an int, ...);
//  - the id and method written back as a request parse again to the same id (same exact text)
//    and method; the success and error responses are valid JSON whose id is the original text,
//    and their MessagePack forms unpack completely;
//  - the raw input, as a string value, comes out of both writers as valid UTF-8.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/json_writer.hpp"
#include "codec/msgpack_lib.hpp"
#include "codec/msgpack_writer.hpp"
#include "codec/request.hpp"
#include "codec/response.hpp"
#include "codec/text.hpp"
#include "fuzz_check.hpp"

#include <msgpack.hpp>

namespace {

using namespace gw::codec;

bool json_level(ParseError e) {
  return e == ParseError::too_large || e == ParseError::invalid_json ||
         e == ParseError::bad_number || e == ParseError::too_deep || e == ParseError::batch ||
         e == ParseError::not_object || e == ParseError::bad_id;
}

void check_params(const Params& params, int depth) {
  std::vector<std::string_view> keys, strings;
  params.keys(keys);
  CHECK(keys.size() == params.size());
  for (std::string_view key : keys) {
    const auto s = params.get_string(key);
    const auto i = params.get_int64(key);
    const auto d = params.get_double(key);
    const auto b = params.get_bool(key);
    const auto o = params.get_object(key);
    const ParamStatus a = params.get_string_array(key, strings);
    const bool given = params.has(key);
    for (ParamStatus status : {s.status, i.status, d.status, b.status, o.status, a}) {
      CHECK((status == ParamStatus::missing) == !given);
    }
    // At most one JSON type matches (an integer is also a double).
    const int kinds = s.ok() + b.ok() + o.ok() + (a == ParamStatus::ok) + d.ok();
    CHECK(kinds <= 1);
    if (i.ok()) CHECK(d.ok() && static_cast<double>(i.value) == d.value);
    if (s.ok()) CHECK(is_valid_utf8(s.value));
    if (a == ParamStatus::ok) {
      for (std::string_view item : strings) CHECK(is_valid_utf8(item));
    }
    if (o.ok() && depth < 8) check_params(o.value, depth + 1);
  }
  (void)params.get_string("");  // a key that is usually absent
}

bool valid_json(std::string_view json) {
  static simdjson::dom::parser parser;
  return !parser.parse(json.data(), json.size()).error();
}

void check_unpacks(const std::string& bytes) {
  std::size_t offset = 0;
  const msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size(), offset);
  CHECK(offset == bytes.size());
}

template <class W>
void write_responses(std::string& out, const Request& r, ParseError e) {
  const ResponseMeta meta{.us_in = 1, .us_out = 3, .testnet = true};
  out.clear();
  {
    W w(out);
    if (e == ParseError::none) {
      write_result(w, r.id, meta, [&](W& v) { v.value(r.method); });
    } else {
      write_error(w, r.id, meta, rpc_error(e));
    }
  }
}

void check_round_trip(const Request& r, ParseError e) {
  // The response, in JSON: valid, and its id is the request's text.
  std::string json;
  write_responses<JsonWriter>(json, r, e);
  CHECK(valid_json(json));
  if (r.id.present()) {
    CHECK(json.compare(0, 22, R"({"jsonrpc":"2.0","id":)") == 0);
    CHECK(json.compare(22, r.id.json.size(), r.id.json) == 0);
  }
  std::string msgpack;
  write_responses<MsgpackWriter>(msgpack, r, e);
  check_unpacks(msgpack);
  if (e != ParseError::none) return;

  // The id and method written back as a request parse to the same id and method.
  std::string again;
  {
    JsonWriter w(again);
    w.begin_object(r.id.present() ? 2 : 1);
    if (r.id.present()) {
      w.key("id");
      write_id(w, r.id);
    }
    w.key("method");
    w.value(r.method);
    w.end_object();
  }
  static RequestParser parser2;
  Request r2;
  CHECK(parser2.parse(again, r2) == ParseError::none);
  CHECK(r2.method == r.method);
  CHECK(r2.id.kind == r.id.kind && r2.id.json == r.id.json);
  CHECK(r2.id.int64 == r.id.int64 && r2.id.uint64 == r.id.uint64 && r2.id.string == r.id.string);
}

void fuzz_one(RequestParser& parser, std::string_view text) {
  Request r;
  const ParseError e = parser.parse(text, r);
  const RpcError rpc = rpc_error(e);
  if (e != ParseError::none) {
    CHECK(rpc.code == 11050 || rpc.code == -32600);
    CHECK(!rpc.message.empty() && !rpc.data.empty());
    if (json_level(e)) CHECK(!r.id.present());
  }
  if (text.size() > parser.limits().max_bytes) CHECK(e == ParseError::too_large);
  if (r.id.present()) CHECK(valid_json(r.id.json));
  if (e == ParseError::none) {
    CHECK(r.has_params || r.params.size() == 0);
    check_params(r.params, 0);
  }
  check_round_trip(r, e);
}

// Arbitrary bytes as a string value: both writers must produce valid UTF-8.
void fuzz_writers(std::string_view text) {
  std::string json;
  {
    JsonWriter w(json);
    w.begin_array(1);
    w.value(text);
    w.end_array();
  }
  CHECK(is_valid_utf8(json) && valid_json(json));
  std::string bytes;
  {
    MsgpackWriter w(bytes);
    w.value(text);
  }
  std::size_t offset = 0;
  const msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size(), offset);
  const msgpack::object& o = handle.get();
  CHECK(o.type == msgpack::type::STR);
  CHECK(is_valid_utf8({o.via.str.ptr, o.via.str.size}));
  if (is_valid_utf8(text)) CHECK(std::string_view(o.via.str.ptr, o.via.str.size) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  static RequestParser tiny(ParserLimits{.max_bytes = 256, .max_depth = 4});
  static RequestParser standard;
  const std::string as_params =
      R"({"jsonrpc":"2.0","id":1,"method":"m","params":)" + std::string(data) + "}";
  const std::string as_id = R"({"method":"public/test","id":)" + std::string(data) + "}";
  for (RequestParser* parser : {&tiny, &standard}) {
    fuzz_one(*parser, data);
    fuzz_one(*parser, as_params);
    fuzz_one(*parser, as_id);
  }
  fuzz_writers(data);
  return 0;
}
