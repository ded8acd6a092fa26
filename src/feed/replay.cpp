// Replay mode (replay.hpp): a recording into the venue's mirror, at the recorded pace.
#include "feed/replay.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "feed/translate.hpp"
#include "greekwire/channels.hpp"

namespace gw::feed {

namespace {

// Only so many unreadable frames are logged one by one; the rest are counted.
constexpr std::uint64_t kErrorsLogged = 20;

// A public/get_instruments answer: an array of rows naming an instrument and its kind. Other
// answers in a recording (subscribe, auth, get_time) carry nothing for the venue.
bool is_instrument_listing(const greekwire::Value& result) {
  if (!result.is_array() || result.size() == 0) return false;
  const greekwire::Value& first = result[0];
  return first["instrument_name"].is_string() && first["kind"].is_string();
}

}  // namespace

// Decoded frames to inputs, appended to the replay's scratch.
class Replay::Sink final : public client::MessageSink {
 public:
  explicit Sink(Replay& replay) : replay_(replay) {}

  void on_response(std::uint64_t, greekwire::Result<greekwire::Value> result) override {
    list(result);
  }
  void on_unmatched_response(greekwire::Result<greekwire::Value> result) override { list(result); }
  void on_heartbeat(std::string_view) override {}

  void on_notification(std::string_view channel, const client::NotificationData& data) override {
    ++replay_.counters_.notifications;
    std::vector<sim::FeedInput>& out = replay_.scratch_;
    // Books are read straight into a reused update: no tree per message.
    if (greekwire::classify_channel(channel).kind == greekwire::ChannelKind::book) {
      if (!data.read_book(update_)) {
        replay_.reject("an unreadable book message on " + std::string(channel));
        return;
      }
      out.push_back(book_input(update_));
      return;
    }
    std::string problem;
    if (!translate(channel, data.to_value(), out, &problem)) {
      replay_.reject("a malformed message on " + std::string(channel) + ": " + problem);
    }
  }

  std::uint64_t instruments = 0;  // listed so far

 private:
  void list(const greekwire::Result<greekwire::Value>& result) {
    if (!result.ok() || !is_instrument_listing(result.value())) return;
    std::string first_problem;
    std::uint64_t skipped = 0;
    for (const greekwire::Value& row : result.value().array()) {
      std::string problem;
      auto instrument = instrument_from_row(row, &problem);
      if (!instrument) {
        // Instruments the venue cannot list (linear USDC contracts, combos): not replayed.
        if (first_problem.empty()) first_problem = problem;
        ++skipped;
        continue;
      }
      if (!instrument->is_active) continue;
      replay_.scratch_.emplace_back(sim::FeedInstrument{std::move(*instrument)});
      ++instruments;
    }
    if (skipped > 0) {
      replay_.log("skipped " + std::to_string(skipped) + " recorded instruments (" + first_problem +
                  ")");
    }
  }

  Replay& replay_;
  greekwire::BookUpdate update_;
};

Replay::Replay(ReplayOptions options, sim::Venue& venue)
    : options_(std::move(options)), venue_(venue), sink_(std::make_unique<Sink>(*this)) {}

Replay::~Replay() {
  stop();
}

bool Replay::open(std::string* error) {
  if (!scan(error)) return false;
  std::string problem;
  decoder_ = client::make_decoder(summary_.header.encoding, &problem);
  if (!decoder_) {
    *error = options_.path + ": a " + std::string(greekwire::to_string(summary_.header.encoding)) +
             " recording: " + problem;
    return false;
  }
  return feed_listing(error);
}

// Reads every record once: corruption is found before anything is served.
bool Replay::scan(std::string* error) {
  greekwire::RecordingReader reader;
  if (const greekwire::Status opened = reader.open(options_.path); !opened) {
    *error = opened.error().message;
    return false;
  }
  summary_.header = reader.header();
  greekwire::RecordedFrame frame;
  for (;;) {
    const greekwire::Result<bool> more = reader.next(frame);
    if (!more) {
      *error = options_.path + ": " + more.error().message;
      return false;
    }
    if (!more.value()) break;
    ++summary_.frames;
    if (frame.kind == greekwire::FrameKind::notification && summary_.notifications++ == 0) {
      summary_.first_us = frame.time_us;
    }
    summary_.last_us = frame.time_us;
  }
  summary_.truncated = reader.truncated();
  if (summary_.truncated) {
    log(options_.path + ": the last record (at offset " + std::to_string(reader.truncated_at()) +
        ") is incomplete and left out");
  }
  return true;
}

// Feeds what precedes the first notification (the instrument lists) and keeps that
// notification for the thread.
bool Replay::feed_listing(std::string* error) {
  if (const greekwire::Status opened = reader_.open(options_.path); !opened) {
    *error = opened.error().message;
    return false;
  }
  greekwire::RecordedFrame frame;
  for (;;) {
    const greekwire::Result<bool> more = reader_.next(frame);
    if (!more) {  // the file changed since scan()
      *error = options_.path + ": " + more.error().message;
      return false;
    }
    if (!more.value()) break;
    if (frame.kind == greekwire::FrameKind::notification) {
      pending_bytes_.assign(frame.bytes.begin(), frame.bytes.end());
      pending_ = frame;
      pending_.bytes = pending_bytes_;
      has_pending_ = true;
      break;
    }
    replay_frame(frame);
  }
  summary_.instruments = sink_->instruments;
  return true;
}

void Replay::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Replay::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Replay::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_until(lock, deadline, [this] { return stopping_; });
}

void Replay::run() {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(std::max(0.0, options_.delay_s)));
  if (!wait_until(start)) return;
  // Each frame is due at its distance from the first notification, divided by the speed.
  const std::int64_t base_us = pending_.time_us;
  const auto due = [&](std::int64_t time_us) {
    if (options_.speed <= 0) return !stopping();
    const double seconds = static_cast<double>(time_us - base_us) / 1e6 / options_.speed;
    return wait_until(start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds)));
  };
  if (has_pending_) {
    if (!due(pending_.time_us)) return;
    replay_frame(pending_);
  }
  greekwire::RecordedFrame frame;
  for (;;) {
    const greekwire::Result<bool> more = reader_.next(frame);
    if (!more) {
      log("stopped: " + more.error().message);
      break;
    }
    if (!more.value()) break;
    if (!due(frame.time_us)) return;
    replay_frame(frame);
  }
  log("the recording ended after " + std::to_string(counters_.frames.load()) + " messages (" +
      std::to_string(counters_.notifications.load()) + " notifications, " +
      std::to_string(counters_.inputs.load()) + " inputs); serving its final state");
  {
    std::lock_guard lock(mutex_);
    counters_.ended = true;
  }
  cv_.notify_all();
}

bool Replay::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void Replay::replay_frame(const greekwire::RecordedFrame& frame) {
  ++counters_.frames;
  std::string problem;
  if (!decoder_->decode(frame.bytes, frame.binary, *sink_, problem)) {
    reject("an undecodable frame at offset " + std::to_string(frame.offset) + ": " + problem);
  }
  counters_.duplicate_trades += repeated_trades_.drop(scratch_);
  push(scratch_);
}

void Replay::push(std::vector<sim::FeedInput>& inputs) {
  if (inputs.empty()) return;
  counters_.inputs += inputs.size();
  venue_.feed(inputs);
}

void Replay::reject(const std::string& what) {
  if (++counters_.rejected <= kErrorsLogged) log("ignored " + what);
}

ReplayStats Replay::stats() const {
  ReplayStats s;
  s.frames = counters_.frames;
  s.notifications = counters_.notifications;
  s.inputs = counters_.inputs;
  s.rejected = counters_.rejected;
  s.duplicate_trades = counters_.duplicate_trades;
  s.ended = counters_.ended;
  return s;
}

bool Replay::wait_ended(double timeout_s) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [this] {
    return counters_.ended.load() || stopping_;
  }) && counters_.ended;
}

void Replay::log(const std::string& line) const {
  if (options_.log) std::fprintf(stderr, "replay: %s\n", line.c_str());
}

}  // namespace gw::feed
