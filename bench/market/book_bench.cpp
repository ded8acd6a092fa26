// Book and checksum kernels (Google Benchmark).
//
//   taskset -c 1 build/book-release/bench/market/gw_book_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "market/book.hpp"
#include "market/checksum.hpp"

namespace {

using namespace gw::market;

const BookFormat kPerp{5, 10, 1, 0};  // BTC-PERPETUAL

// A book of ~1,000 orders over ~100 levels a side around 130000 (65000 USD).
Book make_book(std::mt19937_64& rng) {
  Book b(kPerp, 2048);
  for (OrderId id = 1; id <= 1000; ++id) {
    const Side s = rng() % 2 ? Side::buy : Side::sell;
    const Ticks off = 1 + static_cast<Ticks>(rng() % 100);
    b.add(id, s, s == Side::buy ? 130'000 - off : 130'000 + off,
          1 + static_cast<Lots>(rng() % 100));
  }
  b.publish(1);
  return b;
}

void BM_Crc32(benchmark::State& state) {
  std::vector<char> data(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(crc32(0, data.data(), data.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32)->Arg(300)->Arg(65536);

// The table-only path (slicing-by-8), what crc32() does without PCLMULQDQ.
void BM_Crc32Portable(benchmark::State& state) {
  std::vector<char> data(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(crc32_portable(0, data.data(), data.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32Portable)->Arg(300)->Arg(65536);

// Format 40 numbers and CRC them: the full cost of one checksum.
void BM_BookChecksumTop10(benchmark::State& state) {
  std::mt19937_64 rng(1);
  const Book b = make_book(rng);
  for (auto _ : state) benchmark::DoNotOptimize(b.compute_checksum());
}
BENCHMARK(BM_BookChecksumTop10);

// Cancel a random order and add it back near the top, then publish: the book's share of a
// "move" (checksum included when the top 10 changed).
void BM_BookMoveAndPublish(benchmark::State& state) {
  std::mt19937_64 rng(2);
  Book b = make_book(rng);
  std::vector<Book::Handle> handles;
  for (Side s : {Side::buy, Side::sell}) {
    for (std::size_t r = 0; r < b.level_count(s); ++r) {
      for (auto h = b.level_front(s, b.level(s, r).price); h != Book::kNone; h = b.next(h)) {
        handles.push_back(h);
      }
    }
  }
  std::uint64_t change = 2;
  std::size_t i = 0;
  for (auto _ : state) {
    Book::Handle& h = handles[i++ % handles.size()];
    const Book::Order o = b.order(h);
    b.remove(h);
    const Ticks step = (rng() % 2 ? 1 : -1) * static_cast<Ticks>(1 + rng() % 2);
    Ticks p = o.price + step;
    p = o.side == Side::buy ? std::min<Ticks>(p, 129'999) : std::max<Ticks>(p, 130'001);
    h = b.add(o.id, o.side, p, o.amount);
    benchmark::DoNotOptimize(b.publish(change++));
  }
}
BENCHMARK(BM_BookMoveAndPublish);

}  // namespace
