// Replay mode: the venue's market sourced from a recording (greekwire/recording.hpp, made by
// `greekwire record`) instead of the simulator. Each recorded frame is decoded with the SDK's
// decoder of the recording's encoding, the instrument lists (public/get_instruments answers)
// become FeedInstruments, the notifications go through feed::translate(), and the inputs are
// pushed into the venue's mirror (Venue::feed) at the pace they were received.
//
//  - open(): reads the whole file once to check it (a corrupt record is an error naming its
//    offset; a truncated final record only a note), then feeds the instrument lists that come
//    before the first notification, so that they are listed before the gateway starts.
//  - start(): a thread waits `delay_s` (so that clients can subscribe before anything
//    happens), then feeds each frame when its receive time, relative to the first
//    notification's and divided by `speed`, comes (speed 0: as fast as it can).
//  - At the end of the file the thread logs that the replay ended and exits; the venue keeps
//    serving the final state.
//
// Trades that came on two channels (trades.BTC-PERPETUAL.raw and trades.future.BTC.raw) are fed
// once, as the relay does: an instrument's trade_seq only grows.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/decoder.hpp"
#include "feed/repeated_trades.hpp"
#include "greekwire/recording.hpp"
#include "sim/venue.hpp"

namespace gw::feed {

struct ReplayOptions {
  std::string path;
  double speed = 1.0;    // recorded seconds per second; 0: as fast as possible
  double delay_s = 0.0;  // before the first market message
  bool log = true;       // life-cycle lines on stderr
};

// What open() found in the file.
struct ReplaySummary {
  greekwire::RecordingHeader header;
  std::uint64_t frames = 0;
  std::uint64_t notifications = 0;
  std::int64_t first_us = 0;  // the first and last receive times
  std::int64_t last_us = 0;
  bool truncated = false;         // a partial final record is left out
  std::uint64_t instruments = 0;  // fed by open()
};

struct ReplayStats {
  std::uint64_t frames = 0;         // replayed so far
  std::uint64_t notifications = 0;  //
  std::uint64_t inputs = 0;         // FeedInputs pushed into the venue
  std::uint64_t rejected = 0;       // frames or notifications that could not be read (logged)
  std::uint64_t duplicate_trades = 0;
  bool ended = false;  // the whole recording was fed
};

class Replay {
 public:
  Replay(ReplayOptions options, sim::Venue& venue);
  ~Replay();  // stop()
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  // Checks the recording and feeds its instrument lists; false with `error` (one line) for a
  // file that cannot be replayed: missing, not a recording, corrupt, an encoding this build
  // cannot decode.
  bool open(std::string* error);
  const ReplaySummary& summary() const { return summary_; }
  // After open(): the thread that feeds the market data.
  void start();
  void stop();

  ReplayStats stats() const;
  // Waits until the whole recording was fed (or stop()); false on timeout.
  bool wait_ended(double timeout_s);

 private:
  class Sink;

  bool scan(std::string* error);
  bool feed_listing(std::string* error);
  void run();
  bool wait_until(std::chrono::steady_clock::time_point deadline);  // false: stopping
  bool stopping();
  void replay_frame(const greekwire::RecordedFrame& frame);
  void push(std::vector<sim::FeedInput>& inputs);
  void reject(const std::string& what);
  void log(const std::string& line) const;

  ReplayOptions options_;
  sim::Venue& venue_;
  ReplaySummary summary_;
  greekwire::RecordingReader reader_;
  std::unique_ptr<client::Decoder> decoder_;
  std::unique_ptr<Sink> sink_;
  // The first notification, read by open() and fed first by the thread.
  std::vector<std::uint8_t> pending_bytes_;
  greekwire::RecordedFrame pending_;
  bool has_pending_ = false;

  // The replay thread (and open(), before it starts).
  std::vector<sim::FeedInput> scratch_;
  RepeatedTrades repeated_trades_;

  struct Counters {
    std::atomic<std::uint64_t> frames{0}, notifications{0}, inputs{0}, rejected{0},
        duplicate_trades{0};
    std::atomic<bool> ended{false};
  };
  Counters counters_;

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace gw::feed
