#include "client_flags.hpp"

#include <cstdio>

namespace gw::app {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

void add_client_flags(CLI::App& command, ClientFlags& flags) {
  command.add_option("url", flags.url, "ws:// or wss:// URL, e.g. ws://127.0.0.1:8080/ws/api/v2")
      ->required();
  command.add_option("--auth", flags.auth,
                     "authenticate with this API key, CLIENT_ID:CLIENT_SECRET (public/auth, "
                     "client_signature: the secret is not sent)");
  command
      .add_option("--encoding", flags.encoding, "what the server sends: json, msgpack or protobuf")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "msgpack", "protobuf"}));
  command.add_option("--header", flags.headers,
                     "extra handshake header \"Name: value\" (repeatable), e.g. "
                     "\"Authorization: Bearer <JWT>\"");
  command.add_option("--timeout", flags.timeout, "seconds for connecting and for each request")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  add_client_tls_flags(command, flags.tls);
}

std::optional<greekwire::ConnectionOptions> connection_options(const ClientFlags& flags,
                                                               const char* command,
                                                               std::string* error) {
  greekwire::ConnectionOptions options;
  options.url = flags.url;
  options.encoding = *greekwire::parse_encoding(flags.encoding);
  options.connect_timeout_s = flags.timeout;
  options.request_timeout_s = flags.timeout;
  if (!flags.auth.empty()) {
    const std::size_t colon = flags.auth.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == flags.auth.size()) {
      *error = "--auth takes CLIENT_ID:CLIENT_SECRET";
      return std::nullopt;
    }
    options.credentials =
        greekwire::Credentials{flags.auth.substr(0, colon), flags.auth.substr(colon + 1), {}};
  }
  for (const std::string& header : flags.headers) {
    const std::size_t colon = header.find(':');
    if (colon == std::string::npos || trim(header.substr(0, colon)).empty()) {
      *error = "--header takes \"Name: value\", not '" + header + "'";
      return std::nullopt;
    }
    options.headers.emplace_back(trim(header.substr(0, colon)), trim(header.substr(colon + 1)));
  }
  const net::TlsClientConfig tls = client_tls_config(flags.tls, command);
  options.tls.ca_file = tls.ca_file;
  options.tls.verify = tls.verify_peer;
  options.tls.certificate_file = tls.client.certificate;
  options.tls.private_key_file = tls.client.private_key;
  if (options.tls.certificate_file.empty() != options.tls.private_key_file.empty()) {
    *error = "--tls-cert and --tls-key go together";
    return std::nullopt;
  }
  return options;
}

int connect_exit_code(const greekwire::Error& error) {
  switch (error.kind) {
    case greekwire::ErrorKind::invalid_argument:
      return kExitUsage;
    case greekwire::ErrorKind::unreachable:
    case greekwire::ErrorKind::tls:
    case greekwire::ErrorKind::http_status:
    case greekwire::ErrorKind::handshake:
    case greekwire::ErrorKind::disconnected:
    case greekwire::ErrorKind::timeout:
      return kExitConnect;
    default:
      return kExitError;
  }
}

void print_connect_error(const char* command, const greekwire::Error& error) {
  const char* what = error.kind == greekwire::ErrorKind::rpc ? "authentication failed: " : "";
  std::fprintf(stderr, "greekwire %s: %s%s\n", command, what, error.describe().c_str());
}

}  // namespace gw::app
