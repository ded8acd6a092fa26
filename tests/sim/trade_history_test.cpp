// The venue's trade histories (trade_history.hpp) and the 24-hour trade statistics (ticker.hpp):
//  - public trades per instrument: Deribit's start_seq / end_seq / count / sorting paging with
//    has_more, the bound per kind (oldest forgotten), expiry drops the history, a seq gap starts
//    it over;
//  - user trades per external account: both sides of a fill, completed by the order's update
//    (type, flags, label), paging over one instrument's non-consecutive seqs, the bound, and no
//    history for the simulated participants;
//  - TradeStats: a rolling window that never counts a trade older than 24 hours;
//  - the venue's query commands end to end: open orders, a position, the histories, tickers.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "sim/rng.hpp"
#include "sim/sim_test_util.hpp"
#include "sim/trade_history.hpp"
#include "sim/venue.hpp"

namespace gw::sim {
namespace {

using namespace std::chrono_literals;
using market::Side;

constexpr TimestampMs kT0 = testing::kStart;
constexpr AccountId kAlice = 11;
constexpr AccountId kBob = 12;
constexpr AccountId kMaker = kMakerAccountBase + 1;

VenueEvent listed(InstrumentId id, market::Kind kind, Currency currency = Currency::BTC) {
  auto i = std::make_shared<market::Instrument>();
  i->id = id;
  i->kind = kind;
  i->currency = currency;
  return InstrumentListed{kT0, i};
}

// A fill of instrument `id` (seq `seq`): `taker` buys from `maker`, priced and sized by seq.
market::Trade fill(InstrumentId id, std::uint64_t seq, AccountId taker = kMaker + 1,
                   AccountId maker = kMaker, Currency currency = Currency::BTC) {
  market::Trade t;
  t.timestamp = kT0 + static_cast<TimestampMs>(seq) * 10;
  t.trade_id = 1000 + seq;
  t.trade_seq = seq;
  t.instrument = id;
  t.currency = currency;
  t.direction = seq % 2 == 0 ? Side::buy : Side::sell;
  t.tick_direction = market::TickDirection::zero_minus;
  t.price = 130'000 + static_cast<Ticks>(seq);
  t.amount = static_cast<Lots>(seq);
  t.mark_price = 65'000.5;
  t.index_price = 64'999.25;
  t.taker_order = 5000 + seq;
  t.maker_order = 6000 + seq;
  t.taker = taker;
  t.maker = maker;
  t.taker_fee = 0.001;
  t.maker_fee = -0.0002;
  return t;
}

std::vector<std::uint64_t> seqs(const PublicTradePage& page) {
  std::vector<std::uint64_t> out;
  for (const market::Trade& t : page.trades) out.push_back(t.trade_seq);
  return out;
}
std::vector<std::uint64_t> seqs(const UserTradePage& page) {
  std::vector<std::uint64_t> out;
  for (const UserTrade& u : page.trades) out.push_back(u.trade.trade_seq);
  return out;
}

TradeRange range(std::optional<std::uint64_t> start, std::optional<std::uint64_t> end,
                 std::size_t count, TradeSorting sorting = TradeSorting::unspecified) {
  TradeRange r;
  r.start_seq = start;
  r.end_seq = end;
  r.count = count;
  r.sorting = sorting;
  return r;
}

using Seqs = std::vector<std::uint64_t>;

TEST(TradeHistory, PublicTradesPageByStartEndCountAndSorting) {
  TradeHistoryLimits limits;
  limits.future_trades = 10;
  TradeHistory h(limits);
  h.on_event(listed(3, market::Kind::future));
  for (std::uint64_t s = 1; s <= 25; ++s) h.on_event(fill(3, s));
  EXPECT_EQ(h.instrument_size(3), 10u);  // 16..25: the oldest are forgotten

  // No range: the latest, newest first.
  PublicTradePage p = h.last_trades(3, range({}, {}, 3));
  EXPECT_EQ(seqs(p), (Seqs{25, 24, 23}));
  EXPECT_TRUE(p.has_more);
  p = h.last_trades(3, range({}, {}, 10));
  EXPECT_EQ(seqs(p), (Seqs{25, 24, 23, 22, 21, 20, 19, 18, 17, 16}));
  EXPECT_FALSE(p.has_more);
  // start_seq alone pages forward.
  p = h.last_trades(3, range(18, {}, 3));
  EXPECT_EQ(seqs(p), (Seqs{18, 19, 20}));
  EXPECT_TRUE(p.has_more);
  p = h.last_trades(3, range(23, {}, 5));
  EXPECT_EQ(seqs(p), (Seqs{23, 24, 25}));
  EXPECT_FALSE(p.has_more);
  // Both ends: the newest of the range first, unless asked otherwise.
  p = h.last_trades(3, range(18, 20, 3));
  EXPECT_EQ(seqs(p), (Seqs{20, 19, 18}));
  EXPECT_FALSE(p.has_more);
  p = h.last_trades(3, range(18, 22, 2, TradeSorting::asc));
  EXPECT_EQ(seqs(p), (Seqs{18, 19}));
  EXPECT_TRUE(p.has_more);
  p = h.last_trades(3, range(18, {}, 2, TradeSorting::desc));
  EXPECT_EQ(seqs(p), (Seqs{25, 24}));
  EXPECT_TRUE(p.has_more);
  p = h.last_trades(3, range({}, 17, 5, TradeSorting::desc));
  EXPECT_EQ(seqs(p), (Seqs{17, 16}));
  EXPECT_FALSE(p.has_more);
  p = h.last_trades(3, range({}, {}, 2, TradeSorting::asc));
  EXPECT_EQ(seqs(p), (Seqs{16, 17}));
  EXPECT_TRUE(p.has_more);
  // What was forgotten is not there; an empty range is empty.
  p = h.last_trades(3, range(1, 16, 5, TradeSorting::asc));
  EXPECT_EQ(seqs(p), Seqs{16});
  EXPECT_FALSE(p.has_more);
  EXPECT_TRUE(h.last_trades(3, range(1, 15, 5)).trades.empty());
  EXPECT_TRUE(h.last_trades(3, range(21, 20, 5)).trades.empty());
  EXPECT_TRUE(h.last_trades(3, range(26, {}, 5)).trades.empty());
  EXPECT_TRUE(h.last_trades(4, range({}, {}, 5)).trades.empty());  // never listed

  // Every field comes back as it went in.
  const market::Trade want = fill(3, 21);
  const market::Trade got = h.last_trades(3, range(21, 21, 1)).trades.at(0);
  EXPECT_EQ(got.timestamp, want.timestamp);
  EXPECT_EQ(got.trade_id, want.trade_id);
  EXPECT_EQ(got.trade_seq, 21u);
  EXPECT_EQ(got.instrument, 3u);
  EXPECT_EQ(got.currency, Currency::BTC);
  EXPECT_EQ(got.direction, want.direction);
  EXPECT_EQ(got.tick_direction, want.tick_direction);
  EXPECT_EQ(got.price, want.price);
  EXPECT_EQ(got.amount, want.amount);
  EXPECT_EQ(got.mark_price, want.mark_price);
  EXPECT_EQ(got.index_price, want.index_price);
}

TEST(TradeHistory, BoundsPerKindExpiryAndGaps) {
  TradeHistoryLimits limits;
  limits.future_trades = 50;
  limits.option_trades = 4;
  TradeHistory h(limits);
  h.on_event(listed(1, market::Kind::future));
  h.on_event(listed(2, market::Kind::option, Currency::ETH));
  for (std::uint64_t s = 1; s <= 30; ++s) {
    h.on_event(fill(1, s));
    h.on_event(fill(2, s, kMaker + 1, kMaker, Currency::ETH));
  }
  EXPECT_EQ(h.instrument_size(1), 30u);
  EXPECT_EQ(h.instrument_size(2), 4u);
  const PublicTradePage p = h.last_trades(2, range({}, {}, 10));
  EXPECT_EQ(seqs(p), (Seqs{30, 29, 28, 27}));
  EXPECT_EQ(p.trades[0].currency, Currency::ETH);
  // A gap in trade_seq (never expected) starts the history over, so seqs stay exact.
  h.on_event(fill(1, 40));
  EXPECT_EQ(seqs(h.last_trades(1, range({}, {}, 10))), Seqs{40});
  h.on_event(fill(1, 41));
  EXPECT_EQ(seqs(h.last_trades(1, range(40, {}, 10))), (Seqs{40, 41}));
  // Expiry frees the history; trades of an instrument not listed are not kept.
  h.on_event(InstrumentClosed{kT0, 2});
  EXPECT_EQ(h.instrument_size(2), 0u);
  EXPECT_TRUE(h.last_trades(2, range({}, {}, 10)).trades.empty());
  h.on_event(fill(2, 31));
  EXPECT_EQ(h.instrument_size(2), 0u);
}

TEST(TradeHistory, UserTradesBothSidesCompletedByTheOrderUpdate) {
  TradeHistory h;
  h.on_event(listed(1, market::Kind::future));
  h.on_event(listed(2, market::Kind::future));
  // Alice takes from a simulated maker; Bob takes from Alice; Alice takes from Bob.
  h.on_event(fill(1, 1, kAlice, kMaker));
  market::OrderUpdate taker;
  taker.order_id = 5001;
  taker.account = kAlice;
  taker.instrument = 1;
  taker.type = market::OrderType::market;
  taker.reduce_only = true;
  taker.label = "alice-mkt";
  h.on_event(OwnedOrderUpdate(taker));
  h.on_event(fill(1, 2, kBob, kAlice));
  market::OrderUpdate maker;  // Alice's resting order, right after its fill
  maker.order_id = 6002;
  maker.account = kAlice;
  maker.instrument = 1;
  maker.post_only = true;
  maker.label = "alice-rest";
  h.on_event(OwnedOrderUpdate(maker));
  h.on_event(fill(2, 1, kAlice, kBob));
  h.on_event(fill(1, 3));  // the simulated participants among themselves

  EXPECT_EQ(h.account_size(kAlice), 3u);
  EXPECT_EQ(h.account_size(kBob), 2u);
  EXPECT_EQ(h.account_size(kMaker), 0u);  // nobody can ask for those

  const UserTradePage alice = h.user_trades(kAlice, 1, range({}, {}, 10));
  ASSERT_EQ(seqs(alice), (Seqs{2, 1}));
  const UserTrade& as_maker = alice.trades[0];
  EXPECT_TRUE(as_maker.maker);
  EXPECT_EQ(as_maker.order_id(), 6002u);
  EXPECT_TRUE(as_maker.order_known);
  EXPECT_TRUE(as_maker.post_only);
  EXPECT_EQ(as_maker.label(), "alice-rest");
  const UserTrade& as_taker = alice.trades[1];
  EXPECT_FALSE(as_taker.maker);
  EXPECT_EQ(as_taker.order_id(), 5001u);
  EXPECT_EQ(as_taker.order_type, market::OrderType::market);
  EXPECT_TRUE(as_taker.reduce_only);
  EXPECT_EQ(as_taker.label(), "alice-mkt");
  // Bob's view of seq 2 is the taker's; his fill in instrument 2 is the maker's.
  const UserTradePage bob = h.user_trades(kBob, 1, range({}, {}, 10));
  ASSERT_EQ(seqs(bob), Seqs{2});
  EXPECT_FALSE(bob.trades[0].maker);
  EXPECT_EQ(bob.trades[0].order_id(), 5002u);
  EXPECT_FALSE(bob.trades[0].order_known);  // no update of Bob's order came
  const UserTradePage bob2 = h.user_trades(kBob, 2, range({}, {}, 10));
  ASSERT_EQ(bob2.trades.size(), 1u);
  EXPECT_TRUE(bob2.trades[0].maker);
  EXPECT_TRUE(h.user_trades(kBob + 1, 1, range({}, {}, 10)).trades.empty());
}

TEST(TradeHistory, UserTradesPageOverOneInstrumentsSeqs) {
  TradeHistoryLimits limits;
  limits.account_trades = 12;
  TradeHistory h(limits);
  h.on_event(listed(1, market::Kind::future));
  h.on_event(listed(2, market::Kind::option));
  // Alice trades every third seq of instrument 1 (3, 6, ..., 30) and every seq of 2 in between.
  std::uint64_t seq2 = 0;
  for (std::uint64_t s = 1; s <= 30; ++s) {
    h.on_event(fill(1, s, s % 3 == 0 ? kAlice : kMaker + 1));
    if (s % 3 == 0) h.on_event(fill(2, ++seq2, kAlice));
  }
  // 20 fills, 12 kept: instrument 1's seqs 15..30 and instrument 2's 5..10 interleaved.
  EXPECT_EQ(h.account_size(kAlice), 12u);
  UserTradePage p = h.user_trades(kAlice, 1, range({}, {}, 100));
  EXPECT_EQ(seqs(p), (Seqs{30, 27, 24, 21, 18, 15}));
  EXPECT_FALSE(p.has_more);
  p = h.user_trades(kAlice, 1, range({}, {}, 2));
  EXPECT_EQ(seqs(p), (Seqs{30, 27}));
  EXPECT_TRUE(p.has_more);
  p = h.user_trades(kAlice, 1, range(19, {}, 2));
  EXPECT_EQ(seqs(p), (Seqs{21, 24}));
  EXPECT_TRUE(p.has_more);
  p = h.user_trades(kAlice, 1, range(19, 26, 5));
  EXPECT_EQ(seqs(p), (Seqs{24, 21}));
  EXPECT_FALSE(p.has_more);
  p = h.user_trades(kAlice, 1, range(19, 26, 1, TradeSorting::asc));
  EXPECT_EQ(seqs(p), Seqs{21});
  EXPECT_TRUE(p.has_more);
  p = h.user_trades(kAlice, 1, range({}, 20, 5, TradeSorting::asc));
  EXPECT_EQ(seqs(p), (Seqs{15, 18}));
  EXPECT_FALSE(p.has_more);
  p = h.user_trades(kAlice, 2, range({}, {}, 3, TradeSorting::desc));
  EXPECT_EQ(seqs(p), (Seqs{10, 9, 8}));
  EXPECT_TRUE(p.has_more);
  EXPECT_TRUE(h.user_trades(kAlice, 1, range(31, {}, 5)).trades.empty());
}

// Deliveries at expiry per external account: newest first, by currency or instrument (named:
// it expires right after), bounded by time and by a continuation, paged by count; none for the
// simulated participants; the bound forgets the oldest.
TEST(TradeHistory, SettlementsOfEachExternalAccount) {
  TradeHistoryLimits limits;
  limits.account_settlements = 4;
  TradeHistory h(limits);
  const auto list = [&](InstrumentId id, std::string name, Currency currency) {
    auto i = std::make_shared<market::Instrument>();
    i->id = id;
    i->name = std::move(name);
    i->currency = currency;
    h.on_event(InstrumentListed{kT0, i});
  };
  list(1, "BTC-27NOV26", Currency::BTC);
  list(2, "BTC-27NOV26-60000-C", Currency::BTC);
  list(3, "ETH-27NOV26", Currency::ETH);
  const auto settle = [&](AccountId account, InstrumentId id, Currency currency, TimestampMs at) {
    market::Settlement s;
    s.timestamp = at;
    s.account = account;
    s.instrument = id;
    s.currency = currency;
    s.position = 10;
    h.on_event(s);
  };
  settle(kAlice, 1, Currency::BTC, kT0 + 1);
  settle(kAlice, 2, Currency::BTC, kT0 + 1);
  settle(kAlice, 3, Currency::ETH, kT0 + 1);
  settle(kBob, 1, Currency::BTC, kT0 + 1);
  settle(kMaker, 1, Currency::BTC, kT0 + 1);  // a simulated participant: not kept
  h.on_event(InstrumentClosed{kT0 + 2, 1});   // expired: its records keep its name

  const auto names = [](const SettlementPage& page) {
    std::vector<std::string> out;
    for (const SettlementRecord& r : page.settlements) out.push_back(r.instrument->name);
    return out;
  };
  SettlementQuery q;
  q.account = kAlice;
  q.currency = Currency::BTC;
  EXPECT_EQ(names(h.settlements(q)),
            (std::vector<std::string>{"BTC-27NOV26-60000-C", "BTC-27NOV26"}));
  q.currency.reset();
  q.instrument_name = "BTC-27NOV26";
  EXPECT_EQ(names(h.settlements(q)), (std::vector<std::string>{"BTC-27NOV26"}));
  // Pages of one, newest first, continued below the last record's number.
  q.instrument_name.clear();
  q.count = 1;
  SettlementPage page = h.settlements(q);
  EXPECT_EQ(names(page), (std::vector<std::string>{"ETH-27NOV26"}));
  EXPECT_TRUE(page.has_more);
  q.before_seq = page.settlements.back().seq;
  page = h.settlements(q);
  EXPECT_EQ(names(page), (std::vector<std::string>{"BTC-27NOV26-60000-C"}));
  q.before_seq = page.settlements.back().seq;
  q.count = 20;
  page = h.settlements(q);
  EXPECT_EQ(names(page), (std::vector<std::string>{"BTC-27NOV26"}));
  EXPECT_FALSE(page.has_more);
  // No later than a time; other accounts' and the simulated participants' apart.
  q = {};
  q.account = kAlice;
  q.latest_ms = kT0;
  EXPECT_TRUE(h.settlements(q).settlements.empty());
  q.account = kBob;
  q.latest_ms = 0;
  EXPECT_EQ(h.settlements(q).settlements.size(), 1u);
  q.account = kMaker;
  EXPECT_TRUE(h.settlements(q).settlements.empty());
  // The bound: the oldest forgotten.
  settle(kAlice, 2, Currency::BTC, kT0 + 3);
  settle(kAlice, 2, Currency::BTC, kT0 + 4);
  q.account = kAlice;
  page = h.settlements(q);
  ASSERT_EQ(page.settlements.size(), 4u);
  EXPECT_EQ(page.settlements.front().seq, 5u);
  EXPECT_EQ(page.settlements.back().seq, 2u);
}

TEST(Ring, KeepsTheLastCapacityItemsOldestFirst) {
  Ring<int> r(3);
  for (int i = 1; i <= 7; ++i) {
    r.push(i);
    ASSERT_EQ(r.size(), std::min(i, 3));
    ASSERT_EQ(r[r.size() - 1], i);
  }
  EXPECT_EQ(r[0], 5);
  EXPECT_EQ(r[1], 6);
  EXPECT_EQ(r[2], 7);
  Ring<int> none;
  none.push(1);
  EXPECT_EQ(none.size(), 0u);
}

// ---- TradeStats ----------------------------------------------------------------------------

TEST(TradeStats, RollingWindowNeverCountsATradeOlderThan24Hours) {
  constexpr TimestampMs kMinute = 60'000;
  constexpr TimestampMs kHour = 60 * kMinute;
  constexpr TimestampMs kDay = 24 * kHour;
  const TimestampMs t0 = kT0 + 123'456;  // not on a bucket boundary
  TradeStats stats;
  EXPECT_EQ(stats.stats(t0).volume, 0);
  stats.on_trade(t0, 100, 2, 200);
  stats.on_trade(t0 + kHour, 120, 3, 360);
  stats.on_trade(t0 + 20 * kHour, 90, 5, 450);
  EXPECT_EQ(stats.last_price(), 90);

  // All three inside the window.
  TickerStats s = stats.stats(t0 + 23 * kHour);
  EXPECT_EQ(s.volume, 10);
  EXPECT_DOUBLE_EQ(s.volume_usd, 1010);
  EXPECT_EQ(s.high, 120);
  EXPECT_EQ(s.low, 90);
  EXPECT_DOUBLE_EQ(s.price_change, (90.0 / 100.0 - 1) * 100);
  // Within 5 minutes of 24 h the first trade may already have left; at 24 h it has.
  s = stats.stats(t0 + kDay - TradeStats::kBucketMs);
  EXPECT_EQ(s.volume, 10);
  for (TimestampMs at : {t0 + kDay, t0 + kDay + kMinute, t0 + kDay + 30 * kMinute}) {
    s = stats.stats(at);
    EXPECT_EQ(s.volume, 8) << at - t0;
    EXPECT_EQ(s.high, 120);
    EXPECT_EQ(s.low, 90);
    EXPECT_DOUBLE_EQ(s.price_change, (90.0 / 120.0 - 1) * 100);
  }
  s = stats.stats(t0 + kHour + kDay);
  EXPECT_EQ(s.volume, 5);
  EXPECT_EQ(s.high, 90);
  EXPECT_DOUBLE_EQ(s.price_change, 0);
  EXPECT_EQ(stats.stats(t0 + 20 * kHour + kDay).volume, 0);

  // A bucket reused a day later starts afresh.
  stats.on_trade(t0 + kDay + 10 * kHour, 110, 1, 110);
  s = stats.stats(t0 + kDay + 10 * kHour);
  EXPECT_EQ(s.volume, 6);
  EXPECT_EQ(s.high, 110);
  EXPECT_EQ(s.low, 90);
}

// The property behind "24 h": for trades at random times, the window at any instant holds
// exactly the trades of buckets that started within the last 24 hours.
TEST(TradeStats, MatchesABruteForceWindow) {
  Rng rng(5);
  TradeStats stats;
  std::vector<std::pair<TimestampMs, Lots>> trades;
  TimestampMs t = kT0;
  for (int i = 0; i < 3000; ++i) {
    t += static_cast<TimestampMs>(rng.uniform() * 120'000);
    const Lots amount = 1 + static_cast<Lots>(rng.uniform() * 9);
    stats.on_trade(t, 1000 + i, amount, 0);
    trades.emplace_back(t, amount);
    if (i % 97 != 0) continue;
    const TimestampMs now = t + static_cast<TimestampMs>(rng.uniform() * 3'600'000);
    Lots want = 0;
    for (const auto& [at, lots] : trades) {
      const TimestampMs bucket_start = at / TradeStats::kBucketMs * TradeStats::kBucketMs;
      if (bucket_start > now - 86'400'000) want += lots;
    }
    ASSERT_EQ(stats.stats(now).volume, want) << i;
  }
}

// stats() keeps the window's sums from one call to the next and adds the trades of its newest
// bucket to them: asked every second (as tickers do), it answers exactly what a TradeStats asked
// for the first time does, volume_usd to the bit included.
TEST(TradeStats, KeptUpSumsEqualFreshOnes) {
  struct Fill {
    TimestampMs at;
    Ticks price;
    Lots amount;
    double usd;
  };
  Rng rng(17);
  TradeStats kept;
  std::vector<Fill> fills;
  TimestampMs t = kT0 + 5'000;
  for (int second = 1; second <= 30'000; ++second) {
    t += 1'000;
    // Bursts and lulls: most seconds without trades, some with several.
    const int trades = rng.uniform() < 0.6 ? 0 : 1 + static_cast<int>(rng.uniform() * 4);
    for (int k = 0; k < trades; ++k) {
      const Fill f{t, 900 + static_cast<Ticks>(rng.uniform() * 200),
                   1 + static_cast<Lots>(rng.uniform() * 20), 0.1 + rng.uniform() * 1e4};
      kept.on_trade(f.at, f.price, f.amount, f.usd);
      fills.push_back(f);
    }
    const TickerStats a = kept.stats(t);
    if (second % 599 != 0) continue;
    TradeStats fresh;
    for (const Fill& f : fills) fresh.on_trade(f.at, f.price, f.amount, f.usd);
    const TickerStats b = fresh.stats(t);
    ASSERT_GT(a.volume, 0);
    ASSERT_EQ(a.volume, b.volume) << second;
    ASSERT_EQ(a.high, b.high) << second;
    ASSERT_EQ(a.low, b.low) << second;
    ASSERT_EQ(a.volume_usd, b.volume_usd) << second;
    ASSERT_EQ(a.price_change, b.price_change) << second;
  }
}

// ---- The venue's query commands ------------------------------------------------------------

template <class T>
struct Waiter {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
  std::function<void(const T&)> callback() {
    return [this](const T& v) { promise.set_value(v); };
  }
  T get() {
    EXPECT_EQ(future.wait_for(20s), std::future_status::ready);
    return future.get();
  }
};

TEST(Venue, QueryCommands) {
  VenueConfig config = testing::tiny_config(4);
  config.publish_sim_accounts = false;
  Venue venue(config);
  Venue::Consumer& consumer = venue.add_consumer();
  std::atomic<bool> stop{false};
  std::thread drain([&] {
    while (!stop) {
      if (consumer.queue().peek() != nullptr) {
        consumer.queue().pop();
      } else {
        std::this_thread::sleep_for(50us);
      }
    }
  });
  venue.start();
  Waiter<std::vector<market::Instrument>> instruments;
  ASSERT_TRUE(venue.get_instruments({}, instruments.callback()));
  InstrumentId perp = 0;
  std::size_t btc_options = 0;
  for (const market::Instrument& i : instruments.get()) {
    if (i.name == "BTC-PERPETUAL") perp = i.id;
    if (i.currency == Currency::BTC && i.kind == market::Kind::option) ++btc_options;
  }
  ASSERT_NE(perp, 0u);
  for (AccountId a : {kAlice, kBob}) {
    Waiter<AccountSnapshot> dep;
    ASSERT_TRUE(venue.deposit(a, Currency::BTC, 10, dep.callback()));
    ASSERT_TRUE(dep.get().found);
  }
  auto place = [&](AccountId a, Side side, market::OrderType type, Ticks price, Lots amount,
                   std::string label) {
    market::PlaceOrder p;
    p.account = a;
    p.instrument = perp;
    p.side = side;
    p.type = type;
    p.price = price;
    p.amount = amount;
    Waiter<OrderResult> w;
    EXPECT_TRUE(venue.place(p, std::move(label), w.callback()));
    return w.get();
  };

  // Open orders: Alice's resting bid, never Bob's.
  const OrderResult rest = place(kAlice, Side::buy, market::OrderType::limit, 2'000, 3, "bid");
  ASSERT_TRUE(rest.result.ok());
  Waiter<OpenOrders> open;
  market::OrderFilter filter;
  filter.account = kAlice;
  filter.currency = Currency::BTC;
  ASSERT_TRUE(venue.get_open_orders(filter, open.callback()));
  const OpenOrders alice_open = open.get();
  ASSERT_TRUE(alice_open.executed);
  ASSERT_EQ(alice_open.orders.size(), 1u);
  EXPECT_EQ(alice_open.orders[0].order.order_id, rest.result.order_id);
  EXPECT_EQ(alice_open.orders[0].label(), "bid");
  Waiter<OpenOrders> bob_open;
  filter.account = kBob;
  ASSERT_TRUE(venue.get_open_orders(filter, bob_open.callback()));
  EXPECT_TRUE(bob_open.get().orders.empty());

  // A market buy: its fills are in both histories as soon as its answer is out.
  const OrderResult taken = place(kAlice, Side::buy, market::OrderType::market, 0, 5, "take");
  ASSERT_TRUE(taken.result.ok());
  ASSERT_FALSE(taken.trades.empty());
  Waiter<UserTrades> mine;
  ASSERT_TRUE(venue.get_user_trades(kAlice, perp, range({}, {}, 100), mine.callback()));
  const UserTrades u = mine.get();
  ASSERT_TRUE(u.executed);
  ASSERT_EQ(u.page.trades.size(), taken.trades.size());
  for (const UserTrade& t : u.page.trades) {
    EXPECT_FALSE(t.maker);
    EXPECT_TRUE(t.order_known);
    EXPECT_EQ(t.label(), "take");
    EXPECT_EQ(t.order_type, market::OrderType::market);
    EXPECT_EQ(t.order_id(), taken.result.order_id);
  }
  EXPECT_EQ(u.page.trades.front().trade.trade_id, taken.trades.back().trade_id);  // newest first
  Waiter<UserTrades> bobs;
  ASSERT_TRUE(venue.get_user_trades(kBob, perp, range({}, {}, 100), bobs.callback()));
  EXPECT_TRUE(bobs.get().page.trades.empty());
  Waiter<LastTrades> last;
  ASSERT_TRUE(venue.get_last_trades(perp, range(taken.trades.front().trade_seq, {}, 1000),
                                    last.callback()));
  const LastTrades l = last.get();
  ASSERT_TRUE(l.executed);
  ASSERT_GE(l.page.trades.size(), taken.trades.size());
  for (std::size_t i = 0; i < taken.trades.size(); ++i) {
    EXPECT_EQ(l.page.trades[i].trade_id, taken.trades[i].trade_id);
    EXPECT_EQ(l.page.trades[i].price, taken.trades[i].price);
  }

  // The position: Alice is long 5 lots; Bob holds none and gets a flat row at the mark.
  Waiter<PositionQuery> pos;
  ASSERT_TRUE(venue.get_position(kAlice, perp, pos.callback()));
  const PositionQuery q = pos.get();
  ASSERT_TRUE(q.executed && q.found);
  EXPECT_EQ(q.position.size, 5);
  EXPECT_GT(q.position.average_price, 0);
  EXPECT_GT(q.index_price, 0);
  ASSERT_TRUE(q.ticker.has_value());
  Waiter<PositionQuery> flat;
  ASSERT_TRUE(venue.get_position(kBob, perp, flat.callback()));
  const PositionQuery f = flat.get();
  ASSERT_TRUE(f.found);
  EXPECT_EQ(f.position.size, 0);
  EXPECT_GT(f.position.mark_price, 0);
  Waiter<PositionQuery> none;
  ASSERT_TRUE(venue.get_position(kAlice, 1'000'000, none.callback()));
  EXPECT_FALSE(none.get().found);

  // Tickers of a currency, by kind.
  Waiter<Tickers> options;
  ASSERT_TRUE(venue.get_tickers(Currency::BTC, market::Kind::option, options.callback()));
  const Tickers o = options.get();
  ASSERT_TRUE(o.executed);
  EXPECT_EQ(o.tickers.size(), btc_options);
  for (const Ticker& t : o.tickers) EXPECT_EQ(t.kind, market::Kind::option);
  Waiter<Tickers> all;
  ASSERT_TRUE(venue.get_tickers(Currency::BTC, std::nullopt, all.callback()));
  const Tickers a = all.get();
  EXPECT_GT(a.tickers.size(), btc_options);
  bool perp_traded = false;
  for (const Ticker& t : a.tickers) {
    if (t.instrument == perp) perp_traded = t.stats.volume >= 5 && t.last_price > 0;
  }
  EXPECT_TRUE(perp_traded);

  venue.stop();
  stop = true;
  drain.join();
  // Stopped: refused at once.
  EXPECT_FALSE(venue.get_tickers(Currency::BTC, std::nullopt, [](const Tickers&) {}));
}

}  // namespace
}  // namespace gw::sim

namespace gw::sim {
namespace {

OwnedOrderUpdate order_update(market::OrderId id, AccountId account, market::OrderState state) {
  market::OrderUpdate o;
  o.order_id = id;
  o.account = account;
  o.instrument = 1;
  o.state = state;
  o.label = "lbl";
  return OwnedOrderUpdate(o);
}

// private/get_order_state answers for orders that closed lately, as Deribit does.
TEST(ClosedOrders, KeepsTheNewestClosedOrdersOfEachExternalAccount) {
  TradeHistoryLimits limits;
  limits.account_closed_orders = 2;
  TradeHistory h(limits);
  h.on_event(order_update(1, 11, market::OrderState::open));
  EXPECT_FALSE(h.closed_order(1));  // open orders are the engine's to answer
  h.on_event(order_update(1, 11, market::OrderState::cancelled));
  h.on_event(order_update(2, 11, market::OrderState::filled));
  h.on_event(order_update(3, 12, market::OrderState::filled));
  ASSERT_TRUE(h.closed_order(1));
  EXPECT_EQ(h.closed_order(1)->order.state, market::OrderState::cancelled);
  EXPECT_EQ(h.closed_order(1)->label(), "lbl");
  h.on_event(order_update(4, 11, market::OrderState::cancelled));  // account 11's third
  EXPECT_FALSE(h.closed_order(1));
  EXPECT_TRUE(h.closed_order(2));
  EXPECT_TRUE(h.closed_order(3));  // another account's are not pushed out
  EXPECT_TRUE(h.closed_order(4));
  h.on_event(order_update(5, kMakerAccountBase + 1, market::OrderState::filled));
  EXPECT_FALSE(h.closed_order(5));  // the simulated participants' are not kept
}

}  // namespace
}  // namespace gw::sim
