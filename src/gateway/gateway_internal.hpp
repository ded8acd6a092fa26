// Shared by gateway.cpp and methods.cpp: the session, the per-thread state, and how an answer
// is written (once, in the session's encoding) and sent back.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codec/json_writer.hpp"
#include "codec/msgpack_writer.hpp"
#include "codec/protobuf_writer.hpp"
#include "codec/response.hpp"
#include "gateway/gateway.hpp"
#include "gateway/http_auth.hpp"
#include "gateway/order_audit.hpp"
#include "gateway/rate_limit.hpp"
#include "http/response.hpp"

namespace gw::gateway {

using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

inline std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Gateway::Session {
  std::uint64_t id = 0;
  ws::WebSocket* socket = nullptr;
  std::size_t thread = 0;
  Encoding encoding = Encoding::json;
  std::unordered_map<std::string, ChannelSpec, StringHash, std::equal_to<>> channels;
  // Channels whose notifications flow (a snapshot, if any, was sent), each with the session's
  // index in IoThread::subscribers[channel], so that leaving a list of 10,000 is O(1).
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> live;
  StringSet stale;  // book channels that lost notifications to backpressure: resync on drain
  int heartbeat_s = 0;
  bool test_request_pending = false;
  net::Timer heartbeat;
  bool authenticated = false;
  std::optional<Identity> identity;  // after public/auth, or from the handshake (JWT, mTLS)
  std::string peer;                  // the client's IP address
  SessionRateLimiter limiter{RateLimits{}, now_us() / 1000};  // Deribit's credit pools
  bool counted = false;  // holds a slot of the per-IP connection limit
  // Cancel-on-disconnect: this connection's own setting, if it made one (otherwise its
  // accounts' settings apply), and the accounts whose orders were placed over it.
  std::optional<bool> cancel_on_disconnect;
  std::vector<std::pair<AccountRowId, std::string>> order_accounts;  // id, name
  bool disconnect_handled = false;  // its orders were cancelled (or kept) already
  bool corked = false;              // in IoThread::corked during a fan-out pass
  // An edge: what authenticates this connection's requests at the venue ("Bearer <token>"
  // after a forwarded public/auth).
  std::string forward_authorization;
  std::string forward_certificate;  // ... or the client certificate's fingerprint (mTLS)
  // ... whether it sent the venue anything (its close is then reported to the venue).
  bool at_venue = false;
  // ... and while its public/auth is at the venue, the requests that came after it.
  bool awaiting_grant = false;
  std::vector<std::string> held;
  // Backpressure: armed when a notification is first dropped, cancelled when the backlog is
  // back under half the cap; if it fires first, the session is closed (slow-subscriber
  // timeout).
  net::Timer slow_timer;
};

// Where and how to answer one request; copyable, so a venue callback can carry it back.
struct Gateway::Reply {
  std::size_t thread = 0;
  std::uint64_t session = 0;  // WebSocket requests
  ws::HttpReply http;         // HTTP twins
  bool is_http = false;
  Encoding encoding = Encoding::json;
  // protobuf: the member of Envelope.result the method's result is (protobuf_members.hpp).
  const codec::protobuf::Field* result_member = nullptr;
  std::int64_t us_in = 0;
  codec::IdKind id_kind = codec::IdKind::absent;
  std::string id_json;
  std::int64_t id_int64 = 0;
  std::uint64_t id_uint64 = 0;
  std::string id_string;
  // Order actions: their audit record, written with the answer (order_audit.hpp).
  std::shared_ptr<OrderAuditTrail> audit;
  // A request forwarded by an edge (is_http too): the answer goes to `forwarded` instead of a
  // socket, with a token grant's identity.
  struct Forwarded {
    ForwardDone done;
    std::uint64_t connection_id = 0;
    bool rate_limited = false;
    std::string certificate_sha256;  // the edge connection's client certificate
    std::string access_token;
    std::optional<Identity> identity;
  };
  std::shared_ptr<Forwarded> forwarded;

  void set_id(const codec::RequestId& id) {
    id_kind = id.kind;
    id_json = std::string(id.json);
    id_int64 = id.int64;
    id_uint64 = id.uint64;
    id_string = std::string(id.string);
  }
  codec::RequestId id() const {
    codec::RequestId id;
    id.kind = id_kind;
    id.json = id_json;
    id.int64 = id_int64;
    id.uint64 = id_uint64;
    id.string = id_string;
    return id;
  }
};

// Adds the identity's account to a connection's order accounts (cancel-on-disconnect).
void remember_order_account(std::vector<std::pair<AccountRowId, std::string>>& accounts,
                            const Identity& identity);

struct Gateway::Call {
  Reply reply;
  Session* session = nullptr;  // null for HTTP
  const codec::Request& request;
  // HTTP twins: what authenticate_http() needs (views into the exchange, valid during the call).
  std::string_view http_authorization = {};
  std::string_view http_method = {};
  std::string_view http_uri = {};
  std::string_view http_body = {};
  std::string_view peer = {};
  std::uint64_t connection_id = 0;  // the WebSocket connection (local or an edge's); 0: HTTP
  const codec::Params& params() const { return request.params; }
};

struct Gateway::IoThread {
  std::unordered_map<std::uint64_t, Session*> sessions;
  std::unordered_map<std::string, std::vector<Session*>, StringHash, std::equal_to<>> subscribers;
  codec::RequestParser parser;
  std::string out;
  // Fan-out. The publisher appends to the inbox and posts a wake-up only when it was empty, so
  // whatever piles up while this thread is busy is delivered in one pass (one system call per
  // subscriber per pass: the sockets are corked during it). Vectors keep their capacity.
  std::mutex inbox_mutex;
  std::vector<Delivery> inbox;
  std::vector<Delivery> delivering;
  std::vector<Session*> corked;
  std::vector<std::pair<Session*, const std::string*>> lagging;
};

// Writes a message into a scratch buffer in the reply's encoding. `member`: in protobuf, the
// typed member the message's result or data is (ProtobufWriter::choose).
template <class F>
void write_encoded(std::string& out, Encoding encoding, F&& write,
                   const codec::protobuf::Field* member = nullptr) {
  out.clear();
  switch (encoding) {
    case Encoding::msgpack: {
      codec::MsgpackWriter w(out);
      write(w);
      return;
    }
    case Encoding::protobuf: {
      codec::ProtobufWriter w(out);
      w.choose(member);
      write(w);
      return;
    }
    case Encoding::json:
      break;
  }
  codec::JsonWriter w(out);
  write(w);
}

template <class F>
void Gateway::respond(const Reply& reply, F&& write_value) {
  IoThread& io = *io_[reply.thread];
  const codec::ResponseMeta meta{reply.us_in, now_us(), false};
  const codec::RequestId id = reply.id();
  write_encoded(
      io.out, reply.is_http ? Encoding::json : reply.encoding,
      [&](auto& w) { codec::write_result(w, id, meta, write_value); }, reply.result_member);
  send_bytes(reply, io.out, false);
}

template <class Result, class Then>
std::function<void(const Result&)> Gateway::back_on_io(const Reply& reply, Then then) {
  return [this, reply, then = std::move(then)](const Result& result) {
    auto copy = std::make_shared<Result>(result);
    on_thread(reply, [then, copy] { then(*copy); });
  };
}

}  // namespace gw::gateway
