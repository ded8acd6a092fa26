// The flags `greekwire call` and `greekwire tail` share: the server URL, credentials, the
// encoding, extra handshake headers and TLS; and how their failures become exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "greekwire/error.hpp"
#include "greekwire/options.hpp"
#include "tls_options.hpp"

namespace gw::app {

struct ClientFlags {
  std::string url;
  std::string auth;  // --auth CLIENT_ID:CLIENT_SECRET
  std::string encoding = "json";
  std::vector<std::string> headers;  // --header "Name: value"
  ClientTlsFlags tls;
  double timeout = 10;  // seconds, for connecting and for each request
};

void add_client_flags(CLI::App& command, ClientFlags& flags);

// The SDK's options from the flags; nullopt with `error` for a usage error (exit 2).
std::optional<greekwire::ConnectionOptions> connection_options(const ClientFlags& flags,
                                                               const char* command,
                                                               std::string* error);

// Exit codes: 2 usage (bad URL, bad params), 3 could not connect (refused, TLS, an HTTP
// status instead of 101), 1 the server said no (an error answer, authentication) or timed out.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConnect = 3;
inline constexpr int kExitError = 1;
int connect_exit_code(const greekwire::Error& error);

// Prints "greekwire COMMAND: what" on stderr; for an authentication failure, says so.
void print_connect_error(const char* command, const greekwire::Error& error);

}  // namespace gw::app
