// The `protobuf` subprotocol's decoder: each binary frame is one greekwire.v2.Envelope
// (proto/greekwire.proto). Its fields are dispatched as the JSON decoder dispatches members: an
// id makes a response (`result` is the set member of the Envelope.result oneof, whatever its
// name), method "subscription" a notification whose data is the set member of Params.data.
//
// Every field is checked against the schema as it is read (wire types, lengths, UTF-8: the
// readers of protobuf_reader.hpp), so a malformed frame is an error before anything reaches
// the connection, and the trees built later never meet a malformed byte. A book notification's
// data is read here, once, straight into a BookUpdate (read_book_change, which checks it as it
// goes): read_book() hands that over; everything else becomes a Value only when asked. Text
// frames are JSON, as on any connection (a server that does not speak protobuf answers in JSON).
#include <optional>

#include "client/decoder.hpp"
#include "client/protobuf_reader.hpp"
#include "client/tree.hpp"

namespace gw::client {

namespace {

namespace pb = gw::client::protobuf;
namespace schema = gw::codec::protobuf;
using greekwire::Value;

// A notification's data: one member of Params.data.
class ProtobufData final : public NotificationData {
 public:
  // `book`: the data already read as a book (the `book` member), null if it is not one.
  ProtobufData(const pb::SchemaIndex& index, const schema::Field& member,
               const pb::WireField& value, const greekwire::BookUpdate* book)
      : index_(index), member_(member), value_(value), book_(book) {}

  Value to_value() const override { return pb::field_value(index_, member_, value_); }

  // The `book` member as read at decode time (copied: the vectors keep their capacity, so this
  // allocates nothing once warm); any other member (a grouped book, a `data_json` fallback)
  // through its tree, as the JSON path reads it.
  bool read_book(greekwire::BookUpdate& out) const override {
    if (book_ != nullptr) {
      out = *book_;
      return true;
    }
    if (is_book_member()) {
      out.clear();
      return false;  // read at decode time, and refused
    }
    tree_ = to_value();
    return read_book_update(ValueNode{&tree_}, out);
  }

 private:
  bool is_book_member() const {
    return member_.type == schema::FieldType::message &&
           &index_.schema().message_of(member_) == index_.book_change();
  }

  const pb::SchemaIndex& index_;
  const schema::Field& member_;
  const pb::WireField& value_;
  const greekwire::BookUpdate* book_;
  mutable Value tree_;  // read_book's view of another member: the out's strings point here
};

class ProtobufDecoder final : public Decoder {
 public:
  ProtobufDecoder() : index_(pb::SchemaIndex::greekwire()), json_(make_decoder_json()) {
    const schema::Schema& s = index_.schema();
    envelope_ = &s.root_message();
    id_ = s.find_key(*envelope_, "id");
    method_ = s.find_key(*envelope_, "method");
    params_ = s.find_key(*envelope_, "params");
    result_ = s.find_key(*envelope_, "result");
    error_ = s.find_key(*envelope_, "error");
    error_message_ = &s.message_of(*error_);
    params_message_ = &s.message_of(*params_);
    channel_ = s.find_key(*params_message_, "channel");
    type_ = s.find_key(*params_message_, "type");
    data_ = s.find_key(*params_message_, "data");
  }

  bool decode(std::span<const std::uint8_t> frame, bool binary, MessageSink& sink,
              std::string& error) override {
    if (!binary) return json_->decode(frame, false, sink, error);
    Envelope envelope;
    const char* why = nullptr;
    if (!read_envelope(frame, envelope, why)) {
      error = std::string("invalid protobuf from the server: ") + why;
      return false;
    }
    return dispatch(envelope, sink, error);
  }

 private:
  // What the dispatch needs of an Envelope and its Params (each field checked as it was read).
  struct Params {
    std::optional<std::string_view> channel, type;
    std::optional<pb::WireField> data;
    const schema::Field* data_member = nullptr;
    bool book_read = false;  // the data member is `book`, read into book_
  };
  struct Envelope {
    std::optional<std::int64_t> id;
    bool id_text = false;  // a string id (or one above 2^63-1): not one of ours
    std::optional<std::string_view> method;
    std::optional<pb::WireField> params, error, result;
    const schema::Field* result_member = nullptr;
    Params notification;  // params, read
  };

  static std::unique_ptr<Decoder> make_decoder_json() {
    return make_decoder(greekwire::Encoding::json, nullptr);
  }
  static std::string_view text_of(const pb::WireField& f) {
    return {reinterpret_cast<const char*>(f.bytes.data()), f.bytes.size()};
  }
  // A member of `choice` (its first..first+count fields).
  bool is_member_of(const schema::Field& field, const schema::Field* choice) const {
    const std::int16_t at = static_cast<std::int16_t>(&field - index_.schema().fields.data());
    return choice != nullptr && at >= choice->first && at < choice->first + choice->count;
  }

  // The Envelope's fields, each checked; false with `why` if one is malformed.
  bool read_envelope(std::span<const std::uint8_t> frame, Envelope& out, const char*& why) {
    pb::WireReader reader(frame);
    pb::WireField f;
    while (reader.next(f)) {
      const schema::Field* field = index_.field(*envelope_, f.number);
      if (field == nullptr) continue;  // a newer server's field
      if (field == params_) {
        if (f.wire != pb::WireType::length) {
          why = "a field of the wrong wire type";
          return false;
        }
        out.params = f;
        continue;
      }
      if (!pb::validate_field(index_, *field, f, why)) return false;
      if (field == id_) {
        out.id = static_cast<std::int64_t>(f.bits);
        out.id_text = false;
      } else if (index_.key_of(*field) == id_->name) {  // id_text
        out.id.reset();
        out.id_text = true;
      } else if (field == method_) {
        out.method = text_of(f);
      } else if (field == error_) {
        out.error = f;
      } else if (is_member_of(*field, result_)) {
        out.result = f;
        out.result_member = field;
      }
    }
    if (reader.failed()) {
      why = "malformed (a truncated field, or a bad tag)";
      return false;
    }
    return !out.params || read_params(out.params->bytes, out.notification, why);
  }

  // Params' fields, each checked; the `book` member is read into book_ as it is checked.
  bool read_params(std::span<const std::uint8_t> bytes, Params& out, const char*& why) {
    pb::WireReader reader(bytes);
    pb::WireField f;
    while (reader.next(f)) {
      const schema::Field* field = index_.field(*params_message_, f.number);
      if (field == nullptr) continue;
      if (is_member_of(*field, data_) && is_book(*field) && f.wire == pb::WireType::length) {
        out.book_read = pb::read_book_change(index_, f.bytes, book_);
        // A book that does not read may still be a valid message (a level without its action):
        // delivered, unreadable as a book, unless it is malformed.
        if (!out.book_read && !pb::validate_field(index_, *field, f, why)) return false;
      } else if (!pb::validate_field(index_, *field, f, why)) {
        return false;
      }
      if (field == channel_) {
        out.channel = text_of(f);
      } else if (field == type_) {
        out.type = text_of(f);
      } else if (is_member_of(*field, data_)) {
        out.data = f;
        out.data_member = field;
      }
    }
    if (reader.failed()) {
      why = "malformed (a truncated field, or a bad tag)";
      return false;
    }
    return true;
  }

  bool is_book(const schema::Field& member) const {
    return member.type == schema::FieldType::message &&
           &index_.schema().message_of(member) == index_.book_change();
  }

  // The server's error: code, message and data (an ErrorData object or a text).
  greekwire::Error rpc_error(const pb::WireField& error) const {
    greekwire::Error e;
    e.kind = greekwire::ErrorKind::rpc;
    pb::WireReader reader(error.bytes);
    pb::WireField f;
    while (reader.next(f)) {
      const schema::Field* field = index_.field(*error_message_, f.number);
      if (field == nullptr) continue;
      const Value value = pb::field_value(index_, *field, f);
      const std::string_view key = index_.key_of(*field);
      if (key == "code") {
        e.code = static_cast<int>(value.as_int());
      } else if (key == "message") {
        e.message.assign(value.as_string());
      } else if (key == "data") {
        e.data = value;
      }
    }
    return e;
  }

  greekwire::Result<Value> response_of(const Envelope& envelope) const {
    if (envelope.error) return rpc_error(*envelope.error);
    if (envelope.result) return pb::field_value(index_, *envelope.result_member, *envelope.result);
    return Value();
  }

  bool dispatch(const Envelope& envelope, MessageSink& sink, std::string& error) {
    if (envelope.id || envelope.id_text) {
      if (envelope.id && *envelope.id >= 0) {
        sink.on_response(static_cast<std::uint64_t>(*envelope.id), response_of(envelope));
      } else {
        sink.on_unmatched_response(response_of(envelope));
      }
      return true;
    }
    if (envelope.method) {
      const Params& params = envelope.notification;
      if (*envelope.method == "subscription") {
        if (!params.channel || !params.data) {
          error =
              "a subscription notification without channel or data (or with data this "
              "SDK's schema does not know)";
          return false;
        }
        // The data member seen last counts (a oneof): book_ only if that one is the book.
        const bool book = params.book_read && is_book(*params.data_member);
        sink.on_notification(*params.channel, ProtobufData(index_, *params.data_member,
                                                           *params.data, book ? &book_ : nullptr));
        return true;
      }
      if (*envelope.method == "heartbeat") {
        sink.on_heartbeat(params.type.value_or("heartbeat"));
        return true;
      }
      error = "an unknown notification method " + std::string(*envelope.method);
      return false;
    }
    if (envelope.error || envelope.result) {
      sink.on_unmatched_response(response_of(envelope));
      return true;
    }
    error = "a message that is neither a response nor a notification";
    return false;
  }

  const pb::SchemaIndex& index_;
  std::unique_ptr<Decoder> json_;  // text frames
  greekwire::BookUpdate book_;     // the last book notification's data (vectors reused)
  const schema::Message* envelope_;
  const schema::Message* error_message_;
  const schema::Message* params_message_;
  const schema::Field* id_;
  const schema::Field* method_;
  const schema::Field* params_;
  const schema::Field* result_;
  const schema::Field* error_;
  const schema::Field* channel_;
  const schema::Field* type_;
  const schema::Field* data_;
};

}  // namespace

std::unique_ptr<Decoder> make_protobuf_decoder() {
  return std::make_unique<ProtobufDecoder>();
}

}  // namespace gw::client
