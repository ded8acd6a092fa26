// The same trade can reach a feed on two channels (trades.{instrument} and
// trades.{kind}.{currency}): within one connection an instrument's trade_seq only grows, so a
// trade not above the last one seen for its instrument was fed already.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/mirror.hpp"

namespace gw::feed {

class RepeatedTrades {
 public:
  // Removes the trades seen before from `inputs`; returns how many.
  std::size_t drop(std::vector<sim::FeedInput>& inputs) {
    const auto repeated = [this](const sim::FeedInput& input) {
      const auto* trade = std::get_if<sim::FeedTrade>(&input);
      if (trade == nullptr) return false;
      const auto [it, first] = last_seq_.try_emplace(trade->instrument, trade->trade_seq);
      if (first) return false;
      if (trade->trade_seq <= it->second) return true;
      it->second = trade->trade_seq;
      return false;
    };
    const auto kept = std::remove_if(inputs.begin(), inputs.end(), repeated);
    const auto dropped = static_cast<std::size_t>(inputs.end() - kept);
    inputs.erase(kept, inputs.end());
    return dropped;
  }
  // A new connection (a restarted upstream numbers its trades afresh).
  void forget() { last_seq_.clear(); }

 private:
  std::map<std::string, std::uint64_t, std::less<>> last_seq_;  // per instrument
};

}  // namespace gw::feed
