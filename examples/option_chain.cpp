// option_chain URL CURRENCY EXPIRY: the options of one expiry as a table of strikes, with each
// call's and put's mark price, mark IV and Greeks, kept current from the ticker channels and
// printed again every --interval seconds.
//
//   option_chain ws://127.0.0.1:8080/ws/api/v2 BTC 27DEC26
//
// public/get_instruments lists the chain; each option's ticker.{instrument}.100ms notification
// is turned into a greekwire::Ticker and stored on the client's thread; the table is rendered
// there too (Client::run_on_loop), so the handlers and the printing share no lock.
//
// Exit 0 after --refreshes tables or on Ctrl-C, 1 when it cannot connect, the expiry is not
// listed or the subscription fails, 2 for usage.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "example_support.hpp"
#include "greekwire/greekwire.hpp"

namespace {

constexpr const char* kUsage =
    "usage: option_chain URL CURRENCY EXPIRY [--interval SECONDS] [--refreshes N]\n"
    "  prints the chain's strikes with each call's and put's mark price, mark IV and Greeks\n"
    "  URL          e.g. ws://127.0.0.1:8080/ws/api/v2\n"
    "  CURRENCY     BTC, ETH, ...\n"
    "  EXPIRY       as in the instrument names, e.g. 27DEC26 (a wrong one lists the expiries)\n"
    "  --interval   seconds between tables (default 1)\n"
    "  --refreshes  exit after this many tables (default: run until Ctrl-C)\n";

int usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// One strike of the chain: its call and put, and their latest tickers.
struct Row {
  std::string call, put;
  std::optional<greekwire::Ticker> call_ticker, put_ticker;
};

struct Chain {
  std::string currency, expiry;
  std::map<double, Row> strikes;             // ascending
  std::map<std::string, double> strike_of;   // instrument -> strike
  std::vector<std::string> expiries_listed;  // all of the currency's, for a wrong EXPIRY
  std::optional<double> underlying_price;
  std::uint64_t tickers = 0;  // notifications received
};

// The chain of CURRENCY-EXPIRY from a public/get_instruments result.
Chain chain_from(const greekwire::Value& instruments, std::string currency, std::string expiry) {
  Chain chain;
  chain.currency = std::move(currency);
  chain.expiry = std::move(expiry);
  const std::string prefix = chain.currency + "-" + chain.expiry + "-";
  for (const greekwire::Value& instrument : instruments.array()) {
    const std::string name(instrument["instrument_name"].as_string());
    // BTC-27DEC26-100000-C: the expiry is the second dash-separated part.
    const std::size_t first = name.find('-');
    const std::size_t second = name.find('-', first + 1);
    if (first != std::string::npos && second != std::string::npos) {
      const std::string listed = name.substr(first + 1, second - first - 1);
      if (std::find(chain.expiries_listed.begin(), chain.expiries_listed.end(), listed) ==
          chain.expiries_listed.end()) {
        chain.expiries_listed.push_back(listed);
      }
    }
    if (!name.starts_with(prefix)) continue;
    const double strike = instrument["strike"].as_double();
    Row& row = chain.strikes[strike];
    (instrument["option_type"].as_string() == "put" ? row.put : row.call) = name;
    chain.strike_of[name] = strike;
  }
  return chain;
}

void store(Chain& chain, const greekwire::Ticker& ticker) {
  const auto found = chain.strike_of.find(ticker.instrument_name);
  if (found == chain.strike_of.end()) return;
  Row& row = chain.strikes[found->second];
  (ticker.instrument_name == row.put ? row.put_ticker : row.call_ticker) = ticker;
  if (ticker.underlying_price) chain.underlying_price = ticker.underlying_price;
  ++chain.tickers;
}

std::string cell(const std::optional<double>& value, const char* format) {
  if (!value) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, *value);
  return text;
}

// mark, iv, delta, gamma, vega, theta of one option, or dashes until its first ticker.
std::string side_cells(const std::optional<greekwire::Ticker>& ticker) {
  std::optional<double> mark, iv, delta, gamma, vega, theta;
  if (ticker) {
    mark = ticker->mark_price;
    iv = ticker->mark_iv;
    if (ticker->greeks) {
      delta = ticker->greeks->delta;
      gamma = ticker->greeks->gamma;
      vega = ticker->greeks->vega;
      theta = ticker->greeks->theta;
    }
  }
  char text[128];
  std::snprintf(text, sizeof text, "%8s %6s %7s %9s %8s %9s", cell(mark, "%.4f").c_str(),
                cell(iv, "%.2f").c_str(), cell(delta, "%.4f").c_str(), cell(gamma, "%.7f").c_str(),
                cell(vega, "%.2f").c_str(), cell(theta, "%.2f").c_str());
  return text;
}

std::string render(const Chain& chain) {
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::string out = chain.currency + " " + chain.expiry + "  underlying " +
                    cell(chain.underlying_price, "%.2f") + "  " +
                    std::to_string(chain.strikes.size()) + " strikes  " + when + "\n";
  char line[320];
  std::snprintf(line, sizeof line, "%10s | %-51s | %s\n", "", "call", "put");
  out += line;
  std::snprintf(line, sizeof line, "%10s | %8s %6s %7s %9s %8s %9s | %8s %6s %7s %9s %8s %9s\n",
                "strike", "mark", "iv", "delta", "gamma", "vega", "theta", "mark", "iv", "delta",
                "gamma", "vega", "theta");
  out += line;
  for (const auto& [strike, row] : chain.strikes) {
    std::snprintf(line, sizeof line, "%10s | %s | %s\n", example::number(strike).c_str(),
                  side_cells(row.call_ticker).c_str(), side_cells(row.put_ticker).c_str());
    out += line;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (example::wants_help(argc, argv)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const auto args = example::parse_args(argc, argv, {"--interval", "--refreshes"});
  if (!args || args->positional.size() != 3) return usage();
  greekwire::ConnectionOptions options;
  options.url = std::string(args->positional[0]);
  if (const auto endpoint = greekwire::parse_url(options.url); !endpoint) {
    std::fprintf(stderr, "option_chain: %s\n", endpoint.error().describe().c_str());
    return usage();
  }
  const std::string currency = upper(args->positional[1]);
  const std::string expiry = upper(args->positional[2]);
  double interval = 1;
  if (const auto text = args->flag("--interval")) {
    const auto parsed = example::parse_number(*text);
    if (!parsed || !(*parsed >= 0.05 && *parsed <= 3600)) return usage();
    interval = *parsed;
  }
  std::uint64_t refreshes = 0;
  if (const auto text = args->flag("--refreshes")) {
    const auto parsed = example::parse_count(*text);
    if (!parsed) return usage();
    refreshes = *parsed;
  }

  example::block_termination_signals();  // before the Client starts its thread
  // Filled in below, then used only on the client's thread (handlers, run_on_loop). Declared
  // before the client, which must stop calling the handlers before the chain goes.
  Chain chain;
  greekwire::Client client(options);
  std::atomic<bool> gave_up{false};
  client.on_event([&](const greekwire::Event& event) {
    if (event.type == greekwire::EventType::gave_up) gave_up = true;
    if (event.type == greekwire::EventType::disconnected ||
        event.type == greekwire::EventType::reconnecting ||
        event.type == greekwire::EventType::gave_up ||
        event.type == greekwire::EventType::subscription_dropped) {
      std::fprintf(stderr, "option_chain: %s\n", event.describe().c_str());
    }
  });
  if (const greekwire::Status connected = client.connect(); !connected) {
    std::fprintf(stderr, "option_chain: cannot connect: %s\n",
                 connected.error().describe().c_str());
    return 1;
  }
  const std::string params = R"({"currency":")" + currency + R"(","kind":"option"})";
  const auto instruments = client.call("public/get_instruments", params);
  if (!instruments) {
    std::fprintf(stderr, "option_chain: public/get_instruments: %s\n",
                 instruments.error().describe().c_str());
    return 1;
  }
  chain = chain_from(instruments.value(), currency, expiry);
  if (chain.strikes.empty()) {
    std::string listed;
    for (const std::string& name : chain.expiries_listed) listed += " " + name;
    std::fprintf(stderr, "option_chain: no %s options expire on %s; listed:%s\n", currency.c_str(),
                 expiry.c_str(), listed.empty() ? " none" : listed.c_str());
    return 1;
  }

  std::vector<std::string> channels;
  for (const auto& [name, strike] : chain.strike_of)
    channels.push_back("ticker." + name + ".100ms");
  greekwire::Handlers handlers;
  handlers.ticker = [&chain](const greekwire::Ticker& ticker) { store(chain, ticker); };
  const auto subscribed = client.subscribe(channels, std::move(handlers));
  if (!subscribed) {
    std::fprintf(stderr, "option_chain: subscribe: %s\n", subscribed.error().describe().c_str());
    return 1;
  }

  // On a terminal each table replaces the previous one; into a pipe they follow each other.
  const bool terminal = isatty(STDOUT_FILENO) != 0;
  for (std::uint64_t printed = 0; refreshes == 0 || printed < refreshes; ++printed) {
    if (example::wait_for(gave_up, interval) != example::Wake::timeout) break;
    std::string table;
    client.run_on_loop([&](greekwire::Connection&) { table = render(chain); });
    std::printf("%s%s\n", terminal ? "\033[H\033[2J" : "", table.c_str());
    std::fflush(stdout);
  }
  client.close();
  return gave_up ? 1 : 0;
}
