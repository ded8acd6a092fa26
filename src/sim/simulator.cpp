#include "sim/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "pricing/deribit.hpp"

namespace gw::sim {

namespace {

constexpr double kMsPerYear = pricing::kDeribitMsPerYear;
constexpr TimestampMs kEightHoursMs = 8 * 3'600'000;
// The funding dead band and cap of the perpetual (fractions per 8 hours) [U: Deribit's values
// have changed over time].
constexpr double kFundingDamper = 0.00025;
constexpr double kFundingCap = 0.005;

// RNG streams: one per component, so that components do not shift each other's draws.
enum Stream : std::uint64_t {
  kMakerStream = 1,
  kNoiseStream = 2,
  kIndexStream = 16,    // + currency
  kSurfaceStream = 32,  // + currency
  kChainStream = 48,    // + currency
  kPremiumStream = 64,  // + currency
};

std::int64_t ms_to_us(TimestampMs ms) {
  return ms * 1000;
}

pricing::OptionType pricing_type(market::OptionType t) {
  return t == market::OptionType::put ? pricing::OptionType::put : pricing::OptionType::call;
}

}  // namespace

struct Simulator::CurrencyState {
  CurrencyState(Currency c, const CurrencyConfig& cfg, std::uint64_t seed, TimestampMs start)
      : currency(c),
        config(cfg),
        index(cfg.index, Rng::stream(seed, kIndexStream + static_cast<std::uint64_t>(c))),
        surface(cfg.surface, index,
                Rng::stream(seed, kSurfaceStream + static_cast<std::uint64_t>(c))),
        chain(c, cfg.chain, Rng::stream(seed, kChainStream + static_cast<std::uint64_t>(c)), start),
        premium_rng(Rng::stream(seed, kPremiumStream + static_cast<std::uint64_t>(c))) {}

  Currency currency;
  CurrencyConfig config;
  IndexProcess index;
  SurfaceModel surface;
  Chain chain;
  Rng premium_rng;
  double published_index = 0;
  std::uint64_t version = 1;  // bumped whenever the index or the surface moves
  double premium = 0;         // the perpetual's, fraction of the index
  double current_funding = 0;
  double funding_8h = 0;
  double interest_value = 0;
  std::int64_t funding_period = std::numeric_limits<std::int64_t>::min();
  InstrumentId perpetual = 0;
  std::vector<InstrumentId> instruments;                      // active, ascending
  std::vector<std::pair<TimestampMs, InstrumentId>> futures;  // dated, by expiry
  std::vector<TimestampMs> option_expiries;                   // active, ascending
  std::vector<Transfer> transfers;                            // scratch
  mutable std::vector<ExpiryModel> models;                    // cache per expiry
};

Simulator::Simulator(const VenueConfig& config, VenueSink& out)
    : config_(config),
      out_(out),
      registry_(
          market::ListingRules{config.future_expiries, config.option_expiries, config.strikes, 1}),
      maker_(config.maker, Rng::stream(config.seed, kMakerStream)),
      noise_(config.noise, Rng::stream(config.seed, kNoiseStream)) {
  market::EngineConfig ec;
  ec.margin = config.margin;
  ec.expected_orders = 1 << 15;
  engine_ = std::make_unique<market::Engine>(static_cast<market::EventSink&>(*this), ec);
  now_us_ = ms_to_us(config.start_ms);
  for (Currency c : market::kCurrencies) {
    if (std::find(config.currencies.begin(), config.currencies.end(), c) ==
        config.currencies.end()) {
      continue;
    }
    currencies_.push_back(
        std::make_unique<CurrencyState>(c, config.currency(c), config.seed, config.start_ms));
  }
}

Simulator::~Simulator() = default;

// ---- Opening ----------------------------------------------------------------------------------

void Simulator::open() {
  if (open_) return;
  open_ = true;
  for (auto& cs : currencies_) cs->published_index = std::round(cs->index.price() * 100) / 100;
  roll(false);
  for (auto& cs : currencies_) engine_->set_index(cs->currency, cs->published_index, now_ms());
  for (auto& cs : currencies_) {
    for (InstrumentId id : cs->instruments) requote(*cs, states_[id]);
  }
  const TimestampMs now = now_ms();
  for (std::uint32_t i = 0; i < currencies_.size(); ++i) {
    schedule(ms_to_us(now + config_.index_interval_ms), Task::index, i);
    schedule(
        now_us_ + static_cast<std::int64_t>(
                      currencies_[i]->chain.next_interval_seconds(config_.chain_speedup) * 1e6),
        Task::block, i);
  }
  schedule(now_us_, Task::ticker, 0);
  schedule(now_us_, Task::surface, 0);
  const TimestampMs roll = config_.roll_interval_ms;
  schedule(ms_to_us((now / roll + 1) * roll), Task::roll, 0);
  if (const TimestampMs funding = config_.funding_interval_ms; funding > 0) {
    schedule(ms_to_us((now / funding + 1) * funding), Task::funding, 0);
  }
}

// ---- Scheduling -------------------------------------------------------------------------------

void Simulator::schedule(std::int64_t at_us, Task task, std::uint32_t arg) {
  queue_.push({std::max(at_us, now_us_), next_seq_++, task, arg});
}

TimestampMs Simulator::next_event_ms() const {
  const std::int64_t heap =
      queue_.empty() ? std::numeric_limits<std::int64_t>::max() : queue_.top().at_us;
  const std::int64_t next = std::min(heap, next_noise_us_);
  return next == std::numeric_limits<std::int64_t>::max() ? std::numeric_limits<TimestampMs>::max()
                                                          : next / 1000;
}

std::size_t Simulator::run_until(TimestampMs t) {
  const std::int64_t until = ms_to_us(t) + 999;  // every task within millisecond t
  std::size_t n = 0;
  for (;; ++n) {
    const bool heap = !queue_.empty() && queue_.top().at_us <= next_noise_us_;
    if ((heap ? queue_.top().at_us : next_noise_us_) > until || !step()) break;
  }
  now_us_ = std::max(now_us_, ms_to_us(t));
  return n;
}

bool Simulator::step() {
  const bool heap = !queue_.empty() && queue_.top().at_us <= next_noise_us_;
  if (heap) {
    const Scheduled s = queue_.top();
    queue_.pop();
    now_us_ = std::max(now_us_, s.at_us);
    run(s);
    return true;
  }
  if (next_noise_us_ == std::numeric_limits<std::int64_t>::max()) return false;
  now_us_ = std::max(now_us_, next_noise_us_);
  noise_event();
  return true;
}

void Simulator::run(const Scheduled& s) {
  ++counters_.tasks;
  switch (s.task) {
    case Task::index:
      index_step(*currencies_[s.arg]);
      schedule(now_us_ + ms_to_us(config_.index_interval_ms), Task::index, s.arg);
      break;
    case Task::ticker:
      publish_tickers();
      schedule(now_us_ + ms_to_us(config_.ticker_interval_ms), Task::ticker, 0);
      break;
    case Task::surface:
      for (auto& cs : currencies_) publish_surface(*cs);
      schedule(now_us_ + ms_to_us(config_.surface_interval_ms), Task::surface, 0);
      break;
    case Task::funding:
      book_funding();
      schedule(now_us_ + ms_to_us(config_.funding_interval_ms), Task::funding, 0);
      break;
    case Task::roll:
      roll(true);
      schedule(now_us_ + ms_to_us(config_.roll_interval_ms), Task::roll, 0);
      break;
    case Task::block: {
      CurrencyState& cs = *currencies_[s.arg];
      mine_block(cs);
      const double wait = cs.chain.next_interval_seconds(config_.chain_speedup);
      schedule(now_us_ + std::max<std::int64_t>(static_cast<std::int64_t>(wait * 1e6), 1),
               Task::block, s.arg);
      break;
    }
  }
}

// ---- Index, funding, requotes -----------------------------------------------------------------

void Simulator::index_step(CurrencyState& cs) {
  const double years = static_cast<double>(config_.index_interval_ms) / kMsPerYear;
  cs.index.step(years);
  cs.surface.step(years, cs.index);

  // The perpetual's premium: OU around zero; funding from it with Deribit's dead band.
  const double half_life = cs.config.perp_premium_half_life_hours / (24 * 365.0);
  const double decay = std::exp(-std::log(2.0) / half_life * years);
  cs.premium = cs.premium * decay + cs.config.perp_premium_stdev * std::sqrt(1 - decay * decay) *
                                        cs.premium_rng.normal();
  cs.current_funding =
      std::clamp(std::max(kFundingDamper, cs.premium) + std::min(-kFundingDamper, cs.premium),
                 -kFundingCap, kFundingCap);
  const double dt_8h = static_cast<double>(config_.index_interval_ms) / kEightHoursMs;
  cs.funding_8h += (cs.current_funding - cs.funding_8h) * -std::expm1(-dt_8h);
  const std::int64_t period = now_ms() / kEightHoursMs;
  if (period != cs.funding_period) {
    cs.funding_period = period;
    cs.interest_value = 0;
  }
  cs.interest_value += cs.current_funding * dt_8h;

  cs.published_index = std::round(cs.index.price() * 100) / 100;
  ++cs.version;  // what was computed from the old index and surface is stale now
  engine_->set_index(cs.currency, cs.published_index, now_ms());
  accrue_funding(cs);
  for (InstrumentId id : cs.instruments) requote(cs, states_[id]);
}

// Deribit accrues funding continuously on the position's value at the index: over one index
// step a long of q USD pays q / index × current_funding × (step / 8 h) coin (a short receives
// it). The engine keeps the running sum per USD; positions book it when they trade, at expiry,
// and every funding_interval_ms (book_funding).
void Simulator::accrue_funding(const CurrencyState& cs) {
  if (!active(cs.perpetual) || !(cs.published_index > 0)) return;
  const double dt_8h = static_cast<double>(config_.index_interval_ms) / kEightHoursMs;
  engine_->accrue_funding(cs.perpetual, cs.current_funding * dt_8h / cs.published_index);
}

void Simulator::book_funding() {
  for (const auto& cs : currencies_) {
    if (active(cs->perpetual)) engine_->book_funding(cs->perpetual, now_ms());
  }
}

const Simulator::ExpiryModel& Simulator::expiry_model(const CurrencyState& cs,
                                                      TimestampMs expiry) const {
  ExpiryModel* m = nullptr;
  for (ExpiryModel& e : cs.models) {
    if (e.expiry == expiry) m = &e;
  }
  if (m == nullptr) {
    cs.models.emplace_back();
    m = &cs.models.back();
    m->expiry = expiry;
  }
  if (m->at_us != now_us_ || m->version != cs.version) {
    m->at_us = now_us_;
    m->version = cs.version;
    m->years = pricing::deribit_years_to_expiry(now_ms(), expiry);
    m->forward = cs.published_index * std::exp(cs.config.basis_rate * m->years);
    m->slice = cs.surface.slice(m->years);
  }
  return *m;
}

double Simulator::fair_value(const CurrencyState& cs, const market::Instrument& i) const {
  if (i.perpetual) return cs.published_index * (1 + cs.premium);
  const ExpiryModel& m = expiry_model(cs, i.expiration_ms);
  if (i.kind == market::Kind::future) return m.forward;
  const double vol = m.slice.implied_vol(std::log(i.strike / m.forward));
  return option_value(pricing_type(i.option_type), m.forward, i.strike, m.years, vol).price;
}

const Simulator::InstrumentState& Simulator::model(const CurrencyState& cs,
                                                   const InstrumentState& s) const {
  if (s.model_at_us == now_us_ && s.model_version == cs.version) return s;
  s.model_at_us = now_us_;
  s.model_version = cs.version;
  const market::Instrument& i = *s.instrument;
  if (i.kind == market::Kind::option) {
    const ExpiryModel& m = expiry_model(cs, i.expiration_ms);
    s.vol = m.slice.implied_vol(std::log(i.strike / m.forward));
    const OptionValue v =
        option_value(pricing_type(i.option_type), m.forward, i.strike, m.years, s.vol);
    s.fair = v.price;
    s.vega = v.vega;
  } else {
    s.fair = fair_value(cs, i);
  }
  return s;
}

void Simulator::requote(CurrencyState& cs, InstrumentState& s) {
  if (!s.active) return;
  const market::Instrument& i = *s.instrument;
  model(cs, s);
  const double fair = s.fair;
  const double half = i.kind == market::Kind::option ? config_.maker.option_half_spread_vol * s.vega
                                                     : config_.maker.future_half_spread * fair;
  if (NoiseTraders::Market* m = noise_.market(i.id)) m->reference_ticks = fair / i.price_unit;
  const Quote q = make_quote(s.grid, fair / i.price_unit, half / i.price_unit);
  maker_.requote(*engine_, s.maker, q, s.quote_size, now_ms());
}

// ---- Tickers, surfaces, blocks ----------------------------------------------------------------

TickerInputs Simulator::ticker_inputs(const CurrencyState& cs, const InstrumentState& s) const {
  const market::Instrument& i = *s.instrument;
  TickerInputs in;
  in.index = cs.published_index;
  if (i.kind == market::Kind::option) {
    const ExpiryModel& m = expiry_model(cs, i.expiration_ms);
    in.forward = m.forward;
    in.years = m.years;
    model(cs, s);
    in.model_vol = s.vol;
    in.fair = s.fair;
    for (const auto& [expiry, id] : cs.futures) {
      if (expiry == i.expiration_ms) in.underlying_future = id;
    }
  } else {
    in.fair = model(cs, s).fair;
    in.current_funding = cs.current_funding;
    in.funding_8h = cs.funding_8h;
    in.interest_value = cs.interest_value;
  }
  return in;
}

std::optional<Ticker> Simulator::ticker(InstrumentId id) const {
  const InstrumentState* s = state(id);
  if (s == nullptr || !s->active) return std::nullopt;
  const CurrencyState* cs = currency_state(s->instrument->currency);
  if (cs == nullptr) return std::nullopt;
  return make_ticker(*s->instrument, *engine_->book(id), ticker_inputs(*cs, *s), s->stats,
                     s->open_interest, now_ms());
}

std::optional<OptionMarket> Simulator::option_market(InstrumentId id) const {
  const InstrumentState* s = state(id);
  if (s == nullptr || !s->active || s->instrument->kind != market::Kind::option) {
    return std::nullopt;
  }
  const CurrencyState* cs = currency_state(s->instrument->currency);
  if (cs == nullptr) return std::nullopt;
  const TickerInputs in = ticker_inputs(*cs, *s);
  const MarkAndGreeks value = mark_and_greeks(*s->instrument, *engine_->book(id), in);
  return OptionMarket{id, value.mark_iv, in.forward, value.greeks};
}

TimestampMs Simulator::closest_expiry(Currency c) const {
  const CurrencyState* cs = currency_state(c);
  if (cs == nullptr) return 0;
  TimestampMs first = cs->option_expiries.empty() ? 0 : cs->option_expiries.front();
  for (const auto& [expiry, id] : cs->futures) {
    if (first == 0 || expiry < first) first = expiry;
  }
  return first;
}

PortfolioRisk Simulator::account_positions(AccountId account, Currency currency,
                                           std::vector<PositionSnapshot>& positions,
                                           std::vector<OptionMarket>& option_markets) const {
  positions.clear();
  option_markets.clear();
  PortfolioRisk risk;
  const market::Account* a = engine_->account(account);
  if (a == nullptr) return risk;
  const TimestampMs first = closest_expiry(currency);
  for (const market::Position& p : a->positions) {
    if (p.contract == nullptr || p.contract->currency != currency) continue;
    positions.push_back({p.instrument, p.size, p.average_price(), market::mark_or_average(p),
                         market::floating_pnl(p), p.realized});
    const market::Instrument* instrument = registry_.find(p.instrument);
    if (instrument == nullptr) continue;
    const TickerGreeks* greeks = nullptr;
    if (p.size != 0 && instrument->kind == market::Kind::option) {
      // The option's market now: a handful of Black-76 evaluations (an IV solve when the mark
      // is clamped into the book); accounts hold few positions.
      if (const std::optional<OptionMarket> m = option_market(p.instrument)) {
        option_markets.push_back(*m);
        greeks = &option_markets.back().greeks;
      }
    }
    const bool expires_first = !instrument->perpetual && instrument->expiration_ms == first;
    add_position_risk(risk, *instrument, positions.back(), greeks, expires_first);
  }
  return risk;
}

void Simulator::publish_tickers() {
  for (auto& cs : currencies_) {
    for (InstrumentId id : cs->instruments) {
      const InstrumentState& s = states_[id];
      const Ticker t = make_ticker(*s.instrument, *engine_->book(id), ticker_inputs(*cs, s),
                                   s.stats, s.open_interest, now_ms());
      engine_->set_mark(id, t.mark_price, now_ms());
      ++counters_.tickers;
      emit<Ticker>(t);
    }
  }
}

void Simulator::publish_surface(CurrencyState& cs) {
  SurfaceSnapshot snap;
  snap.timestamp = now_ms();
  snap.currency = cs.currency;
  snap.index_price = cs.published_index;
  snap.params = cs.surface.ssvi();
  for (TimestampMs expiry : cs.option_expiries) {
    const ExpiryModel& m = expiry_model(cs, expiry);
    const double atm = m.years > 0 ? std::sqrt(m.slice.theta / m.years) : 0;
    snap.expiries.push_back({expiry, m.years, m.forward, m.slice.theta, atm});
  }
  emit<SurfaceSnapshot>(std::move(snap));
}

void Simulator::mine_block(CurrencyState& cs) {
  const Block& b = cs.chain.mine(now_ms(), cs.published_index, cs.transfers);
  ++counters_.blocks;
  emit<Block>(b);
  for (const Transfer& t : cs.transfers) emit<Transfer>(t);
}

// ---- Listing and expiry -----------------------------------------------------------------------

void Simulator::roll(bool quote_new) {
  market::Forwards f;
  if (const CurrencyState* cs = currency_state(Currency::BTC)) f.btc = cs->published_index;
  if (const CurrencyState* cs = currency_state(Currency::ETH)) f.eth = cs->published_index;
  const market::RollResult r = registry_.roll(now_ms(), f);
  for (InstrumentId id : r.expired) close_instrument(id);
  for (InstrumentId id : r.created) list_instrument(id);
  if (quote_new) {
    for (InstrumentId id : r.created) {
      InstrumentState* s = state(id);
      if (s != nullptr && s->active) requote(*currency_state(s->instrument->currency), *s);
    }
  }
  // The noise rates follow the moneyness and the listing: redraw the next noise event (the
  // process is memoryless, so this is exact).
  for (const auto& cs : currencies_) update_noise_weights(*cs);
  schedule_noise();
}

void Simulator::update_noise_weights(const CurrencyState& cs) {
  const NoiseParams& p = noise_.params();
  double sums[2] = {0, 0};
  int counts[2] = {0, 0};
  std::vector<std::pair<InstrumentId, double>> weights;
  for (InstrumentId id : cs.instruments) {
    const market::Instrument& i = *states_[id].instrument;
    double w = 1;
    if (i.perpetual) {
      w = p.perpetual_weight;
    } else if (i.kind == market::Kind::option) {
      const ExpiryModel& m = expiry_model(cs, i.expiration_ms);
      const double years = std::max(m.years, 1.0 / 365);
      const double atm = std::max(m.slice.implied_vol(0), 0.05);
      const double d = std::log(i.strike / m.forward) / (atm * std::sqrt(years));
      w = (p.option_weight_floor + std::exp(-0.5 * d * d)) / (1 + p.option_expiry_decay * years);
    }
    const int kind = i.kind == market::Kind::option ? 1 : 0;
    sums[kind] += w;
    ++counts[kind];
    weights.emplace_back(id, w);
  }
  for (const auto& [id, w] : weights) {
    const int kind = states_[id].instrument->kind == market::Kind::option ? 1 : 0;
    noise_.set_weight(id, w * counts[kind] / sums[kind]);  // mean 1 per kind
  }
}

void Simulator::list_instrument(InstrumentId id) {
  const market::Instrument* i = registry_.find(id);
  if (i == nullptr) return;
  CurrencyState* cs = currency_state(i->currency);
  if (cs == nullptr) return;  // a currency this market does not simulate
  if (!engine_->add_instrument(*i)) return;
  if (states_.size() <= id) states_.resize(id + 1);
  InstrumentState& s = states_[id];
  s.instrument = i;
  s.active = true;
  s.grid = market::TickGrid::from(*i);
  const bool option = i->kind == market::Kind::option;
  const CurrencyConfig& cc = cs->config;
  s.quote_size = (option ? cc.option_quote_amount : cc.future_quote_amount) / i->amount_unit;
  s.maker.instrument = id;
  s.maker.account = kMakerAccountBase + id;
  NoiseTraders::Market nm;
  nm.instrument = id;
  nm.first_account = kNoiseAccountBase + id * noise_.params().accounts_per_instrument;
  nm.mean_lots = (option ? cc.option_order_amount : cc.future_order_amount) / i->amount_unit;
  nm.grid = s.grid;
  nm.option = option;

  engine_->deposit(s.maker.account, i->currency, config_.maker.deposit, now_ms());
  for (std::uint32_t j = 0; j < noise_.params().accounts_per_instrument; ++j) {
    engine_->deposit(nm.first_account + j, i->currency, config_.maker.deposit, now_ms());
  }
  noise_.add(nm);
  cs->instruments.insert(std::upper_bound(cs->instruments.begin(), cs->instruments.end(), id), id);
  if (i->perpetual) {
    cs->perpetual = id;
  } else if (i->kind == market::Kind::future) {
    cs->futures.emplace_back(i->expiration_ms, id);
  } else {
    auto& e = cs->option_expiries;
    const auto at = std::lower_bound(e.begin(), e.end(), i->expiration_ms);
    if (at == e.end() || *at != i->expiration_ms) e.insert(at, i->expiration_ms);
  }
  emit<InstrumentListed>(InstrumentListed{now_ms(), std::make_shared<market::Instrument>(*i)});
}

void Simulator::close_instrument(InstrumentId id) {
  InstrumentState* s = state(id);
  if (s == nullptr || !s->active) return;
  s->active = false;
  s->stats = TradeStats{};  // no ticker reads them any more: give their day of buckets back
  maker_.cancel(*engine_, s->maker, now_ms());
  noise_.remove(id);
  for (std::uint32_t j = 0; j < noise_.params().accounts_per_instrument; ++j) {
    market::CancelAll c;
    c.account = kNoiseAccountBase + id * noise_.params().accounts_per_instrument + j;
    c.instrument = id;
    c.timestamp = now_ms();
    engine_->cancel_all(c);
  }
  // Whatever still rests on it (external accounts' orders) is cancelled as settled.
  engine_->close_instrument(id, now_ms());
  CurrencyState& cs = *currency_state(s->instrument->currency);
  // Every position is settled at the delivery price: the index as published at the expiry
  // (Deribit's is a 30-minute average of the index before it).
  engine_->settle_instrument(id, cs.published_index, now_ms());
  std::erase(cs.instruments, id);
  std::erase_if(cs.futures, [id](const auto& f) { return f.second == id; });
  const TimestampMs expiry = s->instrument->expiration_ms;
  if (s->instrument->kind == market::Kind::option) {
    // The expiry stays while another option of it is active.
    const bool any = std::any_of(cs.instruments.begin(), cs.instruments.end(), [&](InstrumentId o) {
      const market::Instrument& x = *states_[o].instrument;
      return x.kind == market::Kind::option && x.expiration_ms == expiry;
    });
    if (!any) {
      std::erase(cs.option_expiries, expiry);
      std::erase_if(cs.models, [expiry](const ExpiryModel& m) { return m.expiry == expiry; });
    }
  }
  emit<InstrumentClosed>(InstrumentClosed{now_ms(), id});
}

// ---- Noise traders ----------------------------------------------------------------------------

void Simulator::schedule_noise() {
  const double rate = noise_.rate();
  next_noise_us_ = rate > 0 ? now_us_ + static_cast<std::int64_t>(noise_.next_interval(rate) * 1e6)
                            : std::numeric_limits<std::int64_t>::max();
}

void Simulator::noise_event() {
  noise_.act(*engine_, now_ms());
  schedule_noise();
}

// ---- Engine events ----------------------------------------------------------------------------

template <class T, class... Args>
void Simulator::emit(Args&&... args) {
  const VenueEvent e{std::in_place_type<T>, std::forward<Args>(args)...};
  ++counters_.published;
  out_.on_event(e);
}

void Simulator::on_event(const market::Event& event) {
  ++counters_.engine_events;
  std::visit([this](const auto& e) { handle(e); }, event);
}

void Simulator::handle(const market::OrderUpdate& e) {
  ++counters_.order_updates;
  if (is_sim_account(e.account)) {
    if (e.account >= kNoiseAccountBase) {
      noise_.on_order(e);
    } else if (InstrumentState* s = state(e.instrument)) {
      MarketMaker::on_order(s->maker, e);
    }
    if (!config_.publish_sim_accounts) return;
  }
  emit<OwnedOrderUpdate>(e);
}

void Simulator::handle(const market::Trade& e) {
  ++counters_.trades;
  if (InstrumentState* s = state(e.instrument)) {
    const double amount = s->instrument->to_amount(e.amount);
    // Futures amounts are USD already; options are coin, valued at the index.
    const double usd =
        s->instrument->kind == market::Kind::future ? amount : amount * e.index_price;
    s->stats.on_trade(e.timestamp, e.price, e.amount, usd);
  }
  emit<market::Trade>(e);
}

void Simulator::handle(const market::BookChange& e) {
  ++counters_.book_changes;
  emit<OwnedBookChange>(e);
}

void Simulator::handle(const market::PositionUpdate& e) {
  // Open interest = Σ long positions: follow each (account, instrument)'s size.
  const std::uint64_t key = ((std::uint64_t{e.account} << 32) | e.instrument) + 1;
  std::uint32_t slot = position_index_.find(key);
  if (slot == market::IdMap::kMissing) {
    slot = static_cast<std::uint32_t>(position_sizes_.size());
    position_index_.insert(key, slot);
    position_sizes_.push_back(0);
  }
  Lots& size = position_sizes_[slot];
  if (InstrumentState* s = state(e.instrument)) {
    s->open_interest += std::max<Lots>(e.size, 0) - std::max<Lots>(size, 0);
  }
  size = e.size;
  if (is_sim_account(e.account) && !config_.publish_sim_accounts) return;
  emit<market::PositionUpdate>(e);
}

// The engine knows balances and margins but not Greeks, which need the options' markets: they
// are computed here, where the books and the model are, and travel in the event. The
// alternative, a publisher that mirrors every account's positions and prices them from the
// last tickers it saw, would cost a map update per PositionUpdate, lose the mirror on a
// StreamGap, and lag the model by up to a ticker interval; here the cost is paid only on
// portfolio changes of published accounts (fills, deposits, funding, settlement: rare next to
// book and ticker traffic), a few Black-76 evaluations per open option, no allocation once the
// scratch vectors have grown, and the figures are those get_account_summary would answer at
// this point of the stream.
void Simulator::handle(const market::PortfolioUpdate& e) {
  if (is_sim_account(e.account) && !config_.publish_sim_accounts) return;
  const PortfolioRisk risk =
      account_positions(e.account, e.currency, portfolio_positions_, portfolio_markets_);
  emit<Portfolio>(Portfolio{e, risk});
}

void Simulator::handle(const market::IndexPrice& e) {
  emit<market::IndexPrice>(e);
}

void Simulator::handle(const market::MarkPrice& e) {
  emit<market::MarkPrice>(e);
}

void Simulator::handle(const market::Settlement& e) {
  if (is_sim_account(e.account) && !config_.publish_sim_accounts) return;
  emit<market::Settlement>(e);
}

// ---- External commands ------------------------------------------------------------------------

market::Result Simulator::place(market::PlaceOrder order) {
  if (!allowed(order.account)) return {market::Error::invalid_arguments};
  if (!active(order.instrument)) return {market::Error::invalid_or_unsupported_instrument};
  order.timestamp = now_ms();
  return engine_->place(order);
}

market::Result Simulator::edit(market::EditOrder edit) {
  if (!allowed(edit.account)) return {market::Error::invalid_arguments};
  edit.timestamp = now_ms();
  return engine_->edit(edit);
}

market::Result Simulator::cancel(market::CancelOrder cancel) {
  if (!allowed(cancel.account)) return {market::Error::invalid_arguments};
  cancel.timestamp = now_ms();
  return engine_->cancel(cancel);
}

market::Result Simulator::cancel_all(market::CancelAll cancel) {
  if (!allowed(cancel.account)) return {market::Error::invalid_arguments};
  cancel.timestamp = now_ms();
  return engine_->cancel_all(cancel);
}

bool Simulator::deposit(AccountId account, Currency currency, double amount) {
  if (!allowed(account) || !std::isfinite(amount)) return false;
  engine_->deposit(account, currency, amount, now_ms());
  return true;
}

// ---- Queries ----------------------------------------------------------------------------------

Simulator::CurrencyState* Simulator::currency_state(Currency c) {
  for (auto& cs : currencies_) {
    if (cs->currency == c) return cs.get();
  }
  return nullptr;
}

const Simulator::CurrencyState* Simulator::currency_state(Currency c) const {
  for (const auto& cs : currencies_) {
    if (cs->currency == c) return cs.get();
  }
  return nullptr;
}

Simulator::InstrumentState* Simulator::state(InstrumentId id) {
  return id < states_.size() && states_[id].instrument != nullptr ? &states_[id] : nullptr;
}

const Simulator::InstrumentState* Simulator::state(InstrumentId id) const {
  return id < states_.size() && states_[id].instrument != nullptr ? &states_[id] : nullptr;
}

bool Simulator::active(InstrumentId id) const {
  const InstrumentState* s = state(id);
  return s != nullptr && s->active;
}

bool Simulator::has_currency(Currency c) const {
  return currency_state(c) != nullptr;
}

double Simulator::index_price(Currency c) const {
  const CurrencyState* cs = currency_state(c);
  return cs != nullptr ? cs->published_index : 0;
}

double Simulator::forward(Currency c, TimestampMs expiry) const {
  const CurrencyState* cs = currency_state(c);
  return cs != nullptr ? expiry_model(*cs, expiry).forward : 0;
}

const SurfaceModel& Simulator::surface(Currency c) const {
  return currency_state(c)->surface;
}

const MarketMaker::Book* Simulator::maker_book(InstrumentId id) const {
  const InstrumentState* s = state(id);
  return s != nullptr ? &s->maker : nullptr;
}

const std::vector<InstrumentId>& Simulator::instruments(Currency c) const {
  static const std::vector<InstrumentId> kNone;
  const CurrencyState* cs = currency_state(c);
  return cs != nullptr ? cs->instruments : kNone;
}

}  // namespace gw::sim
