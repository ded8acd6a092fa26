// order_roundtrip URL --auth ID:SECRET: places a post_only limit buy far below the market, reads
// it back, cancels it and checks that it is no longer open, printing each step.
//
//   order_roundtrip ws://127.0.0.1:8080/ws/api/v2 --auth CLIENT_ID:CLIENT_SECRET
//
// Every step is a blocking Client::call; its answer is read with the SDK's typed conversions
// (ticker_from, order_from). Exit 0 when every step did what it should, 1 when one did not (the
// order is cancelled if it was placed), 2 for usage.
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "example_support.hpp"
#include "greekwire/greekwire.hpp"

namespace {

constexpr const char* kUsage =
    "usage: order_roundtrip URL --auth ID:SECRET [--instrument NAME] [--amount A]\n"
    "  places a post_only limit buy far below the market, reads it back, cancels it\n"
    "  URL           e.g. ws://127.0.0.1:8080/ws/api/v2\n"
    "  --auth        API key credentials, CLIENT_ID:CLIENT_SECRET (trade:read_write)\n"
    "  --instrument  default BTC-PERPETUAL\n"
    "  --amount      default the instrument's min_trade_amount\n";

constexpr const char* kLabel = "greekwire-example";

int usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

std::string describe(const greekwire::Order& order) {
  return "order " + order.order_id + " " + order.order_state + ": " + order.direction + " " +
         example::number(order.amount) + " " + order.instrument_name + " @ " +
         (order.price ? example::number(*order.price) : "market") + ", filled " +
         example::number(order.filled_amount) + (order.post_only ? ", post_only" : "") +
         (order.label.empty() ? "" : ", label " + order.label);
}

// The tick at `price`: Deribit's options have a coarser tick above some prices
// (tick_size_steps).
double tick_at(const greekwire::Value& instrument, double price) {
  double tick = instrument["tick_size"].as_double();
  for (const greekwire::Value& step : instrument["tick_size_steps"].array()) {
    if (price > step["above_price"].as_double()) tick = step["tick_size"].as_double();
  }
  return tick;
}

// A buy price far below the market that the exchange still accepts: the ticker's min_price
// (the lower edge of Deribit's price band, already on the tick grid), else half the best bid or
// mark rounded down onto the tick grid. nullopt when there is nothing to quote against.
std::optional<double> far_below_market(const greekwire::Ticker& ticker,
                                       const greekwire::Value& instrument) {
  if (ticker.min_price && *ticker.min_price > 0) return *ticker.min_price;
  const double reference =
      ticker.best_bid_price > 0 ? ticker.best_bid_price : ticker.mark_price.value_or(0);
  const double half = reference / 2;
  const double tick = tick_at(instrument, half);
  if (!(tick > 0) || half < tick) return std::nullopt;
  return std::floor(half / tick) * tick;
}

class Roundtrip {
 public:
  Roundtrip(greekwire::Client& client, std::string instrument, std::optional<double> amount)
      : client_(client), instrument_(std::move(instrument)), amount_(amount) {}

  // The steps in order; false as soon as one fails (said on stderr).
  bool run() {
    if (!look_at_market()) return false;
    if (!place()) return false;
    const bool read_back = read("open", "read back");
    // Cancel even when the read-back disagreed: the example leaves nothing resting.
    if (!cancel()) return false;
    return read_back && gone();
  }

 private:
  std::optional<greekwire::Value> call(const char* method, const greekwire::Value& params) {
    auto answer = client_.call(method, params.to_json());
    if (!answer) {
      std::fprintf(stderr, "order_roundtrip: %s: %s\n", method, answer.error().describe().c_str());
      return std::nullopt;
    }
    return std::move(answer).value();
  }

  bool look_at_market() {
    greekwire::Value by_name;
    by_name.set("instrument_name", instrument_);
    const auto instrument = call("public/get_instrument", by_name);
    const auto ticker_row = instrument ? call("public/ticker", by_name) : std::nullopt;
    if (!ticker_row) return false;
    const greekwire::Ticker ticker = greekwire::ticker_from(*ticker_row);
    const auto price = far_below_market(ticker, *instrument);
    if (!price) {
      std::fprintf(stderr, "order_roundtrip: %s has no bid or mark to quote against\n",
                   instrument_.c_str());
      return false;
    }
    price_ = *price;
    amount_ = amount_.value_or((*instrument)["min_trade_amount"].as_double());
    std::printf("market: %s best bid %s ask %s mark %s; buying %s @ %s\n", instrument_.c_str(),
                example::number(ticker.best_bid_price).c_str(),
                example::number(ticker.best_ask_price).c_str(),
                ticker.mark_price ? example::number(*ticker.mark_price).c_str() : "-",
                example::number(*amount_).c_str(), example::number(price_).c_str());
    return true;
  }

  bool place() {
    greekwire::Value params;
    params.set("instrument_name", instrument_)
        .set("amount", *amount_)
        .set("type", "limit")
        .set("price", price_)
        .set("post_only", true)
        .set("label", kLabel);
    const auto answer = call("private/buy", params);
    if (!answer) return false;
    const greekwire::Order order = greekwire::order_from((*answer)["order"]);
    order_id_ = order.order_id;
    std::printf("placed: %s\n", describe(order).c_str());
    return expect(order, "open");
  }

  bool read(const char* state, const char* step) {
    greekwire::Value params;
    params.set("order_id", order_id_);
    const auto answer = call("private/get_order_state", params);
    if (!answer) return false;
    const greekwire::Order order = greekwire::order_from(*answer);
    std::printf("%s: %s\n", step, describe(order).c_str());
    return expect(order, state);
  }

  bool cancel() {
    greekwire::Value params;
    params.set("order_id", order_id_);
    const auto answer = call("private/cancel", params);
    if (!answer) return false;
    const greekwire::Order order = greekwire::order_from(*answer);
    std::printf("cancelled: %s\n", describe(order).c_str());
    return expect(order, "cancelled");
  }

  // No longer among the instrument's open orders. (Not get_order_state: whether a closed
  // order can still be looked up differs between servers.)
  bool gone() {
    greekwire::Value params;
    params.set("instrument_name", instrument_);
    const auto answer = call("private/get_open_orders_by_instrument", params);
    if (!answer) return false;
    for (const greekwire::Value& row : answer->array()) {
      if (greekwire::order_from(row).order_id == order_id_) {
        std::fprintf(stderr, "order_roundtrip: order %s is still open after its cancel\n",
                     order_id_.c_str());
        return false;
      }
    }
    std::printf("gone: order %s is not among the %zu open orders of %s\n", order_id_.c_str(),
                answer->size(), instrument_.c_str());
    return true;
  }

  // The order is ours, as placed, and in `state`. Numbers within a part in a billion: the
  // server keeps prices as ticks and amounts as lots, and prints them back from those.
  bool expect(const greekwire::Order& order, const char* state) const {
    const auto same = [](double a, double b) { return std::fabs(a - b) <= 1e-9 * std::fabs(b); };
    const bool as_placed = order.order_id == order_id_ && order.instrument_name == instrument_ &&
                           order.direction == "buy" && order.price && same(*order.price, price_) &&
                           same(order.amount, *amount_) && order.post_only && order.label == kLabel;
    if (as_placed && order.order_state == state) return true;
    std::fprintf(stderr, "order_roundtrip: expected order %s to be %s as placed, got: %s\n",
                 order_id_.c_str(), state, describe(order).c_str());
    return false;
  }

  greekwire::Client& client_;
  std::string instrument_;
  std::optional<double> amount_;
  double price_ = 0;
  std::string order_id_;
};

}  // namespace

int main(int argc, char** argv) {
  if (example::wants_help(argc, argv)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const auto args = example::parse_args(argc, argv, {"--auth", "--instrument", "--amount"});
  if (!args || args->positional.size() != 1 || !args->flag("--auth")) return usage();
  greekwire::ConnectionOptions options;
  options.url = std::string(args->positional[0]);
  if (const auto endpoint = greekwire::parse_url(options.url); !endpoint) {
    std::fprintf(stderr, "order_roundtrip: %s\n", endpoint.error().describe().c_str());
    return usage();
  }
  options.credentials = example::parse_credentials(*args->flag("--auth"));
  if (!options.credentials) return usage();
  std::optional<double> amount;
  if (const auto text = args->flag("--amount")) {
    amount = example::parse_number(*text);
    if (!amount || !(*amount > 0)) return usage();
  }
  // One short session: a dropped connection is a failure, not something to ride out.
  options.reconnect.enabled = false;

  greekwire::Client client(options);
  if (const greekwire::Status connected = client.connect(); !connected) {
    std::fprintf(stderr, "order_roundtrip: cannot connect: %s\n",
                 connected.error().describe().c_str());
    return 1;
  }
  std::printf("connected to %s as %s\n", options.url.c_str(),
              options.credentials->client_id.c_str());
  Roundtrip roundtrip(client, std::string(args->flag("--instrument").value_or("BTC-PERPETUAL")),
                      amount);
  const bool ok = roundtrip.run();
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
