// Channel names: Deribit's grammar and ours, canonical spellings, and what is left out.
#include "gateway/channels.hpp"

#include <gtest/gtest.h>

namespace gw::gateway {
namespace {

TEST(Channels, EveryKindRoundTripsThroughItsCanonicalName) {
  for (const char* name :
       {"book.BTC-PERPETUAL.raw", "book.BTC-27DEC26-100000-C.100ms", "book.ETH-5AUG26.agg2",
        "book.BTC-PERPETUAL.none.10.100ms", "book.ETH-PERPETUAL.25.20.agg2",
        "ticker.BTC-27DEC26-100000-P.100ms", "trades.BTC-PERPETUAL.raw", "trades.option.BTC.100ms",
        "trades.any.any.raw", "trades.future.ETH.agg2", "deribit_price_index.btc_usd",
        "markprice.options.eth_usd", "user.orders.BTC-PERPETUAL.raw", "user.orders.any.any.raw",
        "user.trades.option.ETH.100ms", "user.portfolio.BTC", "volsurface.BTC.100ms",
        "chain.ETH.blocks", "chain.BTC.transfers"}) {
    const auto spec = parse_channel(name);
    ASSERT_TRUE(spec) << name;
    EXPECT_EQ(channel_name(*spec), name);
  }
}

TEST(Channels, FieldsAreParsed) {
  const auto grouped = parse_channel("book.ETH-PERPETUAL.25.20.agg2");
  ASSERT_TRUE(grouped);
  EXPECT_EQ(grouped->kind, ChannelKind::book_grouped);
  EXPECT_EQ(grouped->instrument, "ETH-PERPETUAL");
  EXPECT_EQ(grouped->group, 25);
  EXPECT_EQ(grouped->depth, 20);
  EXPECT_EQ(grouped->interval, Interval::agg2);
  EXPECT_FALSE(grouped->needs_auth());

  const auto trades = parse_channel("trades.option.BTC.100ms");
  ASSERT_TRUE(trades);
  EXPECT_EQ(trades->kind, ChannelKind::trades_by_kind);
  EXPECT_EQ(trades->kind_filter, KindFilter::option);
  EXPECT_EQ(trades->currency, market::Currency::BTC);
  EXPECT_FALSE(trades->per_instrument());

  const auto any = parse_channel("user.orders.any.any.raw");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->currency, std::nullopt);
  EXPECT_TRUE(any->is_private());

  const auto raw = parse_channel("book.BTC-PERPETUAL.raw");
  ASSERT_TRUE(raw);
  EXPECT_TRUE(raw->needs_auth());  // raw intervals need auth (13778)
  EXPECT_FALSE(parse_channel("book.BTC-PERPETUAL.100ms")->needs_auth());

  const auto index = parse_channel("deribit_price_index.eth_usd");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->currency, market::Currency::ETH);
}

TEST(Channels, PortfolioTakesEitherCase) {
  const auto lower = parse_channel("user.portfolio.btc");
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->currency, market::Currency::BTC);
  EXPECT_TRUE(parse_channel("user.portfolio.Eth"));
}

TEST(Channels, MalformedOrUnknownChannelsAreLeftOut) {
  for (const char* name : {"",
                           "book",
                           "book.BTC-PERPETUAL",
                           "book.BTC-PERPETUAL.1s",
                           "book..raw",
                           "book.BTC-PERPETUAL.raw.",
                           "book.NOPE.raw",
                           "book.BTC-32DEC26-1-C.raw",
                           "book.BTC-PERPETUAL.none.5.100ms",
                           "book.BTC-PERPETUAL.05.10.100ms",
                           "book.BTC-PERPETUAL.0.10.100ms",
                           "book.BTC-PERPETUAL.-5.10.100ms",
                           "ticker.BTC-PERPETUAL",
                           "ticker.btc-perpetual.100ms",
                           "trades.option.XRP.100ms",
                           "trades.swap.BTC.100ms",
                           "deribit_price_index.xrp_usd",
                           "markprice.futures.btc_usd",
                           "user.portfolio.XRP",
                           "user.positions.BTC",
                           "user.orders.BTC.raw",
                           "volsurface.BTC.1s",
                           "chain.BTC.mempool",
                           "platform_state",
                           "ticker.BTC-PERPETUAL.100ms\n"}) {
    EXPECT_FALSE(parse_channel(name)) << name;
  }
  EXPECT_FALSE(parse_channel(std::string(200, 'a')));
}

}  // namespace
}  // namespace gw::gateway
