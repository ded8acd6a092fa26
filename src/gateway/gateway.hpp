// `greekwire serve`: the Deribit-API-v2-compatible front door. One process runs the venue
// thread (simulated market, matching), the publisher thread (event stream -> notifications,
// encoded once) and the I/O threads of a ws::Server (sessions, JSON-RPC, fan-out).
//
// Threads and who owns what:
//  - the venue thread is the single writer of market state; I/O threads ask it through
//    sim::Venue commands, whose callbacks post the answer back to the asking I/O thread;
//  - the publisher thread owns the book replicas and the channel registry; I/O threads tell it
//    about (un)subscriptions, it hands them Deliveries through Server::post;
//  - each I/O thread owns its sessions and its subscriber lists: a notification reaches a
//    session only on the thread that owns it, so none of this needs a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codec/errors.hpp"
#include "codec/request.hpp"
#include "gateway/account_store.hpp"
#include "gateway/audit_log.hpp"
#include "gateway/auth.hpp"
#include "gateway/channels.hpp"
#include "gateway/directory.hpp"
#include "gateway/publisher.hpp"
#include "gateway/rate_limit.hpp"
#include "http/static_files.hpp"
#include "net/timer_wheel.hpp"
#include "sim/venue.hpp"
#include "ws/server.hpp"

namespace gw::gateway {

// ---- Scale-out (docs/SCALE-OUT.md) -------------------------------------------------------------
// An edge gateway serves the market from a mirror and forwards what needs the venue (private
// methods, authentication) to the venue's gateway, which answers it as it answers its HTTP
// twins. The transport (NATS request-reply) is the caller's business: these are plain values.

// One request, as the edge received it.
struct ForwardedCall {
  std::string request;        // the JSON-RPC request (JSON text)
  std::string authorization;  // the HTTP Authorization header, or the session's "Bearer <token>"
  std::string http_method;    // HTTP twins: what signatures (deri-hmac-sha256) cover
  std::string uri;
  std::string body;
  std::string peer;  // the client's IP address (rate limits, ip: scopes, the audit log)
  // The edge's WebSocket connection, unique across edges (0: an HTTP twin): tokens of scope
  // "connection" are bound to it, as to a local connection.
  std::uint64_t connection_id = 0;
  // The SHA-256 fingerprint of the client certificate the edge verified on this connection
  // (mutual TLS; empty: none): a credential as at the venue's own handshakes. The venue trusts
  // it as it trusts the edge (docs/SCALE-OUT.md: who may publish to gw.venue.rpc).
  std::string certificate_sha256;
  // The edge charged the request to its session's credit pools already: the venue does not
  // charge the HTTP twins' pools again.
  bool rate_limited = false;
  // No request: the credentials of a WebSocket handshake (authorization, http_method, uri),
  // checked as the venue checks its own handshakes; the answer carries the identity.
  bool handshake = false;
  // No request: the edge's connection `connection_id` closed. The venue does what a local
  // disconnect does: cancel-on-disconnect, the end of the connection's tokens.
  bool disconnect = false;
};

// The venue's answer.
struct ForwardedAnswer {
  bool delivered = false;    // false: no answer (the venue is unreachable); `reason` says why
  std::string response;      // the JSON-RPC response (JSON text)
  bool is_error = false;     // the response carries an error
  int http_status = 200;     // what an HTTP twin answers with it
  std::string access_token;  // a token grant's (public/auth, fork_token, exchange_token)
  std::optional<Identity> identity;  // ... and whom it identifies
  std::string reason;
};

using ForwardDone = std::function<void(ForwardedAnswer)>;
// Any thread; calls `done` exactly once, from any thread, within the transport's timeout.
using Forwarder = std::function<void(ForwardedCall, ForwardDone)>;

struct GatewayConfig {
  net::Endpoint listen{"127.0.0.1", 8080};
  std::string data_dir = "greekwire-data";  // accounts and API keys (SQLite), the audit log
  // The dashboard's built assets (web/dist), served at "/" and below. Empty, or a directory
  // without index.html: "/" answers a short page saying how to build it.
  std::string web_root;
  int threads = 1;
  sim::VenueConfig venue;
  std::optional<net::TlsServerConfig> tls;
  bool deflate = false;                         // permessage-deflate for subscribers
  std::size_t send_buffer_cap = 4 << 20;        // a slower subscriber starts losing messages
  std::size_t send_buffer_hard_cap = 16 << 20;  // ... and is closed with 1008 beyond this
  double slow_subscriber_timeout_s = 30;        // ... or after losing them for this long
  std::size_t max_channels_per_session = 10000;
  std::size_t max_connections_per_ip = 32;  // Deribit's; the 33rd handshake gets HTTP 429
  // Deribit's credit pools: per WebSocket session, and over HTTP per account (private
  // methods) or per client IP (public ones).
  RateLimits rate_limits;
  // The account made on the first start of a data directory, with these initial balances.
  std::string demo_account = "demo";
  std::vector<InitialBalance> demo_balances = {{"BTC", 10.0}, {"ETH", 100.0}};
  // public/set_heartbeat's accepted intervals, seconds (Deribit: at least 10).
  int heartbeat_min_s = 10;
  int heartbeat_max_s = 3600;
  // WebSocket timeouts in seconds (0: never). Deribit keeps quiet sockets open: heartbeats are
  // the client's choice, so the idle timeout and server pings are off by default.
  double handshake_timeout_s = 10;
  double idle_timeout_s = 0;
  double ping_interval_s = 0;
  double close_timeout_s = 5;
  std::size_t max_message_size = 16 << 20;  // larger requests close the socket with 1009
  // The audit log's rotation: files of at most this size, this many kept.
  std::uint64_t audit_max_bytes = 16u << 20;
  int audit_keep_files = 5;
  // An edge (docs/SCALE-OUT.md): private methods and authentication go to the venue through
  // this; the market is a mirror (venue.source).
  Forwarder forward;
  // An edge: a connection subscribed to a private channel (user.*) of `account`; the venue's
  // notifications of it come back through deliver_forwarded().
  std::function<void(AccountRowId account, const std::string& channel)> subscribe_forwarded;
  // Tells this edge's connections apart from other edges' at the venue (edge_connection_id).
  std::uint32_t edge_id = 0;
};

// Counters for /metrics (relaxed atomics: any thread adds, the scrape reads).
struct GatewayMetrics {
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> request_errors{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::array<std::atomic<std::uint64_t>, kEncodings> messages_out{};
  std::array<std::atomic<std::uint64_t>, kEncodings> bytes_out{};
  std::atomic<std::uint64_t> messages_in{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::int64_t> subscriptions{0};
  std::atomic<std::uint64_t> dropped{0};  // notifications not sent to slow subscribers
  std::atomic<std::uint64_t> resyncs{0};  // book snapshots re-sent after drops
  std::atomic<std::uint64_t> slow_closes{0};
  std::atomic<std::uint64_t> forwarded{0};         // edge: sent to the venue; venue: answered
  std::atomic<std::uint64_t> forward_failures{0};  // edge: the venue did not answer in time
  // Request latency (receipt to answer), microseconds: Prometheus histogram buckets.
  static constexpr std::array<std::uint64_t, 8> kLatencyBucketsUs = {50,   100,  250,   500,
                                                                     1000, 5000, 25000, 100000};
  std::array<std::atomic<std::uint64_t>, 9> latency_buckets{};
  std::atomic<std::uint64_t> latency_sum_us{0};
  void observe_latency(std::uint64_t us);
};

class Gateway : public ws::WebSocketHandler {
 public:
  explicit Gateway(GatewayConfig config);
  ~Gateway() override;
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Starts the venue, the publisher and the server (throws std::exception with the reason).
  void start();
  // Closes every session with 1001, stops the threads. Idempotent.
  void stop();
  std::uint16_t port() const { return server_->port(); }
  // The demo account's credentials when this start created it (printed once by serve).
  const std::optional<ApiCredentials>& created_demo() const { return created_demo_; }
  bool reload_tls(std::string* error) { return server_->reload_tls(error); }
  const GatewayMetrics& metrics() const { return metrics_; }
  // The web root's real path when the dashboard is served, empty otherwise.
  std::string dashboard_root() const;
  // The venue: a mirror's feed (relay, replay) pushes its inputs here (Venue::feed).
  sim::Venue& venue() { return *venue_; }
  // Before start(): lines appended to /metrics (Prometheus text format), e.g. the relay's.
  void add_metrics(std::function<std::string()> source) { extra_metrics_ = std::move(source); }
  std::string metrics_text() const;
  // The venue of a scale-out deployment: answers a request an edge forwarded, as an HTTP twin
  // request (JSON, HTTP statuses). Any thread; `done` is called once, on an I/O thread. After
  // start().
  void call_forwarded(ForwardedCall call, ForwardDone done);
  // An edge: a private channel's notification from the venue (the JSON-RPC notification as the
  // venue's gateway wrote it), for this gateway's subscribers of `route` ("<account>|<name>").
  // Any thread, after start().
  void deliver_forwarded(std::string_view route, std::string_view notification);
  // The venue: an edge's heartbeat; every connection of an edge that stopped (drop_edge) or
  // was not heard from for `silence_ms` (drop_silent_edges, which returns those edges), closed
  // as if it had disconnected (cancel-on-disconnect, its tokens). Any thread.
  void edge_alive(std::uint32_t edge_id);
  // The venue back on NATS after an outage: every edge counts as heard from now (it could not
  // be heard meanwhile; one that died is dropped `silence_ms` from now).
  void hear_every_edge_now();
  void drop_edge(std::uint32_t edge_id);
  std::vector<std::uint32_t> drop_silent_edges(std::int64_t silence_ms);
  // An edge: the venue dropped this edge's connections (it stopped hearing from it). Every
  // connection with state at the venue is closed (1011), so that its client reconnects and
  // authenticates again rather than go on without its cancel-on-disconnect. Any thread.
  void close_forwarded_sessions();

  struct Session;
  struct Reply;
  struct Call;

 private:
  struct IoThread;

  // ws::WebSocketHandler
  void on_open(ws::WebSocket& socket) override;
  void on_message(ws::WebSocket& socket, ws::MessageType type,
                  std::span<std::uint8_t> payload) override;
  void on_close(ws::WebSocket& socket, std::uint16_t code, std::string_view reason) override;
  void on_drain(ws::WebSocket& socket) override;

  // Requests: one text (JSON-RPC) from a socket or an HTTP twin.
  struct HttpContext {
    std::string_view authorization, method, uri, body, peer;
  };
  void handle_text(std::size_t thread, Session* session, std::string_view text,
                   const Reply& reply_template, const HttpContext* http = nullptr);
  void dispatch(Call& call);
  static bool takes_orders(void (Gateway::*method)(Call&));
  void handle_http(const ws::HttpExchange& exchange, ws::HttpReply reply);
  // An edge: sends the request to the venue (config_.forward) and relays the answer.
  static bool forwarded_method(std::string_view method);
  void forward(const Reply& reply, Session* session, std::string_view method, std::string_view text,
               const HttpContext* http);
  void relay_answer(const Reply& reply, const std::string& method, ForwardedAnswer& answer);
  std::uint64_t edge_connection_id(std::uint64_t session_id) const;
  // An edge: what a handshake's credentials were, until the venue says whom they identify.
  struct ForwardedCredentials {
    std::string authorization, method, target;
    std::string certificate_sha256;  // a verified client certificate's, or empty
  };
  // What on_upgrade hands to on_open.
  struct Upgrade {
    std::optional<Identity> identity;                 // checked here
    std::optional<ForwardedCredentials> credentials;  // an edge's, for the venue to check
  };
  void forward_handshake(Session& session, const ForwardedCredentials& credentials);
  void answer_handshake(ForwardedCall call, const ForwardDone& done);
  void hold_request(Session& session, std::string_view text);
  void release_held(Session& session);
  void answer_forwarded(const Reply& reply, const std::string& bytes, bool is_error,
                        int http_status);
  // An edge: tells the venue a connection that sent it requests closed.
  void report_close(const Session& session);
  // The venue: what it keeps of an edge's connection for cancel-on-disconnect, by its
  // connection id (edge_connection_id).
  struct RemoteConnection {
    std::optional<bool> cancel_on_disconnect;
    std::vector<std::pair<AccountRowId, std::string>> order_accounts;  // id, name
    std::string peer;
  };
  RemoteConnection& remote_connection(std::uint64_t connection_id);  // remote_mutex_ held
  void remember_remote_order(std::uint64_t connection_id, const Identity& identity,
                             std::string_view peer);
  void remote_connection_closed(std::uint64_t connection_id);
  void forget_remote_connection(std::uint64_t connection_id);  // a logout: no cancels
  void close_edge_connections(const std::vector<std::uint32_t>& edges);

  // Methods (methods.cpp).
  void public_test(Call& call);
  void public_get_time(Call& call);
  void public_hello(Call& call);
  void public_status(Call& call);
  void public_get_currencies(Call& call);
  void public_get_instruments(Call& call);
  void public_get_instrument(Call& call);
  void public_get_index_price(Call& call);
  void public_get_order_book(Call& call);
  void public_ticker(Call& call);
  void public_subscribe(Call& call);
  void public_unsubscribe(Call& call);
  void public_unsubscribe_all(Call& call);
  void public_set_heartbeat(Call& call);
  void public_disable_heartbeat(Call& call);
  void public_auth(Call& call);
  void public_fork_token(Call& call);
  void public_exchange_token(Call& call);
  void answer_token_grant(const Reply& reply, const AuthResult<TokenGrant>& result);
  void private_logout(Call& call);
  void private_subscribe(Call& call);
  void private_buy(Call& call);
  void private_sell(Call& call);
  void private_edit(Call& call);
  void private_cancel(Call& call);
  void private_cancel_all(Call& call);
  void private_get_order_state(Call& call);
  void private_get_positions(Call& call);
  void private_get_account_summary(Call& call);
  // Queries (query_methods.cpp).
  void private_get_open_orders_by_instrument(Call& call);
  void private_get_open_orders_by_currency(Call& call);
  void private_get_user_trades_by_instrument(Call& call);
  // private/get_settlement_history_by_instrument and _by_currency.
  void private_get_settlement_history(Call& call);
  void private_get_position(Call& call);
  void public_get_last_trades_by_instrument(Call& call);
  void public_get_book_summary_by_currency(Call& call);
  void query_open_orders(const Reply& reply, const market::OrderFilter& filter);
  void private_get_risk_matrix(Call& call);       // risk_methods.cpp
  void private_cancel_on_disconnect(Call& call);  // enable_, disable_ and get_cancel_on_disconnect

  // The caller's identity for a private method or channel (answers the error itself and
  // returns nullopt when there is none, or its scope does not allow `required`).
  std::optional<Identity> authorize(Call& call, ScopeRequirement required);
  void fund_once(const Identity& identity);
  void place_order(Call& call, market::Side side);
  void answer_order(const Reply& reply, const sim::OrderResult& result);
  void audit_order(const Reply& reply, const sim::OwnedOrderUpdate& order);
  void subscribe_channels(Call& call, bool authenticated);
  // Cancel-on-disconnect: the session is gone (any cause); cancels the orders placed over it
  // where the connection's or the account's setting says so. Once per session.
  void cancel_orders_on_disconnect(Session& session);
  void cancel_for_disconnect(const std::vector<std::pair<AccountRowId, std::string>>& accounts,
                             std::optional<bool> connection_setting, std::uint64_t connection,
                             const std::string& peer);
  bool account_cancels_on_disconnect(AccountRowId account);
  void audit_cancel_on_disconnect(const std::string& account, const std::string& ip,
                                  const std::string& connection, const sim::OrderResult& result);
  void wait_for_disconnect_cancels();

  // Answers, on the reply's I/O thread (the template is in gateway_internal.hpp).
  template <class F>
  void respond(const Reply& reply, F&& write_value);
  void respond_error(const Reply& reply, const codec::ErrorCode& error, std::string_view data = {});
  void respond_param_error(const Reply& reply, std::string_view param, codec::ParamStatus status);
  void send_bytes(const Reply& reply, const std::string& bytes, bool is_error,
                  int http_status = 400);
  // Runs `task` on the reply's I/O thread (venue callbacks come from the venue thread).
  void on_thread(const Reply& reply, std::function<void()> task);
  // A venue callback that copies its result, goes back to the reply's I/O thread and runs
  // `then(result)` there (gateway_internal.hpp).
  template <class Result, class Then>
  std::function<void(const Result&)> back_on_io(const Reply& reply, Then then);
  // A command the venue's queue refused is answered at once.
  void check_queued(const Reply& reply, bool queued);
  // Required parameters: a listed instrument (-32602 "wrong format" for a name not listed), a
  // currency. The error is answered when absent or wrong.
  InstrumentPtr instrument_param(const Call& call);
  std::optional<market::Currency> currency_param(const Call& call);
  std::optional<market::OrderId> order_id_param(const Call& call);

  // Fan-out on the I/O threads.
  void take_deliveries(std::size_t thread, std::vector<Delivery>& deliveries);
  void deliver_inbox(std::size_t thread);
  void deliver(std::size_t thread, std::vector<Delivery>& deliveries);
  void cork(IoThread& io, Session& session);
  enum class Sent { queued, skipped, dropped };
  Sent send_notification(Session& session, const Notification& message);
  void leave_broadcasts(IoThread& io, Session& session, const std::string& channel);
  void join_list(IoThread& io, Session& session, const std::string& channel);
  bool quit_list(IoThread& io, Session& session, std::string_view channel);
  void recover_if_drained(Session& session);
  void close_slow(Session& session, std::string_view reason);
  void subscribe(Session& session, const ChannelSpec& spec, const std::string& name);
  void unsubscribe(Session& session, const std::string& name);
  void unsubscribe_everything(Session& session);
  void arm_heartbeat(Session& session);

  void wait_for_market_open();
  void route_dashboard();
  std::size_t thread_of(const net::EventLoop& loop) const;
  Session* find_session(std::size_t thread, std::uint64_t id) const;

  GatewayConfig config_;
  GatewayMetrics metrics_;
  Directory directory_;
  std::unique_ptr<sim::Venue> venue_;
  std::function<std::string()> extra_metrics_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<ws::Server> server_;
  std::unique_ptr<http::StaticFiles> web_files_;  // the dashboard (null without a web root)
  std::vector<std::unique_ptr<IoThread>> io_;
  std::atomic<std::uint64_t> next_session_id_{1};
  std::unique_ptr<AccountStore> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Authenticator> auth_;
  std::optional<ApiCredentials> created_demo_;
  std::unique_ptr<ConnectionLimiter> connection_limiter_;
  // The HTTP twins' credit pools (docs/GATEWAY.md, "Limits"), swept with the tokens.
  std::unique_ptr<KeyedRateLimiter> http_ip_limits_;
  std::unique_ptr<KeyedRateLimiter> http_account_limits_;
  // Expired tokens and nonces are dropped every 10 s (on I/O thread 0). Declared after server_
  // so that it is destroyed first.
  net::Timer sweep_timer_;
  std::mutex funded_mutex_;
  std::unordered_set<AccountRowId> funded_;
  // Accounts whose connections cancel on disconnect by default (scope "account"; in memory),
  // and the cancel_all commands of disconnects still on the venue's queue (stop() waits).
  std::mutex cancel_on_disconnect_mutex_;
  std::unordered_set<AccountRowId> cancel_on_disconnect_accounts_;
  std::atomic<int> disconnect_cancels_pending_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<std::size_t> next_forward_thread_{0};
  // The venue: edges' connections (RemoteConnection), and when each edge was last heard from.
  std::mutex remote_mutex_;
  std::unordered_map<std::uint64_t, RemoteConnection> remote_connections_;
  std::unordered_map<std::uint32_t, std::int64_t> edges_heard_ms_;
};

}  // namespace gw::gateway
