// Matching-engine throughput and latency on exchange-core's command mix: 9% GTC, 3% IOC,
// 6% cancel, 82% move (an edit of the price), around ~1,000 resting orders on one book
// (BTC-PERPETUAL), 1,000 accounts. The whole engine runs: margin checks, fills with fees and
// positions, order/trade/book/position/portfolio events (to a sink that reads them), book
// changes with the checksum.
//
//   taskset -c 1 build/book-release/bench/market/gw_engine_bench [commands] [repetitions]
//
// The command stream is generated first by driving a separate engine (so that edits and
// cancels name live orders), then replayed on fresh engines: untimed set-up and warm-up, then
// the measured part. Throughput is measured without per-command clocks; latency in a separate
// pass with rdtsc around each command (its own ~10–20 ns included). Heap allocations during the
// measured part are counted by replacing operator new.
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <new>
#include <random>
#include <unordered_map>
#include <vector>

#include "market/engine.hpp"
#include "market/instrument.hpp"

namespace {

std::atomic<bool> g_counting{false};
std::size_t g_allocations = 0;

}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace gw::market;

constexpr InstrumentId kPerp = 0;
constexpr Ticks kCenter = 130'000;  // 65000 USD in 0.5 USD ticks
constexpr AccountId kAccounts = 1000;
constexpr std::size_t kInitialOrders = 1000;
constexpr std::size_t kTargetOrders = 1000;

Instrument btc_perpetual() {
  Instrument i;
  i.id = kPerp;
  i.name = "BTC-PERPETUAL";
  i.currency = Currency::BTC;
  i.kind = Kind::future;
  i.perpetual = true;
  i.tick_size = 0.5;
  i.contract_size = 10;
  i.min_trade_amount = 10;
  i.maker_commission = 0;
  i.taker_commission = 0.0005;
  i.price_unit = 0.5;
  i.amount_unit = 10;
  i.price_decimals = 1;
  i.amount_decimals = 0;
  return i;
}

struct Command {
  enum Kind : std::uint8_t { gtc, ioc, cancel, move };
  Kind kind = gtc;
  Side side = Side::buy;
  AccountId account = 0;
  OrderId order = 0;
  Ticks price = 0;
  Lots amount = 0;
};

// Reads every event the way a publisher would look at it, so that nothing is optimised away.
class ConsumingSink final : public EventSink {
 public:
  std::uint64_t digest = 0;
  std::uint64_t changed_checksums = 0;
  std::uint32_t last_checksum = 0;
  std::uint64_t counts[std::variant_size_v<Event>] = {};
  void on_event(const Event& e) override {
    ++counts[e.index()];
    if (const auto* b = std::get_if<BookChange>(&e)) {
      digest += b->change_id ^ b->checksum;
      changed_checksums += b->checksum != last_checksum;
      last_checksum = b->checksum;
    } else if (const auto* o = std::get_if<OrderUpdate>(&e)) {
      digest += o->order_id + static_cast<std::uint64_t>(o->state);
    } else if (const auto* t = std::get_if<Trade>(&e)) {
      digest += t->trade_id + static_cast<std::uint64_t>(t->amount);
    }
  }
};

// Follows the live orders of the generating engine.
class Tracker final : public EventSink {
 public:
  struct Info {
    AccountId account;
    Side side;
    Ticks price;
    Lots amount;
    std::size_t index;
  };
  std::unordered_map<OrderId, Info> live;
  std::vector<OrderId> ids;

  void on_event(const Event& e) override {
    const auto* o = std::get_if<OrderUpdate>(&e);
    if (o == nullptr) return;
    const auto it = live.find(o->order_id);
    if (is_terminal(o->state)) {
      if (it == live.end()) return;
      const std::size_t i = it->second.index;
      ids[i] = ids.back();
      live[ids[i]].index = i;
      ids.pop_back();
      live.erase(o->order_id);
      return;
    }
    if (it == live.end()) {
      live[o->order_id] = {o->account, o->side, o->price, o->amount, ids.size()};
      ids.push_back(o->order_id);
    } else {
      it->second.price = o->price;
      it->second.amount = o->amount;
    }
  }
};

void setup(Engine& e) {
  e.add_instrument(btc_perpetual());
  for (AccountId a = 0; a < kAccounts; ++a) e.deposit(a, Currency::BTC, 1e6, 0);
  e.set_index(Currency::BTC, 65000, 0);
  e.set_mark(kPerp, 65000, 0);
}

Result apply(Engine& e, const Command& c, TimestampMs now) {
  switch (c.kind) {
    case Command::gtc:
    case Command::ioc: {
      PlaceOrder p;
      p.account = c.account;
      p.instrument = kPerp;
      p.side = c.side;
      p.price = c.price;
      p.amount = c.amount;
      p.time_in_force = c.kind == Command::gtc ? TimeInForce::good_til_cancelled
                                               : TimeInForce::immediate_or_cancel;
      p.timestamp = now;
      return e.place(p);
    }
    case Command::cancel:
      return e.cancel({c.account, c.order, now});
    case Command::move: {
      EditOrder m;
      m.account = c.account;
      m.order_id = c.order;
      m.price = c.price;
      m.amount = c.amount;
      m.timestamp = now;
      return e.edit(m);
    }
  }
  return {};
}

// A passive price: 1 tick off the centre plus an exponential depth of mean 15 ticks.
Ticks passive(std::mt19937_64& rng, Side side) {
  std::exponential_distribution<double> depth(1.0 / 15);
  const Ticks off = 1 + std::min<Ticks>(static_cast<Ticks>(depth(rng)), 400);
  return side == Side::buy ? kCenter - off : kCenter + off;
}

std::vector<Command> generate(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  Tracker live;
  Engine engine(live);
  setup(engine);
  std::vector<Command> out;
  out.reserve(count + kInitialOrders);
  TimestampMs now = 1;
  auto emit = [&](const Command& c) {
    out.push_back(c);
    apply(engine, c, ++now);
  };
  for (std::size_t i = 0; i < kInitialOrders; ++i) {
    Command c;
    c.side = uniform(0, 1) ? Side::buy : Side::sell;
    c.account = static_cast<AccountId>(uniform(0, kAccounts - 1));
    c.price = passive(rng, c.side);
    c.amount = uniform(1, 100);
    emit(c);
  }
  const Book& book = *engine.book(kPerp);
  while (out.size() < count + kInitialOrders) {
    const std::int64_t r = uniform(0, 99);
    Command c;
    c.side = uniform(0, 1) ? Side::buy : Side::sell;
    c.account = static_cast<AccountId>(uniform(0, kAccounts - 1));
    const Side opp = opposite(c.side);
    // Crossing commands (which consume resting orders) only while the book is above its
    // target size: this holds it near ~1,000 orders with the mix unchanged.
    const bool thin = live.ids.size() < kTargetOrders;
    if (r < 9 || live.ids.empty()) {  // GTC: mostly passive, sometimes crossing
      c.kind = Command::gtc;
      c.amount = uniform(1, 100);
      c.price = passive(rng, c.side);
      if (!thin && uniform(0, 4) == 0 && !book.empty(opp)) {
        c.price = book.best_price(opp) + (c.side == Side::buy ? 1 : -1) * uniform(0, 2);
      }
    } else if (r < 12) {  // IOC: takes liquidity; sized to hold the book near its target
      c.kind = Command::ioc;
      c.amount = thin ? uniform(1, 20) : uniform(50, 300);
      const Ticks best = book.empty(opp) ? kCenter : book.best_price(opp);
      c.price = best + (c.side == Side::buy ? 1 : -1) * uniform(0, 5);
    } else {
      const OrderId id = live.ids[static_cast<std::size_t>(uniform(0, live.ids.size() - 1))];
      const Tracker::Info& o = live.live.at(id);
      c.order = id;
      c.account = o.account;
      c.side = o.side;
      if (r < 18) {
        c.kind = Command::cancel;
      } else {  // move: a small step, or back into the passive distribution
        c.kind = Command::move;
        c.amount = o.amount;
        c.price = uniform(0, 9) < 7 ? o.price + (uniform(0, 1) ? 1 : -1) * uniform(1, 2)
                                    : passive(rng, o.side);
        if (c.price == o.price) c.price += o.side == Side::buy ? -1 : 1;
        const Side other = opposite(o.side);
        if (thin && !book.empty(other)) {  // stay passive
          const Ticks best = book.best_price(other);
          c.price = o.side == Side::buy ? std::min(c.price, best - 1) : std::max(c.price, best + 1);
        }
        c.price = std::max<Ticks>(c.price, 1);
      }
    }
    emit(c);
  }
  std::printf("generated %zu commands; %zu orders resting at the end, %zu levels\n", count,
              live.ids.size(), book.level_count(Side::buy) + book.level_count(Side::sell));
  return out;
}

struct Run {
  double ops_per_s = 0;               // per wall-clock second
  double ops_per_cpu_s = 0;           // per second of this thread's CPU time (excludes preemption)
  std::vector<std::uint64_t> cycles;  // per command (latency pass)
  std::size_t allocations = 0;
  std::uint64_t events[std::variant_size_v<Event>] = {};
  std::size_t trades = 0;
  std::size_t changed_checksums = 0;  // book changes whose checksum differs from the last
};

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double tsc_per_ns() {
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t c0 = __rdtsc();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200)) {
  }
  const auto t1 = std::chrono::steady_clock::now();
  const std::uint64_t c1 = __rdtsc();
  return static_cast<double>(c1 - c0) /
         static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

// Replays the set-up and a warm-up untimed, then the rest timed (per command or as a whole).
Run replay(const std::vector<Command>& cmds, std::size_t warmup, bool per_command) {
  ConsumingSink sink;
  EngineConfig config;
  config.expected_orders = 4096;
  Engine engine(sink, config);
  setup(engine);
  TimestampMs now = 1;
  const std::size_t start = kInitialOrders + warmup;
  for (std::size_t i = 0; i < start; ++i) apply(engine, cmds[i], ++now);
  Run run;
  const std::size_t n = cmds.size() - start;
  sink = ConsumingSink{};  // count the measured part only
  if (per_command) run.cycles.resize(n);
  g_allocations = 0;
  g_counting = true;
  const double cpu0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  if (per_command) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t c0 = __rdtsc();
      apply(engine, cmds[start + i], ++now);
      run.cycles[i] = __rdtsc() - c0;
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) apply(engine, cmds[start + i], ++now);
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu1 = thread_cpu_seconds();
  g_counting = false;
  run.allocations = g_allocations;
  run.ops_per_s = static_cast<double>(n) / std::chrono::duration<double>(t1 - t0).count();
  run.ops_per_cpu_s = static_cast<double>(n) / (cpu1 - cpu0);
  std::copy(std::begin(sink.counts), std::end(sink.counts), run.events);
  if (sink.digest == 42) std::printf(" ");  // keep the digest alive
  run.changed_checksums = sink.changed_checksums;
  return run;
}

double percentile(std::vector<std::uint64_t>& v, double p) {
  const std::size_t k =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 3'000'000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::size_t warmup = count / 10;
  const std::vector<Command> cmds = generate(count, 20261127);
  std::size_t mix[4] = {};
  for (std::size_t i = kInitialOrders; i < cmds.size(); ++i) ++mix[cmds[i].kind];
  std::printf("mix: gtc %.1f%%  ioc %.1f%%  cancel %.1f%%  move %.1f%%\n",
              100.0 * static_cast<double>(mix[0]) / static_cast<double>(count),
              100.0 * static_cast<double>(mix[1]) / static_cast<double>(count),
              100.0 * static_cast<double>(mix[2]) / static_cast<double>(count),
              100.0 * static_cast<double>(mix[3]) / static_cast<double>(count));
  const double tsc = tsc_per_ns();

  std::vector<double> throughput, cpu_throughput;
  for (int r = 0; r < reps; ++r) {
    const Run run = replay(cmds, warmup, false);
    throughput.push_back(run.ops_per_s);
    cpu_throughput.push_back(run.ops_per_cpu_s);
    std::printf("throughput run %d: %.2f M ops/s (%.2f M per CPU second), %zu allocations\n", r + 1,
                run.ops_per_s / 1e6, run.ops_per_cpu_s / 1e6, run.allocations);
    if (r == 0) {
      const double n = static_cast<double>(count - warmup);
      std::printf(
          "events per command: order %.2f trade %.3f book %.2f position %.3f portfolio %.3f\n",
          static_cast<double>(run.events[0]) / n, static_cast<double>(run.events[1]) / n,
          static_cast<double>(run.events[2]) / n, static_cast<double>(run.events[3]) / n,
          static_cast<double>(run.events[4]) / n);
      std::printf(
          "book changes that change the top 10 (checksum): %.0f%%\n",
          100.0 * static_cast<double>(run.changed_checksums) / static_cast<double>(run.events[2]));
    }
  }
  std::sort(throughput.begin(), throughput.end());
  std::sort(cpu_throughput.begin(), cpu_throughput.end());
  std::printf("median throughput: %.2f M ops/s (%.2f M per CPU second)\n",
              throughput[throughput.size() / 2] / 1e6,
              cpu_throughput[cpu_throughput.size() / 2] / 1e6);

  std::vector<double> p50, p99, p999, p9999, worst;
  for (int r = 0; r < reps; ++r) {
    Run run = replay(cmds, warmup, true);
    auto ns = [&](double cycles) { return cycles / tsc; };
    p50.push_back(ns(percentile(run.cycles, 0.50)));
    p99.push_back(ns(percentile(run.cycles, 0.99)));
    p999.push_back(ns(percentile(run.cycles, 0.999)));
    p9999.push_back(ns(percentile(run.cycles, 0.9999)));
    worst.push_back(
        ns(static_cast<double>(*std::max_element(run.cycles.begin(), run.cycles.end()))));
    std::printf(
        "latency run %d: p50 %.0f ns  p99 %.0f ns  p99.9 %.0f ns  p99.99 %.0f ns  max %.1f us\n",
        r + 1, p50.back(), p99.back(), p999.back(), p9999.back(), worst.back() / 1000);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf(
      "median latency: p50 %.0f ns  p99 %.0f ns  p99.9 %.0f ns  p99.99 %.0f ns  max %.1f us\n",
      median(p50), median(p99), median(p999), median(p9999), median(worst) / 1000);
  return 0;
}
