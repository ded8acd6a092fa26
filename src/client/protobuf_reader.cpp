#include "client/protobuf_reader.hpp"

#include <simdjson.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "codec/text.hpp"

namespace gw::client::protobuf {

using greekwire::Value;
using schema::Field;
using schema::FieldType;
using schema::Message;

namespace {

// A message whose highest field number is above this gets no dense table (linear lookups).
constexpr std::uint32_t kMaxDenseNumber = 1024;
// Messages with at most this many keys find an earlier member by slot, not by a search.
constexpr std::size_t kMaxSlots = 64;

std::uint64_t load_le(const std::uint8_t* p, int size) {
  std::uint64_t v = 0;
  for (int i = size - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

std::string_view text_of(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

WireType wire_of(FieldType type) {
  switch (type) {
    case FieldType::double_:
    case FieldType::fixed64:
    case FieldType::sfixed64:
      return WireType::fixed64;
    case FieldType::float_:
    case FieldType::fixed32:
    case FieldType::sfixed32:
      return WireType::fixed32;
    case FieldType::string:
    case FieldType::bytes:
    case FieldType::message:
    case FieldType::choice:
      return WireType::length;
    default:
      return WireType::varint;
  }
}

// A real that JSON can carry; NaN and infinities are null there (docs/PROTOCOL.md, "Numbers").
Value real_value(double d) {
  return std::isfinite(d) ? Value(d) : Value();
}

std::int64_t zigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// A scalar from its wire bits, with the type JSON gives it: integers stay integers, reals reals.
Value scalar_value(FieldType type, std::uint64_t bits) {
  switch (type) {
    case FieldType::double_:
      return real_value(std::bit_cast<double>(bits));
    case FieldType::float_:
      return real_value(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
    case FieldType::int64:
    case FieldType::sfixed64:
      return Value(static_cast<std::int64_t>(bits));
    case FieldType::uint64:
    case FieldType::fixed64:
      return Value(bits);
    case FieldType::int32:
    case FieldType::enum_:
    case FieldType::sfixed32:
      return Value(std::int64_t{static_cast<std::int32_t>(static_cast<std::uint32_t>(bits))});
    case FieldType::uint32:
    case FieldType::fixed32:
      return Value(std::int64_t{static_cast<std::uint32_t>(bits)});
    case FieldType::sint64:
      return Value(zigzag(bits));
    case FieldType::sint32:
      return Value(
          std::int64_t{static_cast<std::int32_t>(zigzag(static_cast<std::uint32_t>(bits)))});
    case FieldType::bool_:
      return Value(bits != 0);
    default:
      return {};
  }
}

// Calls f(bits) for each element of a packed run of `type`; false if the run is malformed.
template <class F>
bool for_each_packed(FieldType type, std::span<const std::uint8_t> run, F&& f) {
  const std::uint8_t* p = run.data();
  const std::uint8_t* const end = p + run.size();
  switch (wire_of(type)) {
    case WireType::fixed64:
    case WireType::fixed32: {
      const int size = wire_of(type) == WireType::fixed64 ? 8 : 4;
      if (run.size() % static_cast<std::size_t>(size) != 0) return false;
      for (; p != end; p += size) f(load_le(p, size));
      return true;
    }
    case WireType::varint:
      while (p != end) {
        std::uint64_t v = 0;
        if (!WireReader::read_varint(p, end, v)) return false;
        f(v);
      }
      return true;
    case WireType::length:
      break;
  }
  return false;
}

// Most strings (names, ids, actions) are ASCII: checked here before simdjson's validator, whose
// call costs more than such a string.
bool valid_utf8(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return simdjson::validate_utf8(text);
  }
  return true;
}

bool valid_json(std::string_view text) {
  simdjson::dom::parser parser;  // the `_json` fallbacks only: never sent by a current gateway
  simdjson::dom::element root;
  return parser.parse(simdjson::padded_string(text)).get(root) == simdjson::SUCCESS;
}

}  // namespace

// ---- SchemaIndex --------------------------------------------------------------------------------

SchemaIndex::SchemaIndex(const schema::Schema& schema) : schema_(schema) {
  numbers_.resize(schema.messages.size());
  keys_.resize(schema.fields.size());
  slots_.resize(schema.fields.size(), 0);
  for (std::size_t m = 0; m < schema.messages.size(); ++m) {
    const Message& message = schema.messages[m];
    const auto fields = schema.fields_of(message);
    std::uint32_t max_number = 0;
    for (const Field& f : fields) max_number = std::max(max_number, f.number);
    if (max_number <= kMaxDenseNumber) {
      numbers_[m] = {static_cast<std::uint32_t>(by_number_.size()), max_number + 1};
      by_number_.resize(by_number_.size() + max_number + 1, schema::kNone);
    }
    // Every field first answers to its own name; keys then lend theirs to their members and
    // alternatives.
    for (const Field& f : fields) {
      keys_[index_of(f)] = f.name;
      if (f.number != 0 && numbers_[m].count != 0) {
        by_number_[numbers_[m].offset + f.number] = static_cast<std::int16_t>(index_of(f));
      }
    }
    for (std::uint16_t slot = 0; slot < message.keys; ++slot) {
      const Field& key = fields[slot];
      slots_[index_of(key)] = slot;
      if (key.text != schema::kNone) {
        keys_[static_cast<std::size_t>(key.text)] = key.name;
        slots_[static_cast<std::size_t>(key.text)] = slot;
      }
      for (std::int16_t i = 0; key.type == FieldType::choice && i < key.count; ++i) {
        const auto member = static_cast<std::size_t>(key.first + i);
        keys_[member] = key.name;
        slots_[member] = slot;
      }
    }
  }
  index_book();
}

const SchemaIndex& SchemaIndex::greekwire() {
  static const SchemaIndex index(schema::greekwire_schema());
  return index;
}

// A message with a field number above kMaxDenseNumber has no table.
const Field* SchemaIndex::field_by_scan(const Message& message, std::uint32_t number) const {
  for (const Field& f : schema_.fields_of(message)) {
    if (f.number == number && f.type != FieldType::choice) return &f;
  }
  return nullptr;
}

bool SchemaIndex::is_map(const Field& field) const {
  return field.type == FieldType::message && field.repeated && schema_.message_of(field).map_entry;
}

bool SchemaIndex::packable(const Field& field) {
  return field.repeated && wire_of(field.type) != WireType::length;
}

void SchemaIndex::index_book() {
  const Message* change = schema_.find_message("greekwire.v2.BookChange");
  const Message* level = schema_.find_message("greekwire.v2.BookLevel");
  if (change == nullptr || level == nullptr) return;
  // Each role: the field's name, the type read_book_change() reads it as, and the table.
  struct Want {
    const Message* message;
    std::string_view name;
    FieldType type;
    BookRole role;
  };
  const Want wants[] = {
      {change, "type", FieldType::string, BookRole::type},
      {change, "timestamp", FieldType::int64, BookRole::timestamp},
      {change, "prev_change_id", FieldType::uint64, BookRole::prev_change_id},
      {change, "instrument_name", FieldType::string, BookRole::instrument_name},
      {change, "change_id", FieldType::uint64, BookRole::change_id},
      {change, "bids", FieldType::message, BookRole::bids},
      {change, "asks", FieldType::message, BookRole::asks},
      {change, "checksum", FieldType::uint32, BookRole::checksum},
      {level, "action", FieldType::string, BookRole::action},
      {level, "price", FieldType::double_, BookRole::price},
      {level, "amount", FieldType::double_, BookRole::amount},
  };
  std::vector<BookRole> change_roles, level_roles;
  for (const Want& want : wants) {
    const Field* f = schema_.find_key(*want.message, want.name);
    if (f == nullptr || f->type != want.type || f->number > kMaxDenseNumber) return;
    if (f->type == FieldType::message && &schema_.message_of(*f) != level) return;
    auto& roles = want.message == change ? change_roles : level_roles;
    if (roles.size() <= f->number) roles.resize(f->number + 1, BookRole::none);
    roles[f->number] = want.role;
  }
  book_change_ = change;
  book_level_ = level;
  book_roles_ = std::move(change_roles);
  level_roles_ = std::move(level_roles);
}

// ---- validation ---------------------------------------------------------------------------------

bool validate_field(const SchemaIndex& index, const Field& field, const WireField& value,
                    const char*& why, int depth) {
  if (value.wire != wire_of(field.type)) {
    // A repeated number may come packed (proto3's default) or one element a field.
    if (SchemaIndex::packable(field) && value.wire == WireType::length) {
      if (for_each_packed(field.type, value.bytes, [](std::uint64_t) {})) return true;
      why = "a malformed packed field";
      return false;
    }
    why = "a field of the wrong wire type";
    return false;
  }
  switch (field.type) {
    case FieldType::string:
      if (!valid_utf8(text_of(value.bytes))) {
        why = "a string that is not UTF-8";
        return false;
      }
      if (field.role == schema::FieldRole::json && !valid_json(text_of(value.bytes))) {
        why = "a _json member that is not JSON";
        return false;
      }
      return true;
    case FieldType::message:
      return validate(index, index.schema().message_of(field), value.bytes, why, depth + 1);
    default:
      return true;
  }
}

bool validate(const SchemaIndex& index, const Message& message, std::span<const std::uint8_t> bytes,
              const char*& why, int depth) {
  if (depth > kMaxDepth) {
    why = "nested too deeply";
    return false;
  }
  WireReader reader(bytes);
  WireField value;
  while (reader.next(value)) {
    const Field* field = index.field(message, value.number);
    if (field != nullptr && !validate_field(index, *field, value, why, depth)) return false;
  }
  if (reader.failed()) {
    why = "malformed (a truncated field, or a bad tag)";
    return false;
  }
  return true;
}

// ---- trees --------------------------------------------------------------------------------------

namespace {

// The elements one occurrence of a repeated field adds: a packed run, or one value.
void append_elements(const SchemaIndex& index, const Field& field, const WireField& value,
                     Value::Array& out) {
  if (SchemaIndex::packable(field) && value.wire == WireType::length) {
    for_each_packed(field.type, value.bytes,
                    [&](std::uint64_t bits) { out.push_back(scalar_value(field.type, bits)); });
    return;
  }
  out.push_back(field_value(index, field, value));
}

// One entry of a map<string, V> into the object it stands for (a key seen again replaces its
// value, as protobuf's maps do).
void add_map_entry(const SchemaIndex& index, const Message& entry,
                   std::span<const std::uint8_t> bytes, Value::Object& out) {
  std::string_view key;
  Value value;
  WireReader reader(bytes);
  WireField f;
  while (reader.next(f)) {
    const Field* field = index.field(entry, f.number);
    if (field == nullptr) continue;
    if (index.slot_of(*field) == 0) {
      key = text_of(f.bytes);
    } else {
      value = field_value(index, *field, f);
    }
  }
  for (Value::Member& member : out) {
    if (member.key == key) {
      member.value = std::move(value);
      return;
    }
  }
  out.push_back({std::string(key), std::move(value)});
}

// A json_array message: its keys' values in declaration order, a null for one that is absent,
// a repeated one spreading its elements.
Value positional_value(const SchemaIndex& index, const Message& message,
                       std::span<const std::uint8_t> bytes) {
  const auto keys = index.schema().keys_of(message);
  Value::Array out;
  WireReader reader(bytes);
  WireField f;
  // The list wrappers (TradeList, InstrumentList, ...): one repeated field, the whole array.
  if (keys.size() == 1 && keys[0].repeated) {
    while (reader.next(f)) {
      const Field* field = index.field(message, f.number);
      if (field != nullptr) append_elements(index, *field, f, out);
    }
    return Value(std::move(out));
  }
  std::vector<Value> slots(keys.size());
  while (reader.next(f)) {
    const Field* field = index.field(message, f.number);
    if (field == nullptr) continue;
    Value& slot = slots[index.slot_of(*field)];
    if (field->repeated) {
      append_elements(index, *field, f, slot.mutable_array());
    } else {
      slot = field_value(index, *field, f);
    }
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].repeated) {
      for (Value& element : slots[i].mutable_array()) out.push_back(std::move(element));
    } else {
      out.push_back(std::move(slots[i]));
    }
  }
  return Value(std::move(out));
}

}  // namespace

Value message_value(const SchemaIndex& index, const Message& message,
                    std::span<const std::uint8_t> bytes) {
  if (message.json_array) return positional_value(index, message, bytes);
  Value::Object object;
  object.reserve(message.keys);  // each key is at most one member
  // Where each key's member is in `object` (-1: not yet), so that a repeated field's later
  // elements, or a field seen again, find it.
  std::array<std::int32_t, kMaxSlots> member_at;
  member_at.fill(-1);
  const bool by_slot = message.keys <= kMaxSlots;
  auto find_member = [&](const Field& field) -> Value* {
    if (by_slot) {
      const std::int32_t at = member_at[index.slot_of(field)];
      return at < 0 ? nullptr : &object[static_cast<std::size_t>(at)].value;
    }
    for (Value::Member& m : object) {
      if (m.key == index.key_of(field)) return &m.value;
    }
    return nullptr;
  };
  auto add_member = [&](const Field& field, Value value) {
    if (by_slot) member_at[index.slot_of(field)] = static_cast<std::int32_t>(object.size());
    object.push_back({std::string(index.key_of(field)), std::move(value)});
  };

  WireReader reader(bytes);
  WireField f;
  while (reader.next(f)) {
    const Field* field = index.field(message, f.number);
    if (field == nullptr) continue;
    Value* member = find_member(*field);
    if (index.is_map(*field)) {
      if (member == nullptr) {
        add_member(*field, Value(Value::Object{}));
        member = &object.back().value;
      }
      add_map_entry(index, index.schema().message_of(*field), f.bytes, member->mutable_object());
    } else if (field->repeated) {
      if (member == nullptr) {
        add_member(*field, Value(Value::Array{}));
        member = &object.back().value;
      }
      append_elements(index, *field, f, member->mutable_array());
    } else if (member != nullptr) {
      *member = field_value(index, *field, f);  // seen again: the last one counts
    } else {
      add_member(*field, field_value(index, *field, f));
    }
  }
  return Value(std::move(object));
}

Value field_value(const SchemaIndex& index, const Field& field, const WireField& value) {
  switch (field.type) {
    case FieldType::message:
      return message_value(index, index.schema().message_of(field), value.bytes);
    case FieldType::string:
      if (field.role == schema::FieldRole::json) {
        return Value::parse_json(text_of(value.bytes)).value_or(Value());
      }
      return Value(text_of(value.bytes));
    case FieldType::bytes: {
      std::string text;
      codec::append_base64(text, value.bytes);  // as the JSON encoding writes bytes
      return Value(std::move(text));
    }
    default:
      return scalar_value(field.type, value.bits);
  }
}

// ---- books --------------------------------------------------------------------------------------

namespace {

bool read_action(std::string_view action, greekwire::LevelAction& out) {
  if (action == "new") {
    out = greekwire::LevelAction::added;
  } else if (action == "change") {
    out = greekwire::LevelAction::changed;
  } else if (action == "delete") {
    out = greekwire::LevelAction::deleted;
  } else {
    return false;
  }
  return true;
}

// A known field read_book_change() does not use (BookChange.resync, say), checked all the same.
bool other_field_valid(const SchemaIndex& index, const Message* message, const WireField& f) {
  const Field* field = index.field(*message, f.number);
  const char* why = nullptr;
  return field == nullptr || validate_field(index, *field, f, why);
}

// A BookLevel: all three fields, finite numbers (a price NaN or infinite would break the
// ordering of a side).
bool read_level(const SchemaIndex& index, std::span<const std::uint8_t> bytes,
                greekwire::LevelChange& out) {
  using Role = SchemaIndex::BookRole;
  bool has_action = false, has_price = false, has_amount = false;
  WireReader reader(bytes);
  WireField f;
  while (reader.next(f)) {
    switch (index.level_role(f.number)) {
      case Role::action:  // one of three ASCII words: valid UTF-8 when it reads
        if (f.wire != WireType::length || !read_action(text_of(f.bytes), out.action)) return false;
        has_action = true;
        break;
      case Role::price:
        if (f.wire != WireType::fixed64) return false;
        out.price = std::bit_cast<double>(f.bits);
        has_price = true;
        break;
      case Role::amount:
        if (f.wire != WireType::fixed64) return false;
        out.amount = std::bit_cast<double>(f.bits);
        has_amount = true;
        break;
      default:
        if (!other_field_valid(index, index.book_level(), f)) return false;
        break;
    }
  }
  return !reader.failed() && has_action && has_price && has_amount && std::isfinite(out.price) &&
         std::isfinite(out.amount);
}

}  // namespace

bool read_book_change(const SchemaIndex& index, std::span<const std::uint8_t> bytes,
                      greekwire::BookUpdate& out) {
  using Role = SchemaIndex::BookRole;
  out.clear();
  if (index.book_change() == nullptr) return false;
  bool has_name = false, has_change_id = false, has_type = false;
  std::string_view type;
  WireReader reader(bytes);
  WireField f;
  greekwire::LevelChange level;
  while (reader.next(f)) {
    const Role role = index.book_role(f.number);
    if (role == Role::none) {  // a field this reader does not need (resync, newer ones)
      if (!other_field_valid(index, index.book_change(), f)) return false;
      continue;
    }
    const bool length = role == Role::type || role == Role::instrument_name || role == Role::bids ||
                        role == Role::asks;
    if (f.wire != (length ? WireType::length : WireType::varint)) return false;
    switch (role) {
      case Role::type:
        type = text_of(f.bytes);
        has_type = true;
        if (!valid_utf8(type)) return false;
        break;
      case Role::timestamp:
        out.timestamp = static_cast<std::int64_t>(f.bits);
        break;
      case Role::prev_change_id:
        out.prev_change_id = f.bits;
        break;
      case Role::instrument_name:
        out.instrument_name = text_of(f.bytes);
        has_name = true;
        if (!valid_utf8(out.instrument_name)) return false;
        break;
      case Role::change_id:
        out.change_id = f.bits;
        has_change_id = true;
        break;
      case Role::bids:
      case Role::asks:
        if (!read_level(index, f.bytes, level)) return false;
        (role == Role::bids ? out.bids : out.asks).push_back(level);
        break;
      case Role::checksum:
        out.checksum = static_cast<std::uint32_t>(f.bits);
        break;
      default:
        break;
    }
  }
  if (reader.failed() || !has_name || !has_change_id) return false;
  // As the JSON path: "snapshot" or "change"; without a type, a snapshot has no prev_change_id.
  if (has_type) {
    if (type == "snapshot") {
      out.snapshot = true;
    } else if (type != "change") {
      return false;
    }
  } else {
    out.snapshot = !out.prev_change_id.has_value();
  }
  return out.snapshot || out.prev_change_id.has_value();
}

}  // namespace gw::client::protobuf
