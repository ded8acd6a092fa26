#include "scale/venue_bridge.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <random>

#include <greekwire/value.hpp>

#include "codec/json_writer.hpp"
#include "gateway/encode.hpp"
#include "http/prometheus.hpp"
#include "scale/wire.hpp"

namespace gw::scale {

namespace {

constexpr std::size_t kRememberedRequests = 100'000;

std::string random_epoch() {
  std::random_device device;
  const std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) | device();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view currency_name(market::Currency currency) {
  return market::to_string(currency);
}

// An edge's id as its liveness messages carry it (decimal, 24 bits, never 0).
std::optional<std::uint32_t> edge_id(std::string_view text) {
  std::uint32_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id == 0 || id > 0xffffffu) {
    return std::nullopt;
  }
  return id;
}

}  // namespace

VenueBridge::VenueBridge(VenueBridgeOptions options, gateway::Gateway& gateway)
    : options_(std::move(options)),
      gateway_(gateway),
      events_(gateway.venue().add_consumer()),
      epoch_(random_epoch()),
      private_events_(gateway.venue().add_consumer()),
      publisher_(std::make_unique<gateway::Publisher>(
          private_events_, directory_, 1,
          [this](std::size_t, std::vector<gateway::Delivery>& deliveries) {
            publish_private(deliveries);
          })) {}

VenueBridge::~VenueBridge() {
  stop();
  nats_.reset();  // flushes what is still buffered
}

bool VenueBridge::start(std::string* error) {
  NatsConnection::Options o;
  o.url = options_.url;
  o.name = "greekwire venue " + epoch_;
  o.on_disconnected = [this] {
    stats_.connected = false;
    log("lost the NATS connection: publications are kept for the reconnect");
  };
  o.on_reconnected = [this] {
    // Edges could not be heard while this side was away: not a reason to drop them.
    gateway_.hear_every_edge_now();
    stats_.connected = true;
    log("reconnected to NATS");
  };
  nats_ = NatsConnection::connect(std::move(o), error);
  if (!nats_) return false;
  if (!nats_->ensure_stream(options_.stream_max_age_s, options_.stream_max_bytes, error)) {
    return false;
  }
  auto listing = nats_->subscribe(
      kListingSubject, [this](const NatsMessage& m) { on_listing(m); }, error);
  auto book = nats_->subscribe(
      kBookSubject, [this](const NatsMessage& m) { on_book(m); }, error);
  auto rpc = nats_->subscribe(
      kRpcSubject, [this](const NatsMessage& m) { on_call(m); }, error);
  auto user = nats_->subscribe(
      kUserSubscribeSubject, [this](const NatsMessage& m) { on_user_subscribe(m); }, error);
  auto alive = nats_->subscribe(
      kEdgeAliveSubject,
      [this](const NatsMessage& m) {
        if (const auto id = edge_id(m.data)) gateway_.edge_alive(*id);
      },
      error);
  auto gone = nats_->subscribe(
      kEdgeGoneSubject,
      [this](const NatsMessage& m) {
        if (const auto id = edge_id(m.data)) {
          log("edge " + std::string(m.data) + " stopped: its connections are closed here");
          gateway_.drop_edge(*id);
        }
      },
      error);
  if (!listing || !book || !rpc || !user || !alive || !gone) return false;
  for (auto* s : {&listing, &book, &rpc, &user, &alive, &gone}) services_.push_back(std::move(*s));
  publisher_->start();
  stats_.connected = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void VenueBridge::stop() {
  if (stop_.exchange(true)) return;
  services_.clear();
  if (thread_.joinable()) thread_.join();
  publisher_->stop();
  // The connection stays until the destructor: forwarded calls still at the gateway publish
  // their answers through it.
}

// ---- market data ------------------------------------------------------------------------------

void VenueBridge::run() {
  using Clock = std::chrono::steady_clock;
  constexpr auto kCheckEvery = std::chrono::milliseconds(kEdgeHeartbeatMs);
  auto last_liveness_check = Clock::now();
  while (!stop_.load(std::memory_order_relaxed)) {
    if (const auto now = Clock::now(); now - last_liveness_check >= kCheckEvery) {
      if (now - last_liveness_check > 3 * kCheckEvery) {
        // This process stalled (stopped, starved): the edges could not be heard meanwhile.
        gateway_.hear_every_edge_now();
      } else if (stats_.connected.load()) {
        drop_silent_edges();
      }
      last_liveness_check = now;
    }
    std::size_t n = 0;
    while (n < 4096) {
      sim::VenueEvent* event = events_.queue().peek();
      if (event == nullptr) break;
      publish(*event);
      events_.queue().pop();
      ++n;
    }
    if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

template <class WriteData>
void VenueBridge::send(std::string_view currency, std::string_view kind, std::string_view channel,
                       WriteData&& write_data) {
  // The sequence number counts what the venue meant to publish: one the client refuses (its
  // reconnect buffer is full) is a gap the edges see.
  const std::uint64_t seq = ++seq_;
  out_.clear();
  codec::JsonWriter w(out_);
  w.begin_object(4);
  w.key("epoch");
  w.value(std::string_view(epoch_));
  w.key("seq");
  w.value(seq);
  w.key("channel");
  w.value(channel);
  w.key("data");
  write_data(w);
  w.end_object();
  if (nats_->publish(market_subject(currency, kind), out_)) {
    stats_.published.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats_.publish_failures.fetch_add(1, std::memory_order_relaxed);
  }
}

void VenueBridge::publish(const sim::VenueEvent& event) {
  const auto instrument_of = [this](market::InstrumentId id) -> const market::Instrument* {
    return id < by_id_.size() ? by_id_[id].get() : nullptr;
  };
  if (const auto* listed = std::get_if<sim::InstrumentListed>(&event)) {
    const auto& instrument = listed->instrument;
    if (by_id_.size() <= instrument->id) by_id_.resize(instrument->id + 1);
    by_id_[instrument->id] = instrument;
    remember(instrument);
    send(currency_name(instrument->currency), "instrument", "gw.instrument",
         [&](auto& w) { gateway::write_instrument(w, *instrument); });
  } else if (const auto* closed = std::get_if<sim::InstrumentClosed>(&event)) {
    if (const market::Instrument* i = instrument_of(closed->instrument)) {
      send(currency_name(i->currency), "instrument", "gw.expired", [&](auto& w) {
        w.begin_object(2);
        w.key("instrument_name");
        w.value(std::string_view(i->name));
        w.key("timestamp");
        w.value(closed->timestamp);
        w.end_object();
      });
    }
  } else if (const auto* change = std::get_if<sim::OwnedBookChange>(&event)) {
    if (const market::Instrument* i = instrument_of(change->instrument)) {
      channel_ = "book." + i->name + ".raw";
      send(currency_name(i->currency), "book", channel_,
           [&](auto& w) { gateway::write_book_change(w, *change, *i, false); });
    }
  } else if (const auto* trade = std::get_if<market::Trade>(&event)) {
    if (const market::Instrument* i = instrument_of(trade->instrument)) {
      channel_ = "trades." + i->name + ".raw";
      send(currency_name(i->currency), "trades", channel_, [&](auto& w) {
        w.begin_array(1);
        gateway::write_trade(w, *trade, *i);
        w.end_array();
      });
    }
  } else if (const auto* ticker = std::get_if<sim::Ticker>(&event)) {
    if (const market::Instrument* i = instrument_of(ticker->instrument)) {
      channel_ = "ticker." + i->name + ".raw";
      send(currency_name(i->currency), "ticker", channel_,
           [&](auto& w) { gateway::write_ticker(w, *ticker, *i); });
    }
  } else if (const auto* index = std::get_if<market::IndexPrice>(&event)) {
    channel_ = "deribit_price_index." + std::string(gateway::index_name(index->currency));
    send(currency_name(index->currency), "index", channel_,
         [&](auto& w) { gateway::write_index_price(w, *index); });
  } else if (const auto* surface = std::get_if<sim::SurfaceSnapshot>(&event)) {
    const std::string_view currency = currency_name(surface->currency);
    {
      std::lock_guard lock(surfaces_mutex_);
      last_surfaces_[surface->currency == market::Currency::BTC ? 0 : 1] = *surface;
    }
    channel_ = "volsurface." + std::string(currency) + ".raw";
    send(currency, "surface", channel_, [&](auto& w) { gateway::write_surface(w, *surface); });
  } else if (const auto* block = std::get_if<sim::Block>(&event)) {
    const std::string_view currency = currency_name(block->currency);
    channel_ = "chain." + std::string(currency) + ".blocks";
    send(currency, "chain", channel_, [&](auto& w) { gateway::write_block(w, *block); });
  } else if (const auto* transfer = std::get_if<sim::Transfer>(&event)) {
    const std::string_view currency = currency_name(transfer->currency);
    channel_ = "chain." + std::string(currency) + ".transfers";
    send(currency, "chain", channel_, [&](auto& w) { gateway::write_transfer(w, *transfer); });
  } else if (const auto* gap = std::get_if<sim::StreamGap>(&event)) {
    // This consumer fell behind the venue and lost events: every edge must resynchronise.
    stats_.resyncs.fetch_add(1, std::memory_order_relaxed);
    log("fell behind the venue (" + std::to_string(gap->dropped) +
        " events lost): edges will resynchronise");
    send("any", "control", "gw.resync", [&](auto& w) {
      w.begin_object(1);
      w.key("dropped");
      w.value(gap->dropped);
      w.end_object();
    });
  }
}

// ---- edges' liveness ---------------------------------------------------------------------------

// An edge not heard from for kEdgeSilenceMs while the venue is on NATS (killed, or cut off from
// NATS): its connections are closed at the venue (cancel-on-disconnect fires), and it is told,
// in case it is still there, so that its clients reconnect rather than trust a state the venue
// dropped. A NATS outage on the venue's side, or a stall of the venue itself, drops nobody: the
// silence counts from its return.
void VenueBridge::drop_silent_edges() {
  for (const std::uint32_t id : gateway_.drop_silent_edges(kEdgeSilenceMs)) {
    stats_.edges_dropped.fetch_add(1, std::memory_order_relaxed);
    log("edge " + std::to_string(id) + " silent for " + std::to_string(kEdgeSilenceMs / 1000) +
        " s: its connections are closed here");
    nats_->publish(kEdgeDroppedSubject, std::to_string(id));
  }
}

// ---- services ---------------------------------------------------------------------------------

// A service's answer: {"epoch": ..., key: what `write` writes}.
template <class Write>
std::string VenueBridge::with_epoch(std::string_view key, Write&& write) const {
  std::string out;
  codec::JsonWriter w(out);
  w.begin_object(2);
  w.key("epoch");
  w.value(std::string_view(epoch_));
  w.key(key);
  write(w);
  w.end_object();
  return out;
}

void VenueBridge::remember(const std::shared_ptr<const market::Instrument>& instrument) {
  std::lock_guard lock(names_mutex_);
  by_name_[instrument->name] = instrument;
}

std::shared_ptr<const market::Instrument> VenueBridge::instrument_named(std::string_view name) {
  std::lock_guard lock(names_mutex_);
  const auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

// Request: a currency ("BTC"). Answer: {"epoch": ..., "instruments": [get_instruments rows],
// "surface": the last volsurface data published, or null}.
void VenueBridge::on_listing(const NatsMessage& message) {
  if (message.reply.empty()) return;
  const auto currency = market::currency_named(message.data);
  const std::string reply(message.reply);
  if (!currency) {
    nats_->publish(reply, R"({"error":"unknown currency"})");
    return;
  }
  market::InstrumentQuery query;
  query.currency = *currency;
  const bool queued = gateway_.venue().get_instruments(
      query, [this, reply, slot = *currency == market::Currency::BTC ? 0 : 1](
                 const std::vector<market::Instrument>& instruments) {
        std::optional<sim::SurfaceSnapshot> surface;
        {
          std::lock_guard lock(surfaces_mutex_);
          surface = last_surfaces_[slot];
        }
        std::string out;
        codec::JsonWriter w(out);
        w.begin_object(3);
        w.key("epoch");
        w.value(std::string_view(epoch_));
        w.key("instruments");
        w.begin_array(instruments.size());
        for (const market::Instrument& i : instruments) {
          remember(std::make_shared<const market::Instrument>(i));
          gateway::write_instrument(w, i);
        }
        w.end_array();
        w.key("surface");
        if (surface) {
          gateway::write_surface(w, *surface);
        } else {
          w.null();
        }
        w.end_object();
        nats_->publish(reply, out);
      });
  if (!queued) nats_->publish(reply, R"({"error":"the venue is not taking commands"})");
}

// Request: an instrument name. Answer: {"epoch": ..., "data": the book.{name}.raw snapshot}.
// The venue takes the snapshot between two events, so the stream's changes after it continue
// its change_id.
void VenueBridge::on_book(const NatsMessage& message) {
  if (message.reply.empty()) return;
  const std::string reply(message.reply);
  const auto instrument = instrument_named(message.data);
  if (!instrument) {
    nats_->publish(reply, R"({"error":"unknown instrument"})");
    return;
  }
  const bool queued = gateway_.venue().get_book(
      instrument->id, 0, [this, reply, instrument](const sim::BookSnapshot& book) {
        if (!book.found) {
          nats_->publish(reply, R"({"error":"no such book"})");
          return;
        }
        stats_.snapshots.fetch_add(1, std::memory_order_relaxed);
        nats_->publish(reply, with_epoch("data", [&](codec::JsonWriter& w) {
                         gateway::write_book_change(w, book, *instrument);
                       }));
      });
  if (!queued) nats_->publish(reply, R"({"error":"the venue is not taking commands"})");
}

bool VenueBridge::first_time(const std::string& request_id) {
  std::lock_guard lock(seen_mutex_);
  if (!seen_.insert(request_id).second) return false;
  seen_order_.push_back(request_id);
  if (seen_order_.size() > kRememberedRequests) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
  return true;
}

// A request an edge forwarded. Refused without an answer (the edge has answered its client
// 13028 already, or will when its deadline passes): a malformed call, a request id seen before
// (at most once), a call taken after its deadline (it must not act after the client was told
// it failed).
void VenueBridge::on_call(const NatsMessage& message) {
  if (message.reply.empty()) return;
  std::string error;
  auto call = decode_call(message.data, &error);
  if (!call || !first_time(call->request_id) ||
      (call->expires_at_ms != 0 && wall_ms() > call->expires_at_ms)) {
    stats_.calls_refused.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  stats_.calls.fetch_add(1, std::memory_order_relaxed);
  gateway_.call_forwarded(std::move(call->call),
                          [this, reply = std::string(message.reply)](gateway::ForwardedAnswer a) {
                            nats_->publish(reply, encode_answer(a));
                          });
}

// Request: {"account": N, "channel": "user.orders.any.any.raw"}. From then on the account's
// notifications of that channel go to gw.user.<N> (for every edge that follows the account: each
// delivers them to its own subscribers of the route). Kept until the venue stops; asked again
// after a restart.
void VenueBridge::on_user_subscribe(const NatsMessage& message) {
  std::string error;
  const auto request = greekwire::Value::parse_json(message.data, &error);
  if (!request) return;
  const std::int64_t account = (*request)["account"].as_int(0);
  const std::string_view channel = (*request)["channel"].as_string();
  const auto spec = gateway::parse_channel(channel);
  if (account <= 0 || !spec || !spec->is_private()) return;
  std::string route = std::to_string(account) + "|" + std::string(channel);
  {
    std::lock_guard lock(routes_mutex_);
    if (!routes_.insert(route).second) return;
  }
  publisher_->subscribe(0, 0, *spec, std::move(route), gateway::Encoding::json);
}

void VenueBridge::publish_private(std::vector<gateway::Delivery>& deliveries) {
  std::string out;
  for (const gateway::Delivery& d : deliveries) {
    const auto& frame = d.message->frames[static_cast<std::size_t>(gateway::Encoding::json)];
    if (!frame) continue;
    const std::string& route = d.message->channel;
    const std::string_view account = std::string_view(route).substr(0, route.find('|'));
    const auto payload = frame->payload();
    out.assign(route);
    out += '\n';
    out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
    nats_->publish(std::string(kUserSubjectPrefix) + std::string(account), out);
  }
  deliveries.clear();
}

std::string VenueBridge::metrics_text() const {
  std::string out;
  const auto add = [&out](const char* name, const char* type, const char* help,
                          std::uint64_t value) {
    http::append_metric(out, name, type, help, value);
  };
  add("greekwire_venue_nats_connected", "gauge", "1 while connected to NATS.",
      stats_.connected.load() ? 1 : 0);
  add("greekwire_venue_stream_published_total", "counter", "Market-data messages published.",
      stats_.published.load());
  add("greekwire_venue_stream_publish_failures_total", "counter",
      "Market-data messages the NATS client refused (edges see the gap and resync).",
      stats_.publish_failures.load());
  add("greekwire_venue_stream_resyncs_total", "counter",
      "Times the bridge fell behind the venue and told the edges to resynchronise.",
      stats_.resyncs.load());
  add("greekwire_venue_forwarded_calls_total", "counter", "Requests forwarded by edges.",
      stats_.calls.load());
  add("greekwire_venue_forwarded_calls_refused_total", "counter",
      "Forwarded requests dropped: duplicates, past their deadline, malformed.",
      stats_.calls_refused.load());
  add("greekwire_venue_book_snapshots_total", "counter", "Book snapshots sent to edges.",
      stats_.snapshots.load());
  add("greekwire_venue_edges_dropped_total", "counter",
      "Edges not heard from for 5 s whose connections were closed (cancel-on-disconnect).",
      stats_.edges_dropped.load());
  return out;
}

void VenueBridge::log(const std::string& line) const {
  if (options_.log) std::fprintf(stderr, "greekwire venue: %s\n", line.c_str());
}

}  // namespace gw::scale
