#include "codec/msgpack_writer.hpp"

#include "codec/json_transcode.hpp"

namespace gw::codec {

void MsgpackWriter::raw_json(std::string_view json) {
  write_raw_json(*this, json);
}

}  // namespace gw::codec
