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
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
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

  std::uint64_t write_errors() const;
  std::filesystem::path path() const { return options_.directory / options_.file_name; }

 private:
  void open_file();
  void rotate_if_needed(std::size_t incoming);
  void rotate_files();

  AuditLogOptions options_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::uint64_t write_errors_ = 0;
};

// The line record() writes (without its newline), exposed for tests.
std::string format_audit_line(const AuditEvent& event, std::int64_t time_ms);
// 2024-05-01T12:00:00.123Z
std::string iso8601_utc(std::int64_t time_ms);

}  // namespace gw::gateway
