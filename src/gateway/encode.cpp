#include "gateway/encode.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "pricing/deribit.hpp"
#include "pricing/surface.hpp"

namespace gw::gateway {

// ---- Small helpers ----------------------------------------------------------------------------

IdText format_id(market::Currency currency, std::uint64_t number) {
  IdText id;
  const std::string_view prefix = market::to_string(currency);
  std::memcpy(id.chars.data(), prefix.data(), prefix.size());
  id.chars[prefix.size()] = '-';
  char* const digits = id.chars.data() + prefix.size() + 1;
  const auto result = std::to_chars(digits, id.chars.data() + id.chars.size(), number);
  id.size = static_cast<std::size_t>(result.ptr - id.chars.data());
  return id;
}

std::optional<ParsedId> parse_id(std::string_view text) {
  if (text.size() < 5 || text[3] != '-') return std::nullopt;
  ParsedId id;
  const std::string_view prefix = text.substr(0, 3);
  if (prefix == "BTC") {
    id.currency = market::Currency::BTC;
  } else if (prefix == "ETH") {
    id.currency = market::Currency::ETH;
  } else {
    return std::nullopt;
  }
  const std::string_view digits = text.substr(4);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  // from_chars accepts no sign for unsigned types; it stops at the first non-digit.
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), id.number);
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) return std::nullopt;
  return id;
}

std::string_view index_name(market::Currency currency) {
  return currency == market::Currency::BTC ? "btc_usd" : "eth_usd";
}

double contracts_of(const market::Instrument& instrument, double amount) {
  return instrument.contract_size > 0 ? amount / instrument.contract_size : amount;
}

ShortText<48> underlying_index(const market::Instrument& option, bool future_listed) {
  // "BTC-27DEC26-100000-C" → "BTC-27DEC26": everything before the second '-'.
  const std::string_view name = option.name;
  const std::size_t first = name.find('-');
  const std::size_t second = first == std::string_view::npos ? first : name.find('-', first + 1);
  const std::string_view future = name.substr(0, second);
  const std::string_view prefix = future_listed ? "" : "SYN.";
  ShortText<48> out;
  const std::size_t n = std::min(future.size(), out.chars.size() - prefix.size());
  std::memcpy(out.chars.data(), prefix.data(), prefix.size());
  std::memcpy(out.chars.data() + prefix.size(), future.data(), n);
  out.size = prefix.size() + n;
  return out;
}

namespace {

constexpr double kFutureBand = 0.015;  // ± of the mark
constexpr double kOptionBand = 0.04;   // coin, ± the mark

// The nearest grid price at or below (`up` false) or at or above (`up` true) `price`.
double onto_tick_grid(const market::Instrument& instrument, double price, bool up) {
  const double units = price / instrument.price_unit;
  // A price already on the grid is kept whatever its floating-point noise.
  market::Ticks t =
      static_cast<market::Ticks>(up ? std::ceil(units - 1e-9) : std::floor(units + 1e-9));
  const market::Ticks tick = instrument.tick_at(t);
  const market::Ticks rest = ((t % tick) + tick) % tick;
  if (rest != 0) t += up ? tick - rest : -rest;
  return instrument.to_price(t);
}

}  // namespace

PriceBand price_band(const market::Instrument& instrument, double mark_price) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (!(mark_price > 0) || !(instrument.price_unit > 0)) return {kNaN, kNaN};
  if (instrument.kind == market::Kind::future) {
    return {onto_tick_grid(instrument, mark_price * (1 - kFutureBand), true),
            onto_tick_grid(instrument, mark_price * (1 + kFutureBand), false)};
  }
  const double floor = instrument.to_price(instrument.tick_at(0));
  const double low = std::max(floor, onto_tick_grid(instrument, mark_price - kOptionBand, true));
  return {low, onto_tick_grid(instrument, mark_price + kOptionBand, false)};
}

double trade_iv(const market::Trade& trade, const market::Instrument& option,
                double underlying_price) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const double forward = underlying_price > 0 ? underlying_price : trade.index_price;
  const double years = pricing::deribit_years_to_expiry(trade.timestamp, option.expiration_ms);
  if (!(forward > 0) || !(years > 0)) return kNaN;
  const pricing::OptionType type = option.option_type == market::OptionType::put
                                       ? pricing::OptionType::put
                                       : pricing::OptionType::call;
  const pricing::DeribitIv iv = pricing::deribit_implied_vol(type, option.to_price(trade.price),
                                                             forward, option.strike, years);
  return iv.ok() ? iv.iv_percent : kNaN;
}

// ---- Tickers ----------------------------------------------------------------------------------

sim::Ticker ticker_from_book(const sim::BookSnapshot& book, const market::Instrument& instrument) {
  sim::Ticker t;
  t.timestamp = book.timestamp;
  t.instrument = instrument.id;
  t.currency = instrument.currency;
  t.kind = instrument.kind;
  if (!book.bids.empty()) {
    t.best_bid_price = book.bids.front().price;
    t.best_bid_amount = book.bids.front().amount;
  }
  if (!book.asks.empty()) {
    t.best_ask_price = book.asks.front().price;
    t.best_ask_amount = book.asks.front().amount;
  }
  return t;
}

OptionMark option_mark(const sim::Ticker& ticker, const market::Instrument& option) {
  return {ticker.timestamp, option.name, ticker.mark_price, ticker.mark_iv / 100};
}

// ---- Positions and accounts -------------------------------------------------------------------

sim::PositionSnapshot position_snapshot(const market::PositionUpdate& u) {
  return {u.instrument, u.size, u.average_price, u.mark_price, u.floating_pnl, u.realized_pnl};
}

PositionContext position_context(const market::Instrument& instrument,
                                 const sim::PositionSnapshot& p, double index_price,
                                 const sim::TickerGreeks* greeks,
                                 const market::MarginParams& margin) {
  // Rebuild the venue's accounting view of the position to use its margin model as is.
  market::Contract contract = market::make_contract(instrument);
  contract.mark = p.mark_price;
  contract.index = index_price;
  market::Position position;
  position.instrument = instrument.id;
  position.contract = &contract;
  position.size = p.size;
  const double amount = instrument.to_amount(p.size < 0 ? -p.size : p.size);
  if (p.average_price > 0) {
    position.entry = instrument.kind == market::Kind::future ? amount / p.average_price
                                                             : amount * p.average_price;
  }
  PositionContext ctx;
  ctx.index_price = index_price;
  if (greeks != nullptr) ctx.greeks = *greeks;
  ctx.initial_margin = market::position_initial_margin(position, margin);
  ctx.maintenance_margin = market::position_maintenance_margin(position, margin);
  return ctx;
}

// ---- Volatility surface -----------------------------------------------------------------------

namespace {

constexpr int kGridHalfWidth = 6;     // strikes each side of the centre
constexpr double kGridLogStep = 0.1;  // ln(K / centre) between grid strikes

// A round step for strikes near `price`: 500 at 65,000, 50 at 3,500.
double strike_step(double price) {
  return std::pow(10.0, std::floor(std::log10(price)) - 1) / 2;
}

// Strikes centre × e^(i·step), i = −6…6, rounded to the step and without duplicates.
std::vector<double> grid_strikes(double centre) {
  std::vector<double> strikes;
  if (!(centre > 0)) return strikes;
  const double step = strike_step(centre);
  for (int i = -kGridHalfWidth; i <= kGridHalfWidth; ++i) {
    const double k = std::round(centre * std::exp(i * kGridLogStep) / step) * step;
    if (k > 0 && (strikes.empty() || k > strikes.back())) strikes.push_back(k);
  }
  return strikes;
}

}  // namespace

SurfaceView make_surface_view(const sim::SurfaceSnapshot& surface) {
  SurfaceView view;
  std::vector<pricing::SsviExpiry> expiries;
  std::vector<double> thetas;
  std::vector<double> years;
  for (const sim::SurfaceExpiry& e : surface.expiries) {
    if (!(e.years > 0) || !(e.forward > 0)) continue;  // expired, or no forward yet
    SurfaceExpiryView v;
    v.expiry = e.expiry;
    v.years = e.years;
    v.forward = e.forward;
    v.theta = e.theta;
    v.svi = pricing::ssvi_to_svi(surface.params, e.theta);
    const double theta[] = {e.theta};
    v.butterfly_free = pricing::check_ssvi_conditions(surface.params, theta).butterfly_free;
    view.expiries.push_back(v);
    expiries.push_back({e.years, e.forward, e.theta});
    thetas.push_back(e.theta);
    years.push_back(e.years);
  }
  view.conditions = pricing::check_ssvi_conditions(surface.params, thetas);
  if (view.expiries.empty()) return view;

  const pricing::VolSurface vol = pricing::VolSurface::from_ssvi(surface.params, expiries);
  for (SurfaceExpiryView& v : view.expiries) {
    const pricing::SmileSummary smile = vol.smile_summary(v.years);
    v.atm_vol = smile.atm * 100;
    v.rr25 = smile.rr25 * 100;
    v.bf25 = smile.bf25 * 100;
  }
  const double centre = surface.index_price > 0 ? surface.index_price : expiries.front().forward;
  view.strikes = grid_strikes(centre);
  const std::vector<std::vector<double>> grid = vol.iv_grid(view.strikes, years);
  view.iv.reserve(view.expiries.size() * view.strikes.size());
  for (const std::vector<double>& row : grid) {
    for (double sigma : row) view.iv.push_back(sigma * 100);
  }
  return view;
}

}  // namespace gw::gateway
