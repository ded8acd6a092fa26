#include "gateway/directory.hpp"

#include <mutex>

namespace gw::gateway {

void Directory::add(InstrumentPtr instrument) {
  std::unique_lock lock(mutex_);
  const market::InstrumentId id = instrument->id;
  if (by_id_.size() <= id) by_id_.resize(id + 1);
  by_id_[id] = instrument;
  by_name_[instrument->name] = std::move(instrument);
}

void Directory::close(market::InstrumentId id) {
  std::unique_lock lock(mutex_);
  if (id >= by_id_.size() || !by_id_[id]) return;
  auto closed = std::make_shared<market::Instrument>(*by_id_[id]);
  closed->is_active = false;
  by_name_[closed->name] = closed;
  by_id_[id] = std::move(closed);
}

InstrumentPtr Directory::find(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

InstrumentPtr Directory::find(market::InstrumentId id) const {
  std::shared_lock lock(mutex_);
  return id < by_id_.size() ? by_id_[id] : nullptr;
}

std::vector<InstrumentPtr> Directory::select(std::optional<market::Currency> currency,
                                             std::optional<market::Kind> kind, bool expired) const {
  std::shared_lock lock(mutex_);
  std::vector<InstrumentPtr> out;
  for (const InstrumentPtr& instrument : by_id_) {  // by id: the order instruments were listed
    if (!instrument || instrument->is_active == expired) continue;
    if (currency && instrument->currency != *currency) continue;
    if (kind && instrument->kind != *kind) continue;
    out.push_back(instrument);
  }
  return out;
}

void Directory::set_index(market::Currency currency, double price, market::TimestampMs timestamp) {
  std::unique_lock lock(mutex_);
  index_[static_cast<std::size_t>(currency)] = {price, timestamp};
}

Directory::Index Directory::index(market::Currency currency) const {
  std::shared_lock lock(mutex_);
  return index_[static_cast<std::size_t>(currency)];
}

}  // namespace gw::gateway
