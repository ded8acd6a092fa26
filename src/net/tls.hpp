// TLS 1.2/1.3 with OpenSSL 3 for connections on the event loop: server contexts (several
// certificates chosen by SNI, optional or required client certificates, reloadable), client
// contexts (chain and hostname verification, client certificates), and the per-connection
// session that TcpConnection drives without blocking.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace gw::net {

struct CertificateFiles {
  std::string certificate;  // PEM: the leaf first, then intermediates
  std::string private_key;  // PEM
};

enum class ClientCertificates { none, optional, required };

struct TlsServerConfig {
  // The first pair is the default; the others are chosen when the client's SNI name matches
  // one of their names (subject alternative names, wildcards included).
  std::vector<CertificateFiles> certificates;
  std::string client_ca_file;  // PEM bundle that client certificates must chain to
  ClientCertificates client_certificates = ClientCertificates::none;
};

struct TlsClientConfig {
  std::string ca_file;      // empty: the system trust store
  bool verify_peer = true;  // chain and hostname; false only for tests against self-signed peers
  CertificateFiles client;  // optional client certificate for mutual TLS
};

// What the application learns about the peer's certificate once the handshake is done.
struct PeerCertificate {
  bool present = false;
  bool verified = false;                       // the chain verified against the configured CA
  std::string subject;                         // RFC 2253, e.g. "CN=alice,O=Desk 1"
  std::string issuer;                          // RFC 2253
  std::vector<std::string> subject_alt_names;  // "DNS:x", "IP:127.0.0.1", "email:a@b", "URI:u"
  std::string sha256_fingerprint;              // of the DER certificate, 64 lowercase hex digits
};

class TlsServerContext {
 public:
  // Loads every certificate and key (and the client CA). nullptr and `error` on failure.
  static std::shared_ptr<TlsServerContext> create(const TlsServerConfig& config,
                                                  std::string* error);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  SSL_CTX* default_context() const { return contexts_.front(); }
  // The context whose certificate covers `host_name` (the default if none does).
  SSL_CTX* context_for(std::string_view host_name) const;

 private:
  TlsServerContext() = default;
  std::vector<SSL_CTX*> contexts_;  // one per certificate, all with the same settings
};

class TlsClientContext {
 public:
  static std::shared_ptr<TlsClientContext> create(const TlsClientConfig& config,
                                                  std::string* error);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  SSL_CTX* context() const { return context_; }
  bool verify_peer() const { return verify_peer_; }

 private:
  TlsClientContext() = default;
  SSL_CTX* context_ = nullptr;
  bool verify_peer_ = true;
};

// The result of one non-blocking TLS operation.
enum class TlsStatus {
  ok,          // progress made (bytes moved, or the handshake finished)
  want_read,   // call again when the socket is readable
  want_write,  // call again when the socket is writable
  closed,      // the peer ended the TLS stream (close_notify or TCP EOF)
  failed,      // protocol or I/O error: see error()
};

// One connection's TLS state over a non-blocking socket. OpenSSL reads and writes the socket
// itself; the caller retries on the readiness the last status asked for.
class TlsSession {
 public:
  static std::unique_ptr<TlsSession> server(std::shared_ptr<const TlsServerContext> context,
                                            int fd);
  // `host` is sent as SNI (unless it is an IP literal) and, when the context verifies, checked
  // against the server certificate's names. nullptr and `error` if the session cannot start.
  static std::unique_ptr<TlsSession> client(std::shared_ptr<const TlsClientContext> context, int fd,
                                            std::string_view host, std::string* error);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Call when the socket may have new data (an epoll wake-up, reading resumed): reads answer
  // "would block" without a syscall once a recv came back short, until the next begin_io().
  void begin_io();
  TlsStatus handshake();
  bool established() const { return established_; }
  // Decrypts into `buffer`; `n` is the number of bytes produced (status ok).
  TlsStatus read(std::uint8_t* buffer, std::size_t size, std::size_t& n);
  // Encrypts and sends; `n` is the number of bytes consumed (status ok). After want_read or
  // want_write the same bytes (at least as many, possibly moved) must be offered again.
  TlsStatus write(const std::uint8_t* data, std::size_t size, std::size_t& n);
  // Sends close_notify, best effort (never blocks, never waits for the peer's).
  void shutdown();
  // Called periodically by the event loop: once no read or write happened for two calls in a
  // row, the session gives its record buffers (about 34 KiB) back to the allocator; the next
  // read or write allocates them again. Thousands of quiet subscribers then cost little.
  void sweep_idle_buffers();
  bool buffers_released() const { return buffers_released_; }

  // Why the last operation failed (the handshake, mostly), in words a user can act on.
  const std::string& error() const { return error_; }
  // errno of the socket call that failed, 0 if the failure was not a system call's.
  int system_error() const { return system_error_; }
  const PeerCertificate& peer_certificate() const { return peer_; }
  // Client side: the server asked for our certificate; and whether we have one to give.
  bool certificate_requested() const { return certificate_requested_; }
  bool has_own_certificate() const;
  std::string_view protocol_version() const;  // "TLSv1.3"
  std::string_view cipher() const;
  std::string_view alpn() const { return alpn_; }
  std::string_view server_name() const;  // SNI the client sent (server side)

 private:
  TlsSession(SSL* ssl, std::shared_ptr<const void> keep_alive);
  TlsStatus status_after(int result, const char* operation);
  void record_peer();
  void mark_active() {
    idle_sweeps_ = 0;
    buffers_released_ = false;
  }

  static constexpr std::uint8_t kIdleSweepsBeforeRelease = 2;

  SSL* ssl_;
  std::shared_ptr<const void> keep_alive_;  // the context the session's callbacks refer to
  bool established_ = false;
  bool is_client_ = false;
  bool certificate_requested_ = false;
  bool buffers_released_ = false;
  std::uint8_t idle_sweeps_ = 0;  // sweeps since the last read or write
  std::string error_;
  int system_error_ = 0;
  std::string alpn_;
  PeerCertificate peer_;
};

}  // namespace gw::net
