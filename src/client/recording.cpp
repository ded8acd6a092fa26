// Recordings (include/greekwire/recording.hpp; the format: docs/PROTOCOL.md, "Recordings").
//
// The writer keeps one buffer it reserved up front and writes it out with write(2): a record
// costs a few pushes into it, no allocation, and what was written is in the kernel's hands
// even if the recorder is then killed. The reader parses straight out of its input buffer
// (a window of the file, refilled as it goes, or the caller's bytes) and refuses anything the
// writer would not have produced, so that corruption shows as an error with its offset instead
// of as garbage frames.
#include "greekwire/recording.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

#include "client/decoder.hpp"

namespace greekwire {

namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'G', 'W', 'R', 'E', 'C', '\r', '\n', 0x1a};
constexpr std::size_t kFixedHeaderSize = 20;  // magic, version, encoding, reserved, start
constexpr std::uint8_t kBinaryBit = 0x01;
constexpr int kKindShift = 1;
constexpr std::uint8_t kKindMask = 0x06;
constexpr std::uint8_t kReservedBits = 0xf8;
constexpr std::size_t kMaxVarint = 10;
constexpr std::size_t kWriteBuffer = 64u << 10;
// A frame this big goes to the file straight from the caller's memory, not through the buffer.
constexpr std::size_t kDirectWrite = kWriteBuffer / 2;
constexpr std::size_t kReadChunk = 64u << 10;

Error format_error(std::string message) {
  Error error;
  error.kind = ErrorKind::protocol;
  error.message = std::move(message);
  return error;
}

Error file_error(const std::string& path, std::string_view what) {
  Error error;
  error.kind = ErrorKind::invalid_argument;
  error.message = path + ": " + std::string(what) + ": " + std::strerror(errno);
  return error;
}

void put_varint(std::uint64_t value, std::vector<std::uint8_t>& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

void put_le(std::uint64_t value, std::size_t bytes, std::vector<std::uint8_t>& out) {
  for (std::size_t i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> 8 * i));
}

void put_string(std::string_view s, std::vector<std::uint8_t>& out) {
  put_varint(s.size(), out);
  out.insert(out.end(), s.begin(), s.end());
}

std::uint8_t encoding_code(Encoding encoding) {
  return static_cast<std::uint8_t>(encoding);  // json 0, msgpack 1, protobuf 2
}

// Writes all of `bytes`, through short writes and signals.
bool write_all(int fd, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::string_view to_string(FrameKind kind) {
  switch (kind) {
    case FrameKind::other:
      return "other";
    case FrameKind::notification:
      return "notification";
    case FrameKind::response:
      return "response";
  }
  return "other";
}

void encode_recording_header(const RecordingHeader& header, std::vector<std::uint8_t>& out) {
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  put_le(header.version, 2, out);
  out.push_back(encoding_code(header.encoding));
  out.push_back(0);  // reserved
  put_le(static_cast<std::uint64_t>(header.start_us), 8, out);
  put_string(header.url, out);
  put_varint(header.channels.size(), out);
  for (const std::string& channel : header.channels) put_string(channel, out);
}

void encode_record_prefix(std::int64_t previous_us, const RecordedFrame& frame,
                          std::vector<std::uint8_t>& out) {
  const std::int64_t delta = std::max<std::int64_t>(0, frame.time_us - previous_us);
  put_varint(static_cast<std::uint64_t>(delta), out);
  out.push_back(static_cast<std::uint8_t>((frame.binary ? kBinaryBit : 0) |
                                          static_cast<std::uint8_t>(frame.kind) << kKindShift));
  put_varint(frame.bytes.size(), out);
}

// ---------------------------------------------------------------------------------------------
// RecordingWriter

struct RecordingWriter::Impl {
  std::string path;
  int fd = -1;
  std::vector<std::uint8_t> buffer;
  std::int64_t previous_us = 0;
  std::int64_t last_flush_us = 0;
  std::uint64_t records = 0;
  std::uint64_t frame_bytes = 0;
  std::uint64_t written = 0;
  bool failed = false;

  Status write_out(std::span<const std::uint8_t> bytes) {
    if (failed) return file_error(path, "an earlier write failed");
    if (!write_all(fd, bytes)) {
      failed = true;
      return file_error(path, "write failed");
    }
    written += bytes.size();
    return Done{};
  }

  Status flush() {
    if (fd < 0 || buffer.empty()) return Done{};
    Status status = write_out(buffer);
    buffer.clear();
    last_flush_us = previous_us;
    return status;
  }
};

RecordingWriter::RecordingWriter() : impl_(std::make_unique<Impl>()) {}

RecordingWriter::~RecordingWriter() {
  (void)close();
}

Status RecordingWriter::open(const std::string& path, const RecordingHeader& header) {
  if (impl_->fd >= 0) (void)close();
  *impl_ = Impl{};
  impl_->path = path;
  impl_->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (impl_->fd < 0) return file_error(path, "cannot create the file");
  impl_->buffer.reserve(kWriteBuffer);
  encode_recording_header(header, impl_->buffer);
  impl_->previous_us = header.start_us;
  return impl_->flush();
}

Status RecordingWriter::append(const RecordedFrame& frame) {
  Impl& w = *impl_;
  if (w.fd < 0) return file_error(w.path, "the recording is not open");
  constexpr std::size_t kMaxPrefix = 2 * kMaxVarint + 1;
  if (frame.bytes.size() > kRecordingMaxFrame) {
    return format_error("a frame of " + std::to_string(frame.bytes.size()) +
                        " bytes is beyond the recording limit");
  }
  const bool direct = frame.bytes.size() >= kDirectWrite;
  if (w.buffer.size() + kMaxPrefix + (direct ? 0 : frame.bytes.size()) > kWriteBuffer) {
    if (Status s = w.flush(); !s) return s;
  }
  encode_record_prefix(w.previous_us, frame, w.buffer);
  w.previous_us = std::max(w.previous_us, frame.time_us);
  if (direct) {
    if (Status s = w.flush(); !s) return s;
    if (Status s = w.write_out(frame.bytes); !s) return s;
  } else {
    w.buffer.insert(w.buffer.end(), frame.bytes.begin(), frame.bytes.end());
  }
  ++w.records;
  w.frame_bytes += frame.bytes.size();
  if (flush_due(w.previous_us)) return w.flush();
  return Done{};
}

bool RecordingWriter::flush_due(std::int64_t now_us) const {
  return !impl_->buffer.empty() && now_us - impl_->last_flush_us >= kFlushIntervalUs;
}

Status RecordingWriter::flush() {
  return impl_->flush();
}

Status RecordingWriter::close() {
  if (impl_->fd < 0) return Done{};
  Status status = impl_->flush();
  if (::close(impl_->fd) != 0 && status) status = file_error(impl_->path, "close failed");
  impl_->fd = -1;
  return status;
}

std::uint64_t RecordingWriter::records() const {
  return impl_->records;
}
std::uint64_t RecordingWriter::frame_bytes() const {
  return impl_->frame_bytes;
}
std::uint64_t RecordingWriter::file_bytes() const {
  return impl_->written + impl_->buffer.size();
}

// ---------------------------------------------------------------------------------------------
// RecordingReader

struct RecordingReader::Impl {
  enum class Read { ok, end, corrupt };

  int fd = -1;                         // file mode; -1: the input is all in `data`
  std::vector<std::uint8_t> storage;   // file mode: a window of the file
  std::span<const std::uint8_t> data;  // the bytes at hand
  std::size_t pos = 0;                 // the next byte, within `data`
  std::uint64_t base = 0;              // the file offset of data[0]
  bool at_eof = false;
  RecordingHeader header;
  std::int64_t previous_us = 0;
  bool truncated = false;
  std::uint64_t truncated_at = 0;
  std::uint64_t records = 0;
  std::string why;  // what was corrupt

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  std::uint64_t offset() const { return base + pos; }
  std::size_t available() const { return data.size() - pos; }

  // Makes `n` bytes available from `pos` on; false when the input ends first.
  bool ensure(std::size_t n) {
    if (available() >= n) return true;
    if (fd < 0 || at_eof) return false;
    const std::size_t kept = available();
    if (kept > 0) std::memmove(storage.data(), storage.data() + pos, kept);
    base += pos;
    pos = 0;
    storage.resize(std::max({storage.size(), n, kReadChunk}));
    std::size_t filled = kept;
    while (filled < n && !at_eof) {
      const ssize_t got = ::read(fd, storage.data() + filled, storage.size() - filled);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        at_eof = true;  // a read error ends the input: what follows is reported as truncated
      } else {
        filled += static_cast<std::size_t>(got);
      }
    }
    data = std::span<const std::uint8_t>(storage.data(), filled);
    return filled >= n;
  }

  std::uint64_t le(std::size_t at, std::size_t bytes) const {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) value |= std::uint64_t{data[pos + at + i]} << 8 * i;
    return value;
  }

  // An unsigned LEB128 varint in its shortest form.
  Read varint(std::uint64_t& value) {
    value = 0;
    for (std::size_t i = 0; i < kMaxVarint; ++i) {
      if (!ensure(i + 1)) return Read::end;
      const std::uint8_t byte = data[pos + i];
      if (i == kMaxVarint - 1 && byte > 1) return corrupt("a varint beyond 64 bits");
      value |= std::uint64_t{byte & 0x7fu} << 7 * i;
      if ((byte & 0x80) == 0) {
        if (byte == 0 && i > 0) return corrupt("a varint not in its shortest form");
        pos += i + 1;
        return Read::ok;
      }
    }
    return corrupt("a varint longer than 10 bytes");
  }

  Read corrupt(std::string what) {
    why = std::move(what);
    return Read::corrupt;
  }

  Read string(std::size_t limit, const char* what, std::string& out) {
    std::uint64_t size = 0;
    if (const Read r = varint(size); r != Read::ok) return r;
    if (size > limit) {
      return corrupt(std::string(what) + " of " + std::to_string(size) + " bytes (at most " +
                     std::to_string(limit) + ")");
    }
    if (!ensure(size)) return Read::end;
    out.assign(reinterpret_cast<const char*>(data.data() + pos), size);
    pos += size;
    return Read::ok;
  }

  Status read_header();
  Status header_problem(Read r) {
    if (r == Read::end) return format_error("the recording's header is truncated");
    return format_error("the recording's header is damaged: " + why);
  }
};

Status RecordingReader::Impl::read_header() {
  const bool whole = ensure(kFixedHeaderSize);
  if (available() == 0) return format_error("an empty file, not a greekwire recording");
  const std::size_t have = std::min(available(), kMagic.size());
  if (!std::equal(kMagic.begin(), kMagic.begin() + static_cast<std::ptrdiff_t>(have),
                  data.begin() + static_cast<std::ptrdiff_t>(pos))) {
    return format_error("not a greekwire recording (no GWREC magic)");
  }
  if (!whole) return header_problem(Read::end);
  header.version = static_cast<std::uint16_t>(le(8, 2));
  if (header.version == 0 || header.version > kRecordingVersion) {
    return format_error("recording format version " + std::to_string(header.version) +
                        " is not supported (this reader knows 1 to " +
                        std::to_string(kRecordingVersion) + ")");
  }
  const std::uint8_t encoding = data[pos + 10];
  if (encoding > encoding_code(Encoding::protobuf)) {
    return format_error("unknown encoding " + std::to_string(encoding) + " in the header");
  }
  header.encoding = static_cast<Encoding>(encoding);
  if (data[pos + 11] != 0) return format_error("the header's reserved byte is not 0");
  header.start_us = static_cast<std::int64_t>(le(12, 8));
  pos += kFixedHeaderSize;
  if (const Read r = string(kRecordingMaxUrl, "a URL", header.url); r != Read::ok) {
    return header_problem(r);
  }
  std::uint64_t count = 0;
  if (const Read r = varint(count); r != Read::ok) return header_problem(r);
  if (count > kRecordingMaxChannels) {
    return format_error("the header lists " + std::to_string(count) + " channels (at most " +
                        std::to_string(kRecordingMaxChannels) + ")");
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string channel;
    if (const Read r = string(kRecordingMaxChannelName, "a channel name", channel); r != Read::ok) {
      return header_problem(r);
    }
    header.channels.push_back(std::move(channel));
  }
  previous_us = header.start_us;
  return Done{};
}

RecordingReader::RecordingReader() : impl_(std::make_unique<Impl>()) {}
RecordingReader::~RecordingReader() = default;

Status RecordingReader::open(const std::string& path) {
  impl_ = std::make_unique<Impl>();
  impl_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl_->fd < 0) return file_error(path, "cannot open");
  Status status = impl_->read_header();
  if (!status) {
    Error error = status.error();
    error.message = path + ": " + error.message;
    return error;
  }
  return status;
}

Status RecordingReader::open_bytes(std::span<const std::uint8_t> bytes) {
  impl_ = std::make_unique<Impl>();
  impl_->data = bytes;
  impl_->at_eof = true;
  return impl_->read_header();
}

const RecordingHeader& RecordingReader::header() const {
  return impl_->header;
}

Result<bool> RecordingReader::next(RecordedFrame& frame) {
  using Read = Impl::Read;
  Impl& r = *impl_;
  if (r.truncated) return false;
  const std::uint64_t start = r.offset();
  if (!r.ensure(1)) return false;  // the end, between records
  auto fail = [&](Read result) -> Result<bool> {
    if (result == Read::end) {
      r.truncated = true;
      r.truncated_at = start;
      return false;
    }
    return format_error("corrupt record at offset " + std::to_string(start) + ": " + r.why);
  };
  std::uint64_t delta = 0;
  if (const Read result = r.varint(delta); result != Read::ok) return fail(result);
  if (!r.ensure(1)) return fail(Read::end);
  const std::uint8_t flags = r.data[r.pos];
  if ((flags & kReservedBits) != 0) return fail(r.corrupt("reserved flag bits set"));
  const auto kind = static_cast<std::uint8_t>((flags & kKindMask) >> kKindShift);
  if (kind > static_cast<std::uint8_t>(FrameKind::response)) {
    return fail(r.corrupt("unknown frame kind 3"));
  }
  ++r.pos;
  std::uint64_t length = 0;
  if (const Read result = r.varint(length); result != Read::ok) return fail(result);
  if (length > kRecordingMaxFrame) {
    return fail(r.corrupt("a frame of " + std::to_string(length) + " bytes (at most " +
                          std::to_string(kRecordingMaxFrame) + ")"));
  }
  if (delta > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() -
                                         std::max<std::int64_t>(r.previous_us, 0))) {
    return fail(r.corrupt("the receive time overflows"));
  }
  if (!r.ensure(length)) return fail(Read::end);
  r.previous_us += static_cast<std::int64_t>(delta);
  frame.time_us = r.previous_us;
  frame.kind = static_cast<FrameKind>(kind);
  frame.binary = (flags & kBinaryBit) != 0;
  frame.bytes = r.data.subspan(r.pos, length);
  frame.offset = start;
  r.pos += length;
  ++r.records;
  return true;
}

bool RecordingReader::truncated() const {
  return impl_->truncated;
}
std::uint64_t RecordingReader::truncated_at() const {
  return impl_->truncated_at;
}
std::uint64_t RecordingReader::records() const {
  return impl_->records;
}

// ---------------------------------------------------------------------------------------------
// FrameClassifier

namespace {

class KindSink final : public gw::client::MessageSink {
 public:
  FrameKind kind = FrameKind::other;
  void on_response(std::uint64_t, Result<Value>) override { kind = FrameKind::response; }
  void on_unmatched_response(Result<Value>) override { kind = FrameKind::response; }
  void on_notification(std::string_view, const gw::client::NotificationData&) override {
    kind = FrameKind::notification;
  }
  void on_heartbeat(std::string_view) override { kind = FrameKind::other; }
};

}  // namespace

struct FrameClassifier::Impl {
  std::unique_ptr<gw::client::Decoder> decoder;
  KindSink sink;
  std::string error;
};

FrameClassifier::FrameClassifier(Encoding encoding) : impl_(std::make_unique<Impl>()) {
  impl_->decoder = gw::client::make_decoder(encoding, nullptr);
}
FrameClassifier::~FrameClassifier() = default;

FrameKind FrameClassifier::classify(std::span<const std::uint8_t> frame, bool binary) {
  if (!impl_->decoder) return FrameKind::other;
  impl_->sink.kind = FrameKind::other;
  if (!impl_->decoder->decode(frame, binary, impl_->sink, impl_->error)) return FrameKind::other;
  return impl_->sink.kind;
}

}  // namespace greekwire
