#include "codec/request.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "codec/text.hpp"

namespace gw::codec {

namespace dom = simdjson::dom;

// ---------------------------------------------------------------------------------------------
// Params

static_assert(sizeof(dom::object) <= 16 && alignof(dom::object) <= 8);
static_assert(std::is_trivially_copyable_v<dom::object>);

namespace {

dom::object object_of(const unsigned char* storage) {
  dom::object object;
  std::memcpy(static_cast<void*>(&object), storage, sizeof object);
  return object;
}

// The value of `key`, or nullopt-like false when absent or null (both mean "not given").
bool lookup(const dom::object& object, std::string_view key, dom::element& out) {
  return !object.at_key(key).get(out) && !out.is_null();
}

template <class T>
Param<T> ok(T value) {
  return {ParamStatus::ok, value};
}
template <class T>
Param<T> fail(ParamStatus status) {
  return {status, T{}};
}

}  // namespace

Params::Params() : object_{} {}

std::size_t Params::size() const {
  return set_ ? object_of(object_).size() : 0;
}

bool Params::has(std::string_view key) const {
  dom::element e;
  return set_ && lookup(object_of(object_), key, e);
}

void Params::keys(std::vector<std::string_view>& out) const {
  out.clear();
  if (!set_) return;
  for (const auto field : object_of(object_)) out.push_back(field.key);
}

Param<std::string_view> Params::get_string(std::string_view key) const {
  dom::element e;
  if (!set_ || !lookup(object_of(object_), key, e))
    return fail<std::string_view>(ParamStatus::missing);
  std::string_view s;
  if (e.get_string().get(s)) return fail<std::string_view>(ParamStatus::wrong_type);
  return ok(s);
}

Param<std::int64_t> Params::get_int64(std::string_view key) const {
  dom::element e;
  if (!set_ || !lookup(object_of(object_), key, e)) return fail<std::int64_t>(ParamStatus::missing);
  switch (e.type()) {
    case dom::element_type::INT64:
      return ok(e.get_int64().value_unsafe());
    case dom::element_type::UINT64:
      return fail<std::int64_t>(ParamStatus::out_of_range);
    case dom::element_type::DOUBLE: {
      const double d = e.get_double().value_unsafe();
      if (d != std::trunc(d)) return fail<std::int64_t>(ParamStatus::wrong_type);
      // [-2^63, 2^63): both bounds are exact doubles.
      if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
        return fail<std::int64_t>(ParamStatus::out_of_range);
      }
      return ok(static_cast<std::int64_t>(d));
    }
    default:
      return fail<std::int64_t>(ParamStatus::wrong_type);
  }
}

Param<double> Params::get_double(std::string_view key) const {
  dom::element e;
  if (!set_ || !lookup(object_of(object_), key, e)) return fail<double>(ParamStatus::missing);
  double d;
  if (e.get_double().get(d)) return fail<double>(ParamStatus::wrong_type);  // converts integers
  return ok(d);
}

Param<bool> Params::get_bool(std::string_view key) const {
  dom::element e;
  if (!set_ || !lookup(object_of(object_), key, e)) return fail<bool>(ParamStatus::missing);
  bool b;
  if (e.get_bool().get(b)) return fail<bool>(ParamStatus::wrong_type);
  return ok(b);
}

Param<Params> Params::get_object(std::string_view key) const {
  dom::element e;
  if (!set_ || !lookup(object_of(object_), key, e)) return fail<Params>(ParamStatus::missing);
  dom::object object;
  if (e.get_object().get(object)) return fail<Params>(ParamStatus::wrong_type);
  Params nested;
  std::memcpy(nested.object_, static_cast<const void*>(&object), sizeof object);
  nested.set_ = true;
  return ok(nested);
}

ParamStatus Params::get_string_array(std::string_view key,
                                     std::vector<std::string_view>& out) const {
  out.clear();
  dom::element e;
  if (!set_ || !lookup(object_of(object_), key, e)) return ParamStatus::missing;
  dom::array array;
  if (e.get_array().get(array)) return ParamStatus::wrong_type;
  for (const dom::element item : array) {
    std::string_view s;
    if (item.get_string().get(s)) {
      out.clear();
      return ParamStatus::wrong_type;
    }
    out.push_back(s);
  }
  return ParamStatus::ok;
}

ParamStatus Params::get_double_array(std::string_view key, std::vector<double>& out) const {
  out.clear();
  dom::element e;
  if (!set_ || !lookup(object_of(object_), key, e)) return ParamStatus::missing;
  dom::array array;
  if (e.get_array().get(array)) return ParamStatus::wrong_type;
  for (const dom::element item : array) {
    double d;
    if (item.get_double().get(d)) {  // converts integers
      out.clear();
      return ParamStatus::wrong_type;
    }
    out.push_back(d);
  }
  return ParamStatus::ok;
}

// ---------------------------------------------------------------------------------------------
// Finding the id's original text

namespace {

// A minimal scanner over text that simdjson has already validated, used only to find where a
// top-level member's value starts and ends (simdjson's DOM keeps no source positions). Bounds
// are still checked, so a mistake here yields "not found", never a bad read.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// s[i] is an opening quote: returns the index just past the closing one.
std::size_t skip_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return s.size();
}

std::size_t skip_value(std::string_view s, std::size_t i) {
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    std::size_t depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = skip_string(s, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return s.size();
  }
  while (i < s.size() && !is_space(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}

// Whether the raw (still escaped) key text equals the ASCII `name` once unescaped, as simdjson
// compares keys: "\u0069d" is "id".
bool key_equals(std::string_view raw, std::string_view name) {
  if (raw.find('\\') == std::string_view::npos) return raw == name;
  std::size_t j = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && ++i < raw.size()) {
      c = raw[i];
      if (c == 'u') {
        if (i + 4 >= raw.size()) return false;
        int code = 0;
        for (std::size_t k = 1; k <= 4; ++k) {
          const int digit = hex_digit(raw[i + k]);
          if (digit < 0) return false;
          code = code * 16 + digit;
        }
        i += 4;
        if (code >= 0x80) return false;  // `name` is ASCII
        c = static_cast<char>(code);
      } else {
        static constexpr std::string_view kFrom = "bfnrt", kTo = "\b\f\n\r\t";
        const std::size_t k = kFrom.find(c);
        if (k != std::string_view::npos) c = kTo[k];  // else \" \\ \/ stand for themselves
      }
    }
    if (j >= name.size() || name[j++] != c) return false;
  }
  return j == name.size();
}

// The text of the first member `name` of the top-level object `json`, or empty.
std::string_view find_member(std::string_view json, std::string_view name) {
  std::size_t i = skip_space(json, 0);
  if (i >= json.size() || json[i] != '{') return {};
  ++i;
  for (;;) {
    i = skip_space(json, i);
    if (i >= json.size() || json[i] != '"') return {};
    const std::size_t key_start = i;
    i = skip_string(json, i);
    if (i - key_start < 2) return {};
    const std::string_view key = json.substr(key_start + 1, i - key_start - 2);
    i = skip_space(json, i);
    if (i >= json.size() || json[i] != ':') return {};
    i = skip_space(json, i + 1);
    if (i >= json.size()) return {};
    const std::size_t value_start = i;
    i = skip_value(json, i);
    if (key_equals(key, name)) return json.substr(value_start, i - value_start);
    i = skip_space(json, i);
    if (i >= json.size() || json[i] != ',') return {};
    ++i;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RequestParser

struct RequestParser::Impl {
  dom::parser parser;
  std::unique_ptr<char[]> buffer;  // the request text, followed by simdjson's padding
  std::size_t capacity = 0;        // bytes of text `buffer` holds (padding not counted)
  std::string id_text;             // the id re-serialised, if the scanner failed to find it

  // simdjson's own capacity limit is only a backstop (parse() checks max_bytes first); it must
  // not be below simdjson's minimal document size.
  explicit Impl(std::size_t max_bytes) : parser(std::max<std::size_t>(max_bytes, 4096)) {}

  std::string_view load(std::string_view text, std::size_t max_bytes) {
    if (text.size() > capacity || !buffer) {
      capacity = std::min(std::max({text.size(), 2 * capacity, std::size_t{1024}}), max_bytes);
      buffer.reset(new char[capacity + simdjson::SIMDJSON_PADDING]());
    }
    if (!text.empty()) std::memcpy(buffer.get(), text.data(), text.size());
    return {buffer.get(), text.size()};
  }
};

RequestParser::RequestParser(ParserLimits limits)
    : limits_(limits), impl_(std::make_unique<Impl>(limits.max_bytes)) {
  // simdjson's max_depth N admits N - 1 levels of nesting.
  const auto error = impl_->parser.allocate(4096, limits.max_depth + 1);
  if (error) throw std::bad_alloc();
}

RequestParser::~RequestParser() = default;

namespace {

ParseError from_simdjson(simdjson::error_code error) {
  switch (error) {
    case simdjson::CAPACITY:
      return ParseError::too_large;
    case simdjson::DEPTH_ERROR:
      return ParseError::too_deep;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      return ParseError::bad_number;
    case simdjson::MEMALLOC:
      throw std::bad_alloc();
    default:
      return ParseError::invalid_json;
  }
}

ParseError read_id(dom::element e, RequestId& id) {
  switch (e.type()) {
    case dom::element_type::INT64:
      id.kind = IdKind::int64;
      id.int64 = e.get_int64().value_unsafe();
      return ParseError::none;
    case dom::element_type::UINT64:
      id.kind = IdKind::uint64;
      id.uint64 = e.get_uint64().value_unsafe();
      return ParseError::none;
    case dom::element_type::STRING:
      id.kind = IdKind::string;
      id.string = e.get_string().value_unsafe();
      return ParseError::none;
    case dom::element_type::NULL_VALUE:
      id.kind = IdKind::null;
      return ParseError::none;
    default:
      return ParseError::bad_id;
  }
}

// The id written back as JSON, for the (not expected) case where the scanner misses it.
void serialise_id(const RequestId& id, std::string& out) {
  out.clear();
  char digits[24];
  switch (id.kind) {
    case IdKind::int64:
      out.append(digits, std::to_chars(digits, digits + sizeof digits, id.int64).ptr);
      return;
    case IdKind::uint64:
      out.append(digits, std::to_chars(digits, digits + sizeof digits, id.uint64).ptr);
      return;
    case IdKind::string:
      append_json_string(out, id.string);
      return;
    case IdKind::null:
      out = "null";
      return;
    case IdKind::absent:
      return;
  }
}

}  // namespace

ParseError RequestParser::parse(std::string_view text, Request& out) {
  out = Request{};
  if (text.size() > limits_.max_bytes) return ParseError::too_large;
  const std::string_view json = impl_->load(text, limits_.max_bytes);

  dom::element root;
  if (const auto error = impl_->parser.parse(json.data(), json.size(), false).get(root)) {
    return from_simdjson(error);
  }
  if (root.is_array()) return ParseError::batch;
  dom::object object;
  if (root.get_object().get(object)) return ParseError::not_object;

  // The first occurrence of each member counts (as simdjson's at_key finds it).
  dom::element id, jsonrpc, method, params;
  bool has_id = false, has_jsonrpc = false, has_method = false, has_params = false;
  for (const auto field : object) {
    if (field.key == "id" && !has_id) {
      id = field.value;
      has_id = true;
    } else if (field.key == "jsonrpc" && !has_jsonrpc) {
      jsonrpc = field.value;
      has_jsonrpc = true;
    } else if (field.key == "method" && !has_method) {
      method = field.value;
      has_method = true;
    } else if (field.key == "params" && !has_params) {
      params = field.value;
      has_params = true;
    }
  }

  // The id first, so that an error about the rest can still echo it.
  if (has_id) {
    RequestId parsed;
    if (read_id(id, parsed) != ParseError::none) return ParseError::bad_id;
    parsed.json = find_member(json, "id");
    if (parsed.json.empty()) {
      assert(false && "RequestParser: id not found by the scanner");
      serialise_id(parsed, impl_->id_text);
      parsed.json = impl_->id_text;
    }
    out.id = parsed;
  }
  // "jsonrpc" may be left out (lenient, as the request is otherwise unambiguous), but if given
  // it must be "2.0".
  std::string_view version;
  if (has_jsonrpc && (jsonrpc.get_string().get(version) || version != "2.0")) {
    return ParseError::bad_jsonrpc;
  }
  if (!has_method) return ParseError::missing_method;
  if (method.get_string().get(out.method)) return ParseError::bad_method;
  if (has_params) {
    dom::object object_params;
    if (params.get_object().get(object_params)) return ParseError::bad_params;
    std::memcpy(out.params.object_, static_cast<const void*>(&object_params), sizeof object_params);
    out.params.set_ = true;
    out.has_params = true;
  }
  return ParseError::none;
}

// ---------------------------------------------------------------------------------------------
// Errors

RpcError rpc_error(ParseError error) {
  const ErrorCode bad = errors::bad_request, invalid = errors::invalid_request;
  switch (error) {
    case ParseError::none:
      break;
    case ParseError::too_large:
      return {bad.code, bad.message, "request too large"};
    case ParseError::invalid_json:
      return {bad.code, bad.message, "invalid json"};
    case ParseError::bad_number:
      return {bad.code, bad.message, "invalid number"};
    case ParseError::too_deep:
      return {bad.code, bad.message, "nesting too deep"};
    case ParseError::batch:
      return {invalid.code, invalid.message, "batch requests are not supported"};
    case ParseError::not_object:
      return {invalid.code, invalid.message, "request must be an object"};
    case ParseError::bad_jsonrpc:
      return {invalid.code, invalid.message, "jsonrpc must be \"2.0\""};
    case ParseError::bad_id:
      return {invalid.code, invalid.message, "id must be an integer or a string"};
    case ParseError::missing_method:
      return {invalid.code, invalid.message, "method is required"};
    case ParseError::bad_method:
      return {invalid.code, invalid.message, "method must be a string"};
    case ParseError::bad_params:
      return {invalid.code, invalid.message, "params must be an object"};
  }
  return {0, "", "no error"};
}

std::string_view to_string(ParseError error) {
  switch (error) {
    case ParseError::none:
      return "none";
    case ParseError::too_large:
      return "too_large";
    case ParseError::invalid_json:
      return "invalid_json";
    case ParseError::bad_number:
      return "bad_number";
    case ParseError::too_deep:
      return "too_deep";
    case ParseError::batch:
      return "batch";
    case ParseError::not_object:
      return "not_object";
    case ParseError::bad_jsonrpc:
      return "bad_jsonrpc";
    case ParseError::bad_id:
      return "bad_id";
    case ParseError::missing_method:
      return "missing_method";
    case ParseError::bad_method:
      return "bad_method";
    case ParseError::bad_params:
      return "bad_params";
  }
  return "unknown";
}

}  // namespace gw::codec
