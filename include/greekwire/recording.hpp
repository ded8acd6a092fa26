// Recordings: a compact binary log of the frames a connection received, each with its receive
// time, as `greekwire record` writes them and `greekwire serve --replay` plays them back. The
// format is documented byte by byte in docs/PROTOCOL.md ("Recordings"):
//
//   header   magic "GWREC\r\n\x1a", format version (u16), encoding, start time (unix µs),
//            the source URL, the channels
//   records  receive time (µs since the previous record, a varint), a flags byte (text or
//            binary; notification, response or other), the length (a varint), the frame bytes
//            exactly as received
//
// Varints are unsigned LEB128 in their shortest form; anything else is corruption. A file that
// ends inside a record (the recorder was killed mid-write) is read up to the last whole record
// and reported as truncated, not as an error.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "greekwire/error.hpp"
#include "greekwire/options.hpp"

namespace greekwire {

inline constexpr std::uint16_t kRecordingVersion = 1;
// Limits a reader enforces (a corrupt length must not make it allocate gigabytes).
inline constexpr std::size_t kRecordingMaxFrame = 64u << 20;  // the SDK's default max message
inline constexpr std::size_t kRecordingMaxUrl = 4096;
inline constexpr std::size_t kRecordingMaxChannels = 65536;
inline constexpr std::size_t kRecordingMaxChannelName = 1024;

// What a recorded frame is (two bits of the flags byte).
enum class FrameKind : std::uint8_t { other = 0, notification = 1, response = 2 };
std::string_view to_string(FrameKind kind);

struct RecordingHeader {
  std::uint16_t version = kRecordingVersion;
  Encoding encoding = Encoding::json;
  std::int64_t start_us = 0;  // wall clock when the recording started, unix microseconds
  std::string url;            // where it was recorded from
  std::vector<std::string> channels;
};

struct RecordedFrame {
  std::int64_t time_us = 0;  // receive time, unix microseconds
  FrameKind kind = FrameKind::other;
  bool binary = false;
  std::span<const std::uint8_t> bytes;  // reader: valid until its next call
  std::uint64_t offset = 0;             // reader: where the record starts in the file
};

// The bytes of a header, and of one record following one received at `previous_us` (the
// header's start_us for the first). A time before `previous_us` is written as `previous_us`:
// receive times never go backwards in a recording. What RecordingWriter writes.
void encode_recording_header(const RecordingHeader& header, std::vector<std::uint8_t>& out);
void encode_record_prefix(std::int64_t previous_us, const RecordedFrame& frame,
                          std::vector<std::uint8_t>& out);  // all but the frame bytes

// Writes a recording. Records are buffered and written when the buffer fills, when a record
// comes a second or more after the last write (flush_due), on flush() and on close(): a
// recorder killed without warning loses at most the last second or so.
class RecordingWriter {
 public:
  static constexpr std::int64_t kFlushIntervalUs = 1'000'000;

  RecordingWriter();
  ~RecordingWriter();  // close()s, ignoring errors
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  // Creates (or truncates) `path` and writes the header.
  Status open(const std::string& path, const RecordingHeader& header);
  Status append(const RecordedFrame& frame);
  bool flush_due(std::int64_t now_us) const;
  Status flush();
  Status close();

  std::uint64_t records() const;
  std::uint64_t frame_bytes() const;  // the frames' bytes, without the record overhead
  std::uint64_t file_bytes() const;   // the file's size once flushed

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads a recording, checking it as it goes.
class RecordingReader {
 public:
  RecordingReader();
  ~RecordingReader();
  RecordingReader(const RecordingReader&) = delete;
  RecordingReader& operator=(const RecordingReader&) = delete;

  // Opens the file and reads its header: an error for a missing file, another format, a newer
  // version, a damaged or truncated header.
  Status open(const std::string& path);
  // The same over a recording in memory (not copied: it must outlive the reader).
  Status open_bytes(std::span<const std::uint8_t> bytes);
  const RecordingHeader& header() const;

  // The next record: true with `frame` set; false at the end of the file (truncated() says
  // whether a partial final record was left out); an error naming the offset for corruption
  // (a reserved flag set, a bad varint, a length beyond the limit, a time overflow).
  Result<bool> next(RecordedFrame& frame);

  bool truncated() const;
  std::uint64_t truncated_at() const;  // where the partial record starts
  std::uint64_t records() const;       // read so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Tells the kind of a received frame by decoding it with the SDK's decoder of the encoding
// (what `greekwire record` puts in the flags byte). A frame that does not decode is `other`.
class FrameClassifier {
 public:
  explicit FrameClassifier(Encoding encoding);
  ~FrameClassifier();
  FrameClassifier(const FrameClassifier&) = delete;
  FrameClassifier& operator=(const FrameClassifier&) = delete;

  FrameKind classify(std::span<const std::uint8_t> frame, bool binary);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace greekwire
