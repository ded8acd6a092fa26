// The audit log: one JSON object per line in DATA_DIR/audit.log (mode 0600), for every
// authentication success and failure, key change and order action:
//
//   {"time":"2024-05-01T12:00:00.123Z","event":"auth.failure","account":"demo",
//    "client_id":"fo7WAPRm4P","ip":"203.0.113.7","request_id":"42",
//    "details":{"grant_type":"client_signature","reason":"nonce_reused"}}
//
// Empty fields are left out. Lines are appended with O_APPEND in a single write(), so the
// server and `greekwire keys` (another process) can both append to the same file without
// interleaving. When the file would grow past `max_bytes` it is rotated: audit.log.1 ...
// audit.log.N (N = keep_files; the oldest is deleted), under an flock so that two processes do
// not rotate twice; a writer whose file was rotated by the other process reopens the new one.
//
// Secrets never reach the file: the event has no field for them, and detail entries whose name
// suggests one (secret, token, signature, password, authorization, jwt) are written as
// "[redacted]". Thread-safe.
//
// With `background` (the server), record() only formats the line and queues it: a writer
// thread does the stat, rotation and write(), so a request never waits for the disk. At most
// `max_pending` lines wait; beyond that a line is dropped and counted (dropped()) rather than
// letting a stalled disk grow the queue without bound. flush() waits for the queue to drain;
// the destructor drains it too. Without it (`greekwire keys`), record() writes at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace gw::gateway {

struct AuditEvent {
  std::string_view event;  // "auth.success", "auth.failure", "key.add", "order.buy", ...
  std::string_view account;
  std::string_view client_id;
  std::string_view ip;
  std::string_view request_id;  // the JSON-RPC id as the client sent it
  std::vector<std::pair<std::string_view, std::string_view>> details;  // written as strings
};

struct AuditLogOptions {
  std::filesystem::path directory = "greekwire-data";
  std::string file_name = "audit.log";
  std::uint64_t max_bytes = 16u << 20;  // 16 MiB per file
  int keep_files = 5;                   // audit.log.1 .. audit.log.5
  bool background = false;              // write from a thread of its own (see above)
  std::size_t max_pending = 100'000;    // lines queued for that thread
};

class AuditLog {
 public:
  // Opens (creating 0600) DIRECTORY/FILE_NAME; throws std::runtime_error if it cannot.
  explicit AuditLog(AuditLogOptions options);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // `time_ms`: Unix epoch milliseconds. Write errors are counted, not thrown: an audit failure
  // must not take down the request that triggered it.
  void record(const AuditEvent& event, std::int64_t time_ms);
  void record_now(const AuditEvent& event);  // with the system clock
  // Returns once every line recorded before the call is in the file (or failed).
  void flush();

  std::uint64_t write_errors() const;
  std::uint64_t dropped() const;
  std::filesystem::path path() const { return options_.directory / options_.file_name; }

 private:
  void write_line(const std::string& line);  // under mutex_
  void run_writer();
  void open_file();
  void rotate_if_needed(std::size_t incoming);
  void rotate_files();

  AuditLogOptions options_;
  mutable std::mutex mutex_;  // the file
  int fd_ = -1;
  std::uint64_t write_errors_ = 0;

  // The background writer's queue.
  mutable std::mutex queue_mutex_;
  std::condition_variable queue_ready_;    // lines queued, or stopping
  std::condition_variable queue_drained_;  // for flush()
  std::vector<std::string> queue_;
  std::uint64_t queued_ = 0;   // lines ever queued
  std::uint64_t written_ = 0;  // of those, lines the writer is done with
  std::uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::thread writer_;
};

// The line record() writes (without its newline), exposed for tests.
std::string format_audit_line(const AuditEvent& event, std::int64_t time_ms);
// 2024-05-01T12:00:00.123Z
std::string iso8601_utc(std::int64_t time_ms);

}  // namespace gw::gateway
