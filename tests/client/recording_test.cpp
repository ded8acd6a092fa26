// Recordings (greekwire/recording.hpp): the documented bytes, writer/reader round trips,
// truncated files read up to the last whole record, corruption reported with its offset, the
// periodic flush, the frame classifier, and the Connection's frame tap that feeds a recorder.
#include "greekwire/recording.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <mutex>

#include "client/scripted_server.hpp"
#include "greekwire/client.hpp"

namespace greekwire {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A file name in the test's temporary directory, removed at the end of the test.
class TempFile {
 public:
  TempFile() {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr ? dir : "/tmp") + "/gw_recording_test_" +
            std::to_string(::getpid()) + "_" + std::to_string(counter_++) + ".gwrec";
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }
  Bytes read() const {
    std::ifstream in(path_, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }
  void write(const Bytes& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  std::uint64_t size_on_disk() const {
    struct stat st {};
    return ::stat(path_.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

RecordingHeader sample_header() {
  RecordingHeader h;
  h.encoding = Encoding::msgpack;
  h.start_us = 1'700'000'000'000'000;
  h.url = "ws://127.0.0.1:8080/ws/api/v2";
  h.channels = {"book.BTC-PERPETUAL.raw", "deribit_price_index.btc_usd"};
  return h;
}

struct Sample {
  std::int64_t time_us;
  FrameKind kind;
  bool binary;
  std::string bytes;
};

std::vector<Sample> sample_frames() {
  const std::int64_t t0 = sample_header().start_us;
  return {
      {t0 + 5, FrameKind::response, false, R"({"jsonrpc":"2.0","id":1,"result":[]})"},
      {t0 + 5, FrameKind::notification, true,
       std::string("\x82\xa1"
                   "a\x01",
                   4)},
      {t0 + 300'000, FrameKind::other, false, ""},
      {t0 + 299'000, FrameKind::notification, false, "earlier: written as t0+300000"},
      {t0 + 86'400'000'000, FrameKind::notification, true, std::string(100'000, 'x')},
      {t0 + 86'400'000'001, FrameKind::response, false, std::string(40'000, 'y')},
  };
}

RecordedFrame frame_of(const Sample& s) {
  return {s.time_us, s.kind, s.binary, bytes_of(s.bytes), 0};
}

void write_samples(const std::string& path, const std::vector<Sample>& samples) {
  RecordingWriter writer;
  ASSERT_TRUE(writer.open(path, sample_header()).ok());
  for (const Sample& s : samples) ASSERT_TRUE(writer.append(frame_of(s)).ok());
  ASSERT_TRUE(writer.close().ok());
}

struct ReadBack {
  std::vector<Sample> frames;
  std::vector<std::uint64_t> offsets;
  bool truncated = false;
  std::uint64_t truncated_at = 0;
  std::optional<Error> error;
};

ReadBack read_all(RecordingReader& reader) {
  ReadBack out;
  RecordedFrame frame;
  for (;;) {
    Result<bool> more = reader.next(frame);
    if (!more) {
      out.error = more.error();
      break;
    }
    if (!more.value()) break;
    out.frames.push_back({frame.time_us, frame.kind, frame.binary,
                          std::string(frame.bytes.begin(), frame.bytes.end())});
    out.offsets.push_back(frame.offset);
  }
  out.truncated = reader.truncated();
  out.truncated_at = reader.truncated_at();
  return out;
}

ReadBack read_bytes(const Bytes& bytes) {
  RecordingReader reader;
  const Status opened = reader.open_bytes(bytes);
  EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
  return read_all(reader);
}

// ---- the bytes of docs/PROTOCOL.md -------------------------------------------------------------

TEST(Recording, TheHeaderAndARecordAreTheDocumentedBytes) {
  RecordingHeader h;
  h.encoding = Encoding::msgpack;
  h.start_us = 0x0102030405060708;
  h.url = "ws://h";
  h.channels = {"a", "bc"};
  Bytes out;
  encode_recording_header(h, out);
  const Bytes expected = {'G',  'W',  'R',  'E',  'C',  '\r', '\n', 0x1a,  // magic
                          0x01, 0x00,                                      // version 1
                          0x01,                                            // msgpack
                          0x00,                                            // reserved
                          0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // start, LE
                          0x06, 'w',  's',  ':',  '/',  '/',  'h',         // url
                          0x02, 0x01, 'a',  0x02, 'b',  'c'};              // channels
  EXPECT_EQ(out, expected);

  out.clear();
  // 300 µs later (varint 0xac 0x02), binary notification (flags 0b011), 2 bytes.
  encode_record_prefix(h.start_us, {h.start_us + 300, FrameKind::notification, true, {}, 0}, out);
  EXPECT_EQ(out, (Bytes{0xac, 0x02, 0x03, 0x00}));
  out.clear();
  const std::string text(200, 't');
  encode_record_prefix(h.start_us, {h.start_us, FrameKind::response, false, bytes_of(text), 0},
                       out);
  EXPECT_EQ(out, (Bytes{0x00, 0x04, 0xc8, 0x01}));  // text response, length 200
}

// ---- round trips -------------------------------------------------------------------------------

TEST(Recording, WhatIsWrittenIsReadBackFrameByFrame) {
  TempFile file;
  const std::vector<Sample> samples = sample_frames();
  write_samples(file.path(), samples);

  RecordingReader reader;
  ASSERT_TRUE(reader.open(file.path()).ok());
  EXPECT_EQ(reader.header().version, kRecordingVersion);
  EXPECT_EQ(reader.header().encoding, Encoding::msgpack);
  EXPECT_EQ(reader.header().start_us, sample_header().start_us);
  EXPECT_EQ(reader.header().url, sample_header().url);
  EXPECT_EQ(reader.header().channels, sample_header().channels);
  const ReadBack back = read_all(reader);
  ASSERT_FALSE(back.error);
  EXPECT_FALSE(back.truncated);
  ASSERT_EQ(back.frames.size(), samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    SCOPED_TRACE(i);
    // Receive times never go backwards: the fourth frame is stored at the third one's time.
    const std::int64_t expected_time = i == 3 ? samples[2].time_us : samples[i].time_us;
    EXPECT_EQ(back.frames[i].time_us, expected_time);
    EXPECT_EQ(back.frames[i].kind, samples[i].kind);
    EXPECT_EQ(back.frames[i].binary, samples[i].binary);
    EXPECT_EQ(back.frames[i].bytes, samples[i].bytes);
  }
  EXPECT_EQ(reader.records(), samples.size());
  // The same file read from memory gives the same frames.
  const ReadBack from_memory = read_bytes(file.read());
  ASSERT_EQ(from_memory.frames.size(), samples.size());
  EXPECT_EQ(from_memory.offsets, back.offsets);
}

TEST(Recording, TheWriterCountsWhatItWrote) {
  TempFile file;
  RecordingWriter writer;
  ASSERT_TRUE(writer.open(file.path(), sample_header()).ok());
  std::uint64_t frame_bytes = 0;
  for (const Sample& s : sample_frames()) {
    ASSERT_TRUE(writer.append(frame_of(s)).ok());
    frame_bytes += s.bytes.size();
  }
  EXPECT_EQ(writer.records(), sample_frames().size());
  EXPECT_EQ(writer.frame_bytes(), frame_bytes);
  const std::uint64_t expected_size = writer.file_bytes();
  ASSERT_TRUE(writer.close().ok());
  EXPECT_EQ(file.size_on_disk(), expected_size);
}

TEST(Recording, RecordsAreFlushedOnceASecondHasPassed) {
  TempFile file;
  RecordingWriter writer;
  const RecordingHeader h = sample_header();
  ASSERT_TRUE(writer.open(file.path(), h).ok());
  const std::uint64_t header_size = file.size_on_disk();
  EXPECT_GT(header_size, 20u);  // the header is on disk at once
  const std::string data = "{}";
  ASSERT_TRUE(writer.append({h.start_us + 400'000, FrameKind::other, false, bytes_of(data), 0}));
  EXPECT_EQ(file.size_on_disk(), header_size);  // buffered
  EXPECT_FALSE(writer.flush_due(h.start_us + 900'000));
  EXPECT_TRUE(writer.flush_due(h.start_us + 1'000'000));
  // A record a second after the last write takes everything to the file.
  ASSERT_TRUE(writer.append({h.start_us + 1'000'001, FrameKind::other, false, bytes_of(data), 0}));
  EXPECT_EQ(file.size_on_disk(), writer.file_bytes());
  ASSERT_TRUE(writer.append({h.start_us + 1'000'002, FrameKind::other, false, bytes_of(data), 0}));
  EXPECT_LT(file.size_on_disk(), writer.file_bytes());
  ASSERT_TRUE(writer.flush());
  EXPECT_EQ(file.size_on_disk(), writer.file_bytes());
}

TEST(Recording, AFileThatCannotBeCreatedIsAnError) {
  RecordingWriter writer;
  const Status opened = writer.open("/nonexistent-dir/r.gwrec", sample_header());
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("/nonexistent-dir/r.gwrec"), std::string::npos);
  EXPECT_FALSE(writer.append({}).ok());
}

// ---- truncation --------------------------------------------------------------------------------

TEST(Recording, ATruncatedFinalRecordIsReportedAndLeftOut) {
  TempFile file;
  const std::vector<Sample> samples = sample_frames();
  write_samples(file.path(), samples);
  const Bytes whole = file.read();
  const ReadBack all = read_bytes(whole);
  ASSERT_EQ(all.frames.size(), samples.size());
  const std::uint64_t last = all.offsets.back();
  // Every cut inside the last record (it is 40,000 bytes long) and inside the one before.
  for (std::uint64_t cut = all.offsets[samples.size() - 2]; cut < whole.size(); cut += 997) {
    SCOPED_TRACE(cut);
    const Bytes part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    const ReadBack back = read_bytes(part);
    ASSERT_FALSE(back.error);
    const std::size_t complete = cut >= last ? samples.size() - 1 : samples.size() - 2;
    EXPECT_EQ(back.frames.size(), complete);
    const bool at_boundary = cut == last || cut == all.offsets[samples.size() - 2];
    EXPECT_EQ(back.truncated, !at_boundary);
    if (!at_boundary) {
      EXPECT_EQ(back.truncated_at, all.offsets[complete]);
    }
  }
  // Through a file too (its window is refilled as it reads).
  file.write(Bytes(whole.begin(), whole.end() - 1));
  RecordingReader reader;
  ASSERT_TRUE(reader.open(file.path()).ok());
  const ReadBack back = read_all(reader);
  EXPECT_FALSE(back.error);
  EXPECT_EQ(back.frames.size(), samples.size() - 1);
  EXPECT_TRUE(back.truncated);
  EXPECT_EQ(back.truncated_at, last);
}

TEST(Recording, ATruncatedHeaderIsAnError) {
  Bytes header;
  encode_recording_header(sample_header(), header);
  for (std::size_t cut = 1; cut < header.size(); ++cut) {
    RecordingReader reader;
    const Status opened = reader.open_bytes(std::span(header.data(), cut));
    ASSERT_FALSE(opened.ok()) << cut;
    EXPECT_NE(opened.error().message.find("truncated"), std::string::npos)
        << cut << ": " << opened.error().message;
  }
  RecordingReader reader;
  EXPECT_FALSE(reader.open_bytes({}).ok());
}

// ---- corruption --------------------------------------------------------------------------------

// The error opening (or reading) `bytes`, "" if there was none.
std::string problem_with(const Bytes& bytes) {
  RecordingReader reader;
  if (const Status opened = reader.open_bytes(bytes); !opened) return opened.error().message;
  const ReadBack back = read_bytes(bytes);
  return back.error ? back.error->message : "";
}

class Corruption : public ::testing::Test {
 protected:
  void SetUp() override {
    write_samples(file_.path(), sample_frames());
    good_ = file_.read();
    const ReadBack all = read_bytes(good_);
    second_ = all.offsets[1];
    header_size_ = all.offsets[0];
  }
  // A copy of the recording with its second record's bytes from `at` replaced.
  Bytes second_record_with(std::size_t at, Bytes bytes) const {
    Bytes copy = good_;
    std::copy(bytes.begin(), bytes.end(), copy.begin() + static_cast<std::ptrdiff_t>(second_ + at));
    return copy;
  }
  std::string at_second() const { return "corrupt record at offset " + std::to_string(second_); }

  TempFile file_;
  Bytes good_;
  std::uint64_t second_ = 0;
  std::uint64_t header_size_ = 0;
};

TEST_F(Corruption, AReservedFlagBitIsAnErrorWithTheOffset) {
  // The second record: delta 0 (1 byte), flags 0x03.
  const std::string why = problem_with(second_record_with(1, {0x0b}));
  EXPECT_NE(why.find(at_second()), std::string::npos) << why;
  EXPECT_NE(why.find("reserved"), std::string::npos) << why;
  EXPECT_NE(problem_with(second_record_with(1, {0x07})).find("kind"), std::string::npos);
}

TEST_F(Corruption, AVarintNotInItsShortestFormIsAnError) {
  Bytes copy = good_;
  // Delta 0 written as 0x80 0x00.
  copy.insert(copy.begin() + static_cast<std::ptrdiff_t>(second_), 0x80);
  const std::string why = problem_with(copy);
  EXPECT_NE(why.find(at_second()), std::string::npos) << why;
  EXPECT_NE(why.find("shortest"), std::string::npos) << why;
}

TEST_F(Corruption, ALengthBeyondTheLimitIsAnError) {
  // Length 2^40 in place of the second record's: the reader must not try to allocate it.
  Bytes copy = good_;
  const auto at = copy.begin() + static_cast<std::ptrdiff_t>(second_ + 2);
  copy.erase(at);  // its one-byte length
  const Bytes huge = {0x80, 0x80, 0x80, 0x80, 0x80, 0x20};
  copy.insert(copy.begin() + static_cast<std::ptrdiff_t>(second_ + 2), huge.begin(), huge.end());
  const std::string why = problem_with(copy);
  EXPECT_NE(why.find(at_second()), std::string::npos) << why;
  EXPECT_NE(why.find("at most"), std::string::npos) << why;
  // An 11-byte varint.
  Bytes longer = good_;
  longer.insert(longer.begin() + static_cast<std::ptrdiff_t>(second_), 10, 0xff);
  EXPECT_NE(problem_with(longer).find("varint"), std::string::npos);
}

TEST_F(Corruption, ABadHeaderSaysWhatIsWrong) {
  Bytes copy = good_;
  copy[0] = 'X';
  EXPECT_NE(problem_with(copy).find("not a greekwire recording"), std::string::npos);
  copy = good_;
  copy[8] = 2;  // version 2
  EXPECT_NE(problem_with(copy).find("version 2 is not supported"), std::string::npos);
  copy = good_;
  copy[10] = 3;  // encoding
  EXPECT_NE(problem_with(copy).find("unknown encoding"), std::string::npos);
  copy = good_;
  copy[11] = 1;  // reserved
  EXPECT_NE(problem_with(copy).find("reserved"), std::string::npos);
  copy = good_;
  copy[20] = 0xff;  // the URL's length: 0xff 0x... beyond 4096
  copy[21] = 0x7f;
  EXPECT_NE(problem_with(copy).find("URL"), std::string::npos);
  EXPECT_EQ(problem_with(good_), "");
  const std::string missing = "/nonexistent-dir/missing.gwrec";
  RecordingReader reader;
  const Status opened = reader.open(missing);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find(missing), std::string::npos);
}

// ---- classification and the frame tap ----------------------------------------------------------

TEST(FrameClassifier, TellsNotificationsResponsesAndTheRest) {
  FrameClassifier json(Encoding::json);
  EXPECT_EQ(json.classify(bytes_of(R"({"jsonrpc":"2.0","method":"subscription",
      "params":{"channel":"ticker.X.raw","data":{}}})"),
                          false),
            FrameKind::notification);
  EXPECT_EQ(json.classify(bytes_of(R"({"jsonrpc":"2.0","id":7,"result":1})"), false),
            FrameKind::response);
  EXPECT_EQ(json.classify(bytes_of(R"({"jsonrpc":"2.0","error":{"code":1}})"), false),
            FrameKind::response);
  EXPECT_EQ(json.classify(bytes_of(R"({"jsonrpc":"2.0","method":"heartbeat",
      "params":{"type":"heartbeat"}})"),
                          false),
            FrameKind::other);
  EXPECT_EQ(json.classify(bytes_of("not json"), false), FrameKind::other);
  FrameClassifier msgpack(Encoding::msgpack);
  const Bytes response = {0x81, 0xa2, 'i', 'd', 0x07};  // {"id":7}
  EXPECT_EQ(msgpack.classify(response, true), FrameKind::response);
  EXPECT_EQ(msgpack.classify(Bytes{0xc1}, true), FrameKind::other);
}

class FrameTap : public ::testing::TestWithParam<bool> {};  // true: MessagePack

TEST_P(FrameTap, SeesEveryFrameBeforeDecodingWithItsReceiveTime) {
  using gw::client::test::Peer;
  gw::client::test::ScriptedServer server(GetParam());
  server.on_request = [](Peer& peer, const Value& request) {
    peer.reply(request, request["params"]["channels"]);
    peer.notify("ticker.BTC-PERPETUAL.raw", R"({"mark_price":1})");
    peer.send_json(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}})");
    peer.notify("ticker.BTC-PERPETUAL.raw", R"({"mark_price":2})");
  };
  std::mutex mutex;
  struct Seen {
    FrameKind kind;
    bool binary;
    std::int64_t received_ns;
  };
  std::vector<Seen> seen;
  FrameClassifier classifier(GetParam() ? Encoding::msgpack : Encoding::json);
  ConnectionOptions options;
  options.url = server.url();
  options.encoding = GetParam() ? Encoding::msgpack : Encoding::json;
  options.frame_tap = [&](const ReceivedFrame& frame) {
    std::lock_guard lock(mutex);
    seen.push_back(
        {classifier.classify(frame.bytes, frame.binary), frame.binary, frame.received_ns});
  };
  const auto before = std::chrono::system_clock::now().time_since_epoch();
  Client client(options);
  ASSERT_TRUE(client.connect());
  std::atomic<int> notifications{0};
  Handlers handlers;
  handlers.raw = [&](std::string_view, const Value&) { ++notifications; };
  ASSERT_TRUE(client.subscribe({"ticker.BTC-PERPETUAL.raw"}, handlers).ok());
  ASSERT_TRUE(gw::client::test::wait_until([&] { return notifications == 2; }));
  const auto after = std::chrono::system_clock::now().time_since_epoch();
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen.size(), client.stats().messages_received);
  const FrameKind kinds[] = {FrameKind::response, FrameKind::notification, FrameKind::other,
                             FrameKind::notification};
  for (std::size_t i = 0; i < seen.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(seen[i].kind, kinds[i]);
    EXPECT_EQ(seen[i].binary, GetParam());
    EXPECT_GE(seen[i].received_ns, std::chrono::nanoseconds(before).count());
    EXPECT_LE(seen[i].received_ns, std::chrono::nanoseconds(after).count());
    if (i > 0) {
      EXPECT_GE(seen[i].received_ns, seen[i - 1].received_ns);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Encodings, FrameTap, ::testing::Bool());

}  // namespace
}  // namespace greekwire
