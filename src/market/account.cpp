#include "market/account.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "market/instrument.hpp"

namespace gw::market {

namespace {

bool is_future(const Contract& c) {
  return c.kind == Kind::future;
}

// The coin cost of `qty` at `price`: its coin value for a future, its premium for an option.
double cost(const Contract& c, double price, Lots qty) {
  const double a = c.amount(qty);
  return is_future(c) ? a / price : a * price;
}

// Out-of-the-money fraction of the index for an option (0 when unknown or in the money).
double otm_fraction(const Contract& c) {
  if (c.index <= 0) return 0;
  const double otm = c.option_type == OptionType::call ? c.strike - c.index : c.index - c.strike;
  return std::max(otm, 0.0) / c.index;
}

}  // namespace

Contract make_contract(const Instrument& i) {
  Contract c;
  c.id = i.id;
  c.currency = i.currency;
  c.kind = i.kind;
  c.option_type = i.option_type;
  c.strike = i.strike;
  c.price_unit = i.price_unit;
  c.amount_unit = i.amount_unit;
  c.maker_commission = i.maker_commission;
  c.taker_commission = i.taker_commission;
  return c;
}

double Position::average_price() const {
  if (size == 0 || entry <= 0) return 0;
  const double a = contract->amount(std::llabs(size));
  return is_future(*contract) ? a / entry : entry / a;
}

const Position* Account::find(InstrumentId instrument) const {
  const auto it =
      std::lower_bound(positions.begin(), positions.end(), instrument,
                       [](const Position& p, InstrumentId key) { return p.instrument < key; });
  return it != positions.end() && it->instrument == instrument ? &*it : nullptr;
}

Position& Account::position(const Contract& contract) {
  const auto it =
      std::lower_bound(positions.begin(), positions.end(), contract.id,
                       [](const Position& p, InstrumentId key) { return p.instrument < key; });
  if (it != positions.end() && it->instrument == contract.id) return *it;
  Position p;
  p.instrument = contract.id;
  p.contract = &contract;
  return *positions.insert(it, p);
}

double fill_fee(const Contract& c, Ticks price, Lots qty, bool maker) {
  const double commission = maker ? c.maker_commission : c.taker_commission;
  const double p = c.price(price);
  const double a = c.amount(qty);
  if (is_future(c)) return a / p * commission;
  const double fee = commission * a;
  const double cap = kOptionFeeCap * p * a;
  return fee > cap ? cap : fee;
}

FillResult apply_fill(Account& account, Position& pos, Side side, Ticks price, Lots qty,
                      bool maker) {
  const Contract& c = *pos.contract;
  // The old size owes its funding up to now; the new size accrues from here.
  book_funding(account, pos);
  const double p = c.price(price);
  FillResult r;
  r.fee = fill_fee(c, price, qty, maker);
  const Lots signed_qty = side == Side::buy ? qty : -qty;
  if (pos.size == 0 || (pos.size > 0) == (signed_qty > 0)) {
    pos.entry += cost(c, p, qty);
  } else {
    // Closing (part of) the position: release the entry cost of the closed share.
    const Lots open = std::llabs(pos.size);
    const Lots closed = std::min(qty, open);
    const double released =
        closed == open ? pos.entry
                       : pos.entry * static_cast<double>(closed) / static_cast<double>(open);
    const double exit = cost(c, p, closed);
    const bool long_position = pos.size > 0;
    // A long future gains when the coin value of its USD falls; a long option when its premium
    // rises.
    if (is_future(c)) {
      r.pnl = long_position ? released - exit : exit - released;
    } else {
      r.pnl = long_position ? exit - released : released - exit;
    }
    pos.entry -= released;
    if (closed == open) pos.entry = 0;
    if (qty > closed) pos.entry = cost(c, p, qty - closed);  // flipped: the rest opens
  }
  pos.size += signed_qty;
  pos.realized += r.pnl;

  Funds& f = account.funds_in(c.currency);
  if (is_future(c)) {
    f.balance += r.pnl;  // futures realise into the balance as they close
  } else {
    const double premium = c.amount(qty) * p;
    f.balance += side == Side::buy ? -premium : premium;
  }
  f.balance -= r.fee;
  f.session_rpl += r.pnl;
  f.fees += r.fee;
  return r;
}

double book_funding(Account& account, Position& pos) {
  const Contract& c = *pos.contract;
  if (pos.funding_mark == c.funding) return 0;
  // A long pays the funding accrued per USD of its size (a short receives it).
  const double payment = -c.amount(pos.size) * (c.funding - pos.funding_mark);
  pos.funding_mark = c.funding;
  if (payment == 0) return 0;
  pos.funding += payment;
  pos.realized += payment;
  Funds& f = account.funds_in(c.currency);
  f.balance += payment;
  f.session_rpl += payment;
  return payment;
}

double settlement_price(const Contract& c, double delivery_price) {
  if (is_future(c)) return delivery_price;
  if (!(delivery_price > 0)) return 0;
  const double intrinsic =
      c.option_type == OptionType::call ? delivery_price - c.strike : c.strike - delivery_price;
  return std::max(intrinsic, 0.0) / delivery_price;
}

SettlementResult settle_position(Account& account, Position& pos, double delivery_price) {
  book_funding(account, pos);
  SettlementResult r;
  r.size = pos.size;
  r.price = settlement_price(*pos.contract, delivery_price);
  if (pos.size == 0) return r;
  const Contract& c = *pos.contract;
  const bool long_position = pos.size > 0;
  const Lots open = std::llabs(pos.size);
  if (is_future(c)) {
    // As a close at the delivery price: the coin value of the USD at entry against at delivery.
    const double exit = r.price > 0 ? c.amount(open) / r.price : pos.entry;
    r.pnl = long_position ? pos.entry - exit : exit - pos.entry;
    r.cash = r.pnl;
  } else {
    // Cash settlement: shorts pay longs the intrinsic value; the premium moved at the fills.
    const double value = c.amount(open) * r.price;
    r.pnl = long_position ? value - pos.entry : pos.entry - value;
    r.cash = long_position ? value : -value;
  }
  pos.size = 0;
  pos.entry = 0;
  pos.realized += r.pnl;
  Funds& f = account.funds_in(c.currency);
  f.balance += r.cash;
  f.session_rpl += r.pnl;
  return r;
}

Lots closable(const Position* p, Side side) {
  if (p == nullptr) return 0;
  return side == Side::buy ? std::max<Lots>(-p->size, 0) : std::max<Lots>(p->size, 0);
}

double mark_or_average(const Position& p) {
  return p.contract->mark > 0 ? p.contract->mark : p.average_price();
}

double floating_pnl(const Position& p) {
  if (p.size == 0 || p.contract->mark <= 0) return 0;
  const Contract& c = *p.contract;
  const double now = cost(c, c.mark, std::llabs(p.size));
  const bool long_position = p.size > 0;
  if (is_future(c)) return long_position ? p.entry - now : now - p.entry;
  return long_position ? now - p.entry : p.entry - now;
}

double position_initial_margin(const Position& p, const MarginParams& m) {
  if (p.size == 0) return 0;
  const Contract& c = *p.contract;
  const double price = mark_or_average(p);
  if (is_future(c)) return m.futures_initial * c.amount(std::llabs(p.size)) / price;
  if (p.size > 0) return 0;  // a long option is paid for
  const double rate = std::max(m.option_short_base - otm_fraction(c), m.option_short_floor);
  return (rate + price) * c.amount(-p.size);
}

double position_maintenance_margin(const Position& p, const MarginParams& m) {
  if (p.size == 0) return 0;
  const Contract& c = *p.contract;
  const double price = mark_or_average(p);
  if (is_future(c)) return m.futures_maintenance * c.amount(std::llabs(p.size)) / price;
  if (p.size > 0) return 0;
  return (m.option_short_maintenance + price) * c.amount(-p.size);
}

double order_margin(const Contract& c, Side side, Ticks price, Lots qty, const MarginParams& m) {
  if (qty <= 0) return 0;
  const double p = c.price(price);
  if (is_future(c)) return m.futures_initial * c.amount(qty) / p;
  if (side == Side::buy) return p * c.amount(qty);  // the premium
  const double mark = c.mark > 0 ? c.mark : p;
  const double rate = std::max(m.option_short_base - otm_fraction(c), m.option_short_floor);
  return (rate + mark) * c.amount(qty);
}

Summary summarize(const Account& account, Currency currency, const MarginParams& m) {
  const Funds& f = account.funds_in(currency);
  Summary s;
  s.balance = f.balance;
  double value = 0;
  double position_im = 0;
  for (const Position& p : account.positions) {
    if (p.size == 0 || p.contract->currency != currency) continue;
    const double upl = floating_pnl(p);
    s.session_upl += upl;
    // Options are valued whole (their premium already left or entered the balance).
    value += p.contract->kind == Kind::future
                 ? upl
                 : static_cast<double>(p.size) * p.contract->amount_unit * mark_or_average(p);
    position_im += position_initial_margin(p, m);
    s.maintenance_margin += position_maintenance_margin(p, m);
  }
  s.equity = f.balance + value;
  s.initial_margin = position_im + f.order_margin;
  s.available_funds = s.equity - s.initial_margin;
  s.session_rpl = f.session_rpl;
  s.fees = f.fees;
  return s;
}

double available_funds(const Account& account, Currency currency, const MarginParams& m) {
  const Funds& f = account.funds_in(currency);
  double available = f.balance - f.order_margin;
  for (const Position& p : account.positions) {
    if (p.size == 0 || p.contract->currency != currency) continue;
    available += p.contract->kind == Kind::future
                     ? floating_pnl(p)
                     : static_cast<double>(p.size) * p.contract->amount_unit * mark_or_average(p);
    available -= position_initial_margin(p, m);
  }
  return available;
}

}  // namespace gw::market
