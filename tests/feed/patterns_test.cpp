// feed/patterns: which channels a relay's patterns stand for.
#include "feed/patterns.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gw::feed {
namespace {

std::vector<ChannelPattern> parsed(const std::vector<std::string>& texts) {
  std::vector<ChannelPattern> out;
  for (const std::string& text : texts) {
    std::string error;
    auto p = parse_pattern(text, &error);
    EXPECT_TRUE(p) << text << ": " << error;
    if (p) out.push_back(*p);
  }
  return out;
}

const std::vector<std::string> kNames = {
    "BTC-PERPETUAL",        "BTC-25DEC26",   "BTC-25DEC26-100000-C",
    "BTC-25DEC26-100000-P", "ETH-PERPETUAL", "ETH-25DEC26-3000-C",
};

TEST(Patterns, Glob) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "BTC-PERPETUAL"));
  EXPECT_TRUE(glob_match("BTC-*", "BTC-PERPETUAL"));
  EXPECT_FALSE(glob_match("BTC-*", "ETH-PERPETUAL"));
  EXPECT_TRUE(glob_match("BTC-*-C", "BTC-25DEC26-100000-C"));
  EXPECT_FALSE(glob_match("BTC-*-C", "BTC-25DEC26-100000-P"));
  EXPECT_TRUE(glob_match("*-*-*-C", "BTC-25DEC26-100000-C"));
  EXPECT_FALSE(glob_match("*-*-*-C", "BTC-25DEC26"));
  EXPECT_TRUE(glob_match("BTC-PERPETUAL", "BTC-PERPETUAL"));
  EXPECT_FALSE(glob_match("BTC-PERPETUAL", "BTC-PERPETUALX"));
  EXPECT_TRUE(glob_match("**", "ab"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
}

TEST(Patterns, ExpandAgainstInstrumentNames) {
  const auto channels =
      expand(parsed({"book.BTC-*.100ms", "ticker.*-C.raw", "trades.ETH-PERPETUAL.raw"}), kNames);
  const std::vector<std::string> expected = {
      "book.BTC-25DEC26-100000-C.100ms", "book.BTC-25DEC26-100000-P.100ms",
      "book.BTC-25DEC26.100ms",          "book.BTC-PERPETUAL.100ms",
      "ticker.BTC-25DEC26-100000-C.raw", "ticker.ETH-25DEC26-3000-C.raw",
      "trades.ETH-PERPETUAL.raw",
  };
  EXPECT_EQ(channels, expected);
}

TEST(Patterns, OneChainPerBookAtTheFinestInterval) {
  const auto channels = expand(parsed({"book.BTC-*.agg2", "book.BTC-PERPETUAL.raw", "book.*.100ms",
                                       "ticker.BTC-PERPETUAL.100ms", "ticker.BTC-PERPETUAL.agg2"}),
                               {"BTC-PERPETUAL", "ETH-PERPETUAL"});
  const std::vector<std::string> expected = {"book.BTC-PERPETUAL.raw", "book.ETH-PERPETUAL.100ms",
                                             "ticker.BTC-PERPETUAL.100ms"};
  EXPECT_EQ(channels, expected);
}

TEST(Patterns, IndexesAndLiteralChannels) {
  const auto channels = expand(parsed({"deribit_price_index.*", "deribit_price_index.sol_usd",
                                       "trades.option.BTC.100ms", "book.BTC-1JAN27.raw"}),
                               kNames);
  const std::vector<std::string> expected = {
      "book.BTC-1JAN27.raw",  // not listed (yet): subscribed as given
      "deribit_price_index.btc_usd", "deribit_price_index.eth_usd", "deribit_price_index.sol_usd",
      "trades.option.BTC.100ms"};
  EXPECT_EQ(channels, expected);
}

TEST(Patterns, NoMatchesNoChannels) {
  EXPECT_TRUE(expand(parsed({"book.SOL-*.raw"}), kNames).empty());
}

TEST(Patterns, Currencies) {
  using market::Currency;
  EXPECT_EQ(currencies_of(parsed({"book.BTC-*.100ms"})), std::vector<Currency>{Currency::BTC});
  EXPECT_EQ(currencies_of(parsed({"book.ETH-PERPETUAL.raw", "deribit_price_index.*"})),
            std::vector<Currency>{Currency::ETH});
  EXPECT_EQ(currencies_of(parsed({"ticker.*.100ms"})),
            (std::vector<Currency>{Currency::BTC, Currency::ETH}));
  EXPECT_EQ(currencies_of(parsed({"trades.option.ETH.raw"})), std::vector<Currency>{Currency::ETH});
  EXPECT_EQ(currencies_of(parsed({"trades.future.any.raw"})),
            (std::vector<Currency>{Currency::BTC, Currency::ETH}));
  EXPECT_TRUE(currencies_of(parsed({"deribit_price_index.btc_usd"})).empty());
}

TEST(Patterns, RefusedWithAReason) {
  for (const char* text :
       {"", "book", "book.BTC-PERPETUAL", "book.BTC-PERPETUAL.1s", "book.BTC-PERPETUAL.*",
        "book..raw", "book.BTC-PERPETUAL.none.10.100ms", "markprice.options.btc_usd",
        "user.orders.any.any.raw", "volsurface.BTC.100ms", "trades.*.BTC.raw",
        "trades.future.SOL.raw", "deribit_price_index.", "ticker.BTC-PERPETUAL.raw.x"}) {
    std::string error;
    EXPECT_FALSE(parse_pattern(text, &error)) << text;
    EXPECT_NE(error.find(text), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace gw::feed
