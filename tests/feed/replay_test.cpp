// feed::Replay: a recording into a mirror venue. The instrument lists are there before the
// venue starts, the market data comes after the delay at the recorded pace (or at once with
// speed 0), frames that cannot be read are counted and skipped, and files that cannot be
// replayed are refused with the reason.
#include "feed/replay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

namespace gw::feed {
namespace {

using Clock = std::chrono::steady_clock;
using greekwire::FrameKind;

constexpr std::int64_t kStartUs = 1'700'000'000'000'000;
constexpr const char* kListing =
    R"({"jsonrpc":"2.0","id":2,"result":[{"instrument_name":"BTC-PERPETUAL","kind":"future",
    "tick_size":0.5,"contract_size":10,"min_trade_amount":10,"is_active":true,
    "expiration_timestamp":32503680000000,"settlement_period":"perpetual"}]})";
constexpr const char* kSnapshot =
    R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.raw",
    "data":{"type":"snapshot","timestamp":1700000000001,"instrument_name":"BTC-PERPETUAL",
    "change_id":100,"bids":[["new",65000.0,100.0]],"asks":[["new",65000.5,300.0]]}}})";
constexpr const char* kChange =
    R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.raw",
    "data":{"type":"change","timestamp":1700000000300,"instrument_name":"BTC-PERPETUAL",
    "prev_change_id":100,"change_id":101,"bids":[["change",65000.0,200.0]],"asks":[]}}})";

struct Frame {
  std::int64_t after_us;  // since the start
  FrameKind kind;
  std::string text;
};

class TempRecording {
 public:
  explicit TempRecording(const std::vector<Frame>& frames,
                         greekwire::Encoding encoding = greekwire::Encoding::json) {
    path_ = ::testing::TempDir() + "gw_replay_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter_++) + ".gwrec";
    greekwire::RecordingHeader header;
    header.encoding = encoding;
    header.start_us = kStartUs;
    header.url = "ws://127.0.0.1:1/ws/api/v2";
    header.channels = {"book.BTC-PERPETUAL.raw"};
    greekwire::RecordingWriter writer;
    EXPECT_TRUE(writer.open(path_, header).ok());
    for (const Frame& f : frames) {
      const std::span<const std::uint8_t> bytes(
          reinterpret_cast<const std::uint8_t*>(f.text.data()), f.text.size());
      EXPECT_TRUE(writer.append({kStartUs + f.after_us, f.kind, false, bytes, 0}).ok());
    }
    EXPECT_TRUE(writer.close().ok());
  }
  ~TempRecording() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

std::vector<Frame> listing_snapshot_change() {
  return {{0, FrameKind::response, kListing},
          {1'000, FrameKind::notification, kSnapshot},
          {301'000, FrameKind::notification, kChange}};  // 300 ms after the snapshot
}

template <class T, class Submit>
T ask(Submit submit) {
  std::promise<T> done;
  auto result = done.get_future();
  EXPECT_TRUE(submit([&done](const T& r) { done.set_value(r); }));
  EXPECT_EQ(result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return result.get();
}

class ReplayTest : public ::testing::Test {
 protected:
  ReplayTest() : venue_(mirror_config()) {}
  ~ReplayTest() override { venue_.stop(); }

  static sim::VenueConfig mirror_config() {
    sim::VenueConfig config;
    config.source = sim::MarketSource::mirror;
    return config;
  }
  std::vector<market::Instrument> instruments() {
    return ask<std::vector<market::Instrument>>(
        [&](auto done) { return venue_.get_instruments({}, done); });
  }
  std::uint64_t change_id(sim::InstrumentId id) {
    const auto book =
        ask<sim::BookSnapshot>([&](auto done) { return venue_.get_book(id, 0, done); });
    return book.found ? book.change_id : 0;
  }
  // The time from `start` until the book reaches `id`.
  double seconds_until(sim::InstrumentId id, std::uint64_t target, Clock::time_point start) {
    while (change_id(id) < target) {
      if (Clock::now() - start > std::chrono::seconds(10)) return 1e9;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  sim::Venue venue_;
};

TEST_F(ReplayTest, ListsBeforeTheVenueStartsThenFeedsAtTheRecordedPaceAfterTheDelay) {
  const TempRecording recording(listing_snapshot_change());
  Replay replay({recording.path(), 1.0, 0.2, false}, venue_);
  std::string error;
  ASSERT_TRUE(replay.open(&error)) << error;
  EXPECT_EQ(replay.summary().frames, 3u);
  EXPECT_EQ(replay.summary().notifications, 2u);
  EXPECT_EQ(replay.summary().instruments, 1u);
  EXPECT_EQ(replay.summary().last_us - replay.summary().first_us, 300'000);
  EXPECT_FALSE(replay.summary().truncated);
  venue_.start();
  const auto listed = instruments();
  ASSERT_EQ(listed.size(), 1u);  // before the replay's thread runs
  const sim::InstrumentId id = listed[0].id;
  EXPECT_EQ(change_id(id), 0u);

  const Clock::time_point start = Clock::now();
  replay.start();
  const double snapshot_at = seconds_until(id, 100, start);
  const double change_at = seconds_until(id, 101, start);
  EXPECT_GE(snapshot_at, 0.2);  // the delay
  EXPECT_LT(snapshot_at, 0.4);
  EXPECT_GE(change_at, 0.5);  // the delay and the recorded 300 ms
  EXPECT_LT(change_at, 1.5);
  ASSERT_TRUE(replay.wait_ended(5));
  const ReplayStats stats = replay.stats();
  EXPECT_TRUE(stats.ended);
  EXPECT_EQ(stats.frames, 3u);
  EXPECT_EQ(stats.notifications, 2u);
  EXPECT_EQ(stats.inputs, 3u);  // the instrument, the snapshot, the change
  EXPECT_EQ(stats.rejected, 0u);
}

TEST_F(ReplayTest, SpeedScalesTheGapsAndZeroFeedsAtOnce) {
  std::vector<Frame> frames = listing_snapshot_change();
  frames.push_back({1'001'000, FrameKind::notification, kChange});  // 1 s later (a duplicate)
  const TempRecording recording(frames);
  {
    Replay fast({recording.path(), 0.0, 0.0, false}, venue_);
    std::string error;
    ASSERT_TRUE(fast.open(&error)) << error;
    venue_.start();
    const Clock::time_point start = Clock::now();
    fast.start();
    ASSERT_TRUE(fast.wait_ended(2));
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 1.0);
    EXPECT_EQ(change_id(instruments()[0].id), 101u);
  }
  sim::Venue other(mirror_config());
  Replay halved({recording.path(), 0.5, 0.0, false}, other);
  std::string error;
  ASSERT_TRUE(halved.open(&error)) << error;
  other.start();
  const Clock::time_point start = Clock::now();
  halved.start();
  EXPECT_FALSE(halved.wait_ended(1.5));  // the last frame, 1 s after the first, at half speed
  EXPECT_TRUE(halved.wait_ended(5));
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - start).count(), 2.0);
  other.stop();

  sim::Venue third(mirror_config());
  Replay slow({recording.path(), 0.01, 0.0, false}, third);
  ASSERT_TRUE(slow.open(&error)) << error;
  third.start();
  slow.start();
  const Clock::time_point stopping = Clock::now();
  slow.stop();  // interrupts its wait at once
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - stopping).count(), 1.0);
  EXPECT_FALSE(slow.stats().ended);
  third.stop();
}

TEST_F(ReplayTest, UnreadableFramesAreCountedAndTheRestReplays) {
  std::vector<Frame> frames = listing_snapshot_change();
  frames.insert(frames.begin() + 2, {2'000, FrameKind::notification, "{not json"});
  frames.insert(frames.begin() + 2, {2'000, FrameKind::notification,
                                     R"({"jsonrpc":"2.0","method":"subscription","params":{
                 "channel":"book.BTC-PERPETUAL.raw","data":{"type":"change","bids":7}}})"});
  frames.insert(frames.begin() + 2, {2'000, FrameKind::notification,
                                     R"({"jsonrpc":"2.0","method":"subscription","params":{
                 "channel":"deribit_price_index.btc_usd","data":{"price":"high"}}})"});
  const TempRecording recording(frames);
  Replay replay({recording.path(), 0.0, 0.0, false}, venue_);
  std::string error;
  ASSERT_TRUE(replay.open(&error)) << error;
  venue_.start();
  replay.start();
  ASSERT_TRUE(replay.wait_ended(5));
  EXPECT_EQ(replay.stats().rejected, 3u);
  EXPECT_EQ(change_id(instruments()[0].id), 101u);
}

TEST_F(ReplayTest, FilesThatCannotBeReplayedAreRefusedWithTheReason) {
  std::string error;
  Replay missing({"/nonexistent-dir/r.gwrec", 1.0, 0.0, false}, venue_);
  EXPECT_FALSE(missing.open(&error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;

  // The third record's flags byte (delta 0, 1 byte) with a reserved bit set.
  const TempRecording good(listing_snapshot_change());
  greekwire::RecordingReader reader;
  ASSERT_TRUE(reader.open(good.path()).ok());
  greekwire::RecordedFrame frame;
  std::uint64_t third = 0;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader.next(frame).value());
    third = frame.offset;
  }
  FILE* f = std::fopen(good.path().c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, static_cast<long>(third + 3), SEEK_SET);  // a 3-byte delta (300000 µs)
  std::fputc(0x81, f);
  std::fclose(f);
  Replay corrupt({good.path(), 1.0, 0.0, false}, venue_);
  EXPECT_FALSE(corrupt.open(&error));
  EXPECT_NE(error.find("corrupt record at offset " + std::to_string(third)), std::string::npos)
      << error;
}

}  // namespace
}  // namespace gw::feed
