// A local order book kept from Deribit's book.{instrument}.{interval} messages: a snapshot, then
// changes whose prev_change_id chains to the previous message's change_id. The book checks the
// chain and, when a message carries greekwire's `checksum` (docs/PROTOCOL.md) and the number
// formats are known, the checksum; any gap or mismatch breaks it until the next snapshot.
//
// A Connection keeps one Book per subscribed book channel and resyncs by itself; the class is
// public so that a book can also be fed from a recording or another transport.
//
// Storage: one sorted vector per side, kept worst first so that the levels near the top, where
// nearly every change lands, are at the end (an insert or erase there moves few elements).
// Applying a message allocates nothing unless a side grows beyond its capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace greekwire {

class Value;

enum class LevelAction : std::uint8_t { added, changed, deleted };  // "new", "change", "delete"

struct LevelChange {
  LevelAction action = LevelAction::added;
  double price = 0;
  double amount = 0;  // the level's new total (0 for deleted)
};

struct Level {
  double price = 0;
  double amount = 0;
  friend bool operator==(const Level&, const Level&) = default;
};

// One book.{instrument}.{interval} message (the decoder reuses its vectors).
struct BookUpdate {
  bool snapshot = false;
  std::string_view instrument_name;  // valid during the callback only
  std::int64_t timestamp = 0;        // ms
  std::uint64_t change_id = 0;
  std::optional<std::uint64_t> prev_change_id;  // absent on snapshots
  std::vector<LevelChange> bids;                // best first
  std::vector<LevelChange> asks;
  std::optional<std::uint32_t> checksum;  // greekwire's; Deribit sends none

  void clear();
};

// How an instrument's prices and amounts are printed for the checksum: the fewest fraction
// digits that print its smallest tick and its min_trade_amount exactly.
struct BookFormat {
  int price_digits = 0;
  int amount_digits = 0;
  friend bool operator==(const BookFormat&, const BookFormat&) = default;
};

// From a public/get_instrument(s) row: tick_size, tick_size_steps[].tick_size and
// min_trade_amount. nullopt when the row lacks them.
std::optional<BookFormat> book_format(const Value& instrument);
// The fewest fraction digits (0..15) that print `value` exactly as the double it is.
int fraction_digits(double value);

// The checksum of docs/PROTOCOL.md over levels given best first (only the first 10 are used).
std::uint32_t book_checksum(const Level* bids, std::size_t bid_count, const Level* asks,
                            std::size_t ask_count, const BookFormat& format);

enum class ApplyResult : std::uint8_t {
  applied,            // a change, chained and (if checked) matching its checksum
  snapshot,           // a snapshot replaced the book
  gap,                // prev_change_id is not our change_id (or a change came before any
                      // snapshot): a message was lost
  checksum_mismatch,  // the book after the message does not match the message's checksum
  inconsistent,       // a level action that does not fit the book (delete of a missing level,
                      // change of a missing one, new for an existing one), or a snapshot
                      // that lists a price twice
  ignored,            // a change while the book is broken: it waits for a snapshot
  wrong_instrument,   // the message is for another instrument
};

std::string_view to_string(ApplyResult result);

class Book {
 public:
  enum class State : std::uint8_t {
    awaiting_snapshot,  // new, or reset for a resubscription
    live,               // in sync with the server as far as we can tell
    broken,             // a gap or a mismatch: waits for a snapshot
  };

  // Levels of one side, best first (a view into the book, valid until it changes).
  class Side {
   public:
    using iterator = std::reverse_iterator<const Level*>;
    Side(const Level* worst_first, std::size_t size) : data_(worst_first), size_(size) {}
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const Level& operator[](std::size_t i) const { return data_[size_ - 1 - i]; }
    const Level& best() const { return data_[size_ - 1]; }
    iterator begin() const { return iterator(data_ + size_); }
    iterator end() const { return iterator(data_); }
    std::vector<Level> to_vector() const { return {begin(), end()}; }

   private:
    const Level* data_;
    std::size_t size_;
  };

  explicit Book(std::string instrument_name = {});

  // Applies one message (see ApplyResult). A snapshot is taken in any state; a change only
  // when live. After gap, checksum_mismatch or inconsistent the book is broken.
  ApplyResult apply(const BookUpdate& update);

  // The number formats for the checksum. When a checksum came before the formats were known,
  // the current book is checked against the last one now: checksum_mismatch breaks the book,
  // otherwise `applied`.
  ApplyResult set_format(const BookFormat& format);
  const std::optional<BookFormat>& format() const { return format_; }
  // The checksum of the current top of book; needs format().
  std::uint32_t checksum() const;

  // Back to awaiting_snapshot (a fresh subscription is on its way); levels are kept until the
  // snapshot replaces them. mark_broken(): the SDK knows the chain is lost (disconnect).
  void reset() { state_ = State::awaiting_snapshot; }
  void mark_broken() { state_ = State::broken; }

  State state() const { return state_; }
  bool live() const { return state_ == State::live; }
  const std::string& instrument_name() const { return instrument_; }
  Side bids() const { return {bids_.data(), bids_.size()}; }
  Side asks() const { return {asks_.data(), asks_.size()}; }
  std::optional<Level> best_bid() const;
  std::optional<Level> best_ask() const;
  std::uint64_t change_id() const { return change_id_; }
  std::int64_t timestamp() const { return timestamp_; }
  // Messages applied, and checksums compared (and found equal) since construction.
  std::uint64_t updates() const { return updates_; }
  std::uint64_t checksums_verified() const { return checksums_verified_; }

 private:
  bool apply_levels(std::vector<Level>& side, const std::vector<LevelChange>& changes,
                    bool descending);
  bool load_snapshot(const BookUpdate& update);
  ApplyResult verify(std::uint32_t expected);

  std::string instrument_;
  std::vector<Level> bids_;  // ascending price: the best bid last
  std::vector<Level> asks_;  // descending price: the best ask last
  State state_ = State::awaiting_snapshot;
  std::uint64_t change_id_ = 0;
  std::int64_t timestamp_ = 0;
  std::optional<BookFormat> format_;
  std::optional<std::uint32_t> unverified_checksum_;  // came before the format was known
  std::uint64_t updates_ = 0;
  std::uint64_t checksums_verified_ = 0;
};

}  // namespace greekwire
