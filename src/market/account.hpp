// Accounts of the venue: a balance per currency, positions with average price and realised /
// unrealised PnL, maker/taker fees, and the simple margin model of docs/VENUE.md ("Matching
// engine", Margin). Everything is coin-settled (inverse), as Deribit's BTC and ETH products:
//
//  - futures: amounts in USD; a fill of q USD at price P is worth q/P coin; PnL in coin is
//    q × (1/entry − 1/exit) for a long (the sign flips for a short); the fee is q/P × commission;
//  - options: amounts in coin, prices in coin per coin; the premium P × q moves between the
//    balances at the fill; the fee is commission × q, capped at 12.5% of the premium.
//
// Plain functions over plain structs: the engine owns the accounts and calls these per fill and
// per order check. Nothing here allocates except the first position of an account in an
// instrument.
#pragma once

#include <cstdint>
#include <vector>

#include "market/types.hpp"

namespace gw::market {

struct Instrument;

// Deribit's self-trading modes (private/set_self_trading_config).
enum class SelfTradeMode : std::uint8_t { cancel_maker, reject_taker };

// What accounting needs of an instrument, copied from Instrument, plus its current mark and
// its currency's index (0 while unknown). The engine keeps one per instrument at a stable
// address; positions point at it.
struct Contract {
  InstrumentId id = 0;
  Currency currency = Currency::BTC;
  Kind kind = Kind::future;
  OptionType option_type = OptionType::none;
  double strike = 0;
  double price_unit = 1;
  double amount_unit = 1;
  double maker_commission = 0;
  double taker_commission = 0;
  double mark = 0;   // price units (USD for futures, coin for options)
  double index = 0;  // USD
  // Perpetuals: the funding accrued so far, in coin per USD of a long position (what a long of
  // 1 USD has paid since listing; negative when longs were paid). Positions book the difference
  // since they last booked (book_funding).
  double funding = 0;

  double price(Ticks t) const { return static_cast<double>(t) * price_unit; }
  double amount(Lots l) const { return static_cast<double>(l) * amount_unit; }
};

Contract make_contract(const Instrument& instrument);

// The margin model's parameters (fractions). Defaults: docs/VENUE.md.
struct MarginParams {
  double futures_initial = 0.01;  // of the notional in coin
  double futures_maintenance = 0.005;
  double option_short_base = 0.15;  // short options: max(base − OTM/index, floor) + mark
  double option_short_floor = 0.10;
  double option_short_maintenance = 0.075;  // short options: maintenance + mark
};

inline constexpr double kOptionFeeCap = 0.125;  // of the premium

struct Position {
  InstrumentId instrument = 0;  // = contract->id, kept here for the look-up
  const Contract* contract = nullptr;
  Lots size = 0;  // signed; positive long
  // The open size's cost in coin: for futures Σ q/P (its coin value at entry), for options
  // Σ P × q (the premium). Scaled down proportionally when the position shrinks.
  double entry = 0;
  double realized = 0;      // session realised PnL in coin, funding and settlement included
  double funding = 0;       // session funding booked, coin (paid: negative); part of `realized`
  double funding_mark = 0;  // the contract's `funding` when this position last booked it

  double average_price() const;  // real price units; 0 when flat
};

struct Funds {
  double balance = 0;
  double order_margin = 0;  // reserved by open orders
  double session_rpl = 0;
  double fees = 0;
};

struct Account {
  explicit Account(AccountId account_id) : id(account_id) {}

  AccountId id;
  SelfTradeMode self_trade = SelfTradeMode::cancel_maker;
  Funds funds[2];                   // by Currency
  std::vector<Position> positions;  // sorted by instrument id

  Funds& funds_in(Currency c) { return funds[static_cast<std::size_t>(c)]; }
  const Funds& funds_in(Currency c) const { return funds[static_cast<std::size_t>(c)]; }
  const Position* find(InstrumentId instrument) const;
  Position& position(const Contract& contract);  // found or created flat
};

// The fee of a fill of `qty` at `price` (coin; negative commissions are rebates).
double fill_fee(const Contract& c, Ticks price, Lots qty, bool maker);

struct FillResult {
  double fee = 0;
  double pnl = 0;  // realised by this fill
};
// Books a fill into the position and the account's funds (the funding the position accrued
// before the fill first, at its old size).
FillResult apply_fill(Account& account, Position& position, Side side, Ticks price, Lots qty,
                      bool maker);

// Books the funding the position accrued since it last booked: −size (USD) × the contract's
// funding accrued since then, into the balance, the session's and the position's realised PnL.
// Returns the payment (coin; negative: paid).
double book_funding(Account& account, Position& position);

// The settlement value of one unit of the instrument at `delivery_price` (USD): futures the
// delivery price itself (USD), options their intrinsic value in coin, max(S − K, 0)/S for a call
// and max(K − S, 0)/S for a put (Deribit's cash settlement of inverse options).
double settlement_price(const Contract& c, double delivery_price);

struct SettlementResult {
  Lots size = 0;     // the position settled (signed)
  double price = 0;  // settlement_price()
  double pnl = 0;    // realised by the settlement (coin)
  double cash = 0;   // the balance's change (coin): futures the PnL, options size × value
};
// Settles the position at the instrument's expiry, as a close at settlement_price() without
// fees: its accrued funding first, then the PnL (futures) or the options' value (paid to longs by
// shorts) into the balance; the position is flat afterwards.
SettlementResult settle_position(Account& account, Position& position, double delivery_price);

// The amount of an order on `side` that only closes the account's position (it needs no margin,
// and is what a reduce-only order may trade).
Lots closable(const Position* position, Side side);

// The mark, or the average price while no mark is known.
double mark_or_average(const Position& p);
double floating_pnl(const Position& p);  // coin, at the mark
double position_initial_margin(const Position& p, const MarginParams& m);
double position_maintenance_margin(const Position& p, const MarginParams& m);
// What an order opening `qty` at `price` reserves (coin).
double order_margin(const Contract& c, Side side, Ticks price, Lots qty, const MarginParams& m);

struct Summary {
  double balance = 0;
  double equity = 0;          // balance + futures' floating PnL + options' value at the mark
  double initial_margin = 0;  // positions + open orders
  double maintenance_margin = 0;
  double available_funds = 0;  // equity − initial margin
  double session_upl = 0;
  double session_rpl = 0;
  double fees = 0;
};
Summary summarize(const Account& account, Currency currency, const MarginParams& m);
// summarize(...).available_funds alone (the order check's question; skips the rest).
double available_funds(const Account& account, Currency currency, const MarginParams& m);

}  // namespace gw::market
