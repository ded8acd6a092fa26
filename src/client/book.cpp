// greekwire::Book: applying Deribit's book messages, the prev_change_id chain and greekwire's
// checksum.
#include "greekwire/book.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

#include "client/book_side.hpp"
#include "greekwire/value.hpp"
#include "market/checksum.hpp"

namespace greekwire {

void BookUpdate::clear() {
  snapshot = false;
  instrument_name = {};
  timestamp = 0;
  change_id = 0;
  prev_change_id.reset();
  bids.clear();
  asks.clear();
  checksum.reset();
}

int fraction_digits(double value) {
  if (!std::isfinite(value)) return 0;
  // The fewest digits whose fixed-point print reads back as the same double.
  for (int digits = 0; digits < 15; ++digits) {
    char text[64];
    const auto printed =
        std::to_chars(text, text + sizeof text, value, std::chars_format::fixed, digits);
    if (printed.ec != std::errc()) return 15;
    double back = 0;
    std::from_chars(text, printed.ptr, back);
    if (back == value) return digits;
  }
  return 15;
}

std::optional<BookFormat> book_format(const Value& instrument) {
  const Value* tick = instrument.find("tick_size");
  const Value* amount = instrument.find("min_trade_amount");
  if (tick == nullptr || amount == nullptr || !tick->is_number() || !amount->is_number())
    return std::nullopt;
  BookFormat format;
  format.price_digits = fraction_digits(tick->as_double());
  for (const Value& step : instrument["tick_size_steps"].array()) {
    if (const Value* size = step.find("tick_size"); size != nullptr && size->is_number())
      format.price_digits = std::max(format.price_digits, fraction_digits(size->as_double()));
  }
  format.amount_digits = fraction_digits(amount->as_double());
  return format;
}

namespace {

// A number as an integer count of 10^-digits (exact for the decimals the server prints).
std::int64_t to_units(double value, int digits) {
  static constexpr double kPowers[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  return std::llround(value * kPowers[std::clamp(digits, 0, 15)]);
}

}  // namespace

std::uint32_t book_checksum(const Level* bids, std::size_t bid_count, const Level* asks,
                            std::size_t ask_count, const BookFormat& format) {
  using gw::market::kChecksumDepth;
  gw::market::PriceLevel top_bids[kChecksumDepth];
  gw::market::PriceLevel top_asks[kChecksumDepth];
  const std::size_t nb = std::min(bid_count, kChecksumDepth);
  const std::size_t na = std::min(ask_count, kChecksumDepth);
  for (std::size_t i = 0; i < nb; ++i) {
    top_bids[i] = {to_units(bids[i].price, format.price_digits),
                   to_units(bids[i].amount, format.amount_digits)};
  }
  for (std::size_t i = 0; i < na; ++i) {
    top_asks[i] = {to_units(asks[i].price, format.price_digits),
                   to_units(asks[i].amount, format.amount_digits)};
  }
  const gw::market::BookFormat units{1, 1, format.price_digits, format.amount_digits};
  return gw::market::book_checksum({top_bids, nb}, {top_asks, na}, units);
}

std::string_view to_string(ApplyResult result) {
  switch (result) {
    case ApplyResult::applied:
      return "applied";
    case ApplyResult::snapshot:
      return "snapshot";
    case ApplyResult::gap:
      return "gap";
    case ApplyResult::checksum_mismatch:
      return "checksum_mismatch";
    case ApplyResult::inconsistent:
      return "inconsistent";
    case ApplyResult::ignored:
      return "ignored";
    case ApplyResult::wrong_instrument:
      return "wrong_instrument";
  }
  return "?";
}

Book::Book(std::string instrument_name) : instrument_(std::move(instrument_name)) {}

std::optional<Level> Book::best_bid() const {
  if (bids_.empty()) return std::nullopt;
  return bids_.back();
}

std::optional<Level> Book::best_ask() const {
  if (asks_.empty()) return std::nullopt;
  return asks_.back();
}

ApplyResult Book::apply(const BookUpdate& update) {
  if (!instrument_.empty() && update.instrument_name != instrument_)
    return ApplyResult::wrong_instrument;
  if (update.snapshot) {
    if (!load_snapshot(update)) {
      state_ = State::broken;
      return ApplyResult::inconsistent;
    }
    state_ = State::live;
    ++updates_;
    if (update.checksum) {
      const ApplyResult checked = verify(*update.checksum);
      if (checked != ApplyResult::applied) return checked;
    }
    return ApplyResult::snapshot;
  }
  if (state_ == State::broken) return ApplyResult::ignored;
  // A change before any snapshot, or one that does not follow ours: something was lost.
  if (state_ == State::awaiting_snapshot || update.prev_change_id != change_id_) {
    state_ = State::broken;
    return ApplyResult::gap;
  }
  // Bids are stored ascending (best last), asks descending (best last).
  if (!apply_levels(bids_, update.bids, false) || !apply_levels(asks_, update.asks, true)) {
    state_ = State::broken;
    return ApplyResult::inconsistent;
  }
  change_id_ = update.change_id;
  timestamp_ = update.timestamp;
  ++updates_;
  return update.checksum ? verify(*update.checksum) : ApplyResult::applied;
}

bool Book::load_snapshot(const BookUpdate& update) {
  // Snapshots list each side best first; storage is worst first. A price listed twice would
  // leave two levels at one price, which no later change could address: inconsistent, and the
  // sides are emptied (a broken book shows nothing it cannot vouch for).
  auto load = [](std::vector<Level>& side, const std::vector<LevelChange>& levels, bool desc) {
    side.clear();
    for (const LevelChange& level : levels) {
      if (level.amount != 0) side.push_back({level.price, level.amount});
    }
    auto worse = [desc](const Level& a, const Level& b) {
      return desc ? a.price > b.price : a.price < b.price;
    };
    std::sort(side.begin(), side.end(), worse);
    const auto same_price = [](const Level& a, const Level& b) { return a.price == b.price; };
    return std::adjacent_find(side.begin(), side.end(), same_price) == side.end();
  };
  const bool bids_ok = load(bids_, update.bids, false);
  const bool asks_ok = load(asks_, update.asks, true);
  if (!bids_ok || !asks_ok) {
    bids_.clear();
    asks_.clear();
    return false;
  }
  change_id_ = update.change_id;
  timestamp_ = update.timestamp;
  unverified_checksum_.reset();
  return true;
}

bool Book::apply_levels(std::vector<Level>& side, const std::vector<LevelChange>& changes,
                        bool descending) {
  return descending ? gw::client::apply_side<std::greater<double>>(side, changes)
                    : gw::client::apply_side<std::less<double>>(side, changes);
}

std::uint32_t Book::checksum() const {
  // The sides are stored worst first: gather the best ten of each, best first.
  Level bids[gw::market::kChecksumDepth];
  Level asks[gw::market::kChecksumDepth];
  const std::size_t nb = std::min(bids_.size(), gw::market::kChecksumDepth);
  const std::size_t na = std::min(asks_.size(), gw::market::kChecksumDepth);
  for (std::size_t i = 0; i < nb; ++i) bids[i] = bids_[bids_.size() - 1 - i];
  for (std::size_t i = 0; i < na; ++i) asks[i] = asks_[asks_.size() - 1 - i];
  return book_checksum(bids, nb, asks, na, format_.value_or(BookFormat{}));
}

ApplyResult Book::verify(std::uint32_t expected) {
  if (!format_) {
    unverified_checksum_ = expected;  // checked by set_format()
    return ApplyResult::applied;
  }
  unverified_checksum_.reset();
  if (checksum() != expected) {
    state_ = State::broken;
    return ApplyResult::checksum_mismatch;
  }
  ++checksums_verified_;
  return ApplyResult::applied;
}

ApplyResult Book::set_format(const BookFormat& format) {
  format_ = format;
  if (!unverified_checksum_ || state_ != State::live) return ApplyResult::applied;
  return verify(*unverified_checksum_);
}

}  // namespace greekwire
