// libFuzzer target for the recording reader (greekwire/recording.hpp): any bytes as a recording.
//
// Nothing may crash or allocate beyond the format's limits, and since the format has exactly
// one encoding of everything (shortest varints, reserved bits zero), whatever the reader
// accepts must re-encode to the very bytes it read:
//  - the header re-encodes to the bytes before the first record;
//  - each record re-encodes to its bytes, frames lie inside the input, in order;
//  - receive times never go backwards;
//  - a clean end consumed the whole input; a truncated one stopped at the last record's end.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "greekwire/recording.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  greekwire::RecordingReader reader;
  if (!reader.open_bytes(input).ok()) return 0;
  const greekwire::RecordingHeader& header = reader.header();
  CHECK(header.url.size() <= greekwire::kRecordingMaxUrl);
  CHECK(header.channels.size() <= greekwire::kRecordingMaxChannels);

  std::vector<std::uint8_t> encoded;
  greekwire::encode_recording_header(header, encoded);
  CHECK(encoded.size() <= size);
  CHECK(std::equal(encoded.begin(), encoded.end(), data));

  std::int64_t previous_us = header.start_us;
  greekwire::RecordedFrame frame;
  for (;;) {
    const greekwire::Result<bool> more = reader.next(frame);
    if (!more.ok() || !more.value()) {
      // An error or a truncated end stops where the last whole record ended.
      if (!more.ok() || reader.truncated()) {
        CHECK(!reader.truncated() || reader.truncated_at() == encoded.size());
      } else {
        CHECK(encoded.size() == size);
      }
      break;
    }
    CHECK(frame.offset == encoded.size());
    CHECK(frame.time_us >= previous_us);
    CHECK(frame.bytes.size() <= greekwire::kRecordingMaxFrame);
    CHECK(frame.bytes.data() >= data && frame.bytes.data() + frame.bytes.size() <= data + size);
    greekwire::encode_record_prefix(previous_us, frame, encoded);
    encoded.insert(encoded.end(), frame.bytes.begin(), frame.bytes.end());
    CHECK(encoded.size() <= size);
    CHECK(std::equal(encoded.begin() + static_cast<std::ptrdiff_t>(frame.offset), encoded.end(),
                     data + frame.offset));
    previous_us = frame.time_us;
  }
  return 0;
}
