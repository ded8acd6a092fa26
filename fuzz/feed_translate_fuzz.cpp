// libFuzzer target for feed/translate: what a relay, a replay or an edge does with a message
// from the network or a file. The input goes through the SDK's JSON decoder (as a notification
// frame) and, parsed as a bare value, straight to every translation. Nothing may crash, and:
//  - a translation that fails says why and leaves the inputs as they were;
//  - one that succeeds gives finite prices and amounts >= 0 in book levels;
//  - an instrument row that is accepted has positive units and a canonical name.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "client/decoder.hpp"
#include "feed/translate.hpp"
#include "fuzz_check.hpp"

namespace {

using greekwire::Value;

constexpr std::string_view kChannels[] = {
    "book.BTC-PERPETUAL.raw",      "ticker.BTC-PERPETUAL.100ms",
    "trades.BTC-PERPETUAL.raw",    "trades.option.BTC.100ms",
    "deribit_price_index.btc_usd", "book.BTC-PERPETUAL.none.10.100ms",
    "volsurface.BTC.raw",          "chain.ETH.blocks",
    "chain.ETH.transfers",
};

void check_inputs(const std::vector<gw::sim::FeedInput>& inputs) {
  for (const gw::sim::FeedInput& input : inputs) {
    const auto* book = std::get_if<gw::sim::FeedBook>(&input);
    if (book == nullptr) continue;
    for (const auto* side : {&book->bids, &book->asks}) {
      for (const gw::sim::FeedLevel& level : *side) {
        CHECK(std::isfinite(level.price));
        CHECK(std::isfinite(level.amount) && level.amount >= 0);
      }
    }
  }
}

void translate_checked(std::string_view channel, const Value& data) {
  std::vector<gw::sim::FeedInput> inputs(1, gw::sim::FeedLost{});
  std::string error;
  if (gw::feed::translate(channel, data, inputs, &error)) {
    check_inputs(inputs);
  } else {
    CHECK(!error.empty());
    CHECK(inputs.size() == 1);
  }
}

void instrument_checked(const Value& row) {
  std::string error;
  const auto instrument = gw::feed::instrument_from_row(row, &error);
  if (!instrument) {
    CHECK(!error.empty());
    return;
  }
  CHECK(instrument->price_unit > 0 && instrument->amount_unit > 0);
  const auto parsed = gw::market::parse_instrument_name(instrument->name);
  CHECK(parsed.ok() && gw::market::format_instrument_name(parsed.name) == instrument->name);
}

class Sink : public gw::client::MessageSink {
 public:
  void on_response(std::uint64_t, greekwire::Result<Value>) override {}
  void on_unmatched_response(greekwire::Result<Value>) override {}
  void on_heartbeat(std::string_view) override {}
  void on_notification(std::string_view channel,
                       const gw::client::NotificationData& data) override {
    translate_checked(channel, data.to_value());
    if (data.read_book(update)) check_inputs({gw::feed::book_input(update)});
  }
  greekwire::BookUpdate update;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto decoder = gw::client::make_decoder(greekwire::Encoding::json, nullptr);
  Sink sink;
  std::string error;
  (void)decoder->decode({data, size}, false, sink, error);
  const auto value = Value::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!value) return 0;
  for (std::string_view channel : kChannels) translate_checked(channel, *value);
  instrument_checked(*value);
  return 0;
}
