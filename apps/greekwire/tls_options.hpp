// The TLS flags shared by the commands: a server's certificates and client-certificate policy,
// a client's trust, verification and identity.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/tls.hpp"

namespace gw::app {

struct ServerTlsFlags {
  std::vector<std::string> certificates;  // --tls-cert (repeatable, paired with --tls-key)
  std::vector<std::string> keys;          // --tls-key
  std::string client_ca;                  // --tls-client-ca
  std::string client_certificates;        // --tls-client-cert optional|required
};

struct ClientTlsFlags {
  std::string ca_file;      // --tls-ca
  bool insecure = false;    // --tls-insecure
  std::string certificate;  // --tls-cert
  std::string key;          // --tls-key
};

void add_server_tls_flags(CLI::App& command, ServerTlsFlags& flags);
// `with_identity`: also --tls-cert/--tls-key (commands that are not also servers).
void add_client_tls_flags(CLI::App& command, ClientTlsFlags& flags, bool with_identity = true);

// nullopt without --tls-cert; `error` is set (and nullopt returned) when the flags disagree.
std::optional<net::TlsServerConfig> server_tls_config(const ServerTlsFlags& flags,
                                                      std::string* error);
// Warns on stderr, loudly, when verification is off.
net::TlsClientConfig client_tls_config(const ClientTlsFlags& flags, const char* command);

}  // namespace gw::app
