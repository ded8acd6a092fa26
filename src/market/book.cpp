#include "market/book.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace gw::market {

namespace {

Ticks floor_div(Ticks a, Ticks b) {
  const Ticks q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

Ticks ceil_div(Ticks a, Ticks b) {
  return -floor_div(-a, b);
}

// Insertion sort: a message changes a handful of levels.
template <typename Better>
void sort_levels(std::vector<LevelUpdate>& v, Better better) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    const LevelUpdate x = v[i];
    std::size_t j = i;
    for (; j > 0 && better(x.price, v[j - 1].price); --j) v[j] = v[j - 1];
    v[j] = x;
  }
}

}  // namespace

Book::Book(BookFormat format, std::size_t reserve_orders) : format_(format) {
  orders_.reserve(reserve_orders);
  levels_.reserve(reserve_orders / 2 + 16);
  for (Ladder& l : side_) {
    l.keys.reserve(reserve_orders / 4 + 16);
    l.levels.reserve(reserve_orders / 4 + 16);
  }
  touches_.reserve(64);
  out_[0].reserve(64);
  out_[1].reserve(64);
}

// The first index whose key is ≥ `key`: a branchless binary search. The comparisons are
// unpredictable, so each step advances by a mask instead of a branch (GCC turns the obvious
// `cond ? base + half : base` back into a jump).
std::size_t Book::lower_bound(const std::vector<Ticks>& keys, Ticks key) {
  std::size_t n = keys.size();
  if (n == 0) return 0;
  const Ticks* k = keys.data();
  std::size_t base = 0;
  while (n > 1) {
    const std::size_t half = n / 2;
    base += half & (0 - static_cast<std::size_t>(k[base + half - 1] < key));
    n -= half;
  }
  return base + static_cast<std::size_t>(k[base] < key);
}

void Book::touch(Side s, std::uint32_t l) {
  Level& level = levels_[l];
  if (level.epoch == epoch_) return;
  level.epoch = epoch_;
  level.touch = static_cast<std::uint32_t>(touches_.size());
  touches_.push_back({level.price, level.amount, l, s});
}

std::uint32_t Book::find_or_create_level(Side s, Ticks price) {
  Ladder& ladder = side_[index(s)];
  const Ticks key = key_of(s, price);
  const std::size_t pos = lower_bound(ladder.keys, key);
  if (pos < ladder.keys.size() && ladder.keys[pos] == key) {
    const std::uint32_t l = ladder.levels[pos];
    touch(s, l);
    return l;
  }
  std::uint32_t l;
  if (free_level_ != kNone) {
    l = free_level_;
    free_level_ = levels_[l].head;
  } else {
    l = static_cast<std::uint32_t>(levels_.size());
    levels_.emplace_back();
  }
  Level& level = levels_[l];
  level = Level{};
  level.price = price;
  level.epoch = epoch_;
  ladder.keys.insert(ladder.keys.begin() + static_cast<std::ptrdiff_t>(pos), key);
  ladder.levels.insert(ladder.levels.begin() + static_cast<std::ptrdiff_t>(pos), l);
  best_key_[index(s)] = ladder.keys.back();
  // A level emptied earlier in this message keeps its amount from before the message, so that
  // delete-then-recreate publishes as one `change` (or nothing).
  for (std::size_t t = touches_.size(); t-- > 0;) {
    Touch& old = touches_[t];
    if (old.level == kNone && old.side == s && old.price == price) {
      old.level = l;
      level.touch = static_cast<std::uint32_t>(t);
      return l;
    }
  }
  level.touch = static_cast<std::uint32_t>(touches_.size());
  touches_.push_back({price, 0, l, s});
  return l;
}

void Book::delete_level(Side s, std::uint32_t l) {
  Ladder& ladder = side_[index(s)];
  const std::size_t pos = lower_bound(ladder.keys, key_of(s, levels_[l].price));
  assert(pos < ladder.keys.size() && ladder.levels[pos] == l);
  ladder.keys.erase(ladder.keys.begin() + static_cast<std::ptrdiff_t>(pos));
  ladder.levels.erase(ladder.levels.begin() + static_cast<std::ptrdiff_t>(pos));
  best_key_[index(s)] = ladder.keys.empty() ? kNoKey : ladder.keys.back();
  touches_[levels_[l].touch].level = kNone;  // every path here touched the level first
  levels_[l].epoch = 0;
  levels_[l].head = free_level_;
  free_level_ = l;
}

Book::Handle Book::add(OrderId id, Side side, Ticks price, Lots amount, std::uint32_t tag) {
  assert(amount > 0);
  Handle h;
  if (free_order_ != kNone) {
    h = free_order_;
    free_order_ = orders_[h].next;
  } else {
    h = static_cast<Handle>(orders_.size());
    orders_.emplace_back();
  }
  const std::uint32_t l = find_or_create_level(side, price);
  Level& level = levels_[l];
  Order& o = orders_[h];
  o.id = id;
  o.price = price;
  o.amount = amount;
  o.prev = level.tail;
  o.next = kNone;
  o.level = l;
  o.tag = tag;
  o.side = side;
  if (level.tail != kNone) {
    orders_[level.tail].next = h;
  } else {
    level.head = h;
  }
  level.tail = h;
  level.amount += amount;
  ++order_count_;
  return h;
}

// Takes the order out of its level's FIFO and frees it; deletes the level when it empties.
void Book::unlink(Handle h) {
  Order& o = orders_[h];
  Level& level = levels_[o.level];
  if (o.prev != kNone) {
    orders_[o.prev].next = o.next;
  } else {
    level.head = o.next;
  }
  if (o.next != kNone) {
    orders_[o.next].prev = o.prev;
  } else {
    level.tail = o.prev;
  }
  if (level.head == kNone) delete_level(o.side, o.level);
  o.id = 0;
  o.amount = 0;
  o.next = free_order_;
  free_order_ = h;
  --order_count_;
}

bool Book::reduce(Handle h, Lots amount) {
  Order& o = orders_[h];
  assert(amount > 0 && amount <= o.amount);
  touch(o.side, o.level);
  levels_[o.level].amount -= amount;
  o.amount -= amount;
  if (o.amount != 0) return false;
  unlink(h);
  return true;
}

void Book::remove(Handle h) {
  Order& o = orders_[h];
  touch(o.side, o.level);
  levels_[o.level].amount -= o.amount;
  unlink(h);
}

Book::Handle Book::front(Side s) const {
  const Ladder& ladder = side_[index(s)];
  return ladder.levels.empty() ? kNone : levels_[ladder.levels.back()].head;
}

PriceLevel Book::level(Side s, std::size_t rank) const {
  const Ladder& ladder = side_[index(s)];
  const Level& l = levels_[ladder.levels[ladder.levels.size() - 1 - rank]];
  return {l.price, l.amount};
}

Lots Book::amount_at(Side s, Ticks price) const {
  const Ladder& ladder = side_[index(s)];
  const Ticks key = key_of(s, price);
  const std::size_t pos = lower_bound(ladder.keys, key);
  if (pos == ladder.keys.size() || ladder.keys[pos] != key) return 0;
  return levels_[ladder.levels[pos]].amount;
}

Book::Handle Book::level_front(Side s, Ticks price) const {
  const Ladder& ladder = side_[index(s)];
  const Ticks key = key_of(s, price);
  const std::size_t pos = lower_bound(ladder.keys, key);
  if (pos == ladder.keys.size() || ladder.keys[pos] != key) return kNone;
  return levels_[ladder.levels[pos]].head;
}

const BookDelta* Book::publish(std::uint64_t change_id) {
  out_[0].clear();
  out_[1].clear();
  // The best rank at which the book changed: the number of levels now better than the best
  // changed price. For a deleted level that is the rank it had, so the top 10 changed iff this
  // is under 10.
  std::size_t first_rank = kChecksumDepth;
  for (const Touch& t : touches_) {
    const Lots after = t.level == kNone ? 0 : levels_[t.level].amount;
    if (after == t.before) continue;
    const BookAction action = t.before == 0 ? BookAction::add
                              : after == 0  ? BookAction::remove
                                            : BookAction::change;
    out_[index(t.side)].push_back({t.price, after, action});
    first_rank = std::min(first_rank, better_levels(t.side, t.price));
  }
  touches_.clear();
  ++epoch_;
  if (out_[0].empty() && out_[1].empty()) return nullptr;
  sort_levels(out_[0], [](Ticks a, Ticks b) { return a > b; });
  sort_levels(out_[1], [](Ticks a, Ticks b) { return a < b; });
  if (first_rank < kChecksumDepth) checksum_ = update_checksum(first_rank);
  delta_.change_id = change_id;
  delta_.prev_change_id = change_id_;
  delta_.bids = out_[0];
  delta_.asks = out_[1];
  delta_.checksum = checksum_;
  change_id_ = change_id;
  return &delta_;
}

void Book::print(const Level& level) const {
  if (level.price_size == 0) {
    level.price_size = static_cast<std::uint8_t>(
        format_fixed(level.text, level.price * format_.price_scale, format_.price_decimals));
    level.text[level.price_size] = ':';
  }
  const std::size_t amount_size =
      format_fixed(level.text + level.price_size + 1, level.amount * format_.amount_scale,
                   format_.amount_decimals);
  level.text_size = static_cast<std::uint8_t>(level.price_size + 1 + amount_size);
  level.text_amount = level.amount;
}

std::size_t Book::better_levels(Side s, Ticks price) const {
  const std::vector<Ticks>& keys = side_[index(s)].keys;
  return keys.size() - lower_bound(keys, key_of(s, price) + 1);
}

// Segments of ranks above `first_rank` are those of the last payload: none of their levels
// changed, and the count of each side's levels above that rank did not change either.
std::uint32_t Book::update_checksum(std::size_t first_rank) {
  const Ladder& bids = side_[0];
  const Ladder& asks = side_[1];
  const std::size_t nb = std::min(bids.levels.size(), kChecksumDepth);
  const std::size_t na = std::min(asks.levels.size(), kChecksumDepth);
  std::size_t k = std::min(nb, first_rank) + std::min(na, first_rank);
  assert(k <= segments_);
  if (k > segments_) k = first_rank = 0;  // cannot happen; rebuild all rather than trust it
  std::size_t n = k == 0 ? 0 : segment_end_[k - 1];
  auto put = [&](const Ladder& ladder, std::size_t rank) {
    const Level& l = printed(ladder.levels[ladder.levels.size() - 1 - rank]);
    if (n != 0) payload_[n++] = ':';
    std::memcpy(payload_ + n, l.text, sizeof l.text);  // whole: see compute_checksum()
    n += l.text_size;
    segment_end_[k++] = static_cast<std::uint16_t>(n);
  };
  for (std::size_t i = first_rank; i < std::max(nb, na); ++i) {
    if (i < nb) put(bids, i);
    if (i < na) put(asks, i);
  }
  segments_ = k;
  return crc32(0, payload_, n);
}

// Same payload as book_checksum() (checksum.cpp), assembled from the levels' cached text.
std::uint32_t Book::compute_checksum() const {
  // Each level's text is copied whole (a fixed-size copy is a few vector moves; a variable one
  // became `rep movsq`, 20+ cycles each here), so the buffer has a text's worth of slack.
  char buf[kMaxChecksumPayload + sizeof(Level::text)];
  std::size_t n = 0;
  const Ladder& bids = side_[0];
  const Ladder& asks = side_[1];
  const std::size_t nb = std::min(bids.levels.size(), kChecksumDepth);
  const std::size_t na = std::min(asks.levels.size(), kChecksumDepth);
  auto put = [&](const Ladder& ladder, std::size_t rank) {
    const Level& l = printed(ladder.levels[ladder.levels.size() - 1 - rank]);
    if (n != 0) buf[n++] = ':';
    std::memcpy(buf + n, l.text, sizeof l.text);
    n += l.text_size;
  };
  for (std::size_t i = 0; i < std::max(nb, na); ++i) {
    if (i < nb) put(bids, i);
    if (i < na) put(asks, i);
  }
  return crc32(0, buf, n);
}

void Book::snapshot(std::vector<PriceLevel>& bids, std::vector<PriceLevel>& asks) const {
  std::vector<PriceLevel>* out[2] = {&bids, &asks};
  for (std::size_t i = 0; i < 2; ++i) {
    out[i]->clear();
    const Ladder& ladder = side_[i];
    for (std::size_t k = ladder.levels.size(); k-- > 0;) {
      const Level& l = levels_[ladder.levels[k]];
      out[i]->push_back({l.price, l.amount});
    }
  }
}

void Book::view(Ticks group, std::size_t depth, std::vector<PriceLevel>& bids,
                std::vector<PriceLevel>& asks) const {
  std::vector<PriceLevel>* out[2] = {&bids, &asks};
  for (std::size_t i = 0; i < 2; ++i) {
    std::vector<PriceLevel>& v = *out[i];
    v.clear();
    const Ladder& ladder = side_[i];
    for (std::size_t k = ladder.levels.size(); k-- > 0;) {
      const Level& l = levels_[ladder.levels[k]];
      Ticks p = l.price;
      if (group > 1) p = (i == 0 ? floor_div(p, group) : ceil_div(p, group)) * group;
      if (!v.empty() && v.back().price == p) {
        v.back().amount += l.amount;
        continue;
      }
      if (v.size() == depth) break;
      v.push_back({p, l.amount});
    }
  }
}

}  // namespace gw::market
