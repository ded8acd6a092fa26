// Errors of the greekwire SDK and Result<T>, a value or an Error.
//
// An Error is either the server's JSON-RPC error (kind `rpc`: Deribit's code, message and data)
// or something that happened on our side of the wire (could not connect, TLS, an HTTP status
// instead of the WebSocket upgrade, a timeout, the connection dropped).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "greekwire/value.hpp"

namespace greekwire {

enum class ErrorKind : std::uint8_t {
  rpc,               // the server answered with a JSON-RPC error: code, message, data
  timeout,           // no answer within the request's timeout
  disconnected,      // the connection dropped before the answer came
  unreachable,       // the TCP connect failed (refused, unreachable), or the host is unknown
  tls,               // the TLS handshake failed (message: which certificate, why)
  http_status,       // the server answered HTTP http_status instead of 101 (body: what it said)
  handshake,         // the WebSocket handshake broke the protocol
  protocol,          // the server sent something we cannot decode
  invalid_argument,  // a bad URL, params that are not a JSON object, an unsupported option
  closed,            // the connection was stopped by the application
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::rpc;
  int code = 0;         // rpc: Deribit's error code (13004, -32601, ...)
  std::string message;  // rpc: Deribit's message ("invalid_credentials"); else what happened
  Value data;           // rpc: the error's data member (null when absent)
  int http_status = 0;  // http_status: the status the server answered with
  std::string body;     // http_status: the start of the response body

  // One line for people: "13004 invalid_credentials (wrong client_id or client_secret)".
  std::string describe() const;
};

// What a Deribit error code means, in a few words ("" for codes we do not know).
std::string_view error_meaning(int code);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Only when ok() / !ok().
  const T& value() const& { return std::get<0>(data_); }
  T& value() & { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  const Error& error() const { return std::get<1>(data_); }
  const T* operator->() const { return &value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Error> data_;
};

// Result<void>: success or an Error.
struct Done {};
using Status = Result<Done>;

}  // namespace greekwire
