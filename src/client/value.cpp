// greekwire::Value: accessors, JSON printing (compact and indented) and parsing.
#include "greekwire/value.hpp"

#include <simdjson.h>

#include <cmath>
#include <limits>

#include "client/tree.hpp"
#include "codec/text.hpp"

namespace greekwire {

namespace {

const Value& null_value() {
  static const Value null;
  return null;
}

const Value::Array& empty_array() {
  static const Value::Array array;
  return array;
}

const Value::Object& empty_object() {
  static const Value::Object object;
  return object;
}

void newline(std::string& out, int indent) {
  out.push_back('\n');
  out.append(static_cast<std::size_t>(indent) * 2, ' ');
}

void write_json(const Value& value, std::string& out, bool pretty, int indent) {
  switch (value.type()) {
    case Value::Type::null:
      out += "null";
      return;
    case Value::Type::boolean:
      out += value.as_bool() ? "true" : "false";
      return;
    case Value::Type::integer:
      out += std::to_string(value.as_int());
      return;
    case Value::Type::unsigned_integer:
      out += std::to_string(value.as_uint());
      return;
    case Value::Type::real:
      gw::codec::append_json_double(out, value.as_double());
      return;
    case Value::Type::string:
      gw::codec::append_json_string(out, value.as_string());
      return;
    case Value::Type::array: {
      const auto& array = value.array();
      if (array.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (std::size_t i = 0; i < array.size(); ++i) {
        if (i > 0) out.push_back(',');
        if (pretty) newline(out, indent + 1);
        write_json(array[i], out, pretty, indent + 1);
      }
      if (pretty) newline(out, indent);
      out.push_back(']');
      return;
    }
    case Value::Type::object: {
      const auto& object = value.object();
      if (object.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      for (std::size_t i = 0; i < object.size(); ++i) {
        if (i > 0) out.push_back(',');
        if (pretty) newline(out, indent + 1);
        gw::codec::append_json_string(out, object[i].key);
        out += pretty ? ": " : ":";
        write_json(object[i].value, out, pretty, indent + 1);
      }
      if (pretty) newline(out, indent);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

Value::Value(std::uint64_t u) {
  if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    data_ = static_cast<std::int64_t>(u);
  } else {
    data_ = u;
  }
}

bool Value::is_number() const {
  return is_integer() || type() == Type::real;
}

bool Value::as_bool(bool fallback) const {
  return is_bool() ? std::get<bool>(data_) : fallback;
}

std::int64_t Value::as_int(std::int64_t fallback) const {
  switch (type()) {
    case Type::integer:
      return std::get<std::int64_t>(data_);
    case Type::real: {
      const double d = std::get<double>(data_);
      // [-2^63, 2^63): both bounds are exact doubles.
      if (d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return static_cast<std::int64_t>(d);
      return fallback;
    }
    default:
      return fallback;  // uint64 values are beyond int64 by construction
  }
}

std::uint64_t Value::as_uint(std::uint64_t fallback) const {
  switch (type()) {
    case Type::integer: {
      const std::int64_t i = std::get<std::int64_t>(data_);
      return i >= 0 ? static_cast<std::uint64_t>(i) : fallback;
    }
    case Type::unsigned_integer:
      return std::get<std::uint64_t>(data_);
    case Type::real: {
      const double d = std::get<double>(data_);
      if (d == std::trunc(d) && d >= 0 && d < 18446744073709551616.0)
        return static_cast<std::uint64_t>(d);
      return fallback;
    }
    default:
      return fallback;
  }
}

double Value::as_double(double fallback) const {
  switch (type()) {
    case Type::integer:
      return static_cast<double>(std::get<std::int64_t>(data_));
    case Type::unsigned_integer:
      return static_cast<double>(std::get<std::uint64_t>(data_));
    case Type::real:
      return std::get<double>(data_);
    default:
      return fallback;
  }
}

std::string_view Value::as_string(std::string_view fallback) const {
  return is_string() ? std::string_view(std::get<std::string>(data_)) : fallback;
}

std::size_t Value::size() const {
  if (is_array()) return std::get<Array>(data_).size();
  if (is_object()) return std::get<Object>(data_).size();
  return 0;
}

const Value& Value::operator[](std::size_t i) const {
  const Array& a = array();
  return i < a.size() ? a[i] : null_value();
}

const Value& Value::operator[](std::string_view key) const {
  const Value* found = find(key);
  return found != nullptr ? *found : null_value();
}

const Value* Value::find(std::string_view key) const {
  for (const Member& m : object()) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

const Value::Array& Value::array() const {
  return is_array() ? std::get<Array>(data_) : empty_array();
}

const Value::Object& Value::object() const {
  return is_object() ? std::get<Object>(data_) : empty_object();
}

Value::Array& Value::mutable_array() {
  if (!is_array()) data_ = Array{};
  return std::get<Array>(data_);
}

Value::Object& Value::mutable_object() {
  if (!is_object()) data_ = Object{};
  return std::get<Object>(data_);
}

Value& Value::set(std::string key, Value value) {
  mutable_object().push_back({std::move(key), std::move(value)});
  return *this;
}

Value& Value::push_back(Value value) {
  mutable_array().push_back(std::move(value));
  return *this;
}

std::string Value::to_json(bool pretty) const {
  std::string out;
  write_json(*this, out, pretty, 0);
  return out;
}

std::optional<Value> Value::parse_json(std::string_view text, std::string* error) {
  // One parser per thread: a new one allocates its buffers for every document.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (const auto code = parser.parse(padded).get(root); code != simdjson::SUCCESS) {
    if (error != nullptr) *error = simdjson::error_message(code);
    return std::nullopt;
  }
  return gw::client::to_value(gw::client::JsonNode{root});
}

bool operator==(const Value& a, const Value& b) {
  return a.data_ == b.data_;
}

}  // namespace greekwire
