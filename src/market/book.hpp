// An L3 order book (every resting order, FIFO per price level) that keeps its L2 view (price →
// total amount) current and turns each message's mutations into Deribit's book changes.
//
// Layout, chosen for the matching engine's hot path (place, cancel, move near the top):
//  - orders and levels live in two pools (vectors with free lists) and link by 32-bit index:
//    an order is unlinked from its level's FIFO in O(1), and nothing is allocated once the pools
//    have grown to the working-set size;
//  - each side is a sorted array of level keys with the best price at the back (key = price for
//    bids, −price for asks, ascending), so inserting or deleting a level near the top moves
//    only the few entries behind it; levels are found by a branchless binary search.
//
// Changes: mutations between two publish() calls form one message. The book records the amount
// each touched level had when the message began; publish() compares with the amount now and
// emits `new`/`change`/`delete` per level (a level created and emptied within the message emits
// nothing), each side sorted best first, and the checksum of the top 10 levels. The checksum is
// recomputed only when a change lands in the top 10 of its side, and then only the part of its
// payload from the best changed rank down is rebuilt (each level caches its printed text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "market/checksum.hpp"
#include "market/types.hpp"

namespace gw::market {

// Deribit's actions in book changes: "new", "change", "delete".
enum class BookAction : std::uint8_t { add, change, remove };
constexpr std::string_view to_string(BookAction a) {
  return a == BookAction::add ? "new" : a == BookAction::change ? "change" : "delete";
}

struct LevelUpdate {
  Ticks price = 0;
  Lots amount = 0;  // the level's new total; 0 for a delete
  BookAction action = BookAction::add;
  bool operator==(const LevelUpdate&) const = default;
};

// One published message. The spans point into the book and stay valid until its next mutation.
struct BookDelta {
  std::uint64_t change_id = 0;
  std::uint64_t prev_change_id = 0;   // the change_id of the book's previous message (0: none)
  std::span<const LevelUpdate> bids;  // best first
  std::span<const LevelUpdate> asks;  // best first
  std::uint32_t checksum = 0;         // of the book after this message
};

class Book {
 public:
  using Handle = std::uint32_t;  // an order's slot; stable while the order rests
  static constexpr Handle kNone = 0xFFFFFFFFu;

  struct Order {
    OrderId id = 0;
    Ticks price = 0;
    Lots amount = 0;      // what still rests
    Handle prev = kNone;  // FIFO neighbours within the level (free list link when free)
    Handle next = kNone;
    std::uint32_t level = 0;
    std::uint32_t tag = 0;  // the owner's reference (the engine's order slot)
    Side side = Side::buy;
  };

  explicit Book(BookFormat format = {}, std::size_t reserve_orders = 256);

  // Rests an order at the tail of its price level. `amount` must be positive.
  Handle add(OrderId id, Side side, Ticks price, Lots amount, std::uint32_t tag = 0);
  // Takes `amount` (≤ what rests) off the order without moving it in its queue; the order is
  // removed when nothing is left. Returns true when it was removed (the handle is then dead).
  bool reduce(Handle h, Lots amount);
  void remove(Handle h);

  const Order& order(Handle h) const { return orders_[h]; }
  bool empty(Side s) const { return best_key_[index(s)] == kNoKey; }
  // Best price of a side; the side must not be empty.
  Ticks best_price(Side s) const { return price_of(s, best_key_[index(s)]); }
  // The oldest order at the best level of a side (kNone when the side is empty), and the one
  // queued behind an order at the same level (kNone at the end of the level).
  Handle front(Side s) const;
  Handle next(Handle h) const { return orders_[h].next; }

  std::size_t level_count(Side s) const { return side_[index(s)].keys.size(); }
  std::size_t order_count() const { return order_count_; }
  // The level `rank` places from the best (rank < level_count(s)).
  PriceLevel level(Side s, std::size_t rank) const;
  // The amount resting at `price` on side `s` (0 when there is no level).
  Lots amount_at(Side s, Ticks price) const;
  // The orders of the level at `price`, oldest first (for tests and snapshots of L3).
  Handle level_front(Side s, Ticks price) const;

  // Ends the current message. Returns the L2 changes since the previous publish() with
  // `change_id` as their id, or nullptr (and `change_id` unused) when L2 did not change.
  const BookDelta* publish(std::uint64_t change_id);
  // True when mutations since the last publish() may have changed L2.
  bool pending() const { return !touches_.empty(); }
  std::uint64_t change_id() const { return change_id_; }
  std::uint32_t checksum() const { return checksum_; }  // as of the last publish()
  const BookFormat& format() const { return format_; }

  // Every level, best first (a snapshot for book.{instrument}.{interval}).
  void snapshot(std::vector<PriceLevel>& bids, std::vector<PriceLevel>& asks) const;
  // The grouped, depth-limited view of book.{instrument}.{group}.{depth}.{interval}: prices
  // rounded to multiples of `group` ticks (bids down, asks up, as Deribit) and summed; group
  // ≤ 1 means "none". At most `depth` levels per side.
  void view(Ticks group, std::size_t depth, std::vector<PriceLevel>& bids,
            std::vector<PriceLevel>& asks) const;
  // The checksum of the current book, computed from scratch (including unpublished mutations).
  std::uint32_t compute_checksum() const;

 private:
  struct Level {
    Ticks price = 0;
    Lots amount = 0;
    Handle head = kNone;  // oldest order (free list link when the level is free)
    Handle tail = kNone;
    std::uint32_t touch = 0;  // index in touches_ when epoch == the book's epoch
    std::uint64_t epoch = 0;
    // "price:amount" as the checksum prints it, valid while text_amount == amount. A message
    // usually changes one or two of the top 20 levels, so the others are not printed again.
    mutable Lots text_amount = -1;
    mutable std::uint8_t price_size = 0;
    mutable std::uint8_t text_size = 0;
    mutable char text[2 * 21 + 2];
  };
  // A level touched in the current message, with its amount when the message began.
  struct Touch {
    Ticks price;
    Lots before;
    std::uint32_t level;  // kNone once the level is deleted
    Side side;
  };
  // Keys ascending, the best level last; `levels` holds the level slot of each key.
  struct Ladder {
    std::vector<Ticks> keys;
    std::vector<std::uint32_t> levels;
  };

  static constexpr Ticks kNoKey = std::numeric_limits<Ticks>::min();  // an empty side's best

  static std::size_t index(Side s) { return s == Side::buy ? 0 : 1; }
  static Ticks key_of(Side s, Ticks price) { return s == Side::buy ? price : -price; }
  static Ticks price_of(Side s, Ticks key) { return s == Side::buy ? key : -key; }
  static std::size_t lower_bound(const std::vector<Ticks>& keys, Ticks key);

  std::uint32_t find_or_create_level(Side s, Ticks price);
  void delete_level(Side s, std::uint32_t l);
  void touch(Side s, std::uint32_t l);
  void unlink(Handle h);
  std::size_t better_levels(Side s, Ticks price) const;
  std::uint32_t update_checksum(std::size_t first_rank);
  const Level& printed(std::uint32_t l) const {
    const Level& level = levels_[l];
    if (level.text_amount != level.amount) print(level);
    return level;
  }
  void print(const Level& level) const;

  // Each side's best key (keys.back()), kNoKey when empty: the noise traders and tickers ask a
  // random book for its best prices, and this answers from the book's first cache line instead
  // of two more (the ladder's vector and its data).
  Ticks best_key_[2] = {kNoKey, kNoKey};
  BookFormat format_;
  std::vector<Order> orders_;
  Handle free_order_ = kNone;
  std::size_t order_count_ = 0;
  std::vector<Level> levels_;
  std::uint32_t free_level_ = kNone;
  Ladder side_[2];

  std::uint64_t epoch_ = 1;  // the current message
  std::vector<Touch> touches_;
  std::vector<LevelUpdate> out_[2];
  BookDelta delta_;
  std::uint64_t change_id_ = 0;
  std::uint32_t checksum_ = 0;

  // The checksum payload as of the last publish(), and where each of its segments ("price:
  // amount" of one level, in interleaved order) ends. A message that changes the book from
  // rank r down keeps the segments above r and rebuilds the rest.
  char payload_[kMaxChecksumPayload + sizeof(Level::text)];
  std::uint16_t segment_end_[2 * kChecksumDepth] = {};
  std::size_t segments_ = 0;
};

}  // namespace gw::market
