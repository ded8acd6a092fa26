#include "sim/sim_events.hpp"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace gw::sim {

namespace {

// printf into `out` (the lines are short; a larger line is formatted twice).
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void appendf(std::string& out, const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  if (n < 0) return;
  if (static_cast<std::size_t>(n) < sizeof buffer) {
    out.append(buffer, static_cast<std::size_t>(n));
    return;
  }
  const std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(n) + 1);
  va_start(args, format);
  std::vsnprintf(out.data() + at, static_cast<std::size_t>(n) + 1, format, args);
  va_end(args);
  out.resize(at + static_cast<std::size_t>(n));
}

int ccy(Currency c) {
  return static_cast<int>(c);
}

void append_levels(std::string& out, std::span<const market::LevelUpdate> levels) {
  out += '[';
  for (const market::LevelUpdate& l : levels) {
    appendf(out, "%d:%" PRId64 ":%" PRId64 ";", static_cast<int>(l.action), l.price, l.amount);
  }
  out += ']';
}

struct Writer {
  std::string& out;

  void operator()(const OwnedOrderUpdate& e) const {
    const market::OrderUpdate& o = e.order;
    appendf(out,
            "order t=%" PRId64 " c=%" PRId64 " id=%" PRIu64
            " acct=%u ins=%u ccy=%d side=%d "
            "type=%d tif=%d state=%d reason=%d po=%d rpo=%d ro=%d rep=%d px=%" PRId64
            " amt=%" PRId64 " filled=%" PRId64 " avg=%.17g label=",
            o.timestamp, o.created, o.order_id, o.account, o.instrument, ccy(o.currency),
            static_cast<int>(o.side), static_cast<int>(o.type), static_cast<int>(o.time_in_force),
            static_cast<int>(o.state), static_cast<int>(o.cancel_reason), o.post_only,
            o.reject_post_only, o.reduce_only, o.replaced, o.price, o.amount, o.filled,
            o.average_price);
    out.append(e.label());
  }
  void operator()(const market::Trade& e) const {
    appendf(out,
            "trade t=%" PRId64 " id=%" PRIu64 " seq=%" PRIu64
            " ins=%u ccy=%d dir=%d tick=%d "
            "px=%" PRId64 " amt=%" PRId64 " mark=%.17g index=%.17g taker=%" PRIu64
            "/%u/%d maker=%" PRIu64 "/%u/%d fees=%.17g/%.17g pnl=%.17g/%.17g",
            e.timestamp, e.trade_id, e.trade_seq, e.instrument, ccy(e.currency),
            static_cast<int>(e.direction), static_cast<int>(e.tick_direction), e.price, e.amount,
            e.mark_price, e.index_price, e.taker_order, e.taker, static_cast<int>(e.taker_state),
            e.maker_order, e.maker, static_cast<int>(e.maker_state), e.taker_fee, e.maker_fee,
            e.taker_pnl, e.maker_pnl);
  }
  void operator()(const OwnedBookChange& e) const {
    appendf(out,
            "book t=%" PRId64 " ins=%u id=%" PRIu64 " prev=%" PRIu64 " crc=%u bids=", e.timestamp,
            e.instrument, e.change_id, e.prev_change_id, e.checksum);
    append_levels(out, e.bids.span());
    out += " asks=";
    append_levels(out, e.asks.span());
  }
  void operator()(const market::PositionUpdate& e) const {
    appendf(out,
            "position t=%" PRId64 " acct=%u ins=%u size=%" PRId64
            " avg=%.17g mark=%.17g rpl=%.17g fpl=%.17g im=%.17g",
            e.timestamp, e.account, e.instrument, e.size, e.average_price, e.mark_price,
            e.realized_pnl, e.floating_pnl, e.initial_margin);
  }
  void operator()(const Portfolio& p) const {
    const market::PortfolioUpdate& e = p.funds;
    appendf(out,
            "portfolio t=%" PRId64
            " acct=%u ccy=%d bal=%.17g eq=%.17g im=%.17g mm=%.17g "
            "avail=%.17g rpl=%.17g upl=%.17g fees=%.17g",
            e.timestamp, e.account, ccy(e.currency), e.balance, e.equity, e.initial_margin,
            e.maintenance_margin, e.available_funds, e.session_rpl, e.session_upl, e.fees);
    const PortfolioRisk& r = p.risk;
    appendf(out,
            " delta=%.17g/%.17g options=%.17g/%.17g/%.17g/%.17g value=%.17g"
            " by_kind_upl=%.17g/%.17g by_kind_rpl=%.17g/%.17g open=%u/%u",
            r.delta_total, r.projected_delta_total, r.options_delta, r.options_gamma,
            r.options_vega, r.options_theta, r.options_value, r.futures_session_upl,
            r.options_session_upl, r.futures_session_rpl, r.options_session_rpl, r.open_futures,
            r.open_options);
  }
  void operator()(const market::IndexPrice& e) const {
    appendf(out, "index t=%" PRId64 " ccy=%d px=%.17g", e.timestamp, ccy(e.currency), e.price);
  }
  void operator()(const market::MarkPrice& e) const {
    appendf(out, "mark t=%" PRId64 " ins=%u px=%.17g", e.timestamp, e.instrument, e.price);
  }
  void operator()(const Ticker& e) const {
    appendf(out,
            "ticker t=%" PRId64 " ins=%u bid=%" PRId64 "x%" PRId64 " ask=%" PRId64 "x%" PRId64
            " last=%" PRId64 " mark=%.17g index=%.17g oi=%" PRId64 " hi=%" PRId64 " lo=%" PRId64
            " vol=%" PRId64 " volusd=%.17g chg=%.17g",
            e.timestamp, e.instrument, e.best_bid_price, e.best_bid_amount, e.best_ask_price,
            e.best_ask_amount, e.last_price, e.mark_price, e.index_price, e.open_interest,
            e.stats.high, e.stats.low, e.stats.volume, e.stats.volume_usd, e.stats.price_change);
    if (e.kind == market::Kind::option) {
      appendf(out, " und=%.17g fut=%u iv=%.17g/%.17g/%.17g greeks=%.17g/%.17g/%.17g/%.17g/%.17g",
              e.underlying_price, e.underlying_future, e.bid_iv, e.mark_iv, e.ask_iv,
              e.greeks.delta, e.greeks.gamma, e.greeks.vega, e.greeks.theta, e.greeks.rho);
    } else {
      appendf(out, " funding=%.17g/%.17g/%.17g", e.current_funding, e.funding_8h, e.interest_value);
    }
  }
  void operator()(const Block& e) const {
    appendf(out,
            "block t=%" PRId64 " ccy=%d h=%" PRIu64 " txs=%u fee=%" PRIu64 " nonce=%" PRIu64
            " transfers=%u hash=",
            e.timestamp, ccy(e.currency), e.height, e.tx_count, e.fee_rate_milli, e.nonce,
            e.transfer_count);
    out += to_hex(e.hash);
    out += " prev=";
    out += to_hex(e.prev_hash);
  }
  void operator()(const Transfer& e) const {
    appendf(out, "transfer t=%" PRId64 " ccy=%d h=%" PRIu64 " i=%u units=%" PRIu64 " usd=%.17g tx=",
            e.timestamp, ccy(e.currency), e.block_height, e.index, e.amount_units, e.usd_value);
    out += to_hex(e.tx_hash);
    out += " from=";
    out += to_hex(e.from);
    out += " to=";
    out += to_hex(e.to);
  }
  void operator()(const SurfaceSnapshot& e) const {
    appendf(out, "surface t=%" PRId64 " ccy=%d index=%.17g rho=%.17g eta=%.17g gamma=%.17g",
            e.timestamp, ccy(e.currency), e.index_price, e.params.rho, e.params.eta,
            e.params.gamma);
    for (const SurfaceExpiry& x : e.expiries) {
      appendf(out, " %" PRId64 ":%.17g:%.17g", x.expiry, x.forward, x.theta);
    }
  }
  void operator()(const InstrumentListed& e) const {
    appendf(out, "listed t=%" PRId64 " ins=%u ", e.timestamp, e.instrument ? e.instrument->id : 0);
    if (e.instrument) out += e.instrument->name;
  }
  void operator()(const InstrumentClosed& e) const {
    appendf(out, "closed t=%" PRId64 " ins=%u", e.timestamp, e.instrument);
  }
  void operator()(const StreamGap& e) const { appendf(out, "gap dropped=%" PRIu64, e.dropped); }
  void operator()(const market::Settlement& e) const {
    appendf(out,
            "settlement t=%" PRId64 " acct=%u ins=%u ccy=%d size=%" PRId64
            " index=%.17g px=%.17g pnl=%.17g cash=%.17g rpl=%.17g",
            e.timestamp, e.account, e.instrument, ccy(e.currency), e.position, e.index_price,
            e.mark_price, e.profit_loss, e.cash, e.session_profit_loss);
  }
};

struct Namer {
  std::string_view operator()(const OwnedOrderUpdate&) const { return "order"; }
  std::string_view operator()(const market::Trade&) const { return "trade"; }
  std::string_view operator()(const OwnedBookChange&) const { return "book"; }
  std::string_view operator()(const market::PositionUpdate&) const { return "position"; }
  std::string_view operator()(const Portfolio&) const { return "portfolio"; }
  std::string_view operator()(const market::IndexPrice&) const { return "index"; }
  std::string_view operator()(const market::MarkPrice&) const { return "mark"; }
  std::string_view operator()(const Ticker&) const { return "ticker"; }
  std::string_view operator()(const Block&) const { return "block"; }
  std::string_view operator()(const Transfer&) const { return "transfer"; }
  std::string_view operator()(const SurfaceSnapshot&) const { return "surface"; }
  std::string_view operator()(const InstrumentListed&) const { return "listed"; }
  std::string_view operator()(const InstrumentClosed&) const { return "closed"; }
  std::string_view operator()(const StreamGap&) const { return "gap"; }
  std::string_view operator()(const market::Settlement&) const { return "settlement"; }
};

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    s[2 * i] = kDigits[bytes[i] >> 4];
    s[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return s;
}

void append_canonical(const VenueEvent& event, std::string& out) {
  std::visit(Writer{out}, event);
  out += '\n';
}

std::string_view event_name(const VenueEvent& event) {
  return std::visit(Namer{}, event);
}

}  // namespace gw::sim
