// greekwire::Connection: one WebSocket at a time, JSON-RPC correlation and timeouts,
// authentication, subscriptions with their books, heartbeats, reconnection and resync.
//
// Sockets and their handlers. A ws::ClientSocket owns itself and keeps references to its
// handler and options until it is destroyed, which can be after the Connection is gone (the
// close handshake finishes on the loop). So each socket gets a SocketLink: its handler, its copy
// of the options, and a pointer back to the Connection that the Connection clears when it goes
// away. The link deletes itself when its socket is destroyed.
//
// Resync. A book that loses its chain needs a new snapshot, which Deribit only sends for a
// subscription made on a new socket. The current socket is "retired": it stops feeding
// subscriptions but stays open until the requests sent on it are answered (an order's answer
// must not be lost to a resync), and a new socket is opened at once.
#include "greekwire/connection.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <unordered_map>

#include "client/decoder.hpp"
#include "codec/text.hpp"
#include "net/event_loop.hpp"
#include "ws/client.hpp"

namespace greekwire {

// ---------------------------------------------------------------------------------------------
// EventLoop

EventLoop::EventLoop() : loop_(std::make_unique<gw::net::EventLoop>()) {}
EventLoop::~EventLoop() = default;
void EventLoop::run() {
  loop_->run();
}
void EventLoop::stop() {
  loop_->stop();
}
void EventLoop::post(std::function<void()> task) {
  loop_->post(std::move(task));
}

namespace {

constexpr std::uint64_t kSweepIntervalMs = 100;  // request timeouts are checked this often
// A resync this soon after the previous one goes through the backoff, so that a book that can
// never be made consistent does not make us reconnect in a tight loop.
constexpr std::uint64_t kResyncSpacingMs = 1000;

std::uint64_t now_ms() {
  return gw::net::monotonic_ms();
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t to_ms(double seconds) {
  return static_cast<std::uint64_t>(std::max(0.0, seconds) * 1000.0 + 0.5);
}

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

// public/auth with grant_type client_signature: HMAC-SHA256(secret, "ts\nnonce\ndata"), data
// empty, a fresh random nonce (Deribit refuses a nonce twice).
std::string client_signature_params(const Credentials& credentials) {
  unsigned char nonce_bytes[12];
  if (RAND_bytes(nonce_bytes, sizeof nonce_bytes) != 1) {
    // Without a CSPRNG there is no safe nonce; the time-based one is still unique per call.
    const auto t = static_cast<std::uint64_t>(steady_ns());
    std::memcpy(nonce_bytes, &t, sizeof t);
  }
  const std::string nonce = hex(nonce_bytes, sizeof nonce_bytes);
  const std::string timestamp = std::to_string(wall_ms());
  const std::string message = timestamp + "\n" + nonce + "\n";
  unsigned char mac[32];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), credentials.client_secret.data(),
       static_cast<int>(credentials.client_secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_size);
  std::string params = R"({"grant_type":"client_signature","client_id":)";
  gw::codec::append_json_string(params, credentials.client_id);
  params += R"(,"timestamp":)" + timestamp + R"(,"nonce":")" + nonce + R"(","data":"")";
  params += R"(,"signature":")" + hex(mac, mac_size) + "\"";
  if (!credentials.scope.empty()) {
    params += R"(,"scope":)";
    gw::codec::append_json_string(params, credentials.scope);
  }
  params += "}";
  return params;
}

std::string request_text(std::uint64_t id, std::string_view method, std::string_view params) {
  std::string text;
  text.reserve(48 + method.size() + params.size());
  text += R"({"jsonrpc":"2.0","id":)";
  text += std::to_string(id);
  text += R"(,"method":)";
  gw::codec::append_json_string(text, method);
  if (!params.empty()) {
    text += R"(,"params":)";
    text += params;
  }
  text += '}';
  return text;
}

std::string channels_params(const std::vector<std::string>& channels) {
  std::string params = R"({"channels":[)";
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (i > 0) params += ',';
    gw::codec::append_json_string(params, channels[i]);
  }
  params += "]}";
  return params;
}

Error make_error(ErrorKind kind, std::string message) {
  Error error;
  error.kind = kind;
  error.message = std::move(message);
  return error;
}

// Round trips on a log scale (10 % per bucket), for percentiles without keeping samples.
class LatencyHistogram {
 public:
  void add(double us) {
    us = std::max(us, 1.0);
    ++count_;
    sum_ += us;
    min_ = count_ == 1 ? us : std::min(min_, us);
    max_ = std::max(max_, us);
    const auto bucket = static_cast<std::size_t>(std::log(us) / std::log(kRatio));
    ++buckets_[std::min(bucket, kBuckets - 1)];
  }

  LatencyStats summary() const {
    LatencyStats s;
    s.count = count_;
    if (count_ == 0) return s;
    s.mean_us = sum_ / static_cast<double>(count_);
    s.min_us = min_;
    s.max_us = max_;
    s.p50_us = std::clamp(quantile(0.50), min_, max_);
    s.p99_us = std::clamp(quantile(0.99), min_, max_);
    return s;
  }

 private:
  static constexpr double kRatio = 1.1;
  static constexpr std::size_t kBuckets = 256;  // 1.1^256 us is far beyond any timeout

  double quantile(double q) const {
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::pow(kRatio, static_cast<double>(i) + 0.5);  // mid-bucket
    }
    return max_;
  }

  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
};

// The error a refused connect reports, by what the socket says failed.
Error connect_error(const gw::ws::ClientSocket& socket, std::string_view message) {
  Error error = make_error(ErrorKind::unreachable, std::string(message));
  switch (socket.failure()) {
    case gw::ws::ConnectFailure::tls:
      error.kind = ErrorKind::tls;
      break;
    case gw::ws::ConnectFailure::timeout:
      error.kind = ErrorKind::timeout;
      break;
    case gw::ws::ConnectFailure::http_status:
      error.kind = ErrorKind::http_status;
      error.http_status = socket.http_status();
      error.body = socket.body();
      break;
    case gw::ws::ConnectFailure::handshake:
      error.kind = ErrorKind::handshake;
      break;
    case gw::ws::ConnectFailure::closed:
      error.kind = ErrorKind::disconnected;
      break;
    case gw::ws::ConnectFailure::none:
    case gw::ws::ConnectFailure::unreachable:
      break;
  }
  return error;
}

Event resync_event(EventType type, std::string channel, ResyncReason reason) {
  Event event;
  event.type = type;
  event.channel = std::move(channel);
  event.reason = reason;
  return event;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl

struct SocketLink;

struct Connection::Impl final : gw::client::MessageSink {
  struct Subscription {
    std::string channel;
    ChannelKind kind = ChannelKind::other;
    std::string instrument;
    std::shared_ptr<const Handlers> handlers;
    std::unique_ptr<Book> book;  // book channels
    bool confirmed = false;      // the server accepted it (on this or an earlier connection)
    bool resync_pending = false;
    ResyncReason resync_reason = ResyncReason::gap;
    bool drop_next_change = false;  // test hooks
    bool corrupt_next_checksum = false;
  };

  struct Pending {
    ResultCallback callback;
    std::uint64_t deadline_ms = 0;
    std::int64_t sent_ns = 0;
    std::uint64_t generation = 0;  // the socket it went out on
  };

  struct Queued {
    std::uint64_t id = 0;
    std::string text;
    ResultCallback callback;
    std::uint64_t deadline_ms = 0;
  };

  // subscribe() calls waiting for the connection's (re)subscription.
  struct WaitingSubscribe {
    std::vector<std::string> channels;
    ChannelsCallback done;
  };

  enum class FormatState { requested, known, unavailable };

  Impl(EventLoop& event_loop, ConnectionOptions connection_options)
      : loop(event_loop.native()),
        options(std::move(connection_options)),
        rng(std::random_device{}()),
        sweep_timer([this] { sweep(); }),
        reconnect_timer([this] { connect_now(); }) {}
  ~Impl() override;

  // ---- life cycle ----
  Status start();
  void stop();
  void shut_down(std::string_view close_reason, const Error& request_error);
  void connect_now();
  void on_link_open(SocketLink& link);
  void on_link_message(SocketLink& link, gw::ws::MessageType type,
                       std::span<const std::uint8_t> payload);
  void on_link_closed(SocketLink& link, std::uint16_t code, std::string_view reason);
  void on_link_failed(SocketLink& link, Error error);
  void forget_link(SocketLink& link);
  void lose_current(SocketLink& link, Event event, const Error& request_error);
  void schedule_reconnect(const Error& last_error);
  void give_up(const Error& error);
  void retire_current();
  void close_link(SocketLink& link, std::uint16_t code, std::string_view reason);
  void close_if_retired_and_idle(std::uint64_t generation);
  void emit(Event event);
  void mark_books_lost(ResyncReason reason, const Subscription* except);

  // ---- requests ----
  void call(std::string_view method, std::string params, ResultCallback callback, double timeout_s);
  // Sends now on the current socket (internal requests that set the session up).
  void send_now(std::string_view method, std::string_view params, ResultCallback callback);
  void send_queued(Queued queued);
  void flush_queue();
  void complete(std::uint64_t id, Result<Value> result);
  void fail_requests(std::optional<std::uint64_t> generation, const Error& error);
  void sweep();
  void arm_sweep();

  // ---- session ----
  void authenticate();
  void after_authentication();
  void subscribe(std::vector<std::string> channels, Handlers handlers, ChannelsCallback done);
  void unsubscribe(std::vector<std::string> channels, ChannelsCallback done);
  void send_subscribe(std::vector<std::string> channels, std::vector<WaitingSubscribe> waiting);
  void on_subscribed(const std::vector<std::string>& asked, const Result<Value>& result,
                     std::vector<WaitingSubscribe>& waiting);
  std::string_view subscribe_method() const {
    return private_session() ? "private/subscribe" : "public/subscribe";
  }
  std::string_view unsubscribe_method() const {
    return private_session() ? "private/unsubscribe" : "public/unsubscribe";
  }
  bool private_session() const {
    return options.credentials.has_value() || options.private_subscribe;
  }

  // ---- notifications (MessageSink) ----
  void on_response(std::uint64_t id, Result<Value> result) override;
  void on_unmatched_response(Result<Value> result) override;
  void on_notification(std::string_view channel, const gw::client::NotificationData& data) override;
  void on_heartbeat(std::string_view type) override;
  void on_book(Subscription& sub, const gw::client::NotificationData& data);
  bool report_snapshot(Subscription& sub, bool was_live);
  void deliver_typed(const Subscription& sub, const Handlers& handlers, const Value& data);
  void begin_resync(Subscription& sub, ResyncReason reason);
  void request_format(const std::string& instrument);
  void apply_format(const std::string& instrument, const BookFormat& format);
  Subscription* find_subscription(std::string_view channel) {
    const auto it = subscriptions.find(channel);
    return it == subscriptions.end() ? nullptr : it->second.get();
  }

  gw::net::EventLoop& loop;
  ConnectionOptions options;
  gw::ws::Url url;
  gw::ws::ClientOptions client_options;
  std::unique_ptr<gw::client::Decoder> decoder;
  EventCallback on_event;
  ConnectionState state = ConnectionState::idle;
  bool stopped = false;
  bool ever_ready = false;

  std::vector<SocketLink*> links;  // every socket still alive that reports to us
  SocketLink* current = nullptr;
  SocketLink* delivering = nullptr;  // the link whose frame is being decoded
  std::uint64_t next_generation = 1;
  std::uint64_t connected_at_ms = 0;  // 0: not connected
  std::uint64_t last_resync_ms = 0;
  int attempt = 0;  // consecutive reconnect attempts
  std::mt19937_64 rng;

  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, Pending> in_flight;
  std::deque<Queued> queued;
  std::vector<WaitingSubscribe> waiting_subscribes;  // made before the connection was ready
  simdjson::dom::parser params_parser;  // checks call() params (not the decoder's parser)

  std::map<std::string, std::shared_ptr<Subscription>, std::less<>> subscriptions;
  std::map<std::string, std::pair<FormatState, BookFormat>, std::less<>> formats;
  BookUpdate update;  // reused for every book message

  Stats stats;
  LatencyHistogram latency;
  gw::net::Timer sweep_timer;
  gw::net::Timer reconnect_timer;
};

// The handler of one socket (see the top of the file).
struct SocketLink final : gw::ws::WebSocketHandler {
  SocketLink(Connection::Impl* connection, const gw::ws::ClientOptions& client_options,
             std::uint64_t socket_generation)
      : owner(connection), options(client_options), generation(socket_generation) {}

  void on_open(gw::ws::WebSocket&) override {
    open = true;
    if (owner != nullptr) owner->on_link_open(*this);
  }
  void on_message(gw::ws::WebSocket&, gw::ws::MessageType type,
                  std::span<std::uint8_t> payload) override {
    if (owner != nullptr) owner->on_link_message(*this, type, payload);
  }
  void on_close(gw::ws::WebSocket&, std::uint16_t code, std::string_view reason) override {
    socket = nullptr;  // still closing, but no longer ours to use
    if (owner != nullptr) owner->on_link_closed(*this, code, reason);
  }
  void on_connect_error(gw::ws::WebSocket& s, std::string_view error) override {
    socket = nullptr;
    if (owner != nullptr)
      owner->on_link_failed(*this, connect_error(static_cast<gw::ws::ClientSocket&>(s), error));
  }
  void destroyed() {
    if (owner != nullptr) owner->forget_link(*this);
    delete this;
  }

  Connection::Impl* owner;
  gw::ws::ClientOptions options;
  std::uint64_t generation;
  gw::ws::ClientSocket* socket = nullptr;
  bool open = false;
  bool retiring = false;  // a resync replaced it: answers only, closed once idle
};

Connection::Impl::~Impl() {
  // No callbacks from here on: the sockets finish closing on their own.
  for (SocketLink* link : links) {
    link->owner = nullptr;
    if (link->socket != nullptr) link->socket->close(gw::ws::close_code::normal, "client closed");
  }
}

// ---- life cycle ---------------------------------------------------------------------------

Status Connection::Impl::start() {
  if (state != ConnectionState::idle) {
    return make_error(ErrorKind::invalid_argument, "the connection was already started");
  }
  std::string error;
  auto parsed = gw::ws::parse_url(options.url, &error);
  if (!parsed) {
    return make_error(ErrorKind::invalid_argument, "bad URL '" + options.url + "': " + error);
  }
  url = std::move(*parsed);
  decoder = gw::client::make_decoder(options.encoding, &error);
  if (!decoder) return make_error(ErrorKind::invalid_argument, error);

  gw::ws::SocketOptions& socket = client_options.socket;
  socket.handshake_timeout_s = options.connect_timeout_s;
  // Deribit keeps quiet sockets open; with heartbeats, three silent intervals mean it is gone.
  socket.idle_timeout_s =
      options.heartbeat_interval_s > 0 ? 3.0 * options.heartbeat_interval_s : 0.0;
  socket.protocol.max_message_size = options.max_message_size;
  if (const std::string_view subprotocol = gw::client::subprotocol_of(options.encoding);
      !subprotocol.empty()) {
    client_options.handshake.subprotocols = {std::string(subprotocol)};
  }
  client_options.handshake.headers = options.headers;
  if (url.secure) {
    gw::net::TlsClientConfig tls;
    tls.ca_file = options.tls.ca_file;
    tls.verify_peer = options.tls.verify;
    tls.client = {options.tls.certificate_file, options.tls.private_key_file};
    client_options.tls_context = gw::net::TlsClientContext::create(tls, &error);
    if (!client_options.tls_context) return make_error(ErrorKind::tls, error);
  }
  connect_now();
  return Done{};
}

void Connection::Impl::connect_now() {
  if (stopped) return;
  state = ConnectionState::connecting;
  auto* link = new SocketLink(this, client_options, next_generation++);
  std::string error;
  link->socket = gw::ws::ClientSocket::connect(loop, url, link->options, *link, &error);
  if (link->socket == nullptr) {
    delete link;
    const Error failure = make_error(ErrorKind::unreachable, error);
    Event event;
    event.type = EventType::disconnected;
    event.error = failure;
    emit(event);
    if (stopped) return;
    if (!ever_ready && !options.reconnect.retry_initial_connect) {
      give_up(failure);
    } else {
      schedule_reconnect(failure);
    }
    return;
  }
  link->socket->set_on_destroyed([link] { link->destroyed(); });
  links.push_back(link);
  current = link;
}

void Connection::Impl::stop() {
  if (stopped) return;
  shut_down("client closed", make_error(ErrorKind::closed, "the connection was closed"));
}

// The end of the connection, by the user (stop) or by the retry policy (give_up): no timer
// fires again, every socket closes without calling back, and every request still due fails
// with `request_error`.
void Connection::Impl::shut_down(std::string_view close_reason, const Error& request_error) {
  stopped = true;
  state = ConnectionState::stopped;
  sweep_timer.cancel();
  reconnect_timer.cancel();
  for (SocketLink* link : links) {
    link->owner = nullptr;
    if (link->socket != nullptr) link->socket->close(gw::ws::close_code::normal, close_reason);
  }
  links.clear();
  current = nullptr;
  fail_requests(std::nullopt, request_error);
}

void Connection::Impl::forget_link(SocketLink& link) {
  std::erase(links, &link);
  if (current == &link) current = nullptr;
  if (delivering == &link) delivering = nullptr;
}

void Connection::Impl::emit(Event event) {
  if (on_event) on_event(event);
}

void Connection::Impl::on_link_open(SocketLink& link) {
  if (&link != current) return;
  connected_at_ms = now_ms();
  ++stats.connects;
  if (ever_ready) ++stats.reconnects;
  Event event;
  event.type = EventType::connected;
  emit(event);
  if (stopped || &link != current) return;
  if (options.credentials) {
    state = ConnectionState::authenticating;
    authenticate();
  } else {
    after_authentication();
  }
}

void Connection::Impl::on_link_message(SocketLink& link, gw::ws::MessageType type,
                                       std::span<const std::uint8_t> payload) {
  ++stats.messages_received;
  stats.bytes_received += payload.size();
  if (options.frame_tap) [[unlikely]] {
    options.frame_tap({payload, type == gw::ws::MessageType::binary, wall_ns()});
  }
  std::string error;
  delivering = &link;
  const bool ok = decoder->decode(payload, type == gw::ws::MessageType::binary, *this, error);
  delivering = nullptr;
  if (!ok) {
    ++stats.decode_errors;
    Event event;
    event.error = make_error(ErrorKind::protocol, error);
    emit(event);
  }
}

void Connection::Impl::on_link_closed(SocketLink& link, std::uint16_t code,
                                      std::string_view reason) {
  const Error lost = make_error(ErrorKind::disconnected,
                                "the connection closed (" + std::to_string(code) +
                                    (reason.empty() ? "" : " " + std::string(reason)) + ")");
  if (&link != current) {
    // A retired socket: what was still waiting on it is lost with it.
    fail_requests(link.generation, lost);
    return;
  }
  Event event;
  event.type = EventType::disconnected;
  event.close_code = code;
  event.close_reason.assign(reason);
  lose_current(link, std::move(event), lost);
}

void Connection::Impl::on_link_failed(SocketLink& link, Error error) {
  if (&link != current) return;
  Event event;
  event.type = EventType::disconnected;
  event.error = error;
  lose_current(link, std::move(event), error);
}

// The current socket is gone (closed, or never opened): fail what was sent on it, report the
// books as lost, and reconnect or give up.
void Connection::Impl::lose_current(SocketLink& link, Event event, const Error& request_error) {
  current = nullptr;
  const bool was_open = link.open;
  if (was_open && connected_at_ms != 0 &&
      now_ms() - connected_at_ms >= to_ms(options.reconnect.stable_after_s)) {
    attempt = 0;  // it had been up long enough: start the backoff over
  }
  connected_at_ms = 0;
  if (state != ConnectionState::stopped) state = ConnectionState::connecting;
  fail_requests(link.generation, request_error);
  if (stopped) return;
  mark_books_lost(ResyncReason::reconnect, nullptr);
  emit(std::move(event));
  if (stopped) return;
  if (!ever_ready && !options.reconnect.retry_initial_connect) {
    give_up(request_error);
    return;
  }
  schedule_reconnect(request_error);
}

// Every book that was not already resyncing is broken now and will be resubscribed.
void Connection::Impl::mark_books_lost(ResyncReason reason, const Subscription* except) {
  std::vector<std::string> lost;
  for (auto& [name, sub] : subscriptions) {
    if (!sub->book || sub->resync_pending || sub.get() == except) continue;
    sub->book->mark_broken();
    sub->resync_pending = true;
    sub->resync_reason = reason;
    ++stats.resyncs;
    lost.push_back(name);
  }
  for (std::string& name : lost) {
    emit(resync_event(EventType::resync, std::move(name), reason));
    if (stopped) return;
  }
}

void Connection::Impl::schedule_reconnect(const Error& last_error) {
  const ReconnectOptions& r = options.reconnect;
  if (!r.enabled) {
    give_up(last_error);
    return;
  }
  ++attempt;
  if (r.max_attempts > 0 && attempt > r.max_attempts) {
    give_up(last_error);
    return;
  }
  const double base =
      std::min(r.max_delay_s, r.initial_delay_s * std::pow(r.multiplier, attempt - 1));
  const double jitter = std::clamp(r.jitter, 0.0, 1.0);
  const double delay = base * (1.0 - jitter * std::uniform_real_distribution<double>(0, 1)(rng));
  state = ConnectionState::waiting_to_reconnect;
  Event event;
  event.type = EventType::reconnecting;
  event.attempt = attempt;
  event.delay_s = delay;
  emit(std::move(event));
  if (stopped) return;
  loop.timers().arm(reconnect_timer, now_ms() + std::max<std::uint64_t>(to_ms(delay), 1));
}

void Connection::Impl::give_up(const Error& error) {
  shut_down("giving up", error);
  Event event;
  event.type = EventType::gave_up;
  event.error = error;
  emit(std::move(event));
}

// A resync: keep the current socket for the answers still due on it, and open a new one.
void Connection::Impl::retire_current() {
  if (current == nullptr) return;  // already reconnecting: the books resubscribe then
  SocketLink& link = *current;
  current = nullptr;
  link.retiring = true;
  connected_at_ms = 0;
  state = ConnectionState::connecting;
  close_if_retired_and_idle(link.generation);
  const std::uint64_t now = now_ms();
  const bool too_soon = last_resync_ms != 0 && now - last_resync_ms < kResyncSpacingMs;
  last_resync_ms = now;
  if (too_soon) {
    schedule_reconnect(make_error(ErrorKind::disconnected, "resync"));
  } else {
    connect_now();
  }
}

void Connection::Impl::close_link(SocketLink& link, std::uint16_t code, std::string_view reason) {
  if (link.socket != nullptr) link.socket->close(code, reason);
}

void Connection::Impl::close_if_retired_and_idle(std::uint64_t generation) {
  for (SocketLink* link : links) {
    if (link->generation != generation || !link->retiring) continue;
    const bool busy = std::any_of(in_flight.begin(), in_flight.end(),
                                  [&](const auto& p) { return p.second.generation == generation; });
    if (!busy) close_link(*link, gw::ws::close_code::normal, "resync");
    return;
  }
}

// ---- requests -----------------------------------------------------------------------------

void Connection::Impl::call(std::string_view method, std::string params, ResultCallback callback,
                            double timeout_s) {
  if (stopped) {
    if (callback) callback(make_error(ErrorKind::closed, "the connection is closed"));
    return;
  }
  Queued q;
  q.id = next_id++;
  q.text = request_text(q.id, method, params);
  q.callback = std::move(callback);
  q.deadline_ms = now_ms() + to_ms(timeout_s > 0 ? timeout_s : options.request_timeout_s);
  if (state == ConnectionState::ready && current != nullptr) {
    send_queued(std::move(q));
  } else {
    queued.push_back(std::move(q));
    arm_sweep();
  }
}

void Connection::Impl::send_now(std::string_view method, std::string_view params,
                                ResultCallback callback) {
  Queued q;
  q.id = next_id++;
  q.text = request_text(q.id, method, params);
  q.callback = std::move(callback);
  q.deadline_ms = now_ms() + to_ms(options.request_timeout_s);
  send_queued(std::move(q));
}

void Connection::Impl::send_queued(Queued q) {
  if (current == nullptr || current->socket == nullptr || !current->socket->send_text(q.text)) {
    queued.push_back(std::move(q));  // the socket is going: it goes out on the next one
    arm_sweep();
    return;
  }
  ++stats.requests_sent;
  in_flight.emplace(
      q.id, Pending{std::move(q.callback), q.deadline_ms, steady_ns(), current->generation});
  arm_sweep();
}

void Connection::Impl::flush_queue() {
  std::deque<Queued> waiting;
  waiting.swap(queued);
  while (!waiting.empty()) {
    send_queued(std::move(waiting.front()));
    waiting.pop_front();
  }
}

void Connection::Impl::complete(std::uint64_t id, Result<Value> result) {
  const auto it = in_flight.find(id);
  if (it == in_flight.end()) return;  // answered after its timeout, or not ours
  Pending pending = std::move(it->second);
  in_flight.erase(it);
  latency.add(static_cast<double>(steady_ns() - pending.sent_ns) / 1000.0);
  ++stats.responses;
  if (!result.ok()) ++stats.rpc_errors;
  close_if_retired_and_idle(pending.generation);
  if (pending.callback) pending.callback(std::move(result));
}

// Fails the requests in flight on one socket (or all, and the queued ones too).
void Connection::Impl::fail_requests(std::optional<std::uint64_t> generation, const Error& error) {
  std::vector<ResultCallback> callbacks;
  for (auto it = in_flight.begin(); it != in_flight.end();) {
    if (generation && it->second.generation != *generation) {
      ++it;
      continue;
    }
    callbacks.push_back(std::move(it->second.callback));
    it = in_flight.erase(it);
  }
  std::vector<WaitingSubscribe> subscribes;
  if (!generation) {
    for (Queued& q : queued) callbacks.push_back(std::move(q.callback));
    queued.clear();
    subscribes.swap(waiting_subscribes);
  }
  for (ResultCallback& callback : callbacks) {
    if (callback) callback(error);
  }
  for (WaitingSubscribe& w : subscribes) {
    if (w.done) w.done(error);
  }
}

void Connection::Impl::arm_sweep() {
  if (!sweep_timer.armed() && !stopped) loop.timers().arm(sweep_timer, now_ms() + kSweepIntervalMs);
}

void Connection::Impl::sweep() {
  const std::uint64_t now = now_ms();
  std::vector<std::pair<ResultCallback, std::uint64_t>> expired;  // callback, generation
  for (auto it = in_flight.begin(); it != in_flight.end();) {
    if (it->second.deadline_ms > now) {
      ++it;
      continue;
    }
    expired.emplace_back(std::move(it->second.callback), it->second.generation);
    it = in_flight.erase(it);
  }
  for (auto it = queued.begin(); it != queued.end();) {
    if (it->deadline_ms > now) {
      ++it;
      continue;
    }
    expired.emplace_back(std::move(it->callback), 0);
    it = queued.erase(it);
  }
  if (!in_flight.empty() || !queued.empty()) arm_sweep();
  for (auto& [callback, generation] : expired) {
    ++stats.timeouts;
    if (generation != 0) close_if_retired_and_idle(generation);
    if (callback) callback(make_error(ErrorKind::timeout, "no answer before the timeout"));
    if (stopped) return;
  }
}

// ---- session --------------------------------------------------------------------------------

void Connection::Impl::authenticate() {
  const std::uint64_t generation = current->generation;
  send_now("public/auth", client_signature_params(*options.credentials),
           [this, generation](Result<Value> result) {
             if (current == nullptr || current->generation != generation) return;
             if (result.ok()) {
               Event event;
               event.type = EventType::authenticated;
               emit(std::move(event));
               if (!stopped && current != nullptr && current->generation == generation)
                 after_authentication();
               return;
             }
             if (result.error().kind == ErrorKind::rpc) {
               give_up(result.error());  // wrong credentials do not get better by retrying
               return;
             }
             // A timeout: the server is not answering; try another connection.
             Event event;
             event.error = result.error();
             emit(std::move(event));
             if (current != nullptr && current->generation == generation)
               close_link(*current, gw::ws::close_code::going_away, "authentication timed out");
           });
}

void Connection::Impl::after_authentication() {
  if (options.heartbeat_interval_s > 0) {
    send_now("public/set_heartbeat",
             R"({"interval":)" + std::to_string(options.heartbeat_interval_s) + "}",
             [this](Result<Value> result) {
               if (result.ok() || result.error().kind != ErrorKind::rpc) return;
               Event event;
               event.error = result.error();
               emit(std::move(event));
             });
  }
  // Everything we are subscribed to, and what was asked while not connected, in one request.
  std::vector<std::string> channels;
  for (auto& [name, sub] : subscriptions) channels.push_back(name);
  std::vector<WaitingSubscribe> waiting;
  waiting.swap(waiting_subscribes);
  if (!channels.empty() || !waiting.empty())
    send_subscribe(std::move(channels), std::move(waiting));
  state = ConnectionState::ready;
  ever_ready = true;
  Event event;
  event.type = EventType::ready;
  emit(std::move(event));
  if (!stopped) flush_queue();
}

void Connection::Impl::subscribe(std::vector<std::string> channels, Handlers handlers,
                                 ChannelsCallback done) {
  if (stopped) {
    if (done) done(make_error(ErrorKind::closed, "the connection is closed"));
    return;
  }
  auto shared = std::make_shared<const Handlers>(std::move(handlers));
  std::vector<std::string> fresh;
  for (const std::string& channel : channels) {
    auto& sub = subscriptions[channel];
    if (sub) {
      sub->handlers = shared;  // already subscribed: new handlers, same book
      continue;
    }
    sub = std::make_shared<Subscription>();
    sub->channel = channel;
    const ChannelInfo info = classify_channel(channel);
    sub->kind = info.kind;
    sub->instrument.assign(info.instrument);
    sub->handlers = shared;
    if (info.kind == ChannelKind::book) {
      sub->book = std::make_unique<Book>(sub->instrument);
      // Another book of the instrument (or set_book_format) made the formats known already.
      const auto known = formats.find(sub->instrument);
      if (known != formats.end() && known->second.first == FormatState::known) {
        sub->book->set_format(known->second.second);
      }
    }
    fresh.push_back(channel);
  }
  WaitingSubscribe waiting{std::move(channels), std::move(done)};
  if (state == ConnectionState::ready && current != nullptr) {
    std::vector<WaitingSubscribe> list;
    list.push_back(std::move(waiting));
    send_subscribe(std::move(fresh), std::move(list));
  } else {
    waiting_subscribes.push_back(std::move(waiting));  // sent with the (re)subscription
  }
}

void Connection::Impl::send_subscribe(std::vector<std::string> channels,
                                      std::vector<WaitingSubscribe> waiting) {
  for (const std::string& name : channels) {
    if (Subscription* sub = find_subscription(name); sub != nullptr && sub->book)
      sub->book->reset();  // a fresh snapshot is on its way
  }
  if (channels.empty()) {
    // Only channels that were already subscribed: acknowledge with what we have.
    on_subscribed(channels, Value(Value::Array{}), waiting);
    return;
  }
  const std::string params = channels_params(channels);
  auto asked = std::make_shared<std::vector<std::string>>(std::move(channels));
  auto pending = std::make_shared<std::vector<WaitingSubscribe>>(std::move(waiting));
  send_now(subscribe_method(), params, [this, asked, pending](Result<Value> result) {
    on_subscribed(*asked, result, *pending);
  });
}

void Connection::Impl::on_subscribed(const std::vector<std::string>& asked,
                                     const Result<Value>& result,
                                     std::vector<WaitingSubscribe>& waiting) {
  if (!result.ok()) {
    // New channels are forgotten (their subscribe() fails); channels the server had accepted
    // before are kept for the next connection.
    const bool refused = result.error().kind == ErrorKind::rpc;
    for (const std::string& name : asked) {
      const auto it = subscriptions.find(name);
      if (it != subscriptions.end() && !it->second->confirmed) subscriptions.erase(it);
    }
    if (refused && waiting.empty()) {
      Event event;
      event.error = result.error();
      emit(std::move(event));
    }
    for (WaitingSubscribe& w : waiting) {
      if (w.done) w.done(result.error());
    }
    return;
  }
  std::vector<std::string> accepted;
  for (const Value& name : result.value().array()) accepted.emplace_back(name.as_string());
  auto was_accepted = [&](const std::string& name) {
    return std::find(accepted.begin(), accepted.end(), name) != accepted.end();
  };
  std::vector<std::string> dropped;
  for (const std::string& name : asked) {
    const auto it = subscriptions.find(name);
    if (it == subscriptions.end()) continue;
    if (was_accepted(name)) {
      it->second->confirmed = true;
    } else {
      subscriptions.erase(it);
      dropped.push_back(name);
    }
  }
  // Events first: whoever waits on `done` finds them reported.
  for (std::string& name : dropped) {
    Event event;
    event.type = EventType::subscription_dropped;
    event.channel = std::move(name);
    emit(std::move(event));
  }
  for (WaitingSubscribe& w : waiting) {
    std::vector<std::string> granted;
    for (const std::string& name : w.channels) {
      if (subscriptions.count(name) != 0) granted.push_back(name);
    }
    if (w.done) w.done(std::move(granted));
  }
}

void Connection::Impl::unsubscribe(std::vector<std::string> channels, ChannelsCallback done) {
  std::vector<std::string> removed;
  for (const std::string& name : channels) {
    if (subscriptions.erase(name) != 0) removed.push_back(name);
  }
  if (state != ConnectionState::ready || current == nullptr || removed.empty()) {
    if (done) done(std::move(removed));  // nothing on the wire to undo
    return;
  }
  send_now(unsubscribe_method(), channels_params(removed),
           [done = std::move(done)](Result<Value> result) {
             if (!done) return;
             if (!result.ok()) {
               done(result.error());
               return;
             }
             std::vector<std::string> names;
             for (const Value& name : result.value().array()) names.emplace_back(name.as_string());
             done(std::move(names));
           });
}

// ---- notifications ----------------------------------------------------------------------------

void Connection::Impl::on_response(std::uint64_t id, Result<Value> result) {
  complete(id, std::move(result));
}

void Connection::Impl::on_unmatched_response(Result<Value> result) {
  Event event;
  event.error =
      result.ok() ? make_error(ErrorKind::protocol, "a response without an id") : result.error();
  emit(std::move(event));
}

void Connection::Impl::on_heartbeat(std::string_view type) {
  if (type != "test_request" || delivering != current || current == nullptr) return;
  ++stats.heartbeats_answered;
  send_now("public/test", {}, nullptr);  // Deribit closes a connection that does not answer
}

void Connection::Impl::on_notification(std::string_view channel,
                                       const gw::client::NotificationData& data) {
  if (delivering != current || current == nullptr) return;  // a retired socket's
  ++stats.notifications;
  const auto it = subscriptions.find(channel);
  if (it == subscriptions.end()) return;  // unsubscribed meanwhile
  // Handlers may unsubscribe: hold the subscription and its handlers for the call.
  const std::shared_ptr<Subscription> sub = it->second;
  const std::shared_ptr<const Handlers> handlers = sub->handlers;
  std::optional<Value> tree;
  if (handlers->raw) {
    tree = data.to_value();
    handlers->raw(channel, *tree);
    if (stopped || delivering != current) return;
  }
  if (sub->kind == ChannelKind::book) {
    on_book(*sub, data);
    return;
  }
  if (sub->kind == ChannelKind::other) return;
  if (!tree) tree = data.to_value();
  deliver_typed(*sub, *handlers, *tree);
}

void Connection::Impl::deliver_typed(const Subscription& sub, const Handlers& h,
                                     const Value& data) {
  // Channels whose data may be one object or an array of them (raw vs 100ms).
  auto each = [&data](auto convert) {
    std::vector<decltype(convert(data))> out;
    if (data.is_array()) {
      for (const Value& item : data.array()) out.push_back(convert(item));
    } else {
      out.push_back(convert(data));
    }
    return out;
  };
  switch (sub.kind) {
    case ChannelKind::grouped_book:
      if (h.grouped_book) h.grouped_book(grouped_book_from(data));
      break;
    case ChannelKind::ticker:
      if (h.ticker) h.ticker(ticker_from(data));
      break;
    case ChannelKind::trades:
      if (h.trades) h.trades(each(trade_from));
      break;
    case ChannelKind::price_index:
      if (h.price_index) h.price_index(price_index_from(data));
      break;
    case ChannelKind::mark_price:
      if (h.mark_prices) h.mark_prices(each(mark_price_from));
      break;
    case ChannelKind::user_orders:
      if (h.orders) h.orders(each(order_from));
      break;
    case ChannelKind::user_trades:
      if (h.user_trades) h.user_trades(each(user_trade_from));
      break;
    case ChannelKind::user_portfolio:
      if (h.portfolio) h.portfolio(portfolio_from(data));
      break;
    case ChannelKind::vol_surface:
      if (h.vol_surface) h.vol_surface(vol_surface_from(data));
      break;
    case ChannelKind::chain_blocks:
      if (h.chain_block) h.chain_block(chain_block_from(data));
      break;
    case ChannelKind::chain_transfers:
      if (h.chain_transfer) h.chain_transfer(chain_transfer_from(data));
      break;
    case ChannelKind::book:
    case ChannelKind::other:
      break;
  }
}

void Connection::Impl::on_book(Subscription& sub, const gw::client::NotificationData& data) {
  Book& book = *sub.book;
  if (!data.read_book(update)) {
    // A message we cannot read may have changed the book: it cannot be trusted any more.
    ++stats.decode_errors;
    Event event;
    event.channel = sub.channel;
    event.error = make_error(ErrorKind::protocol, "an unreadable book message on " + sub.channel);
    emit(std::move(event));
    if (!stopped && book.state() != Book::State::broken)
      begin_resync(sub, ResyncReason::inconsistent);
    return;
  }
  // Test hooks: lose this change, or flip its checksum.
  if (sub.drop_next_change && !update.snapshot) {
    sub.drop_next_change = false;
    return;
  }
  if (sub.corrupt_next_checksum && update.checksum) {
    sub.corrupt_next_checksum = false;
    *update.checksum ^= 0xffffffffu;
  }
  const bool was_live = book.live();
  const std::uint64_t verified_before = book.checksums_verified();
  const ApplyResult result = book.apply(update);
  stats.checksums_verified += book.checksums_verified() - verified_before;
  switch (result) {
    case ApplyResult::applied:
    case ApplyResult::snapshot:
      break;
    case ApplyResult::gap:
      ++stats.gaps;
      begin_resync(sub, ResyncReason::gap);
      return;
    case ApplyResult::checksum_mismatch:
      ++stats.checksum_mismatches;
      begin_resync(sub, ResyncReason::checksum_mismatch);
      return;
    case ApplyResult::inconsistent:
      ++stats.inconsistencies;
      begin_resync(sub, ResyncReason::inconsistent);
      return;
    case ApplyResult::ignored:
      return;
    case ApplyResult::wrong_instrument:
      ++stats.decode_errors;
      return;
  }
  ++stats.book_updates;
  if (update.checksum && !book.format() && options.verify_checksums) request_format(sub.instrument);
  if (result == ApplyResult::snapshot && !report_snapshot(sub, was_live)) return;
  if (sub.handlers->book) sub.handlers->book(book, update);
}

// A snapshot ends a resync (ours: `resynced` with its reason), or is one the server started on
// its own in the middle of a chain (`resync` and `resynced`, server_snapshot). False if a
// callback stopped the connection.
bool Connection::Impl::report_snapshot(Subscription& sub, bool was_live) {
  std::optional<ResyncReason> recovered;
  if (sub.resync_pending) {
    recovered = sub.resync_reason;
    sub.resync_pending = false;
  } else if (was_live) {
    ++stats.resyncs;
    recovered = ResyncReason::server_snapshot;
    emit(resync_event(EventType::resync, sub.channel, *recovered));
    if (stopped) return false;
  }
  if (recovered) emit(resync_event(EventType::resynced, sub.channel, *recovered));
  return !stopped;
}

void Connection::Impl::begin_resync(Subscription& sub, ResyncReason reason) {
  sub.book->mark_broken();
  sub.resync_pending = true;
  sub.resync_reason = reason;
  ++stats.resyncs;
  emit(resync_event(EventType::resync, sub.channel, reason));
  if (stopped) return;
  // The other books lose their chain with the socket.
  mark_books_lost(ResyncReason::reconnect, &sub);
  if (!stopped) retire_current();
}

void Connection::Impl::request_format(const std::string& instrument) {
  if (formats.count(instrument) != 0 || current == nullptr) return;
  formats[instrument] = {FormatState::requested, {}};
  std::string params = R"({"instrument_name":)";
  gw::codec::append_json_string(params, instrument);
  params += "}";
  send_now("public/get_instrument", params, [this, instrument](Result<Value> result) {
    if (!result.ok() && result.error().kind != ErrorKind::rpc) {
      formats.erase(instrument);  // lost with the socket: ask again on the next message
      return;
    }
    const std::optional<BookFormat> format =
        result.ok() ? book_format(result.value()) : std::nullopt;
    if (!format) {
      formats[instrument] = {FormatState::unavailable, {}};
      Event event;
      event.error = result.ok() ? make_error(ErrorKind::protocol,
                                             "no tick_size or min_trade_amount for " + instrument +
                                                 ": checksums are not verified")
                                : result.error();
      emit(std::move(event));
      return;
    }
    formats[instrument] = {FormatState::known, *format};
    apply_format(instrument, *format);
  });
}

void Connection::Impl::apply_format(const std::string& instrument, const BookFormat& format) {
  std::vector<std::shared_ptr<Subscription>> mismatched;
  for (auto& [name, sub] : subscriptions) {
    if (!sub->book || sub->instrument != instrument) continue;
    const std::uint64_t before = sub->book->checksums_verified();
    if (sub->book->set_format(format) == ApplyResult::checksum_mismatch) {
      ++stats.checksum_mismatches;
      mismatched.push_back(sub);
    }
    stats.checksums_verified += sub->book->checksums_verified() - before;
  }
  for (auto& sub : mismatched) {
    if (stopped) return;
    begin_resync(*sub, ResyncReason::checksum_mismatch);
  }
}

// ---------------------------------------------------------------------------------------------
// Connection

Connection::Connection(EventLoop& loop, ConnectionOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(options))) {}

Connection::~Connection() = default;

void Connection::on_event(EventCallback callback) {
  impl_->on_event = std::move(callback);
}

Status Connection::start() {
  return impl_->start();
}

void Connection::stop() {
  impl_->stop();
}

void Connection::call(std::string_view method, std::string_view params_json,
                      ResultCallback callback, double timeout_s) {
  std::string params;
  if (!params_json.empty()) {
    // Refuse what the server could only answer without an id (the call would time out).
    simdjson::padded_string padded(params_json);
    simdjson::dom::element root;
    if (impl_->params_parser.parse(padded).get(root) != simdjson::SUCCESS ||
        root.type() != simdjson::dom::element_type::OBJECT) {
      if (callback) {
        callback(make_error(ErrorKind::invalid_argument, "params must be a JSON object, not '" +
                                                             std::string(params_json) + "'"));
      }
      return;
    }
    params.assign(params_json);
  }
  impl_->call(method, std::move(params), std::move(callback), timeout_s);
}

void Connection::subscribe(std::vector<std::string> channels, Handlers handlers,
                           ChannelsCallback done) {
  impl_->subscribe(std::move(channels), std::move(handlers), std::move(done));
}

void Connection::unsubscribe(std::vector<std::string> channels, ChannelsCallback done) {
  impl_->unsubscribe(std::move(channels), std::move(done));
}

const Book* Connection::book(std::string_view channel) const {
  const auto it = impl_->subscriptions.find(channel);
  return it == impl_->subscriptions.end() ? nullptr : it->second->book.get();
}

ConnectionState Connection::state() const {
  return impl_->state;
}

Stats Connection::stats() const {
  Stats stats = impl_->stats;
  stats.request_latency = impl_->latency.summary();
  return stats;
}

const ConnectionOptions& Connection::options() const {
  return impl_->options;
}

void Connection::set_book_format(std::string_view instrument, const BookFormat& format) {
  const std::string name(instrument);
  impl_->formats[name] = {Impl::FormatState::known, format};
  impl_->apply_format(name, format);
}

void Connection::drop_next_change(std::string_view channel) {
  if (Impl::Subscription* sub = impl_->find_subscription(channel)) sub->drop_next_change = true;
}

void Connection::corrupt_next_checksum(std::string_view channel) {
  if (Impl::Subscription* sub = impl_->find_subscription(channel))
    sub->corrupt_next_checksum = true;
}

}  // namespace greekwire
