#include "tls_options.hpp"

#include <cstdio>

namespace gw::app {

void add_server_tls_flags(CLI::App& command, ServerTlsFlags& flags) {
  command.add_option("--tls-cert", flags.certificates,
                     "serve TLS with this PEM certificate chain; repeat with --tls-key for more "
                     "certificates chosen by SNI (the first is the default)");
  command.add_option("--tls-key", flags.keys,
                     "PEM private key of the --tls-cert at the same place");
  command.add_option("--tls-client-ca", flags.client_ca,
                     "PEM CA bundle that client certificates must chain to (mutual TLS)");
  command
      .add_option("--tls-client-cert", flags.client_certificates,
                  "ask clients for a certificate: optional or required")
      ->check(CLI::IsMember({"optional", "required"}));
}

void add_client_tls_flags(CLI::App& command, ClientTlsFlags& flags, bool with_identity) {
  command.add_option("--tls-ca", flags.ca_file,
                     "PEM CA bundle to verify the server against (default: the system store)");
  command.add_flag("--tls-insecure", flags.insecure,
                   "do not verify the server's certificate or name (tests only)");
  if (!with_identity) return;
  command.add_option("--tls-cert", flags.certificate, "PEM client certificate (mutual TLS)");
  command.add_option("--tls-key", flags.key, "PEM private key of --tls-cert");
}

std::optional<net::TlsServerConfig> server_tls_config(const ServerTlsFlags& flags,
                                                      std::string* error) {
  const bool wants_tls = !flags.certificates.empty() || !flags.keys.empty() ||
                         !flags.client_ca.empty() || !flags.client_certificates.empty();
  if (!wants_tls) return std::nullopt;
  if (flags.certificates.empty() || flags.certificates.size() != flags.keys.size()) {
    *error = "every --tls-cert needs its --tls-key (and TLS options need --tls-cert)";
    return std::nullopt;
  }
  if (flags.client_ca.empty() != flags.client_certificates.empty()) {
    *error = "--tls-client-ca and --tls-client-cert optional|required go together";
    return std::nullopt;
  }
  net::TlsServerConfig config;
  for (std::size_t i = 0; i < flags.certificates.size(); ++i)
    config.certificates.push_back({flags.certificates[i], flags.keys[i]});
  config.client_ca_file = flags.client_ca;
  if (flags.client_certificates == "optional") {
    config.client_certificates = net::ClientCertificates::optional;
  } else if (flags.client_certificates == "required") {
    config.client_certificates = net::ClientCertificates::required;
  }
  return config;
}

net::TlsClientConfig client_tls_config(const ClientTlsFlags& flags, const char* command) {
  if (flags.insecure) {
    std::fprintf(stderr,
                 "greekwire %s: WARNING: --tls-insecure: the server's certificate and name are "
                 "NOT verified; anyone on the path can read and change this traffic\n",
                 command);
  }
  net::TlsClientConfig config;
  config.ca_file = flags.ca_file;
  config.verify_peer = !flags.insecure;
  config.client = {flags.certificate, flags.key};
  return config;
}

}  // namespace gw::app
