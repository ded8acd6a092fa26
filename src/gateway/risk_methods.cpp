// private/get_risk_matrix: the caller's positions in one currency (from the venue, with the
// options' tickers at the same instant) revalued over a grid of underlying moves and vol shifts
// by market::risk_matrix, on the I/O thread that asked.
#include <memory>
#include <vector>

#include "gateway/gateway_internal.hpp"
#include "gateway/risk.hpp"

namespace gw::gateway {

namespace {

// A grid parameter: the default when absent, else an array of numbers that passes `check`.
struct GridParam {
  std::vector<double> values;
  codec::ParamStatus status = codec::ParamStatus::ok;
};

template <std::size_t N>
GridParam grid_param(const codec::Params& params, std::string_view name,
                     const double (&defaults)[N],
                     market::RiskGridError (*check)(std::span<const double>)) {
  GridParam g;
  g.status = params.get_double_array(name, g.values);
  if (g.status == codec::ParamStatus::missing) {
    g.values.assign(defaults, defaults + N);
    g.status = codec::ParamStatus::ok;
  } else if (g.status == codec::ParamStatus::ok && check(g.values) != market::RiskGridError::none) {
    g.status = codec::ParamStatus::out_of_range;
  }
  return g;
}

market::AccountId venue_account(const Identity& identity) {
  return static_cast<market::AccountId>(identity.account_id);
}

struct RiskRequest {
  GridParam moves;
  GridParam shifts;
  bool per_position = false;
};

}  // namespace

void Gateway::private_get_risk_matrix(Call& call) {
  const auto identity = authorize(call, required_scope_for_method(call.request.method));
  if (!identity) return;
  const auto currency = currency_param(call);
  if (!currency) return;
  const codec::Params& params = call.params();
  auto request = std::make_shared<RiskRequest>();
  request->moves = grid_param(params, "underlying_moves", kDefaultUnderlyingMoves,
                              &market::check_underlying_moves);
  if (request->moves.status != codec::ParamStatus::ok) {
    respond_param_error(call.reply, "underlying_moves", request->moves.status);
    return;
  }
  request->shifts = grid_param(params, "vol_shifts", kDefaultVolShifts, &market::check_vol_shifts);
  if (request->shifts.status != codec::ParamStatus::ok) {
    respond_param_error(call.reply, "vol_shifts", request->shifts.status);
    return;
  }
  const auto per_position = params.get_bool("per_position");
  if (per_position.status != codec::ParamStatus::missing && !per_position) {
    respond_param_error(call.reply, "per_position", per_position.status);
    return;
  }
  request->per_position = per_position.value;

  const Reply reply = call.reply;
  auto answer = [this, reply, request](const sim::AccountSnapshot& account) {
    std::vector<market::RiskPosition> positions;
    std::vector<RiskRow> rows;
    std::vector<InstrumentPtr> instruments;  // keeps the rows' instruments alive
    for (const sim::PositionSnapshot& p : account.positions) {
      InstrumentPtr instrument = directory_.find(p.instrument);
      if (p.size == 0 || !instrument) continue;
      const sim::OptionMarket* option = account.option_market(p.instrument);
      positions.push_back(risk_position(*instrument, p, option, account.timestamp));
      rows.push_back({instrument.get(), positions.back().size, p.mark_price,
                      option != nullptr ? option->mark_iv : 0.0});
      instruments.push_back(std::move(instrument));
    }
    const market::RiskMatrix matrix = market::risk_matrix(
        positions, request->moves.values, request->shifts.values, request->per_position);
    RiskView view;
    view.currency = account.currency;
    view.timestamp = account.timestamp;
    view.index_price = account.index_price;
    view.underlying_moves = request->moves.values;
    view.vol_shifts = request->shifts.values;
    view.matrix = &matrix;
    view.rows = rows;
    view.per_position = request->per_position;
    respond(reply, [&](auto& w) { write_risk_matrix(w, view); });
  };
  check_queued(reply, venue_->get_account(venue_account(*identity), *currency,
                                          back_on_io<sim::AccountSnapshot>(reply, answer)));
}

}  // namespace gw::gateway
