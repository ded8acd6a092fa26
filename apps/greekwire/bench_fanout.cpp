// `greekwire bench fanout`: N subscribers x M channels against `greekwire serve` (or another
// Deribit-API-v2 server): deliveries per second, bytes per second, latency from the venue event
// to the client's receipt, the server's memory per connection, and the server's drops, resyncs
// and slow closes from /metrics.
//
// Latency: greekwire stamps every notification with `usIn` (params.usIn, the wall-clock
// microsecond at which the gateway took the venue event, docs/PROTOCOL.md); the client subtracts
// it from its own clock at receipt (same machine, same clock). A message is not parsed: the
// stamp is the last member (in protobuf the last field of the last field), read backwards from
// the end. Without it (another server) the event's `timestamp` (milliseconds) is used instead.
//
// Phases: connect (at most --connect-batch handshakes in flight per thread), subscribe each
// connection to every channel (requests of at most 500 channels), wait until all are
// subscribed, warm up, measure, close.
#include <dirent.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "client/protobuf_reader.hpp"
#include "commands.hpp"
#include "net/event_loop.hpp"
#include "ws/client.hpp"

namespace gw::app {
namespace {

struct FanoutConfig {
  std::string url;
  int connections = 1000;
  std::string channels = "book.{i}.raw,ticker.{i}.raw";
  int instruments = 50;
  double duration = 10;
  double warmup = 2;
  int threads = 1;
  std::string encoding = "json";
  std::string auth;  // client_id:client_secret
  bool json = false;
  int server_pid = 0;
  int connect_batch = 100;
  double setup_timeout = 300;
};

constexpr std::size_t kChannelsPerRequest = 500;  // Deribit suggests at most ~500 per call
constexpr int kSpareDescriptors = 64;             // epoll, eventfd, stdio, HTTP probes

std::int64_t wall_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- latency histogram --------------------------------------------------------------------------

// Log-linear buckets (64 per power of two: under 1.6% error), microseconds, no allocation after
// construction; one per worker thread, merged at the end.
class LatencyHistogram {
 public:
  LatencyHistogram() : counts_(kBuckets, 0) {}

  void record(std::int64_t us) {
    const auto value = static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0));
    ++counts_[index(value)];
    ++total_;
    max_ = std::max(max_, value);
  }
  void merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    max_ = std::max(max_, other.max_);
  }
  std::uint64_t total() const { return total_; }
  std::uint64_t max() const { return max_; }
  // The value below which a fraction p of the samples fall (the bucket's middle).
  double percentile(double p) const {
    if (total_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(total_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= std::max<std::uint64_t>(rank, 1)) {
        const double middle = static_cast<double>(lower(i) + lower(i + 1)) / 2;
        return std::min(middle, static_cast<double>(max_));
      }
    }
    return static_cast<double>(max_);
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) << kSubBits;

  static std::size_t index(std::uint64_t v) {
    if (v < (1u << kSubBits)) return v;
    const int shift = static_cast<int>(std::bit_width(v)) - 1 - kSubBits;
    return (static_cast<std::size_t>(shift + 1) << kSubBits) + ((v >> shift) - (1u << kSubBits));
  }
  static std::uint64_t lower(std::size_t i) {
    if (i < (1u << kSubBits)) return i;
    const std::size_t shift = (i >> kSubBits) - 1;
    return ((1u << kSubBits) + (i & ((1u << kSubBits) - 1))) << shift;
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

// ---- reading notifications without parsing them -------------------------------------------------

std::string_view as_text(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The subprotocols this benchmark reads.
enum class Wire : std::uint8_t { json, msgpack, protobuf };

std::optional<Wire> wire_of(std::string_view encoding) {
  if (encoding == "json") return Wire::json;
  if (encoding == "msgpack") return Wire::msgpack;
  if (encoding == "protobuf") return Wire::protobuf;
  return std::nullopt;
}

// The start of every notification, in each encoding (the members' order is fixed). protobuf:
// Envelope.jsonrpc (field 1) "2.0", then Envelope.method (4) "subscription".
constexpr std::string_view kJsonNotification = R"({"jsonrpc":"2.0","method":"subscription")";
constexpr std::string_view kMsgpackNotification =
    "\x83\xa7jsonrpc\xa3"
    "2.0\xa6method\xacsubscription";
constexpr std::string_view kProtobufNotification =
    "\x0a\x03"
    "2.0"
    "\x22\x0c"
    "subscription";

std::string_view notification_start(Wire wire) {
  switch (wire) {
    case Wire::json:
      return kJsonNotification;
    case Wire::msgpack:
      return kMsgpackNotification;
    case Wire::protobuf:
      return kProtobufNotification;
  }
  return kJsonNotification;
}

bool is_notification(std::string_view message, Wire wire) {
  return message.starts_with(notification_start(wire));
}

// greekwire's stamp: JSON `...,"usIn":1767225600123456}}`; MessagePack `... a4 "usIn" cf/d3
// <8 bytes big-endian>` as the last member of params. 0 when absent.
std::int64_t stamp_json(std::string_view m) {
  constexpr std::string_view kKey = R"("usIn":)";
  if (m.size() < kKey.size() + 3 || !m.ends_with("}}")) return 0;
  std::size_t i = m.size() - 2;
  std::int64_t value = 0, scale = 1;
  while (i > 0 && m[i - 1] >= '0' && m[i - 1] <= '9' && scale <= 1'000'000'000'000'000'000) {
    value += (m[i - 1] - '0') * scale;
    scale *= 10;
    --i;
  }
  if (scale == 1 || i < kKey.size() || m.substr(i - kKey.size(), kKey.size()) != kKey) return 0;
  return value;
}

std::int64_t stamp_msgpack(std::string_view m) {
  constexpr std::string_view kKey = "\xa4usIn";
  if (m.size() < kKey.size() + 9) return 0;
  const std::string_view tail = m.substr(m.size() - 9 - kKey.size());
  const auto marker = static_cast<unsigned char>(tail[kKey.size()]);
  if (!tail.starts_with(kKey) || (marker != 0xcf && marker != 0xd3)) return 0;
  std::uint64_t value = 0;
  for (std::size_t i = kKey.size() + 1; i < tail.size(); ++i)
    value = value << 8 | static_cast<unsigned char>(tail[i]);
  return static_cast<std::int64_t>(value);
}

// protobuf: Params.usIn (field 17, varint: the tag is 88 01) is the last field of Params, the
// Envelope's last field, so the message ends with the tag and a varint. Where that tag is, or
// npos. Going back from the end: the varint's last byte has its high bit clear, the bytes
// before it set; the tag's second byte (01) is the first one going back that is clear again.
std::size_t protobuf_stamp_at(std::string_view m) {
  const auto byte = [&m](std::size_t i) { return static_cast<unsigned char>(m[i]); };
  if (m.empty() || (byte(m.size() - 1) & 0x80) != 0) return std::string_view::npos;
  std::size_t first = m.size() - 1;  // the varint's first byte, once found
  while (first > 0 && (byte(first - 1) & 0x80) != 0 && m.size() - first < 10) --first;
  if (first < 2 || byte(first - 2) != 0x88 || byte(first - 1) != 0x01) {
    return std::string_view::npos;
  }
  return first - 2;
}

std::int64_t stamp_protobuf(std::string_view m) {
  const std::size_t at = protobuf_stamp_at(m);
  if (at == std::string_view::npos) return 0;
  const auto* p = reinterpret_cast<const std::uint8_t*>(m.data()) + at + 2;
  std::uint64_t value = 0;
  client::protobuf::WireReader::read_varint(p, p + (m.size() - at - 2), value);
  return static_cast<std::int64_t>(value);
}

std::int64_t stamp_of(std::string_view m, Wire wire) {
  switch (wire) {
    case Wire::json:
      return stamp_json(m);
    case Wire::msgpack:
      return stamp_msgpack(m);
    case Wire::protobuf:
      return stamp_protobuf(m);
  }
  return 0;
}

// Another server: the event's own `timestamp` (milliseconds), the first one in the message.
std::int64_t timestamp_json_us(std::string_view m) {
  constexpr std::string_view kKey = R"("timestamp":)";
  const std::size_t at = m.find(kKey);
  if (at == std::string_view::npos) return 0;
  std::int64_t ms = 0;
  for (std::size_t i = at + kKey.size(); i < m.size() && m[i] >= '0' && m[i] <= '9'; ++i)
    ms = ms * 10 + (m[i] - '0');
  return ms * 1000;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// A book snapshot: `data` starts with its type, right after the channel name (fixed layout:
// JSON `,"params":{"channel":"NAME","data":{"type":"snapshot"`, MessagePack the same members).
bool is_snapshot_text_or_msgpack(std::string_view m, bool msgpack) {
  const std::size_t start = (msgpack ? kMsgpackNotification : kJsonNotification).size();
  const std::string_view before = msgpack ? "\xa6params\x83\xa7"
                                            "channel"
                                          : R"(,"params":{"channel":")";
  if (m.size() < start + before.size() + 1) return false;
  std::size_t name_end = 0;
  if (!msgpack) {
    name_end = m.find('"', start + before.size());
  } else {
    // The channel's str header: fixstr (0xa0 | length) or str 8 (0xd9, length).
    const std::size_t h = start + before.size();
    const auto tag = static_cast<unsigned char>(m[h]);
    if ((tag & 0xe0) == 0xa0) {
      name_end = h + 1 + (tag & 0x1f);
    } else if (tag == 0xd9 && h + 1 < m.size()) {
      name_end = h + 2 + static_cast<unsigned char>(m[h + 1]);
    } else {
      return false;
    }
  }
  if (name_end == std::string_view::npos || name_end > m.size()) return false;
  const std::string_view after = msgpack ? std::string_view(
                                               "\xa4"
                                               "data")
                                         : std::string_view(R"(","data":{"type":"snapshot")");
  if (!msgpack) return m.substr(name_end).starts_with(after);
  // MessagePack: "data" then a map header (fixmap or map 16), then "type": "snapshot".
  std::size_t i = name_end + after.size();
  if (!m.substr(name_end).starts_with(after) || i >= m.size()) return false;
  i += static_cast<unsigned char>(m[i]) == 0xde ? 3 : 1;
  return m.substr(std::min(i, m.size())).starts_with("\xa4type\xa8snapshot");
}

// protobuf: Envelope.params (field 5), its channel (1), then the `book` member of Params.data
// (3), whose first field is BookChange.type (1) "snapshot".
bool is_snapshot_protobuf(std::string_view m) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(m.data()) + kProtobufNotification.size();
  const auto* const end = reinterpret_cast<const std::uint8_t*>(m.data()) + m.size();
  std::uint64_t length = 0;
  auto field = [&](std::uint8_t tag) {  // a length-delimited field's tag, then its length
    return p != end && *p++ == tag && client::protobuf::WireReader::read_varint(p, end, length);
  };
  if (!field(0x2a) || !field(0x0a) || length > static_cast<std::size_t>(end - p)) return false;
  p += length;  // the channel's name
  constexpr std::string_view kType =
      "\x0a\x08"
      "snapshot";
  return field(0x1a) && static_cast<std::size_t>(end - p) >= kType.size() &&
         std::string_view(reinterpret_cast<const char*>(p), kType.size()) == kType;
}

bool is_snapshot(std::string_view m, Wire wire) {
  return wire == Wire::protobuf ? is_snapshot_protobuf(m)
                                : is_snapshot_text_or_msgpack(m, wire == Wire::msgpack);
}

// A snapshot sent again after drops says so, as its last member: JSON "resync":true,
// MessagePack the same; protobuf BookChange.resync (field 9: 48 01), right before the stamp.
bool is_resync(std::string_view m, Wire wire) {
  if (wire == Wire::protobuf) {
    const std::size_t at = protobuf_stamp_at(m);
    return at != std::string_view::npos && at >= 2 && m.substr(at - 2, 2) == "\x48\x01";
  }
  return contains(m.substr(m.size() - std::min<std::size_t>(m.size(), 48)),
                  wire == Wire::msgpack ? "\xa6resync\xc3" : R"("resync":true)");
}

// ---- the server's side: HTTP probes, /proc ------------------------------------------------------

// A blocking GET on a fresh connection; the body, or nullopt. Setup and reporting only.
std::optional<std::string> http_get(const ws::Url& url, const std::string& path) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* info = nullptr;
  if (getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &info) != 0)
    return std::nullopt;
  const int fd = ::socket(info->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  const bool connected = fd >= 0 && ::connect(fd, info->ai_addr, info->ai_addrlen) == 0;
  freeaddrinfo(info);
  if (!connected) {
    if (fd >= 0) ::close(fd);
    return std::nullopt;
  }
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + url.host_header + "\r\nConnection: close\r\n\r\n";
  std::string response;
  bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size());
  char buffer[65536];
  while (ok) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const std::size_t body = response.find("\r\n\r\n");
  if (!ok || body == std::string::npos || !response.starts_with("HTTP/1.1 200")) {
    return std::nullopt;
  }
  return response.substr(body + 4);
}

// The counters of /metrics the report shows.
struct ServerCounters {
  bool known = false;
  double dropped = 0, resyncs = 0, slow_closes = 0, notifications = 0, events = 0;
};

ServerCounters read_metrics(const ws::Url& url) {
  ServerCounters c;
  const auto text = http_get(url, "/metrics");
  if (!text) return c;
  const std::map<std::string_view, double*> wanted = {
      {"greekwire_dropped_notifications_total", &c.dropped},
      {"greekwire_book_resyncs_total", &c.resyncs},
      {"greekwire_slow_closes_total", &c.slow_closes},
      {"greekwire_notifications_total", &c.notifications},
      {"greekwire_venue_events_total", &c.events}};
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t space = line.find(' ');
    if (line.starts_with('#') || space == std::string::npos) continue;
    const auto it = wanted.find(std::string_view(line).substr(0, space));
    if (it == wanted.end()) continue;
    *it->second = std::strtod(line.c_str() + space + 1, nullptr);
    c.known = true;
  }
  return c;
}

// The pid of the process listening on `port` on this machine (its socket's inode in
// /proc/net/tcp*, then the /proc/<pid>/fd link to it); 0 if not found (another user's).
int find_listener_pid(std::uint16_t port) {
  std::vector<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      const std::size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port) {
        inodes.push_back("socket:[" + inode + "]");
      }
    }
  }
  if (inodes.empty()) return 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  int found = 0;
  while (dirent* entry = readdir(proc)) {
    const int pid = std::atoi(entry->d_name);
    if (pid <= 0 || pid == getpid()) continue;
    const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* fd = readdir(fds)) {
      char target[64] = {};
      const std::string link = fd_dir + "/" + fd->d_name;
      if (readlink(link.c_str(), target, sizeof target - 1) <= 0) continue;
      if (std::find(inodes.begin(), inodes.end(), target) != inodes.end()) found = pid;
    }
    closedir(fds);
    if (found != 0) break;
  }
  closedir(proc);
  return found;
}

// A "Name:  value kB" line of /proc/<pid>/status, in KiB; -1 if unreadable.
long proc_status_kib(int pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(name + ":")) return std::atol(line.c_str() + name.size() + 1);
  }
  return -1;
}

// User plus system CPU time of a process (0: this one), seconds; -1 if unreadable.
double cpu_seconds(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat")
                            : "/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t end = text.rfind(')');  // the command name may hold spaces
  if (end == std::string::npos) return -1;
  std::istringstream fields(text.substr(end + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::atof(field.c_str());  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The soft "Max open files" of a process; -1 if unreadable.
long open_file_limit(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("Max open files")) return std::atol(line.c_str() + 14);
  }
  return -1;
}

// Takes every descriptor the hard limit allows; false (and why) when N connections need more.
bool raise_open_file_limit(int connections, std::string* error) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return true;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  const auto needed = static_cast<rlim_t>(connections + kSpareDescriptors);
  if (limit.rlim_cur != RLIM_INFINITY && needed > limit.rlim_cur) {
    *error = std::to_string(connections) + " connections need about " + std::to_string(needed) +
             " file descriptors, but this process may open at most " +
             std::to_string(limit.rlim_cur) +
             " (RLIMIT_NOFILE hard limit, `ulimit -Hn`): use fewer connections or raise the limit";
    return false;
  }
  return true;
}

// ---- which channels -----------------------------------------------------------------------------

template <class T>
T field_or(simdjson::dom::element row, const char* key, T fallback) {
  T value;
  return row[key].get(value) == simdjson::SUCCESS ? value : fallback;
}

struct ListedInstrument {
  std::string name;
  double score = 0;  // how busy its book should be: perpetuals, futures, options near the money
};

// The instruments of both currencies, busiest first. The simulated market's order flow is
// heaviest on perpetuals, then dated futures and options near the money of short expiries
// (docs/VENUE.md); the score follows that shape: d = ln(K/S) / (0.6 sqrt(T)).
std::vector<ListedInstrument> rank_instruments(const ws::Url& url, std::string* error) {
  std::vector<ListedInstrument> ranked;
  simdjson::dom::parser parser;
  const double now_years = static_cast<double>(wall_us()) / 1e6 / (365.0 * 86400);
  for (const char* currency : {"BTC", "ETH"}) {
    const std::string lower = currency == std::string("BTC") ? "btc_usd" : "eth_usd";
    const auto index_body = http_get(url, "/api/v2/public/get_index_price?index_name=" + lower);
    const auto body = http_get(
        url, "/api/v2/public/get_instruments?currency=" + std::string(currency) + "&expired=false");
    if (!index_body || !body) {
      *error = "cannot list the instruments over HTTP (/api/v2/public/get_instruments)";
      return {};
    }
    double index = 0;
    simdjson::dom::element index_doc;
    if (parser.parse(*index_body).get(index_doc) == simdjson::SUCCESS) {
      double price = 0;
      if (index_doc["result"]["index_price"].get(price) == simdjson::SUCCESS) index = price;
    }
    simdjson::dom::array rows;
    if (parser.parse(*body)["result"].get(rows) != simdjson::SUCCESS) {
      *error = "unexpected answer to public/get_instruments";
      return {};
    }
    for (simdjson::dom::element row : rows) {
      const auto name = field_or<std::string_view>(row, "instrument_name", {});
      const auto kind = field_or<std::string_view>(row, "kind", {});
      const auto period = field_or<std::string_view>(row, "settlement_period", {});
      const auto expiry_ms = field_or<std::int64_t>(row, "expiration_timestamp", 0);
      if (name.empty()) continue;
      const double years =
          std::max(static_cast<double>(expiry_ms) / 1e3 / (365.0 * 86400) - now_years, 1.0 / 365);
      double score = 1;  // a dated future
      if (period == "perpetual") {
        score = 3;
      } else if (kind == "option") {
        const auto strike = field_or<double>(row, "strike", 0);
        const double d =
            index > 0 && strike > 0 ? std::log(strike / index) / (0.6 * std::sqrt(years)) : 10.0;
        score = std::exp(-d * d / 2) / (1 + 4 * years);
      }
      ranked.push_back({std::string(name), score});
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.score > b.score; });
  return ranked;
}

// Every template with {i} once per instrument; the others once.
std::vector<std::string> expand_channels(const std::string& templates,
                                         const std::vector<ListedInstrument>& instruments) {
  std::vector<std::string> channels;
  std::istringstream list(templates);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item.empty()) continue;
    const std::size_t at = item.find("{i}");
    if (at == std::string::npos) {
      channels.push_back(item);
      continue;
    }
    for (const ListedInstrument& instrument : instruments) {
      channels.push_back(item.substr(0, at) + instrument.name + item.substr(at + 3));
    }
  }
  return channels;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t chunk = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[chunk >> 18 & 63];
    out += kAlphabet[chunk >> 12 & 63];
    out += i + 1 < bytes.size() ? kAlphabet[chunk >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

// What every connection does, built once: the client options and the subscribe requests.
struct FanoutPlan {
  ws::Url url;
  ws::ClientOptions options;
  Wire wire = Wire::json;
  std::vector<std::string> requests;  // public/subscribe, ids 1..n
  std::size_t channels = 0;
};

std::vector<std::string> subscribe_requests(const std::vector<std::string>& channels) {
  std::vector<std::string> requests;
  for (std::size_t first = 0; first < channels.size(); first += kChannelsPerRequest) {
    std::string request = R"({"jsonrpc":"2.0","id":)" + std::to_string(requests.size() + 1) +
                          R"(,"method":"public/subscribe","params":{"channels":[)";
    const std::size_t end = std::min(channels.size(), first + kChannelsPerRequest);
    for (std::size_t i = first; i < end; ++i) {
      if (i > first) request += ',';
      request += '"' + channels[i] + '"';
    }
    request += "]}}";
    requests.push_back(std::move(request));
  }
  return requests;
}

// ---- the load: one event loop per thread, many connections each ---------------------------------

// Counters of one worker, written by its thread only (relaxed stores), read by the main thread.
struct WorkerCounters {
  std::atomic<std::uint64_t> opened{0}, subscribed{0}, failed{0}, closed_by_server{0};
  std::atomic<std::uint64_t> deliveries{0}, bytes{0}, unstamped{0};
  std::atomic<std::uint64_t> snapshots{0}, resync_snapshots{0};

  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

class FanoutWorker : public ws::WebSocketHandler {
 public:
  FanoutWorker(const FanoutPlan& plan, int connections, int connect_batch,
               const std::atomic<bool>& measuring)
      : plan_(plan), to_connect_(connections), batch_(connect_batch), measuring_(measuring) {}

  void run() {
    loop_.post([this] { connect_more(); });
    loop_.run();
  }
  // Any thread: closes every connection; run() returns once they are gone.
  void stop() {
    loop_.post([this] {
      stopping_ = true;
      to_connect_ = 0;
      const std::vector<ws::WebSocket*> open = open_;
      for (ws::WebSocket* socket : open) socket->close();
      loop_.stop_when_no_connections();
    });
  }

  WorkerCounters counters;
  LatencyHistogram latency;        // read after the thread ended
  std::vector<std::string> notes;  // first errors, read after the thread ended

  void on_open(ws::WebSocket& socket) override {
    --in_flight_;
    if (stopping_) {  // a handshake that was still in flight when the run ended
      socket.close();
      return;
    }
    WorkerCounters::add(counters.opened);
    auto* state = new Connection;
    state->index = open_.size();
    state->pending = plan_.requests.size();
    socket.user_data = state;
    open_.push_back(&socket);
    for (const std::string& request : plan_.requests) socket.send_text(request);
    connect_more();
  }

  void on_message(ws::WebSocket& socket, ws::MessageType,
                  std::span<std::uint8_t> payload) override {
    const std::string_view message = as_text(payload);
    if (is_notification(message, plan_.wire)) {
      on_notification(message);
    } else {
      on_response(*static_cast<Connection*>(socket.user_data), message);
    }
  }

  void on_close(ws::WebSocket& socket, std::uint16_t code, std::string_view reason) override {
    auto* state = static_cast<Connection*>(socket.user_data);
    if (!stopping_) {
      WorkerCounters::add(counters.closed_by_server);
      note("closed by the server: " + std::to_string(code) + " " + std::string(reason));
    }
    if (state != nullptr) {
      // Swap-remove from the open list.
      open_[state->index] = open_.back();
      static_cast<Connection*>(open_[state->index]->user_data)->index = state->index;
      open_.pop_back();
      delete state;
      socket.user_data = nullptr;
    }
  }

  void on_connect_error(ws::WebSocket&, std::string_view error) override {
    --in_flight_;
    WorkerCounters::add(counters.failed);
    note(std::string(error) + (contains(error, "429") ? " (serve --max-connections-per-ip)" : ""));
    connect_more();
  }

 private:
  struct Connection {
    std::size_t index = 0;    // in open_
    std::size_t pending = 0;  // subscribe requests not answered yet
    std::size_t channels = 0;
  };

  void connect_more() {
    while (to_connect_ > 0 && in_flight_ < batch_) {
      --to_connect_;
      std::string error;
      if (ws::ClientSocket::connect(loop_, plan_.url, plan_.options, *this, &error) == nullptr) {
        WorkerCounters::add(counters.failed);
        note(error);
        continue;
      }
      ++in_flight_;
    }
  }

  // The hot path: classify, stamp, count. No allocation, no parsing.
  void on_notification(std::string_view message) {
    if (is_snapshot(message, plan_.wire)) {
      WorkerCounters::add(counters.snapshots);
      if (is_resync(message, plan_.wire)) WorkerCounters::add(counters.resync_snapshots);
    }
    if (!measuring_.load(std::memory_order_relaxed)) return;
    const std::int64_t now = wall_us();
    WorkerCounters::add(counters.deliveries);
    WorkerCounters::add(counters.bytes, message.size());
    std::int64_t stamp = stamp_of(message, plan_.wire);
    if (stamp == 0) {
      WorkerCounters::add(counters.unstamped);
      if (plan_.wire == Wire::json) stamp = timestamp_json_us(message);
    }
    if (stamp != 0) latency.record(now - stamp);
  }

  // Answers to the subscribe requests: how many channels each result lists.
  void on_response(Connection& state, std::string_view message) {
    if (state.pending == 0) return;
    --state.pending;
    const std::optional<std::size_t> accepted = result_size(message);
    if (accepted) {
      state.channels += *accepted;
    } else {
      note("subscribe refused: " + std::string(message.substr(0, 300)));
    }
    if (state.pending > 0) return;
    if (state.channels < plan_.channels) {
      note("subscribed to " + std::to_string(state.channels) + " of " +
           std::to_string(plan_.channels) +
           " channels (unknown instruments, or raw without --auth)");
    }
    WorkerCounters::add(state.channels > 0 ? counters.subscribed : counters.failed);
  }

  void note(std::string text) {
    if (notes.size() < 5) notes.push_back(std::move(text));
  }

  std::optional<std::size_t> result_size(std::string_view message) {
    switch (plan_.wire) {
      case Wire::json:
        return result_size_json(message);
      case Wire::msgpack:
        return result_size_msgpack(message);
      case Wire::protobuf:
        return result_size_protobuf(message);
    }
    return std::nullopt;
  }

  std::optional<std::size_t> result_size_json(std::string_view message) {
    simdjson::dom::element doc;
    simdjson::dom::array result;
    if (parser_.parse(message.data(), message.size()).get(doc) != simdjson::SUCCESS ||
        doc["result"].get(result) != simdjson::SUCCESS)
      return std::nullopt;
    return result.size();
  }

  // The array header after the "result" key (fixarray, array 16 or array 32).
  static std::optional<std::size_t> result_size_msgpack(std::string_view message) {
    const std::size_t at = message.find("\xa6result");
    if (at == std::string_view::npos || at + 7 >= message.size()) return std::nullopt;
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(message[i]); };
    const std::size_t h = at + 7;
    if ((byte(h) & 0xf0) == 0x90) return byte(h) & 0x0f;
    if (byte(h) == 0xdc && h + 2 < message.size()) return byte(h + 1) << 8 | byte(h + 2);
    if (byte(h) == 0xdd && h + 4 < message.size()) {
      return std::size_t{byte(h + 1)} << 24 | byte(h + 2) << 16 | byte(h + 3) << 8 | byte(h + 4);
    }
    return std::nullopt;
  }

  // Envelope.public_subscribe (a ChannelList): how many `channels` it holds.
  static std::optional<std::size_t> result_size_protobuf(std::string_view message) {
    namespace schema = codec::protobuf;
    const schema::Schema& s = schema::greekwire_schema();
    static const schema::Field* const result =
        s.find_member(s.root_message(), "result", "public_subscribe");
    static const schema::Field* const channels = s.find_key(s.message_of(*result), "channels");
    client::protobuf::WireReader reader(
        {reinterpret_cast<const std::uint8_t*>(message.data()), message.size()});
    client::protobuf::WireField f;
    std::optional<std::size_t> count;
    while (reader.next(f)) {
      if (f.number != result->number || f.wire != client::protobuf::WireType::length) continue;
      count = 0;
      client::protobuf::WireReader list(f.bytes);
      client::protobuf::WireField channel;
      while (list.next(channel)) *count += channel.number == channels->number;
    }
    return reader.failed() ? std::nullopt : count;
  }

  const FanoutPlan& plan_;
  net::EventLoop loop_;
  int to_connect_;
  int in_flight_ = 0;
  const int batch_;
  const std::atomic<bool>& measuring_;
  bool stopping_ = false;
  std::vector<ws::WebSocket*> open_;
  simdjson::dom::parser parser_;
};

// ---- the run ------------------------------------------------------------------------------------

struct Totals {
  std::uint64_t opened = 0, subscribed = 0, failed = 0, closed_by_server = 0;
  std::uint64_t deliveries = 0, bytes = 0, unstamped = 0, snapshots = 0, resync_snapshots = 0;
};

Totals sum(const std::vector<std::unique_ptr<FanoutWorker>>& workers) {
  Totals t;
  for (const auto& w : workers) {
    const WorkerCounters& c = w->counters;
    t.opened += c.opened.load(std::memory_order_relaxed);
    t.subscribed += c.subscribed.load(std::memory_order_relaxed);
    t.failed += c.failed.load(std::memory_order_relaxed);
    t.closed_by_server += c.closed_by_server.load(std::memory_order_relaxed);
    t.deliveries += c.deliveries.load(std::memory_order_relaxed);
    t.bytes += c.bytes.load(std::memory_order_relaxed);
    t.unstamped += c.unstamped.load(std::memory_order_relaxed);
    t.snapshots += c.snapshots.load(std::memory_order_relaxed);
    t.resync_snapshots += c.resync_snapshots.load(std::memory_order_relaxed);
  }
  return t;
}

// One progress line, rewritten in place on a terminal.
void progress(const std::string& line) {
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::fprintf(stderr, "%s%s%s", tty ? "\r" : "", line.c_str(), tty ? "   " : "\n");
  std::fflush(stderr);
}

std::string format(const char* pattern, auto... args) {
  char line[256];
  std::snprintf(line, sizeof line, pattern, args...);
  return line;
}

struct Report {
  std::size_t channels = 0;
  std::vector<ListedInstrument> instruments;
  double seconds = 0;
  Totals totals;
  LatencyHistogram latency;
  int pid = 0;
  long rss_before = -1, rss_after = -1, hwm = -1;
  double server_cpu = -1, client_cpu = -1;  // cores used while measuring
  ServerCounters before, after;
  std::vector<std::string> notes;
};

int print_report(const FanoutConfig& config, const Report& r) {
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
  const double rate = r.seconds > 0 ? static_cast<double>(r.totals.deliveries) / r.seconds : 0;
  const double bytes_rate = r.seconds > 0 ? static_cast<double>(r.totals.bytes) / r.seconds : 0;
  const double ms = 1e-3;
  const bool rss = r.rss_before >= 0 && r.rss_after >= 0;
  const double per_connection_kib = rss && r.totals.subscribed > 0
                                        ? static_cast<double>(r.rss_after - r.rss_before) /
                                              static_cast<double>(r.totals.subscribed)
                                        : 0;
  auto delta = [&](double ServerCounters::*field) { return r.after.*field - r.before.*field; };
  if (config.json) {
    std::printf(
        "{\"url\": \"%s\", \"test\": \"fanout\", \"connections\": %d, \"subscribed\": %llu, "
        "\"failed\": %llu, \"closed_by_server\": %llu, \"channels_per_connection\": %zu, "
        "\"instruments\": %zu, \"encoding\": \"%s\", \"duration_s\": %.3f, "
        "\"deliveries\": %llu, \"deliveries_per_second\": %.1f, \"bytes_per_second\": %.1f, "
        "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, "
        "\"unstamped\": %llu, \"server_pid\": %d, \"server_rss_before_kib\": %ld, "
        "\"server_rss_after_kib\": %ld, \"server_rss_peak_kib\": %ld, "
        "\"server_kib_per_connection\": %.2f, \"dropped\": %.0f, \"resyncs\": %.0f, "
        "\"slow_closes\": %.0f, \"snapshots\": %llu, \"resync_snapshots\": %llu, "
        "\"server_cpu\": %.3f, \"client_cpu\": %.3f}\n",
        config.url.c_str(), config.connections,
        static_cast<unsigned long long>(r.totals.subscribed),
        static_cast<unsigned long long>(r.totals.failed),
        static_cast<unsigned long long>(r.totals.closed_by_server), r.channels,
        r.instruments.size(), config.encoding.c_str(), r.seconds,
        static_cast<unsigned long long>(r.totals.deliveries), rate, bytes_rate,
        r.latency.percentile(0.5) * ms, r.latency.percentile(0.99) * ms,
        r.latency.percentile(0.999) * ms, static_cast<double>(r.latency.max()) * ms,
        static_cast<unsigned long long>(r.totals.unstamped), r.pid, r.rss_before, r.rss_after,
        r.hwm, per_connection_kib, delta(&ServerCounters::dropped), delta(&ServerCounters::resyncs),
        delta(&ServerCounters::slow_closes), static_cast<unsigned long long>(r.totals.snapshots),
        static_cast<unsigned long long>(r.totals.resync_snapshots), r.server_cpu, r.client_cpu);
  } else {
    std::printf("fanout %s: %d connections x %zu channels (%s over %zu instruments), %s, %.1f s\n",
                config.url.c_str(), config.connections, r.channels, config.channels.c_str(),
                r.instruments.size(), config.encoding.c_str(), r.seconds);
    std::printf("  connections: %llu subscribed, %llu failed, %llu closed by the server\n",
                static_cast<unsigned long long>(r.totals.subscribed),
                static_cast<unsigned long long>(r.totals.failed),
                static_cast<unsigned long long>(r.totals.closed_by_server));
    std::printf("  deliveries: %.0f/s (%llu), %.1f MB/s, %.1f per connection per second\n", rate,
                static_cast<unsigned long long>(r.totals.deliveries), bytes_rate / 1e6,
                r.totals.subscribed > 0 ? rate / static_cast<double>(r.totals.subscribed) : 0);
    std::printf(
        "  latency, event to receipt: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%s\n",
        r.latency.percentile(0.5) * ms, r.latency.percentile(0.99) * ms,
        r.latency.percentile(0.999) * ms, static_cast<double>(r.latency.max()) * ms,
        r.totals.unstamped > 0 ? " (some messages without usIn: from their timestamp, ms)" : "");
    if (rss) {
      std::printf(
          "  server (pid %d): RSS %.1f MiB before, %.1f MiB after, peak %.1f MiB: %.1f KiB per "
          "connection\n",
          r.pid, static_cast<double>(r.rss_before) / 1024, static_cast<double>(r.rss_after) / 1024,
          static_cast<double>(r.hwm) / 1024, per_connection_kib);
    } else {
      std::printf("  server RSS: unknown (give --server-pid)\n");
    }
    if (r.after.known) {
      std::printf(
          "  server during the run: %.0f notifications dropped, %.0f book resyncs, %.0f slow "
          "closes; %.0f venue events/s\n",
          delta(&ServerCounters::dropped), delta(&ServerCounters::resyncs),
          delta(&ServerCounters::slow_closes),
          r.seconds > 0 ? delta(&ServerCounters::events) / r.seconds : 0);
    }
    std::printf("  client: %llu snapshots, %llu flagged resync\n",
                static_cast<unsigned long long>(r.totals.snapshots),
                static_cast<unsigned long long>(r.totals.resync_snapshots));
    std::printf("  CPU while measuring: server %.2f cores, client %.2f cores\n", r.server_cpu,
                r.client_cpu);
  }
  for (const std::string& note : r.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  return r.totals.subscribed > 0 && r.totals.deliveries > 0 ? 0 : 1;
}

bool build_plan(const FanoutConfig& config, FanoutPlan& plan, Report& report) {
  std::string error;
  auto url = ws::parse_url(config.url, &error);
  if (!url || url->secure) {
    std::fprintf(stderr, "greekwire bench fanout: %s\n",
                 url ? "wss:// is not supported (the HTTP probes are cleartext)" : error.c_str());
    return false;
  }
  plan.url = *url;
  plan.wire = *wire_of(config.encoding);
  plan.options.socket.idle_timeout_s = 0;
  plan.options.socket.handshake_timeout_s = 60;  // thousands of handshakes queue at the server
  if (plan.wire != Wire::json) plan.options.handshake.subprotocols = {config.encoding};
  if (!config.auth.empty()) {
    plan.options.handshake.headers.emplace_back("Authorization", "Basic " + base64(config.auth));
  }
  const auto ranked = rank_instruments(plan.url, &error);
  if (ranked.empty()) {
    std::fprintf(stderr, "greekwire bench fanout: %s\n", error.c_str());
    return false;
  }
  report.instruments.assign(
      ranked.begin(),
      ranked.begin() +
          std::min<std::ptrdiff_t>(config.instruments, static_cast<std::ptrdiff_t>(ranked.size())));
  const auto channels = expand_channels(config.channels, report.instruments);
  if (channels.empty()) {
    std::fprintf(stderr, "greekwire bench fanout: --channels gives no channel\n");
    return false;
  }
  plan.channels = report.channels = channels.size();
  plan.requests = subscribe_requests(channels);
  return true;
}

int run_fanout(const FanoutConfig& config) {
  std::string error;
  if (!raise_open_file_limit(config.connections, &error)) {
    std::fprintf(stderr, "greekwire bench fanout: %s\n", error.c_str());
    return 2;
  }
  if (!wire_of(config.encoding)) {
    std::fprintf(stderr, "greekwire bench fanout: --encoding is json, msgpack or protobuf\n");
    return 2;
  }
  ignore_broken_pipes();
  FanoutPlan plan;
  Report report;
  if (!build_plan(config, plan, report)) return 2;
  report.pid = config.server_pid != 0 ? config.server_pid : find_listener_pid(plan.url.port);
  if (report.pid != 0) {
    const long limit = open_file_limit(report.pid);
    if (limit >= 0 && limit < config.connections + kSpareDescriptors) {
      std::fprintf(stderr,
                   "warning: the server (pid %d) may open at most %ld descriptors: fewer than "
                   "%d connections\n",
                   report.pid, limit, config.connections);
    }
    report.rss_before = proc_status_kib(report.pid, "VmRSS");
  }

  std::atomic<bool> measuring{false};
  const int threads = std::clamp(config.threads, 1, config.connections);
  std::vector<std::unique_ptr<FanoutWorker>> workers;
  for (int t = 0; t < threads; ++t) {
    const int share = config.connections / threads + (t < config.connections % threads ? 1 : 0);
    workers.push_back(std::make_unique<FanoutWorker>(plan, share, config.connect_batch, measuring));
  }
  std::vector<std::thread> running;
  for (auto& worker : workers) running.emplace_back([&worker] { worker->run(); });

  // Setup: every connection subscribed (or failed), with a progress line per second.
  const auto setup_start = std::chrono::steady_clock::now();
  Totals t;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    t = sum(workers);
    const std::uint64_t settled = t.subscribed + t.failed + t.closed_by_server;
    const double elapsed = seconds_since(setup_start);
    progress(format("[setup %5.1fs] %llu open, %llu subscribed, %llu failed", elapsed,
                    static_cast<unsigned long long>(t.opened),
                    static_cast<unsigned long long>(t.subscribed),
                    static_cast<unsigned long long>(t.failed + t.closed_by_server)));
    if (settled >= static_cast<std::uint64_t>(config.connections)) break;
    if (elapsed > config.setup_timeout) {
      std::fprintf(stderr, "\nsetup did not finish within %.0f s\n", config.setup_timeout);
      break;
    }
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(config.warmup));

  report.before = read_metrics(plan.url);
  const double server_cpu0 = report.pid != 0 ? cpu_seconds(report.pid) : -1;
  const double client_cpu0 = cpu_seconds(0);
  measuring.store(true);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t last = sum(workers).deliveries;
  for (int second = 1; seconds_since(start) < config.duration; ++second) {
    const double remaining = config.duration - seconds_since(start);
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(1.0, remaining)));
    t = sum(workers);
    progress(format("[%5.1fs] %8llu deliveries/s  %llu connections subscribed",
                    seconds_since(start), static_cast<unsigned long long>(t.deliveries - last),
                    static_cast<unsigned long long>(t.subscribed - t.closed_by_server)));
    last = t.deliveries;
  }
  measuring.store(false);
  report.seconds = seconds_since(start);
  if (server_cpu0 >= 0) {
    report.server_cpu = (cpu_seconds(report.pid) - server_cpu0) / report.seconds;
  }
  report.client_cpu = (cpu_seconds(0) - client_cpu0) / report.seconds;
  report.after = read_metrics(plan.url);
  if (report.pid != 0) {
    report.rss_after = proc_status_kib(report.pid, "VmRSS");
    report.hwm = proc_status_kib(report.pid, "VmHWM");
  }
  for (auto& worker : workers) worker->stop();
  for (auto& thread : running) thread.join();
  report.totals = sum(workers);
  for (const auto& worker : workers) {
    report.latency.merge(worker->latency);
    for (const std::string& note : worker->notes) {
      if (report.notes.size() < 8) report.notes.push_back(note);
    }
  }
  return print_report(config, report);
}

}  // namespace

void add_bench_fanout(CLI::App& bench, CommandRunner& runner) {
  auto config = std::make_shared<FanoutConfig>();
  CLI::App* fanout = bench.add_subcommand(
      "fanout", "N subscribers x M channels of `greekwire serve`: deliveries/s, latency, memory");
  fanout->add_option("url", config->url, "ws:// URL of the server's WebSocket API")->required();
  fanout->add_option("--connections", config->connections, "subscribers (one connection each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  fanout
      ->add_option("--channels", config->channels,
                   "comma-separated channels; {i} is replaced by each instrument's name")
      ->capture_default_str();
  fanout
      ->add_option("--instruments", config->instruments,
                   "how many instruments {i} takes: perpetuals, futures, then options nearest "
                   "the money")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  fanout->add_option("--duration", config->duration, "measured seconds")->capture_default_str();
  fanout->add_option("--warmup", config->warmup, "seconds after setup before measuring")
      ->capture_default_str();
  fanout->add_option("--threads", config->threads, "client event loops")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  fanout->add_option("--encoding", config->encoding, "json, msgpack or protobuf (the subprotocol)")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "msgpack", "protobuf"}));
  fanout->add_option("--auth", config->auth,
                     "client_id:client_secret (raw channels need it; `greekwire keys add`)");
  fanout->add_option("--server-pid", config->server_pid,
                     "the server's pid, for its memory (default: the local listener of the port)");
  fanout->add_option("--connect-batch", config->connect_batch, "handshakes in flight per thread")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  fanout->add_option("--setup-timeout", config->setup_timeout, "seconds to connect and subscribe")
      ->capture_default_str();
  fanout->add_flag("--json", config->json, "print the summary as one JSON object");
  fanout->callback([config, &runner] { runner = [config] { return run_fanout(*config); }; });
}

}  // namespace gw::app
