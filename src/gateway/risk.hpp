// private/get_risk_matrix (greekwire's extension, docs/PROTOCOL.md): from the venue's account
// snapshot to market::risk_matrix's inputs, and the result as the gateway writes it. The method
// itself is in risk_methods.cpp, risk_position() in risk.cpp.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "codec/writer.hpp"
#include "market/instrument.hpp"
#include "market/risk_matrix.hpp"
#include "sim/venue.hpp"

namespace gw::gateway {

// The defaults of underlying_moves (fractions) and vol_shifts (vol points).
inline constexpr double kDefaultUnderlyingMoves[] = {-0.2, -0.15, -0.1, -0.05, 0,
                                                     0.05, 0.1,   0.15, 0.2};
inline constexpr double kDefaultVolShifts[] = {-10, -5, 0, 5, 10};

// One open position as the risk matrix revalues it: futures at the snapshot's mark, options on
// their ticker's forward at its mark IV, with the years left from the snapshot's time. An option
// without a market in the snapshot (its instrument is no longer active) gets no forward.
market::RiskPosition risk_position(const market::Instrument& instrument,
                                   const sim::PositionSnapshot& position,
                                   const sim::OptionMarket* option_market,
                                   market::TimestampMs now_ms);

// A revalued position, for the optional per-position breakdown.
struct RiskRow {
  const market::Instrument* instrument = nullptr;
  double size = 0;        // USD for futures, coin for options
  double mark_price = 0;  // the instrument's price units
  double mark_iv = 0;     // options, percent
};

struct RiskView {
  market::Currency currency = market::Currency::BTC;
  market::TimestampMs timestamp = 0;
  double index_price = 0;
  std::span<const double> underlying_moves;
  std::span<const double> vol_shifts;
  const market::RiskMatrix* matrix = nullptr;
  std::span<const RiskRow> rows;  // with the breakdown: one per position of the matrix
  bool per_position = false;
};

namespace detail {

// A grid of rows (vol shifts) × columns (moves) as an array of arrays.
template <codec::Writer W>
void write_grid(W& w, const double* cells, std::size_t rows, std::size_t columns) {
  w.begin_array(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    w.begin_array(columns);
    for (std::size_t c = 0; c < columns; ++c) w.value(cells[r * columns + c]);
    w.end_array();
  }
  w.end_array();
}

template <codec::Writer W>
void write_risk_greeks(W& w, const market::RiskGreeks& g) {
  w.key("delta");
  w.value(g.delta);
  w.key("gamma");
  w.value(g.gamma);
  w.key("vega");
  w.value(g.vega);
  w.key("theta");
  w.value(g.theta);
}

template <codec::Writer W>
void write_doubles(W& w, std::span<const double> values) {
  w.begin_array(values.size());
  for (double v : values) w.value(v);
  w.end_array();
}

}  // namespace detail

// The result of private/get_risk_matrix (ours; members in a logical order): the grids asked
// for, `pnl[v][m]` in coin (row v: vol_shifts[v], column m: underlying_moves[m]), the Greeks'
// totals, and with per_position each position's row.
template <codec::Writer W>
void write_risk_matrix(W& w, const RiskView& v) {
  const market::RiskMatrix& m = *v.matrix;
  const std::size_t rows = v.vol_shifts.size();
  const std::size_t columns = v.underlying_moves.size();
  w.begin_object(v.per_position ? 8 : 7);
  w.key("currency");
  w.value(market::to_string(v.currency));
  w.key("timestamp");
  w.value(v.timestamp);
  w.key("index_price");
  w.value(v.index_price);
  w.key("underlying_moves");
  detail::write_doubles(w, v.underlying_moves);
  w.key("vol_shifts");
  detail::write_doubles(w, v.vol_shifts);
  w.key("pnl");
  detail::write_grid(w, m.pnl.data(), rows, columns);
  w.key("greeks");
  w.begin_object(4);
  detail::write_risk_greeks(w, m.greeks);
  w.end_object();
  if (v.per_position) {
    w.key("positions");
    w.begin_array(v.rows.size());
    for (std::size_t i = 0; i < v.rows.size(); ++i) {
      const RiskRow& row = v.rows[i];
      const bool option = row.instrument->kind == market::Kind::option;
      w.begin_object(option ? 10 : 9);
      w.key("instrument_name");
      w.value(std::string_view(row.instrument->name));
      w.key("kind");
      w.value(market::to_string(row.instrument->kind));
      w.key("size");
      w.value(row.size);
      w.key("mark_price");
      w.value(row.mark_price);
      if (option) {
        w.key("mark_iv");
        w.value(row.mark_iv);
      }
      detail::write_risk_greeks(w, m.position_greeks[i]);
      w.key("pnl");
      detail::write_grid(w, m.position_pnl.data() + i * rows * columns, rows, columns);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
}

}  // namespace gw::gateway
