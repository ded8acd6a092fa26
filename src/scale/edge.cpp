#include "scale/edge.hpp"

#include <greekwire/value.hpp>

#include <cmath>
#include <cstdio>
#include <random>

#include "feed/translate.hpp"
#include "http/prometheus.hpp"
#include "scale/wire.hpp"

namespace gw::scale {

using greekwire::Value;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kCurrencies[] = {"BTC", "ETH"};
// Stream messages waiting for the feed thread at most (~100 MB at ~350 bytes each).
constexpr std::size_t kMaxQueued = 300'000;
// Bootstrap attempts when the edge starts (the venue may be busy, or starting too).
constexpr int kStartAttempts = 5;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// A request's answer, parsed; nullopt with `error` for no answer, a malformed one, or the
// venue's {"error": ...}.
std::optional<Value> ask(NatsConnection& nats, std::string_view subject, std::string_view data,
                         double timeout_s, std::string* error) {
  std::string answer;
  if (!nats.request(subject, data, timeout_s, answer, error)) return std::nullopt;
  auto v = Value::parse_json(answer, error);
  if (!v) return std::nullopt;
  if (const Value* e = v->find("error")) {
    *error = std::string(subject) + " " + std::string(data) + ": " + std::string(e->as_string());
    return std::nullopt;
  }
  return v;
}

}  // namespace

Edge::Edge(EdgeOptions options) : options_(std::move(options)) {
  std::random_device device;
  id_ = (device() & 0xffffffu) | 1u;  // 24 bits, never 0
}

Edge::~Edge() {
  stop();
  nats_.reset();
}

bool Edge::connect(std::string* error) {
  NatsConnection::Options o;
  o.url = options_.url;
  o.name = "greekwire edge";
  o.connect_timeout_s = options_.venue_timeout_s;
  o.on_disconnected = [this] {
    stats_.connected = false;
    log("lost the NATS connection: private requests fail with 13028 until it is back");
  };
  o.on_reconnected = [this] {
    stats_.connected = true;
    log("reconnected to NATS: catching up from the stream");
  };
  nats_ = NatsConnection::connect(std::move(o), error);
  if (!nats_) return false;
  inbox_ = nats_->new_inbox();
  id_text_ = inbox_.substr(inbox_.rfind('.') + 1);
  answers_ = nats_->subscribe(
      inbox_ + ".*", [this](const NatsMessage& m) { on_answer(m); }, error);
  dropped_ = nats_->subscribe(
      kEdgeDroppedSubject,
      [this](const NatsMessage& m) {
        if (m.data != std::to_string(id_)) return;
        log("the venue dropped this edge's connections (it did not hear from it): closing them");
        std::lock_guard lock(private_mutex_);
        if (dropped_sink_) dropped_sink_();
      },
      error);
  if (!answers_ || !dropped_) return false;
  stats_.connected = true;
  // Expires forwarded requests every 20 ms and tells the venue this edge is alive every second.
  expiry_ = std::thread([this] {
    const std::string id = std::to_string(id_);
    auto next_heartbeat = Clock::now();
    std::unique_lock lock(queue_mutex_);
    while (!stop_.load()) {
      stopping_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stop_.load(); });
      lock.unlock();
      expire_requests();
      if (Clock::now() >= next_heartbeat) {
        nats_->publish(kEdgeAliveSubject, id);
        next_heartbeat = Clock::now() + std::chrono::milliseconds(kEdgeHeartbeatMs);
      }
      lock.lock();
    }
  });
  return true;
}

gateway::Forwarder Edge::forwarder() {
  return [this](gateway::ForwardedCall call, gateway::ForwardDone done) {
    forward(std::move(call), std::move(done));
  };
}

bool Edge::start(sim::Venue& mirror, std::string* error) {
  mirror_ = &mirror;
  for (int attempt = 1; !bootstrap(error); ++attempt) {
    if (attempt == kStartAttempts) return false;
    log("cannot list the venue's market yet (" + *error + "); trying again");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void Edge::stop() {
  if (stop_.exchange(true)) return;
  // The venue closes this edge's connections now rather than after kEdgeSilenceMs.
  if (nats_) nats_->publish(kEdgeGoneSubject, std::to_string(id_));
  {
    std::lock_guard lock(queue_mutex_);  // so that no waiter misses the stop
  }
  queue_ready_.notify_all();
  stopping_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (expiry_.joinable()) expiry_.join();
  stream_.reset();
  answers_.reset();
  {
    std::lock_guard lock(accounts_mutex_);
    accounts_.clear();
  }
  dropped_.reset();
  std::unordered_map<std::uint64_t, Pending> pending;
  {
    std::lock_guard lock(pending_mutex_);
    pending.swap(pending_);
  }
  for (auto& [id, p] : pending) fail(p.done, "the gateway is stopping");
  // The connection itself stays until the destructor: the gateway may still forward until it
  // stops, and is answered at once.
}

// ---- requests ---------------------------------------------------------------------------------

void Edge::fail(gateway::ForwardDone& done, std::string reason) {
  stats_.forward_failures.fetch_add(1, std::memory_order_relaxed);
  gateway::ForwardedAnswer answer;
  answer.reason = std::move(reason);
  done(std::move(answer));
}

void Edge::forward(gateway::ForwardedCall call, gateway::ForwardDone done) {
  if (call.disconnect) {
    report_disconnect(std::move(call));
    return;  // nobody waits for the answer
  }
  stats_.forwarded.fetch_add(1, std::memory_order_relaxed);
  if (stop_.load()) {
    fail(done, "the gateway is stopping");
    return;
  }
  // Not queued for a reconnect: the request would reach the venue after its client was told
  // it failed (the venue drops it past its deadline anyway).
  if (!nats_->connected()) {
    fail(done, "the NATS connection to the venue is down");
    return;
  }
  std::uint64_t n = 0;
  {
    std::lock_guard lock(pending_mutex_);
    n = next_request_++;
    pending_.emplace(n, Pending{std::move(done), Clock::now() + seconds(options_.venue_timeout_s)});
  }
  WireCall wire;
  wire.call = std::move(call);
  wire.request_id = id_text_ + "-" + std::to_string(n);
  wire.expires_at_ms = wall_ms() + std::llround(options_.venue_timeout_s * 1000);
  if (nats_->publish_request(kRpcSubject, inbox_ + "." + std::to_string(n), encode_call(wire))) {
    return;
  }
  gateway::ForwardDone refused;
  {
    std::lock_guard lock(pending_mutex_);
    const auto it = pending_.find(n);
    if (it == pending_.end()) return;  // answered or expired meanwhile
    refused = std::move(it->second.done);
    pending_.erase(it);
  }
  fail(refused, "the NATS client refused the request");
}

// A connection closed: the venue must hear of it even late (its cancel-on-disconnect), and
// hearing twice does no harm. So no deadline, and published even while NATS is away (the
// client keeps it for the reconnect); if it is lost all the same, the venue drops this edge's
// connections once it stops hearing its heartbeats. The answer goes to an inbox nobody waits
// on (request 0).
void Edge::report_disconnect(gateway::ForwardedCall call) {
  WireCall wire;
  wire.call = std::move(call);
  wire.request_id = id_text_ + "-d" + std::to_string(next_disconnect_.fetch_add(1) + 1);
  nats_->publish_request(kRpcSubject, inbox_ + ".0", encode_call(wire));
}

void Edge::on_answer(const NatsMessage& message) {
  const std::size_t dot = message.subject.rfind('.');
  const std::string_view number = message.subject.substr(dot + 1);
  std::uint64_t n = 0;
  for (const char c : number) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  gateway::ForwardDone done;
  {
    std::lock_guard lock(pending_mutex_);
    const auto it = pending_.find(n);
    if (it == pending_.end()) return;  // late: its client was answered already
    done = std::move(it->second.done);
    pending_.erase(it);
  }
  if (message.no_responders) {
    fail(done, "no venue is answering on NATS");
    return;
  }
  std::string error;
  auto answer = decode_answer(message.data, &error);
  if (!answer) {
    fail(done, "malformed answer from the venue: " + error);
    return;
  }
  done(std::move(*answer));
}

void Edge::expire_requests() {
  std::vector<gateway::ForwardDone> expired;
  const auto now = Clock::now();
  {
    std::lock_guard lock(pending_mutex_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.done));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  char reason[96];
  std::snprintf(reason, sizeof reason, "the venue did not answer within %g s",
                options_.venue_timeout_s);
  for (auto& done : expired) fail(done, reason);
}

// ---- private channels ---------------------------------------------------------------------------

void Edge::set_private_sink(PrivateSink sink) {
  std::lock_guard lock(private_mutex_);
  private_sink_ = std::move(sink);
}

void Edge::set_dropped_sink(std::function<void()> sink) {
  std::lock_guard lock(private_mutex_);
  dropped_sink_ = std::move(sink);
}

void Edge::subscribe_private(gateway::AccountRowId account, const std::string& channel) {
  {
    std::lock_guard lock(private_mutex_);
    if (!private_channels_.emplace(account, channel).second) return;
  }
  // Only the accounts this edge's clients follow: gw.user.<account>, subscribed before the
  // venue is asked, so that nothing it publishes is missed (one connection keeps the order).
  {
    std::lock_guard lock(accounts_mutex_);
    if (!accounts_.contains(account) && !stop_.load()) {
      std::string error;
      auto subscription = nats_->subscribe(
          std::string(kUserSubjectPrefix) + std::to_string(account),
          [this](const NatsMessage& m) { on_private(m); }, &error);
      if (!subscription) {
        log("cannot follow account " + std::to_string(account) + "'s private channels: " + error);
        return;
      }
      accounts_.emplace(account, std::move(subscription));
    }
  }
  request_private(account, channel);
}

void Edge::request_private(gateway::AccountRowId account, const std::string& channel) {
  greekwire::Value request;
  request.set("account", static_cast<std::int64_t>(account)).set("channel", channel);
  nats_->publish(kUserSubscribeSubject, request.to_json());
}

// "<route>\n<notification>" on gw.user.<account>: for the gateway's subscribers of the route
// (none here: it goes nowhere).
void Edge::on_private(const NatsMessage& message) {
  const std::size_t newline = message.data.find('\n');
  if (newline == std::string_view::npos) return;
  std::lock_guard lock(private_mutex_);
  if (private_sink_)
    private_sink_(message.data.substr(0, newline), message.data.substr(newline + 1));
}

// ---- market -----------------------------------------------------------------------------------

bool Edge::bootstrap(std::string* error) {
  stats_.live = false;
  // Follow the stream first, so that nothing after the snapshots is missed; what the snapshots
  // already hold is skipped by change_id.
  stream_.reset();
  {
    std::lock_guard lock(queue_mutex_);
    queue_.clear();
    overflowed_ = false;
  }
  stream_ = nats_->subscribe_stream(
      kMarketSubjects,
      [this](const NatsMessage& m) {
        bool was_empty = false;
        {
          std::lock_guard lock(queue_mutex_);
          // An edge that cannot keep up drops what it cannot hold and resynchronises, rather
          // than growing without bound.
          if (queue_.size() >= kMaxQueued) {
            overflowed_ = true;
            return;
          }
          was_empty = queue_.empty();
          queue_.emplace_back(m.data);
        }
        // The feed thread takes the whole queue at once: one wake-up per batch, not per message.
        if (was_empty) queue_ready_.notify_one();
      },
      error);
  if (!stream_) return false;

  std::vector<sim::FeedInput> inputs;
  std::string epoch;
  std::unordered_set<std::string> listed;
  std::vector<std::string> books;
  const auto same_epoch = [&](const Value& answer) {
    const std::string_view e = answer["epoch"].as_string();
    if (epoch.empty()) epoch = std::string(e);
    if (e == epoch) return true;
    *error = "the venue restarted during the bootstrap";
    return false;
  };
  for (const std::string_view currency : kCurrencies) {
    const auto answer = ask(*nats_, kListingSubject, currency, options_.venue_timeout_s, error);
    if (!answer || !same_epoch(*answer)) return false;
    for (const Value& row : (*answer)["instruments"].array()) {
      std::string problem;
      auto instrument = feed::instrument_from_row(row, &problem);
      if (!instrument) {
        log("skipped an instrument the venue listed: " + problem);
        continue;
      }
      books.push_back(instrument->name);
      listed.insert(instrument->name);
      inputs.push_back(sim::FeedInstrument{std::move(*instrument)});
    }
    // The venue's last surface, so that volsurface subscribers need not wait for the next.
    if (const Value* surface = answer->find("surface"); surface && !surface->is_null()) {
      std::string problem;
      if (auto s = feed::surface_from(*surface, &problem)) {
        inputs.push_back(sim::FeedSurface{std::move(*s)});
      } else {
        log("skipped the venue's surface: " + problem);
      }
    }
  }
  for (const std::string& name : listed_) {
    if (!listed.contains(name)) inputs.push_back(sim::FeedExpired{name, wall_ms()});
  }
  // Every book at once: the venue answers them in the order its thread takes them.
  std::vector<std::optional<std::string>> answers;
  if (!nats_->request_all(kBookSubject, books, options_.venue_timeout_s, answers, error)) {
    return false;
  }
  snapshot_change_.clear();
  for (std::size_t i = 0; i < books.size(); ++i) {
    if (!answers[i]) {
      *error = "gw.venue.book " + books[i] + ": the venue did not answer in time";
      return false;
    }
    std::string problem;
    const auto answer = Value::parse_json(*answers[i], &problem);
    if (!answer) {
      *error = "the snapshot of " + books[i] + ": " + problem;
      return false;
    }
    if (answer->contains("error")) continue;  // expired since the listing: the stream says so
    if (!same_epoch(*answer)) return false;
    auto book = feed::book_from((*answer)["data"], &problem);
    if (!book) {
      *error = "the snapshot of " + books[i] + ": " + problem;
      return false;
    }
    snapshot_change_[books[i]] = book->change_id;
    inputs.push_back(std::move(*book));
  }
  epoch_ = epoch;
  next_seq_ = 0;
  listed_ = std::move(listed);
  need_bootstrap_ = false;
  last_message_ = Clock::now();
  mirror_->feed(inputs);
  stats_.bootstraps.fetch_add(1, std::memory_order_relaxed);
  stats_.live = true;
  // A venue that restarted has forgotten which private channels edges follow.
  std::set<std::pair<gateway::AccountRowId, std::string>> channels;
  {
    std::lock_guard lock(private_mutex_);
    channels = private_channels_;
  }
  for (const auto& [account, channel] : channels) request_private(account, channel);
  return true;
}

void Edge::lose(const std::string& why, std::vector<sim::FeedInput>& inputs) {
  stats_.gaps.fetch_add(1, std::memory_order_relaxed);
  stats_.live = false;
  log(why + ": every book resynchronises");
  inputs.push_back(sim::FeedLost{wall_ms()});
  need_bootstrap_ = true;
}

void Edge::apply(const std::string& data, std::vector<sim::FeedInput>& inputs) {
  std::string error;
  const auto message = decode_stream_message(data, &error);
  if (!message) {
    lose("a malformed stream message (" + error + ")", inputs);
    return;
  }
  if (message->epoch != epoch_) {
    lose("the venue restarted", inputs);
    return;
  }
  if (next_seq_ != 0 && message->seq != next_seq_) {
    lose("stream messages " + std::to_string(next_seq_) + " to " +
             std::to_string(message->seq - 1) + " are missing",
         inputs);
    return;
  }
  next_seq_ = message->seq + 1;
  last_message_ = Clock::now();
  stats_.messages.fetch_add(1, std::memory_order_relaxed);
  const std::string_view channel = message->channel;
  const Value& body = message->data;
  if (channel == "gw.instrument") {
    if (auto instrument = feed::instrument_from_row(body, &error)) {
      listed_.insert(instrument->name);
      inputs.push_back(sim::FeedInstrument{std::move(*instrument)});
    } else {
      log("skipped an instrument the venue listed: " + error);
    }
  } else if (channel == "gw.expired") {
    const std::string name(body["instrument_name"].as_string());
    listed_.erase(name);
    inputs.push_back(sim::FeedExpired{name, body["timestamp"].as_int(wall_ms())});
  } else if (channel == "gw.resync") {
    lose("the venue's publisher fell behind", inputs);
  } else if (channel.starts_with("book.")) {
    auto book = feed::book_from(body, &error);
    if (!book) {
      lose("a malformed book message (" + error + ")", inputs);
      return;
    }
    if (const auto it = snapshot_change_.find(book->instrument); it != snapshot_change_.end()) {
      if (book->change_id <= it->second) {
        stats_.skipped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      snapshot_change_.erase(it);
    }
    inputs.push_back(std::move(*book));
  } else if (!feed::translate(channel, body, inputs, &error)) {
    log("skipped a malformed " + std::string(channel) + " message: " + error);
  }
}

void Edge::run() {
  std::deque<std::string> batch;
  std::vector<sim::FeedInput> inputs;
  while (!stop_.load()) {
    if (need_bootstrap_) {
      std::string error;
      if (bootstrap(&error)) {
        log("resynchronised from the venue's snapshots");
      } else {
        log("cannot resynchronise yet (" + error + "); trying again");
        std::unique_lock lock(queue_mutex_);
        queue_ready_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_.load(); });
      }
      continue;
    }
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait_for(lock, std::chrono::milliseconds(100),
                            [this] { return !queue_.empty() || stop_.load(); });
      batch.swap(queue_);
      if (overflowed_) {
        batch.clear();  // what is left after the gap is of no use
        lose("fell behind the stream by " + std::to_string(kMaxQueued) + " messages", inputs);
      }
    }
    for (const std::string& data : batch) {
      if (stop_.load(std::memory_order_relaxed)) break;
      apply(data, inputs);
      if (need_bootstrap_) break;  // the rest is stale: the bootstrap follows afresh
    }
    batch.clear();
    if (!need_bootstrap_ && Clock::now() - last_message_ > seconds(options_.silence_resync_s)) {
      lose("no market data for " + std::to_string(std::lround(options_.silence_resync_s)) + " s",
           inputs);
    }
    if (!inputs.empty()) mirror_->feed(inputs);
  }
}

std::string Edge::metrics_text() const {
  std::string out;
  const auto add = [&out](const char* name, const char* type, const char* help,
                          std::uint64_t value) {
    http::append_metric(out, name, type, help, value);
  };
  add("greekwire_edge_nats_connected", "gauge", "1 while connected to NATS.",
      stats_.connected.load() ? 1 : 0);
  add("greekwire_edge_live", "gauge", "1 while following the venue's stream.",
      stats_.live.load() ? 1 : 0);
  add("greekwire_edge_stream_messages_total", "counter", "Stream messages applied.",
      stats_.messages.load());
  add("greekwire_edge_stream_gaps_total", "counter",
      "Gaps, venue restarts and silences that made every book resynchronise.", stats_.gaps.load());
  add("greekwire_edge_bootstraps_total", "counter", "Listings and snapshots taken from the venue.",
      stats_.bootstraps.load());
  add("greekwire_edge_forward_failures_total", "counter",
      "Forwarded requests answered 13028 (no venue, NATS down, timed out).",
      stats_.forward_failures.load());
  return out;
}

void Edge::log(const std::string& line) const {
  if (options_.log) std::fprintf(stderr, "greekwire edge: %s\n", line.c_str());
}

}  // namespace gw::scale
