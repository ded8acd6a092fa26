// top_of_book URL INSTRUMENT: subscribes to the instrument's book channel and prints the best bid
// and ask of the SDK's local book after every update. The SDK checks each change against the
// previous one (and greekwire's checksum); when the chain breaks or the connection drops it
// resyncs by itself and says so: those events are printed too.
//
//   top_of_book ws://127.0.0.1:8080/ws/api/v2 BTC-PERPETUAL --count 20
//
// Exit 0 after --count updates or on Ctrl-C, 1 when it cannot connect or subscribe, 2 for usage.
#include <atomic>
#include <cstdio>
#include <string>

#include "example_support.hpp"
#include "greekwire/greekwire.hpp"

namespace {

constexpr const char* kUsage =
    "usage: top_of_book URL INSTRUMENT [--interval 100ms|agg2|raw] [--count N] "
    "[--auth ID:SECRET]\n"
    "  prints the best bid and ask after every book update, and the book's resyncs\n"
    "  URL         e.g. ws://127.0.0.1:8080/ws/api/v2 or wss://www.deribit.com/ws/api/v2\n"
    "  INSTRUMENT  e.g. BTC-PERPETUAL\n"
    "  --interval  the book channel's interval (default 100ms; raw needs --auth)\n"
    "  --count     exit after this many updates (default: run until Ctrl-C)\n"
    "  --auth      API key credentials, CLIENT_ID:CLIENT_SECRET\n";

int usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

std::string side(const std::optional<greekwire::Level>& level) {
  if (!level) return "-";
  return example::number(level->amount) + " @ " + example::number(level->price);
}

// One line per update: "BTC-PERPETUAL change 42 bid 7540 @ 100000 ask 311410 @ 100001.5 spread
// 1.5 levels 20/20"; the first after a (re)subscription says "snapshot".
void print_top(const greekwire::Book& book, const greekwire::BookUpdate& update) {
  const auto bid = book.best_bid();
  const auto ask = book.best_ask();
  const std::string spread = bid && ask ? example::number(ask->price - bid->price) : "-";
  std::printf("%s %s %llu bid %s ask %s spread %s levels %zu/%zu\n", book.instrument_name().c_str(),
              update.snapshot ? "snapshot" : "change",
              static_cast<unsigned long long>(book.change_id()), side(bid).c_str(),
              side(ask).c_str(), spread.c_str(), book.bids().size(), book.asks().size());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (example::wants_help(argc, argv)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const auto args = example::parse_args(argc, argv, {"--interval", "--count", "--auth"});
  if (!args || args->positional.size() != 2) return usage();

  greekwire::ConnectionOptions options;
  options.url = std::string(args->positional[0]);
  if (const auto endpoint = greekwire::parse_url(options.url); !endpoint) {
    std::fprintf(stderr, "top_of_book: %s\n", endpoint.error().describe().c_str());
    return usage();
  }
  const std::string channel = "book." + std::string(args->positional[1]) + "." +
                              std::string(args->flag("--interval").value_or("100ms"));
  if (greekwire::classify_channel(channel).kind != greekwire::ChannelKind::book) {
    std::fprintf(stderr, "top_of_book: %s is not a book channel\n", channel.c_str());
    return usage();
  }
  std::uint64_t count = 0;
  if (const auto text = args->flag("--count")) {
    const auto parsed = example::parse_count(*text);
    if (!parsed) return usage();
    count = *parsed;
  }
  if (const auto auth = args->flag("--auth")) {
    options.credentials = example::parse_credentials(*auth);
    if (!options.credentials) return usage();
  }

  example::block_termination_signals();  // before the Client starts its thread
  std::atomic<std::uint64_t> updates{0};
  std::atomic<bool> done{false};
  std::atomic<int> exit_code{0};
  greekwire::Client client(options);
  // Events run on the client's thread. Resyncs go to stdout with the books they explain; the
  // rest of the connection's life (disconnected, reconnecting) to stderr.
  client.on_event([&](const greekwire::Event& event) {
    switch (event.type) {
      case greekwire::EventType::resync:
      case greekwire::EventType::resynced:
        std::printf("%s\n", event.describe().c_str());
        std::fflush(stdout);
        return;
      case greekwire::EventType::connected:
      case greekwire::EventType::authenticated:
      case greekwire::EventType::ready:
        return;
      case greekwire::EventType::gave_up:
        std::fprintf(stderr, "top_of_book: %s\n", event.describe().c_str());
        exit_code = 1;
        done = true;
        return;
      default:
        std::fprintf(stderr, "top_of_book: %s\n", event.describe().c_str());
    }
  });
  if (const greekwire::Status connected = client.connect(); !connected) {
    std::fprintf(stderr, "top_of_book: cannot connect: %s\n", connected.error().describe().c_str());
    return 1;
  }

  greekwire::Handlers handlers;
  handlers.book = [&](const greekwire::Book& book, const greekwire::BookUpdate& update) {
    if (done) return;  // --count reached: the main thread is closing
    print_top(book, update);
    if (++updates == count) done = true;
  };
  const auto subscribed = client.subscribe({channel}, std::move(handlers));
  if (!subscribed) {
    std::fprintf(stderr, "top_of_book: subscribe: %s\n", subscribed.error().describe().c_str());
    return 1;
  }
  if (subscribed->empty()) {  // Deribit leaves channels it does not know out of its answer
    std::fprintf(stderr, "top_of_book: the server did not subscribe %s (unknown instrument?)\n",
                 channel.c_str());
    return 1;
  }
  example::wait_for(done);
  client.close();
  return exit_code;
}
