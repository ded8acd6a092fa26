// JSON-RPC messages as Deribit sends them, as templates over the writer (codec/writer.hpp), so
// that each is written identically in JSON and in MessagePack. Member order is Deribit's:
//
//   {"jsonrpc":"2.0","id":<id>,"result":<...>,"usIn":..,"usOut":..,"usDiff":..,"testnet":false}
//   {"jsonrpc":"2.0","id":<id>,"error":{"code":..,"message":"..","data":..},"usIn":..,...}
//   {"jsonrpc":"2.0","method":"subscription","params":{"channel":"..","data":<...>}}
//   {"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}
//
// A response to a request without an id has no "id" member (Deribit does the same, also for
// text that is not JSON). The callbacks (`write_value`, `write_data`, ...) are called with the
// writer and must write exactly one value.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/errors.hpp"
#include "codec/request.hpp"
#include "codec/writer.hpp"

namespace gw::codec {

// Deribit's timing members: microseconds since the epoch when the request arrived and when the
// response left; usDiff is their difference.
struct ResponseMeta {
  std::int64_t us_in = 0;
  std::int64_t us_out = 0;
  bool testnet = false;
};

// The request's id: in JSON its original text, byte for byte; in MessagePack its value.
template <Writer W>
void write_id(W& w, const RequestId& id) {
  assert(id.present());
  if constexpr (W::kText) {
    w.raw_json(id.json);
  } else {
    switch (id.kind) {
      case IdKind::int64:
        w.value(id.int64);
        return;
      case IdKind::uint64:
        w.value(id.uint64);
        return;
      case IdKind::string:
        w.value(id.string);
        return;
      case IdKind::null:
      case IdKind::absent:
        w.null();
        return;
    }
  }
}

namespace detail {

template <Writer W>
void begin_response(W& w, const RequestId& id) {
  w.begin_object(id.present() ? 7 : 6);
  w.key("jsonrpc");
  w.value("2.0");
  if (id.present()) {
    w.key("id");
    write_id(w, id);
  }
}

template <Writer W>
void end_response(W& w, const ResponseMeta& meta) {
  w.key("usIn");
  w.value(meta.us_in);
  w.key("usOut");
  w.value(meta.us_out);
  w.key("usDiff");
  w.value(meta.us_out - meta.us_in);
  w.key("testnet");
  w.value(meta.testnet);
  w.end_object();
}

}  // namespace detail

template <Writer W, class F>
void write_result(W& w, const RequestId& id, const ResponseMeta& meta, F&& write_value) {
  detail::begin_response(w, id);
  w.key("result");
  write_value(w);
  detail::end_response(w, meta);
}

// An error with a "data" member written by `write_data`.
template <Writer W, class F>
void write_error(W& w, const RequestId& id, const ResponseMeta& meta, const ErrorCode& error,
                 F&& write_data) {
  detail::begin_response(w, id);
  w.key("error");
  w.begin_object(3);
  w.key("code");
  w.value(error.code);
  w.key("message");
  w.value(error.message);
  w.key("data");
  write_data(w);
  w.end_object();
  detail::end_response(w, meta);
}

// An error without data.
template <Writer W>
void write_error(W& w, const RequestId& id, const ResponseMeta& meta, const ErrorCode& error) {
  detail::begin_response(w, id);
  w.key("error");
  w.begin_object(2);
  w.key("code");
  w.value(error.code);
  w.key("message");
  w.value(error.message);
  w.end_object();
  detail::end_response(w, meta);
}

// The answer to a request that did not parse (see rpc_error()), with its data string.
template <Writer W>
void write_error(W& w, const RequestId& id, const ResponseMeta& meta, const RpcError& error) {
  write_error(w, id, meta, ErrorCode{error.code, error.message},
              [&](W& inner) { inner.value(error.data); });
}

// -32602 Invalid params naming the parameter, in Deribit's shape:
// "data":{"reason":"<reason>","param":"<param>"}.
template <Writer W>
void write_invalid_params(W& w, const RequestId& id, const ResponseMeta& meta,
                          std::string_view param, std::string_view reason) {
  write_error(w, id, meta, errors::invalid_params, [&](W& inner) {
    inner.begin_object(2);
    inner.key("reason");
    inner.value(reason);
    inner.key("param");
    inner.value(param);
    inner.end_object();
  });
}

// The reason for a Params accessor's failure: "missing", "wrong format", "out of range".
constexpr std::string_view param_reason(ParamStatus status) {
  switch (status) {
    case ParamStatus::ok:
      return "ok";
    case ParamStatus::missing:
      return "missing";
    case ParamStatus::wrong_type:
      return "wrong format";
    case ParamStatus::out_of_range:
      return "out of range";
  }
  return "invalid";
}

template <Writer W>
void write_param_error(W& w, const RequestId& id, const ResponseMeta& meta, std::string_view param,
                       ParamStatus status) {
  write_invalid_params(w, id, meta, param, param_reason(status));
}

template <Writer W, class F>
void write_notification(W& w, std::string_view channel, F&& write_data) {
  w.begin_object(3);
  w.key("jsonrpc");
  w.value("2.0");
  w.key("method");
  w.value("subscription");
  w.key("params");
  w.begin_object(2);
  w.key("channel");
  w.value(channel);
  w.key("data");
  write_data(w);
  w.end_object();
  w.end_object();
}

namespace detail {

template <Writer W>
void write_heartbeat_of_type(W& w, std::string_view type) {
  w.begin_object(3);
  w.key("jsonrpc");
  w.value("2.0");
  w.key("method");
  w.value("heartbeat");
  w.key("params");
  w.begin_object(1);
  w.key("type");
  w.value(type);
  w.end_object();
  w.end_object();
}

}  // namespace detail

// Sent every heartbeat interval after public/set_heartbeat.
template <Writer W>
void write_heartbeat(W& w) {
  detail::write_heartbeat_of_type(w, "heartbeat");
}

// Asks the client to answer with public/test (Deribit closes the connection otherwise).
template <Writer W>
void write_test_request(W& w) {
  detail::write_heartbeat_of_type(w, "test_request");
}

// A request, for our clients and load generators: {"jsonrpc":"2.0","id":..,"method":..,
// "params":<...>}.
template <Writer W, class F>
void write_request(W& w, std::int64_t id, std::string_view method, F&& write_params) {
  w.begin_object(4);
  w.key("jsonrpc");
  w.value("2.0");
  w.key("id");
  w.value(id);
  w.key("method");
  w.value(method);
  w.key("params");
  write_params(w);
  w.end_object();
}

}  // namespace gw::codec
