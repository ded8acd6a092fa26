#include "gateway/order_audit.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "gateway/audit_log.hpp"

namespace gw::gateway {
namespace {

constexpr std::string_view kPrivate = "private/";
constexpr std::size_t kMaxValue = 64;  // a requested value is cut there (labels are ≤ 64)

constexpr std::array<std::string_view, 14> kOrderActions = {"buy",
                                                            "sell",
                                                            "edit",
                                                            "edit_by_label",
                                                            "cancel",
                                                            "cancel_all",
                                                            "cancel_all_by_currency",
                                                            "cancel_all_by_currency_pair",
                                                            "cancel_all_by_instrument",
                                                            "cancel_all_by_kind_or_type",
                                                            "cancel_by_label",
                                                            "cancel_quotes",
                                                            "close_position",
                                                            "mass_quote"};

// What a request asked, in this order when present.
constexpr std::array<std::string_view, 7> kTextParams = {
    "instrument_name", "order_id", "type", "time_in_force", "label", "currency", "kind"};
constexpr std::array<std::string_view, 3> kNumberParams = {"amount", "contracts", "price"};

}  // namespace

bool is_order_action(std::string_view method) {
  if (!method.starts_with(kPrivate)) return false;
  const std::string_view name = method.substr(kPrivate.size());
  return std::find(kOrderActions.begin(), kOrderActions.end(), name) != kOrderActions.end();
}

std::string audit_number(double value) {
  std::array<char, 32> text{};
  const auto [end, error] = std::to_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() ? std::string(text.data(), end) : std::string();
}

std::shared_ptr<OrderAuditTrail> OrderAuditTrail::begin(std::string_view method,
                                                        const codec::Params& params,
                                                        std::string_view ip,
                                                        std::string_view request_id) {
  if (!is_order_action(method)) return nullptr;
  auto trail = std::make_shared<OrderAuditTrail>();
  trail->event_ = "order.";
  trail->event_ += method.substr(kPrivate.size());
  trail->ip_ = ip;
  trail->request_id_ = request_id.substr(0, kMaxValue);
  for (const std::string_view key : kTextParams) {
    if (const auto value = params.get_string(key)) {
      trail->details_.emplace_back(key, value.value.substr(0, kMaxValue));
    }
  }
  for (const std::string_view key : kNumberParams) {
    if (const auto value = params.get_double(key)) {
      trail->details_.emplace_back(key, audit_number(value.value));
    }
  }
  return trail;
}

void OrderAuditTrail::set_caller(std::string_view account, std::string_view client_id) {
  account_ = account;
  client_id_ = client_id;
}

void OrderAuditTrail::succeeded(AuditLog* log,
                                std::vector<std::pair<std::string, std::string>> outcome,
                                std::int64_t now_ms) {
  if (written_) return;
  details_.emplace_back("outcome", "ok");
  for (auto& entry : outcome) {
    // The outcome's value wins over the request's (edit and cancel name the order_id twice).
    const auto same = std::find_if(details_.begin(), details_.end(),
                                   [&](const auto& detail) { return detail.first == entry.first; });
    if (same != details_.end()) {
      same->second = std::move(entry.second);
    } else {
      details_.push_back(std::move(entry));
    }
  }
  write(log, now_ms);
}

void OrderAuditTrail::failed(AuditLog* log, const codec::ErrorCode& error, std::string_view param,
                             std::int64_t now_ms) {
  if (written_) return;
  details_.emplace_back("outcome", "error");
  details_.emplace_back("error_code", std::to_string(error.code));
  details_.emplace_back("error", error.message);
  if (!param.empty()) details_.emplace_back("param", param);
  write(log, now_ms);
}

void OrderAuditTrail::write(AuditLog* log, std::int64_t now_ms) {
  written_ = true;
  if (log == nullptr) return;
  AuditEvent event;
  event.event = event_;
  event.account = account_;
  event.client_id = client_id_;
  event.ip = ip_;
  event.request_id = request_id_;
  event.details.reserve(details_.size());
  for (const auto& [name, value] : details_) event.details.emplace_back(name, value);
  log->record(event, now_ms);
}

}  // namespace gw::gateway
