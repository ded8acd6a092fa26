// The publisher and a mirrored book's restarts: a subscriber who came before the book had data
// gets its snapshot with the first message; a chain that broke reaches every subscriber as a
// snapshot flagged "resync": true (raw channels at once, conflated ones at the window boundary),
// never as a change that does not chain.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "gateway/publisher.hpp"
#include "market/instrument.hpp"

namespace gw::gateway {
namespace {

using namespace std::chrono_literals;

struct Sent {
  std::uint64_t session = 0;  // 0: a broadcast
  std::string channel;
  std::string text;
};

class PublisherRestartTest : public ::testing::Test {
 protected:
  PublisherRestartTest()
      : events(1024), publisher(events, directory, 1, [this](std::size_t, auto& deliveries) {
          std::lock_guard lock(mutex);
          for (const Delivery& d : deliveries) {
            const auto payload = d.message->frames[0]->payload();
            sent.push_back(
                {d.session, d.message->channel,
                 std::string(reinterpret_cast<const char*>(payload.data()), payload.size())});
          }
          deliveries.clear();
        }) {
    market::Instrument i =
        market::make_instrument(market::parse_instrument_name("BTC-PERPETUAL").name);
    i.id = 1;
    instrument = std::make_shared<const market::Instrument>(i);
    push(sim::InstrumentListed{1, instrument});
    publisher.start();
    // Subscriptions are checked against listed instruments (as the gateway does first).
    while (publisher.stats().events.load() < 1) std::this_thread::sleep_for(1ms);
  }
  ~PublisherRestartTest() override { publisher.stop(); }

  void push(sim::VenueEvent e) { ASSERT_TRUE(events.queue().try_push(std::move(e))); }
  void book(std::uint64_t prev, std::uint64_t id, market::Lots amount, sim::BookRestart restart) {
    sim::OwnedBookChange c;
    c.timestamp = static_cast<market::TimestampMs>(id);
    c.instrument = 1;
    c.change_id = id;
    c.prev_change_id = prev;
    const std::vector<market::LevelUpdate> bids = {
        {instrument->to_ticks(65000), amount, market::BookAction::change}};
    c.bids.assign(bids);
    c.restart = restart;
    push(c);
  }
  void subscribe(std::uint64_t session, const std::string& channel) {
    publisher.subscribe(0, session, *parse_channel(channel), channel, Encoding::json);
  }
  // Waits for `count` messages in all (or 2 s) and returns them.
  std::vector<Sent> wait_for(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex);
        if (sent.size() >= count) break;
      }
      std::this_thread::sleep_for(5ms);
    }
    std::lock_guard lock(mutex);
    return sent;
  }

  sim::Venue::Consumer events;
  Directory directory;
  std::mutex mutex;
  std::vector<Sent> sent;
  Publisher publisher;
  InstrumentPtr instrument;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(PublisherRestartTest, RawSubscribersWaitForTheFirstDataThenResyncOnABreak) {
  subscribe(7, "book.BTC-PERPETUAL.raw");
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(wait_for(0).empty());  // no empty snapshot of a book without data

  book(0, 100, 10, sim::BookRestart::first);
  auto got = wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].session, 7u);
  EXPECT_TRUE(has(got[0].text, R"("type":"snapshot")")) << got[0].text;
  EXPECT_TRUE(has(got[0].text, R"("change_id":100)")) << got[0].text;
  EXPECT_FALSE(has(got[0].text, "resync")) << got[0].text;

  book(100, 101, 20, sim::BookRestart::none);
  got = wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].session, 0u);
  EXPECT_TRUE(has(got[1].text, R"("type":"change")")) << got[1].text;
  EXPECT_TRUE(has(got[1].text, R"("prev_change_id":100)")) << got[1].text;

  book(0, 5, 30, sim::BookRestart::resync);
  got = wait_for(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].session, 0u);  // every subscriber
  EXPECT_TRUE(has(got[2].text, R"("type":"snapshot")")) << got[2].text;
  EXPECT_TRUE(has(got[2].text, R"("resync":true)")) << got[2].text;
  EXPECT_TRUE(has(got[2].text, R"("change_id":5)")) << got[2].text;
}

TEST_F(PublisherRestartTest, ConflatedSubscribersGetTheResyncSnapshotInsteadOfTheWindowsChange) {
  book(0, 100, 10, sim::BookRestart::first);
  subscribe(8, "book.BTC-PERPETUAL.100ms");
  // What session 8 sees: from its snapshot on (broadcasts before it reach nobody).
  auto seen = [this](std::size_t count) {
    std::vector<Sent> out;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      out.clear();
      for (const Sent& s : wait_for(0)) {
        if (s.session == 8 || (!out.empty() && s.session == 0)) out.push_back(s);
      }
      std::this_thread::sleep_for(5ms);
    }
    return out;
  };
  auto got = seen(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(has(got[0].text, R"("change_id":100)")) << got[0].text;

  book(100, 101, 20, sim::BookRestart::none);
  book(0, 3, 40, sim::BookRestart::resync);
  book(3, 4, 50, sim::BookRestart::none);
  std::this_thread::sleep_for(350ms);  // later windows must not send a stale change
  got = seen(2);
  ASSERT_GE(got.size(), 2u);
  // The change to 101 may have had its own window before the resync.
  const Sent& resync = has(got[1].text, R"("change_id":101)") ? got.at(2) : got[1];
  EXPECT_TRUE(has(resync.text, R"("type":"snapshot")")) << resync.text;
  EXPECT_TRUE(has(resync.text, R"("resync":true)")) << resync.text;
  EXPECT_TRUE(has(resync.text, R"("change_id":4)") || has(resync.text, R"("change_id":3)"))
      << resync.text;
  EXPECT_EQ(&resync, &got.back()) << got.back().text;
}

}  // namespace
}  // namespace gw::gateway

namespace gw::gateway {
namespace {

TEST_F(PublisherRestartTest, VolsurfaceSubscribersGetTheLastSurfaceAtOnce) {
  subscribe(9, "volsurface.BTC.100ms");
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(wait_for(0).empty());  // none yet: the first one will be theirs

  sim::SurfaceSnapshot surface;
  surface.timestamp = 42;
  surface.currency = market::Currency::BTC;
  surface.index_price = 65000;
  surface.params = {-0.3, 1.2, 0.4};
  surface.expiries.push_back({1'800'000'000'000, 0.1, 65100, 0.0036, 0.19});
  push(surface);
  // Only what is addressed: a broadcast before a session's first message reaches nobody.
  auto addressed = [this](std::size_t count) {
    std::vector<Sent> out;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    do {
      out.clear();
      for (const Sent& s : wait_for(0)) {
        if (s.session != 0) out.push_back(s);
      }
      if (out.size() >= count) break;
      std::this_thread::sleep_for(5ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return out;
  };
  auto got = addressed(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].session, 9u);  // addressed: it joins the broadcasts with it
  EXPECT_TRUE(has(got[0].text, R"("timestamp":42)")) << got[0].text;

  subscribe(10, "volsurface.BTC.100ms");
  got = addressed(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].session, 10u);
  EXPECT_TRUE(has(got[1].text, R"("timestamp":42)")) << got[1].text;

  subscribe(11, "volsurface.ETH.100ms");  // another currency's: still waiting
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(addressed(3).size(), 2u);
}

}  // namespace
}  // namespace gw::gateway
