// Shared helpers of the simulator tests: a small deterministic configuration, a sink that
// records events, and the invariant checker used on long runs.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/chain.hpp"
#include "sim/simulator.hpp"

namespace gw::sim::testing {

// Monday 2026-03-02 09:00:00 UTC.
inline constexpr TimestampMs kStart = 1'772'442'000'000;

// Both currencies, about four option expiries, unthrottled, every account's events published.
inline VenueConfig small_config(std::uint64_t seed = 42) {
  VenueConfig c;
  c.seed = seed;
  c.start_ms = kStart;
  c.speed = 0;
  c.option_expiries = {1, 1, 1, 1};
  c.future_expiries = {0, 0, 1, 1};
  c.publish_sim_accounts = true;
  // Faster blocks, so that a short run sees several of each chain.
  c.chain_speedup = 20;
  return c;
}

// One option expiry (the next daily) and one future per currency: quick under sanitizers.
inline VenueConfig tiny_config(std::uint64_t seed = 42) {
  VenueConfig c = small_config(seed);
  c.option_expiries = {1, 0, 0, 0};
  c.future_expiries = {0, 0, 1, 0};
  return c;
}

// Keeps every event (optionally) and SHA-256s their canonical serialisation.
struct RecordingSink : VenueSink {
  bool keep = true;
  std::vector<VenueEvent> events;
  std::string text;
  std::uint64_t count = 0;
  std::vector<std::uint8_t> digest_input;

  void on_event(const VenueEvent& e) override {
    ++count;
    append_canonical(e, text);
    if (keep) events.push_back(e);
    if (text.size() > (1u << 20)) flush();
  }
  // Folds the text so far into a running hash (so long runs do not keep all of it).
  void flush() {
    const Hash h =
        sha256(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    digest_input.insert(digest_input.end(), h.begin(), h.end());
    text.clear();
  }
  std::string digest() {
    flush();
    return to_hex(sha256(digest_input));
  }
};

// Checks the invariants of the event stream as it comes (see simulator_test.cpp).
class InvariantChecker : public VenueSink {
 public:
  struct BookState {
    std::map<Ticks, Lots, std::greater<>> bids;
    std::map<Ticks, Lots> asks;
    std::uint64_t last_change_id = 0;
  };
  struct OrderState {
    Lots amount = 0;
    Lots filled = 0;   // as of its last update
    Lots traded = 0;   // Σ of its trades
    int terminal = 0;  // terminal updates seen
    bool after_terminal = false;
    InstrumentId instrument = 0;
  };

  void on_event(const VenueEvent& e) override {
    ++events;
    if (const auto* b = std::get_if<OwnedBookChange>(&e)) on_book(*b);
    if (const auto* o = std::get_if<OwnedOrderUpdate>(&e)) on_order(o->order);
    if (const auto* t = std::get_if<market::Trade>(&e)) on_trade(*t);
    if (const auto* p = std::get_if<market::PositionUpdate>(&e)) {
      positions[{p->account, p->instrument}] = p->size;
    }
    if (const auto* c = std::get_if<InstrumentClosed>(&e)) closed.insert(c->instrument);
    if (const auto* s = std::get_if<market::Settlement>(&e)) {
      // A settlement closes the position its trades built.
      ++settlements;
      traded_positions[{s->account, s->instrument}] -= s->position;
      if (closed.count(s->instrument) > 0) ++activity_after_close;  // settles before it closes
    }
  }

  void on_book(const OwnedBookChange& b) {
    ++book_changes;
    BookState& s = books[b.instrument];
    if (b.prev_change_id != s.last_change_id) ++broken_chains;
    if (b.change_id <= s.last_change_id) ++broken_chains;
    s.last_change_id = b.change_id;
    apply(s.bids, b.bids.span());
    apply(s.asks, b.asks.span());
    if (!s.bids.empty() && !s.asks.empty() && s.bids.begin()->first >= s.asks.begin()->first) {
      ++crossed;
    }
  }
  template <class Map>
  void apply(Map& side, std::span<const market::LevelUpdate> levels) {
    for (const market::LevelUpdate& l : levels) {
      const bool exists = side.count(l.price) > 0;
      switch (l.action) {
        case market::BookAction::add:
          if (exists || l.amount <= 0) ++bad_level_actions;
          side[l.price] = l.amount;
          break;
        case market::BookAction::change:
          if (!exists || l.amount <= 0) ++bad_level_actions;
          side[l.price] = l.amount;
          break;
        case market::BookAction::remove:
          if (!exists) ++bad_level_actions;
          side.erase(l.price);
          break;
      }
    }
  }
  void on_order(const market::OrderUpdate& o) {
    ++order_updates;
    OrderState& s = orders[o.order_id];
    if (s.terminal > 0) s.after_terminal = true;
    s.amount = o.amount;
    s.filled = o.filled;
    s.instrument = o.instrument;
    if (o.filled != s.traded) ++filled_mismatch;
    if (o.filled > o.amount) ++filled_mismatch;
    if (market::is_terminal(o.state)) {
      ++s.terminal;
      ++terminal_events;
    }
    if (closed.count(o.instrument) > 0 && !market::is_terminal(o.state)) ++activity_after_close;
  }
  void on_trade(const market::Trade& t) {
    ++trades;
    orders[t.taker_order].traded += t.amount;
    orders[t.maker_order].traded += t.amount;
    const Lots signed_amount = t.direction == market::Side::buy ? t.amount : -t.amount;
    traded_positions[{t.taker, t.instrument}] += signed_amount;
    traded_positions[{t.maker, t.instrument}] -= signed_amount;
    if (closed.count(t.instrument) > 0) ++activity_after_close;
    if (t.amount <= 0) ++bad_trades;
  }

  // The end-of-run checks against the engine.
  void finish(const Simulator& sim) {
    for (const auto& [id, s] : orders) {
      if (s.terminal > 1 || s.after_terminal) ++multiple_terminals;
      if (s.terminal == 0) {
        ++open_orders;
        if (!sim.engine().order(id)) ++lost_orders;
      } else if (sim.engine().order(id)) {
        ++zombie_orders;
      }
    }
    if (open_orders != sim.engine().open_orders()) ++lost_orders;
    std::map<InstrumentId, Lots> net;
    for (const auto& [key, size] : positions) net[key.second] += size;
    for (const auto& [instrument, size] : net) {
      if (size != 0) ++unbalanced_instruments;
    }
    for (const auto& [key, size] : traded_positions) {
      const auto it = positions.find(key);
      if (it == positions.end() ? size != 0 : it->second != size) ++position_mismatch;
    }
    for (const auto& [id, s] : books) {
      const market::Book* b = sim.engine().book(id);
      if (b == nullptr) {
        ++book_mismatch;
        continue;
      }
      std::vector<market::PriceLevel> bids, asks;
      b->snapshot(bids, asks);
      if (bids.size() != s.bids.size() || asks.size() != s.asks.size()) {
        ++book_mismatch;
        continue;
      }
      std::size_t i = 0;
      for (const auto& [price, amount] : s.bids) {
        if (bids[i].price != price || bids[i].amount != amount) ++book_mismatch;
        ++i;
      }
      i = 0;
      for (const auto& [price, amount] : s.asks) {
        if (asks[i].price != price || asks[i].amount != amount) ++book_mismatch;
        ++i;
      }
    }
  }

  std::uint64_t events = 0, book_changes = 0, order_updates = 0, trades = 0, terminal_events = 0;
  std::uint64_t broken_chains = 0, crossed = 0, bad_level_actions = 0, filled_mismatch = 0;
  std::uint64_t multiple_terminals = 0, lost_orders = 0, zombie_orders = 0, open_orders = 0;
  std::uint64_t unbalanced_instruments = 0, position_mismatch = 0, book_mismatch = 0;
  std::uint64_t activity_after_close = 0, bad_trades = 0, settlements = 0;
  std::map<InstrumentId, BookState> books;
  std::map<market::OrderId, OrderState> orders;
  std::map<std::pair<AccountId, InstrumentId>, Lots> positions;
  std::map<std::pair<AccountId, InstrumentId>, Lots> traded_positions;
  std::set<InstrumentId> closed;
};

}  // namespace gw::sim::testing
