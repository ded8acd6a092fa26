// JSON-RPC 2.0 requests the way Deribit accepts them: one object per message (no batches),
// named params only, an id that is an integer or a string (or absent), parsed with simdjson.
//
// Ownership: RequestParser::parse() copies the request text into the parser's own padded
// buffer, so the caller may reuse or free its text as soon as parse() returns. Everything a
// Request holds (the id's text, the method, params and the strings read from them) points into
// the parser and stays valid until the next parse() on the same parser or its destruction.
//
// A parser is not thread-safe: keep one per thread (per event loop) and reuse it; after the
// first few requests it allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "codec/errors.hpp"

namespace gw::codec {

enum class IdKind : std::uint8_t { absent, null, int64, uint64, string };

struct RequestId {
  IdKind kind = IdKind::absent;
  // The id exactly as the client wrote it ("101" with its quotes and escapes, 42), so that the
  // JSON response echoes it byte for byte. Empty when absent.
  std::string_view json;
  std::int64_t int64 = 0;    // kind == int64
  std::uint64_t uint64 = 0;  // kind == uint64: integers above INT64_MAX
  std::string_view string;   // kind == string: unescaped

  bool present() const { return kind != IdKind::absent; }
};

enum class ParamStatus : std::uint8_t {
  ok,
  missing,       // absent, or null
  wrong_type,    // present with another JSON type
  out_of_range,  // a number that does not fit the requested type
};

template <class T>
struct Param {
  ParamStatus status = ParamStatus::missing;
  T value{};

  bool ok() const { return status == ParamStatus::ok; }
  explicit operator bool() const { return ok(); }
};

// A read-only view of a params object (or of an object nested in it). Lookups are linear in
// the number of keys, which for a request is a handful; for duplicate keys the first wins.
class Params {
 public:
  Params();  // an empty object (a request without params)

  std::size_t size() const;
  bool has(std::string_view key) const;  // present and not null
  void keys(std::vector<std::string_view>& out) const;

  Param<std::string_view> get_string(std::string_view key) const;
  // An integer token, or a double with an integral value ("interval":30.0); a fraction is the
  // wrong type, a value beyond int64 out of range.
  Param<std::int64_t> get_int64(std::string_view key) const;
  // Any number (integers are converted).
  Param<double> get_double(std::string_view key) const;
  Param<bool> get_bool(std::string_view key) const;
  Param<Params> get_object(std::string_view key) const;
  // An array of strings ("channels"), appended to `out` (cleared first; reuse it to avoid
  // allocating). A non-string element makes the whole parameter the wrong type.
  ParamStatus get_string_array(std::string_view key, std::vector<std::string_view>& out) const;
  // An array of numbers (integers are converted), appended to `out` (cleared first). A
  // non-number element makes the whole parameter the wrong type.
  ParamStatus get_double_array(std::string_view key, std::vector<double>& out) const;

 private:
  friend class RequestParser;
  // A simdjson::dom::object (a document pointer and a tape index), kept opaque so that this
  // header does not pull in simdjson.
  alignas(8) unsigned char object_[16];
  bool set_ = false;  // false: the empty object
};

struct Request {
  RequestId id;
  std::string_view method;  // unescaped
  Params params;            // empty when the request has none
  bool has_params = false;
};

enum class ParseError : std::uint8_t {
  none,
  too_large,     // longer than ParserLimits::max_bytes (not parsed at all)
  invalid_json,  // not JSON: syntax, invalid UTF-8, empty
  bad_number,    // a malformed number or one beyond 64-bit integers / doubles
  too_deep,      // nested deeper than ParserLimits::max_depth
  batch,         // a JSON array: batch requests are not supported
  not_object,    // a JSON scalar
  bad_jsonrpc,   // "jsonrpc" present but not "2.0"
  bad_id,        // an id that is not an integer, a string or null
  missing_method,
  bad_method,  // "method" not a string
  bad_params,  // "params" not an object
};

// The error response for a parse failure: Deribit's answer to text that is not JSON is
// 11050 bad_request with data "invalid json" (and no id); a JSON value that is not a valid
// request is -32600 Invalid Request. `data` is a short explanation, never empty.
struct RpcError {
  int code;
  std::string_view message;
  std::string_view data;
};
RpcError rpc_error(ParseError error);
std::string_view to_string(ParseError error);

struct ParserLimits {
  std::size_t max_bytes = 64 * 1024;  // a subscribe to 500 channels is about 20 KB
  std::size_t max_depth = 32;         // nesting of objects and arrays, the root object included
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {});
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses one request into `out` (overwritten). On a structural error (anything after
  // not_object) `out.id` still holds the id if it was valid, for the error response to echo;
  // for JSON-level errors it is absent.
  ParseError parse(std::string_view text, Request& out);

  const ParserLimits& limits() const { return limits_; }

 private:
  struct Impl;
  ParserLimits limits_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gw::codec
