// Reading greekwire's `protobuf` encoding (proto/greekwire.proto, docs/PROTOCOL.md) on the
// client, with the schema table codec generates at build time (codec/protobuf_schema.hpp): no
// protobuf library, no generated classes.
//
//  - WireReader walks the fields of one serialized message, bounds-checked.
//  - SchemaIndex adds what reading needs to the schema: a field by its number, and the JSON key
//    and position each field stands for (a `price_text` alternative is "price", a result member
//    is "result").
//  - validate() checks a message against the schema (wire types, lengths, UTF-8, nesting)
//    before anything is delivered, so that the readers after it never meet a malformed byte.
//  - message_value() and field_value() turn a message into the Value tree the JSON encoding of
//    the same message gives, following the JSON mapping of greekwire.proto's header backwards:
//    fields in wire order (the gateway writes them in its JSON order), json_array messages as
//    arrays, maps as objects, `_text` alternatives under their field's key, a NaN double as
//    null. What protobuf cannot carry stays absent: a null member, an empty array or object.
//  - read_book_change() reads a BookChange straight into a BookUpdate (no tree), with the rules
//    of the JSON path (client/tree.hpp, read_book_update).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "codec/protobuf_schema.hpp"
#include "greekwire/book.hpp"
#include "greekwire/value.hpp"

namespace gw::client::protobuf {

namespace schema = gw::codec::protobuf;

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length = 2, fixed32 = 5 };

// One field as it is on the wire: its number and wire type, and its payload.
struct WireField {
  std::uint32_t number = 0;
  WireType wire = WireType::varint;
  std::uint64_t bits = 0;               // varint, fixed64, fixed32: the raw value
  std::span<const std::uint8_t> bytes;  // length-delimited: the payload
};

class WireReader {
 public:
  explicit WireReader(std::span<const std::uint8_t> message)
      : p_(message.data()), end_(message.data() + message.size()) {}

  bool done() const { return p_ == end_; }
  // The next field; false at the end, or (failed() then) on malformed input: a truncated
  // varint or payload, field number 0, a group or reserved wire type.
  bool next(WireField& field);
  bool failed() const { return failed_; }

  // A varint from `p` (advancing it), false if it runs past `end` or beyond 10 bytes.
  static bool read_varint(const std::uint8_t*& p, const std::uint8_t* end, std::uint64_t& out);

 private:
  static std::uint64_t load_le(const std::uint8_t* p, int size) {
    std::uint64_t v = 0;
    for (int i = size - 1; i >= 0; --i) v = v << 8 | p[i];
    return v;
  }
  bool fail() {
    failed_ = true;
    return false;
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  bool failed_ = false;
};

// Inline: the readers' innermost loop.
inline bool WireReader::read_varint(const std::uint8_t*& p, const std::uint8_t* end,
                                    std::uint64_t& out) {
  std::uint64_t value = 0;
  for (unsigned i = 0; i < 10 && p != end; ++i) {
    const std::uint8_t byte = *p++;
    value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);  // beyond 64 bits: dropped
    if ((byte & 0x80) == 0) {
      out = value;
      return true;
    }
  }
  return false;  // truncated, or longer than 10 bytes
}

inline bool WireReader::next(WireField& field) {
  if (p_ == end_ || failed_) return false;
  std::uint64_t key = 0;
  if (!read_varint(p_, end_, key)) return fail();
  const std::uint64_t number = key >> 3;
  if (number == 0 || number > 0x1fffffff) return fail();
  field.number = static_cast<std::uint32_t>(number);
  const auto remaining = static_cast<std::size_t>(end_ - p_);
  switch (key & 7) {
    case 0:
      field.wire = WireType::varint;
      if (!read_varint(p_, end_, field.bits)) return fail();
      return true;
    case 1:
      if (remaining < 8) return fail();
      field.wire = WireType::fixed64;
      field.bits = load_le(p_, 8);
      p_ += 8;
      return true;
    case 2: {
      std::uint64_t length = 0;
      if (!read_varint(p_, end_, length)) return fail();
      if (length > static_cast<std::size_t>(end_ - p_)) return fail();
      field.wire = WireType::length;
      field.bytes = {p_, static_cast<std::size_t>(length)};
      p_ += length;
      return true;
    }
    case 5:
      if (remaining < 4) return fail();
      field.wire = WireType::fixed32;
      field.bits = load_le(p_, 4);
      p_ += 4;
      return true;
    default:  // 3, 4: groups (proto2 only, not in our schema); 6, 7: reserved
      return fail();
  }
}

// The schema's reading tables, built once per schema (the first use of a schema pays for it).
class SchemaIndex {
 public:
  explicit SchemaIndex(const schema::Schema& schema);
  // The index of greekwire_schema().
  static const SchemaIndex& greekwire();

  const schema::Schema& schema() const { return schema_; }
  // The field `number` of `message`, null if the schema has none (an unknown field: skipped).
  const schema::Field* field(const schema::Message& message, std::uint32_t number) const {
    const Numbers& n = numbers_[static_cast<std::size_t>(&message - schema_.messages.data())];
    if (n.count == 0) return field_by_scan(message, number);
    if (number >= n.count) return nullptr;
    const std::int16_t at = by_number_[n.offset + number];
    return at == schema::kNone ? nullptr : &schema_.at(at);
  }
  // The JSON key a field's value goes under: its name, its base field's for a `_text`
  // alternative, its choice's for a choice member.
  std::string_view key_of(const schema::Field& field) const { return keys_[index_of(field)]; }
  // Where that key is among the message's keys (Schema::keys_of): a json_array message's
  // element position.
  std::uint16_t slot_of(const schema::Field& field) const { return slots_[index_of(field)]; }
  // A repeated field of a map_entry message: a map<string, V>, an object in JSON.
  bool is_map(const schema::Field& field) const;
  // A field whose (repeated) values may come packed.
  static bool packable(const schema::Field& field);

  // What a field of BookChange or BookLevel is to read_book_change(), by field number.
  enum class BookRole : std::uint8_t {
    none,
    type,
    timestamp,
    prev_change_id,
    instrument_name,
    change_id,
    bids,
    asks,
    checksum,
    action,
    price,
    amount
  };
  BookRole book_role(std::uint32_t number) const {
    return number < book_roles_.size() ? book_roles_[number] : BookRole::none;
  }
  BookRole level_role(std::uint32_t number) const {
    return number < level_roles_.size() ? level_roles_[number] : BookRole::none;
  }
  // greekwire.v2.BookChange and BookLevel, null if the schema has none (then no message reads
  // as a book).
  const schema::Message* book_change() const { return book_change_; }
  const schema::Message* book_level() const { return book_level_; }

 private:
  void index_book();
  const schema::Field* field_by_scan(const schema::Message& message, std::uint32_t number) const;

  struct Numbers {
    std::uint32_t offset = 0;  // into by_number_
    std::uint32_t count = 0;   // max field number + 1
  };
  std::size_t index_of(const schema::Field& field) const {
    return static_cast<std::size_t>(&field - schema_.fields.data());
  }

  const schema::Schema& schema_;
  std::vector<Numbers> numbers_;         // per message
  std::vector<std::int16_t> by_number_;  // field index or kNone, per message and number
  std::vector<std::string_view> keys_;   // per field
  std::vector<std::uint16_t> slots_;     // per field
  const schema::Message* book_change_ = nullptr;
  const schema::Message* book_level_ = nullptr;
  std::vector<BookRole> book_roles_;   // BookChange's, by number
  std::vector<BookRole> level_roles_;  // BookLevel's, by number
};

// Checks `bytes` as a `message`: every known field has its wire type (repeated scalars packed
// or not), strings are UTF-8, nested messages check too, `_json` members hold a JSON value, at
// most kMaxDepth levels. Unknown fields are skipped (a newer server's additions). False with
// `why` set otherwise.
inline constexpr int kMaxDepth = 64;
bool validate(const SchemaIndex& index, const schema::Message& message,
              std::span<const std::uint8_t> bytes, const char*& why, int depth = 0);
// The same for one field's value (a result or data member).
bool validate_field(const SchemaIndex& index, const schema::Field& field, const WireField& value,
                    const char*& why, int depth = 0);

// The JSON tree of a validated message, and of one validated singular field's value (a
// message, a scalar, or for a `_json` member the JSON it carries).
greekwire::Value message_value(const SchemaIndex& index, const schema::Message& message,
                               std::span<const std::uint8_t> bytes);
greekwire::Value field_value(const SchemaIndex& index, const schema::Field& field,
                             const WireField& value);

// A BookChange read into `out` (cleared first; instrument_name points into `bytes`), checked as
// it is read: true also means that validate() would accept it. False when it is malformed, or
// not a valid book message: no instrument_name or change_id, a change without prev_change_id,
// an unknown type, a level without action, price or amount, or a price or amount that is not
// finite.
bool read_book_change(const SchemaIndex& index, std::span<const std::uint8_t> bytes,
                      greekwire::BookUpdate& out);

}  // namespace gw::client::protobuf
