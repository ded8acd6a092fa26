// Events per second of the simulated market, unthrottled, on one core.
//
//   taskset -c 1 build/sim-release/bench/sim/gw_sim_bench [simulated-seconds] [repetitions]
//   taskset -c 0,1 build/sim-release/bench/sim/gw_sim_bench --venue [simulated-seconds] [reps]
//
// Default mode: the deterministic core (sim::Simulator: registry, engine, index, surface,
// market makers, noise traders, tickers, chains) driven in 100 ms chunks of simulated time,
// every event built as an owned VenueEvent and handed to a sink that reads it (its variant
// index) — what the venue thread does minus the queue. After one warm-up simulated minute the
// measured part runs the given simulated seconds; reported: published events per second, book
// changes (BookChange events) per second and per second of the thread's CPU time, the engine's
// events per second (including the simulated participants' order, position and portfolio
// events, which are not published), and the simulated-to-wall time ratio.
//
// --canonical [simulated-seconds]: instead of timing, writes the canonical text of every event
// (sim::append_canonical) from the opening to the end of the warm-up minute plus the given
// seconds to stdout, so that `| sha256sum` or `diff` shows whether a change to the simulator
// altered what the market produces.
//
// --venue: the whole Venue, unthrottled, with one consumer thread draining its SPSC queue (pin
// to two cores: the venue thread and the consumer each need one). Reported the same way, from
// the consumer's side, plus the events dropped for a full queue (should be 0).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "sim/simulator.hpp"
#include "sim/venue.hpp"

namespace {

using namespace gw;
using Clock = std::chrono::steady_clock;

constexpr market::TimestampMs kStart = 1'772'442'000'000;  // 2026-03-02 09:00 UTC

struct CountingSink final : sim::VenueSink {
  std::uint64_t events = 0;
  std::uint64_t books = 0;
  std::uint64_t kinds = 0;
  void on_event(const sim::VenueEvent& e) override {
    ++events;
    kinds += e.index();
    books += std::holds_alternative<sim::OwnedBookChange>(e);
  }
};

// Writes each event's canonical text to stdout, a megabyte at a time.
struct CanonicalSink final : sim::VenueSink {
  std::string text;
  void on_event(const sim::VenueEvent& e) override {
    sim::append_canonical(e, text);
    if (text.size() > (1u << 20)) flush();
  }
  void flush() {
    std::fwrite(text.data(), 1, text.size(), stdout);
    text.clear();
  }
};

struct Sample {
  double events_per_s = 0;
  double books_per_s = 0;
  double speedup = 0;
  double books_per_cpu_s = 0;  // per second of this thread's CPU time (robust to time-sharing)
  double engine_per_s = 0;     // every engine event, published or not
  std::uint64_t dropped = 0;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

sim::VenueConfig bench_config() {
  sim::VenueConfig c;
  c.seed = 7;
  c.start_ms = kStart;
  c.speed = 0;
  return c;
}

Sample run_core(double seconds) {
  CountingSink sink;
  sim::Simulator s(bench_config(), sink);
  s.open();
  market::TimestampMs t = kStart;
  const market::TimestampMs warm = kStart + 60'000;
  for (; t < warm; t += 100) s.run_until(t);
  const std::uint64_t e0 = sink.events;
  const std::uint64_t b0 = sink.books;
  const std::uint64_t g0 = s.counters().engine_events;
  const auto w0 = Clock::now();
  const double c0 = thread_cpu_seconds();
  const auto end = warm + static_cast<market::TimestampMs>(seconds * 1000);
  for (; t < end; t += 100) s.run_until(t);
  const double wall = std::chrono::duration<double>(Clock::now() - w0).count();
  const double cpu = thread_cpu_seconds() - c0;
  return {static_cast<double>(sink.events - e0) / wall,
          static_cast<double>(sink.books - b0) / wall,
          seconds / wall,
          static_cast<double>(sink.books - b0) / cpu,
          static_cast<double>(s.counters().engine_events - g0) / wall,
          0};
}

void write_canonical(double seconds) {
  CanonicalSink sink;
  sim::Simulator s(bench_config(), sink);
  s.open();
  const auto end = kStart + 60'000 + static_cast<market::TimestampMs>(seconds * 1000);
  for (market::TimestampMs t = kStart; t < end; t += 100) s.run_until(t);
  sink.flush();
}

Sample run_venue(double seconds) {
  sim::VenueConfig c = bench_config();
  c.queue_capacity = 1 << 16;
  sim::Venue venue(c);
  sim::Venue::Consumer& q = venue.add_consumer();
  std::atomic<bool> done{false};
  std::uint64_t events = 0, books = 0;
  market::TimestampMs first = 0, last = 0;
  Clock::time_point w0{}, w1{};
  std::uint64_t e0 = 0, b0 = 0;
  std::thread consumer([&] {
    const market::TimestampMs warm = kStart + 60'000;
    const auto end = warm + static_cast<market::TimestampMs>(seconds * 1000);
    bool measuring = false;
    while (!done.load(std::memory_order_relaxed)) {
      sim::VenueEvent* e = q.queue().peek();
      if (e == nullptr) {
        std::this_thread::yield();
        continue;
      }
      ++events;
      books += std::holds_alternative<sim::OwnedBookChange>(*e);
      if (const auto* m = std::get_if<market::IndexPrice>(e)) {
        if (first == 0) first = m->timestamp;
        last = m->timestamp;
        if (!measuring && last >= warm) {
          measuring = true;
          w0 = Clock::now();
          e0 = events;
          b0 = books;
        }
        if (measuring && last >= end) {
          w1 = Clock::now();
          done = true;
        }
      }
      q.queue().pop();
    }
  });
  venue.start();
  consumer.join();
  venue.stop();
  const double wall = std::chrono::duration<double>(w1 - w0).count();
  return {static_cast<double>(events - e0) / wall,
          static_cast<double>(books - b0) / wall,
          seconds / wall,
          0,
          0,
          q.dropped()};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--canonical") == 0) {
    write_canonical(argc > 2 ? std::atof(argv[2]) : 10);
    return 0;
  }
  bool venue = false;
  int arg = 1;
  if (argc > arg && std::strcmp(argv[arg], "--venue") == 0) {
    venue = true;
    ++arg;
  }
  const double seconds = argc > arg ? std::atof(argv[arg]) : 600;
  const int reps = argc > arg + 1 ? std::atoi(argv[arg + 1]) : 5;
  std::vector<double> events, books, speed, cpu;
  for (int r = 0; r < reps; ++r) {
    const Sample s = venue ? run_venue(seconds) : run_core(seconds);
    std::printf("%s run %d: %.0f events/s, %.0f book changes/s, %.0fx real time",
                venue ? "venue" : "core", r + 1, s.events_per_s, s.books_per_s, s.speedup);
    if (venue) std::printf(", dropped %llu", static_cast<unsigned long long>(s.dropped));
    if (!venue) {
      std::printf(" (%.0f book changes per CPU second; %.0f engine events/s)", s.books_per_cpu_s,
                  s.engine_per_s);
    }
    std::printf("\n");
    events.push_back(s.events_per_s);
    books.push_back(s.books_per_s);
    speed.push_back(s.speedup);
    cpu.push_back(s.books_per_cpu_s);
  }
  std::printf("median of %d: %.0f events/s, %.0f book changes/s, %.0fx real time", reps,
              median(events), median(books), median(speed));
  if (!venue) std::printf(" (%.0f book changes per CPU second)", median(cpu));
  std::printf("\n");
  return 0;
}
