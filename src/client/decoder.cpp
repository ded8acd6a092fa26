// JSON (simdjson DOM) and MessagePack (MsgpackTree, strings referenced in place) decoding of
// Deribit's responses and notifications. Both parsers keep their buffers between messages:
// after the first few frames decoding allocates nothing (a Value is built only when asked).
#include "client/decoder.hpp"

#include <cstring>

#include "client/tree.hpp"

namespace gw::client {

namespace {

template <class Node>
class TreeData final : public NotificationData {
 public:
  explicit TreeData(Node node) : node_(node) {}
  greekwire::Value to_value() const override { return gw::client::to_value(node_); }
  bool read_book(greekwire::BookUpdate& out) const override { return read_book_update(node_, out); }

 private:
  Node node_;
};

template <class Node>
greekwire::Error rpc_error(const Node& error) {
  greekwire::Error e;
  e.kind = greekwire::ErrorKind::rpc;
  if (const auto code = error.find("code"); code && is_number(*code)) {
    e.code = static_cast<int>(*number_of(*code));
  }
  if (const auto message = string_of(error.find("message"))) e.message.assign(*message);
  if (const auto data = error.find("data")) e.data = to_value(*data);
  return e;
}

template <class Node>
greekwire::Result<greekwire::Value> response_of(const Node& root) {
  if (const auto error = root.find("error"); error && error->type() == NodeType::object) {
    return rpc_error(*error);
  }
  if (const auto result = root.find("result")) return to_value(*result);
  return greekwire::Value();
}

// Dispatches one decoded message to the sink.
template <class Node>
bool dispatch(const Node& root, MessageSink& sink, std::string& error) {
  if (root.type() != NodeType::object) {
    error = "a message that is not an object";
    return false;
  }
  if (const auto id = root.find("id"); id && id->type() != NodeType::null) {
    if (const auto number = unsigned_of(*id)) {
      sink.on_response(*number, response_of(root));
    } else {
      sink.on_unmatched_response(response_of(root));  // a string id: not one of ours
    }
    return true;
  }
  if (const auto method = string_of(root.find("method"))) {
    const auto params = root.find("params");
    if (*method == "subscription" && params) {
      const auto channel = string_of(params->find("channel"));
      const auto data = params->find("data");
      if (!channel || !data) {
        error = "a subscription notification without channel or data";
        return false;
      }
      sink.on_notification(*channel, TreeData<Node>(*data));
      return true;
    }
    if (*method == "heartbeat") {
      std::optional<std::string_view> type;
      if (params) type = string_of(params->find("type"));
      sink.on_heartbeat(type.value_or("heartbeat"));
      return true;
    }
    error = "an unknown notification method " + std::string(*method);
    return false;
  }
  if (root.find("error") || root.find("result")) {
    sink.on_unmatched_response(response_of(root));
    return true;
  }
  error = "a message that is neither a response nor a notification";
  return false;
}

class TreeDecoder final : public Decoder {
 public:
  bool decode(std::span<const std::uint8_t> frame, bool binary, MessageSink& sink,
              std::string& error) override {
    return binary ? decode_msgpack(frame, sink, error) : decode_json(frame, sink, error);
  }

 private:
  bool decode_json(std::span<const std::uint8_t> frame, MessageSink& sink, std::string& error) {
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse from our own buffer.
    const std::size_t need = frame.size() + simdjson::SIMDJSON_PADDING;
    if (padded_.size() < need) padded_.resize(need);
    std::memcpy(padded_.data(), frame.data(), frame.size());
    std::memset(padded_.data() + frame.size(), 0, simdjson::SIMDJSON_PADDING);
    simdjson::dom::element root;
    if (const auto code = parser_.parse(padded_.data(), frame.size(), false).get(root);
        code != simdjson::SUCCESS) {
      error = std::string("invalid JSON from the server: ") + simdjson::error_message(code);
      return false;
    }
    return dispatch(JsonNode{root}, sink, error);
  }

  bool decode_msgpack(std::span<const std::uint8_t> frame, MessageSink& sink, std::string& error) {
    if (!msgpack_.parse(frame, error)) return false;
    return dispatch(MsgpackNode{&msgpack_, msgpack_.root()}, sink, error);
  }

  simdjson::dom::parser parser_;
  std::string padded_;
  MsgpackTree msgpack_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(greekwire::Encoding encoding, std::string* error) {
  switch (encoding) {
    case greekwire::Encoding::json:
    case greekwire::Encoding::msgpack:
      return std::make_unique<TreeDecoder>();
    case greekwire::Encoding::protobuf:
      return make_protobuf_decoder();
  }
  if (error != nullptr) *error = "an unknown encoding";
  return nullptr;
}

std::string_view subprotocol_of(greekwire::Encoding encoding) {
  switch (encoding) {
    case greekwire::Encoding::json:
      return {};
    case greekwire::Encoding::msgpack:
      return "msgpack";
    case greekwire::Encoding::protobuf:
      return "protobuf";
  }
  return {};
}

}  // namespace gw::client
