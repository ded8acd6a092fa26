// ProtobufWriter: the Writer interface (codec/writer.hpp) producing Protocol Buffers, guided by
// a compact schema (codec/protobuf_schema.hpp, generated from proto/greekwire.proto). The same
// template calls that write a Deribit message in JSON write it here as the typed message of the
// schema, following the JSON mapping in greekwire.proto's header:
//
//   object            -> the message of the field the value is for (the root: Envelope)
//   key               -> the field of that name (predicted from the declaration order, so a
//                        lookup is usually one comparison)
//   array             -> a repeated field (numbers packed), or the fields, in order, of a
//                        `json_array` message (book levels, wrapped result lists)
//   object for a map  -> one entry per member: {key: the member's name, value: its value}
//   null, NaN         -> the field is left out (in a list of doubles: NaN, to keep positions)
//   string for a non-string field -> its `<name>_text` alternative
//   "result", "data"  -> the member chosen with choose() before the message is written
//
// Nested messages are length-delimited: the writer leaves one byte for the length and, when a
// message closes at 128 bytes or more, moves its body up to make room (no pre-sizing pass, no
// allocation beyond the caller's buffer).
//
// Schema drift (a key the schema lacks, a value of the wrong type or shape, a choice without a
// member) is counted in mismatches(); the value is skipped (or, for a choice with a `_json`
// fallback, written as JSON text). In strict mode (the default in debug builds, so in every
// test) a mismatch prints what and where and aborts: drift cannot pass silently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "codec/json_writer.hpp"
#include "codec/protobuf_schema.hpp"
#include "codec/writer.hpp"

namespace gw::codec {

struct ProtobufWriterOptions {
  // Abort on the first mismatch (see above), with what and where on stderr.
#ifdef NDEBUG
  bool strict = false;
#else
  bool strict = true;
#endif
  // The message the top-level value is; null: the schema's root (Envelope).
  const protobuf::Message* root = nullptr;
};

class ProtobufWriter {
 public:
  static constexpr bool kText = false;
  using Options = ProtobufWriterOptions;

  // Appends one message (of options.root, by default the schema's root) to `out`, which must
  // outlive the writer.
  explicit ProtobufWriter(std::string& out,
                          const protobuf::Schema& schema = protobuf::greekwire_schema(),
                          Options options = {});
  ProtobufWriter(const ProtobufWriter&) = delete;
  ProtobufWriter& operator=(const ProtobufWriter&) = delete;

  // The member a choice key ("result", "data") takes: a member of that choice, from
  // Schema::find_member (look it up once and keep it). Without one the choice falls back to its
  // `_json` member, a mismatch.
  void choose(const protobuf::Field* member) { chosen_ = member; }

  void begin_object(std::size_t count);
  void end_object();
  void begin_array(std::size_t count);
  void end_array();
  void key(std::string_view name);

  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(double d);
  void value(bool b);
  template <Integer T>
  void value(T v) {
    if constexpr (std::is_signed_v<T>) {
      put_signed(static_cast<std::int64_t>(v));
    } else {
      put_unsigned(static_cast<std::uint64_t>(v));
    }
  }
  void null();
  void binary(std::span<const std::uint8_t> bytes);
  // A pre-encoded JSON value, transcoded through this writer (simdjson; not for hot paths).
  void raw_json(std::string_view json);

  std::string& buffer() { return *out_; }
  // Values skipped or converted because the schema did not fit them (see the header).
  std::size_t mismatches() const { return mismatches_; }
  // The last mismatch, for test failure messages ("" if none).
  std::string_view last_mismatch() const { return last_mismatch_; }

 private:
  static constexpr int kMaxDepth = 64;
  static constexpr std::size_t kNoLength = static_cast<std::size_t>(-1);

  enum class Kind : std::uint8_t { message, repeated, positional, map };
  // Set by push(), field by field: the stack is left uninitialized, so that constructing a
  // writer per message costs nothing.
  struct Frame {
    Kind kind;
    const protobuf::Message* message;  // message, positional: the message filled
    // message: the field of the last key (null: unknown, skip its value); repeated: the field;
    // map: the open entry's "value" field until its value comes.
    const protobuf::Field* field;
    std::size_t length_at;       // where this message's length goes (kNoLength at the root)
    const protobuf::Field* run;  // an open packed run of this field ...
    std::size_t run_at;          // ... and where its length goes
    std::uint16_t cursor;        // message: the key expected next; positional: the next field
    const protobuf::Field* map;  // map: the map field, whose entries this frame writes ...
    std::size_t entry_at;        // ... and where the open entry's length goes (kNoLength: none)
  };
  // Where a value goes: a field, as one element of it (`element`: repeated) or as its value.
  struct Target {
    const protobuf::Field* field = nullptr;
    bool element = false;
    Frame* frame = nullptr;
  };

  // Values.
  Target target();
  Target scalar_target();
  void put_signed(std::int64_t v);
  void put_unsigned(std::uint64_t v);
  void write_signed(const Target& t, std::int64_t v);
  void write_unsigned(const Target& t, std::uint64_t v);
  void write_double(const Target& t, double d);
  void write_null(const Target& t);
  void write_string(const Target& t, std::string_view s);
  bool to_text_alternative(const Target& t, std::string_view text);
  void write_decimal(const Target& t, std::uint64_t magnitude, bool negative);
  // Containers.
  void open_container(bool object, std::size_t count);
  void push(Kind kind, const protobuf::Message* message, const protobuf::Field* field,
            std::size_t length_at);
  const protobuf::Field* lookup(Frame& frame, std::string_view name);
  const protobuf::Field* resolve_choice(const protobuf::Field& choice);
  const protobuf::Field* next_positional(Frame& frame);
  void open_map_entry(Frame& frame, std::string_view key);
  void close_map_entry(Frame& frame);
  // Diversions: skipping an unknown value, or capturing a fallback's JSON.
  bool diverted() const { return skip_depth_ > 0 || json_.has_value(); }
  void start_json(const Target& t);
  void finish_json_if_done();
  // Bytes.
  std::size_t scalar_prefix(const Target& t, std::uint32_t wire_type, char* p);
  void emit_varint(const Target& t, std::uint64_t v);
  void emit_fixed(const Target& t, std::uint64_t v, int size);
  void emit_bytes(const Target& t, std::string_view value);
  void close_run(Frame& frame);
  std::size_t open_length(std::uint32_t number);
  void close_length(std::size_t at);

  void mismatch(const char* what, std::string_view detail = {});

  std::string* out_;
  const protobuf::Schema* schema_;
  const protobuf::Message* root_;
  Options options_;
  const protobuf::Field* chosen_ = nullptr;
  Frame frames_[kMaxDepth];
  int depth_ = 0;
  int skip_depth_ = 0;  // > 0: inside a value that is skipped
  // A `_json` fallback being captured: its JSON text, the field and the target it goes to.
  std::optional<JsonWriter> json_;
  std::string json_text_;
  Target json_target_;
  int json_depth_ = 0;
  std::string scratch_;  // a sanitized copy of an invalid UTF-8 string (rare)
  std::size_t mismatches_ = 0;
  std::string last_mismatch_;
  [[no_unique_address]] detail::StructureCheck check_;
};

static_assert(Writer<ProtobufWriter>);

}  // namespace gw::codec
