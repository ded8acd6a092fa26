// The L3 book: FIFO levels, L2 aggregation, Deribit-form changes per message (coalesced),
// change-id chains, snapshots, grouped/depth views, and the checksum; then a randomized run
// against a std::map model with the published changes replayed.
#include "market/book.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace gw::market {
namespace {

const BookFormat kPerp{5, 10, 1, 0};  // BTC-PERPETUAL: 0.5 USD ticks, 10 USD lots

std::vector<LevelUpdate> v(std::initializer_list<LevelUpdate> l) {
  return l;
}
std::vector<LevelUpdate> v(std::span<const LevelUpdate> s) {
  return {s.begin(), s.end()};
}

TEST(Book, AggregatesLevelsAndKeepsFifo) {
  Book b(kPerp);
  const auto h1 = b.add(1, Side::buy, 100, 5);
  const auto h2 = b.add(2, Side::buy, 100, 3);
  b.add(3, Side::buy, 99, 7);
  b.add(4, Side::sell, 102, 1);
  b.add(5, Side::sell, 101, 2);
  EXPECT_EQ(b.best_price(Side::buy), 100);
  EXPECT_EQ(b.best_price(Side::sell), 101);
  EXPECT_EQ(b.amount_at(Side::buy, 100), 8);
  EXPECT_EQ(b.level_count(Side::buy), 2u);
  EXPECT_EQ(b.order_count(), 5u);
  EXPECT_EQ(b.front(Side::buy), h1);
  EXPECT_EQ(b.next(h1), h2);
  EXPECT_EQ(b.next(h2), Book::kNone);
  EXPECT_EQ(b.level(Side::sell, 1), (PriceLevel{102, 1}));
  // A reduction keeps the place; removal of the head promotes the next.
  EXPECT_FALSE(b.reduce(h1, 2));
  EXPECT_EQ(b.front(Side::buy), h1);
  EXPECT_EQ(b.amount_at(Side::buy, 100), 6);
  EXPECT_TRUE(b.reduce(h1, 3));
  EXPECT_EQ(b.front(Side::buy), h2);
  b.remove(h2);
  EXPECT_EQ(b.best_price(Side::buy), 99);
  EXPECT_EQ(b.amount_at(Side::buy, 100), 0);
  EXPECT_EQ(b.order_count(), 3u);
}

TEST(Book, PublishesDeribitChangesPerMessage) {
  Book b(kPerp);
  const auto a = b.add(1, Side::buy, 100, 5);
  b.add(2, Side::sell, 105, 1);
  const BookDelta* d = b.publish(10);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->change_id, 10u);
  EXPECT_EQ(d->prev_change_id, 0u);
  EXPECT_EQ(v(d->bids), v({{100, 5, BookAction::add}}));
  EXPECT_EQ(v(d->asks), v({{105, 1, BookAction::add}}));

  // Several mutations of one level in one message: one `change` with the final amount.
  const auto c = b.add(3, Side::buy, 100, 2);
  b.reduce(a, 4);
  b.add(4, Side::buy, 98, 1);
  b.add(5, Side::buy, 99, 1);
  d = b.publish(17);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->prev_change_id, 10u);
  EXPECT_EQ(v(d->bids), v({{100, 3, BookAction::change},
                           {99, 1, BookAction::add},
                           {98, 1, BookAction::add}}));  // best first
  EXPECT_TRUE(d->asks.empty());

  // Delete.
  b.remove(a);
  b.remove(c);
  d = b.publish(18);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(v(d->bids), v({{100, 0, BookAction::remove}}));
  EXPECT_EQ(b.change_id(), 18u);
}

TEST(Book, CoalescesToNothingOrToAChange) {
  Book b(kPerp);
  // Created and emptied within a message: no change at all, and the id is not used.
  const auto h = b.add(1, Side::sell, 105, 1);
  b.remove(h);
  EXPECT_EQ(b.publish(1), nullptr);
  EXPECT_EQ(b.change_id(), 0u);
  // Emptied and re-created at the same price: one change.
  const auto x = b.add(2, Side::sell, 105, 4);
  ASSERT_NE(b.publish(2), nullptr);
  b.remove(x);
  b.add(3, Side::sell, 105, 6);
  const BookDelta* d = b.publish(3);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(v(d->asks), v({{105, 6, BookAction::change}}));
  EXPECT_EQ(d->prev_change_id, 2u);
  // Same total after the message: nothing to say.
  const auto y = b.front(Side::sell);
  b.reduce(y, 2);
  b.add(4, Side::sell, 105, 2);
  EXPECT_EQ(b.publish(4), nullptr);
}

TEST(Book, SnapshotAndGroupedViews) {
  Book b(kPerp);
  for (Ticks p : {100, 101, 103, 104, 110}) b.add(static_cast<OrderId>(p), Side::buy, p, 1);
  for (Ticks p : {111, 112, 115, 121}) b.add(static_cast<OrderId>(p), Side::sell, p, 2);
  std::vector<PriceLevel> bids, asks;
  b.snapshot(bids, asks);
  EXPECT_EQ(bids, (std::vector<PriceLevel>{{110, 1}, {104, 1}, {103, 1}, {101, 1}, {100, 1}}));
  EXPECT_EQ(asks, (std::vector<PriceLevel>{{111, 2}, {112, 2}, {115, 2}, {121, 2}}));
  // Group of 5 ticks: bids round down, asks up.
  b.view(5, 20, bids, asks);
  EXPECT_EQ(bids, (std::vector<PriceLevel>{{110, 1}, {100, 4}}));
  EXPECT_EQ(asks, (std::vector<PriceLevel>{{115, 6}, {125, 2}}));
  // Depth limits the number of (grouped) levels.
  b.view(1, 1, bids, asks);
  EXPECT_EQ(bids, (std::vector<PriceLevel>{{110, 1}}));
  EXPECT_EQ(asks, (std::vector<PriceLevel>{{111, 2}}));
  b.view(5, 1, bids, asks);
  EXPECT_EQ(bids, (std::vector<PriceLevel>{{110, 1}}));
  EXPECT_EQ(asks, (std::vector<PriceLevel>{{115, 6}}));
}

TEST(Book, ChecksumFollowsTheTopTen) {
  Book b(kPerp);
  for (Ticks i = 0; i < 15; ++i) {
    b.add(static_cast<OrderId>(i + 1), Side::buy, 1000 - i, 1);
    b.add(static_cast<OrderId>(i + 100), Side::sell, 1001 + i, 1);
  }
  const BookDelta* d = b.publish(1);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->checksum, b.compute_checksum());
  const std::uint32_t before = d->checksum;
  // A change below the top 10 does not change the checksum.
  b.add(500, Side::buy, 1000 - 12, 5);
  d = b.publish(2);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->checksum, before);
  // Deleting a top-10 level does (the 11th moves up).
  b.remove(b.front(Side::sell));
  d = b.publish(3);
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->checksum, before);
  EXPECT_EQ(d->checksum, b.compute_checksum());
}

// Random adds, reductions and removals against a map model; the changes are replayed into a
// second map that must equal the book after every message, with the checksum.
TEST(Book, RandomizedAgainstModel) {
  std::mt19937_64 rng(99);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Book b(kPerp);
  std::map<Ticks, Lots> model[2], replay[2];
  std::vector<std::pair<Book::Handle, OrderId>> live;
  OrderId next_id = 1;
  std::uint64_t change = 0;
  for (int msg = 0; msg < 4000; ++msg) {
    for (int k = uniform(1, 4); k > 0; --k) {
      const int what = uniform(0, 9);
      if (what < 5 || live.empty()) {
        const Side s = uniform(0, 1) ? Side::buy : Side::sell;
        // Bids below 1000, asks from 1000: never crossed, as after matching.
        const Ticks p = s == Side::buy ? 999 - uniform(0, 30) : 1000 + uniform(0, 30);
        const Lots a = uniform(1, 9);
        live.emplace_back(b.add(next_id, s, p, a), next_id);
        ++next_id;
        model[s == Side::buy ? 0 : 1][p] += a;
      } else {
        const std::size_t i =
            static_cast<std::size_t>(uniform(0, static_cast<int>(live.size()) - 1));
        const Book::Handle h = live[i].first;
        ASSERT_EQ(b.order(h).id, live[i].second);
        const Book::Order o = b.order(h);
        auto& side = model[o.side == Side::buy ? 0 : 1];
        const Lots cut = what < 8 ? uniform(1, static_cast<int>(o.amount)) : o.amount;
        const bool gone = what < 8 ? b.reduce(h, cut) : (b.remove(h), true);
        if ((side[o.price] -= cut) == 0) side.erase(o.price);
        if (gone) live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    // The cached best prices follow every insertion and deletion of a level.
    for (int s = 0; s < 2; ++s) {
      const Side side = s == 0 ? Side::buy : Side::sell;
      ASSERT_EQ(b.empty(side), model[s].empty());
      if (!model[s].empty()) {
        ASSERT_EQ(b.best_price(side), s == 0 ? model[s].rbegin()->first : model[s].begin()->first);
        ASSERT_EQ(b.best_price(side), b.level(side, 0).price);
      }
    }
    const BookDelta* d = b.publish(change + 1);
    if (d == nullptr) {
      ASSERT_EQ(replay[0], model[0]);
      ASSERT_EQ(replay[1], model[1]);
      continue;
    }
    ASSERT_EQ(d->prev_change_id, change);
    change = d->change_id;
    for (int s = 0; s < 2; ++s) {
      Ticks last = 0;
      for (const LevelUpdate& u : s == 0 ? d->bids : d->asks) {
        if (last != 0) {
          ASSERT_TRUE(s == 0 ? u.price < last : u.price > last);  // best first
        }
        last = u.price;
        ASSERT_EQ(u.action == BookAction::add, replay[s].count(u.price) == 0);
        if (u.action == BookAction::remove) {
          replay[s].erase(u.price);
        } else {
          replay[s][u.price] = u.amount;
        }
      }
    }
    ASSERT_EQ(replay[0], model[0]);
    ASSERT_EQ(replay[1], model[1]);
    std::vector<PriceLevel> bids, asks;
    for (auto it = model[0].rbegin(); it != model[0].rend(); ++it)
      bids.push_back({it->first, it->second});
    for (const auto& [p, a] : model[1]) asks.push_back({p, a});
    ASSERT_EQ(d->checksum, book_checksum(bids, asks, kPerp));
    std::vector<PriceLevel> sb, sa;
    b.snapshot(sb, sa);
    ASSERT_EQ(sb, bids);
    ASSERT_EQ(sa, asks);
  }
}

}  // namespace
}  // namespace gw::market
