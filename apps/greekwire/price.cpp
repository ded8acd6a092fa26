// `greekwire price` and `greekwire iv`: Black-76 / Black-Scholes-Merton prices, Greeks and
// implied volatility from the command line, in plain units or (with --deribit) Deribit's.
//
//   greekwire price --model black76 --type call --forward 100 --strike 110 --expiry-years 0.5
//                   --vol 0.6 [--rate 0.01] [--json] [--deribit]
//   greekwire iv    --model bs --type put --spot 100 --strike 90 --expiry-years 1 --price 4.2
//                   [--rate R] [--div Q] [--json]
//
// Exit codes: 0 success, 2 usage (missing or malformed values, inconsistent options), 1 a price
// outside the no-arbitrage bounds (no volatility reproduces it).
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "pricing/black.hpp"
#include "pricing/deribit.hpp"
#include "pricing/implied_vol.hpp"

namespace gw::app {
namespace {

using pricing::OptionType;

// Every value is taken as text (and may be missing: expected(0, 1)) so that all validation,
// with its one-line message and exit code 2, happens here rather than in CLI11.
struct PriceConfig {
  std::string command;  // "price" or "iv"
  std::string model = "black76";
  std::string type;
  std::optional<std::string> forward, spot, strike, years, vol, price, rate, dividend;
  bool json = false;
  bool deribit = false;
};

struct UsageError {
  std::string message;
};

struct Inputs {
  bool black76 = true;
  OptionType type = OptionType::call;
  double underlying = 0;  // forward (Black-76) or spot (Black-Scholes)
  double strike = 0, years = 0, vol = 0, price = 0, rate = 0, dividend = 0;
};

double parse_number(const std::string& name, const std::optional<std::string>& text) {
  if (!text || text->empty()) throw UsageError{"--" + name + " needs a value"};
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text->c_str(), &end);
  if (end == text->c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(value)) {
    throw UsageError{"--" + name + ": not a finite number: '" + *text + "'"};
  }
  return value;
}

double parse_optional(const std::string& name, const std::optional<std::string>& text) {
  return text ? parse_number(name, text) : 0.0;
}

Inputs validate(const PriceConfig& c) {
  Inputs in;
  if (c.model != "black76" && c.model != "bs") {
    throw UsageError{"--model must be black76 or bs, not '" + c.model + "'"};
  }
  in.black76 = c.model == "black76";
  if (c.type != "call" && c.type != "put") throw UsageError{"--type must be call or put"};
  in.type = c.type == "call" ? OptionType::call : OptionType::put;
  if (in.black76) {
    if (c.spot) throw UsageError{"--spot is for --model bs; Black-76 takes --forward"};
    if (c.dividend) throw UsageError{"--div is for --model bs"};
    in.underlying = parse_number("forward", c.forward);
    if (!(in.underlying > 0)) throw UsageError{"--forward must be positive"};
  } else {
    if (c.forward) throw UsageError{"--forward is for --model black76; Black-Scholes takes --spot"};
    in.underlying = parse_number("spot", c.spot);
    if (!(in.underlying > 0)) throw UsageError{"--spot must be positive"};
  }
  in.strike = parse_number("strike", c.strike);
  if (!(in.strike > 0)) throw UsageError{"--strike must be positive"};
  in.years = parse_number("expiry-years", c.years);
  if (in.years < 0 || (c.command == "iv" && in.years == 0)) {
    throw UsageError{c.command == "iv" ? "--expiry-years must be positive"
                                       : "--expiry-years must not be negative"};
  }
  in.rate = parse_optional("rate", c.rate);
  in.dividend = parse_optional("div", c.dividend);
  if (c.deribit && (!in.black76 || in.rate != 0)) {
    throw UsageError{"--deribit prices coin-settled options: --model black76 at rate 0"};
  }
  if (c.command == "price") {
    if (c.price) throw UsageError{"price takes --vol; use `greekwire iv` for --price"};
    in.vol = parse_number("vol", c.vol);
    if (in.vol < 0) throw UsageError{"--vol must not be negative"};
  } else {
    if (c.vol) throw UsageError{"iv takes --price, not --vol"};
    in.price = parse_number("price", c.price);
    if (in.price < 0) throw UsageError{"--price must not be negative"};
  }
  return in;
}

pricing::Greeks greeks(const Inputs& in, double vol) {
  return in.black76
             ? pricing::black76_greeks(in.type, in.underlying, in.strike, in.years, vol, in.rate)
             : pricing::black_scholes_greeks(in.type, in.underlying, in.strike, in.years, vol,
                                             in.rate, in.dividend);
}

// Deribit's units: coin price, USD per vol point, USD per day (min(1-day, lifetime)), rho per
// 1 %; vanna and volga per vol point (÷100, ÷100²) for consistency with vega.
pricing::Greeks deribit_units(const Inputs& in, double vol) {
  const pricing::DeribitGreeks d =
      pricing::deribit_greeks(in.type, in.underlying, in.strike, in.years, vol);
  const pricing::Greeks plain = greeks(in, vol);
  pricing::Greeks g;
  g.price = d.mark_price_coin;
  g.delta = d.delta;
  g.gamma = d.gamma;
  g.vega = d.vega;
  g.theta = d.theta;
  g.rho = d.rho;
  g.vanna = plain.vanna / 100.0;
  g.volga = plain.volga / 1e4;
  return g;
}

void print(const PriceConfig& c, const pricing::Greeks& g, std::optional<double> iv) {
  // In Deribit mode the IV is reported in percent, otherwise as a fraction.
  const double iv_shown = iv ? (c.deribit ? *iv * 100.0 : *iv) : 0.0;
  if (c.json) {
    std::printf("{");
    if (iv) std::printf("\"iv\":%.17g,", iv_shown);
    std::printf(
        "\"price\":%.17g,\"delta\":%.17g,\"gamma\":%.17g,\"vega\":%.17g,\"theta\":%.17g,"
        "\"rho\":%.17g,\"vanna\":%.17g,\"volga\":%.17g}\n",
        g.price, g.delta, g.gamma, g.vega, g.theta, g.rho, g.vanna, g.volga);
    return;
  }
  const bool d = c.deribit;
  if (iv) std::printf("%-6s %.12g%s\n", "iv", iv_shown, d ? " %" : "");
  std::printf("%-6s %.12g%s\n", "price", g.price, d ? " coin" : "");
  std::printf("%-6s %.12g\n", "delta", g.delta);
  std::printf("%-6s %.12g%s\n", "gamma", g.gamma, d ? " per USD" : "");
  std::printf("%-6s %.12g%s\n", "vega", g.vega, d ? " USD per vol point" : " per 1.00 vol");
  std::printf("%-6s %.12g%s\n", "theta", g.theta, d ? " USD per day" : " per year");
  std::printf("%-6s %.12g%s\n", "rho", g.rho, d ? " USD per 1 %" : " per 1.00 rate");
  std::printf("%-6s %.12g%s\n", "vanna", g.vanna, d ? " per vol point" : "");
  std::printf("%-6s %.12g%s\n", "volga", g.volga, d ? " per vol point²" : "");
}

int run(const PriceConfig& c) {
  const std::string name = "greekwire " + c.command;
  Inputs in;
  try {
    in = validate(c);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), e.message.c_str());
    return 2;
  }
  std::optional<double> iv;
  double vol = in.vol;
  if (c.command == "iv") {
    // With --deribit the price is in coin: the USD Black-76 price is price·F.
    const double usd = c.deribit ? in.price * in.underlying : in.price;
    const pricing::IvResult r =
        in.black76 ? pricing::implied_vol_black76(in.type, usd, in.underlying, in.strike, in.years,
                                                  in.rate)
                   : pricing::implied_vol_black_scholes(in.type, usd, in.underlying, in.strike,
                                                        in.years, in.rate, in.dividend);
    if (!r.ok()) {
      const std::string_view why = pricing::to_string(r.error);
      std::fprintf(stderr, "%s: %.*s\n", name.c_str(), static_cast<int>(why.size()), why.data());
      return r.error == pricing::IvError::bad_input ? 2 : 1;
    }
    vol = r.vol;
    iv = r.vol;
  }
  print(c, c.deribit ? deribit_units(in, vol) : greeks(in, vol), iv);
  return 0;
}

void add_common_options(CLI::App* cmd, PriceConfig& c) {
  auto text = [cmd](const std::string& flag, std::optional<std::string>& target,
                    const std::string& help) {
    cmd->add_option(flag, target, help)->expected(0, 1);
  };
  cmd->add_option("--model", c.model, "black76 (on the forward) or bs (Black-Scholes on spot)")
      ->capture_default_str();
  cmd->add_option("--type", c.type, "call or put");
  text("--forward", c.forward, "forward price F (Black-76)");
  text("--spot", c.spot, "spot price S (Black-Scholes)");
  text("--strike", c.strike, "strike K");
  text("--expiry-years", c.years, "time to expiry T in years (ACT/365)");
  text("--rate", c.rate, "continuously compounded rate r (default 0)");
  text("--div", c.dividend, "continuous dividend or foreign rate q (Black-Scholes; default 0)");
  cmd->add_flag("--json", c.json, "print one JSON object");
  cmd->add_flag("--deribit", c.deribit,
                "Deribit units: coin price, USD per vol point, USD per day, IV in percent");
}

}  // namespace

void add_price_commands(CLI::App& app, CommandRunner& runner) {
  auto price_config = std::make_shared<PriceConfig>();
  price_config->command = "price";
  CLI::App* price = app.add_subcommand("price", "option price and Greeks (Black-76 or BSM)");
  add_common_options(price, *price_config);
  price->add_option("--vol", price_config->vol, "volatility σ as a fraction (0.6 = 60 %)")
      ->expected(0, 1);
  price->add_option("--price", price_config->price, "(not for price: see `greekwire iv`)")
      ->expected(0, 1);
  price->callback(
      [price_config, &runner] { runner = [price_config] { return run(*price_config); }; });

  auto iv_config = std::make_shared<PriceConfig>();
  iv_config->command = "iv";
  CLI::App* iv = app.add_subcommand("iv", "implied volatility (and Greeks at it) from a price");
  add_common_options(iv, *iv_config);
  iv->add_option("--price", iv_config->price,
                 "option price (USD, or coin with --deribit), discounted")
      ->expected(0, 1);
  iv->add_option("--vol", iv_config->vol, "(not for iv)")->expected(0, 1);
  iv->callback([iv_config, &runner] { runner = [iv_config] { return run(*iv_config); }; });
}

}  // namespace gw::app
