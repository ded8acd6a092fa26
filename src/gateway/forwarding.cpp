// Scale-out (docs/SCALE-OUT.md): an edge forwards what needs the venue, the venue answers it.
//
// Edge: private methods and the token grants go to the venue through GatewayConfig::forward,
// after the edge charged them to the session's credit pools; the answer (JSON) is relayed in the
// session's encoding. A grant from public/auth authenticates the edge's connection too (with the
// identity the venue reported), so that raw book channels and scopes work on the edge, and later
// requests carry "Bearer <token>" to the venue. Nothing is retried: a request reaches the venue
// at most once, and one the venue does not answer in time is answered 13028
// temporarily_unavailable (its outcome is then unknown: an order may have been placed).
//
// Venue: a forwarded request is answered like an HTTP twin request, on an I/O thread, with the
// edge's connection id standing in for the local connection (tokens of scope "connection").
#include <simdjson.h>

#include <algorithm>

#include "codec/json_transcode.hpp"
#include "gateway/gateway_internal.hpp"
#include "gateway/protobuf_members.hpp"

namespace gw::gateway {

bool Gateway::forwarded_method(std::string_view method) {
  if (method == "public/auth" || method == "public/fork_token" ||
      method == "public/exchange_token") {
    return true;
  }
  // Subscriptions stay on the edge: its channels are the mirror's.
  return method.starts_with("private/") && method != "private/subscribe" &&
         method != "private/unsubscribe" && method != "private/unsubscribe_all";
}

void Gateway::forward(const Reply& reply, Session* session, std::string_view method,
                      std::string_view text, const HttpContext* http) {
  ForwardedCall call;
  call.request = std::string(text);
  call.rate_limited = session != nullptr;
  if (http != nullptr) {
    call.authorization = std::string(http->authorization);
    call.http_method = std::string(http->method);
    call.uri = std::string(http->uri);
    call.body = std::string(http->body);
    call.peer = std::string(http->peer);
  } else if (session != nullptr) {
    call.authorization = session->forward_authorization;
    call.certificate_sha256 = session->forward_certificate;
    call.http_method = "POST";
    call.uri = "/api/v2/" + std::string(method);
    call.body = call.request;
    call.peer = session->peer;
    call.connection_id = edge_connection_id(session->id);
    session->at_venue = true;
  }
  if (session != nullptr && method == "public/auth") session->awaiting_grant = true;
  metrics_.forwarded.fetch_add(1, std::memory_order_relaxed);
  config_.forward(
      std::move(call), [this, reply, method = std::string(method)](ForwardedAnswer answer) mutable {
        on_thread(reply,
                  [this, reply, method = std::move(method), answer = std::move(answer)]() mutable {
                    relay_answer(reply, method, answer);
                  });
      });
}

void Gateway::relay_answer(const Reply& reply, const std::string& method, ForwardedAnswer& answer) {
  Session* session = reply.is_http ? nullptr : find_session(reply.thread, reply.session);
  // Whatever the answer, the requests held behind a public/auth go on after it.
  struct Release {
    Gateway& gateway;
    Session* session;
    bool grant;
    ~Release() {
      if (session != nullptr && grant) gateway.release_held(*session);
    }
  } release{*this, session, method == "public/auth"};
  if (!answer.delivered) {
    metrics_.forward_failures.fetch_add(1, std::memory_order_relaxed);
    respond_error(reply, codec::errors::temporarily_unavailable, answer.reason);
    return;
  }
  if (session != nullptr && !answer.is_error) {
    if (method == "public/auth" && answer.identity) {
      session->identity = std::move(answer.identity);
      session->authenticated = true;
      session->forward_authorization = "Bearer " + answer.access_token;
    } else if (method == "private/logout") {
      session->identity.reset();
      session->authenticated = false;
      session->forward_authorization.clear();
    }
  }
  // Deribit: a logout closes the connection gracefully, once answered.
  struct CloseAfterLogout {
    Session* session;
    ~CloseAfterLogout() {
      if (session != nullptr) session->socket->close(1000, "logout");
    }
  } close_after{session != nullptr && !answer.is_error && method == "private/logout" ? session
                                                                                     : nullptr};
  if (reply.is_http || reply.encoding == Encoding::json) {
    send_bytes(reply, answer.response, answer.is_error, answer.http_status);
    return;
  }
  // MessagePack and protobuf sessions: the venue answered in JSON.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(answer.response).get(root) != simdjson::SUCCESS) {
    respond_error(reply, codec::errors::temporarily_unavailable, "malformed answer from the venue");
    return;
  }
  IoThread& io = *io_[reply.thread];
  write_encoded(
      io.out, reply.encoding, [&](auto& w) { codec::transcode_json(w, root); },
      reply.result_member);
  send_bytes(reply, io.out, answer.is_error);
}

// At most this many requests wait behind a public/auth; more are refused (10028).
constexpr std::size_t kMaxHeldRequests = 256;

void Gateway::hold_request(Session& session, std::string_view text) {
  if (session.held.size() < kMaxHeldRequests) {
    session.held.emplace_back(text);
    return;
  }
  Reply reply;
  reply.thread = session.thread;
  reply.session = session.id;
  reply.encoding = session.encoding;
  reply.us_in = now_us();
  respond_error(reply, codec::errors::too_many_requests, "requests held behind public/auth");
}

// Runs the held requests in order; one of them may be another public/auth, which holds the
// rest again.
void Gateway::release_held(Session& session) {
  session.awaiting_grant = false;
  std::vector<std::string> held = std::move(session.held);
  session.held.clear();
  const std::uint64_t id = session.id;
  const std::size_t thread = session.thread;
  for (std::size_t i = 0; i < held.size(); ++i) {
    Session* s = find_session(thread, id);
    if (s == nullptr || !s->socket->is_open()) return;  // closed meanwhile
    if (s->awaiting_grant) {
      s->held.insert(s->held.begin(), std::make_move_iterator(held.begin() + i),
                     std::make_move_iterator(held.end()));
      return;
    }
    Reply reply;
    reply.thread = thread;
    reply.session = id;
    reply.encoding = s->encoding;
    reply.us_in = now_us();
    handle_text(thread, s, held[i], reply);
  }
}

void Gateway::deliver_forwarded(std::string_view route, std::string_view notification) {
  const std::size_t bar = route.find('|');
  const auto spec = parse_channel(route.substr(bar == std::string_view::npos ? 0 : bar + 1));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (!spec || parser.parse(notification).get(root) != simdjson::SUCCESS) return;
  auto message = std::make_shared<Notification>();
  message->channel = std::string(route);
  // Every encoding: private notifications are few, and each is made once for all threads.
  std::string out;
  for (std::size_t e = 0; e < kEncodings; ++e) {
    const auto encoding = static_cast<Encoding>(e);
    write_encoded(
        out, encoding, [&](auto& w) { codec::transcode_json(w, root); },
        encoding == Encoding::protobuf ? data_member(*spec) : nullptr);
    message->frames[e] = std::make_shared<ws::PreparedMessage>(
        is_binary(encoding) ? ws::MessageType::binary : ws::MessageType::text,
        std::span(reinterpret_cast<const std::uint8_t*>(out.data()), out.size()));
  }
  for (std::size_t thread = 0; thread < io_.size(); ++thread) {
    std::vector<Delivery> deliveries{{message, 0}};
    take_deliveries(thread, deliveries);
  }
}

// Unique across edges as long as session ids are below 2^40 and edges draw different 24-bit
// ids (GatewayConfig::edge_id: random unless configured).
std::uint64_t Gateway::edge_connection_id(std::uint64_t session_id) const {
  return (static_cast<std::uint64_t>(config_.edge_id) << 40) | (session_id & ((1ull << 40) - 1));
}

// An edge: a connection that brought credentials (Authorization: a token, Basic, a signature,
// a JWT) is open, its requests held, until the venue says whom they identify; credentials the
// venue refuses close it with 1008 (a local gateway would have answered the handshake 401).
void Gateway::forward_handshake(Session& session, const ForwardedCredentials& credentials) {
  ForwardedCall call;
  call.handshake = true;
  call.authorization = credentials.authorization;
  call.http_method = credentials.method;
  call.uri = credentials.target;
  call.peer = session.peer;
  call.certificate_sha256 = credentials.certificate_sha256;
  call.connection_id = edge_connection_id(session.id);
  session.awaiting_grant = true;
  session.forward_authorization = credentials.authorization;
  session.forward_certificate = credentials.certificate_sha256;
  Reply reply;
  reply.thread = session.thread;
  reply.session = session.id;
  config_.forward(std::move(call), [this, reply](ForwardedAnswer answer) {
    on_thread(reply, [this, reply, answer = std::move(answer)]() mutable {
      Session* s = find_session(reply.thread, reply.session);
      if (s == nullptr) return;
      if (answer.delivered && !answer.is_error && answer.identity) {
        s->identity = std::move(answer.identity);
        s->authenticated = true;
        release_held(*s);
        return;
      }
      s->held.clear();
      s->awaiting_grant = false;
      s->socket->close(1008, answer.delivered ? "invalid credentials: " + answer.response
                                              : "the venue cannot check credentials now");
    });
  });
}

// The venue's side of forward_handshake: the check its own on_upgrade makes.
void Gateway::answer_handshake(ForwardedCall call, const ForwardDone& done) {
  const Caller caller{call.peer, call.connection_id, {}};
  const auto identity =
      authenticate_handshake(*auth_, call.authorization, call.certificate_sha256,
                             {call.http_method, call.uri, {}}, caller, now_us() / 1000);
  ForwardedAnswer answer;
  answer.delivered = true;
  if (identity && *identity) {
    fund_once(**identity);
    answer.identity = **identity;
    answer.response = "ok";
  } else {
    answer.is_error = true;
    answer.http_status = 401;
    answer.response = !identity ? std::string("no credentials")
                      : identity->error().reason.empty()
                          ? std::string(identity->error().code.message)
                          : identity->error().reason;
  }
  done(std::move(answer));
}

void Gateway::call_forwarded(ForwardedCall call, ForwardDone done) {
  const std::size_t thread =
      next_forward_thread_.fetch_add(1, std::memory_order_relaxed) % server_->threads();
  server_->post(thread, [this, thread, call = std::move(call), done = std::move(done)]() mutable {
    if (call.handshake) {
      answer_handshake(std::move(call), done);
      return;
    }
    if (call.disconnect) {
      remote_connection_closed(call.connection_id);
      ForwardedAnswer answer;
      answer.delivered = true;
      answer.response = "ok";
      done(std::move(answer));
      return;
    }
    Reply reply;
    reply.thread = thread;
    reply.is_http = true;
    reply.us_in = now_us();
    reply.forwarded = std::make_shared<Reply::Forwarded>();
    reply.forwarded->done = std::move(done);
    reply.forwarded->connection_id = call.connection_id;
    reply.forwarded->rate_limited = call.rate_limited;
    reply.forwarded->certificate_sha256 = std::move(call.certificate_sha256);
    metrics_.forwarded.fetch_add(1, std::memory_order_relaxed);
    const HttpContext context{call.authorization, call.http_method, call.uri, call.body, call.peer};
    handle_text(thread, nullptr, call.request, reply, &context);
  });
}

// The venue's side of send_bytes for a forwarded request.
void Gateway::answer_forwarded(const Reply& reply, const std::string& bytes, bool is_error,
                               int http_status) {
  Reply::Forwarded& f = *reply.forwarded;
  if (!f.done) return;  // answered already
  ForwardedAnswer answer;
  answer.delivered = true;
  answer.response = bytes;
  answer.is_error = is_error;
  answer.http_status = is_error ? http_status : 200;
  answer.access_token = std::move(f.access_token);
  answer.identity = std::move(f.identity);
  ForwardDone done = std::move(f.done);
  f.done = nullptr;
  done(std::move(answer));
}

// ---- cancel-on-disconnect across edges ----------------------------------------------------------
//
// The venue does not see an edge's connections close: the edge reports each close of a
// connection that sent it requests (a forwarded call with "disconnect": true), and heartbeats
// every second; an edge that stops says so, and one not heard from for a few seconds (killed, or
// cut off from NATS while the venue is not) has its connections closed at the venue all at once
// and is told so (it then closes them for real, so that no client goes on believing its
// cancel-on-disconnect holds).

void Gateway::report_close(const Session& session) {
  if (!config_.forward || !session.at_venue) return;
  ForwardedCall call;
  call.disconnect = true;
  call.connection_id = edge_connection_id(session.id);
  call.peer = session.peer;
  config_.forward(std::move(call), [](ForwardedAnswer) {});  // nothing to wait for
}

void Gateway::close_forwarded_sessions() {
  for (std::size_t thread = 0; thread < io_.size(); ++thread) {
    server_->post(thread, [this, thread] {
      std::vector<ws::WebSocket*> sockets;
      for (const auto& [id, session] : io_[thread]->sessions) {
        if (session->at_venue) sockets.push_back(session->socket);
      }
      for (ws::WebSocket* socket : sockets) {
        socket->close(1011, "the venue lost this gateway: reconnect and authenticate again");
      }
    });
  }
}

Gateway::RemoteConnection& Gateway::remote_connection(std::uint64_t connection_id) {
  // A connection of an edge not heard from yet counts as heard now.
  edges_heard_ms_.try_emplace(static_cast<std::uint32_t>(connection_id >> 40), now_us() / 1000);
  return remote_connections_[connection_id];
}

void Gateway::remember_remote_order(std::uint64_t connection_id, const Identity& identity,
                                    std::string_view peer) {
  std::lock_guard lock(remote_mutex_);
  RemoteConnection& connection = remote_connection(connection_id);
  connection.peer = std::string(peer);
  remember_order_account(connection.order_accounts, identity);
}

void Gateway::forget_remote_connection(std::uint64_t connection_id) {
  std::lock_guard lock(remote_mutex_);
  remote_connections_.erase(connection_id);
}

void Gateway::remote_connection_closed(std::uint64_t connection_id) {
  std::optional<RemoteConnection> closed;
  {
    std::lock_guard lock(remote_mutex_);
    const auto it = remote_connections_.find(connection_id);
    if (it != remote_connections_.end()) {
      closed = std::move(it->second);
      remote_connections_.erase(it);
    }
  }
  auth_->connection_closed(connection_id);  // connection-scoped tokens never outlive it
  if (closed) {
    cancel_for_disconnect(closed->order_accounts, closed->cancel_on_disconnect, connection_id,
                          closed->peer);
  }
}

void Gateway::edge_alive(std::uint32_t edge_id) {
  std::lock_guard lock(remote_mutex_);
  edges_heard_ms_[edge_id] = now_us() / 1000;
}

void Gateway::hear_every_edge_now() {
  std::lock_guard lock(remote_mutex_);
  const std::int64_t now_ms = now_us() / 1000;
  for (auto& [edge, heard_ms] : edges_heard_ms_) heard_ms = now_ms;
}

void Gateway::drop_edge(std::uint32_t edge_id) {
  {
    std::lock_guard lock(remote_mutex_);
    edges_heard_ms_.erase(edge_id);
  }
  close_edge_connections({edge_id});
}

std::vector<std::uint32_t> Gateway::drop_silent_edges(std::int64_t silence_ms) {
  const std::int64_t now_ms = now_us() / 1000;
  std::vector<std::uint32_t> dropped;
  {
    std::lock_guard lock(remote_mutex_);
    for (auto it = edges_heard_ms_.begin(); it != edges_heard_ms_.end();) {
      if (now_ms - it->second > silence_ms) {
        dropped.push_back(it->first);
        it = edges_heard_ms_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!dropped.empty()) close_edge_connections(dropped);
  return dropped;
}

void Gateway::close_edge_connections(const std::vector<std::uint32_t>& edges) {
  std::vector<std::uint64_t> connections;
  {
    std::lock_guard lock(remote_mutex_);
    for (const auto& [id, connection] : remote_connections_) {
      const auto edge = static_cast<std::uint32_t>(id >> 40);
      if (std::find(edges.begin(), edges.end(), edge) != edges.end()) connections.push_back(id);
    }
  }
  for (const std::uint64_t id : connections) remote_connection_closed(id);
}

}  // namespace gw::gateway
