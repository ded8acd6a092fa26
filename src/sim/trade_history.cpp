#include "sim/trade_history.hpp"

#include <algorithm>
#include <cstring>

namespace gw::sim {

// ---- Feeding ----------------------------------------------------------------------------------

void TradeHistory::on_event(const VenueEvent& event) {
  if (const auto* trade = std::get_if<market::Trade>(&event)) {
    on_trade(*trade);
  } else if (const auto* order = std::get_if<OwnedOrderUpdate>(&event)) {
    on_order(*order);
  } else if (const auto* listed = std::get_if<InstrumentListed>(&event)) {
    on_listed(*listed);
  } else if (const auto* closed = std::get_if<InstrumentClosed>(&event)) {
    on_closed(closed->instrument);
  } else if (const auto* settlement = std::get_if<market::Settlement>(&event)) {
    on_settlement(*settlement);
  }
}

// A settlement comes before its instrument's InstrumentClosed, so the instrument is known.
void TradeHistory::on_settlement(const market::Settlement& s) {
  if (is_sim_account(s.account) || s.instrument >= instruments_.size() ||
      !instruments_[s.instrument].instrument) {
    return;
  }
  auto it = settlements_.find(s.account);
  if (it == settlements_.end()) {
    it = settlements_
             .emplace(s.account,
                      AccountSettlements{Ring<SettlementRecord>(limits_.account_settlements), 0})
             .first;
  }
  AccountSettlements& history = it->second;
  history.records.push({s, instruments_[s.instrument].instrument, ++history.last_seq});
}

SettlementPage TradeHistory::settlements(const SettlementQuery& q) const {
  SettlementPage page;
  const auto it = settlements_.find(q.account);
  if (it == settlements_.end()) return page;
  const Ring<SettlementRecord>& records = it->second.records;
  for (std::size_t i = records.size(); i-- > 0;) {  // newest first
    const SettlementRecord& r = records[i];
    if (q.before_seq != 0 && r.seq >= q.before_seq) continue;
    if (q.latest_ms != 0 && r.settlement.timestamp > q.latest_ms) continue;
    if (q.currency && r.settlement.currency != *q.currency) continue;
    if (!q.instrument_name.empty() && r.instrument->name != q.instrument_name) continue;
    if (page.settlements.size() == q.count) {
      page.has_more = true;
      break;
    }
    page.settlements.push_back(r);
  }
  return page;
}

void TradeHistory::on_listed(const InstrumentListed& listed) {
  const market::Instrument& i = *listed.instrument;
  if (instruments_.size() <= i.id) instruments_.resize(i.id + 1);
  InstrumentTrades& h = instruments_[i.id];
  h.listed = true;
  h.instrument = listed.instrument;
  h.currency = i.currency;
  h.trades = Ring<PublicTrade>(i.kind == market::Kind::option ? limits_.option_trades
                                                              : limits_.future_trades);
  h.last_seq = 0;
}

void TradeHistory::on_closed(InstrumentId instrument) {
  // Expired: nobody trades it any more, and keeping every expired instrument's trades would
  // let memory grow with every day's listings.
  if (instrument < instruments_.size()) instruments_[instrument] = InstrumentTrades{};
}

void TradeHistory::on_trade(const market::Trade& t) {
  if (t.instrument < instruments_.size() && instruments_[t.instrument].listed) {
    InstrumentTrades& h = instruments_[t.instrument];
    // trade_seq counts up by one per instrument, so a trade's seq is implied by its place. A
    // gap (not expected: the venue sees every trade) starts the history over, keeping that true.
    if (h.trades.size() > 0 && t.trade_seq != h.last_seq + 1) {
      h.trades = Ring<PublicTrade>(h.trades.capacity());
    }
    h.trades.push({t.timestamp, t.trade_id, t.price, t.amount, t.mark_price, t.index_price,
                   t.direction, t.tick_direction});
    h.last_seq = t.trade_seq;
  }
  if (!is_sim_account(t.taker)) add_user_trade(t.taker, t, false);
  if (!is_sim_account(t.maker)) add_user_trade(t.maker, t, true);
}

void TradeHistory::add_user_trade(AccountId account, const market::Trade& trade, bool maker) {
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    it = accounts_.emplace(account, Ring<UserTrade>(limits_.account_trades)).first;
  }
  UserTrade u;
  u.trade = trade;
  u.maker = maker;
  it->second.push(u);
}

// The fills of an order come before its OrderUpdate (a maker's right after its fill, a taker's
// after all of them): the update completes the fills still waiting for it, which are the newest
// of the account.
void TradeHistory::on_order(const OwnedOrderUpdate& update) {
  const market::OrderUpdate& o = update.order;
  if (is_sim_account(o.account)) return;
  if (market::is_terminal(o.state)) remember_closed(update);
  const auto it = accounts_.find(o.account);
  if (it == accounts_.end()) return;
  Ring<UserTrade>& fills = it->second;
  for (std::size_t i = fills.size(); i-- > 0 && !fills[i].order_known;) {
    UserTrade& u = fills[i];
    if (u.order_id() != o.order_id) continue;
    u.order_type = o.type;
    u.post_only = o.post_only;
    u.reduce_only = o.reduce_only;
    u.label_size = update.label_size;
    std::memcpy(u.label_data.data(), update.label_data.data(), update.label_size);
    u.order_known = true;
  }
}

void TradeHistory::remember_closed(const OwnedOrderUpdate& update) {
  const market::OrderUpdate& o = update.order;
  if (limits_.account_closed_orders == 0) return;
  if (!closed_orders_.insert_or_assign(o.order_id, update).second) return;  // known: updated
  std::deque<OrderId>& ids = closed_by_account_[o.account];
  ids.push_back(o.order_id);
  if (ids.size() > limits_.account_closed_orders) {
    closed_orders_.erase(ids.front());
    ids.pop_front();
  }
}

// ---- Queries ----------------------------------------------------------------------------------

std::optional<OwnedOrderUpdate> TradeHistory::closed_order(OrderId order_id) const {
  const auto it = closed_orders_.find(order_id);
  if (it == closed_orders_.end()) return std::nullopt;
  return it->second;
}

market::Trade TradeHistory::to_trade(InstrumentId id, const InstrumentTrades& h, std::size_t i) {
  const PublicTrade& p = h.trades[i];
  market::Trade t;
  t.timestamp = p.timestamp;
  t.trade_id = p.trade_id;
  t.trade_seq = h.last_seq - (h.trades.size() - 1 - i);
  t.instrument = id;
  t.currency = h.currency;
  t.direction = p.direction;
  t.tick_direction = p.tick_direction;
  t.price = p.price;
  t.amount = p.amount;
  t.mark_price = p.mark_price;
  t.index_price = p.index_price;
  return t;
}

PublicTradePage TradeHistory::last_trades(InstrumentId instrument, const TradeRange& range) const {
  PublicTradePage page;
  if (instrument >= instruments_.size()) return page;
  const InstrumentTrades& h = instruments_[instrument];
  const std::size_t n = h.trades.size();
  if (!h.listed || n == 0 || range.count == 0) return page;
  // Seqs are consecutive: the range is a run of indexes [lo, hi].
  const std::uint64_t first_seq = h.last_seq - (n - 1);
  const std::uint64_t from = std::max(range.start_seq.value_or(first_seq), first_seq);
  const std::uint64_t to = std::min(range.end_seq.value_or(h.last_seq), h.last_seq);
  if (from > to) return page;
  const std::size_t lo = static_cast<std::size_t>(from - first_seq);
  const std::size_t hi = static_cast<std::size_t>(to - first_seq);
  const std::size_t take = std::min(range.count, hi - lo + 1);
  page.has_more = hi - lo + 1 > take;
  page.trades.reserve(take);
  for (std::size_t k = 0; k < take; ++k) {
    page.trades.push_back(to_trade(instrument, h, range.ascending() ? lo + k : hi - k));
  }
  return page;
}

UserTradePage TradeHistory::user_trades(AccountId account, InstrumentId instrument,
                                        const TradeRange& range) const {
  UserTradePage page;
  const auto it = accounts_.find(account);
  if (it == accounts_.end() || range.count == 0) return page;
  const Ring<UserTrade>& fills = it->second;
  // Fills are in time order, so one instrument's trade_seqs ascend: walk from the end the page
  // starts at, and stop once past the range.
  const bool ascending = range.ascending();
  const std::size_t n = fills.size();
  for (std::size_t k = 0; k < n; ++k) {
    const UserTrade& u = fills[ascending ? k : n - 1 - k];
    if (u.trade.instrument != instrument) continue;
    const std::uint64_t seq = u.trade.trade_seq;
    if (ascending ? (range.end_seq && seq > *range.end_seq)
                  : (range.start_seq && seq < *range.start_seq)) {
      break;
    }
    if (!range.contains(seq)) continue;
    if (page.trades.size() == range.count) {
      page.has_more = true;
      break;
    }
    page.trades.push_back(u);
  }
  return page;
}

std::size_t TradeHistory::instrument_size(InstrumentId instrument) const {
  return instrument < instruments_.size() ? instruments_[instrument].trades.size() : 0;
}

std::size_t TradeHistory::account_size(AccountId account) const {
  const auto it = accounts_.find(account);
  return it == accounts_.end() ? 0 : it->second.size();
}

}  // namespace gw::sim
