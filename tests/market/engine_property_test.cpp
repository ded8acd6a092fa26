// Property tests of the matching engine on seeded random command streams:
//  - against the reference matcher (tests/market/reference_matcher.hpp): after every command the
//    same result, the same trades in the same order, the same terminal states, the same resting
//    orders in the same priority, the same positions;
//  - invariants: the book is never crossed; quantity is conserved (an order's fills add up to
//    its filled amount; buys equal sells); positions net to zero; each book's prev_change_id
//    chain is unbroken and replaying the changes gives the book, whose checksum matches; every
//    order has exactly one terminal event and nothing after it; equity is conserved (Σ equity =
//    Σ deposits − Σ fees at any marks, and after funding and settlement);
//  - determinism: the same seed gives a byte-identical event stream.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "market/engine.hpp"
#include "market/reference_matcher.hpp"

namespace gw::market {
namespace {

using testing::OwnedBookChange;
using testing::Recorder;
using testing::RefEnd;
using testing::ReferenceVenue;
using testing::RefResting;
using testing::RefTrade;

constexpr InstrumentId kFuture = 0;
constexpr InstrumentId kOption = 1;
constexpr InstrumentId kInstruments[] = {kFuture, kOption};
constexpr AccountId kAccounts = 5;
constexpr double kDeposit = 1e6;

// A random command stream over a BTC perpetual (center 130000 ticks = 65000 USD) and a BTC put
// whose prices straddle the 0.005 tick step (ticks 1 below 50, 5 from 50).
class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  enum class Kind { place, edit, cancel, cancel_all };
  struct Command {
    Kind kind = Kind::place;
    PlaceOrder place;
    EditOrder edit;
    CancelOrder cancel;
    CancelAll cancel_all;
  };

  Command next(TimestampMs now, const std::vector<OrderId>& live) {
    Command c;
    const int r = uniform(0, 99);
    const AccountId account = static_cast<AccountId>(uniform(0, kAccounts - 1));
    const InstrumentId instrument = uniform(0, 2) == 0 ? kOption : kFuture;
    if (r < 55 || live.empty()) {
      c.kind = Kind::place;
      PlaceOrder& p = c.place;
      p.account = account;
      p.instrument = uniform(0, 200) == 0 ? 7 : instrument;  // 7 is not listed
      p.side = uniform(0, 1) ? Side::buy : Side::sell;
      p.type = uniform(0, 19) == 0 ? OrderType::market : OrderType::limit;
      p.price = price(instrument, p.side);
      p.amount = uniform(0, 60) == 0 ? 0 : uniform(1, 8);
      const int tif = uniform(0, 19);
      p.time_in_force = tif < 12   ? TimeInForce::good_til_cancelled
                        : tif < 14 ? TimeInForce::good_til_day
                        : tif < 17 ? TimeInForce::immediate_or_cancel
                                   : TimeInForce::fill_or_kill;
      p.post_only = uniform(0, 7) == 0;
      p.reject_post_only = p.post_only && uniform(0, 1);
      p.reduce_only = uniform(0, 5) == 0;
      p.label = uniform(0, 3) == 0 ? "quote" : "";
      p.timestamp = now;
    } else if (r < 88) {
      c.kind = Kind::edit;
      EditOrder& e = c.edit;
      e.order_id = pick(live);
      e.account = uniform(0, 9) == 0 ? account : owner_hint(e.order_id);
      e.price = price(instrument_of(e.order_id), side_of(e.order_id));
      e.amount = uniform(0, 30) == 0 ? 0 : uniform(1, 10);
      if (uniform(0, 5) == 0) e.post_only = uniform(0, 1) == 1;
      if (uniform(0, 5) == 0) e.reject_post_only = uniform(0, 1) == 1;
      e.timestamp = now;
    } else if (r < 98) {
      c.kind = Kind::cancel;
      c.cancel.order_id = uniform(0, 20) == 0 ? 999'999 : pick(live);
      c.cancel.account = uniform(0, 9) == 0 ? account : owner_hint(c.cancel.order_id);
      c.cancel.timestamp = now;
    } else {
      c.kind = Kind::cancel_all;
      c.cancel_all.account = account;
      if (uniform(0, 1)) c.cancel_all.instrument = instrument;
      c.cancel_all.timestamp = now;
    }
    return c;
  }

  // What the generator remembers about orders, to aim edits and cancels at their owners.
  void remember(OrderId id, AccountId a, InstrumentId i, Side s) { known_[id] = {a, i, s}; }

 private:
  struct Known {
    AccountId account;
    InstrumentId instrument;
    Side side;
  };

  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  OrderId pick(const std::vector<OrderId>& live) {
    return live[static_cast<std::size_t>(uniform(0, static_cast<int>(live.size()) - 1))];
  }
  AccountId owner_hint(OrderId id) const {
    const auto it = known_.find(id);
    return it == known_.end() ? 0 : it->second.account;
  }
  InstrumentId instrument_of(OrderId id) const {
    const auto it = known_.find(id);
    return it == known_.end() ? kFuture : it->second.instrument;
  }
  Side side_of(OrderId id) const {
    const auto it = known_.find(id);
    return it == known_.end() ? Side::buy : it->second.side;
  }

  // Mostly on the passive side near the middle, sometimes crossing, rarely off the tick grid.
  Ticks price(InstrumentId instrument, Side side) {
    if (uniform(0, 150) == 0) return 0;
    const int offset = uniform(-3, 12) * (side == Side::buy ? -1 : 1);
    if (instrument == kFuture) return 130'000 + offset;
    Ticks p = 52 + offset * 2;
    if (p >= 50 && uniform(0, 15) != 0) p = p / 5 * 5;  // mostly on the coarse grid
    return std::max<Ticks>(p, 1);
  }

  std::mt19937_64 rng_;
  std::map<OrderId, Known> known_;
};

struct Harness {
  Recorder events;
  Engine engine{events};
  ReferenceVenue reference;
  std::vector<OrderId> live;  // open orders (engine's view)

  // Per order: terminal events seen, fills seen.
  std::map<OrderId, int> terminals;
  std::map<OrderId, Lots> fills;
  std::map<OrderId, Lots> amounts;
  double fees = 0;
  std::map<Error, int> errors;  // coverage of the stream
  std::map<CancelReason, int> reasons;

  // The L2 book rebuilt from the published changes, and the last change_id per instrument.
  std::map<InstrumentId, std::map<Ticks, Lots>> bids, asks;
  std::map<InstrumentId, std::uint64_t> last_change;
  std::uint64_t last_global_change = 0;

  Harness() {
    engine.add_instrument(testing::make_future(kFuture, Currency::BTC));
    engine.add_instrument(testing::make_option(kOption, Currency::BTC, 60000, OptionType::put));
    reference.add_instrument(kFuture, {1, {}});
    reference.add_instrument(kOption, {1, {{50, 5}}});
    for (AccountId a = 0; a < kAccounts; ++a) {
      engine.deposit(a, Currency::BTC, kDeposit, 0);
      if (a == 3) {
        engine.set_self_trade_mode(a, SelfTradeMode::reject_taker);
        reference.set_self_trade_mode(a, SelfTradeMode::reject_taker);
      }
    }
  }

  void run(std::uint64_t seed, int commands) {
    Generator gen(seed);
    TimestampMs now = 1'700'000'000'000;
    for (int n = 0; n < commands; ++n) {
      now += 7;
      events.clear();
      const Generator::Command c = gen.next(now, live);
      Result got, want;
      switch (c.kind) {
        case Generator::Kind::place:
          got = engine.place(c.place);
          want = reference.place(c.place);
          if (got.ok())
            gen.remember(got.order_id, c.place.account, c.place.instrument, c.place.side);
          break;
        case Generator::Kind::edit:
          got = engine.edit(c.edit);
          want = reference.edit(c.edit);
          break;
        case Generator::Kind::cancel:
          got = engine.cancel(c.cancel);
          want = reference.cancel(c.cancel);
          break;
        case Generator::Kind::cancel_all:
          got = engine.cancel_all(c.cancel_all);
          want = reference.cancel_all(c.cancel_all.account, c.cancel_all.instrument);
          break;
      }
      ++errors[got.error];
      ASSERT_EQ(got.error, want.error) << "command " << n;
      ASSERT_EQ(got.order_id, want.order_id) << "command " << n;
      ASSERT_EQ(got.count, want.count) << "command " << n;
      compare_with_reference(n);
      check_events(n);
      if (::testing::Test::HasFatalFailure()) return;
    }
    check_final();
  }

  void compare_with_reference(int n) {
    std::vector<RefTrade> trades;
    for (const Trade& t : events.trades) {
      trades.push_back(
          {t.instrument, t.taker_order, t.maker_order, t.price, t.amount, t.direction});
    }
    ASSERT_EQ(trades.size(), reference.trades.size()) << "command " << n;
    for (std::size_t i = 0; i < trades.size(); ++i) {
      ASSERT_EQ(trades[i], reference.trades[i]) << "command " << n << " trade " << i;
    }
    std::vector<RefEnd> ends;
    for (const OrderUpdate& o : events.orders) {
      if (is_terminal(o.state)) ends.push_back({o.order_id, o.state, o.cancel_reason, o.filled});
    }
    ASSERT_EQ(ends.size(), reference.ends.size()) << "command " << n;
    for (std::size_t i = 0; i < ends.size(); ++i) {
      ASSERT_EQ(ends[i], reference.ends[i]) << "command " << n << " end " << i;
    }
    for (const InstrumentId i : kInstruments) {
      for (const Side s : {Side::buy, Side::sell}) {
        ASSERT_EQ(l3(i, s), reference.resting(i, s)) << "command " << n;
      }
      for (AccountId a = 0; a < kAccounts; ++a) {
        const Account* acc = engine.account(a);
        const Position* p = acc ? acc->find(i) : nullptr;
        ASSERT_EQ(p ? p->size : 0, reference.position(a, i)) << "command " << n;
      }
    }
  }

  std::vector<RefResting> l3(InstrumentId i, Side s) const {
    std::vector<RefResting> out;
    const Book& book = *engine.book(i);
    for (std::size_t r = 0; r < book.level_count(s); ++r) {
      const Ticks price = book.level(s, r).price;
      Lots sum = 0;
      for (Book::Handle h = book.level_front(s, price); h != Book::kNone; h = book.next(h)) {
        out.push_back({book.order(h).id, book.order(h).price, book.order(h).amount});
        sum += book.order(h).amount;
      }
      EXPECT_EQ(sum, book.level(s, r).amount);  // L2 aggregates L3
    }
    return out;
  }

  void check_events(int n) {
    for (const Trade& t : events.trades) {
      fills[t.taker_order] += t.amount;
      fills[t.maker_order] += t.amount;
      fees += t.taker_fee + t.maker_fee;
    }
    for (const OrderUpdate& o : events.orders) {
      ASSERT_EQ(terminals[o.order_id], 0) << "event after the terminal one, order " << o.order_id;
      amounts[o.order_id] = o.amount;
      if (is_terminal(o.state)) {
        ++terminals[o.order_id];
        ++reasons[o.cancel_reason];
        live.erase(std::remove(live.begin(), live.end(), o.order_id), live.end());
        ASSERT_EQ(o.filled, fills[o.order_id]) << "order " << o.order_id;
        if (o.state == OrderState::filled) {
          ASSERT_EQ(o.filled, o.amount);
        }
      } else if (std::find(live.begin(), live.end(), o.order_id) == live.end()) {
        live.push_back(o.order_id);
      }
    }
    for (const OwnedBookChange& b : events.books) {
      const BookChange& c = b.change;
      ASSERT_EQ(c.prev_change_id, last_change[c.instrument]) << "command " << n;
      ASSERT_GT(c.change_id, last_global_change);
      last_change[c.instrument] = c.change_id;
      last_global_change = c.change_id;
      apply(bids[c.instrument], b.bids);
      apply(asks[c.instrument], b.asks);
      // The replayed book matches the engine's, and so does the checksum computed from it.
      std::vector<PriceLevel> rb, ra, eb, ea;
      for (auto it = bids[c.instrument].rbegin(); it != bids[c.instrument].rend(); ++it) {
        rb.push_back({it->first, it->second});
      }
      for (const auto& [p, a] : asks[c.instrument]) ra.push_back({p, a});
      engine.book(c.instrument)->snapshot(eb, ea);
      ASSERT_EQ(rb, eb) << "command " << n;
      ASSERT_EQ(ra, ea) << "command " << n;
      ASSERT_EQ(c.checksum, book_checksum(rb, ra, engine.book(c.instrument)->format()));
    }
    for (const InstrumentId i : kInstruments) {
      const Book& book = *engine.book(i);
      if (!book.empty(Side::buy) && !book.empty(Side::sell)) {
        ASSERT_LT(book.best_price(Side::buy), book.best_price(Side::sell)) << "crossed, " << n;
      }
      ASSERT_FALSE(book.pending());
    }
  }

  static void apply(std::map<Ticks, Lots>& side, const std::vector<LevelUpdate>& updates) {
    for (const LevelUpdate& u : updates) {
      const bool exists = side.count(u.price) != 0;
      if (u.action == BookAction::add) {
        ASSERT_FALSE(exists);
      }
      if (u.action != BookAction::add) {
        ASSERT_TRUE(exists);
      }
      if (u.action == BookAction::remove) {
        ASSERT_EQ(u.amount, 0);
        side.erase(u.price);
      } else {
        ASSERT_GT(u.amount, 0);
        side[u.price] = u.amount;
      }
    }
  }

  void check_final() {
    // Open orders: still unterminated, and their fills add up.
    ASSERT_EQ(engine.open_orders(), live.size());
    for (const OrderId id : live) {
      const auto o = engine.order(id);
      ASSERT_TRUE(o.has_value());
      ASSERT_EQ(o->filled, fills[id]);
      ASSERT_EQ(terminals[id], 0);
    }
    for (const auto& [id, count] : terminals) ASSERT_LE(count, 1);
    // Quantity is conserved: what rests plus what filled is the order's amount.
    std::size_t resting = 0;
    for (const InstrumentId i : kInstruments) {
      for (const Side s : {Side::buy, Side::sell}) {
        for (const RefResting& r : l3(i, s)) {
          const auto o = engine.order(r.id);
          ASSERT_TRUE(o.has_value());
          ASSERT_EQ(r.amount + o->filled, o->amount) << "order " << r.id;
          ++resting;
        }
      }
    }
    ASSERT_EQ(resting, live.size());
    // Positions net to zero; buys equal sells.
    for (const InstrumentId i : kInstruments) {
      Lots net = 0;
      for (AccountId a = 0; a < kAccounts; ++a) {
        const Position* p = engine.account(a)->find(i);
        net += p ? p->size : 0;
      }
      ASSERT_EQ(net, 0);
    }
    // Equity is conserved at any marks: Σ equity = Σ deposits − Σ fees.
    engine.set_mark(kFuture, 64321.25, 0);
    engine.set_mark(kOption, 0.0123, 0);
    double equity = 0;
    for (AccountId a = 0; a < kAccounts; ++a) equity += engine.summary(a, Currency::BTC).equity;
    EXPECT_NEAR(equity, kAccounts * kDeposit - fees, 1e-5);
    // Funding and settlement only move coin between accounts: once the funding is booked and
    // both instruments are settled (the put in the money), every position is flat and equity is
    // still conserved.
    engine.accrue_funding(kFuture, 3e-9);
    engine.book_funding(kFuture, 0);
    engine.settle_instrument(kFuture, 61111.5, 0);
    engine.settle_instrument(kOption, 55555.5, 0);
    equity = 0;
    for (AccountId a = 0; a < kAccounts; ++a) {
      for (const InstrumentId i : kInstruments) {
        const Position* p = engine.account(a)->find(i);
        ASSERT_EQ(p ? p->size : 0, 0);
      }
      equity += engine.summary(a, Currency::BTC).equity;
    }
    EXPECT_NEAR(equity, kAccounts * kDeposit - fees, 1e-5);
  }
};

// Long runs in optimised builds, short ones under the sanitizers (whose slowdown is mostly
// the reference's copies and scans).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kCommandsPerSeed = 2500;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kCommandsPerSeed = 2500;
#else
constexpr int kCommandsPerSeed = 25000;
#endif
#else
constexpr int kCommandsPerSeed = 25000;
#endif

TEST(EngineProperty, MatchesReferenceAndKeepsInvariants) {
  std::map<Error, int> errors;
  std::map<CancelReason, int> reasons;
  std::size_t trades = 0;
  for (const std::uint64_t seed : {1u, 2u, 3u, 20261127u}) {
    SCOPED_TRACE(seed);
    Harness h;
    h.run(seed, kCommandsPerSeed);
    if (HasFatalFailure()) return;
    EXPECT_GT(h.live.size(), 10u);  // the book stays populated
    for (const auto& [id, filled] : h.fills) trades += filled > 0;
    for (const auto& [e, n] : h.errors) errors[e] += n;
    for (const auto& [r, n] : h.reasons) reasons[r] += n;
  }
  EXPECT_GT(trades, 1000u);  // the streams do trade
  // Every rule and error is exercised.
  for (const Error e :
       {Error::ok, Error::qty_too_low, Error::order_not_found,
        Error::invalid_or_unsupported_instrument, Error::invalid_amount, Error::invalid_price,
        Error::price_wrong_tick, Error::invalid_arguments, Error::post_only_reject}) {
    EXPECT_GT(errors[e], 0) << to_string(e);
  }
  for (const CancelReason r :
       {CancelReason::none, CancelReason::user_request, CancelReason::edit_post_only_reject,
        CancelReason::self_trade, CancelReason::immediate_or_cancel, CancelReason::fill_or_kill,
        CancelReason::reduce_only}) {
    EXPECT_GT(reasons[r], 0) << to_string(r);
  }
}

TEST(EngineDeterminism, SameSeedSameBytes) {
  auto run = [](std::uint64_t seed) {
    Harness h;
    h.run(seed, 1500);
    return h.events.log;
  };
  const std::string a = run(42);
  const std::string b = run(42);
  EXPECT_GT(a.size(), 100'000u);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == run(43));
}

}  // namespace
}  // namespace gw::market
