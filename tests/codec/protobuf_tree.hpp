// Test helpers: a message decoded by libprotobuf (an implementation independent of ours) and a
// JSON document, each in one canonical text form, so that the protobuf encoding of a message can
// be compared with its JSON encoding as trees, under greekwire.proto's JSON mapping:
//  - members are sorted by name (protobuf has no member order), and members whose value is null,
//    [] or {} are left out (protobuf cannot tell them from absent ones);
//  - a map field is the object of its entries (members sorted by key);
//  - a json_array message is the array of its fields in declaration order (a repeated last field
//    spreads its elements; an absent singular field is null);
//  - a choice member ("result": public_ticker) is named after its oneof, a `<name>_text`
//    alternative after `<name>`, and a `_json` fallback is its parsed JSON text;
//  - numbers compare by value, NaN in a list as null, bytes as their base64 text.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/text.hpp"
#include "codec/tree.hpp"

namespace gw::codec::test {

namespace detail {

using Member = std::pair<std::string, std::string>;

inline std::string join_object(std::vector<Member> members) {
  std::sort(members.begin(), members.end());
  std::string out = "{";
  for (const auto& [key, value] : members) out += "k:" + key + "=" + value + ",";
  return out + "}";
}

inline bool dropped(const std::string& value) {
  return value == "null" || value == "[]" || value == "{}";
}

inline std::string sorted(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      std::vector<Member> members;
      const simdjson::dom::object object = e.get_object().value_unsafe();
      for (auto field : object) {
        std::string value = sorted(field.value);
        if (!dropped(value)) members.emplace_back(std::string(field.key), std::move(value));
      }
      return join_object(std::move(members));
    }
    case element_type::ARRAY: {
      std::string out = "[";
      const simdjson::dom::array array = e.get_array().value_unsafe();
      for (auto item : array) out += sorted(item) + ",";
      return out + "]";
    }
    default: {
      std::string out;
      canonical(out, e);
      return out;
    }
  }
}

}  // namespace detail

// The canonical form of a JSON document (see the header).
inline std::string sorted_json(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) throw std::runtime_error("bad JSON");
  return detail::sorted(root);
}

namespace detail {

namespace pb = google::protobuf;

inline bool json_array(const pb::Descriptor& d) {
  const pb::FieldDescriptor* option =
      d.file()->pool()->FindExtensionByName("greekwire.v2.json_array");
  if (option == nullptr) return false;
  const pb::Message& options = d.options();
  return options.GetReflection()->GetBool(options, option);
}

// A oneof that is a choice: no field carries its name, and it is not a field with its
// `<name>_text` alternative.
inline bool is_choice(const pb::OneofDescriptor* oneof) {
  if (oneof == nullptr || oneof->containing_type()->FindFieldByName(oneof->name()) != nullptr) {
    return false;
  }
  for (int i = 0; i < oneof->field_count(); ++i) {
    const std::string& name = oneof->field(i)->name();
    if (name.size() > 5 && name.ends_with("_text") &&
        oneof->containing_type()->FindFieldByName(name.substr(0, name.size() - 5)) != nullptr) {
      return false;
    }
  }
  return true;
}

// The JSON key a set field stands for.
inline std::string key_of(const pb::FieldDescriptor& f) {
  const pb::OneofDescriptor* oneof = f.real_containing_oneof();
  if (is_choice(oneof)) return oneof->name();
  const std::string& name = f.name();
  if (oneof != nullptr && name.ends_with("_text")) return name.substr(0, name.size() - 5);
  return name;
}

inline std::string number(double d) {
  std::string out;
  if (std::isnan(d)) return "null";
  canonical_number(out, d);
  return out;
}

inline std::string message(const pb::Message& m);

inline std::string element(const pb::Message& m, const pb::FieldDescriptor& f, int i) {
  const pb::Reflection& r = *m.GetReflection();
  const bool rep = f.is_repeated();
  using T = pb::FieldDescriptor;
  switch (f.cpp_type()) {
    case T::CPPTYPE_DOUBLE:
      return number(rep ? r.GetRepeatedDouble(m, &f, i) : r.GetDouble(m, &f));
    case T::CPPTYPE_FLOAT:
      return number(rep ? r.GetRepeatedFloat(m, &f, i) : r.GetFloat(m, &f));
    case T::CPPTYPE_INT32:
      return "n:" + std::to_string(rep ? r.GetRepeatedInt32(m, &f, i) : r.GetInt32(m, &f));
    case T::CPPTYPE_INT64:
      return "n:" + std::to_string(rep ? r.GetRepeatedInt64(m, &f, i) : r.GetInt64(m, &f));
    case T::CPPTYPE_UINT32:
      return "n:" + std::to_string(rep ? r.GetRepeatedUInt32(m, &f, i) : r.GetUInt32(m, &f));
    case T::CPPTYPE_UINT64:
      return "n:" + std::to_string(rep ? r.GetRepeatedUInt64(m, &f, i) : r.GetUInt64(m, &f));
    case T::CPPTYPE_BOOL:
      return (rep ? r.GetRepeatedBool(m, &f, i) : r.GetBool(m, &f)) ? "true" : "false";
    case T::CPPTYPE_ENUM:
      return "n:" + std::to_string(rep ? r.GetRepeatedEnumValue(m, &f, i) : r.GetEnumValue(m, &f));
    case T::CPPTYPE_STRING: {
      const std::string s = rep ? r.GetRepeatedString(m, &f, i) : r.GetString(m, &f);
      if (f.name().ends_with("_json") && is_choice(f.real_containing_oneof())) {
        return sorted_json(s);
      }
      if (f.type() == T::TYPE_BYTES) {
        std::string out = "s:";
        append_base64(out, {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
        return out;
      }
      return "s:" + s;
    }
    case T::CPPTYPE_MESSAGE:
      return message(rep ? r.GetRepeatedMessage(m, &f, i) : r.GetMessage(m, &f));
  }
  return "?";
}

// A map field as the object of its entries.
inline std::string map_object(const pb::Message& m, const pb::FieldDescriptor& f) {
  const pb::Reflection& r = *m.GetReflection();
  const pb::FieldDescriptor& key = *f.message_type()->map_key();
  const pb::FieldDescriptor& value = *f.message_type()->map_value();
  std::vector<Member> members;
  for (int j = 0; j < r.FieldSize(m, &f); ++j) {
    const pb::Message& entry = r.GetRepeatedMessage(m, &f, j);
    std::string text = element(entry, value, 0);
    if (!dropped(text)) members.emplace_back(entry.GetReflection()->GetString(entry, &key), text);
  }
  return join_object(std::move(members));
}

inline std::string message(const pb::Message& m) {
  const pb::Descriptor& d = *m.GetDescriptor();
  const pb::Reflection& r = *m.GetReflection();
  if (json_array(d)) {
    std::string out = "[";
    for (int i = 0; i < d.field_count(); ++i) {
      const pb::FieldDescriptor& f = *d.field(i);
      if (f.is_repeated()) {
        for (int j = 0; j < r.FieldSize(m, &f); ++j) out += element(m, f, j) + ",";
      } else {
        out += (r.HasField(m, &f) ? element(m, f, 0) : "null") + ",";
      }
    }
    return out + "]";
  }
  std::vector<Member> members;
  for (int i = 0; i < d.field_count(); ++i) {
    const pb::FieldDescriptor& f = *d.field(i);
    std::string value;
    if (f.is_map()) {
      value = map_object(m, f);
    } else if (f.is_repeated()) {
      value = "[";
      for (int j = 0; j < r.FieldSize(m, &f); ++j) value += element(m, f, j) + ",";
      value += "]";
    } else if (r.HasField(m, &f)) {
      value = element(m, f, 0);
    } else {
      continue;
    }
    if (!dropped(value)) members.emplace_back(key_of(f), std::move(value));
  }
  return join_object(std::move(members));
}

}  // namespace detail

// The canonical form of a decoded message (see the header).
inline std::string sorted_proto(const google::protobuf::Message& m) {
  return detail::message(m);
}

}  // namespace gw::codec::test
