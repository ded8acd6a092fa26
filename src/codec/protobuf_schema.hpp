// The compact schema ProtobufWriter (codec/protobuf_writer.hpp) encodes with: per message, its
// fields with their numbers and types, looked up by the JSON key they stand for. It is generated
// at build time from a .proto file (proto/schema_generator.cpp reads protoc's descriptor set and
// writes constexpr tables), so encoding needs no protobuf library and no allocation.
//
// What the JSON mapping (proto/greekwire.proto's header) needs beyond plain fields:
//  - a `choice` entry stands for a oneof named like a JSON key that no field has ("result",
//    "data"): the writer is told which member to use (ProtobufWriter::choose) before the key
//    comes; the member named `<key>_json`, if any, is the fallback that carries JSON text;
//  - a field `<name>_text` in the same oneof as `<name>` is `<name>`'s alternative for string
//    values (Field::text);
//  - a message marked `json_array` is written from a JSON array, element i into its i-th keyed
//    field;
//  - a map<string, V> field (a repeated field of a `map_entry` message: keys "key" and "value")
//    is written from a JSON object, each member one entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace gw::codec::protobuf {

// Field types as in descriptor.proto, plus `choice` (not a field: see above).
enum class FieldType : std::uint8_t {
  double_,
  float_,
  int64,
  uint64,
  int32,
  uint32,
  sint64,
  sint32,
  fixed64,
  fixed32,
  sfixed64,
  sfixed32,
  bool_,
  enum_,
  string,
  bytes,
  message,
  choice,
};

// How a field is reached from a JSON key.
enum class FieldRole : std::uint8_t {
  keyed,        // by its own name
  choice,       // the choice entry of a oneof (a key, not a field)
  member,       // a member of a choice: only through ProtobufWriter::choose
  json,         // a choice's `<key>_json` fallback
  alternative,  // a `<name>_text` alternative: only through the field it is the alternative of
};

inline constexpr std::int16_t kNone = -1;

struct Field {
  std::string_view name;
  std::uint32_t number = 0;
  FieldType type = FieldType::int64;
  FieldRole role = FieldRole::keyed;
  bool repeated = false;
  bool packed = false;            // repeated scalar numbers (proto3's default)
  std::int16_t message = kNone;   // FieldType::message: the nested message (Schema::messages)
  std::int16_t text = kNone;      // the `<name>_text` alternative (Schema::fields), if any
  std::int16_t first = kNone;     // choice: its first member (Schema::fields) ...
  std::int16_t count = 0;         // ... and how many follow it
  std::int16_t fallback = kNone;  // choice: the `<key>_json` member, if any
};

// A message's entries are contiguous in Schema::fields: first the `keys` entries a JSON key can
// name (fields and choices, in declaration order), then the members and alternatives.
struct Message {
  std::string_view name;  // full name, "greekwire.v2.Envelope"
  std::uint16_t first = 0;
  std::uint16_t keys = 0;
  std::uint16_t size = 0;
  bool json_array = false;
  bool map_entry = false;  // a map field's entry: keyed fields "key" (a string) and "value"
};

struct Schema {
  std::span<const Message> messages;
  std::span<const Field> fields;
  std::int16_t root = 0;  // the message a top-level value is

  const Message& root_message() const { return messages[static_cast<std::size_t>(root)]; }
  const Message& message_of(const Field& field) const {
    return messages[static_cast<std::size_t>(field.message)];
  }
  const Field& at(std::int16_t index) const { return fields[static_cast<std::size_t>(index)]; }
  std::span<const Field> keys_of(const Message& m) const { return fields.subspan(m.first, m.keys); }
  std::span<const Field> fields_of(const Message& m) const {
    return fields.subspan(m.first, m.size);
  }

  // Lookups by name for set-up code and tests (linear scans; cache the results).
  const Message* find_message(std::string_view full_name) const;
  // The keyed field or choice `key` of `message`; null if there is none.
  const Field* find_key(const Message& message, std::string_view key) const;
  // The member `member` of the choice `key` of `message` ("result", "public_ticker"); null if
  // there is none.
  const Field* find_member(const Message& message, std::string_view key,
                           std::string_view member) const;
};

// The schema of proto/greekwire.proto (generated), rooted at greekwire.v2.Envelope.
const Schema& greekwire_schema();

}  // namespace gw::codec::protobuf
