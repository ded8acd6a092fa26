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
    call.http_method = "POST";
    call.uri = "/api/v2/" + std::string(method);
    call.body = call.request;
    call.peer = session->peer;
    call.connection_id = edge_connection_id(session->id);
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
  call.connection_id = edge_connection_id(session.id);
  session.awaiting_grant = true;
  session.forward_authorization = credentials.authorization;
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
  const auto identity = authenticate_handshake(
      *auth_, call.authorization, {}, {call.http_method, call.uri, {}}, caller, now_us() / 1000);
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
    Reply reply;
    reply.thread = thread;
    reply.is_http = true;
    reply.us_in = now_us();
    reply.forwarded = std::make_shared<Reply::Forwarded>();
    reply.forwarded->done = std::move(done);
    reply.forwarded->connection_id = call.connection_id;
    reply.forwarded->rate_limited = call.rate_limited;
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

}  // namespace gw::gateway
