// What every I/O thread may ask without a round trip to the venue: the listed instruments and
// the latest index prices. The publisher thread writes it as InstrumentListed / IndexPrice
// events arrive; readers take a shared lock (instruments change a few times a day).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "market/instrument.hpp"

namespace gw::gateway {

using InstrumentPtr = std::shared_ptr<const market::Instrument>;

// Lets unordered maps keyed by std::string be searched with a string_view, without a copy.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Directory {
 public:
  void add(InstrumentPtr instrument);
  void close(market::InstrumentId id);  // expired: kept for expired=true queries
  InstrumentPtr find(std::string_view name) const;
  InstrumentPtr find(market::InstrumentId id) const;
  // Instruments of a currency (nullopt: all), active or expired ones.
  std::vector<InstrumentPtr> select(std::optional<market::Currency> currency,
                                    std::optional<market::Kind> kind, bool expired) const;

  struct Index {
    double price = 0;
    market::TimestampMs timestamp = 0;
  };
  void set_index(market::Currency currency, double price, market::TimestampMs timestamp);
  Index index(market::Currency currency) const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, InstrumentPtr, StringHash, std::equal_to<>> by_name_;
  std::vector<InstrumentPtr> by_id_;  // indexed by instrument id
  std::array<Index, 2> index_{};
};

}  // namespace gw::gateway
