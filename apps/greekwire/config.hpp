// `greekwire serve --config FILE`: the TOML file that sets what the serve flags set, and the
// things that only had defaults (send-buffer caps, heartbeat bounds, WebSocket timeouts, the
// demo account's balances, the credit pools, the audit log's rotation, the simulated market).
// greekwire.example.toml at the repository root lists every key with its default.
//
// Strict on purpose: a key the server does not know (a typo) or a value of the wrong type or
// out of range is an error naming the file, the line and the key, not something silently
// ignored. Integers are accepted where a real number is expected. Flags given on the command
// line override the file (serve.cpp applies them after load_config()).
#pragma once

#include <string>
#include <vector>

#include "gateway/gateway.hpp"
#include "tls_options.hpp"

namespace gw::app {

// `--replay FILE`: the market is a recording's (the venue mirrors it; the replay's speed is
// gateway.venue.speed).
struct ReplaySettings {
  std::string file;      // empty: the simulated market
  double delay_s = 0.0;  // before the first market message
};

// Relay mode ([upstream], --upstream ...): the market from a Deribit-compatible feed.
struct UpstreamSettings {
  std::string url;                     // empty: the simulator
  std::vector<std::string> subscribe;  // channel patterns (feed/patterns.hpp)
  std::string auth;                    // CLIENT_ID:CLIENT_SECRET, optional
  std::string encoding = "json";       // json or msgpack
  ClientTlsFlags tls;                  // trust, verification, client certificate
  double relist_interval_s = 60;
  int heartbeat_s = 10;  // public/set_heartbeat on the upstream; 0: none
};

// Scale-out over NATS JetStream (docs/SCALE-OUT.md).
struct ScaleSettings {
  std::string role = "single";    // single (everything in one process), venue or edge
  std::string nats;               // nats://host:port (venue and edge)
  double venue_timeout_s = 5;     // edge: forwarded requests answer 13028 after this
  double stream_max_age_s = 900;  // venue: how long the stream keeps market data
};

// Everything `greekwire serve` can be told, with the serve defaults.
struct ServeSettings {
  std::string listen = "127.0.0.1:8080";
  ServerTlsFlags tls;
  UpstreamSettings upstream;
  ReplaySettings replay;
  ScaleSettings scale;
  gateway::GatewayConfig gateway;  // data_dir, threads, venue seed and speed, ... (listen and
                                   // tls are taken from the two fields above)
};

// Reads `path` into `settings`, changing only what the file sets. False, with `error` holding
// one line "PATH:LINE: ..." per problem in file order (a TOML syntax error; or every unknown
// key, wrong type or value), and `settings` unchanged.
bool load_config(const std::string& path, ServeSettings& settings, std::string* error);

// The same from TOML text (`name` stands for the file in messages); for tests.
bool load_config_text(std::string_view text, const std::string& name, ServeSettings& settings,
                      std::string* error);

}  // namespace gw::app
