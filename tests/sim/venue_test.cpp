// The venue thread end to end: start, commands from two other threads with results through the
// callbacks, the ordered event stream through the SPSC queue, real-time pacing, the full-queue
// policy, and a clean stop (ASan's leak check covers the rest). Also the command queue alone.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <set>
#include <thread>

#include "pricing/deribit.hpp"
#include "sim/command_queue.hpp"
#include "sim/sim_test_util.hpp"
#include "sim/venue.hpp"

namespace gw::sim {
namespace {

using namespace std::chrono_literals;
using testing::kStart;

TEST(CommandQueue, ManyProducersOneConsumerKeepsEveryItemInProducerOrder) {
  CommandQueue<std::pair<int, int>> q(64);
  constexpr int kPerProducer = 5'000;
  std::atomic<bool> go{false};
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&, p] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < kPerProducer; ++i) {
        std::pair<int, int> item{p, i};
        while (!q.try_push(item)) std::this_thread::yield();
      }
    });
  }
  go = true;
  int next[3] = {0, 0, 0};
  for (int received = 0; received < 3 * kPerProducer;) {
    if (auto item = q.try_pop()) {
      ASSERT_EQ(item->second, next[item->first]);
      ++next[item->first];
      ++received;
    }
  }
  for (auto& t : producers) t.join();
  EXPECT_FALSE(q.try_pop());
  // Full: refused, and the value is left alone.
  CommandQueue<std::string> small(2);
  std::string a = "a", b = "b", c = "c";
  EXPECT_TRUE(small.try_push(a));
  EXPECT_TRUE(small.try_push(b));
  EXPECT_FALSE(small.try_push(c));
  EXPECT_EQ(c, "c");
}

// Waits for a callback's result.
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

// Drains a consumer queue on its own thread, keeping what the test looks at.
struct Drain {
  explicit Drain(Venue::Consumer& c) : consumer(c), thread([this] { run(); }) {}
  ~Drain() {
    stop = true;
    thread.join();
  }
  void run() {
    while (!stop) {
      VenueEvent* e = consumer.queue().peek();
      if (e == nullptr) {
        std::this_thread::sleep_for(50us);
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex);
      ++events;
      if (const auto* o = std::get_if<OwnedOrderUpdate>(e)) {
        if (!is_sim_account(o->order.account)) user_orders.push_back(*o);
      }
      if (const auto* l = std::get_if<InstrumentListed>(e)) listed.insert(l->instrument->name);
      if (std::holds_alternative<StreamGap>(*e)) ++gaps;
      consumer.queue().pop();
    }
  }
  Venue::Consumer& consumer;
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::uint64_t events = 0;
  std::uint64_t gaps = 0;
  std::vector<OwnedOrderUpdate> user_orders;
  std::set<std::string> listed;
  std::thread thread;
};

InstrumentId find_instrument(Venue& venue, std::string_view name) {
  Waiter<std::vector<market::Instrument>> w;
  EXPECT_TRUE(venue.get_instruments({}, w.callback()));
  for (const market::Instrument& i : w.get()) {
    if (i.name == name) return i.id;
  }
  return 0;
}

TEST(Venue, CommandsFromTwoThreadsAndTheEventStream) {
  VenueConfig config = testing::small_config(1);
  config.publish_sim_accounts = false;
  Venue venue(config);
  Venue::Consumer& consumer = venue.add_consumer();
  Drain drain(consumer);
  venue.start();
  const InstrumentId perp = find_instrument(venue, "BTC-PERPETUAL");
  ASSERT_NE(perp, 0u);

  // Two client threads, each: deposit, five resting buys far below the market, an edit, a
  // cancel, a book snapshot, an account summary, then cancel_all.
  auto client = [&](AccountId account, std::vector<market::OrderId>& placed) {
    Waiter<AccountSnapshot> dep;
    ASSERT_TRUE(venue.deposit(account, Currency::BTC, 10, dep.callback()));
    const AccountSnapshot a = dep.get();
    ASSERT_TRUE(a.found);
    EXPECT_DOUBLE_EQ(a.summary.balance, 10);
    for (int n = 0; n < 5; ++n) {
      market::PlaceOrder p;
      p.account = account;
      p.instrument = perp;
      p.side = market::Side::buy;
      p.price = 2'000 + n;  // 1000 USD: never fills
      p.amount = 10;
      Waiter<OrderResult> w;
      ASSERT_TRUE(venue.place(p, "client-" + std::to_string(account), w.callback()));
      const OrderResult r = w.get();
      ASSERT_TRUE(r.executed);
      ASSERT_TRUE(r.result.ok()) << market::to_string(r.result.error);
      ASSERT_TRUE(r.order.has_value());
      EXPECT_EQ(r.order->order.state, market::OrderState::open);
      EXPECT_EQ(r.order->label(), "client-" + std::to_string(account));
      EXPECT_TRUE(r.trades.empty());
      placed.push_back(r.result.order_id);
    }
    Waiter<OrderResult> edit;
    ASSERT_TRUE(venue.edit({account, placed[0], 2'010, 20, {}, {}, 0}, edit.callback()));
    const OrderResult e = edit.get();
    EXPECT_TRUE(e.result.ok());
    EXPECT_TRUE(e.order->order.replaced);
    EXPECT_EQ(e.order->order.amount, 20);
    Waiter<OrderResult> cancel;
    ASSERT_TRUE(venue.cancel({account, placed[1], 0}, cancel.callback()));
    EXPECT_EQ(cancel.get().order->order.state, market::OrderState::cancelled);
    Waiter<std::optional<OwnedOrderUpdate>> query;
    ASSERT_TRUE(venue.get_order(placed[2], query.callback()));
    const auto q = query.get();
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->order.price, 2'002);
    Waiter<BookSnapshot> book;
    ASSERT_TRUE(venue.get_book(perp, 0, book.callback()));
    const BookSnapshot b = book.get();
    ASSERT_TRUE(b.found);
    ASSERT_TRUE(b.ticker.has_value());
    EXPECT_GT(b.change_id, 0u);
    EXPECT_FALSE(b.bids.empty());
    EXPECT_FALSE(b.asks.empty());
    EXPECT_LT(b.bids.front().price, b.asks.front().price);
    // Ours are the lowest bids: this client's lowest is 2002 now (2000 moved, 2001 gone), the
    // other client's may still be at 2000.
    EXPECT_GE(b.bids.back().price, 2'000);
    EXPECT_LE(b.bids.back().price, 2'002);
    Waiter<AccountSnapshot> acc;
    ASSERT_TRUE(venue.get_account(account, Currency::BTC, acc.callback()));
    EXPECT_GT(acc.get().summary.initial_margin, 0);  // the open orders hold margin
    Waiter<OrderResult> all;
    market::CancelAll filter;
    filter.account = account;
    ASSERT_TRUE(venue.cancel_all(filter, all.callback()));
    EXPECT_EQ(all.get().result.count, 4u);  // the edited one and three more
  };
  std::vector<market::OrderId> placed1, placed2;
  std::thread t1(client, 1001, std::ref(placed1));
  std::thread t2(client, 1002, std::ref(placed2));
  t1.join();
  t2.join();

  // A simulated participant's account is refused.
  Waiter<OrderResult> refused;
  market::PlaceOrder p;
  p.account = kMakerAccountBase;
  p.instrument = perp;
  p.price = 2'000;
  p.amount = 1;
  ASSERT_TRUE(venue.place(p, "", refused.callback()));
  EXPECT_EQ(refused.get().result.error, market::Error::invalid_arguments);

  // The stream has every user order event, each order ending exactly once, in order.
  Waiter<BookSnapshot> fence;  // everything before this answer is in the queue
  ASSERT_TRUE(venue.get_book(perp, 1, fence.callback()));
  fence.get();
  std::this_thread::sleep_for(100ms);
  EXPECT_GT(venue.now_ms(), kStart);
  venue.stop();
  EXPECT_FALSE(venue.running());
  EXPECT_FALSE(venue.get_book(perp, 1, [](const BookSnapshot&) {}));  // stopped

  std::lock_guard<std::mutex> lock(drain.mutex);
  EXPECT_EQ(consumer.dropped(), 0u);
  EXPECT_EQ(drain.gaps, 0u);
  EXPECT_TRUE(drain.listed.count("BTC-PERPETUAL"));
  std::map<market::OrderId, int> terminal;
  std::map<market::OrderId, int> updates;
  for (const OwnedOrderUpdate& o : drain.user_orders) {
    EXPECT_EQ(terminal[o.order.order_id], 0) << "an event after the terminal one";
    ++updates[o.order.order_id];
    if (market::is_terminal(o.order.state)) ++terminal[o.order.order_id];
  }
  for (const auto* placed : {&placed1, &placed2}) {
    for (market::OrderId id : *placed) {
      EXPECT_EQ(terminal[id], 1) << id;
      EXPECT_GE(updates[id], 2) << id;  // opened, then cancelled (and edited)
    }
  }
}

// get_account's answer carries each open option's ticker computed at the snapshot's instant:
// its Greeks are deribit_greeks at its mark IV on its forward with the years left then, and
// the snapshot's risk sums them over the positions.
TEST(Venue, AccountSnapshotCarriesTheOpenOptionsTickers) {
  Venue venue(testing::small_config(2));
  Venue::Consumer& consumer = venue.add_consumer();
  Drain drain(consumer);
  venue.start();
  Waiter<std::vector<market::Instrument>> listed;
  ASSERT_TRUE(venue.get_instruments({}, listed.callback()));
  const std::vector<market::Instrument> instruments = listed.get();
  const market::Instrument* option = nullptr;  // the BTC call of the last expiry nearest 100000
  for (const market::Instrument& i : instruments) {
    if (i.currency != Currency::BTC || i.option_type != market::OptionType::call) continue;
    if (option == nullptr || i.expiration_ms > option->expiration_ms ||
        (i.expiration_ms == option->expiration_ms &&
         std::abs(i.strike - 100000) < std::abs(option->strike - 100000))) {
      option = &i;
    }
  }
  ASSERT_NE(option, nullptr);
  const InstrumentId perp = find_instrument(venue, "BTC-PERPETUAL");
  Waiter<AccountSnapshot> dep;
  ASSERT_TRUE(venue.deposit(1003, Currency::BTC, 10, dep.callback()));
  dep.get();
  for (const auto& [id, lots] : {std::pair{option->id, Lots{5}}, std::pair{perp, Lots{10}}}) {
    market::PlaceOrder p;
    p.account = 1003;
    p.instrument = id;
    p.type = market::OrderType::market;
    p.amount = lots;
    Waiter<OrderResult> w;
    ASSERT_TRUE(venue.place(p, "", w.callback()));
    ASSERT_EQ(w.get().order->order.filled, lots);
  }
  Waiter<AccountSnapshot> acc;
  ASSERT_TRUE(venue.get_account(1003, Currency::BTC, acc.callback()));
  const AccountSnapshot a = acc.get();
  venue.stop();
  EXPECT_GT(a.index_price, 0);
  ASSERT_EQ(a.option_markets.size(), 1u);  // the option only, not the perpetual
  const OptionMarket* m = a.option_market(option->id);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(a.option_market(perp), nullptr);
  EXPECT_GT(m->mark_iv, 5);
  EXPECT_GT(m->underlying_price, a.index_price * 0.9);
  const pricing::DeribitGreeks g = pricing::deribit_greeks(
      pricing::OptionType::call, m->underlying_price, option->strike,
      pricing::deribit_years_to_expiry(a.timestamp, option->expiration_ms), m->mark_iv / 100);
  EXPECT_DOUBLE_EQ(m->greeks.delta, g.delta);
  EXPECT_DOUBLE_EQ(m->greeks.gamma, g.gamma);
  EXPECT_DOUBLE_EQ(m->greeks.vega, g.vega);
  EXPECT_DOUBLE_EQ(m->greeks.theta, g.theta);
  EXPECT_GT(m->greeks.delta, 0);
  // Its risk is the rows' with those Greeks: 0.5 BTC of the call, 100 USD of the perpetual.
  double option_mark = 0, perp_mark = 0;
  for (const PositionSnapshot& p : a.positions) {
    if (p.instrument == option->id) option_mark = p.mark_price;
    if (p.instrument == perp) perp_mark = p.mark_price;
  }
  ASSERT_GT(option_mark, 0);
  ASSERT_GT(perp_mark, 0);
  EXPECT_DOUBLE_EQ(a.risk.options_delta, 0.5 * m->greeks.delta);
  EXPECT_DOUBLE_EQ(a.risk.options_gamma, 0.5 * m->greeks.gamma);
  EXPECT_DOUBLE_EQ(a.risk.options_vega, 0.5 * m->greeks.vega);
  EXPECT_DOUBLE_EQ(a.risk.options_theta, 0.5 * m->greeks.theta);
  EXPECT_DOUBLE_EQ(a.risk.options_value, 0.5 * option_mark);
  EXPECT_DOUBLE_EQ(a.risk.delta_total, 100 / perp_mark + 0.5 * (m->greeks.delta - option_mark));
  EXPECT_EQ(a.risk.open_options, 1u);
  EXPECT_EQ(a.risk.open_futures, 1u);
}

TEST(Venue, RealTimePacing) {
  VenueConfig config = testing::tiny_config(2);
  config.publish_sim_accounts = false;
  config.speed = 1;
  Venue venue(config);
  Venue::Consumer& consumer = venue.add_consumer();
  Drain drain(consumer);
  venue.start();
  // Opening (listing, funding, first quotes) takes a moment, more so under sanitizers.
  const auto open_by = std::chrono::steady_clock::now() + 20s;
  while (venue.now_ms() == kStart && std::chrono::steady_clock::now() < open_by) {
    std::this_thread::sleep_for(1ms);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const TimestampMs s0 = venue.now_ms();
  std::this_thread::sleep_for(500ms);
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const double sim_ms = static_cast<double>(venue.now_ms() - s0);
  EXPECT_GT(sim_ms, 0.5 * wall_ms);  // it runs
  EXPECT_LT(sim_ms, wall_ms + 50);   // but not ahead of the wall clock
  venue.stop();
}

TEST(Venue, FullQueueDropsThenSignalsAGap) {
  VenueConfig config = testing::tiny_config(3);
  config.publish_sim_accounts = false;
  config.full_queue_wait = std::chrono::microseconds(500);
  Venue venue(config);
  Venue::Consumer& slow = venue.add_consumer(256);
  Venue::Consumer& fast = venue.add_consumer(1 << 16);
  Drain drain_fast(fast);
  venue.start();
  // `slow` is not read: it fills up and drops.
  const auto by = std::chrono::steady_clock::now() + 20s;
  while (slow.dropped() < 100 && std::chrono::steady_clock::now() < by) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(slow.dropped(), 100u);
  // Now read it: after room frees up, a StreamGap says how much was missed.
  std::uint64_t gap_total = 0;
  int gaps = 0;
  const auto until = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < until) {
    if (auto e = slow.queue().try_pop()) {
      if (const auto* g = std::get_if<StreamGap>(&*e)) {
        gap_total += g->dropped;
        ++gaps;
      }
    }
  }
  venue.stop();
  EXPECT_GE(gaps, 1);
  EXPECT_GT(gap_total, 0u);
  EXPECT_LE(gap_total, slow.dropped());
  // The fast consumer lost nothing.
  EXPECT_EQ(fast.dropped(), 0u);
}

TEST(Venue, CommandsNeverRunAreAnsweredAtStop) {
  Venue venue(testing::tiny_config(4));
  Waiter<OrderResult> w;
  market::PlaceOrder p;
  p.account = 1;
  ASSERT_TRUE(venue.place(p, "", w.callback()));  // queued; the venue never starts
  venue.stop();
  EXPECT_FALSE(w.get().executed);
}

}  // namespace
}  // namespace gw::sim
