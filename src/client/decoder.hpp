// The seam between the wire encoding and the connection: a Decoder turns one received frame
// into calls on a MessageSink (a response, a notification, a heartbeat). The JSON and
// MessagePack decoder is one class (text frames are JSON, binary frames MessagePack, since
// both carry the same trees); the protobuf decoder (protobuf_decoder.cpp) reads binary frames
// as greekwire.v2.Envelope messages with the schema codec generates from
// proto/greekwire.proto, and text frames as JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "greekwire/book.hpp"
#include "greekwire/error.hpp"
#include "greekwire/options.hpp"
#include "greekwire/value.hpp"

namespace gw::client {

// A notification's data, decoded lazily: a book channel reads it straight into a BookUpdate
// (no tree is built), other channels take it as a Value. Valid during on_notification only.
class NotificationData {
 public:
  virtual ~NotificationData() = default;
  virtual greekwire::Value to_value() const = 0;
  // False if the data is not a valid book message.
  virtual bool read_book(greekwire::BookUpdate& out) const = 0;
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // A response to our request `id` (ours are integers): the result, or the server's error.
  virtual void on_response(std::uint64_t id, greekwire::Result<greekwire::Value> result) = 0;
  // A response without an id we can match (Deribit answers unparsable requests without one).
  virtual void on_unmatched_response(greekwire::Result<greekwire::Value> result) = 0;
  virtual void on_notification(std::string_view channel, const NotificationData& data) = 0;
  // method "heartbeat": params.type is "heartbeat" or "test_request".
  virtual void on_heartbeat(std::string_view type) = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decodes one frame; false with `error` set when it is not a message we understand.
  virtual bool decode(std::span<const std::uint8_t> frame, bool binary, MessageSink& sink,
                      std::string& error) = 0;
};

// nullptr with `error` for encodings this SDK cannot decode.
std::unique_ptr<Decoder> make_decoder(greekwire::Encoding encoding, std::string* error);
// The protobuf decoder (what make_decoder gives for Encoding::protobuf).
std::unique_ptr<Decoder> make_protobuf_decoder();

// The WebSocket subprotocol to offer for an encoding ("" for json: Deribit's default).
std::string_view subprotocol_of(greekwire::Encoding encoding);

}  // namespace gw::client
