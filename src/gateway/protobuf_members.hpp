// Which typed member a message takes in the protobuf encoding (proto/greekwire.proto): the
// member of Envelope.result a method's result is, and the member of Params.data a channel's
// notification is. ProtobufWriter::choose() takes them; both are looked up in the generated
// schema once and cached.
#pragma once

#include <string_view>

#include "codec/protobuf_schema.hpp"
#include "gateway/channels.hpp"

namespace gw::gateway {

// The member named after the method ("public/get_order_book" -> public_get_order_book); null
// when the schema has none (the writer then falls back to result_json).
const codec::protobuf::Field* result_member(std::string_view method);

// The member for the channel's kind (user.orders.*.raw sends one order, its other intervals a
// list); null only if the schema lacks it.
const codec::protobuf::Field* data_member(const ChannelSpec& spec);

}  // namespace gw::gateway
