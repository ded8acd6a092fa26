// The audit record of one order action (private/buy, sell, edit, cancel and the cancel_all
// family): started when the request arrives, with what it asked; given the caller's account once
// authenticated; written once, with its outcome, when the answer goes out:
//
//   {"time":"...","event":"order.buy","account":"demo","client_id":"fo7WAPRm4P",
//    "ip":"127.0.0.1","request_id":"7","details":{"instrument_name":"BTC-PERPETUAL",
//    "amount":"10","price":"64000","label":"bot-1","outcome":"ok","order_id":"BTC-42",
//    "order_state":"open"}}
//
// An error outcome carries "outcome":"error", "error_code" and "error" (Deribit's code and
// message) and, for −32602, the "param". Requested values are copied (at most 64 characters
// each), so the record outlives the request's buffers and travels with the answer's Reply
// through the venue's callbacks; it is only touched on the reply's I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/errors.hpp"
#include "codec/request.hpp"

namespace gw::gateway {

class AuditLog;

// buy, sell, edit, cancel, cancel_all, cancel_all_by_currency, cancel_all_by_instrument (and
// the other order-entry methods Deribit has, should the gateway grow them).
bool is_order_action(std::string_view method);

class OrderAuditTrail {
 public:
  // Null unless `method` is an order action.
  static std::shared_ptr<OrderAuditTrail> begin(std::string_view method,
                                                const codec::Params& params, std::string_view ip,
                                                std::string_view request_id);

  void set_caller(std::string_view account, std::string_view client_id);
  // The outcome; each writes the record unless one was written already.
  void succeeded(AuditLog* log, std::vector<std::pair<std::string, std::string>> outcome,
                 std::int64_t now_ms);
  void failed(AuditLog* log, const codec::ErrorCode& error, std::string_view param,
              std::int64_t now_ms);
  bool written() const { return written_; }

 private:
  void write(AuditLog* log, std::int64_t now_ms);

  std::string event_;  // "order.buy", ...
  std::string account_;
  std::string client_id_;
  std::string ip_;
  std::string request_id_;
  std::vector<std::pair<std::string, std::string>> details_;  // the request, then the outcome
  bool written_ = false;
};

// A number as the shortest text that reads back as the same double ("65000", "0.0445").
std::string audit_number(double value);

}  // namespace gw::gateway
