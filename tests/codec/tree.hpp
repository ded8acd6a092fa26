// Test helpers: a canonical text form of a JSON document (parsed by simdjson) and of a
// MessagePack document (decoded by msgpack-cxx's unpacker), so that the two encodings of one
// message can be compared as trees. Numbers compare by value (JSON's 21 equals MessagePack's
// float64 21.0, as a client sees them), binary compares as its base64 text (which is how the
// JSON writer carries it), map order is kept.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "codec/msgpack_lib.hpp"
#include "codec/text.hpp"

#include <msgpack.hpp>

namespace gw::codec::test {

inline void canonical_number(std::string& out, double d) {
  if (d == std::trunc(d) && std::fabs(d) < 9.2e18) {
    out += "n:" + std::to_string(static_cast<std::int64_t>(d));
  } else {
    char buf[32];
    out += "n:";
    out.append(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
  }
}

inline void canonical(std::string& out, simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      const simdjson::dom::object object = e.get_object().value_unsafe();
      out += "{";
      for (auto field : object) {
        out += "k:" + std::string(field.key) + "=";
        canonical(out, field.value);
        out += ",";
      }
      out += "}";
      return;
    }
    case element_type::ARRAY: {
      const simdjson::dom::array array = e.get_array().value_unsafe();
      out += "[";
      for (auto item : array) {
        canonical(out, item);
        out += ",";
      }
      out += "]";
      return;
    }
    case element_type::STRING:
      out += "s:" + std::string(e.get_string().value_unsafe());
      return;
    case element_type::INT64:
      out += "n:" + std::to_string(e.get_int64().value_unsafe());
      return;
    case element_type::UINT64:
      out += "n:" + std::to_string(e.get_uint64().value_unsafe());
      return;
    case element_type::DOUBLE:
      canonical_number(out, e.get_double().value_unsafe());
      return;
    case element_type::BOOL:
      out += e.get_bool().value_unsafe() ? "true" : "false";
      return;
    case element_type::NULL_VALUE:
      out += "null";
      return;
  }
}

inline std::string canonical_json(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) throw std::runtime_error("bad JSON");
  std::string out;
  canonical(out, root);
  return out;
}

inline void canonical(std::string& out, const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::MAP:
      out += "{";
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) throw std::runtime_error("non-string key");
        out += "k:" + std::string(kv.key.via.str.ptr, kv.key.via.str.size) + "=";
        canonical(out, kv.val);
        out += ",";
      }
      out += "}";
      return;
    case msgpack::type::ARRAY:
      out += "[";
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        canonical(out, o.via.array.ptr[i]);
        out += ",";
      }
      out += "]";
      return;
    case msgpack::type::STR:
      out += "s:" + std::string(o.via.str.ptr, o.via.str.size);
      return;
    case msgpack::type::BIN: {
      out += "s:";
      const auto* p = reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr);
      append_base64(out, {p, o.via.bin.size});
      return;
    }
    case msgpack::type::POSITIVE_INTEGER:
      out += "n:" + std::to_string(o.via.u64);
      return;
    case msgpack::type::NEGATIVE_INTEGER:
      out += "n:" + std::to_string(o.via.i64);
      return;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      canonical_number(out, o.via.f64);
      return;
    case msgpack::type::BOOLEAN:
      out += o.via.boolean ? "true" : "false";
      return;
    case msgpack::type::NIL:
      out += "null";
      return;
    default:
      throw std::runtime_error("unexpected MessagePack type");
  }
}

// Decodes exactly one document that must fill `bytes`.
inline msgpack::object_handle unpack_one(std::string_view bytes) {
  std::size_t offset = 0;
  msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size(), offset);
  if (offset != bytes.size()) throw std::runtime_error("trailing bytes after MessagePack");
  return handle;
}

inline std::string canonical_msgpack(std::string_view bytes) {
  const msgpack::object_handle handle = unpack_one(bytes);
  std::string out;
  canonical(out, handle.get());
  return out;
}

}  // namespace gw::codec::test
