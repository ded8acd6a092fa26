// JsonWriter: the Writer interface (codec/writer.hpp) producing compact JSON text, byte for
// byte the way Deribit formats it: no whitespace, strings escaped per RFC 8259 with UTF-8
// passed through (invalid UTF-8 replaced by U+FFFD), doubles in their shortest round-trip form
// (codec/text.hpp: "0.0005", "202.8", "21", "7.766e-05"; NaN and infinities as null), integers
// exact, binary values as base64 strings (JSON has no bytes; Deribit sends none).
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codec/text.hpp"
#include "codec/writer.hpp"

namespace gw::codec {

class JsonWriter {
 public:
  static constexpr bool kText = true;

  // Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string& out) : out_(&out) {}

  void begin_object(std::size_t count) {
    check_.open(count, true);
    open('{');
  }
  void end_object() {
    check_.close(true);
    close('}');
  }
  void begin_array(std::size_t count) {
    check_.open(count, false);
    open('[');
  }
  void end_array() {
    check_.close(false);
    close(']');
  }

  void key(std::string_view name) {
    check_.key();
    separate();
    append_json_string(*out_, name);
    out_->push_back(':');
    comma_ = false;
  }

  void value(std::string_view s) {
    begin_value();
    append_json_string(*out_, s);
  }
  // Without this, a string literal would convert to bool (a standard conversion) rather than to
  // string_view (a user-defined one).
  void value(const char* s) { value(std::string_view(s)); }
  void value(double d) {
    begin_value();
    append_json_double(*out_, d);
  }
  void value(bool b) {
    begin_value();
    *out_ += b ? "true" : "false";
  }
  template <Integer T>
  void value(T v) {
    begin_value();
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, v);
    out_->append(digits, result.ptr);
  }
  void null() {
    begin_value();
    *out_ += "null";
  }
  // Bytes as a base64 string.
  void binary(std::span<const std::uint8_t> bytes) {
    begin_value();
    out_->push_back('"');
    append_base64(*out_, bytes);
    out_->push_back('"');
  }
  // A pre-encoded JSON value, copied verbatim. It must be one complete, valid JSON value
  // (checked in debug builds only).
  void raw_json(std::string_view json);

  std::string& buffer() { return *out_; }

 private:
  void separate() {
    if (comma_) out_->push_back(',');
  }
  void begin_value() {
    check_.value();
    separate();
    comma_ = true;
  }
  void open(char c) {
    separate();
    out_->push_back(c);
    comma_ = false;
  }
  void close(char c) {
    out_->push_back(c);
    comma_ = true;
  }

  std::string* out_;
  bool comma_ = false;  // the next key or value needs a ',' before it
  [[no_unique_address]] detail::StructureCheck check_;
};

static_assert(Writer<JsonWriter>);

}  // namespace gw::codec
