// The mirror: a feed's inputs become the venue's event stream (books with the feed's change_id
// chain and our checksum, restarts on every break), and the venue answers from it.
#include "sim/mirror.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <future>

#include "pricing/ssvi.hpp"
#include "sim/venue.hpp"

namespace gw::sim {
namespace {

constexpr TimestampMs kNow = 1'790'000'000'000;  // 2026-09-21

struct Recorder : VenueSink {
  std::vector<VenueEvent> events;
  void on_event(const VenueEvent& e) override { events.push_back(e); }
  template <class T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const VenueEvent& e : events) {
      if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
    }
    return out;
  }
};

market::Instrument instrument(std::string_view name) {
  const market::ParsedName parsed = market::parse_instrument_name(name);
  EXPECT_TRUE(parsed.ok()) << name;
  market::Instrument i = market::make_instrument(parsed.name);
  i.creation_ms = kNow - 1000;
  return i;
}

FeedBook snapshot(std::uint64_t id, std::vector<FeedLevel> bids, std::vector<FeedLevel> asks) {
  FeedBook b;
  b.instrument = "BTC-PERPETUAL";
  b.timestamp = kNow + static_cast<TimestampMs>(id);
  b.snapshot = true;
  b.change_id = id;
  b.bids = std::move(bids);
  b.asks = std::move(asks);
  return b;
}

FeedBook change(std::uint64_t prev, std::uint64_t id, std::vector<FeedLevel> bids,
                std::vector<FeedLevel> asks) {
  FeedBook b = snapshot(id, std::move(bids), std::move(asks));
  b.snapshot = false;
  b.prev_change_id = prev;
  return b;
}

class MirrorTest : public ::testing::Test {
 protected:
  MirrorTest() : mirror(config, out) {
    mirror.apply(FeedInstrument{instrument("BTC-PERPETUAL")});
    id = std::get<InstrumentListed>(out.events.back()).instrument->id;
  }
  OwnedBookChange last_book() const { return out.all<OwnedBookChange>().back(); }

  VenueConfig config;
  Recorder out;
  Mirror mirror;
  InstrumentId id = 0;
};

TEST_F(MirrorTest, ListsEachInstrumentOnceWithItsOwnSpecification) {
  market::Instrument custom = instrument("BTC-27DEC26");
  custom.tick_size = 2.5;  // a feed's specification wins over ours
  custom.price_unit = 2.5;
  mirror.apply(FeedInstrument{custom});
  mirror.apply(FeedInstrument{custom});
  const auto listed = out.all<InstrumentListed>();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].instrument->name, "BTC-27DEC26");
  EXPECT_EQ(listed[1].instrument->tick_size, 2.5);
  EXPECT_NE(listed[1].instrument->id, id);
  EXPECT_EQ(mirror.registry().select({}).size(), 2u);
}

TEST_F(MirrorTest, FirstSnapshotIsPublishedAsTheBooksFirstMessageWithOurChecksum) {
  mirror.apply(snapshot(100, {{65000, 10}, {64999.5, 20}}, {{65000.5, 30}}));
  const OwnedBookChange b = last_book();
  EXPECT_EQ(b.restart, BookRestart::first);
  EXPECT_EQ(b.change_id, 100u);
  EXPECT_EQ(b.prev_change_id, 0u);
  ASSERT_EQ(b.bids.size(), 2u);
  EXPECT_EQ(b.bids[0].action, market::BookAction::add);
  const market::Instrument& i = *mirror.registry().find(id);
  EXPECT_EQ(b.bids[0].price, i.to_ticks(65000));
  EXPECT_EQ(b.bids[1].price, i.to_ticks(64999.5));
  const std::vector<market::PriceLevel> bids = {{i.to_ticks(65000), i.to_lots(10)},
                                                {i.to_ticks(64999.5), i.to_lots(20)}};
  const std::vector<market::PriceLevel> asks = {{i.to_ticks(65000.5), i.to_lots(30)}};
  EXPECT_EQ(b.checksum, market::book_checksum(bids, asks, market::book_format(i)));
  const auto levels = mirror.levels(id, 0);
  ASSERT_TRUE(levels);
  EXPECT_EQ(levels->bids, bids);
  EXPECT_EQ(levels->asks, asks);
  EXPECT_EQ(levels->change_id, 100u);
  EXPECT_EQ(levels->checksum, b.checksum);
}

TEST_F(MirrorTest, ChainedChangesKeepTheFeedsChangeIds) {
  mirror.apply(snapshot(100, {{65000, 10}}, {{65000.5, 30}}));
  mirror.apply(change(100, 105, {{65000, 0}, {64999, 50}}, {{65000.5, 310}}));
  const OwnedBookChange b = last_book();
  EXPECT_EQ(b.restart, BookRestart::none);
  EXPECT_EQ(b.change_id, 105u);
  EXPECT_EQ(b.prev_change_id, 100u);
  ASSERT_EQ(b.bids.size(), 2u);
  EXPECT_EQ(b.bids[0].action, market::BookAction::remove);
  EXPECT_EQ(b.bids[1].action, market::BookAction::add);
  ASSERT_EQ(b.asks.size(), 1u);
  EXPECT_EQ(b.asks[0].action, market::BookAction::change);
  EXPECT_EQ(mirror.levels(id, 0)->bids.size(), 1u);
}

TEST_F(MirrorTest, ABrokenChainOrAChangeBeforeAnySnapshotResyncs) {
  mirror.apply(change(0, 7, {{65000, 1}}, {}));
  EXPECT_EQ(last_book().restart, BookRestart::resync);
  mirror.apply(snapshot(100, {{65000, 10}}, {}));
  mirror.apply(change(101, 102, {{65000, 11}}, {}));  // 101 never came
  EXPECT_EQ(last_book().restart, BookRestart::resync);
  EXPECT_EQ(mirror.counters().resyncs, 3u);  // the snapshot of a live book resyncs too
  mirror.apply(change(102, 103, {{65000, 12}}, {}));
  EXPECT_EQ(last_book().restart, BookRestart::none);
}

TEST_F(MirrorTest, AfterTheFeedIsLostTheNextSnapshotIsAResyncCarryingTheDifference) {
  mirror.apply(snapshot(100, {{65000, 10}, {64999, 10}}, {{65001, 30}}));
  mirror.apply(FeedLost{kNow + 500});
  mirror.apply(snapshot(1, {{65000, 10}, {64998, 20}}, {{65001, 40}}));
  const OwnedBookChange b = last_book();
  EXPECT_EQ(b.restart, BookRestart::resync);
  EXPECT_EQ(b.change_id, 1u);  // the restarted upstream's numbering
  const market::Instrument& i = *mirror.registry().find(id);
  ASSERT_EQ(b.bids.size(), 2u);  // 65000 unchanged: left out
  EXPECT_EQ(b.bids[0].price, i.to_ticks(64999));
  EXPECT_EQ(b.bids[0].action, market::BookAction::remove);
  EXPECT_EQ(b.bids[1].price, i.to_ticks(64998));
  EXPECT_EQ(b.bids[1].action, market::BookAction::add);
  ASSERT_EQ(b.asks.size(), 1u);
  EXPECT_EQ(b.asks[0].action, market::BookAction::change);
}

TEST_F(MirrorTest, MalformedInputsAreRejectedWithoutTouchingTheBook) {
  mirror.apply(snapshot(100, {{65000, 10}}, {}));
  const std::size_t published = out.events.size();
  mirror.apply(change(100, 101, {{NAN, 1}}, {}));
  mirror.apply(change(100, 101, {{65000, -1}}, {}));
  mirror.apply(change(100, 101, {{1e300, 1}}, {}));
  FeedBook unknown = change(100, 101, {{65000, 1}}, {});
  unknown.instrument = "BTC-1JAN99";
  mirror.apply(unknown);
  mirror.apply(FeedIndex{Currency::BTC, kNow, -5});
  FeedTrade trade;
  trade.instrument = "BTC-PERPETUAL";
  trade.price = INFINITY;
  mirror.apply(trade);
  mirror.apply(FeedInstrument{market::Instrument{}});
  EXPECT_EQ(out.events.size(), published);
  EXPECT_EQ(mirror.counters().rejected, 7u);
  EXPECT_EQ(mirror.levels(id, 0)->change_id, 100u);
}

TEST_F(MirrorTest, TickersTradesAndIndexCarryTheFeedsValues) {
  mirror.apply(FeedIndex{Currency::BTC, kNow + 1, 65123.25});
  EXPECT_EQ(mirror.index_price(Currency::BTC), 65123.25);
  FeedTicker t;
  t.instrument = "BTC-PERPETUAL";
  t.values.timestamp = kNow + 2;
  t.values.mark_price = 65010.5;
  t.values.current_funding = 0.0001;
  t.best_bid_price = 65000;
  t.best_bid_amount = 10;
  t.best_ask_price = 65000.5;
  t.best_ask_amount = 20;
  t.last_price = 65000.5;
  t.open_interest = 12345;
  t.volume = 100;
  mirror.apply(t);
  const Ticker ticker = out.all<Ticker>().back();
  const market::Instrument& i = *mirror.registry().find(id);
  EXPECT_EQ(ticker.instrument, id);
  EXPECT_EQ(ticker.best_ask_price, i.to_ticks(65000.5));
  EXPECT_EQ(ticker.best_bid_amount, i.to_lots(10));
  EXPECT_EQ(ticker.open_interest, i.to_lots(12345));
  EXPECT_EQ(ticker.current_funding, 0.0001);
  EXPECT_EQ(mirror.ticker(id)->mark_price, 65010.5);

  FeedTrade trade;
  trade.instrument = "BTC-PERPETUAL";
  trade.timestamp = kNow + 3;
  trade.trade_id = 777;
  trade.trade_seq = 5;
  trade.direction = market::Side::sell;
  trade.price = 64999.5;
  trade.amount = 30;
  mirror.apply(trade);
  const market::Trade out_trade = out.all<market::Trade>().back();
  EXPECT_EQ(out_trade.trade_id, 777u);
  EXPECT_EQ(out_trade.direction, market::Side::sell);
  EXPECT_EQ(out_trade.price, i.to_ticks(64999.5));
  EXPECT_EQ(mirror.now_ms(), kNow + 3);
}

TEST_F(MirrorTest, ExpiredInstrumentsCloseAndLeaveTheQueries) {
  mirror.apply(FeedExpired{"BTC-PERPETUAL", kNow + 10});
  EXPECT_EQ(out.all<InstrumentClosed>().size(), 1u);
  EXPECT_FALSE(mirror.active(id));
  EXPECT_FALSE(mirror.levels(id, 0));
  EXPECT_TRUE(mirror.registry().select({}).empty());
}

// Option tickers priced off a known SSVI surface: the fitted surface recovers its ATM variance.
// Option tickers of two expiries whose mark IVs lie on an SSVI surface (flat 60 % ATM vol);
// returns each expiry's ATM total variance.
std::vector<double> quote_options(Mirror& mirror, const pricing::SsviParams& truth,
                                  double forward) {
  const std::vector<std::string> expiries = {"30OCT26", "27NOV26"};
  std::vector<double> thetas;
  for (const std::string& expiry : expiries) {
    double theta = 0;
    for (int strike = 45000; strike <= 90000; strike += 5000) {
      for (const char* type : {"C", "P"}) {
        const std::string name =
            "BTC-" + expiry + "-" + std::to_string(strike) + "-" + std::string(type);
        const market::Instrument option = instrument(name);
        mirror.apply(FeedInstrument{option});
        const double years = static_cast<double>(option.expiration_ms - kNow) / (365 * 86.4e6);
        theta = 0.36 * years;
        const double k = std::log(strike / forward);
        const double w = pricing::ssvi_total_variance(truth, theta, k);
        FeedTicker t;
        t.instrument = name;
        t.values.timestamp = kNow;
        t.values.underlying_price = forward;
        t.values.mark_iv = 100 * std::sqrt(w / years);
        mirror.apply(t);
      }
    }
    thetas.push_back(theta);
  }
  return thetas;
}

TEST_F(MirrorTest, FitsTheSurfaceToTheOptionTickersMarkIvs) {
  const pricing::SsviParams truth{-0.3, 1.2, 0.4};
  const double forward = 65000;
  const std::vector<double> thetas = quote_options(mirror, truth, forward);
  mirror.advance(kNow);
  const auto surfaces = out.all<SurfaceSnapshot>();
  ASSERT_EQ(surfaces.size(), 1u);
  const SurfaceSnapshot& s = surfaces[0];
  EXPECT_EQ(s.currency, Currency::BTC);
  ASSERT_EQ(s.expiries.size(), 2u);
  EXPECT_LT(s.expiries[0].expiry, s.expiries[1].expiry);
  EXPECT_EQ(s.expiries[0].forward, forward);
  for (std::size_t e = 0; e < s.expiries.size(); ++e) {
    EXPECT_NEAR(s.expiries[e].theta / thetas[e], 1.0, 0.01);
    EXPECT_NEAR(s.expiries[e].atm_vol, 0.6, 0.01);
  }
  EXPECT_NEAR(s.params.rho, truth.rho, 0.05);
  // Not again before the interval.
  mirror.advance(kNow + 1);
  EXPECT_EQ(out.all<SurfaceSnapshot>().size(), 1u);
  mirror.advance(kNow + config.surface_interval_ms);
  EXPECT_EQ(out.all<SurfaceSnapshot>().size(), 2u);
}

// A venue's stream carries its own surfaces, blocks and transfers: published as they are, and
// the mirror fits no surface of that currency any more; an older surface is skipped, until the
// feed is lost (a restarted venue's clock may be behind).
TEST_F(MirrorTest, TheFeedsSurfacesAndChainsPassThroughAndStopTheFit) {
  quote_options(mirror, {-0.3, 1.2, 0.4}, 65000);
  SurfaceSnapshot venue_surface;
  venue_surface.timestamp = kNow + 5000;
  venue_surface.currency = Currency::BTC;
  venue_surface.index_price = 64990.5;
  venue_surface.params = {-0.25, 1.1, 0.45};
  venue_surface.expiries.push_back({kNow + 86'400'000, 1 / 365.0, 65010, 0.001, 0.6});
  mirror.apply(FeedSurface{venue_surface});
  Block block;
  block.timestamp = kNow + 6000;
  block.currency = Currency::ETH;
  block.height = 19'000'001;
  block.hash[0] = 0xab;
  mirror.apply(FeedBlock{block});
  Transfer transfer;
  transfer.timestamp = kNow + 6000;
  transfer.currency = Currency::ETH;
  transfer.block_height = block.height;
  transfer.amount = 1234.5;
  mirror.apply(FeedTransfer{transfer});

  ASSERT_EQ(out.all<SurfaceSnapshot>().size(), 1u);
  const SurfaceSnapshot passed = out.all<SurfaceSnapshot>()[0];
  EXPECT_EQ(passed.timestamp, venue_surface.timestamp);
  EXPECT_EQ(passed.params.rho, -0.25);
  EXPECT_EQ(passed.expiries.size(), 1u);
  ASSERT_EQ(out.all<Block>().size(), 1u);
  EXPECT_EQ(out.all<Block>()[0].height, 19'000'001u);
  EXPECT_EQ(out.all<Block>()[0].hash[0], 0xab);
  ASSERT_EQ(out.all<Transfer>().size(), 1u);
  EXPECT_EQ(out.all<Transfer>()[0].amount, 1234.5);

  // The tickers would make a fit: none is made for BTC now.
  mirror.advance(kNow + 10 * config.surface_interval_ms);
  EXPECT_EQ(out.all<SurfaceSnapshot>().size(), 1u);
  // The same surface again, or an older one: skipped.
  mirror.apply(FeedSurface{venue_surface});
  SurfaceSnapshot older = venue_surface;
  older.timestamp -= 1000;
  mirror.apply(FeedSurface{older});
  EXPECT_EQ(out.all<SurfaceSnapshot>().size(), 1u);
  // After a loss, the next one is taken whatever its time; still no fit.
  mirror.apply(FeedLost{kNow + 7000});
  mirror.apply(FeedSurface{older});
  ASSERT_EQ(out.all<SurfaceSnapshot>().size(), 2u);
  EXPECT_EQ(out.all<SurfaceSnapshot>()[1].timestamp, older.timestamp);
  mirror.advance(kNow + 20 * config.surface_interval_ms);
  EXPECT_EQ(out.all<SurfaceSnapshot>().size(), 2u);
}

// ---- The venue in mirror mode ------------------------------------------------------------------

template <class T, class Submit>
T ask(Submit submit) {
  std::promise<T> done;
  auto result = done.get_future();
  EXPECT_TRUE(submit([&done](const T& r) { done.set_value(r); }));
  EXPECT_EQ(result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return result.get();
}

TEST(MirrorVenue, AnswersFromTheFeedAndRefusesOrders) {
  VenueConfig config;
  config.source = MarketSource::mirror;
  Venue venue(config);
  Venue::Consumer& events = venue.add_consumer();
  std::vector<FeedInput> batch;
  batch.emplace_back(FeedInstrument{instrument("BTC-PERPETUAL")});
  batch.emplace_back(snapshot(100, {{65000, 10}}, {{65000.5, 30}}));
  ASSERT_TRUE(venue.feed(batch));  // before start: kept until the thread runs
  EXPECT_TRUE(batch.empty());
  venue.start();

  const auto instruments = ask<std::vector<market::Instrument>>(
      [&](auto done) { return venue.get_instruments({}, done); });
  ASSERT_EQ(instruments.size(), 1u);
  const InstrumentId id = instruments[0].id;
  const BookSnapshot book =
      ask<BookSnapshot>([&](auto done) { return venue.get_book(id, 0, done); });
  EXPECT_TRUE(book.found);
  EXPECT_EQ(book.change_id, 100u);
  ASSERT_EQ(book.bids.size(), 1u);
  EXPECT_EQ(venue.now_ms(), kNow + 100);

  ASSERT_TRUE(venue.feed(FeedInput{change(100, 101, {{65000, 11}}, {})}));
  const BookSnapshot after =
      ask<BookSnapshot>([&](auto done) { return venue.get_book(id, 0, done); });
  EXPECT_EQ(after.change_id, 101u);

  market::PlaceOrder order;
  order.account = 1000;
  order.instrument = id;
  const OrderResult placed =
      ask<OrderResult>([&](auto done) { return venue.place(order, "", done); });
  EXPECT_TRUE(placed.executed);
  EXPECT_FALSE(placed.result.ok());
  const AccountSnapshot account =
      ask<AccountSnapshot>([&](auto done) { return venue.deposit(1000, Currency::BTC, 1, done); });
  EXPECT_FALSE(account.found);
  venue.stop();

  std::size_t books = 0;
  while (const VenueEvent* e = events.queue().peek()) {
    books += std::holds_alternative<OwnedBookChange>(*e) ? 1 : 0;
    events.queue().pop();
  }
  EXPECT_EQ(books, 2u);
}

TEST(MirrorVenue, ASimulatedVenueTakesNoFeed) {
  Venue venue;
  EXPECT_FALSE(venue.feed(FeedInput{FeedLost{}}));
}

}  // namespace
}  // namespace gw::sim
