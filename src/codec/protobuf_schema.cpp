#include "codec/protobuf_schema.hpp"

namespace gw::codec::protobuf {

const Message* Schema::find_message(std::string_view full_name) const {
  for (const Message& m : messages) {
    if (m.name == full_name) return &m;
  }
  return nullptr;
}

const Field* Schema::find_key(const Message& message, std::string_view key) const {
  for (const Field& f : keys_of(message)) {
    if (f.name == key) return &f;
  }
  return nullptr;
}

const Field* Schema::find_member(const Message& message, std::string_view key,
                                 std::string_view member) const {
  const Field* choice = find_key(message, key);
  if (choice == nullptr || choice->role != FieldRole::choice) return nullptr;
  for (std::int16_t i = 0; i < choice->count; ++i) {
    const Field& f = at(static_cast<std::int16_t>(choice->first + i));
    if (f.name == member) return &f;
  }
  return nullptr;
}

}  // namespace gw::codec::protobuf
