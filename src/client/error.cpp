// Errors, and the names of the SDK's enums.
#include "greekwire/error.hpp"

#include <cstdio>

#include "greekwire/connection.hpp"
#include "greekwire/events.hpp"
#include "greekwire/options.hpp"

namespace greekwire {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::rpc:
      return "rpc";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::disconnected:
      return "disconnected";
    case ErrorKind::unreachable:
      return "unreachable";
    case ErrorKind::tls:
      return "tls";
    case ErrorKind::http_status:
      return "http_status";
    case ErrorKind::handshake:
      return "handshake";
    case ErrorKind::protocol:
      return "protocol";
    case ErrorKind::invalid_argument:
      return "invalid_argument";
    case ErrorKind::closed:
      return "closed";
  }
  return "?";
}

// What the codes a user meets most mean (Deribit's General API Documentation v2.1.1 and the
// JSON-RPC 2.0 specification).
std::string_view error_meaning(int code) {
  switch (code) {
    case 10000:
      return "this method needs authentication";
    case 10001:
      return "an error without a specific code";
    case 10004:
      return "no such order";
    case 10009:
      return "not enough funds";
    case 10020:
      return "no such instrument, or it is not trading";
    case 10028:
      return "too many requests: the rate limit was hit and the session is closed";
    case 11050:
      return "the request is not valid JSON-RPC";
    case 13004:
      return "wrong client_id or client_secret";
    case 13009:
      return "not authenticated, or a wrong or expired token, or a bad signature";
    case 13021:
      return "the key's scope does not allow this";
    case 13403:
      return "asked for more scope than the key has";
    case 13778:
      return "raw (unaggregated) subscriptions need authentication";
    case -32600:
      return "not a valid JSON-RPC request";
    case -32601:
      return "no such method";
    case -32602:
      return "a parameter is missing or has the wrong type";
    case -32700:
      return "the request could not be parsed";
    default:
      return {};
  }
}

std::string Error::describe() const {
  if (kind != ErrorKind::rpc) return message;
  std::string text = std::to_string(code) + " " + message;
  if (const std::string_view meaning = error_meaning(code); !meaning.empty()) {
    text += " (";
    text += meaning;
    text += ")";
  }
  if (!data.is_null()) text += ": " + data.to_json();
  return text;
}

std::string_view to_string(Encoding encoding) {
  switch (encoding) {
    case Encoding::json:
      return "json";
    case Encoding::msgpack:
      return "msgpack";
    case Encoding::protobuf:
      return "protobuf";
  }
  return "?";
}

std::optional<Encoding> parse_encoding(std::string_view name) {
  if (name == "json") return Encoding::json;
  if (name == "msgpack") return Encoding::msgpack;
  if (name == "protobuf") return Encoding::protobuf;
  return std::nullopt;
}

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::connected:
      return "connected";
    case EventType::authenticated:
      return "authenticated";
    case EventType::ready:
      return "ready";
    case EventType::disconnected:
      return "disconnected";
    case EventType::reconnecting:
      return "reconnecting";
    case EventType::gave_up:
      return "gave_up";
    case EventType::resync:
      return "resync";
    case EventType::resynced:
      return "resynced";
    case EventType::subscription_dropped:
      return "subscription_dropped";
    case EventType::error:
      return "error";
  }
  return "?";
}

std::string_view to_string(ResyncReason reason) {
  switch (reason) {
    case ResyncReason::gap:
      return "gap";
    case ResyncReason::checksum_mismatch:
      return "checksum_mismatch";
    case ResyncReason::inconsistent:
      return "inconsistent";
    case ResyncReason::reconnect:
      return "reconnect";
    case ResyncReason::server_snapshot:
      return "server_snapshot";
  }
  return "?";
}

std::string_view to_string(ConnectionState state) {
  switch (state) {
    case ConnectionState::idle:
      return "idle";
    case ConnectionState::connecting:
      return "connecting";
    case ConnectionState::authenticating:
      return "authenticating";
    case ConnectionState::ready:
      return "ready";
    case ConnectionState::waiting_to_reconnect:
      return "waiting_to_reconnect";
    case ConnectionState::stopped:
      return "stopped";
  }
  return "?";
}

std::string Event::describe() const {
  std::string text(to_string(type));
  switch (type) {
    case EventType::resync:
    case EventType::resynced:
      text += " " + channel + ": ";
      text += to_string(reason);
      break;
    case EventType::subscription_dropped:
      text += " " + channel;
      break;
    case EventType::disconnected:
      if (close_code != 0) {
        text += " (" + std::to_string(close_code);
        if (!close_reason.empty()) text += " " + close_reason;
        text += ")";
      }
      break;
    case EventType::reconnecting: {
      char delay[32];
      std::snprintf(delay, sizeof delay, "%.2f", delay_s);
      text += " in " + std::string(delay) + " s (attempt " + std::to_string(attempt) + ")";
      break;
    }
    default:
      break;
  }
  if (error) text += ": " + error->describe();
  return text;
}

}  // namespace greekwire
