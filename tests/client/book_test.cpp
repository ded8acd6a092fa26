// greekwire::Book: snapshots and changes, the prev_change_id chain, the checksum (against the
// test vectors of docs/PROTOCOL.md, computed there with Python's zlib.crc32), inconsistent level
// actions, and the book's state machine (awaiting snapshot -> live -> broken -> live).
#include "greekwire/book.hpp"

#include <gtest/gtest.h>

#include "client/tree.hpp"
#include "greekwire/value.hpp"

namespace greekwire {
namespace {

constexpr BookFormat kPerpetual{1, 0};  // BTC-PERPETUAL
constexpr BookFormat kBtcOption{4, 1};

// A message from its JSON text, read by the SDK's own decoder path.
BookUpdate message(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  BookUpdate update;
  const simdjson::dom::element root = parser.parse(padded).value();
  EXPECT_TRUE(gw::client::read_book_update(gw::client::JsonNode{root}, update)) << json;
  // The views point into the parser: keep the instrument name alive for the test.
  static std::string name;
  name.assign(update.instrument_name);
  update.instrument_name = name;
  return update;
}

// Book A of the test vectors: 3370445602.
constexpr const char* kSnapshotA =
    R"({"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":100,
        "bids":[["new",65000.0,12000.0],["new",64999.5,500.0],["new",64990.0,10.0]],
        "asks":[["new",65000.5,3000.0],["new",65001.0,20.0]],"checksum":3370445602})";

std::vector<Level> levels(const Book::Side& side) {
  return side.to_vector();
}

TEST(BookChecksum, TestVectorsOfTheProtocol) {
  const Level bids[] = {{65000, 12000}, {64999.5, 500}, {64990, 10}};
  const Level asks[] = {{65000.5, 3000}, {65001, 20}};
  EXPECT_EQ(book_checksum(bids, 3, asks, 2, kPerpetual), 3370445602u);
  const Level option_bids[] = {{0.045, 1.5}, {0.0445, 10}};
  const Level option_asks[] = {{0.046, 0.3}};
  EXPECT_EQ(book_checksum(option_bids, 2, option_asks, 1, kBtcOption), 2897658409u);
  EXPECT_EQ(book_checksum(nullptr, 0, nullptr, 0, kPerpetual), 0u);
  const Level asks_only[] = {{65000.5, 3000}, {65005, 10}};
  EXPECT_EQ(book_checksum(nullptr, 0, asks_only, 2, kPerpetual), 4181265969u);
  // ETH-PERPETUAL, 12 levels a side (only 10 count): prices built from doubles the way a
  // client holding JSON numbers would have them.
  std::vector<Level> eth_bids, eth_asks;
  for (int i = 0; i < 12; ++i) {
    eth_bids.push_back({3500 - 0.15 * i, 10.0 + i});
    eth_asks.push_back({3500.05 + 0.10 * i, 100.0 - i});
  }
  EXPECT_EQ(book_checksum(eth_bids.data(), 12, eth_asks.data(), 12, BookFormat{2, 0}), 3412934532u);
}

TEST(BookFormat, FromInstrumentRows) {
  const auto option = Value::parse_json(
      R"({"tick_size":0.0001,"tick_size_steps":[{"above_price":0.005,"tick_size":0.0005}],
          "min_trade_amount":0.1})");
  EXPECT_EQ(book_format(*option), (BookFormat{4, 1}));
  const auto perpetual =
      Value::parse_json(R"({"tick_size":0.5,"tick_size_steps":[],"min_trade_amount":10.0})");
  EXPECT_EQ(book_format(*perpetual), (BookFormat{1, 0}));
  const auto eth = Value::parse_json(R"({"tick_size":0.05,"min_trade_amount":1})");
  EXPECT_EQ(book_format(*eth), (BookFormat{2, 0}));
  EXPECT_FALSE(book_format(*Value::parse_json(R"({"tick_size":0.5})")));
  EXPECT_EQ(fraction_digits(0.0005), 4);
  EXPECT_EQ(fraction_digits(1e-05), 5);
  EXPECT_EQ(fraction_digits(10.0), 0);
  EXPECT_EQ(fraction_digits(0.1), 1);
}

TEST(Book, SnapshotThenChangesKeepsBothSidesSortedBestFirst) {
  Book book("BTC-PERPETUAL");
  EXPECT_EQ(book.state(), Book::State::awaiting_snapshot);
  EXPECT_EQ(book.apply(message(kSnapshotA)), ApplyResult::snapshot);
  EXPECT_TRUE(book.live());
  EXPECT_EQ(levels(book.bids()), (std::vector<Level>{{65000, 12000}, {64999.5, 500}, {64990, 10}}));
  EXPECT_EQ(levels(book.asks()), (std::vector<Level>{{65000.5, 3000}, {65001, 20}}));
  EXPECT_EQ(book.change_id(), 100u);

  EXPECT_EQ(book.apply(message(
                R"({"type":"change","timestamp":2,"prev_change_id":100,"change_id":107,
                    "instrument_name":"BTC-PERPETUAL",
                    "bids":[["new",64999.0,70.0],["delete",64990.0,0.0],["change",65000.0,1.0]],
                    "asks":[["new",64999.5,5.0],["new",65010.0,30.0]]})")),
            ApplyResult::applied);
  EXPECT_EQ(levels(book.bids()), (std::vector<Level>{{65000, 1}, {64999.5, 500}, {64999, 70}}));
  EXPECT_EQ(levels(book.asks()),
            (std::vector<Level>{{64999.5, 5}, {65000.5, 3000}, {65001, 20}, {65010, 30}}));
  EXPECT_EQ(*book.best_bid(), (Level{65000, 1}));
  EXPECT_EQ(*book.best_ask(), (Level{64999.5, 5}));
  EXPECT_EQ(book.change_id(), 107u);
  EXPECT_EQ(book.timestamp(), 2);
  EXPECT_EQ(book.updates(), 2u);
}

TEST(Book, ChecksumsAreVerifiedWhenTheFormatIsKnown) {
  Book book("BTC-PERPETUAL");
  EXPECT_EQ(book.set_format(kPerpetual), ApplyResult::applied);
  EXPECT_EQ(book.apply(message(kSnapshotA)), ApplyResult::snapshot);
  // From book A to the "asks only" vector: 4181265969.
  EXPECT_EQ(book.apply(message(
                R"({"type":"change","prev_change_id":100,"change_id":101,
                    "instrument_name":"BTC-PERPETUAL",
                    "bids":[["delete",65000.0,0.0],["delete",64999.5,0.0],["delete",64990.0,0.0]],
                    "asks":[["delete",65001.0,0.0],["new",65005.0,10.0]],
                    "checksum":4181265969})")),
            ApplyResult::applied);
  EXPECT_EQ(book.checksums_verified(), 2u);
  EXPECT_EQ(book.checksum(), 4181265969u);
  // Messages without a checksum (Deribit's) are applied unchecked.
  EXPECT_EQ(book.apply(message(R"({"type":"change","prev_change_id":101,"change_id":102,
                                   "instrument_name":"BTC-PERPETUAL","bids":[],
                                   "asks":[["change",65005.0,20.0]]})")),
            ApplyResult::applied);
  EXPECT_EQ(book.checksums_verified(), 2u);
}

TEST(Book, AWrongChecksumBreaksTheBookUntilTheNextSnapshot) {
  Book book("BTC-PERPETUAL");
  book.set_format(kPerpetual);
  book.apply(message(kSnapshotA));
  EXPECT_EQ(book.apply(message(R"({"type":"change","prev_change_id":100,"change_id":101,
                                   "instrument_name":"BTC-PERPETUAL","bids":[],
                                   "asks":[["change",65001.0,21.0]],"checksum":3370445602})")),
            ApplyResult::checksum_mismatch);
  EXPECT_EQ(book.state(), Book::State::broken);
  // Later changes wait for a snapshot.
  EXPECT_EQ(book.apply(message(R"({"type":"change","prev_change_id":101,"change_id":102,
                                   "instrument_name":"BTC-PERPETUAL","bids":[],"asks":[]})")),
            ApplyResult::ignored);
  EXPECT_EQ(book.apply(message(kSnapshotA)), ApplyResult::snapshot);
  EXPECT_TRUE(book.live());
}

TEST(Book, AChecksumBeforeTheFormatIsCheckedWhenTheFormatArrives) {
  Book good("BTC-PERPETUAL");
  good.apply(message(kSnapshotA));
  EXPECT_EQ(good.checksums_verified(), 0u);
  EXPECT_EQ(good.set_format(kPerpetual), ApplyResult::applied);
  EXPECT_EQ(good.checksums_verified(), 1u);

  Book bad("BTC-PERPETUAL");
  bad.apply(message(kSnapshotA));
  bad.apply(message(R"({"type":"change","prev_change_id":100,"change_id":101,
                        "instrument_name":"BTC-PERPETUAL","bids":[],
                        "asks":[["change",65001.0,21.0]],"checksum":3370445602})"));
  EXPECT_TRUE(bad.live());  // cannot tell yet
  EXPECT_EQ(bad.set_format(kPerpetual), ApplyResult::checksum_mismatch);
  EXPECT_EQ(bad.state(), Book::State::broken);
}

TEST(Book, AChangeThatDoesNotChainIsAGap) {
  Book book("BTC-PERPETUAL");
  book.apply(message(kSnapshotA));
  EXPECT_EQ(book.apply(message(R"({"type":"change","prev_change_id":99,"change_id":101,
                                   "instrument_name":"BTC-PERPETUAL","bids":[],"asks":[]})")),
            ApplyResult::gap);
  EXPECT_EQ(book.state(), Book::State::broken);
  // Nothing of the unchained message was applied.
  EXPECT_EQ(book.change_id(), 100u);
  EXPECT_EQ(book.bids().size(), 3u);
}

TEST(Book, AChangeBeforeAnySnapshotIsAGap) {
  Book book("BTC-PERPETUAL");
  EXPECT_EQ(book.apply(message(R"({"type":"change","prev_change_id":1,"change_id":2,
                                   "instrument_name":"BTC-PERPETUAL","bids":[],"asks":[]})")),
            ApplyResult::gap);
  // After a reset for a resubscription, the same.
  book.apply(message(kSnapshotA));
  book.reset();
  EXPECT_EQ(book.apply(message(R"({"type":"change","prev_change_id":100,"change_id":101,
                                   "instrument_name":"BTC-PERPETUAL","bids":[],"asks":[]})")),
            ApplyResult::gap);
}

TEST(Book, LevelActionsThatDoNotFitTheBookAreInconsistent) {
  const char* cases[] = {
      R"("bids":[["delete",1.0,0.0]],"asks":[])",   // delete a missing level
      R"("bids":[["change",1.0,5.0]],"asks":[])",   // change a missing level
      R"("bids":[],"asks":[["new",65000.5,1.0]])",  // new for an existing level
  };
  for (const char* levels_json : cases) {
    Book book("BTC-PERPETUAL");
    book.apply(message(kSnapshotA));
    const std::string text =
        std::string(R"({"type":"change","prev_change_id":100,"change_id":101,)") +
        R"("instrument_name":"BTC-PERPETUAL",)" + levels_json + "}";
    EXPECT_EQ(book.apply(message(text)), ApplyResult::inconsistent) << levels_json;
    EXPECT_EQ(book.state(), Book::State::broken);
  }
}

TEST(Book, ASnapshotListingAPriceTwiceIsInconsistent) {
  Book book("BTC-PERPETUAL");
  book.apply(message(kSnapshotA));
  EXPECT_EQ(book.apply(message(R"({"type":"snapshot","change_id":7,
                                   "instrument_name":"BTC-PERPETUAL","bids":[],
                                   "asks":[["new",65001.0,1.0],["new",65001.0,2.0]]})")),
            ApplyResult::inconsistent);
  EXPECT_EQ(book.state(), Book::State::broken);
  EXPECT_TRUE(book.bids().empty() && book.asks().empty());
  // A good snapshot repairs it.
  EXPECT_EQ(book.apply(message(kSnapshotA)), ApplyResult::snapshot);
  EXPECT_TRUE(book.live());
}

TEST(Book, MessagesOfAnotherInstrumentAreRefused) {
  Book book("ETH-PERPETUAL");
  EXPECT_EQ(book.apply(message(kSnapshotA)), ApplyResult::wrong_instrument);
  EXPECT_EQ(book.state(), Book::State::awaiting_snapshot);
}

TEST(BookUpdate, DecodingAcceptsDeribitsShapesAndRefusesBrokenOnes) {
  // No `type`: a snapshot when there is no prev_change_id (older frames), [price, amount]
  // entries are levels, integer amounts are numbers like any other.
  const BookUpdate old = message(R"({"instrument_name":"X","change_id":5,
                                     "bids":[[10.5,3]],"asks":[]})");
  EXPECT_TRUE(old.snapshot);
  ASSERT_EQ(old.bids.size(), 1u);
  EXPECT_EQ(old.bids[0].price, 10.5);
  EXPECT_EQ(old.bids[0].amount, 3.0);
  EXPECT_FALSE(old.checksum);

  simdjson::dom::parser parser;
  for (const char* bad : {
           R"({"type":"change","instrument_name":"X","change_id":5,"bids":[],"asks":[]})",
           R"({"type":"snapshot","change_id":5,"bids":[],"asks":[]})",
           R"({"type":"snapshot","instrument_name":"X","change_id":-5,"bids":[],"asks":[]})",
           R"({"type":"snapshot","instrument_name":"X","change_id":5,"bids":[["up",1,2]]})",
           R"({"type":"snapshot","instrument_name":"X","change_id":5,"bids":[["new","1",2]]})",
           R"({"type":"snapshot","instrument_name":"X","change_id":5,"checksum":4294967296})",
           R"({"type":"other","instrument_name":"X","change_id":5})",
           R"([1,2,3])",
       }) {
    simdjson::padded_string padded{std::string_view(bad)};
    BookUpdate update;
    EXPECT_FALSE(
        gw::client::read_book_update(gw::client::JsonNode{parser.parse(padded).value()}, update))
        << bad;
  }
}

}  // namespace
}  // namespace greekwire
