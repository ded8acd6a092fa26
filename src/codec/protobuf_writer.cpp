#include "codec/protobuf_writer.hpp"

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>

#include "codec/json_transcode.hpp"
#include "codec/text.hpp"

namespace gw::codec {

namespace {

using protobuf::Field;
using protobuf::FieldRole;
using protobuf::FieldType;
using protobuf::Message;

// Wire types (encoding.md).
constexpr std::uint32_t kVarint = 0;
constexpr std::uint32_t kFixed64 = 1;
constexpr std::uint32_t kLength = 2;
constexpr std::uint32_t kFixed32 = 5;

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* encode_varint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

bool is_number_type(FieldType type) {
  return type <= FieldType::enum_ && type != FieldType::bool_;
}

bool is_integer_type(FieldType type) {
  return is_number_type(type) && type != FieldType::double_ && type != FieldType::float_;
}

}  // namespace

ProtobufWriter::ProtobufWriter(std::string& out, const protobuf::Schema& schema, Options options)
    : out_(&out),
      schema_(&schema),
      root_(options.root != nullptr ? options.root : &schema.root_message()),
      options_(options) {}

// ---- containers ---------------------------------------------------------------------------------

void ProtobufWriter::begin_object(std::size_t count) {
  check_.open(count, true);
  open_container(true, count);
}

void ProtobufWriter::begin_array(std::size_t count) {
  check_.open(count, false);
  open_container(false, count);
}

// The common part of begin_object/begin_array: opens a frame, or diverts the container (skipped,
// or captured as JSON).
void ProtobufWriter::open_container(bool object, std::size_t count) {
  if (skip_depth_ > 0) {
    ++skip_depth_;
    return;
  }
  if (json_) {
    object ? json_->begin_object(count) : json_->begin_array(count);
    ++json_depth_;
    return;
  }
  if (depth_ == kMaxDepth) {
    mismatch("nested too deeply");
    skip_depth_ = 1;
    return;
  }
  if (depth_ == 0) {
    if (object != !root_->json_array) {
      mismatch(object ? "an object for a json_array message" : "an array for a message",
               root_->name);
      skip_depth_ = 1;
      return;
    }
    push(object ? Kind::message : Kind::positional, root_, nullptr, kNoLength);
    return;
  }
  const Target t = target();
  if (t.field == nullptr) {
    skip_depth_ = 1;
    return;
  }
  if (t.field->role == FieldRole::json) {
    start_json(t);
    object ? json_->begin_object(count) : json_->begin_array(count);
    json_depth_ = 1;
    return;
  }
  const bool is_message = t.field->type == FieldType::message;
  const Message* m = is_message ? &schema_->message_of(*t.field) : nullptr;
  if (m != nullptr && m->map_entry && t.field->repeated && !t.element) {
    if (!object) {
      mismatch("an array for the map", t.field->name);
      skip_depth_ = 1;
      return;
    }
    if (t.frame != nullptr) close_run(*t.frame);
    push(Kind::map, m, nullptr, kNoLength);  // each entry carries the tag
    frames_[depth_ - 1].map = t.field;
    return;
  }
  if (!object && t.field->repeated && !t.element) {
    push(Kind::repeated, nullptr, t.field, kNoLength);  // its elements carry the tags
    return;
  }
  if (!is_message || (t.field->repeated && !t.element) || m->json_array == object) {
    mismatch(object ? "an object that the schema does not have here"
                    : "an array that the schema does not have here",
             t.field->name);
    skip_depth_ = 1;
    return;
  }
  if (t.frame != nullptr) close_run(*t.frame);
  push(object ? Kind::message : Kind::positional, m, nullptr, open_length(t.field->number));
}

void ProtobufWriter::push(Kind kind, const Message* message, const Field* field,
                          std::size_t length_at) {
  Frame& f = frames_[depth_++];
  f.kind = kind;
  f.message = message;
  f.field = field;
  f.length_at = length_at;
  f.run = nullptr;
  f.run_at = kNoLength;
  f.cursor = 0;
  f.map = nullptr;
  f.entry_at = kNoLength;
}

void ProtobufWriter::end_object() {
  check_.close(true);
  if (skip_depth_ > 0) {
    --skip_depth_;
    return;
  }
  if (json_) {
    json_->end_object();
    --json_depth_;
    finish_json_if_done();
    return;
  }
  if (depth_ == 0) return;  // unbalanced (the debug check asserts)
  Frame& f = frames_[--depth_];
  if (f.kind == Kind::map) close_map_entry(f);
  if (f.length_at != kNoLength) close_length(f.length_at);
}

void ProtobufWriter::end_array() {
  check_.close(false);
  if (skip_depth_ > 0) {
    --skip_depth_;
    return;
  }
  if (json_) {
    json_->end_array();
    --json_depth_;
    finish_json_if_done();
    return;
  }
  if (depth_ == 0) return;
  Frame& f = frames_[--depth_];
  close_run(f);
  if (f.length_at != kNoLength) close_length(f.length_at);
}

void ProtobufWriter::key(std::string_view name) {
  check_.key();
  if (skip_depth_ > 0) return;
  if (json_) {
    json_->key(name);
    return;
  }
  if (depth_ == 0) return;  // (asserted in debug)
  Frame& f = frames_[depth_ - 1];
  if (f.kind == Kind::map) {
    open_map_entry(f, name);
  } else if (f.kind == Kind::message) {
    f.field = lookup(f, name);
  }
}

// A map's member: an entry message {key, value}, its key written now and its value by the next
// value call; the entry closes at the next key or at the end of the map, so a value may be a
// message of its own.
void ProtobufWriter::open_map_entry(Frame& frame, std::string_view key) {
  close_map_entry(frame);
  frame.entry_at = open_length(frame.map->number);
  const std::span<const Field> entry = schema_->keys_of(*frame.message);  // "key", "value"
  write_string({&entry[0], false, nullptr}, key);
  frame.field = &entry[1];
}

void ProtobufWriter::close_map_entry(Frame& frame) {
  if (frame.entry_at == kNoLength) return;
  close_length(frame.entry_at);
  frame.entry_at = kNoLength;
}

// The field `name` names in the frame's message: the one after the previous key first (fields
// are declared in the order the gateway writes them), then the others in turn.
const Field* ProtobufWriter::lookup(Frame& frame, std::string_view name) {
  const std::span<const Field> keys = schema_->keys_of(*frame.message);
  const std::size_t n = keys.size();
  std::size_t i = frame.cursor;
  for (std::size_t tried = 0; tried < n; ++tried, ++i) {
    if (i >= n) i = 0;
    if (keys[i].name == name) {
      frame.cursor = static_cast<std::uint16_t>(i + 1);
      return keys[i].role == FieldRole::choice ? resolve_choice(keys[i]) : &keys[i];
    }
  }
  mismatch("a key the schema does not have", name);
  return nullptr;
}

const Field* ProtobufWriter::resolve_choice(const Field& choice) {
  const Field* first = &schema_->at(choice.first);
  const std::less_equal<const Field*> le;
  if (chosen_ != nullptr && le(first, chosen_) &&
      std::less<const Field*>()(chosen_, first + choice.count)) {
    return chosen_;
  }
  mismatch("no member chosen for", choice.name);
  return choice.fallback != protobuf::kNone ? &schema_->at(choice.fallback) : nullptr;
}

// The field the next element of a json_array message goes to: its keyed fields in order; the
// last one, if repeated, takes every remaining element.
[[gnu::always_inline]] inline const Field* ProtobufWriter::next_positional(Frame& frame) {
  const std::span<const Field> keys = schema_->keys_of(*frame.message);  // no choices here
  if (frame.cursor >= keys.size()) {
    mismatch("more elements than fields in", frame.message->name);
    return nullptr;
  }
  const Field* field = &keys[frame.cursor];
  if (!field->repeated || frame.cursor + 1u < keys.size()) ++frame.cursor;
  return field;
}

[[gnu::always_inline]] inline ProtobufWriter::Target ProtobufWriter::target() {
  if (depth_ == 0) {
    mismatch("a scalar at the top level");
    return {};
  }
  Frame& f = frames_[depth_ - 1];
  switch (f.kind) {
    case Kind::message:
    case Kind::map: {
      const Field* field = f.field;
      f.field = nullptr;  // the key's value is taken
      return {field, false, &f};
    }
    case Kind::repeated:
      return {f.field, true, &f};
    case Kind::positional: {
      const Field* field = next_positional(f);
      return {field, field != nullptr && field->repeated, &f};
    }
  }
  return {};
}

// The target of a scalar: not a repeated field itself (a list is an array).
[[gnu::always_inline]] inline ProtobufWriter::Target ProtobufWriter::scalar_target() {
  Target t = target();
  if (t.field != nullptr && t.field->repeated && !t.element) {
    mismatch("a single value for the list", t.field->name);
    t.field = nullptr;
  }
  return t;
}

// ---- JSON fallback
// --------------------------------------------------------------------------------

void ProtobufWriter::start_json(const Target& t) {
  json_text_.clear();
  json_.emplace(json_text_);
  json_target_ = t;
  json_depth_ = 0;
}

void ProtobufWriter::finish_json_if_done() {
  if (json_depth_ > 0) return;
  json_.reset();
  emit_bytes(json_target_, json_text_);
}

// ---- scalars
// --------------------------------------------------------------------------------------

void ProtobufWriter::value(std::string_view s) {
  check_.value();
  if (skip_depth_ > 0) return;
  if (json_) {
    json_->value(s);
    finish_json_if_done();
    return;
  }
  const Target t = scalar_target();
  if (t.field == nullptr) return;
  if (t.field->role == FieldRole::json) {
    start_json(t);
    json_->value(s);
    finish_json_if_done();
    return;
  }
  write_string(t, s);
}

[[gnu::always_inline]] inline void ProtobufWriter::write_string(const Target& t,
                                                                std::string_view s) {
  const FieldType type = t.field->type;
  if (type != FieldType::string && type != FieldType::bytes) {
    if (!to_text_alternative(t, s)) mismatch("a string for the non-string field", t.field->name);
    return;
  }
  if (type == FieldType::string && !is_valid_utf8(s)) s = sanitize_utf8(s, scratch_);
  emit_bytes(t, s);
}

// Writes `text` into the field's `<name>_text` alternative, if it has one.
bool ProtobufWriter::to_text_alternative(const Target& t, std::string_view text) {
  if (t.field->text == protobuf::kNone) return false;
  Target alternative = t;
  alternative.field = &schema_->at(t.field->text);
  write_string(alternative, text);
  return true;
}

void ProtobufWriter::value(double d) {
  check_.value();
  if (skip_depth_ > 0) return;
  if (json_) {
    json_->value(d);
    finish_json_if_done();
    return;
  }
  const Target t = scalar_target();
  if (t.field == nullptr) return;
  if (t.field->role == FieldRole::json) {
    start_json(t);
    json_->value(d);
    finish_json_if_done();
    return;
  }
  write_double(t, d);
}

[[gnu::always_inline]] inline void ProtobufWriter::write_double(const Target& t, double d) {
  if (!std::isfinite(d)) {
    write_null(t);  // JSON writes a non-finite number as null
    return;
  }
  switch (t.field->type) {
    case FieldType::double_:
      emit_fixed(t, std::bit_cast<std::uint64_t>(d), 8);
      return;
    case FieldType::float_:
      emit_fixed(t, std::bit_cast<std::uint32_t>(static_cast<float>(d)), 4);
      return;
    default:
      break;
  }
  if (!is_integer_type(t.field->type)) {
    mismatch("a number for the non-number field", t.field->name);
    return;
  }
  // An integral double fits an integer field, but the schema should say double: JSON clients
  // see 21 and 21.0 alike, protobuf clients would not.
  mismatch("a double for the integer field", t.field->name);
  if (d >= -0x1p63 && d < 0x1p63 && d == std::trunc(d)) {
    write_signed(t, static_cast<std::int64_t>(d));
  } else if (d >= 0 && d < 0x1p64 && d == std::trunc(d)) {
    write_unsigned(t, static_cast<std::uint64_t>(d));
  }
}

void ProtobufWriter::put_signed(std::int64_t v) {
  check_.value();
  if (skip_depth_ > 0) return;
  if (json_) {
    json_->value(v);
    finish_json_if_done();
    return;
  }
  const Target t = scalar_target();
  if (t.field == nullptr) return;
  if (t.field->role == FieldRole::json) {
    start_json(t);
    json_->value(v);
    finish_json_if_done();
    return;
  }
  write_signed(t, v);
}

void ProtobufWriter::put_unsigned(std::uint64_t v) {
  check_.value();
  if (skip_depth_ > 0) return;
  if (json_) {
    json_->value(v);
    finish_json_if_done();
    return;
  }
  const Target t = scalar_target();
  if (t.field == nullptr) return;
  if (t.field->role == FieldRole::json) {
    start_json(t);
    json_->value(v);
    finish_json_if_done();
    return;
  }
  write_unsigned(t, v);
}

void ProtobufWriter::write_signed(const Target& t, std::int64_t v) {
  if (v >= 0) {
    write_unsigned(t, static_cast<std::uint64_t>(v));
    return;
  }
  const bool fits32 = v >= std::numeric_limits<std::int32_t>::min();
  switch (t.field->type) {
    case FieldType::int64:
    case FieldType::int32:
    case FieldType::enum_:
      if (t.field->type != FieldType::int64 && !fits32) break;
      emit_varint(t, static_cast<std::uint64_t>(v));  // negative int32 too: sign-extended
      return;
    case FieldType::sint64:
    case FieldType::sint32:
      if (t.field->type == FieldType::sint32 && !fits32) break;
      emit_varint(t, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
      return;
    case FieldType::sfixed64:
      emit_fixed(t, static_cast<std::uint64_t>(v), 8);
      return;
    case FieldType::sfixed32:
      if (!fits32) break;
      emit_fixed(t, static_cast<std::uint32_t>(v), 4);
      return;
    case FieldType::double_:
    case FieldType::float_:
      write_double(t, static_cast<double>(v));
      return;
    case FieldType::uint64:
    case FieldType::uint32:
    case FieldType::fixed64:
    case FieldType::fixed32:
      break;  // negative: out of range
    default:
      mismatch("an integer for the non-number field", t.field->name);
      return;
  }
  write_decimal(t, 0 - static_cast<std::uint64_t>(v), true);
}

void ProtobufWriter::write_unsigned(const Target& t, std::uint64_t v) {
  constexpr auto kInt32Max = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
  constexpr auto kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  constexpr auto kUint32Max = std::uint64_t{std::numeric_limits<std::uint32_t>::max()};
  switch (t.field->type) {
    case FieldType::uint64:
    case FieldType::int64:
    case FieldType::uint32:
    case FieldType::int32:
    case FieldType::enum_: {
      const FieldType type = t.field->type;
      const std::uint64_t max = type == FieldType::uint64   ? UINT64_MAX
                                : type == FieldType::int64  ? kInt64Max
                                : type == FieldType::uint32 ? kUint32Max
                                                            : kInt32Max;
      if (v > max) break;
      emit_varint(t, v);
      return;
    }
    case FieldType::sint64:
    case FieldType::sint32:
      if (v > (t.field->type == FieldType::sint64 ? kInt64Max : kInt32Max)) break;
      emit_varint(t, v << 1);
      return;
    case FieldType::fixed64:
    case FieldType::sfixed64:
      if (t.field->type == FieldType::sfixed64 && v > kInt64Max) break;
      emit_fixed(t, v, 8);
      return;
    case FieldType::fixed32:
    case FieldType::sfixed32:
      if (v > (t.field->type == FieldType::fixed32 ? kUint32Max : kInt32Max)) break;
      emit_fixed(t, v, 4);
      return;
    case FieldType::double_:
    case FieldType::float_:
      write_double(t, static_cast<double>(v));
      return;
    default:
      mismatch("an integer for the non-number field", t.field->name);
      return;
  }
  write_decimal(t, v, false);
}

// An integer the field cannot hold: its decimal digits into the `<name>_text` alternative.
void ProtobufWriter::write_decimal(const Target& t, std::uint64_t magnitude, bool negative) {
  char digits[24];
  char* end = digits + sizeof digits;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (negative) *--p = '-';
  if (!to_text_alternative(t, std::string_view(p, static_cast<std::size_t>(end - p)))) {
    mismatch("an integer out of the range of", t.field->name);
  }
}

void ProtobufWriter::value(bool b) {
  check_.value();
  if (skip_depth_ > 0) return;
  if (json_) {
    json_->value(b);
    finish_json_if_done();
    return;
  }
  const Target t = scalar_target();
  if (t.field == nullptr) return;
  if (t.field->role == FieldRole::json) {
    start_json(t);
    json_->value(b);
    finish_json_if_done();
    return;
  }
  if (t.field->type != FieldType::bool_) {
    mismatch("a boolean for the non-bool field", t.field->name);
    return;
  }
  emit_varint(t, b ? 1 : 0);
}

void ProtobufWriter::null() {
  check_.value();
  if (skip_depth_ > 0) return;
  if (json_) {
    json_->null();
    finish_json_if_done();
    return;
  }
  const Target t = scalar_target();
  if (t.field == nullptr) return;
  if (t.field->role == FieldRole::json) {
    start_json(t);
    json_->null();
    finish_json_if_done();
    return;
  }
  write_null(t);
}

void ProtobufWriter::write_null(const Target& t) {
  if (!t.element) return;  // null is a field left out
  // A list cannot leave an element out without moving the others: doubles hold NaN.
  if (t.field->type == FieldType::double_) {
    emit_fixed(t, std::bit_cast<std::uint64_t>(std::numeric_limits<double>::quiet_NaN()), 8);
  } else if (t.field->type == FieldType::float_) {
    emit_fixed(t, std::bit_cast<std::uint32_t>(std::numeric_limits<float>::quiet_NaN()), 4);
  } else {
    mismatch("a null in the list", t.field->name);
  }
}

void ProtobufWriter::binary(std::span<const std::uint8_t> bytes) {
  check_.value();
  if (skip_depth_ > 0 || json_) {
    if (json_) {
      json_->binary(bytes);
      finish_json_if_done();
    }
    return;
  }
  const Target t = scalar_target();
  if (t.field == nullptr) return;
  if (t.field->type != FieldType::bytes) {
    mismatch("bytes for the non-bytes field", t.field->name);
    return;
  }
  emit_bytes(t, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

void ProtobufWriter::raw_json(std::string_view json) {
  write_raw_json(*this, json);
}

// ---- bytes
// ----------------------------------------------------------------------------------------

// Each scalar is one append of its tag and value (the value's bytes follow for strings); an
// element of a packed field has no tag, it joins (or opens) its frame's run.
[[gnu::always_inline]] inline std::size_t ProtobufWriter::scalar_prefix(const Target& t,
                                                                        std::uint32_t wire_type,
                                                                        char* p) {
  if (t.frame != nullptr && t.frame->run != t.field) close_run(*t.frame);
  if (t.element && t.field->packed) {
    if (t.frame->run == nullptr) {
      t.frame->run = t.field;
      t.frame->run_at = open_length(t.field->number);
    }
    return 0;
  }
  return static_cast<std::size_t>(
      encode_varint(p, (std::uint64_t{t.field->number} << 3) | wire_type) - p);
}

[[gnu::always_inline]] inline void ProtobufWriter::emit_varint(const Target& t, std::uint64_t v) {
  char bytes[16];
  const std::size_t n = scalar_prefix(t, kVarint, bytes);
  out_->append(bytes, static_cast<std::size_t>(encode_varint(bytes + n, v) - bytes));
}

[[gnu::always_inline]] inline void ProtobufWriter::emit_fixed(const Target& t, std::uint64_t v,
                                                              int size) {
  char bytes[16];
  char* p = bytes + scalar_prefix(t, size == 8 ? kFixed64 : kFixed32, bytes);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 8);  // the low `size` bytes are the value
    p += size;
  } else {
    for (int i = 0; i < size; ++i) *p++ = static_cast<char>(v >> (8 * i));
  }
  out_->append(bytes, static_cast<std::size_t>(p - bytes));
}

[[gnu::always_inline]] inline void ProtobufWriter::emit_bytes(const Target& t,
                                                              std::string_view value) {
  char bytes[16];
  const std::size_t n = scalar_prefix(t, kLength, bytes);
  out_->append(bytes, static_cast<std::size_t>(encode_varint(bytes + n, value.size()) - bytes));
  out_->append(value);
}

void ProtobufWriter::close_run(Frame& frame) {
  if (frame.run == nullptr) return;
  close_length(frame.run_at);
  frame.run = nullptr;
}

// The tag of a length-delimited field and one byte for its length, which close_length() widens
// when the body reaches 128 bytes. Returns where the length goes.
std::size_t ProtobufWriter::open_length(std::uint32_t number) {
  char bytes[8];
  char* p = encode_varint(bytes, (std::uint64_t{number} << 3) | kLength);
  *p++ = 0;
  out_->append(bytes, static_cast<std::size_t>(p - bytes));
  return out_->size() - 1;
}

void ProtobufWriter::close_length(std::size_t at) {
  const std::size_t body = out_->size() - at - 1;
  if (body < 0x80) {
    (*out_)[at] = static_cast<char>(body);
    return;
  }
  const std::size_t extra = varint_size(body) - 1;
  out_->resize(out_->size() + extra);
  char* p = out_->data() + at;
  std::memmove(p + 1 + extra, p + 1, body);
  encode_varint(p, body);
}

// ---- mismatches
// -----------------------------------------------------------------------------------

void ProtobufWriter::mismatch(const char* what, std::string_view detail) {
  ++mismatches_;
  const Message* where = depth_ > 0 ? frames_[depth_ - 1].message : nullptr;
  last_mismatch_ = what;
  if (!detail.empty()) {
    last_mismatch_ += " '";
    last_mismatch_ += detail;
    last_mismatch_ += "'";
  }
  if (where != nullptr) {
    last_mismatch_ += " in ";
    last_mismatch_ += where->name;
  }
  if (options_.strict) {
    std::fprintf(stderr, "ProtobufWriter (strict): %s\n", last_mismatch_.c_str());
    std::abort();
  }
}

}  // namespace gw::codec
