// The SDK's receive path, per core: messages per second from a received frame to an updated
// book (or a typed ticker / trade), for each encoding, on the same recorded market data.
//
// The data: the simulator (sim::Simulator, unthrottled, seed 7) runs one simulated minute to
// warm up; the four futures (perpetuals included) and the four options with the most book
// changes in that minute are then recorded for 30 simulated seconds as their raw channels: a
// snapshot per book (taken from the engine, as the venue answers a subscriber), then every
// book.{instrument}.raw change, ticker.{instrument}.raw and trades.{instrument}.raw, in the
// order the venue published them.
// Each message is written in the three encodings by the gateway's own encoders (gateway/
// encode.hpp through JsonWriter, MsgpackWriter and ProtobufWriter, with the gateway's protobuf
// members), inside the notification envelope with a `usIn`: the encodings carry identical
// messages.
//
// The path: gw::client::Decoder (make_decoder, as a Connection uses it) decodes each frame; a
// sink does what Connection::on_notification does: a book channel reads the data straight into
// a reused BookUpdate and applies it to its greekwire::Book, whose number formats come from the
// instruments' public/get_instrument rows (so every checksum is verified); a ticker becomes a
// greekwire::Ticker (ticker_from), trades greekwire::Trades (trade_from), through the Value
// tree. Each iteration replays the whole stream on fresh books.
//
//   BM_Receive/<encoding>            the whole stream (books, tickers, trades)
//   BM_ReceiveBooks/<encoding>       its book messages only (decode + apply + checksum)
//   BM_ReceiveBooksNoCheck/<encoding> the same without the checksums (formats unknown): the
//                                    decoders' share shows more
//
//   taskset -c 1 build/release/bench/client/gw_client_receive_bench
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/decoder.hpp"
#include "codec/json_writer.hpp"
#include "codec/msgpack_writer.hpp"
#include "codec/protobuf_writer.hpp"
#include "gateway/channels.hpp"
#include "gateway/encode.hpp"
#include "gateway/protobuf_members.hpp"
#include "greekwire/book.hpp"
#include "greekwire/channels.hpp"
#include "sim/simulator.hpp"

namespace {

using namespace gw;
using greekwire::Encoding;

constexpr market::TimestampMs kStart = 1'772'442'000'000;  // 2026-03-02 09:00 UTC
constexpr market::TimestampMs kWarmupMs = 60'000;
constexpr market::TimestampMs kRecordMs = 30'000;
constexpr std::size_t kInstruments = 8;
constexpr std::array<Encoding, 3> kEncodings = {Encoding::json, Encoding::msgpack,
                                                Encoding::protobuf};

enum class Kind : std::uint8_t { book, ticker, trades };

// The recorded stream, in each encoding.
struct Stream {
  std::array<std::vector<std::string>, 3> frames;        // by kEncodings index
  std::vector<Kind> kinds;                               // per message
  std::map<std::string, greekwire::BookFormat> formats;  // per instrument name
  std::array<std::size_t, 3> bytes{};
};

std::size_t index_of(Encoding e) {
  return static_cast<std::size_t>(e);
}

class Recorder final : public sim::VenueSink {
 public:
  void on_event(const sim::VenueEvent& e) override {
    if (const auto* change = std::get_if<sim::OwnedBookChange>(&e)) {
      ++changes_[change->instrument];
      if (const market::Instrument* i = recorded(change->instrument)) {
        add(Kind::book, "book." + i->name + ".raw",
            [&](auto& w) { gateway::write_book_change(w, *change, *i, false); });
      }
    } else if (const auto* ticker = std::get_if<sim::Ticker>(&e)) {
      if (const market::Instrument* i = recorded(ticker->instrument)) {
        add(Kind::ticker, "ticker." + i->name + ".raw",
            [&](auto& w) { gateway::write_ticker(w, *ticker, *i); });
      }
    } else if (const auto* trade = std::get_if<market::Trade>(&e)) {
      if (const market::Instrument* i = recorded(trade->instrument)) {
        add(Kind::trades, "trades." + i->name + ".raw", [&](auto& w) {
          w.begin_array(1);
          gateway::write_trade(w, *trade, *i);
          w.end_array();
        });
      }
    }
  }

  // Starts recording the `count` busiest books so far (most changes), half of them futures
  // and perpetuals, half options, each with its snapshot.
  void start(const sim::Simulator& s, std::size_t count) {
    std::vector<std::pair<std::uint64_t, market::InstrumentId>> futures, options;
    for (const auto& [id, n] : changes_) {
      const market::Instrument* i = s.registry().find(id);
      if (i != nullptr) (i->kind == market::Kind::option ? options : futures).emplace_back(n, id);
    }
    std::vector<std::pair<std::uint64_t, market::InstrumentId>> busiest;
    for (auto* kind : {&futures, &options}) {
      std::sort(kind->rbegin(), kind->rend());
      kind->resize(std::min(count / 2, kind->size()));
      busiest.insert(busiest.end(), kind->begin(), kind->end());
    }
    for (const auto& [n, id] : busiest) {
      const market::Instrument* i = s.registry().find(id);
      const market::Book* book = s.engine().book(id);
      if (i == nullptr || book == nullptr) continue;
      instruments_[id] = i;
      sim::BookSnapshot snapshot;
      snapshot.found = true;
      snapshot.timestamp = s.now_ms();
      snapshot.instrument = id;
      snapshot.change_id = book->change_id();
      snapshot.checksum = book->checksum();
      book->snapshot(snapshot.bids, snapshot.asks);
      add(Kind::book, "book." + i->name + ".raw",
          [&](auto& w) { gateway::write_book_change(w, snapshot, *i); });
      // The formats the SDK takes from public/get_instrument.
      std::string row;
      codec::JsonWriter w(row);
      gateway::write_instrument(w, *i);
      stream.formats[i->name] = *greekwire::book_format(*greekwire::Value::parse_json(row));
    }
  }

  Stream stream;

 private:
  const market::Instrument* recorded(market::InstrumentId id) const {
    const auto it = instruments_.find(id);
    return it == instruments_.end() ? nullptr : it->second;
  }

  template <class F>
  void add(Kind kind, const std::string& channel, F&& write_data) {
    const std::int64_t us_in =
        1'772'442'000'000'000 + static_cast<std::int64_t>(stream.kinds.size());
    {
      std::string& out = stream.frames[index_of(Encoding::json)].emplace_back();
      codec::JsonWriter w(out);
      gateway::write_stamped_notification(w, channel, us_in, write_data);
    }
    {
      std::string& out = stream.frames[index_of(Encoding::msgpack)].emplace_back();
      codec::MsgpackWriter w(out);
      gateway::write_stamped_notification(w, channel, us_in, write_data);
    }
    {
      std::string& out = stream.frames[index_of(Encoding::protobuf)].emplace_back();
      codec::ProtobufWriter w(out);
      w.choose(gateway::data_member(*gateway::parse_channel(channel)));
      gateway::write_stamped_notification(w, channel, us_in, write_data);
      if (w.mismatches() != 0) {
        std::fprintf(stderr, "protobuf schema mismatch: %s\n",
                     std::string(w.last_mismatch()).c_str());
        std::abort();
      }
    }
    for (std::size_t e = 0; e < 3; ++e) stream.bytes[e] += stream.frames[e].back().size();
    stream.kinds.push_back(kind);
  }

  std::map<market::InstrumentId, std::uint64_t> changes_;
  std::map<market::InstrumentId, const market::Instrument*> instruments_;
};

const Stream& recorded_stream() {
  static const Stream stream = [] {
    sim::VenueConfig config;
    config.seed = 7;
    config.start_ms = kStart;
    config.speed = 0;
    Recorder recorder;
    sim::Simulator s(config, recorder);
    s.open();
    market::TimestampMs t = kStart;
    for (; t < kStart + kWarmupMs; t += 100) s.run_until(t);
    recorder.start(s, kInstruments);
    for (; t < kStart + kWarmupMs + kRecordMs; t += 100) s.run_until(t);
    return std::move(recorder.stream);
  }();
  return stream;
}

// What Connection::on_notification does with each notification (src/client/connection.cpp).
class ReceiveSink final : public client::MessageSink {
 public:
  ReceiveSink(const Stream& stream, bool verify) : verify_(verify) {
    for (const auto& [name, format] : stream.formats) {
      auto& book = books_["book." + name + ".raw"];
      book.format = format;
    }
  }

  // Fresh books for a replay (their snapshot is the stream's first message each).
  void reset() {
    for (auto& [channel, b] : books_) {
      b.book = greekwire::Book(channel.substr(5, channel.size() - 9));
      if (verify_) b.book.set_format(b.format);
    }
  }

  void on_notification(std::string_view channel, const client::NotificationData& data) override {
    if (const auto it = books_.find(channel); it != books_.end()) {
      if (!data.read_book(update_)) ++failures;
      const greekwire::ApplyResult r = it->second.book.apply(update_);
      failures += r != greekwire::ApplyResult::applied && r != greekwire::ApplyResult::snapshot;
      return;
    }
    const greekwire::Value tree = data.to_value();
    if (channel.starts_with("ticker.")) {
      benchmark::DoNotOptimize(greekwire::ticker_from(tree));
    } else {
      for (const greekwire::Value& trade : tree.array()) {
        benchmark::DoNotOptimize(greekwire::trade_from(trade));
      }
    }
  }
  void on_response(std::uint64_t, greekwire::Result<greekwire::Value>) override { ++failures; }
  void on_unmatched_response(greekwire::Result<greekwire::Value>) override { ++failures; }
  void on_heartbeat(std::string_view) override { ++failures; }

  std::uint64_t checksums_verified() const {
    std::uint64_t n = 0;
    for (const auto& [channel, b] : books_) n += b.book.checksums_verified();
    return n;
  }

  std::uint64_t failures = 0;

 private:
  struct BookState {
    greekwire::Book book;
    greekwire::BookFormat format;
  };
  bool verify_;
  std::map<std::string, BookState, std::less<>> books_;
  greekwire::BookUpdate update_;
};

void run(benchmark::State& state, Encoding encoding, bool books_only, bool verify = true) {
  const Stream& stream = recorded_stream();
  const auto& all = stream.frames[index_of(encoding)];
  std::vector<std::span<const std::uint8_t>> frames;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (books_only && stream.kinds[i] != Kind::book) continue;
    frames.emplace_back(reinterpret_cast<const std::uint8_t*>(all[i].data()), all[i].size());
    bytes += all[i].size();
  }
  const bool binary = encoding != Encoding::json;
  auto decoder = client::make_decoder(encoding, nullptr);
  ReceiveSink sink(stream, verify);
  std::string error;
  std::uint64_t verified = 0;
  for (auto _ : state) {
    sink.reset();
    for (const auto& frame : frames) {
      if (!decoder->decode(frame, binary, sink, error)) ++sink.failures;
    }
    verified = sink.checksums_verified();
  }
  if (sink.failures != 0 || (verify && verified == 0)) {
    state.SkipWithError("the stream did not decode and apply cleanly");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * frames.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["messages"] = static_cast<double>(frames.size());
  state.counters["bytes_per_message"] =
      static_cast<double>(bytes) / static_cast<double>(frames.size());
  state.counters["checksums"] = static_cast<double>(verified);
  if (!books_only) {
    for (const auto& [kind, name] :
         {std::pair{Kind::ticker, "tickers"}, {Kind::trades, "trades"}}) {
      state.counters[name] =
          static_cast<double>(std::count(stream.kinds.begin(), stream.kinds.end(), kind));
    }
  }
}

void BM_Receive(benchmark::State& state, Encoding encoding) {
  run(state, encoding, false);
}
void BM_ReceiveBooks(benchmark::State& state, Encoding encoding) {
  run(state, encoding, true);
}
void BM_ReceiveBooksNoCheck(benchmark::State& state, Encoding encoding) {
  run(state, encoding, true, false);
}
BENCHMARK_CAPTURE(BM_Receive, json, Encoding::json)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Receive, msgpack, Encoding::msgpack)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Receive, protobuf, Encoding::protobuf)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReceiveBooks, json, Encoding::json)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReceiveBooks, msgpack, Encoding::msgpack)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReceiveBooks, protobuf, Encoding::protobuf)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReceiveBooksNoCheck, json, Encoding::json)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReceiveBooksNoCheck, msgpack, Encoding::msgpack)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReceiveBooksNoCheck, protobuf, Encoding::protobuf)
    ->Unit(benchmark::kMillisecond);

}  // namespace
