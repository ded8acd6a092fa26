// Deribit's error codes and their `message` strings, as listed in Deribit's General API
// Documentation v2.1.1 (the table CCXT and deribit-base follow; docs.deribit.com's newer
// "errors" page conflicts with it and is not used), plus the JSON-RPC 2.0 codes Deribit answers
// with. An error response is {"code":<code>,"message":"<message>","data":<optional>}.
#pragma once

#include <string_view>

namespace gw::codec {

struct ErrorCode {
  int code;
  std::string_view message;
};

namespace errors {

inline constexpr ErrorCode authorization_required{10000, "authorization_required"};
inline constexpr ErrorCode error{10001, "error"};
inline constexpr ErrorCode qty_too_low{10002, "qty_too_low"};
inline constexpr ErrorCode order_overlap{10003, "order_overlap"};
inline constexpr ErrorCode order_not_found{10004, "order_not_found"};
inline constexpr ErrorCode price_too_low{10005, "price_too_low"};
inline constexpr ErrorCode price_too_high{10007, "price_too_high"};
inline constexpr ErrorCode not_enough_funds{10009, "not_enough_funds"};
inline constexpr ErrorCode already_closed{10010, "already_closed"};
inline constexpr ErrorCode book_closed{10012, "book_closed"};
inline constexpr ErrorCode invalid_or_unsupported_instrument{10020,
                                                             "invalid_or_unsupported_instrument"};
inline constexpr ErrorCode invalid_amount{10021, "invalid_amount"};
inline constexpr ErrorCode invalid_price{10023, "invalid_price"};
inline constexpr ErrorCode invalid_order_id{10025, "invalid_order_id"};
inline constexpr ErrorCode too_many_requests{10028, "too_many_requests"};
inline constexpr ErrorCode not_owner_of_order{10029, "not_owner_of_order"};
inline constexpr ErrorCode must_be_websocket_request{10030, "must_be_websocket_request"};
inline constexpr ErrorCode retry{10040, "retry"};
inline constexpr ErrorCode settlement_in_progress{10041, "settlement_in_progress"};
inline constexpr ErrorCode price_wrong_tick{10043, "price_wrong_tick"};
inline constexpr ErrorCode matching_engine_queue_full{10047, "matching_engine_queue_full"};
inline constexpr ErrorCode too_many_concurrent_requests{10066, "too_many_concurrent_requests"};
inline constexpr ErrorCode invalid_arguments{11029, "invalid_arguments"};
inline constexpr ErrorCode bad_request{11050, "bad_request"};
inline constexpr ErrorCode system_maintenance{11051, "system_maintenance"};
inline constexpr ErrorCode post_only_reject{11054, "post_only_reject"};
inline constexpr ErrorCode invalid_credentials{13004, "invalid_credentials"};
inline constexpr ErrorCode unauthorized{13009, "unauthorized"};
inline constexpr ErrorCode value_required{13010, "value_required"};
inline constexpr ErrorCode orderbook_closed{13019, "orderbook_closed"};
inline constexpr ErrorCode not_found{13020, "not_found"};
inline constexpr ErrorCode forbidden{13021, "forbidden"};
inline constexpr ErrorCode temporarily_unavailable{13028, "temporarily_unavailable"};
inline constexpr ErrorCode scope_exceeded{13403, "scope_exceeded"};
inline constexpr ErrorCode raw_subscriptions_not_available_for_unauthorized{
    13778, "raw_subscriptions_not_available_for_unauthorized"};

// JSON-RPC 2.0 (section 5.1), with Deribit's capitalisation.
inline constexpr ErrorCode parse_error{-32700, "Parse error"};
inline constexpr ErrorCode invalid_request{-32600, "Invalid Request"};
inline constexpr ErrorCode method_not_found{-32601, "Method not found"};
inline constexpr ErrorCode invalid_params{-32602, "Invalid params"};
inline constexpr ErrorCode missing_params{-32000, "Missing params"};

inline constexpr ErrorCode all[] = {
    authorization_required,
    error,
    qty_too_low,
    order_overlap,
    order_not_found,
    price_too_low,
    price_too_high,
    not_enough_funds,
    already_closed,
    book_closed,
    invalid_or_unsupported_instrument,
    invalid_amount,
    invalid_price,
    invalid_order_id,
    too_many_requests,
    not_owner_of_order,
    must_be_websocket_request,
    retry,
    settlement_in_progress,
    price_wrong_tick,
    matching_engine_queue_full,
    too_many_concurrent_requests,
    invalid_arguments,
    bad_request,
    system_maintenance,
    post_only_reject,
    invalid_credentials,
    unauthorized,
    value_required,
    orderbook_closed,
    not_found,
    forbidden,
    temporarily_unavailable,
    scope_exceeded,
    raw_subscriptions_not_available_for_unauthorized,
    parse_error,
    invalid_request,
    method_not_found,
    invalid_params,
    missing_params,
};

}  // namespace errors

// The message of a known code, or an empty view.
constexpr std::string_view error_message(int code) {
  for (const ErrorCode& e : errors::all) {
    if (e.code == code) return e.message;
  }
  return {};
}

}  // namespace gw::codec
