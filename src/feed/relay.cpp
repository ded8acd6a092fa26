// Relay mode (relay.hpp): an upstream Deribit-compatible feed into the venue's mirror.
#include "feed/relay.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "codec/text.hpp"
#include "feed/translate.hpp"
#include "greekwire/channels.hpp"
#include "http/prometheus.hpp"

namespace gw::feed {

namespace {

// Only so many malformed upstream messages are logged one by one; the rest are counted.
constexpr std::uint64_t kErrorsLogged = 20;

market::TimestampMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The checksum formats of an instrument's books, as greekwire::book_format() reads them from
// its get_instruments row: the digits of its finest tick and of its min_trade_amount.
greekwire::BookFormat format_of(const market::Instrument& i) {
  greekwire::BookFormat format;
  format.price_digits = greekwire::fraction_digits(i.tick_size);
  for (const market::TickStep& step : i.tick_size_steps) {
    format.price_digits = std::max(format.price_digits, greekwire::fraction_digits(step.tick_size));
  }
  format.amount_digits = greekwire::fraction_digits(i.min_trade_amount);
  return format;
}

bool is_book(std::string_view channel) {
  return greekwire::classify_channel(channel).kind == greekwire::ChannelKind::book;
}

std::string upstream_error(std::string_view what, const greekwire::Error& error) {
  std::string line = "upstream ";
  line += what;
  line += ": ";
  if (error.kind == greekwire::ErrorKind::rpc) line += "the upstream answered ";
  line += error.describe();
  return line;
}

}  // namespace

Relay::Relay(RelayOptions options, sim::Venue& venue)
    : options_(std::move(options)), venue_(venue) {
  book_handlers_.book = [this](const greekwire::Book&, const greekwire::BookUpdate& update) {
    on_book(update);
  };
  data_handlers_.raw = [this](std::string_view channel, const greekwire::Value& data) {
    on_notification(channel, data);
  };
}

Relay::~Relay() {
  stop();
}

bool Relay::parse_patterns(const std::vector<std::string>& texts, std::vector<ChannelPattern>& out,
                           std::string* error) {
  if (texts.empty()) {
    *error = "at least one channel pattern is needed";
    return false;
  }
  out.clear();
  for (const std::string& text : texts) {
    auto pattern = parse_pattern(text, error);
    if (!pattern) return false;
    out.push_back(std::move(*pattern));
  }
  return true;
}

// ---- Start and stop ---------------------------------------------------------------------------

bool Relay::start(std::string* error) {
  if (!parse_patterns(options_.patterns, patterns_, error)) return false;
  greekwire::ConnectionOptions connection = options_.connection;
  connection.reconnect.enabled = true;
  connection.reconnect.max_attempts = 0;  // once started, the relay waits for the upstream
  connection.reconnect.retry_initial_connect = false;  // but a first failure is final
  connection.heartbeat_interval_s = options_.heartbeat_interval_s;
  client_ = std::make_unique<greekwire::Client>(connection);
  client_->on_event([this](const greekwire::Event& event) { on_event(event); });
  if (auto connected = client_->connect(); !connected) {
    *error = upstream_error(connected.error().kind == greekwire::ErrorKind::rpc
                                ? "authentication failed"
                                : "connection to " + connection.url + " failed",
                            connected.error());
    stop();
    return false;
  }
  std::map<std::string, market::Instrument> listed;
  if (!list(listed, error)) {
    stop();
    return false;
  }
  adopt(listed, true);
  std::vector<std::string> names;
  names.reserve(known_.size());
  for (const auto& [name, instrument] : known_) names.push_back(name);
  if (!subscribe(expand(patterns_, names), error)) {
    stop();
    return false;
  }
  relister_ = std::thread([this] { relist_loop(); });
  return true;
}

void Relay::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (relister_.joinable()) relister_.join();
  client_.reset();  // closes the upstream connection and joins its loop thread
  counters_.connected = false;
}

// ---- The upstream's instruments ---------------------------------------------------------------

bool Relay::list(std::map<std::string, market::Instrument>& out, std::string* error) {
  std::vector<market::Currency> currencies = currencies_of(patterns_);
  if (currencies.empty()) currencies = {market::Currency::BTC, market::Currency::ETH};
  std::size_t skipped = 0;
  std::string first_problem;
  for (const market::Currency currency : currencies) {
    std::string params = R"({"currency":)";
    codec::append_json_string(params, market::to_string(currency));
    params += "}";
    auto rows = client_->call("public/get_instruments", params);
    if (!rows) {
      *error = upstream_error("public/get_instruments", rows.error());
      return false;
    }
    for (const greekwire::Value& row : rows->array()) {
      std::string problem;
      auto instrument = instrument_from_row(row, &problem);
      if (!instrument) {
        // Instruments the venue cannot list (linear USDC contracts, combos): not relayed.
        if (first_problem.empty()) first_problem = problem;
        ++skipped;
        continue;
      }
      if (instrument->is_active) out.emplace(instrument->name, std::move(*instrument));
    }
  }
  if (skipped > 0) {
    log("skipped " + std::to_string(skipped) + " upstream instruments (" + first_problem + ")");
  }
  return true;
}

void Relay::adopt(const std::map<std::string, market::Instrument>& listed, bool initial) {
  const market::TimestampMs now = wall_clock_ms();
  std::vector<sim::FeedInput> inputs;
  std::vector<std::string> gone;
  for (const auto& [name, instrument] : known_) {
    if (!listed.contains(name)) gone.push_back(name);
  }
  std::vector<std::pair<std::string, greekwire::BookFormat>> formats;
  std::vector<std::string> fresh;
  for (const auto& [name, instrument] : listed) {
    if (known_.contains(name)) continue;
    inputs.emplace_back(sim::FeedInstrument{instrument});
    formats.emplace_back(name, format_of(instrument));
    fresh.push_back(name);
  }
  for (const std::string& name : gone) {
    inputs.emplace_back(sim::FeedExpired{name, now});
    known_.erase(name);
    unsubscribe_instrument(name);
  }
  for (const std::string& name : fresh) known_.emplace(name, listed.at(name));
  // The books' checksum formats are known from the listing: no get_instrument per book.
  client_->run_on_loop([&formats](greekwire::Connection& connection) {
    for (const auto& [name, format] : formats) connection.set_book_format(name, format);
  });
  counters_.instruments = known_.size();
  push(inputs);
  if (!initial && (!fresh.empty() || !gone.empty())) {
    log("relisted: " + std::to_string(fresh.size()) + " new instruments, " +
        std::to_string(gone.size()) + " gone");
    std::string error;
    if (!subscribe(expand(patterns_, fresh), &error)) log(error);
  }
}

void Relay::relist_loop() {
  const auto interval = std::chrono::duration<double>(options_.relist_interval_s);
  std::unique_lock lock(stop_mutex_);
  while (!stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    std::map<std::string, market::Instrument> listed;
    std::string error;
    if (list(listed, &error)) {
      adopt(listed, false);
      ++counters_.relists;
    } else {
      log(error + " (relisting again in " + std::to_string(options_.relist_interval_s) + " s)");
    }
    lock.lock();
  }
}

// ---- Subscriptions ----------------------------------------------------------------------------

bool Relay::subscribe(const std::vector<std::string>& channels, std::string* error) {
  std::vector<std::string> books, others;
  {
    std::lock_guard lock(channels_mutex_);
    for (const std::string& channel : channels) {
      if (channels_.contains(channel)) continue;
      (is_book(channel) ? books : others).push_back(channel);
    }
  }
  std::size_t asked = 0, accepted = 0;
  const auto send = [&](const std::vector<std::string>& list, const greekwire::Handlers& handlers) {
    for (std::size_t i = 0; i < list.size(); i += options_.subscribe_batch) {
      const auto end = list.begin() + static_cast<std::ptrdiff_t>(
                                          std::min(list.size(), i + options_.subscribe_batch));
      std::vector<std::string> batch(list.begin() + static_cast<std::ptrdiff_t>(i), end);
      asked += batch.size();
      auto result = client_->subscribe(batch, handlers);
      if (!result) {
        *error = upstream_error("subscribe", result.error());
        return false;
      }
      std::lock_guard lock(channels_mutex_);
      channels_.insert(result->begin(), result->end());
      accepted += result->size();
    }
    return true;
  };
  if (!send(books, book_handlers_) || !send(others, data_handlers_)) return false;
  {
    std::lock_guard lock(channels_mutex_);
    counters_.channels = channels_.size();
  }
  if (accepted < asked) {
    log("the upstream refused " + std::to_string(asked - accepted) + " of " +
        std::to_string(asked) + " channels");
  }
  if (asked > 0 && accepted == 0) {
    *error = "the upstream accepted none of the " + std::to_string(asked) + " channels";
    return false;
  }
  return true;
}

void Relay::unsubscribe_instrument(const std::string& name) {
  std::vector<std::string> theirs;
  {
    std::lock_guard lock(channels_mutex_);
    for (auto it = channels_.begin(); it != channels_.end();) {
      if (greekwire::classify_channel(*it).instrument == name) {
        theirs.push_back(*it);
        it = channels_.erase(it);
      } else {
        ++it;
      }
    }
    counters_.channels = channels_.size();
  }
  if (!theirs.empty()) (void)client_->unsubscribe(theirs);
}

// ---- Data (loop thread) -----------------------------------------------------------------------

void Relay::on_book(const greekwire::BookUpdate& update) {
  ++counters_.messages;
  ++counters_.book_messages;
  ++counters_.inputs;
  venue_.feed(book_input(update));
}

void Relay::on_notification(std::string_view channel, const greekwire::Value& data) {
  ++counters_.messages;
  scratch_.clear();
  std::string error;
  if (!translate(channel, data, scratch_, &error)) {
    if (++counters_.rejected <= kErrorsLogged) {
      log("ignored a malformed message on " + std::string(channel) + ": " + error);
    }
    return;
  }
  counters_.duplicate_trades += repeated_trades_.drop(scratch_);
  push(scratch_);
}

void Relay::push(std::vector<sim::FeedInput>& inputs) {
  if (inputs.empty()) return;
  counters_.inputs += inputs.size();
  venue_.feed(inputs);
}

void Relay::on_event(const greekwire::Event& event) {
  switch (event.type) {
    case greekwire::EventType::ready:
      counters_.connected = true;
      if (ever_ready_) {
        ++counters_.reconnects;
        log("upstream back: resubscribed, books resync from their snapshots");
      }
      ever_ready_ = true;
      lost_ = false;
      repeated_trades_.forget();  // a restarted upstream numbers its trades afresh
      break;
    case greekwire::EventType::disconnected:
      counters_.connected = false;
      if (ever_ready_ && !lost_) {
        // Every mirrored book is stale until its next snapshot, which the mirror publishes as
        // a resync: downstream subscribers are told, never left with a silent gap.
        lost_ = true;
        ++counters_.lost_periods;
        venue_.feed(sim::FeedLost{wall_clock_ms()});
        log("upstream lost: " + event.describe());
      }
      break;
    case greekwire::EventType::resync:
      ++counters_.book_resyncs;
      break;
    case greekwire::EventType::subscription_dropped: {
      // The SDK forgot it (the upstream no longer has it): a later relist may subscribe again.
      std::lock_guard lock(channels_mutex_);
      channels_.erase(event.channel);
      counters_.channels = channels_.size();
      log(event.describe());
      break;
    }
    case greekwire::EventType::gave_up:
    case greekwire::EventType::error:
      if (ever_ready_) log(event.describe());
      break;
    default:
      break;
  }
}

// ---- Reporting --------------------------------------------------------------------------------

RelayStats Relay::stats() const {
  RelayStats s;
  s.messages = counters_.messages;
  s.book_messages = counters_.book_messages;
  s.inputs = counters_.inputs;
  s.rejected = counters_.rejected;
  s.duplicate_trades = counters_.duplicate_trades;
  s.reconnects = counters_.reconnects;
  s.lost_periods = counters_.lost_periods;
  s.book_resyncs = counters_.book_resyncs;
  s.instruments = counters_.instruments;
  s.channels = counters_.channels;
  s.relists = counters_.relists;
  s.connected = counters_.connected;
  return s;
}

std::string metrics_text(const RelayStats& s) {
  std::string out;
  const auto add = [&out](std::string_view name, const char* type, const char* help,
                          std::uint64_t value) {
    http::append_metric(out, "greekwire_relay_" + std::string(name), type, help, value);
  };
  add("upstream_connected", "gauge", "1 while the upstream connection is ready.", s.connected);
  add("upstream_messages_total", "counter", "Notifications received from the upstream.",
      s.messages);
  add("upstream_book_messages_total", "counter", "Upstream book messages applied.",
      s.book_messages);
  add("inputs_total", "counter", "Inputs fed to the mirror.", s.inputs);
  add("rejected_total", "counter", "Upstream messages that could not be translated.", s.rejected);
  add("duplicate_trades_total", "counter", "Trades dropped as seen on another channel.",
      s.duplicate_trades);
  add("reconnects_total", "counter", "Times the upstream connection came back.", s.reconnects);
  add("lost_periods_total", "counter", "Times the upstream was lost.", s.lost_periods);
  add("upstream_book_resyncs_total", "counter", "Upstream books resynchronised by the SDK.",
      s.book_resyncs);
  add("instruments", "gauge", "Upstream instruments listed.", s.instruments);
  add("channels", "gauge", "Channels subscribed upstream.", s.channels);
  add("relists_total", "counter", "Instrument relistings.", s.relists);
  return out;
}

std::vector<std::string> Relay::channels() const {
  std::lock_guard lock(channels_mutex_);
  return {channels_.begin(), channels_.end()};
}

void Relay::log(const std::string& line) const {
  if (options_.log) std::fprintf(stderr, "relay: %s\n", line.c_str());
}

}  // namespace gw::feed
