#include "scale/wire.hpp"

#include <greekwire/value.hpp>

namespace gw::scale {

using greekwire::Value;

namespace {

bool string_member(const Value& object, std::string_view key, std::string& out) {
  const Value* v = object.find(key);
  if (v == nullptr) return true;  // optional: stays empty
  if (!v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}

Value encode_identity(const gateway::Identity& identity) {
  Value v;
  v.set("account_id", static_cast<std::int64_t>(identity.account_id))
      .set("account", identity.account)
      .set("client_id", identity.client_id)
      .set("scope", identity.scopes.to_string())
      .set("method", static_cast<std::int64_t>(identity.method))
      .set("session_id", identity.session_id)
      .set("expires_at_ms", identity.expires_at_ms);
  return v;
}

std::optional<gateway::Identity> decode_identity(const Value& v) {
  if (!v.is_object()) return std::nullopt;
  gateway::Identity identity;
  identity.account_id = static_cast<gateway::AccountRowId>(v["account_id"].as_int(0));
  identity.account = std::string(v["account"].as_string());
  identity.client_id = std::string(v["client_id"].as_string());
  auto scopes = gateway::Scopes::parse(v["scope"].as_string());
  if (!scopes || identity.account_id == 0) return std::nullopt;
  identity.scopes = *scopes;
  const std::int64_t method = v["method"].as_int(-1);
  if (method < 0 || method > static_cast<std::int64_t>(gateway::AuthMethod::certificate)) {
    return std::nullopt;
  }
  identity.method = static_cast<gateway::AuthMethod>(method);
  identity.session_id = v["session_id"].as_uint(0);
  identity.expires_at_ms = v["expires_at_ms"].as_int(0);
  return identity;
}

}  // namespace

std::string encode_call(const WireCall& w) {
  const gateway::ForwardedCall& c = w.call;
  Value v;
  v.set("id", w.request_id)
      .set("expires_at_ms", w.expires_at_ms)
      .set("request", c.request)
      .set("authorization", c.authorization)
      .set("http_method", c.http_method)
      .set("uri", c.uri)
      .set("body", c.body)
      .set("peer", c.peer)
      .set("certificate_sha256", c.certificate_sha256)
      .set("connection_id", c.connection_id)
      .set("rate_limited", c.rate_limited)
      .set("handshake", c.handshake);
  if (c.disconnect) v.set("disconnect", true);
  return v.to_json();
}

std::optional<WireCall> decode_call(std::string_view data, std::string* error) {
  const auto v = Value::parse_json(data, error);
  if (!v) return std::nullopt;
  WireCall w;
  gateway::ForwardedCall& c = w.call;
  const bool strings =
      string_member(*v, "id", w.request_id) && string_member(*v, "request", c.request) &&
      string_member(*v, "authorization", c.authorization) &&
      string_member(*v, "http_method", c.http_method) && string_member(*v, "uri", c.uri) &&
      string_member(*v, "body", c.body) && string_member(*v, "peer", c.peer);
  c.handshake = (*v)["handshake"].as_bool(false);
  c.disconnect = (*v)["disconnect"].as_bool(false);
  if (!strings || w.request_id.empty() || (c.request.empty() && !c.handshake && !c.disconnect)) {
    *error = "a forwarded call needs string members id and request";
    return std::nullopt;
  }
  if (c.disconnect && (*v)["connection_id"].as_uint(0) == 0) {
    *error = "a disconnect needs its connection_id";
    return std::nullopt;
  }
  w.expires_at_ms = (*v)["expires_at_ms"].as_int(0);
  c.connection_id = (*v)["connection_id"].as_uint(0);
  c.rate_limited = (*v)["rate_limited"].as_bool(false);
  c.certificate_sha256 = std::string((*v)["certificate_sha256"].as_string());
  return w;
}

std::optional<StreamMessage> decode_stream_message(std::string_view text, std::string* error) {
  auto v = Value::parse_json(text, error);
  if (!v) return std::nullopt;
  const Value* epoch = v->find("epoch");
  const Value* seq = v->find("seq");
  const Value* channel = v->find("channel");
  const Value* data = v->find("data");
  if (epoch == nullptr || !epoch->is_string() || seq == nullptr || !seq->is_integer() ||
      seq->as_uint(0) == 0 || channel == nullptr || !channel->is_string() || data == nullptr) {
    *error = "a stream message needs epoch, seq (> 0), channel and data";
    return std::nullopt;
  }
  StreamMessage m;
  m.epoch = std::string(epoch->as_string());
  m.seq = seq->as_uint(0);
  m.channel = std::string(channel->as_string());
  // Moved, not copied: the data is most of the message.
  for (greekwire::Value::Member& member : v->mutable_object()) {
    if (member.key == "data") {
      m.data = std::move(member.value);
      break;
    }
  }
  return m;
}

std::string encode_answer(const gateway::ForwardedAnswer& a) {
  Value v;
  v.set("response", a.response).set("is_error", a.is_error).set("http_status", a.http_status);
  if (!a.access_token.empty()) v.set("access_token", a.access_token);
  if (a.identity) v.set("identity", encode_identity(*a.identity));
  return v.to_json();
}

std::optional<gateway::ForwardedAnswer> decode_answer(std::string_view data, std::string* error) {
  const auto v = Value::parse_json(data, error);
  if (!v) return std::nullopt;
  gateway::ForwardedAnswer a;
  if (!string_member(*v, "response", a.response) || a.response.empty() ||
      !string_member(*v, "access_token", a.access_token)) {
    *error = "an answer needs a string member response";
    return std::nullopt;
  }
  a.delivered = true;
  a.is_error = (*v)["is_error"].as_bool(false);
  a.http_status = static_cast<int>((*v)["http_status"].as_int(200));
  if (const Value* identity = v->find("identity")) a.identity = decode_identity(*identity);
  return a;
}

}  // namespace gw::scale
