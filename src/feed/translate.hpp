// From Deribit's messages (as the SDK decodes them) to the mirror's FeedInputs
// (sim/mirror.hpp): a public/get_instruments row to an Instrument with the feed's own contract
// specification, and the notifications of the channels a mirror rebuilds (book.*, ticker.*,
// trades.*, deribit_price_index.*) to inputs in real units.
//
// The inverse of what greekwire's gateway writes (gateway/encode.hpp), so that a greekwire
// upstream relays every field exactly; and what Deribit itself sends (its nulls for values not
// known yet become 0, as the mirror's structs expect). Bad input is an error, never a crash:
// relay and replay take these from the network or from files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greekwire/book.hpp"
#include "greekwire/value.hpp"
#include "market/instrument.hpp"
#include "sim/mirror.hpp"

namespace gw::feed {

// One row of public/get_instruments (or public/get_instrument's result). The name must parse
// (market::parse_instrument_name); kind, strike and option_type, when present, must agree with
// it. The row's specification wins over the venue's defaults for every field it carries
// (tick_size, tick_size_steps, contract_size, min_trade_amount, the commissions, the block
// trade figures, max_leverage, expiration and creation timestamps, settlement_period,
// price_index, instrument_type, is_active); the fixed-point units follow from it as
// make_instrument derives them (the smallest tick, min_trade_amount). id stays 0.
// nullopt with `error` for a row that is not an instrument we can list.
std::optional<market::Instrument> instrument_from_row(const greekwire::Value& row,
                                                      std::string* error);

// Appends the inputs one notification of `channel` carries: book.{instrument}.{interval} one
// FeedBook, ticker.* one FeedTicker, trades.* one FeedTrade per trade, deribit_price_index.*
// one FeedIndex (btc_usd and eth_usd; other indexes carry nothing the venue knows); greekwire's
// own volsurface.* one FeedSurface, chain.*.blocks one FeedBlock, chain.*.transfers one
// FeedTransfer. Other channels (grouped books, user.*, markprice.*) carry nothing: true,
// nothing appended. False with `error` when the data is malformed; `out` is then as it was.
bool translate(std::string_view channel, const greekwire::Value& data,
               std::vector<sim::FeedInput>& out, std::string* error);

// One message of the SDK's typed book handler (after its chain and checksum checks). Levels
// keep their order; a "delete" has amount 0 (which removes the level).
sim::FeedBook book_input(const greekwire::BookUpdate& update);

// The parts of translate(), for callers that know the channel's kind.
std::optional<sim::FeedBook> book_from(const greekwire::Value& data, std::string* error);
// FeedTicker::volume is in the instrument's amount units, like every amount the mirror
// converts: USD for futures (Deribit's stats.volume_usd), coin for options (its stats.volume).
std::optional<sim::FeedTicker> ticker_from(const greekwire::Value& data, std::string* error);
std::optional<sim::FeedTrade> trade_from(const greekwire::Value& data, std::string* error);
// nullopt without an error for an index other than btc_usd / eth_usd.
std::optional<sim::FeedIndex> index_from(const greekwire::Value& data, std::string* error);

// greekwire's channels (translate_ours.cpp): what gateway/encode.hpp writes, read back exactly.
std::optional<sim::SurfaceSnapshot> surface_from(const greekwire::Value& data, std::string* error);
std::optional<sim::Block> block_from(const greekwire::Value& data, std::string* error);
std::optional<sim::Transfer> transfer_from(const greekwire::Value& data, std::string* error);

// Deribit's trade ids: "BTC-2696097" → 2696097; also a bare number, as a string or an integer.
std::optional<std::uint64_t> trade_number(const greekwire::Value& trade_id);

}  // namespace gw::feed
