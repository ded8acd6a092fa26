// How the SDK keeps a side of a book: measured on a synthetic Deribit-like stream, where the
// changes land near the top (the level index is geometric, mean ~2).
//
//   BM_SdkBook        greekwire::Book: sorted vectors stored worst first (the best level last)
//   BM_MapBook        std::map per side (a node per level)
//   BM_BestFirstBook  sorted vectors stored best first (inserts near the top move the rest)
//
//   taskset -c 1 build/release/bench/client/gw_client_book_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "client/book_side.hpp"
#include "greekwire/book.hpp"

namespace {

using greekwire::BookUpdate;
using greekwire::Level;
using greekwire::LevelAction;
using greekwire::LevelChange;

constexpr double kTick = 0.5;
constexpr double kMid = 65000.0;

// A snapshot of `depth` levels a side, then `count` changes of one to three levels each, made
// against a reference book so that every action fits.
std::vector<BookUpdate> make_stream(std::size_t depth, std::size_t count) {
  std::mt19937_64 rng(42);
  std::geometric_distribution<int> near_top(0.35);
  std::map<double, double, std::greater<>> bids;
  std::map<double, double> asks;
  std::vector<BookUpdate> stream(count + 1);
  BookUpdate& snapshot = stream[0];
  snapshot.snapshot = true;
  snapshot.instrument_name = "BTC-PERPETUAL";
  snapshot.change_id = 1;
  for (std::size_t i = 0; i < depth; ++i) {
    const double amount = 10.0 * static_cast<double>(1 + rng() % 100);
    bids[kMid - kTick * static_cast<double>(i + 1)] = amount;
    asks[kMid + kTick * static_cast<double>(i)] = amount;
  }
  for (const auto& [p, a] : bids) snapshot.bids.push_back({LevelAction::added, p, a});
  for (const auto& [p, a] : asks) snapshot.asks.push_back({LevelAction::added, p, a});

  // 70 % amount changes, 15 % new levels, 15 % deleted levels, all near the top (a level
  // appears or goes at the touch far more often than deep in the book).
  auto change_side = [&](auto& side, std::vector<LevelChange>& out, double direction) {
    auto it = side.begin();
    std::advance(it,
                 std::min<std::size_t>(static_cast<std::size_t>(near_top(rng)), side.size() - 1));
    const int kind = static_cast<int>(rng() % 20);
    if (kind < 14) {
      it->second = 10.0 * static_cast<double>(1 + rng() % 100);
      out.push_back({LevelAction::changed, it->first, it->second});
    } else if (kind < 17 || side.size() < depth / 2 + 2) {
      // A new level half a tick better than this one (if free).
      const double price = it->first + direction * kTick * 0.5;
      if (side.count(price) != 0) return;
      side[price] = 10.0;
      out.push_back({LevelAction::added, price, 10.0});
    } else {
      out.push_back({LevelAction::deleted, it->first, 0.0});
      side.erase(it);
    }
  };
  for (std::size_t i = 1; i <= count; ++i) {
    BookUpdate& u = stream[i];
    u.instrument_name = "BTC-PERPETUAL";
    u.prev_change_id = i;
    u.change_id = i + 1;
    if (rng() % 2) {
      change_side(bids, u.bids, +1);
    } else {
      change_side(asks, u.asks, -1);
    }
  }
  return stream;
}

const std::vector<BookUpdate>& stream_for(std::size_t depth) {
  static std::map<std::size_t, std::vector<BookUpdate>> streams;
  auto& s = streams[depth];
  if (s.empty()) s = make_stream(depth, 100'000);
  return s;
}

void BM_SdkBook(benchmark::State& state) {
  const auto& stream = stream_for(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    greekwire::Book book("BTC-PERPETUAL");
    for (const BookUpdate& u : stream) benchmark::DoNotOptimize(book.apply(u));
    if (!book.live()) state.SkipWithError("the stream did not apply");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_SdkBook)->Arg(20)->Arg(200)->Arg(2000)->Unit(benchmark::kMillisecond);

// The same work on std::map sides.
template <class Side>
bool apply_map(Side& side, const std::vector<LevelChange>& changes) {
  for (const LevelChange& c : changes) {
    switch (c.action) {
      case LevelAction::added:
        if (!side.emplace(c.price, c.amount).second) return false;
        break;
      case LevelAction::changed: {
        auto it = side.find(c.price);
        if (it == side.end()) return false;
        it->second = c.amount;
        break;
      }
      case LevelAction::deleted:
        if (side.erase(c.price) == 0) return false;
        break;
    }
  }
  return true;
}

void BM_MapBook(benchmark::State& state) {
  const auto& stream = stream_for(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::map<double, double, std::greater<>> bids;
    std::map<double, double> asks;
    std::uint64_t change_id = 0;
    bool ok = true;
    for (const BookUpdate& u : stream) {
      if (u.snapshot) {
        bids.clear();
        asks.clear();
        for (const auto& l : u.bids) bids.emplace(l.price, l.amount);
        for (const auto& l : u.asks) asks.emplace(l.price, l.amount);
      } else {
        ok = ok && u.prev_change_id == change_id && apply_map(bids, u.bids) &&
             apply_map(asks, u.asks);
      }
      change_id = u.change_id;
    }
    if (!ok) state.SkipWithError("the stream did not apply");
    benchmark::DoNotOptimize(bids.begin()->second);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_MapBook)->Arg(20)->Arg(200)->Arg(2000)->Unit(benchmark::kMillisecond);

// Sorted vectors with the best level first: the natural layout, but a change at the top
// shifts the whole side. The SDK's own apply_side, ordered the other way round.
void BM_BestFirstBook(benchmark::State& state) {
  const auto& stream = stream_for(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::vector<Level> bids, asks;
    bool ok = true;
    for (const BookUpdate& u : stream) {
      if (u.snapshot) {
        for (const auto& l : u.bids) bids.push_back({l.price, l.amount});
        for (const auto& l : u.asks) asks.push_back({l.price, l.amount});
      } else {
        ok = ok && gw::client::apply_side<std::greater<double>>(bids, u.bids) &&
             gw::client::apply_side<std::less<double>>(asks, u.asks);
      }
    }
    if (!ok) state.SkipWithError("the stream did not apply");
    benchmark::DoNotOptimize(bids.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_BestFirstBook)->Arg(20)->Arg(200)->Arg(2000)->Unit(benchmark::kMillisecond);

// The checksum of a live book (top 10 a side), what each message with a checksum costs on top.
void BM_SdkBookChecksum(benchmark::State& state) {
  greekwire::Book book("BTC-PERPETUAL");
  book.set_format({1, 0});
  book.apply(stream_for(200)[0]);
  for (auto _ : state) benchmark::DoNotOptimize(book.checksum());
}
BENCHMARK(BM_SdkBookChecksum);

}  // namespace
