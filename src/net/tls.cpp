#include "net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace gw::net {

namespace {

// TLS 1.2 suites: forward secrecy and AEAD only (Mozilla's "intermediate" list). TLS 1.3 uses
// OpenSSL's defaults, which are all modern.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN wire format: length-prefixed names. WebSocket runs over HTTP/1.1 (RFC 6455 section 4.1).
constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Drains OpenSSL's (thread-local) error queue into one readable line.
std::string take_errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    const char* reason = ERR_reason_error_string(code);
    text += reason != nullptr ? reason : buffer;
  }
  return text;
}

bool fail(std::string* error, const std::string& what) {
  if (error != nullptr) {
    const std::string details = take_errors();
    *error = details.empty() ? what : what + ": " + details;
  }
  ERR_clear_error();
  return false;
}

bool is_ip_literal(std::string_view host) {
  const std::string text(host);
  unsigned char address[16];
  return inet_pton(AF_INET, text.c_str(), address) == 1 ||
         inet_pton(AF_INET6, text.c_str(), address) == 1;
}

void apply_common_settings(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE |
                               // The WebSocket close handshake already detects truncation.
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Partial writes let a large message go out record by record; the moving buffer lets a retry
  // come from our write queue, whose storage may have been reallocated meanwhile. Not
  // SSL_MODE_RELEASE_BUFFERS: it frees and reallocates the 34 KiB of record buffers around every
  // read and write, which costs a busy connection a third of its throughput. Idle connections
  // give them back instead (TlsSession::sweep_idle_buffers, called by the loop every second).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read whole socket buffers, not record header then body: one recv per batch of records.
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_cipher_list(ctx, kTls12Ciphers);
}

int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void* /*arg*/) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, kAlpn, sizeof kAlpn, offered, offered_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    // RFC 7301 section 3.2: a client that offers only protocols we do not speak is refused.
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

int select_certificate(SSL* ssl, int* /*alert*/, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  const auto* server = static_cast<const TlsServerContext*>(arg);
  SSL_CTX* chosen = server->context_for(name);
  if (chosen != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen);
  return SSL_TLSEXT_ERR_OK;
}

SSL_CTX* new_server_context(const CertificateFiles& files, const TlsServerConfig& config,
                            std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    fail(error, "cannot create a TLS context");
    return nullptr;
  }
  apply_common_settings(ctx);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  static constexpr unsigned char kSessionContext[] = "greekwire";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  bool ok = SSL_CTX_use_certificate_chain_file(ctx, files.certificate.c_str()) == 1 ||
            fail(error, "cannot load the certificate " + files.certificate);
  ok = ok && (SSL_CTX_use_PrivateKey_file(ctx, files.private_key.c_str(), SSL_FILETYPE_PEM) == 1 ||
              fail(error, "cannot load the private key " + files.private_key));
  ok = ok && (SSL_CTX_check_private_key(ctx) == 1 ||
              fail(error, "the private key " + files.private_key + " does not match " +
                              files.certificate));
  if (ok && config.client_certificates != ClientCertificates::none) {
    ok = !config.client_ca_file.empty() ||
         fail(error, "client certificates need a client CA file (--tls-client-ca)");
    ok = ok && (SSL_CTX_load_verify_locations(ctx, config.client_ca_file.c_str(), nullptr) == 1 ||
                fail(error, "cannot load the client CA " + config.client_ca_file));
    if (ok) {
      // The CA names go into the CertificateRequest so that clients pick the right identity.
      SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(config.client_ca_file.c_str()));
      const int mode = config.client_certificates == ClientCertificates::required
                           ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                           : SSL_VERIFY_PEER;
      SSL_CTX_set_verify(ctx, mode, nullptr);
    }
  }
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

std::string rfc2253(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

std::string ia5(const ASN1_IA5STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(ASN1_STRING_length(s))};
}

std::string ip_text(const ASN1_OCTET_STRING* s) {
  char text[INET6_ADDRSTRLEN] = {};
  const int length = ASN1_STRING_length(s);
  const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : -1;
  if (family < 0 || inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text) == nullptr)
    return "?";
  return text;
}

std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> names;
  auto* general =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (general == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(general); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(general, i);
    switch (name->type) {
      case GEN_DNS:
        names.push_back("DNS:" + ia5(name->d.dNSName));
        break;
      case GEN_IPADD:
        names.push_back("IP:" + ip_text(name->d.iPAddress));
        break;
      case GEN_EMAIL:
        names.push_back("email:" + ia5(name->d.rfc822Name));
        break;
      case GEN_URI:
        names.push_back("URI:" + ia5(name->d.uniformResourceIdentifier));
        break;
      default:
        break;
    }
  }
  GENERAL_NAMES_free(general);
  return names;
}

std::string sha256_hex(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 15];
  }
  return text;
}

// ---- The socket BIO ----
//
// OpenSSL's own socket BIO would do, but ours differs in two ways that matter: it sends with
// MSG_NOSIGNAL (a vanished peer must not raise SIGPIPE in a library), and it remembers when a
// recv came back short. On an edge-triggered socket a short read means the kernel buffer was
// empty, so further reads in the same wake-up can answer "would block" without the syscall:
// that saves one recv per batch of records, a third of the syscalls of an echo.

struct SocketBio {
  int fd = -1;
  bool drained = false;  // a recv since begin_io() returned less than asked
};

int bio_read(BIO* bio, char* buffer, int size) {
  auto* state = static_cast<SocketBio*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (state->drained) {
    BIO_set_retry_read(bio);
    return -1;
  }
  for (;;) {
    const ssize_t n = ::recv(state->fd, buffer, static_cast<std::size_t>(size), 0);
    if (n >= 0) {
      if (n < size) state->drained = true;
      return static_cast<int>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      state->drained = true;
      BIO_set_retry_read(bio);
    }
    return -1;
  }
}

int bio_write(BIO* bio, const char* data, int size) {
  auto* state = static_cast<SocketBio*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  for (;;) {
    const ssize_t n = ::send(state->fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
    return -1;
  }
}

long bio_ctrl(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
  // Writes go straight to the socket, so a flush has nothing to do.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_destroy(BIO* bio) {
  delete static_cast<SocketBio*>(BIO_get_data(bio));
  BIO_set_data(bio, nullptr);
  return 1;
}

const BIO_METHOD* socket_bio_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "greekwire socket");
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_destroy(m, bio_destroy);
    return m;
  }();
  return method;
}

// Attaches `fd` to `ssl` through our BIO. False if OpenSSL is out of memory.
bool attach_socket(SSL* ssl, int fd) {
  BIO* bio = BIO_new(socket_bio_method());
  if (bio == nullptr) return false;
  BIO_set_data(bio, new SocketBio{fd, false});
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // one BIO both ways: SSL takes a single reference
  return true;
}

}  // namespace

// ---- TlsServerContext ----

std::shared_ptr<TlsServerContext> TlsServerContext::create(const TlsServerConfig& config,
                                                           std::string* error) {
  if (config.certificates.empty()) {
    if (error != nullptr) *error = "TLS needs a certificate and a private key";
    return nullptr;
  }
  std::shared_ptr<TlsServerContext> server(new TlsServerContext());
  for (const CertificateFiles& files : config.certificates) {
    SSL_CTX* ctx = new_server_context(files, config, error);
    if (ctx == nullptr) return nullptr;
    server->contexts_.push_back(ctx);
  }
  // SNI is read from the context a session starts with: the default one.
  SSL_CTX_set_tlsext_servername_callback(server->default_context(), select_certificate);
  SSL_CTX_set_tlsext_servername_arg(server->default_context(), server.get());
  return server;
}

TlsServerContext::~TlsServerContext() {
  for (SSL_CTX* ctx : contexts_) SSL_CTX_free(ctx);
}

SSL_CTX* TlsServerContext::context_for(std::string_view host_name) const {
  for (SSL_CTX* ctx : contexts_) {
    X509* cert = SSL_CTX_get0_certificate(ctx);
    if (cert != nullptr &&
        X509_check_host(cert, host_name.data(), host_name.size(), 0, nullptr) == 1)
      return ctx;
  }
  return default_context();
}

// ---- TlsClientContext ----

std::shared_ptr<TlsClientContext> TlsClientContext::create(const TlsClientConfig& config,
                                                           std::string* error) {
  std::shared_ptr<TlsClientContext> client(new TlsClientContext());
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    fail(error, "cannot create a TLS context");
    return nullptr;
  }
  client->context_ = ctx;
  client->verify_peer_ = config.verify_peer;
  apply_common_settings(ctx);
  if (SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn) != 0) {
    fail(error, "cannot set ALPN");
    return nullptr;
  }
  const bool trust_loaded =
      config.ca_file.empty()
          ? SSL_CTX_set_default_verify_paths(ctx) == 1 ||
                fail(error, "cannot load the system trust store")
          : SSL_CTX_load_verify_locations(ctx, config.ca_file.c_str(), nullptr) == 1 ||
                fail(error, "cannot load the CA file " + config.ca_file);
  if (!trust_loaded) return nullptr;
  SSL_CTX_set_verify(ctx, config.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  const CertificateFiles& own = config.client;
  if (!own.certificate.empty() || !own.private_key.empty()) {
    const bool ok =
        (SSL_CTX_use_certificate_chain_file(ctx, own.certificate.c_str()) == 1 ||
         fail(error, "cannot load the client certificate " + own.certificate)) &&
        (SSL_CTX_use_PrivateKey_file(ctx, own.private_key.c_str(), SSL_FILETYPE_PEM) == 1 ||
         fail(error, "cannot load the client key " + own.private_key)) &&
        (SSL_CTX_check_private_key(ctx) == 1 ||
         fail(error, "the client key does not match the client certificate"));
    if (!ok) return nullptr;
  }
  return client;
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(context_);
}

// ---- TlsSession ----

TlsSession::TlsSession(SSL* ssl, std::shared_ptr<const void> keep_alive)
    : ssl_(ssl), keep_alive_(std::move(keep_alive)) {}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}

std::unique_ptr<TlsSession> TlsSession::server(std::shared_ptr<const TlsServerContext> context,
                                               int fd) {
  SSL* ssl = SSL_new(context->default_context());
  if (ssl == nullptr) return nullptr;
  if (!attach_socket(ssl, fd)) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(ssl, std::move(context)));
}

std::unique_ptr<TlsSession> TlsSession::client(std::shared_ptr<const TlsClientContext> context,
                                               int fd, std::string_view host, std::string* error) {
  SSL* ssl = SSL_new(context->context());
  if (ssl == nullptr) {
    fail(error, "cannot create a TLS session");
    return nullptr;
  }
  std::unique_ptr<TlsSession> session(new TlsSession(ssl, context));
  session->is_client_ = true;
  // Called when the server sends a CertificateRequest: remembered to explain a refusal later.
  SSL_set_cert_cb(
      ssl,
      [](SSL*, void* arg) {
        static_cast<TlsSession*>(arg)->certificate_requested_ = true;
        return 1;
      },
      session.get());
  if (!attach_socket(ssl, fd)) {
    fail(error, "cannot create a TLS session");
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  const std::string name(host);
  const bool literal = is_ip_literal(host);
  // RFC 6066 section 3: SNI carries host names only, never address literals.
  if (!literal && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    fail(error, "cannot set the server name");
    return nullptr;
  }
  if (context->verify_peer()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const bool ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1
                            : SSL_set1_host(ssl, name.c_str()) == 1;
    if (!ok) {
      fail(error, "cannot set the expected host name " + name);
      return nullptr;
    }
  }
  return session;
}

TlsStatus TlsSession::status_after(int result, const char* operation) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return TlsStatus::want_read;
    case SSL_ERROR_WANT_WRITE:
      return TlsStatus::want_write;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      return TlsStatus::closed;
    case SSL_ERROR_SYSCALL: {
      const int saved = errno;
      system_error_ = saved;
      error_ = std::string(operation) + ": " +
               (saved != 0 ? std::strerror(saved) : "connection closed by the peer");
      ERR_clear_error();
      return TlsStatus::failed;
    }
    default:
      break;
  }
  const long verify = SSL_get_verify_result(ssl_);
  std::string details = take_errors();
  if (verify != X509_V_OK) {
    details = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
    // Name the certificate that failed, so that the user knows which one to fix or trust.
    // A certificate that failed verification is not the session's peer certificate, but the
    // chain the peer sent is kept: its first entry is the peer's own.
    const STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_);
    const X509* cert = chain != nullptr && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0)
                                                                  : SSL_get0_peer_certificate(ssl_);
    if (cert != nullptr) {
      details += " (" + std::string(is_client_ ? "server" : "client") + " certificate " +
                 rfc2253(X509_get_subject_name(cert)) + ", issued by " +
                 rfc2253(X509_get_issuer_name(cert)) + ")";
    }
  }
  error_ = std::string(operation) + ": " + (details.empty() ? "protocol error" : details);
  return TlsStatus::failed;
}

void TlsSession::begin_io() {
  static_cast<SocketBio*>(BIO_get_data(SSL_get_rbio(ssl_)))->drained = false;
}

TlsStatus TlsSession::handshake() {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    established_ = true;
    record_peer();
    return TlsStatus::ok;
  }
  const TlsStatus status = status_after(result, "TLS handshake");
  return status == TlsStatus::closed ? TlsStatus::failed : status;
}

// The hot path does not clear OpenSSL's error queue before each call (that costs 2% of an
// echo): every failure path drains it (status_after, fail), so it is empty when we get here.
TlsStatus TlsSession::read(std::uint8_t* buffer, std::size_t size, std::size_t& n) {
  n = 0;
  mark_active();
  const int result = SSL_read_ex(ssl_, buffer, size, &n);
  return result == 1 ? TlsStatus::ok : status_after(result, "TLS read");
}

TlsStatus TlsSession::write(const std::uint8_t* data, std::size_t size, std::size_t& n) {
  n = 0;
  mark_active();
  const int result = SSL_write_ex(ssl_, data, size, &n);
  return result == 1 ? TlsStatus::ok : status_after(result, "TLS write");
}

void TlsSession::sweep_idle_buffers() {
  if (idle_sweeps_ < kIdleSweepsBeforeRelease) {
    if (++idle_sweeps_ < kIdleSweepsBeforeRelease) return;
  }
  // Refused (returns 0) while a record is half read or half written: tried again next sweep.
  if (!buffers_released_ && established_) buffers_released_ = SSL_free_buffers(ssl_) == 1;
}

void TlsSession::shutdown() {
  if (!established_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool TlsSession::has_own_certificate() const {
  return SSL_get_certificate(ssl_) != nullptr;
}

std::string_view TlsSession::protocol_version() const {
  return SSL_get_version(ssl_);
}

std::string_view TlsSession::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? name : "";
}

std::string_view TlsSession::server_name() const {
  const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? name : "";
}

void TlsSession::record_peer() {
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
  alpn_.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) return;
  peer_.present = true;
  peer_.verified =
      SSL_get_verify_mode(ssl_) != SSL_VERIFY_NONE && SSL_get_verify_result(ssl_) == X509_V_OK;
  peer_.subject = rfc2253(X509_get_subject_name(cert));
  peer_.issuer = rfc2253(X509_get_issuer_name(cert));
  peer_.subject_alt_names = subject_alt_names(cert);
  peer_.sha256_fingerprint = sha256_hex(cert);
}

}  // namespace gw::net
