// One read-only view over a decoded message tree, whatever the encoding: JsonNode over a
// simdjson DOM element, MsgpackNode over a MsgpackTree node. The code that reads messages
// (to_value, read_book_update) is written once, as templates over the node type.
//
// Nodes are cheap handles into the decoder's buffers: valid until the next message is decoded.
#pragma once

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

#include "client/msgpack_tree.hpp"
#include "greekwire/book.hpp"
#include "greekwire/value.hpp"

namespace gw::client {

enum class NodeType : std::uint8_t {
  null,
  boolean,
  int64,
  uint64,
  real,
  string,
  array,
  object,
  other
};

struct JsonNode {
  simdjson::dom::element e;

  NodeType type() const {
    switch (e.type()) {
      case simdjson::dom::element_type::NULL_VALUE:
        return NodeType::null;
      case simdjson::dom::element_type::BOOL:
        return NodeType::boolean;
      case simdjson::dom::element_type::INT64:
        return NodeType::int64;
      case simdjson::dom::element_type::UINT64:
        return NodeType::uint64;
      case simdjson::dom::element_type::DOUBLE:
        return NodeType::real;
      case simdjson::dom::element_type::STRING:
        return NodeType::string;
      case simdjson::dom::element_type::ARRAY:
        return NodeType::array;
      case simdjson::dom::element_type::OBJECT:
        return NodeType::object;
    }
    return NodeType::other;
  }
  bool get_bool() const { return e.get_bool().value_unsafe(); }
  std::int64_t get_int64() const { return e.get_int64().value_unsafe(); }
  std::uint64_t get_uint64() const { return e.get_uint64().value_unsafe(); }
  double get_real() const { return e.get_double().value_unsafe(); }
  std::string_view get_string() const { return e.get_string().value_unsafe(); }

  std::optional<JsonNode> find(std::string_view key) const {
    simdjson::dom::object object;
    if (e.get_object().get(object)) return std::nullopt;
    simdjson::dom::element found;
    if (object.at_key(key).get(found)) return std::nullopt;
    return JsonNode{found};
  }
  template <class F>
  void for_each_member(F&& f) const {
    simdjson::dom::object object;
    if (e.get_object().get(object)) return;
    for (const auto field : object) f(field.key, JsonNode{field.value});
  }
  template <class F>
  void for_each_element(F&& f) const {
    simdjson::dom::array array;
    if (e.get_array().get(array)) return;
    for (const auto element : array) f(JsonNode{element});
  }
  std::size_t size() const {
    simdjson::dom::array array;
    if (!e.get_array().get(array)) return array.size();
    simdjson::dom::object object;
    if (!e.get_object().get(object)) return object.size();
    return 0;
  }
  // The i-th element of an array (nullopt when out of range).
  std::optional<JsonNode> at(std::size_t i) const {
    simdjson::dom::array array;
    if (e.get_array().get(array)) return std::nullopt;
    simdjson::dom::element found;
    if (array.at(i).get(found)) return std::nullopt;
    return JsonNode{found};
  }
};

struct MsgpackNode {
  const MsgpackTree* tree;
  std::uint32_t index;

  const MsgpackTree::Node& n() const { return tree->node(index); }
  NodeType type() const {
    switch (n().type) {
      case MsgpackTree::Type::nil:
        return NodeType::null;
      case MsgpackTree::Type::boolean:
        return NodeType::boolean;
      case MsgpackTree::Type::int64:
        return NodeType::int64;
      case MsgpackTree::Type::uint64:
        return NodeType::uint64;
      case MsgpackTree::Type::real:
        return NodeType::real;
      case MsgpackTree::Type::string:
        return NodeType::string;
      case MsgpackTree::Type::array:
        return NodeType::array;
      case MsgpackTree::Type::map:
        return NodeType::object;
      case MsgpackTree::Type::other:
        break;
    }
    return NodeType::other;  // bin, ext: not in Deribit's messages
  }
  bool get_bool() const { return n().v.boolean; }
  std::int64_t get_int64() const { return n().v.int64; }
  std::uint64_t get_uint64() const { return n().v.uint64; }
  double get_real() const { return n().v.real; }
  std::string_view get_string() const { return {n().v.string.data, n().v.string.size}; }

  std::optional<MsgpackNode> find(std::string_view key) const {
    std::optional<MsgpackNode> found;
    for_each_member([&](std::string_view k, const MsgpackNode& value) {
      if (!found && k == key) found = value;
    });
    return found;
  }
  template <class F>
  void for_each_member(F&& f) const {
    if (n().type != MsgpackTree::Type::map) return;
    std::uint32_t at = index + 1;
    for (std::uint32_t i = 0; i < n().count; ++i) {
      const MsgpackNode key{tree, at};
      const MsgpackNode value{tree, key.n().end};
      at = value.n().end;
      if (key.type() == NodeType::string) f(key.get_string(), value);  // Deribit's keys are
    }                                                                  // strings
  }
  template <class F>
  void for_each_element(F&& f) const {
    if (n().type != MsgpackTree::Type::array) return;
    std::uint32_t at = index + 1;
    for (std::uint32_t i = 0; i < n().count; ++i) {
      const MsgpackNode element{tree, at};
      at = element.n().end;
      f(element);
    }
  }
  std::size_t size() const {
    const auto t = n().type;
    return t == MsgpackTree::Type::array || t == MsgpackTree::Type::map ? n().count : 0;
  }
  std::optional<MsgpackNode> at(std::size_t i) const {
    if (n().type != MsgpackTree::Type::array || i >= n().count) return std::nullopt;
    std::uint32_t position = index + 1;
    for (std::size_t k = 0; k < i; ++k) position = tree->node(position).end;
    return MsgpackNode{tree, position};
  }
};

// A Value tree read through the same interface (the protobuf decoder's data that is not a book
// message of its own, read as a book the way the JSON path reads it).
struct ValueNode {
  const greekwire::Value* v;

  NodeType type() const {
    switch (v->type()) {
      case greekwire::Value::Type::null:
        return NodeType::null;
      case greekwire::Value::Type::boolean:
        return NodeType::boolean;
      case greekwire::Value::Type::integer:
        return NodeType::int64;
      case greekwire::Value::Type::unsigned_integer:
        return NodeType::uint64;
      case greekwire::Value::Type::real:
        return NodeType::real;
      case greekwire::Value::Type::string:
        return NodeType::string;
      case greekwire::Value::Type::array:
        return NodeType::array;
      case greekwire::Value::Type::object:
        return NodeType::object;
    }
    return NodeType::other;
  }
  bool get_bool() const { return v->as_bool(); }
  std::int64_t get_int64() const { return v->as_int(); }
  std::uint64_t get_uint64() const { return v->as_uint(); }
  double get_real() const { return v->as_double(); }
  std::string_view get_string() const { return v->as_string(); }

  std::optional<ValueNode> find(std::string_view key) const {
    const greekwire::Value* found = v->find(key);
    if (found == nullptr) return std::nullopt;
    return ValueNode{found};
  }
  template <class F>
  void for_each_member(F&& f) const {
    for (const auto& member : v->object())
      f(std::string_view(member.key), ValueNode{&member.value});
  }
  template <class F>
  void for_each_element(F&& f) const {
    for (const auto& element : v->array()) f(ValueNode{&element});
  }
  std::size_t size() const { return v->size(); }
  std::optional<ValueNode> at(std::size_t i) const {
    if (!v->is_array() || i >= v->size()) return std::nullopt;
    return ValueNode{&v->array()[i]};
  }
};

// ---- reading scalars ----------------------------------------------------------------------

template <class Node>
bool is_number(const Node& n) {
  const NodeType t = n.type();
  return t == NodeType::int64 || t == NodeType::uint64 || t == NodeType::real;
}

template <class Node>
std::optional<double> number_of(const Node& n) {
  switch (n.type()) {
    case NodeType::int64:
      return static_cast<double>(n.get_int64());
    case NodeType::uint64:
      return static_cast<double>(n.get_uint64());
    case NodeType::real:
      return n.get_real();
    default:
      return std::nullopt;
  }
}

// A signed 64-bit integer, exactly (through a double, timestamps past 2^53 would change); a real
// is truncated, nullopt when it is out of range (or NaN).
template <class Node>
std::optional<std::int64_t> signed_of(const Node& n) {
  switch (n.type()) {
    case NodeType::int64:
      return n.get_int64();
    case NodeType::uint64:
      if (n.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<std::int64_t>(n.get_uint64());
    case NodeType::real: {
      const double d = n.get_real();
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return std::nullopt;
      return static_cast<std::int64_t>(d);
    }
    default:
      return std::nullopt;
  }
}

// A non-negative integer (an integral real is accepted, as a decoder of JSON numbers must).
template <class Node>
std::optional<std::uint64_t> unsigned_of(const Node& n) {
  switch (n.type()) {
    case NodeType::int64:
      if (n.get_int64() < 0) return std::nullopt;
      return static_cast<std::uint64_t>(n.get_int64());
    case NodeType::uint64:
      return n.get_uint64();
    case NodeType::real: {
      const double d = n.get_real();
      if (!(d >= 0 && d < 18446744073709551616.0) ||
          d != static_cast<double>(static_cast<std::uint64_t>(d)))
        return std::nullopt;
      return static_cast<std::uint64_t>(d);
    }
    default:
      return std::nullopt;
  }
}

template <class Node>
std::optional<std::string_view> string_of(const std::optional<Node>& n) {
  if (!n || n->type() != NodeType::string) return std::nullopt;
  return n->get_string();
}

// ---- whole trees --------------------------------------------------------------------------

template <class Node>
greekwire::Value to_value(const Node& n) {
  switch (n.type()) {
    case NodeType::null:
    case NodeType::other:
      return {};
    case NodeType::boolean:
      return greekwire::Value(n.get_bool());
    case NodeType::int64:
      return greekwire::Value(n.get_int64());
    case NodeType::uint64:
      return greekwire::Value(n.get_uint64());
    case NodeType::real:
      return greekwire::Value(n.get_real());
    case NodeType::string:
      return greekwire::Value(n.get_string());
    case NodeType::array: {
      greekwire::Value::Array array;
      array.reserve(n.size());
      n.for_each_element([&](const Node& element) { array.push_back(to_value(element)); });
      return greekwire::Value(std::move(array));
    }
    case NodeType::object: {
      greekwire::Value::Object object;
      object.reserve(n.size());
      n.for_each_member([&](std::string_view key, const Node& value) {
        object.push_back({std::string(key), to_value(value)});
      });
      return greekwire::Value(std::move(object));
    }
  }
  return {};
}

// ---- book messages --------------------------------------------------------------------------

// One level entry: ["new"|"change"|"delete", price, amount], or [price, amount] (taken as new).
template <class Node>
bool read_level(const Node& entry, greekwire::LevelChange& out) {
  const std::size_t n = entry.size();
  if (entry.type() != NodeType::array || (n != 3 && n != 2)) return false;
  std::size_t at = 0;
  out.action = greekwire::LevelAction::added;
  if (n == 3) {
    const auto action = string_of(entry.at(0));
    if (!action) return false;
    if (*action == "new") {
      out.action = greekwire::LevelAction::added;
    } else if (*action == "change") {
      out.action = greekwire::LevelAction::changed;
    } else if (*action == "delete") {
      out.action = greekwire::LevelAction::deleted;
    } else {
      return false;
    }
    at = 1;
  }
  const auto price = entry.at(at);
  const auto amount = entry.at(at + 1);
  if (!price || !amount) return false;
  const auto p = number_of(*price);
  const auto a = number_of(*amount);
  // MessagePack can carry NaN and infinities, which no price is (and which would break the
  // ordering of a side).
  if (!p || !a || !std::isfinite(*p) || !std::isfinite(*a)) return false;
  out.price = *p;
  out.amount = *a;
  return true;
}

template <class Node>
bool read_levels(const std::optional<Node>& side, std::vector<greekwire::LevelChange>& out) {
  if (!side) return true;  // a side without changes may be left out
  if (side->type() != NodeType::array) return false;
  bool ok = true;
  side->for_each_element([&](const Node& entry) {
    greekwire::LevelChange level;
    if (ok && read_level(entry, level)) {
      out.push_back(level);
    } else {
      ok = false;
    }
  });
  return ok;
}

// The data of a book.{instrument}.{interval} notification. A message without `type` is a
// snapshot when it has no prev_change_id (cryptofeed's rule for Deribit's older frames).
template <class Node>
bool read_book_update(const Node& data, greekwire::BookUpdate& out) {
  out.clear();
  if (data.type() != NodeType::object) return false;
  const auto name = string_of(data.find("instrument_name"));
  const auto change_id = data.find("change_id");
  if (!name || !change_id) return false;
  const auto id = unsigned_of(*change_id);
  if (!id) return false;
  out.instrument_name = *name;
  out.change_id = *id;
  if (const auto prev = data.find("prev_change_id"); prev && prev->type() != NodeType::null) {
    const auto p = unsigned_of(*prev);
    if (!p) return false;
    out.prev_change_id = *p;
  }
  if (const auto type = string_of(data.find("type"))) {
    if (*type == "snapshot") {
      out.snapshot = true;
    } else if (*type != "change") {
      return false;
    }
  } else {
    out.snapshot = !out.prev_change_id.has_value();
  }
  if (!out.snapshot && !out.prev_change_id) return false;
  if (const auto ts = data.find("timestamp")) {
    if (const auto t = signed_of(*ts)) out.timestamp = *t;
  }
  if (const auto checksum = data.find("checksum"); checksum && checksum->type() != NodeType::null) {
    const auto c = unsigned_of(*checksum);
    if (!c || *c > UINT32_MAX) return false;
    out.checksum = static_cast<std::uint32_t>(*c);
  }
  return read_levels(data.find("bids"), out.bids) && read_levels(data.find("asks"), out.asks);
}

}  // namespace gw::client
