// How a greekwire::Connection connects, authenticates, reconnects and checks books.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace greekwire {

// The wire encoding of what the server sends, chosen by the WebSocket subprotocol. Requests are
// JSON text in all of them. `json` sends no subprotocol (what Deribit expects).
enum class Encoding { json, msgpack, protobuf };

std::string_view to_string(Encoding encoding);
std::optional<Encoding> parse_encoding(std::string_view name);

// API key credentials: the connection authenticates with public/auth, grant_type
// client_signature (HMAC-SHA256 over timestamp, a fresh nonce and empty data: the secret never
// goes over the wire), after every (re)connect.
struct Credentials {
  std::string client_id;
  std::string client_secret;
  std::string scope;  // optional, e.g. "session:desk1"; empty: the server's default
};

struct TlsOptions {
  std::string ca_file;  // PEM bundle to verify the server against; empty: the system store
  bool verify = true;   // chain and host name; false only for tests against self-signed peers
  std::string certificate_file;  // client certificate (mutual TLS), PEM
  std::string private_key_file;  // its key, PEM
};

// Exponential backoff with jitter: attempt n (from 0) waits
// min(max_delay_s, initial_delay_s * multiplier^n) * (1 - jitter * U[0,1)).
struct ReconnectOptions {
  bool enabled = true;
  double initial_delay_s = 0.1;
  double max_delay_s = 10.0;
  double multiplier = 2.0;
  double jitter = 0.5;
  int max_attempts = 0;  // consecutive failed attempts before giving up; 0 = never give up
  // A connection that stayed up this long resets the backoff to its first step.
  double stable_after_s = 5.0;
  // Also retry when the very first connect fails (otherwise that failure is final and reported,
  // which is what a command-line tool wants).
  bool retry_initial_connect = false;
};

// A frame as it came off the socket (reassembled, permessage-deflate undone), before the SDK
// decodes it: what `greekwire record` writes to a recording (greekwire/recording.hpp).
struct ReceivedFrame {
  std::span<const std::uint8_t> bytes;  // valid during the call only
  bool binary = false;                  // a binary frame (MessagePack, protobuf); else text
  std::int64_t received_ns = 0;         // wall clock at receipt, unix nanoseconds
};
using FrameTap = std::function<void(const ReceivedFrame&)>;

struct ConnectionOptions {
  std::string url;  // ws://host:port/path or wss://...; Deribit: wss://www.deribit.com/ws/api/v2
  Encoding encoding = Encoding::json;
  // Extra handshake headers, e.g. {"Authorization", "Bearer <JWT>"}.
  std::vector<std::pair<std::string, std::string>> headers;
  TlsOptions tls;
  std::optional<Credentials> credentials;
  // Subscribe with private/subscribe (needed for user.* and raw channels) even without
  // credentials, e.g. when the handshake authenticates with a JWT header or a certificate.
  // With credentials private/subscribe is always used.
  bool private_subscribe = false;
  double connect_timeout_s = 10.0;  // TCP, TLS and the WebSocket handshake
  double request_timeout_s = 10.0;  // default per request
  // public/set_heartbeat interval (>= 10 s on Deribit); 0 = none. With heartbeats, a server
  // that stays silent for three intervals is taken as gone and the connection is recycled.
  int heartbeat_interval_s = 0;
  ReconnectOptions reconnect;
  // Verify the book checksum when a message carries one (greekwire does, Deribit does not).
  // Needs public/get_instrument once per instrument for the number formats.
  bool verify_checksums = true;
  std::size_t max_message_size = 64u << 20;
  // Sees every frame received, on every socket of the connection (also a socket retired by a
  // resync), before it is decoded; runs on the connection's thread. Unset: no cost at all.
  FrameTap frame_tap;
};

}  // namespace greekwire
