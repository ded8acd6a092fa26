// MsgpackWriter: the Writer interface (codec/writer.hpp) producing MessagePack on msgpack-cxx's
// packer. The object tree is the JSON writer's: maps with str keys, strings as str (invalid
// UTF-8 replaced by U+FFFD, as in JSON), integers in their smallest encoding, doubles always
// as float64, binary as bin. Non-finite doubles become nil, as they become null in JSON, so
// both encodings carry the same message.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "codec/msgpack_lib.hpp"
#include "codec/text.hpp"
#include "codec/writer.hpp"

namespace gw::codec {

class MsgpackWriter {
 public:
  static constexpr bool kText = false;

  // Appends to `out`, which must outlive the writer. The packer holds a reference to our sink,
  // so the writer cannot be copied or moved.
  explicit MsgpackWriter(std::string& out) : sink_{&out}, packer_(sink_) {}
  MsgpackWriter(const MsgpackWriter&) = delete;
  MsgpackWriter& operator=(const MsgpackWriter&) = delete;

  void begin_object(std::size_t count) {
    check_.open(count, true);
    packer_.pack_map(size32(count));
  }
  void end_object() { check_.close(true); }
  void begin_array(std::size_t count) {
    check_.open(count, false);
    packer_.pack_array(size32(count));
  }
  void end_array() { check_.close(false); }

  void key(std::string_view name) {
    check_.key();
    pack_string(name);
  }

  void value(std::string_view s) {
    check_.value();
    pack_string(s);
  }
  void value(const char* s) { value(std::string_view(s)); }
  void value(double d) {
    check_.value();
    if (std::isfinite(d)) {
      pack_float64(d);
    } else {
      packer_.pack_nil();
    }
  }
  void value(bool b) {
    check_.value();
    if (b) {
      packer_.pack_true();
    } else {
      packer_.pack_false();
    }
  }
  template <Integer T>
  void value(T v) {
    check_.value();
    if constexpr (std::is_signed_v<T>) {
      packer_.pack_int64(v);
    } else {
      packer_.pack_uint64(v);
    }
  }
  void null() {
    check_.value();
    packer_.pack_nil();
  }
  void binary(std::span<const std::uint8_t> bytes) {
    check_.value();
    const std::uint32_t n = size32(bytes.size());
    packer_.pack_bin(n);
    packer_.pack_bin_body(reinterpret_cast<const char*>(bytes.data()), n);
  }
  // A pre-encoded JSON value, transcoded into the same tree (objects to maps, integers to
  // integers, other numbers to float64). This parses the fragment (simdjson, a thread-local
  // parser): fine for cached or rare fragments, not for per-message hot paths. The fragment
  // must be one valid JSON value; an invalid one asserts in debug builds and is written as nil.
  void raw_json(std::string_view json);

  std::string& buffer() { return *sink_.out; }

 private:
  // The Stream concept of msgpack::packer.
  struct Sink {
    std::string* out;
    void write(const char* data, std::size_t size) { out->append(data, size); }
  };

  static std::uint32_t size32(std::size_t n) {
    assert(n <= UINT32_MAX && "MessagePack containers and strings hold at most 2^32-1 items");
    return static_cast<std::uint32_t>(n);
  }
  void pack_string(std::string_view s) {
    if (!is_valid_utf8(s)) s = sanitize_utf8(s, scratch_);
    const std::uint32_t n = size32(s.size());
    packer_.pack_str(n);
    packer_.pack_str_body(s.data(), n);
  }
  // msgpack-cxx's pack_double() writes a double that happens to be integral as an integer (and
  // -0.0 as 0). We keep one wire type per field (a price is always float64), so this writes the
  // float64 marker and the big-endian IEEE 754 bits itself, with the library's byte-order helper.
  void pack_float64(double d) {
    char bytes[9];
    bytes[0] = static_cast<char>(0xcb);
    _msgpack_store64(&bytes[1], std::bit_cast<std::uint64_t>(d));
    sink_.write(bytes, sizeof bytes);
  }

  Sink sink_;
  msgpack::packer<Sink> packer_;
  std::string scratch_;  // a sanitized copy of an invalid UTF-8 string (rare)
  [[no_unique_address]] detail::StructureCheck check_;
};

static_assert(Writer<MsgpackWriter>);

}  // namespace gw::codec
