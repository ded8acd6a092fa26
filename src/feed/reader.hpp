// Reading a Value object's members with errors that name them (translate.cpp and
// translate_ours.cpp): internal to the feed layer.
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include "greekwire/value.hpp"

namespace gw::feed::detail {

using greekwire::Value;

// Reads the members of one object; the first problem is kept in `error` (prefixed with what
// the object is) and every later read is a no-op, so that a translation reads all it needs and
// checks ok() once.
class Reader {
 public:
  Reader(const Value& object, std::string_view what, std::string* error)
      : object_(object), what_(what), error_(error) {
    if (!object.is_object()) fail("", "an object");
  }

  bool ok() const { return ok_; }

  // A finite number. Missing: `fallback` unless required. null: 0 when `nullable` (Deribit's
  // "not known yet"), else an error.
  double number(std::string_view key, bool required = false, bool nullable = true,
                double fallback = 0) {
    const Value* v = find(key, required);
    if (v == nullptr) return fallback;
    if (v->is_null() && nullable) return 0;
    if (!v->is_number() || !std::isfinite(v->as_double())) {
      fail(key, nullable ? "a finite number or null" : "a finite number");
      return 0;
    }
    return v->as_double();
  }

  std::int64_t integer(std::string_view key, bool required = true, std::int64_t fallback = 0) {
    const Value* v = find(key, required);
    if (v == nullptr) return fallback;
    if (!integral(*v) || v->type() == Value::Type::unsigned_integer) {
      fail(key, "an integer");
      return 0;
    }
    return v->as_int();
  }

  std::uint64_t unsigned_integer(std::string_view key, bool required = true) {
    const Value* v = find(key, required);
    if (v == nullptr) return 0;
    if (!integral(*v) || (v->type() != Value::Type::unsigned_integer && v->as_int() < 0)) {
      fail(key, "a non-negative integer");
      return 0;
    }
    return v->as_uint();
  }

  std::string_view text(std::string_view key, bool required = true) {
    const Value* v = find(key, required);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      fail(key, "a string");
      return {};
    }
    return v->as_string();
  }

  // A member that must be an object or an array (nullptr when absent and not required).
  const Value* nested(std::string_view key, Value::Type type, bool required = false) {
    const Value* v = find(key, required);
    if (v == nullptr || v->type() == type) return v;
    fail(key, type == Value::Type::array ? "an array" : "an object");
    return nullptr;
  }

  bool boolean(std::string_view key, bool fallback) {
    const Value* v = find(key, false);
    if (v == nullptr) return fallback;
    if (!v->is_bool()) fail(key, "true or false");
    return v->as_bool(fallback);
  }

  // A nested reader failed and said why: this object fails with its message.
  void fail_nested() { ok_ = false; }

  void fail(std::string_view key, std::string_view expected) {
    if (!ok_) return;
    ok_ = false;
    if (error_ == nullptr) return;
    *error_ = std::string(what_);
    *error_ += key.empty() ? std::string(" must be ") : ": '" + std::string(key) + "' must be ";
    *error_ += expected;
  }

 private:
  // Integers, and reals with an integral value in int64 range (a MessagePack float64 1e12).
  static bool integral(const Value& v) {
    if (v.is_integer()) return true;
    if (v.type() != Value::Type::real) return false;
    const double d = v.as_double();
    return std::isfinite(d) && d == std::trunc(d) && std::abs(d) < 9.2e18;
  }

  const Value* find(std::string_view key, bool required) {
    if (!ok_) return nullptr;
    const Value* v = object_.find(key);
    if (v == nullptr && required) fail(key, "present");
    return v;
  }

  const Value& object_;
  std::string_view what_;
  std::string* error_;
  bool ok_ = true;
};

inline void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

}  // namespace gw::feed::detail
