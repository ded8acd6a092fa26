#include "gateway/gateway.hpp"

#include <algorithm>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <thread>

#include "gateway/gateway_internal.hpp"
#include "gateway/protobuf_members.hpp"

namespace gw::gateway {

namespace {

constexpr std::string_view kWebSocketPath = "/ws/api/v2";
constexpr std::string_view kApiPrefix = "/api/v2/";

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Query parameters become JSON params: numbers and booleans typed, everything else a string
// (Deribit's REST twin takes `?currency=BTC&kind=option&expired=false`).
void append_query_value(std::string& json, std::string_view value) {
  const bool is_bool = value == "true" || value == "false";
  bool is_number = !value.empty();
  for (std::size_t i = 0; i < value.size() && is_number; ++i) {
    const char c = value[i];
    is_number = (c >= '0' && c <= '9') || c == '.' || (i == 0 && c == '-') || c == 'e';
  }
  if (is_bool || is_number) {
    json += value;
    return;
  }
  json += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') json += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) json += c;
  }
  json += '"';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() + 0 && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// A JSON-RPC request built from an HTTP GET: the method from the path, params from the query.
std::string request_from_query(std::string_view method, std::string_view query) {
  std::string json = R"({"jsonrpc":"2.0","id":0,"method":")";
  json += method;
  json += R"(","params":{)";
  bool first = true;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string key = percent_decode(pair.substr(0, eq));
    const std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    if (!first) json += ',';
    first = false;
    json += '"';
    for (char c : key) {
      if (c == '"' || c == '\\') json += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) json += c;
    }
    json += "\":";
    append_query_value(json, value);
  }
  json += "}}";
  return json;
}

}  // namespace

void GatewayMetrics::observe_latency(std::uint64_t us) {
  std::size_t bucket = 0;
  while (bucket < kLatencyBucketsUs.size() && us > kLatencyBucketsUs[bucket]) ++bucket;
  latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us.fetch_add(us, std::memory_order_relaxed);
}

// The venue exists from construction so that a mirror's feed (relay) can list its instruments
// through venue() before start(): the market then opens with them.
Gateway::Gateway(GatewayConfig config)
    : config_(std::move(config)), venue_(std::make_unique<sim::Venue>(config_.venue)) {}

Gateway::~Gateway() {
  stop();
}

// The dashboard (docs/DASHBOARD.md): every GET and HEAD that no other route takes is a file of
// the web root. Routed last, so /healthz, /metrics and /api/v2/* keep their handlers. Files are
// read on the I/O thread: they are small, few and in the page cache, and each page load asks
// for a handful of them.
void Gateway::route_dashboard() {
  if (!config_.web_root.empty()) {
    web_files_ = std::make_unique<http::StaticFiles>(config_.web_root);
    if (!web_files_->available()) web_files_.reset();
  }
  if (!web_files_) {
    server_->route("GET", "/", [](const http::Request&) {
      return http::format_response(
          {200, {{"Content-Type", "text/html; charset=utf-8"}, {"Cache-Control", "no-cache"}}},
          "<!doctype html><title>greekwire</title><h1>greekwire</h1><p>The dashboard is not "
          "built: run <code>make build</code> (it builds <code>web/dist</code>), or start "
          "<code>greekwire serve --web-root DIR</code> with a built dashboard. The API: "
          "WebSocket <code>/ws/api/v2</code>, HTTP <code>/api/v2/public/&lt;method&gt;</code>."
          "</p>\n",
          true);
    });
    return;
  }
  auto serve_file = [this](const http::Request& request) {
    // A plain GET of the WebSocket endpoint keeps its answer: "upgrade, please".
    if (request.path() == kWebSocketPath) {
      return http::error_response(426, "this is a WebSocket endpoint",
                                  {{"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"}});
    }
    return web_files_->respond(request);
  };
  server_->route("GET", "/*", serve_file);
  server_->route("HEAD", "/*", serve_file);
}

std::string Gateway::dashboard_root() const {
  return web_files_ ? web_files_->root() : std::string();
}

void Gateway::start() {
  StoreOptions store_options;
  store_options.data_dir = config_.data_dir;
  // An edge's accounts are the venue's: its own store stays empty (and unused).
  store_options.create_demo_account = !config_.forward;
  store_options.demo_account = config_.demo_account;
  store_options.initial_balances = config_.demo_balances;
  store_ = AccountStore::open(store_options, &created_demo_);
  AuditLogOptions audit_options;
  audit_options.directory = config_.data_dir;
  audit_options.max_bytes = config_.audit_max_bytes;
  audit_options.keep_files = config_.audit_keep_files;
  audit_options.background = true;  // requests never wait for the disk
  audit_ = std::make_unique<AuditLog>(audit_options);
  auth_ = std::make_unique<Authenticator>(*store_, AuthOptions{}, audit_.get());
  connection_limiter_ = std::make_unique<ConnectionLimiter>(config_.max_connections_per_ip);
  http_ip_limits_ = std::make_unique<KeyedRateLimiter>(config_.rate_limits);
  http_account_limits_ = std::make_unique<KeyedRateLimiter>(config_.rate_limits);
  sim::Venue::Consumer& events = venue_->add_consumer();

  ws::ServerOptions options;
  options.listen = config_.listen;
  options.threads = config_.threads;
  options.tls = config_.tls;
  options.handshake.subprotocols = {kEncodingNames.begin(), kEncodingNames.end()};
  options.socket.handshake_timeout_s = config_.handshake_timeout_s;
  options.socket.idle_timeout_s = config_.idle_timeout_s;
  options.socket.ping_interval_s = config_.ping_interval_s;
  options.socket.close_timeout_s = config_.close_timeout_s;
  options.socket.protocol.max_message_size = config_.max_message_size;
  options.socket.pause_reading_above = config_.send_buffer_cap;
  if (config_.deflate) {
    options.socket.deflate.enabled = true;
    options.socket.deflate.no_context_takeover = true;  // one compressed frame for everyone
  }
  options.on_upgrade = [this](const http::Request& request, ws::WebSocket& socket) -> std::string {
    if (request.path() != kWebSocketPath) {
      return http::error_response(404, "the WebSocket API is at /ws/api/v2");
    }
    // Credentials at the handshake: Authorization (a JWT, a token, Basic, HMAC) or a client
    // certificate. None: an anonymous connection (public methods; public/auth later).
    const std::string peer = socket.peer_address();
    // The slot is released when the session closes (on_close), or below when refused.
    if (!connection_limiter_->try_acquire(peer)) {
      return http::error_response(429, "too many connections from this address");
    }
    struct Release {
      ConnectionLimiter& limiter;
      const std::string& peer;
      bool keep = false;
      ~Release() {
        if (!keep) limiter.release(peer);
      }
    } release{*connection_limiter_, peer};
    const Caller caller{peer, 0, {}};
    const std::string_view fingerprint =
        socket.tls() != nullptr && socket.tls()->peer_certificate().verified
            ? std::string_view(socket.tls()->peer_certificate().sha256_fingerprint)
            : std::string_view();
    const auto authorization = request.headers.get("Authorization");
    if (config_.forward && (authorization || !fingerprint.empty())) {
      // An edge: the venue checks the credentials once the connection is open; its requests
      // wait for the answer (forward_handshake).
      release.keep = true;
      socket.user_data = new Upgrade{
          std::nullopt,
          ForwardedCredentials{std::string(authorization.value_or("")), std::string(request.method),
                               std::string(request.target), std::string(fingerprint)}};
      return {};
    }
    const auto identity =
        authenticate_handshake(*auth_, authorization.value_or(""), fingerprint,
                               {request.method, request.target, {}}, caller, now_us() / 1000);
    if (!identity || *identity) release.keep = true;
    if (!identity) return {};
    if (!*identity) {
      return http::error_response(401,
                                  identity->error().reason.empty()
                                      ? std::string(identity->error().code.message)
                                      : identity->error().reason,
                                  {{"WWW-Authenticate", "Bearer"}});
    }
    socket.user_data = new Upgrade{**identity, std::nullopt};  // taken over by on_open
    return {};
  };
  server_ = std::make_unique<ws::Server>(options, *this);
  server_->route("GET", "/healthz", [](const http::Request&) {
    return http::format_response({200, {{"Content-Type", "text/plain"}}}, "ok\n", true);
  });
  server_->route("GET", "/metrics", [this](const http::Request&) {
    return http::format_response({200, {{"Content-Type", "text/plain; version=0.0.4"}}},
                                 metrics_text(), true);
  });
  auto http_api = [this](const ws::HttpExchange& e, ws::HttpReply reply) {
    handle_http(e, std::move(reply));
  };
  server_->route_async("GET", "/api/v2/*", http_api);
  server_->route_async("POST", "/api/v2/*", http_api);
  route_dashboard();
  for (int i = 0; i < config_.threads; ++i) io_.push_back(std::make_unique<IoThread>());
  publisher_ =
      std::make_unique<Publisher>(events, directory_, static_cast<std::size_t>(config_.threads),
                                  [this](std::size_t thread, std::vector<Delivery>& deliveries) {
                                    take_deliveries(thread, deliveries);
                                  });
  publisher_->start();
  venue_->start();
  wait_for_market_open();
  server_->start();  // throws: address in use, unreadable certificates
  net::EventLoop& loop = server_->loop(0);
  sweep_timer_.set_callback([this, &loop] {
    const std::int64_t now_ms = now_us() / 1000;
    auth_->sweep(now_ms);
    http_ip_limits_->sweep(now_ms);
    http_account_limits_->sweep(now_ms);
    loop.timers().arm(sweep_timer_, loop.now_ms() + 10'000);
  });
  server_->post(0, [this, &loop] { loop.timers().arm(sweep_timer_, loop.now_ms() + 10'000); });
}

// Requests are accepted only once every listed instrument has reached the directory: a venue
// command runs after the market opened (it queues behind the listing), and records how many
// events were published by then; the publisher must have taken that many.
void Gateway::wait_for_market_open() {
  auto opened = std::make_shared<std::promise<std::uint64_t>>();
  venue_->get_instruments({}, [this, opened](const std::vector<market::Instrument>&) {
    opened->set_value(venue_->published());
  });
  auto published = opened->get_future();
  if (published.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    throw std::runtime_error("the simulated market did not open within 60 s");
  }
  const std::uint64_t target = published.get();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (publisher_->stats().events.load() < target) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("the gateway did not catch up with the market within 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void Gateway::stop() {
  if (stopped_.exchange(true) || !server_) return;
  server_->shutdown();
  server_->wait();
  // Sockets the server dropped after its grace period never reported their close: the I/O
  // threads are gone, so their sessions can be handled from here.
  for (const auto& io : io_) {
    for (const auto& [id, session] : io->sessions) cancel_orders_on_disconnect(*session);
  }
  wait_for_disconnect_cancels();  // before the venue stops taking commands
  if (venue_) venue_->stop();
  if (publisher_) publisher_->stop();
}

std::size_t Gateway::thread_of(const net::EventLoop& loop) const {
  for (std::size_t i = 0; i < server_->threads(); ++i) {
    if (&server_->loop(i) == &loop) return i;
  }
  return 0;
}

Gateway::Session* Gateway::find_session(std::size_t thread, std::uint64_t id) const {
  const auto& sessions = io_[thread]->sessions;
  const auto it = sessions.find(id);
  return it == sessions.end() ? nullptr : it->second;
}

// ---- sessions -----------------------------------------------------------------------------------

void Gateway::on_open(ws::WebSocket& socket) {
  auto* session = new Session;
  std::unique_ptr<Upgrade> upgrade(static_cast<Upgrade*>(socket.user_data));
  if (upgrade && upgrade->identity) {
    fund_once(*upgrade->identity);
    session->identity = std::move(upgrade->identity);
    session->authenticated = true;
  }
  session->peer = socket.peer_address();
  session->limiter = SessionRateLimiter(config_.rate_limits, now_us() / 1000);
  session->counted = true;  // on_upgrade took a slot of the per-IP limit
  session->id = next_session_id_.fetch_add(1, std::memory_order_relaxed);
  session->socket = &socket;
  session->thread = thread_of(socket.loop());
  session->encoding = encoding_of_subprotocol(socket.subprotocol());
  session->heartbeat.set_callback([this, session] { arm_heartbeat(*session); });
  session->slow_timer.set_callback(
      [this, session] { close_slow(*session, "too slow: not reading"); });
  socket.user_data = session;
  io_[session->thread]->sessions.emplace(session->id, session);
  metrics_.connections.fetch_add(1, std::memory_order_relaxed);
  metrics_.connections_total.fetch_add(1, std::memory_order_relaxed);
  if (upgrade && upgrade->credentials) forward_handshake(*session, *upgrade->credentials);
}

void Gateway::on_close(ws::WebSocket& socket, std::uint16_t, std::string_view) {
  auto* session = static_cast<Session*>(socket.user_data);
  if (session == nullptr) return;
  socket.user_data = nullptr;
  cancel_orders_on_disconnect(*session);
  unsubscribe_everything(*session);
  auth_->connection_closed(session->id);
  if (session->counted) connection_limiter_->release(session->peer);
  io_[session->thread]->sessions.erase(session->id);
  metrics_.connections.fetch_sub(1, std::memory_order_relaxed);
  delete session;
}

void Gateway::on_message(ws::WebSocket& socket, ws::MessageType type,
                         std::span<std::uint8_t> payload) {
  auto* session = static_cast<Session*>(socket.user_data);
  metrics_.messages_in.fetch_add(1, std::memory_order_relaxed);
  metrics_.bytes_in.fetch_add(payload.size(), std::memory_order_relaxed);
  // Requests read in the same batch as one that got the session closed (a slow one past the
  // hard cap, a rate-limited one) are not worth answering: the answers could not be sent.
  if (!socket.is_open()) return;
  Reply reply;
  reply.thread = session->thread;
  reply.session = session->id;
  reply.encoding = session->encoding;
  reply.us_in = now_us();
  if (type == ws::MessageType::binary) {
    // Requests are JSON text in every encoding (docs/PROTOCOL.md, "Encodings").
    respond_error(reply, codec::errors::bad_request, "requests are JSON text messages");
    return;
  }
  const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  // An edge waiting for the venue's answer to public/auth holds the requests that follow, so
  // that they see the connection authenticated, as they would on a single process.
  if (session->awaiting_grant) {
    hold_request(*session, text);
    return;
  }
  handle_text(session->thread, session, text, reply);
}

void Gateway::on_drain(ws::WebSocket& socket) {
  auto* session = static_cast<Session*>(socket.user_data);
  if (session != nullptr) recover_if_drained(*session);
}

void Gateway::arm_heartbeat(Session& session) {
  if (session.heartbeat_s <= 0) return;
  if (session.test_request_pending) {
    // Deribit closes a connection that did not answer test_request with public/test.
    session.socket->close(4000, "heartbeat close");
    return;
  }
  session.test_request_pending = true;
  IoThread& io = *io_[session.thread];
  write_encoded(io.out, session.encoding, [](auto& w) { codec::write_test_request(w); });
  if (is_binary(session.encoding)) {
    session.socket->send_binary(bytes_of(io.out));
  } else {
    session.socket->send_text(io.out);
  }
  net::EventLoop& loop = session.socket->loop();
  loop.timers().arm(session.heartbeat,
                    loop.now_ms() + static_cast<std::uint64_t>(session.heartbeat_s) * 1000);
}

// ---- requests -----------------------------------------------------------------------------------

void Gateway::handle_text(std::size_t thread, Session* session, std::string_view text,
                          const Reply& reply_template, const HttpContext* http) {
  IoThread& io = *io_[thread];
  codec::Request request;
  Reply reply = reply_template;
  const codec::ParseError error = io.parser.parse(text, request);
  metrics_.requests.fetch_add(1, std::memory_order_relaxed);
  if (error != codec::ParseError::none) {
    // Deribit answers what it cannot parse without an id, and keeps the socket open.
    if (request.id.present()) reply.set_id(request.id);
    const codec::RpcError rpc = codec::rpc_error(error);
    io.out.clear();
    const codec::ResponseMeta meta{reply.us_in, now_us(), false};
    const codec::RequestId id = reply.id();
    write_encoded(io.out, reply.is_http ? Encoding::json : reply.encoding,
                  [&](auto& w) { codec::write_error(w, id, meta, rpc); });
    send_bytes(reply, io.out, true);
    return;
  }
  reply.set_id(request.id);
  const std::string_view peer =
      http != nullptr ? http->peer : (session != nullptr ? std::string_view(session->peer) : "");
  reply.audit = OrderAuditTrail::begin(request.method, request.params, peer, reply.id_json);
  if (reply.encoding == Encoding::protobuf && !reply.is_http) {
    reply.result_member = result_member(request.method);
  }
  if (session != nullptr && !session->limiter.admit(request.method, now_us() / 1000)) {
    // Deribit: out of credits is 10028, and the session is terminated.
    respond_error(reply, codec::errors::too_many_requests);
    session->socket->close(1008, "rate limit exceeded");
    return;
  }
  if (config_.forward && forwarded_method(request.method)) {
    forward(reply, session, request.method, text, http);
    return;
  }
  // HTTP: public methods, and private ones answered without authenticating, use the client
  // IP's pools; the other private methods use their account's, charged in authorize().
  if (http != nullptr && !(reply.forwarded && reply.forwarded->rate_limited) &&
      !(request.method.starts_with("private/") &&
        required_scope_for_method(request.method).access != Access::none)) {
    if (!http_ip_limits_->admit(http->peer, request.method, now_us() / 1000)) {
      respond_error(reply, codec::errors::too_many_requests);
      return;
    }
  }
  Call call{std::move(reply), session, request};
  if (http != nullptr) {
    call.http_authorization = http->authorization;
    call.http_method = http->method;
    call.http_uri = http->uri;
    call.http_body = http->body;
    call.peer = http->peer;
  } else if (session != nullptr) {
    call.peer = session->peer;
  }
  if (session != nullptr) call.connection_id = session->id;
  if (call.reply.forwarded) call.connection_id = call.reply.forwarded->connection_id;
  dispatch(call);
}

void Gateway::dispatch(Call& call) {
  using Method = void (Gateway::*)(Call&);
  static const std::unordered_map<std::string_view, Method> kMethods = {
      {"public/test", &Gateway::public_test},
      {"public/get_time", &Gateway::public_get_time},
      {"public/hello", &Gateway::public_hello},
      {"public/status", &Gateway::public_status},
      {"public/get_currencies", &Gateway::public_get_currencies},
      {"public/get_instruments", &Gateway::public_get_instruments},
      {"public/get_instrument", &Gateway::public_get_instrument},
      {"public/get_index_price", &Gateway::public_get_index_price},
      {"public/get_order_book", &Gateway::public_get_order_book},
      {"public/ticker", &Gateway::public_ticker},
      {"public/subscribe", &Gateway::public_subscribe},
      {"public/unsubscribe", &Gateway::public_unsubscribe},
      {"public/unsubscribe_all", &Gateway::public_unsubscribe_all},
      {"public/set_heartbeat", &Gateway::public_set_heartbeat},
      {"public/disable_heartbeat", &Gateway::public_disable_heartbeat},
      {"public/auth", &Gateway::public_auth},
      {"public/fork_token", &Gateway::public_fork_token},
      {"public/exchange_token", &Gateway::public_exchange_token},
      {"private/logout", &Gateway::private_logout},
      {"private/subscribe", &Gateway::private_subscribe},
      {"private/unsubscribe", &Gateway::public_unsubscribe},
      {"private/unsubscribe_all", &Gateway::public_unsubscribe_all},
      {"private/buy", &Gateway::private_buy},
      {"private/sell", &Gateway::private_sell},
      {"private/edit", &Gateway::private_edit},
      {"private/cancel", &Gateway::private_cancel},
      {"private/cancel_all", &Gateway::private_cancel_all},
      {"private/cancel_all_by_instrument", &Gateway::private_cancel_all},
      {"private/cancel_all_by_currency", &Gateway::private_cancel_all},
      {"private/get_order_state", &Gateway::private_get_order_state},
      {"private/get_positions", &Gateway::private_get_positions},
      {"private/get_account_summary", &Gateway::private_get_account_summary},
      {"private/get_open_orders_by_instrument", &Gateway::private_get_open_orders_by_instrument},
      {"private/get_open_orders_by_currency", &Gateway::private_get_open_orders_by_currency},
      {"private/get_user_trades_by_instrument", &Gateway::private_get_user_trades_by_instrument},
      {"private/get_settlement_history_by_instrument", &Gateway::private_get_settlement_history},
      {"private/get_settlement_history_by_currency", &Gateway::private_get_settlement_history},
      {"private/get_position", &Gateway::private_get_position},
      {"public/get_last_trades_by_instrument", &Gateway::public_get_last_trades_by_instrument},
      {"public/get_book_summary_by_currency", &Gateway::public_get_book_summary_by_currency},
      {"private/get_risk_matrix", &Gateway::private_get_risk_matrix},
      {"private/enable_cancel_on_disconnect", &Gateway::private_cancel_on_disconnect},
      {"private/disable_cancel_on_disconnect", &Gateway::private_cancel_on_disconnect},
      {"private/get_cancel_on_disconnect", &Gateway::private_cancel_on_disconnect},
  };
  const auto it = kMethods.find(call.request.method);
  if (it == kMethods.end()) {
    respond_error(call.reply, codec::errors::method_not_found);
    return;
  }
  if (config_.venue.source == sim::MarketSource::mirror && takes_orders(it->second)) {
    respond_error(call.reply, codec::errors::forbidden,
                  "this gateway mirrors a market feed (relay or replay): it takes no orders");
    return;
  }
  (this->*(it->second))(call);
}

// The methods a mirrored market (relay, replay) cannot serve: it has no matching engine.
bool Gateway::takes_orders(void (Gateway::*method)(Call&)) {
  return method == &Gateway::private_buy || method == &Gateway::private_sell ||
         method == &Gateway::private_edit || method == &Gateway::private_cancel ||
         method == &Gateway::private_cancel_all || method == &Gateway::private_cancel_on_disconnect;
}

void Gateway::handle_http(const ws::HttpExchange& e, ws::HttpReply http) {
  metrics_.http_requests.fetch_add(1, std::memory_order_relaxed);
  Reply reply;
  reply.thread = thread_of(e.loop);
  reply.http = std::move(http);
  reply.is_http = true;
  reply.us_in = now_us();
  const std::string_view path = e.request.path();
  const std::string_view method = path.substr(kApiPrefix.size());
  if (method.rfind("public/", 0) != 0 && method.rfind("private/", 0) != 0) {
    reply.http.send(http::error_response(404, "no such API path"));
    return;
  }
  const HttpContext context{e.request.headers.get("Authorization").value_or(""), e.request.method,
                            e.request.target, e.body, e.peer};
  if (e.request.method == "POST") {
    handle_text(reply.thread, nullptr, e.body, reply, &context);
    return;
  }
  handle_text(reply.thread, nullptr, request_from_query(method, e.request.query()), reply,
              &context);
}

void Gateway::respond_error(const Reply& reply, const codec::ErrorCode& error,
                            std::string_view data) {
  if (reply.audit) reply.audit->failed(audit_.get(), error, {}, now_us() / 1000);
  IoThread& io = *io_[reply.thread];
  const codec::ResponseMeta meta{reply.us_in, now_us(), false};
  const codec::RequestId id = reply.id();
  write_encoded(io.out, reply.is_http ? Encoding::json : reply.encoding, [&](auto& w) {
    if (data.empty()) {
      codec::write_error(w, id, meta, error);
    } else {
      codec::write_error(w, id, meta, error, [&](auto& inner) { inner.value(data); });
    }
  });
  // Over HTTP, out of credits is 429 (the body is Deribit's 10028), so that any HTTP client
  // backs off; Deribit's REST errors are otherwise 400.
  const bool throttled = error.code == codec::errors::too_many_requests.code;
  send_bytes(reply, io.out, true, throttled ? 429 : 400);
}

void Gateway::respond_param_error(const Reply& reply, std::string_view param,
                                  codec::ParamStatus status) {
  if (reply.audit) {
    reply.audit->failed(audit_.get(), codec::errors::invalid_params, param, now_us() / 1000);
  }
  IoThread& io = *io_[reply.thread];
  const codec::ResponseMeta meta{reply.us_in, now_us(), false};
  const codec::RequestId id = reply.id();
  write_encoded(io.out, reply.is_http ? Encoding::json : reply.encoding,
                [&](auto& w) { codec::write_param_error(w, id, meta, param, status); });
  send_bytes(reply, io.out, true);
}

void Gateway::send_bytes(const Reply& reply, const std::string& bytes, bool is_error,
                         int http_status) {
  const std::int64_t elapsed = now_us() - reply.us_in;
  metrics_.observe_latency(static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed, 0)));
  if (is_error) metrics_.request_errors.fetch_add(1, std::memory_order_relaxed);
  if (reply.forwarded) {
    answer_forwarded(reply, bytes, is_error, http_status);
    return;
  }
  if (reply.is_http) {
    // Deribit's REST API answers errors with 400 and the same JSON-RPC body.
    const int status = is_error ? http_status : 200;
    if (status == 429) {
      reply.http.send(http::format_response(
          {status, {{"Content-Type", "application/json"}, {"Retry-After", "1"}}}, bytes, true));
      return;
    }
    reply.http.send(
        http::format_response({status, {{"Content-Type", "application/json"}}}, bytes, true));
    return;
  }
  Session* session = find_session(reply.thread, reply.session);
  if (session == nullptr) return;  // the client left before its answer
  const auto e = static_cast<std::size_t>(session->encoding);
  metrics_.messages_out[e].fetch_add(1, std::memory_order_relaxed);
  metrics_.bytes_out[e].fetch_add(bytes.size(), std::memory_order_relaxed);
  if (is_binary(session->encoding)) {
    session->socket->send_binary(bytes_of(bytes));
  } else {
    session->socket->send_text(bytes);
  }
  // A client that sends requests but does not read the answers is as slow as a subscriber.
  if (session->socket->queued() > config_.send_buffer_hard_cap) {
    close_slow(*session, "too slow: send buffer limit exceeded");
  }
}

void Gateway::on_thread(const Reply& reply, std::function<void()> task) {
  server_->post(reply.thread, std::move(task));
}

// ---- fan-out
// --------------------------------------------------------------------------------------

void Gateway::subscribe(Session& session, const ChannelSpec& spec, const std::string& name) {
  if (session.channels.contains(name)) return;  // Deribit: acked again, no new snapshot
  session.channels.emplace(name, spec);
  if (!Publisher::starts_with_snapshot(spec)) join_list(*io_[session.thread], session, name);
  publisher_->subscribe(session.thread, session.id, spec, name, session.encoding);
  metrics_.subscriptions.fetch_add(1, std::memory_order_relaxed);
}

void Gateway::unsubscribe(Session& session, const std::string& name) {
  const auto it = session.channels.find(name);
  if (it == session.channels.end()) return;
  session.channels.erase(it);
  session.stale.erase(name);
  quit_list(*io_[session.thread], session, name);
  publisher_->unsubscribe(session.thread, name, session.encoding);
  metrics_.subscriptions.fetch_sub(1, std::memory_order_relaxed);
}

void Gateway::unsubscribe_everything(Session& session) {
  std::vector<std::string> names;
  for (const auto& [name, spec] : session.channels) names.push_back(name);
  for (const std::string& name : names) unsubscribe(session, name);
}

// Publisher thread: hands the deliveries to the I/O thread's inbox (the publisher gets an
// empty vector back, with capacity when the inbox lends it its own).
void Gateway::take_deliveries(std::size_t thread, std::vector<Delivery>& deliveries) {
  IoThread& io = *io_[thread];
  bool was_empty = false;
  {
    std::lock_guard lock(io.inbox_mutex);
    was_empty = io.inbox.empty();
    if (was_empty) {
      io.inbox.swap(deliveries);
    } else {
      io.inbox.insert(io.inbox.end(), std::make_move_iterator(deliveries.begin()),
                      std::make_move_iterator(deliveries.end()));
    }
  }
  deliveries.clear();
  if (was_empty) server_->post(thread, [this, thread] { deliver_inbox(thread); });
}

void Gateway::deliver_inbox(std::size_t thread) {
  IoThread& io = *io_[thread];
  {
    std::lock_guard lock(io.inbox_mutex);
    io.delivering.swap(io.inbox);
  }
  deliver(thread, io.delivering);
  io.delivering.clear();  // releases the notifications; the capacity goes back to the inbox
}

// One pass over a batch: each subscriber's socket is corked at its first message and uncorked
// at the end, so it gets one writev however many messages the batch holds for it. Nothing here
// allocates per subscriber: the lists and scratch vectors are the thread's and keep their size.
void Gateway::deliver(std::size_t thread, std::vector<Delivery>& deliveries) {
  IoThread& io = *io_[thread];
  std::array<std::uint64_t, kEncodings> messages{}, bytes{};
  auto send = [&](Session& session, const Notification& message) {
    cork(io, session);
    const auto e = static_cast<std::size_t>(session.encoding);
    switch (send_notification(session, message)) {
      case Sent::queued:
        ++messages[e];
        bytes[e] += message.frames[e]->payload().size();
        break;
      case Sent::skipped:
        break;
      case Sent::dropped:
        io.lagging.emplace_back(&session, &message.channel);
        break;
    }
  };
  for (const Delivery& d : deliveries) {
    const Notification& message = *d.message;
    if (d.session != 0) {
      // A snapshot: the session starts receiving this channel's broadcasts after it.
      Session* session = find_session(thread, d.session);
      if (session == nullptr || !session->channels.contains(message.channel) ||
          session->live.contains(message.channel))
        continue;
      join_list(io, *session, message.channel);
      send(*session, message);
      continue;
    }
    const auto list = io.subscribers.find(message.channel);
    if (list == io.subscribers.end()) continue;
    for (Session* session : list->second) send(*session, message);
  }
  // Done after the loops above, which iterate the lists.
  for (const auto& [session, channel] : io.lagging) leave_broadcasts(io, *session, *channel);
  io.lagging.clear();
  for (Session* session : io.corked) {
    session->corked = false;
    session->socket->uncork();
    // A subscriber that keeps reading with some backlog never empties its queue completely
    // (on_drain): it has caught up once the backlog is under half the cap.
    if (session->slow_timer.armed()) recover_if_drained(*session);
  }
  io.corked.clear();
  for (std::size_t e = 0; e < kEncodings; ++e) {
    if (messages[e] == 0) continue;
    metrics_.messages_out[e].fetch_add(messages[e], std::memory_order_relaxed);
    metrics_.bytes_out[e].fetch_add(bytes[e], std::memory_order_relaxed);
  }
}

void Gateway::cork(IoThread& io, Session& session) {
  if (session.corked) return;
  session.corked = true;
  session.socket->cork();
  io.corked.push_back(&session);
}

// A book channel that lost a change leaves the broadcast list until the socket drains; then
// on_drain() subscribes it again with a fresh snapshot.
void Gateway::leave_broadcasts(IoThread& io, Session& session, const std::string& channel) {
  const auto spec = session.channels.find(channel);
  if (spec == session.channels.end() || spec->second.kind != ChannelKind::book) return;
  if (quit_list(io, session, channel)) session.stale.insert(channel);
}

// The broadcast list of a channel, with each member's index kept in its Session::live.
void Gateway::join_list(IoThread& io, Session& session, const std::string& channel) {
  auto& list = io.subscribers[channel];
  session.live.emplace(channel, list.size());
  list.push_back(&session);
}

// Leaves in O(1): the last member takes the leaver's place. False if it was not a member.
bool Gateway::quit_list(IoThread& io, Session& session, std::string_view channel) {
  const auto member = session.live.find(channel);
  if (member == session.live.end()) return false;
  const std::size_t index = member->second;
  session.live.erase(member);
  const auto list = io.subscribers.find(channel);
  Session* last = list->second.back();
  list->second[index] = last;
  list->second.pop_back();
  if (last != &session) last->live.find(channel)->second = index;
  if (list->second.empty()) io.subscribers.erase(list);
  return true;
}

// Dropped when the subscriber is too slow: its send buffer is over the cap. Past the hard cap
// it is closed with 1008 at once; otherwise the first drop starts the slow-subscriber timer,
// which closes it the same way unless the socket drains first (on_drain). Skipped: not in this
// encoding, or the socket is closing.
Gateway::Sent Gateway::send_notification(Session& session, const Notification& message) {
  const auto& frame = message.frames[static_cast<std::size_t>(session.encoding)];
  if (!frame) return Sent::skipped;
  ws::WebSocket& socket = *session.socket;
  const std::size_t buffered = socket.buffered();
  if (buffered <= config_.send_buffer_cap) {
    return socket.send_prepared(*frame) ? Sent::queued : Sent::skipped;
  }
  if (!socket.is_open()) return Sent::dropped;
  if (buffered > config_.send_buffer_hard_cap) {
    close_slow(session, "too slow: send buffer limit exceeded");
    return Sent::dropped;
  }
  metrics_.dropped.fetch_add(1, std::memory_order_relaxed);
  if (!session.slow_timer.armed()) {
    net::EventLoop& loop = socket.loop();
    const auto timeout_ms = static_cast<std::uint64_t>(config_.slow_subscriber_timeout_s * 1000);
    loop.timers().arm(session.slow_timer, loop.now_ms() + std::max<std::uint64_t>(timeout_ms, 1));
  }
  return Sent::dropped;
}

// A lagging subscriber whose backlog is back under half the cap has caught up: the timer stops,
// and the book channels that lost notifications start over with a fresh snapshot (a new
// chain, flagged "resync": true).
void Gateway::recover_if_drained(Session& session) {
  if (session.socket->buffered() > config_.send_buffer_cap / 2) return;
  session.slow_timer.cancel();
  if (session.stale.empty()) return;
  StringSet stale;
  stale.swap(session.stale);
  for (const std::string& name : stale) {
    const auto it = session.channels.find(name);
    if (it == session.channels.end()) continue;
    publisher_->unsubscribe(session.thread, name, session.encoding);
    publisher_->subscribe(session.thread, session.id, it->second, name, session.encoding,
                          SnapshotKind::resync);
    metrics_.resyncs.fetch_add(1, std::memory_order_relaxed);
  }
}

// The close frame waits behind what is queued; the socket's close timeout ends TCP if the
// subscriber never reads it.
void Gateway::close_slow(Session& session, std::string_view reason) {
  session.slow_timer.cancel();
  if (!session.socket->is_open()) return;
  metrics_.slow_closes.fetch_add(1, std::memory_order_relaxed);
  session.socket->close(1008, reason);
}

// ---- metrics ------------------------------------------------------------------------------------

std::string Gateway::metrics_text() const {
  std::string out;
  char line[256];
  auto add = [&](const char* name, const char* type, const char* help, double value,
                 const char* labels = "") {
    std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s%s %.17g\n", name, help, name,
                  type, name, labels, value);
    out += line;
  };
  auto load = [](const auto& counter) { return static_cast<double>(counter.load()); };
  add("greekwire_connections", "gauge", "Open WebSocket connections.", load(metrics_.connections));
  add("greekwire_connections_total", "counter", "WebSocket connections accepted.",
      load(metrics_.connections_total));
  add("greekwire_requests_total", "counter", "JSON-RPC requests (WebSocket and HTTP).",
      load(metrics_.requests));
  add("greekwire_request_errors_total", "counter", "Requests answered with an error.",
      load(metrics_.request_errors));
  add("greekwire_http_requests_total", "counter", "HTTP API requests.",
      load(metrics_.http_requests));
  add("greekwire_messages_in_total", "counter", "WebSocket messages received.",
      load(metrics_.messages_in));
  add("greekwire_bytes_in_total", "counter", "WebSocket payload bytes received.",
      load(metrics_.bytes_in));
  out +=
      "# HELP greekwire_messages_out_total WebSocket messages sent, by encoding.\n"
      "# TYPE greekwire_messages_out_total counter\n";
  for (std::size_t e = 0; e < kEncodings; ++e) {
    std::snprintf(line, sizeof line, "greekwire_messages_out_total{encoding=\"%s\"} %llu\n",
                  kEncodingNames[e].data(),
                  static_cast<unsigned long long>(metrics_.messages_out[e].load()));
    out += line;
  }
  out +=
      "# HELP greekwire_bytes_out_total WebSocket payload bytes sent, by encoding.\n"
      "# TYPE greekwire_bytes_out_total counter\n";
  for (std::size_t e = 0; e < kEncodings; ++e) {
    std::snprintf(line, sizeof line, "greekwire_bytes_out_total{encoding=\"%s\"} %llu\n",
                  kEncodingNames[e].data(),
                  static_cast<unsigned long long>(metrics_.bytes_out[e].load()));
    out += line;
  }
  add("greekwire_subscriptions", "gauge", "Channel subscriptions.", load(metrics_.subscriptions));
  add("greekwire_dropped_notifications_total", "counter",
      "Notifications not sent to subscribers over the send-buffer cap.", load(metrics_.dropped));
  add("greekwire_book_resyncs_total", "counter",
      "Book snapshots re-sent to subscribers that lost changes.", load(metrics_.resyncs));
  add("greekwire_slow_closes_total", "counter", "Subscribers closed with 1008 for being too slow.",
      load(metrics_.slow_closes));
  add("greekwire_forwarded_requests_total", "counter",
      "Requests an edge sent to the venue, or the venue answered for edges.",
      load(metrics_.forwarded));
  add("greekwire_forward_failures_total", "counter",
      "Forwarded requests the venue did not answer in time (13028 to the client).",
      load(metrics_.forward_failures));
  if (publisher_) {
    add("greekwire_venue_events_total", "counter", "Venue events published.",
        load(publisher_->stats().events));
    add("greekwire_notifications_total", "counter", "Channel notifications encoded.",
        load(publisher_->stats().notifications));
    add("greekwire_stream_gaps_total", "counter", "Venue event-stream gaps.",
        load(publisher_->stats().stream_gaps));
  }
  out +=
      "# HELP greekwire_request_latency_seconds Request receipt to answer.\n"
      "# TYPE greekwire_request_latency_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= GatewayMetrics::kLatencyBucketsUs.size(); ++i) {
    cumulative += metrics_.latency_buckets[i].load();
    if (i < GatewayMetrics::kLatencyBucketsUs.size()) {
      std::snprintf(line, sizeof line, "greekwire_request_latency_seconds_bucket{le=\"%g\"} %llu\n",
                    static_cast<double>(GatewayMetrics::kLatencyBucketsUs[i]) / 1e6,
                    static_cast<unsigned long long>(cumulative));
    } else {
      std::snprintf(line, sizeof line,
                    "greekwire_request_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
                    "greekwire_request_latency_seconds_sum %g\n"
                    "greekwire_request_latency_seconds_count %llu\n",
                    static_cast<unsigned long long>(cumulative),
                    static_cast<double>(metrics_.latency_sum_us.load()) / 1e6,
                    static_cast<unsigned long long>(cumulative));
    }
    out += line;
  }
  if (extra_metrics_) out += extra_metrics_();
  return out;
}

}  // namespace gw::gateway
