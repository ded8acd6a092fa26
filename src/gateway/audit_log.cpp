#include "gateway/audit_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace gw::gateway {
namespace {

constexpr std::string_view kSecretWords[] = {"secret",        "token", "signature", "password",
                                             "authorization", "jwt",   "sig"};

bool looks_secret(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(std::begin(kSecretWords), std::end(kSecretWords),
                     [&](std::string_view word) { return lower.find(word) != std::string::npos; });
}

void append_escaped(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7F) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", byte);
      out += escape;
    } else {
      out.push_back(c);  // UTF-8 passes through
    }
  }
  out.push_back('"');
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out += ',';
  append_escaped(out, name);
  out += ':';
  append_escaped(out, value);
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// Takes an exclusive flock on a companion lock file for the scope (rotation across processes).
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

std::string iso8601_utc(std::int64_t time_ms) {
  const std::int64_t seconds = time_ms >= 0 ? time_ms / 1000 : (time_ms - 999) / 1000;
  const auto millis = static_cast<int>(time_ms - seconds * 1000);
  const auto t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[64];  // roomy enough for any int year the formatter might print
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return text;
}

std::string format_audit_line(const AuditEvent& event, std::int64_t time_ms) {
  std::string line = "{\"time\":";
  append_escaped(line, iso8601_utc(time_ms));
  append_field(line, "event", event.event);
  append_field(line, "account", event.account);
  append_field(line, "client_id", event.client_id);
  append_field(line, "ip", event.ip);
  append_field(line, "request_id", event.request_id);
  if (!event.details.empty()) {
    line += ",\"details\":{";
    bool first = true;
    for (const auto& [name, value] : event.details) {
      if (!first) line += ',';
      first = false;
      append_escaped(line, name);
      line += ':';
      append_escaped(line, looks_secret(name) ? "[redacted]" : value);
    }
    line += '}';
  }
  line += '}';
  return line;
}

AuditLog::AuditLog(AuditLogOptions options) : options_(std::move(options)) {
  std::error_code ec;
  if (!std::filesystem::exists(options_.directory, ec)) {
    std::filesystem::create_directories(options_.directory, ec);
    std::filesystem::permissions(options_.directory, std::filesystem::perms::owner_all, ec);
  }
  {
    std::lock_guard lock(mutex_);
    open_file();
    if (fd_ < 0) {
      throw std::runtime_error("cannot open audit log " + path().string() + ": " +
                               std::strerror(errno));
    }
  }
  if (options_.background) writer_ = std::thread([this] { run_writer(); });
}

AuditLog::~AuditLog() {
  if (writer_.joinable()) {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
    }
    queue_ready_.notify_one();
    writer_.join();  // it drains the queue first
  }
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::open_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path().c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

void AuditLog::record_now(const AuditEvent& event) {
  record(event, system_now_ms());
}

void AuditLog::record(const AuditEvent& event, std::int64_t time_ms) {
  std::string line = format_audit_line(event, time_ms);
  line += '\n';
  if (!writer_.joinable()) {
    std::lock_guard lock(mutex_);
    write_line(line);
    return;
  }
  {
    std::lock_guard lock(queue_mutex_);
    if (queued_ - written_ >= options_.max_pending) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(line));
    ++queued_;
  }
  queue_ready_.notify_one();
}

void AuditLog::write_line(const std::string& line) {
  rotate_if_needed(line.size());
  if (fd_ < 0 || !write_all(fd_, line)) ++write_errors_;
}

// The writer takes the whole queue at once and writes it without holding the queue's lock, so
// recording never waits for the disk.
void AuditLog::run_writer() {
  std::vector<std::string> batch;
  std::unique_lock queue_lock(queue_mutex_);
  for (;;) {
    queue_ready_.wait(queue_lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left
    batch.swap(queue_);
    queue_lock.unlock();
    {
      std::lock_guard file_lock(mutex_);
      for (const std::string& line : batch) write_line(line);
    }
    const std::size_t done = batch.size();
    batch.clear();
    queue_lock.lock();
    written_ += done;
    queue_drained_.notify_all();
  }
}

void AuditLog::flush() {
  std::unique_lock lock(queue_mutex_);
  const std::uint64_t target = queued_;
  queue_drained_.wait(lock, [&] { return written_ >= target || !writer_.joinable(); });
}

std::uint64_t AuditLog::write_errors() const {
  std::lock_guard lock(mutex_);
  return write_errors_;
}

std::uint64_t AuditLog::dropped() const {
  std::lock_guard lock(queue_mutex_);
  return dropped_;
}

void AuditLog::rotate_if_needed(std::size_t incoming) {
  struct stat ours {};
  struct stat current {};
  // Another process rotated: our descriptor points at audit.log.1 now; follow the new file.
  if (fd_ < 0 || ::stat(path().c_str(), &current) != 0 || ::fstat(fd_, &ours) != 0 ||
      ours.st_ino != current.st_ino || ours.st_dev != current.st_dev) {
    open_file();
    if (fd_ < 0 || ::fstat(fd_, &ours) != 0) return;
  }
  if (static_cast<std::uint64_t>(ours.st_size) + incoming <= options_.max_bytes ||
      ours.st_size == 0) {
    return;
  }
  FileLock lock(options_.directory / (options_.file_name + ".lock"));
  // Re-check under the lock: the other process may have rotated while we waited.
  if (::stat(path().c_str(), &current) == 0 && ours.st_ino == current.st_ino &&
      ours.st_dev == current.st_dev) {
    rotate_files();
  }
  open_file();
}

void AuditLog::rotate_files() {
  const std::filesystem::path base = path();
  auto numbered = [&](int n) { return base.string() + "." + std::to_string(n); };
  std::error_code ec;
  if (options_.keep_files <= 0) {
    std::filesystem::remove(base, ec);
    return;
  }
  std::filesystem::remove(numbered(options_.keep_files), ec);
  for (int n = options_.keep_files - 1; n >= 1; --n) {
    std::filesystem::rename(numbered(n), numbered(n + 1), ec);
  }
  std::filesystem::rename(base, numbered(1), ec);
}

}  // namespace gw::gateway
