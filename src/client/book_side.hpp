// Applying one side's level changes to a sorted vector of levels: what greekwire::Book does
// to each side, and what the book benchmark measures against other layouts.
#pragma once

#include <algorithm>
#include <vector>

#include "greekwire/book.hpp"

namespace gw::client {

// Applies `changes` to `side`, whose levels are sorted so that `Before(a, b)` is true when the
// level at price a is stored before the one at price b; false (side half-applied) when a
// change does not fit: an added level that exists, a changed or deleted one that does not.
// The Book stores each side worst first (bids std::less, asks std::greater), so that changes
// near the top move few levels. A template, so that the comparison is inlined in the binary
// search instead of branching on the side for every probe.
template <class Before>
bool apply_side(std::vector<greekwire::Level>& side,
                const std::vector<greekwire::LevelChange>& changes) {
  using greekwire::Level;
  using greekwire::LevelAction;
  const Before before;
  for (const greekwire::LevelChange& change : changes) {
    const auto it = std::lower_bound(
        side.begin(), side.end(), change.price,
        [&before](const Level& level, double price) { return before(level.price, price); });
    const bool exists = it != side.end() && it->price == change.price;
    switch (change.action) {
      case LevelAction::added:
        if (exists) return false;
        side.insert(it, {change.price, change.amount});
        break;
      case LevelAction::changed:
        if (!exists) return false;
        it->amount = change.amount;
        break;
      case LevelAction::deleted:
        if (!exists) return false;
        side.erase(it);
        break;
    }
  }
  return true;
}

}  // namespace gw::client
