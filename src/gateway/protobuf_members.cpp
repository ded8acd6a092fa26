#include "gateway/protobuf_members.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace gw::gateway {

namespace {

namespace pb = codec::protobuf;

const pb::Schema& schema() {
  return pb::greekwire_schema();
}

// Every member of Envelope.result by its method's name: "public_ticker" answers
// "public/ticker" (the first '_' is the method's '/'), sorted for binary search.
using MethodMembers = std::vector<std::pair<std::string, const pb::Field*>>;

MethodMembers method_members() {
  MethodMembers members;
  const pb::Field* choice = schema().find_key(schema().root_message(), "result");
  if (choice == nullptr) return members;
  for (std::int16_t i = 0; i < choice->count; ++i) {
    const pb::Field& member = schema().at(static_cast<std::int16_t>(choice->first + i));
    if (member.role != pb::FieldRole::member) continue;  // result_json
    std::string method(member.name);
    const std::size_t underscore = method.find('_');
    if (underscore == std::string::npos) continue;
    method[underscore] = '/';
    members.emplace_back(std::move(method), &member);
  }
  std::sort(members.begin(), members.end());
  return members;
}

std::string_view data_member_name(const ChannelSpec& spec) {
  switch (spec.kind) {
    case ChannelKind::book:
      return "book";
    case ChannelKind::book_grouped:
      return "book_grouped";
    case ChannelKind::ticker:
      return "ticker";
    case ChannelKind::trades:
    case ChannelKind::trades_by_kind:
      return "trades";
    case ChannelKind::price_index:
      return "deribit_price_index";
    case ChannelKind::markprice:
      return "markprice_options";
    case ChannelKind::user_orders:
      return spec.interval == Interval::raw ? "user_orders" : "user_orders_list";
    case ChannelKind::user_trades:
      return "user_trades";
    case ChannelKind::user_portfolio:
      return "user_portfolio";
    case ChannelKind::volsurface:
      return "volsurface";
    case ChannelKind::chain_blocks:
      return "chain_blocks";
    case ChannelKind::chain_transfers:
      return "chain_transfers";
  }
  return {};
}

const pb::Field* params_member(std::string_view name) {
  const pb::Message* params = schema().find_message("greekwire.v2.Params");
  return params == nullptr ? nullptr : schema().find_member(*params, "data", name);
}

}  // namespace

const pb::Field* result_member(std::string_view method) {
  static const MethodMembers members = method_members();
  const auto it =
      std::lower_bound(members.begin(), members.end(), method,
                       [](const auto& entry, std::string_view name) { return entry.first < name; });
  return it != members.end() && it->first == method ? it->second : nullptr;
}

const pb::Field* data_member(const ChannelSpec& spec) {
  // The kinds' members, looked up once (the user_orders list form in the extra slot).
  static constexpr std::size_t kKinds = static_cast<std::size_t>(ChannelKind::chain_transfers) + 1;
  static const std::array<const pb::Field*, kKinds + 1> members = [] {
    std::array<const pb::Field*, kKinds + 1> found{};
    for (std::size_t k = 0; k < kKinds; ++k) {
      ChannelSpec any;
      any.kind = static_cast<ChannelKind>(k);
      any.interval = Interval::raw;
      found[k] = params_member(data_member_name(any));
    }
    found[kKinds] = params_member("user_orders_list");
    return found;
  }();
  if (spec.kind == ChannelKind::user_orders && spec.interval != Interval::raw) {
    return members[kKinds];
  }
  return members[static_cast<std::size_t>(spec.kind)];
}

}  // namespace gw::gateway
