// greekwire::Value: one JSON-RPC value (a result, a notification's data) as a small tree, the
// same whatever the wire encoding (JSON text or MessagePack). Objects keep their members in
// the order they came.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace greekwire {

class Value {
 public:
  enum class Type : std::uint8_t {
    null,
    boolean,
    integer,
    unsigned_integer,
    real,
    string,
    array,
    object
  };
  struct Member;
  using Array = std::vector<Value>;
  using Object = std::vector<Member>;

  // Defined below, once Member is complete (the variant needs it).
  Value();
  Value(std::nullptr_t);
  Value(bool b);
  Value(int i);
  Value(std::int64_t i);
  Value(std::uint64_t u);  // stored as an integer when it fits int64
  Value(double d);
  Value(std::string s);
  Value(std::string_view s);
  Value(const char* s);
  Value(Array a);
  Value(Object o);
  Value(const Value& other);
  Value(Value&& other) noexcept;
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept;
  ~Value();

  Type type() const { return static_cast<Type>(data_.index()); }
  bool is_null() const { return type() == Type::null; }
  bool is_bool() const { return type() == Type::boolean; }
  // Integers (int64 or uint64) and reals.
  bool is_number() const;
  bool is_integer() const { return type() == Type::integer || type() == Type::unsigned_integer; }
  bool is_string() const { return type() == Type::string; }
  bool is_array() const { return type() == Type::array; }
  bool is_object() const { return type() == Type::object; }

  // Typed reads with a fallback for a value of another type (no exceptions).
  bool as_bool(bool fallback = false) const;
  // Integers, and reals with an integral value in range.
  std::int64_t as_int(std::int64_t fallback = 0) const;
  std::uint64_t as_uint(std::uint64_t fallback = 0) const;
  // Any number.
  double as_double(double fallback = 0.0) const;
  std::string_view as_string(std::string_view fallback = {}) const;

  // Arrays and objects: the number of elements or members (0 for scalars).
  std::size_t size() const;
  // Array element i, or a null value when out of range or not an array.
  const Value& operator[](std::size_t i) const;
  // Object member, or a null value when absent or not an object (first match wins).
  const Value& operator[](std::string_view key) const;
  // Object member, nullptr when absent.
  const Value* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }

  const Array& array() const;    // empty for non-arrays
  const Object& object() const;  // empty for non-objects
  Array& mutable_array();        // turns the value into an array if it is not one
  Object& mutable_object();      // turns the value into an object if it is not one
  // Appends a member (objects) or an element (arrays); returns *this for chaining.
  Value& set(std::string key, Value value);
  Value& push_back(Value value);

  // Compact JSON (reals in their shortest round-trip form, a real with an integral value keeps
  // its ".0"), or indented by two spaces with `pretty`.
  std::string to_json(bool pretty = false) const;
  // Parses JSON text; nullopt (and `error`) when it is not valid JSON.
  static std::optional<Value> parse_json(std::string_view text, std::string* error = nullptr);

  friend bool operator==(const Value& a, const Value& b);

 private:
  std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string, Array,
               Object>
      data_;
};

struct Value::Member {
  std::string key;
  Value value;
  friend bool operator==(const Member&, const Member&) = default;
};

inline Value::Value() = default;
inline Value::Value(std::nullptr_t) {}
inline Value::Value(bool b) : data_(b) {}
inline Value::Value(int i) : data_(std::int64_t{i}) {}
inline Value::Value(std::int64_t i) : data_(i) {}
inline Value::Value(double d) : data_(d) {}
inline Value::Value(std::string s) : data_(std::move(s)) {}
inline Value::Value(std::string_view s) : data_(std::string(s)) {}
inline Value::Value(const char* s) : data_(std::string(s)) {}
inline Value::Value(Array a) : data_(std::move(a)) {}
inline Value::Value(Object o) : data_(std::move(o)) {}
inline Value::Value(const Value& other) = default;
inline Value::Value(Value&& other) noexcept = default;
inline Value& Value::operator=(const Value& other) = default;
inline Value& Value::operator=(Value&& other) noexcept = default;
inline Value::~Value() = default;

}  // namespace greekwire
