// A program outside the greekwire tree, built against the installed package (test_install.py):
// the public API alone parses a URL, fills ConnectionOptions, keeps a Book from a snapshot and a
// change and checks it against docs/PROTOCOL.md's checksum test vector; given a URL it also
// connects, asks the server's time and waits for a book update whose checksum was verified.
//
//   outside [URL]      prints "outside: ..." lines; exit 0 when every check held
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>

#include "greekwire/greekwire.hpp"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("outside: %s %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

void check_url_and_options() {
  const auto endpoint = greekwire::parse_url("wss://www.deribit.com/ws/api/v2?x=1");
  check(endpoint && endpoint->secure && endpoint->host == "www.deribit.com" &&
            endpoint->port == 443 && endpoint->resource == "/ws/api/v2?x=1",
        "parse_url wss://www.deribit.com/ws/api/v2?x=1");
  const auto bad = greekwire::parse_url("http://127.0.0.1/ws");
  check(!bad && bad.error().kind == greekwire::ErrorKind::invalid_argument &&
            bad.error().describe() == "bad URL 'http://127.0.0.1/ws': scheme must be ws or wss",
        "parse_url refuses http://");

  greekwire::ConnectionOptions options;
  options.url = "ws://127.0.0.1:8080/ws/api/v2";
  options.encoding = greekwire::parse_encoding("msgpack").value_or(greekwire::Encoding::json);
  options.credentials = greekwire::Credentials{"id", "secret", {}};
  options.heartbeat_interval_s = 10;
  check(options.encoding == greekwire::Encoding::msgpack &&
            greekwire::to_string(options.encoding) == "msgpack" && options.reconnect.enabled,
        "ConnectionOptions");
}

greekwire::LevelChange level(greekwire::LevelAction action, double price, double amount) {
  return {action, price, amount};
}

// docs/PROTOCOL.md's BTC-PERPETUAL vector: bids 65000 x 12000, 64999.5 x 500, 64990 x 10; asks
// 65000.5 x 3000, 65001 x 20 -> 3370445602. The snapshot differs; the change brings it there.
void check_book() {
  using greekwire::LevelAction;
  const auto instrument = greekwire::Value::parse_json(
      R"({"instrument_name":"BTC-PERPETUAL","tick_size":0.5,"tick_size_steps":[],"min_trade_amount":10})");
  const auto format = instrument ? greekwire::book_format(*instrument) : std::nullopt;
  check(format && format->price_digits == 1 && format->amount_digits == 0,
        "book_format of BTC-PERPETUAL is (1, 0)");
  if (!format) return;

  greekwire::Book book("BTC-PERPETUAL");
  book.set_format(*format);
  greekwire::BookUpdate snapshot;
  snapshot.snapshot = true;
  snapshot.instrument_name = "BTC-PERPETUAL";
  snapshot.change_id = 8790;
  snapshot.bids = {level(LevelAction::added, 65000, 8000), level(LevelAction::added, 64999.5, 500),
                   level(LevelAction::added, 64990, 10)};
  snapshot.asks = {level(LevelAction::added, 65000.5, 3000), level(LevelAction::added, 65001, 20),
                   level(LevelAction::added, 65002, 7)};
  check(book.apply(snapshot) == greekwire::ApplyResult::snapshot && book.live(), "snapshot");

  greekwire::BookUpdate change;
  change.instrument_name = "BTC-PERPETUAL";
  change.change_id = 8812;
  change.prev_change_id = 8790;
  change.bids = {level(LevelAction::changed, 65000, 12000)};
  change.asks = {level(LevelAction::deleted, 65002, 0)};
  change.checksum = 3370445602u;
  check(book.apply(change) == greekwire::ApplyResult::applied && book.checksums_verified() == 1,
        "change chained, checksum 3370445602 verified");
  check(book.checksum() == 3370445602u && book.best_bid() == greekwire::Level{65000, 12000} &&
            book.best_ask() == greekwire::Level{65000.5, 3000} && book.asks().size() == 2,
        "book after the change");

  change.prev_change_id = 9000;  // not our change_id: a change was lost
  change.change_id = 9001;
  change.bids.clear();
  change.asks.clear();
  change.checksum.reset();
  check(book.apply(change) == greekwire::ApplyResult::gap && !book.live(), "gap breaks the book");
}

// Against a live server: the time, then a book whose checksum the SDK verified.
void check_server(const std::string& url) {
  // Before the client: its thread may call the handler until the client is gone.
  std::promise<std::string> verified;
  std::atomic<bool> once{false};
  greekwire::ConnectionOptions options;
  options.url = url;
  greekwire::Client client(options);
  const greekwire::Status connected = client.connect();
  check(connected.ok(), "connect");
  if (!connected) {
    std::printf("outside: %s\n", connected.error().describe().c_str());
    return;
  }
  const auto time = client.call("public/get_time");
  check(time && time->as_int() > 0, "public/get_time");

  greekwire::Handlers handlers;
  handlers.book = [&](const greekwire::Book& book, const greekwire::BookUpdate&) {
    if (book.checksums_verified() == 0 || once.exchange(true)) return;
    const auto bid = book.best_bid();
    verified.set_value(book.instrument_name() + " bid " + std::to_string(bid ? bid->price : 0) +
                       ", " + std::to_string(book.checksums_verified()) + " checksum(s) verified");
  };
  const auto subscribed = client.subscribe({"book.BTC-PERPETUAL.100ms"}, std::move(handlers));
  check(subscribed && subscribed->size() == 1, "subscribe book.BTC-PERPETUAL.100ms");
  auto future = verified.get_future();
  const bool live = future.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  check(live, "a book update with its checksum verified");
  if (live) std::printf("outside: live %s\n", future.get().c_str());
  client.close();
}

}  // namespace

int main(int argc, char** argv) {
  check_url_and_options();
  check_book();
  if (argc > 1) check_server(argv[1]);
  std::printf("outside: %s\n", failures == 0 ? "all checks passed" : "FAILED");
  return failures == 0 ? 0 : 1;
}
