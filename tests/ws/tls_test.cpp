// wss:// over loopback: our TLS client against our TLS server with a test PKI made by the
// openssl CLI (tests/tls/make_certs.sh): echo, ALPN, mutual TLS and what the application learns
// of the peer certificate, verification failures, certificate reload, handshake timeouts.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

#include "net/event_loop.hpp"
#include "net/tls.hpp"
#include "ws/client.hpp"
#include "ws/server.hpp"
#include "ws/test_peers.hpp"

namespace gw::ws {
namespace {

std::string run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  ::pclose(pipe);
  return output;
}

// One PKI for the whole suite (key generation is the slow part).
const std::string& pki() {
  static const std::string dir = [] {
    char pattern[] = "/tmp/gw-tls-test-XXXXXX";
    const std::string made = ::mkdtemp(pattern);
    run_command("bash " GW_SOURCE_DIR "/tests/tls/make_certs.sh " + made + " >/dev/null");
    return made;
  }();
  return dir;
}

std::string file(const std::string& name) {
  return pki() + "/" + name;
}

// `openssl x509 -fingerprint -sha256` as 64 lowercase hex digits: an independent computation.
std::string openssl_fingerprint(const std::string& pem) {
  std::string text = run_command("openssl x509 -noout -fingerprint -sha256 -in " + pem);
  text = text.substr(text.find('=') + 1);
  std::string hex;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::tolower(c));
  }
  return hex;
}

// The server side records what TLS told it about each client.
class RecordingServer : public EchoHandler {
 public:
  void on_open(WebSocket& socket) override {
    EchoHandler::on_open(socket);
    std::lock_guard lock(mutex);
    ASSERT_NE(socket.tls(), nullptr);
    peer = socket.tls()->peer_certificate();
    alpn = std::string(socket.tls()->alpn());
    version = std::string(socket.tls()->protocol_version());
    server_name = std::string(socket.tls()->server_name());
  }
  std::mutex mutex;
  net::PeerCertificate peer;
  std::string alpn;
  std::string version;
  std::string server_name;
};

struct TlsFixture : ::testing::Test {
  static void SetUpTestSuite() { ASSERT_TRUE(std::filesystem::exists(file("ca.pem"))); }

  void start(ServerOptions options = {}) {
    options.listen = {"127.0.0.1", 0};
    if (!options.tls) {
      options.tls = net::TlsServerConfig{};
      options.tls->certificates = {{file("server.pem"), file("server.key")}};
    }
    server = std::make_unique<Server>(options, handler);
    server->start();
    url = *parse_url("wss://localhost:" + std::to_string(server->port()) + "/");
  }

  void TearDown() override {
    if (server) {
      server->shutdown();
      server->wait();
    }
  }

  static ClientOptions trusting_client() {
    ClientOptions options;
    options.tls.ca_file = file("ca.pem");
    return options;
  }

  void run_client(RecordingClient& client, const ClientOptions& options, double seconds = 10) {
    run_client_loop(loop, url, client, options, seconds, timed_out);
  }

  // Connects, sends one message, closes after the echo; returns the client's record.
  RecordingClient echo_once(const ClientOptions& options, std::string message = "hello") {
    RecordingClient client;
    client.on_open_action = [message](WebSocket& socket) { socket.send_text(message); };
    client.on_message_action = [](WebSocket& socket) { socket.close(); };
    run_client(client, options);
    return client;
  }

  RecordingServer handler;
  std::unique_ptr<Server> server;
  Url url;
  net::EventLoop loop;
  bool timed_out = false;
};

TEST_F(TlsFixture, EchoesMessagesOfManySizesOverTls) {
  start();
  RecordingClient client;
  const std::vector<std::size_t> sizes = {0, 1, 125, 16383, 16384, 16385, 65536, 3 << 20};
  std::string alpn, version;
  client.on_open_action = [&](WebSocket& socket) {
    alpn = std::string(socket.tls()->alpn());
    version = std::string(socket.tls()->protocol_version());
    for (std::size_t size : sizes) {
      std::string text(size, 'x');
      for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + i % 26);
      socket.send_text(text);
    }
  };
  client.on_message_action = [&](WebSocket& socket) {
    if (client.messages.size() == sizes.size()) socket.close(1000, "done");
  };
  run_client(client, trusting_client());
  ASSERT_FALSE(timed_out);
  ASSERT_EQ(client.messages.size(), sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_EQ(client.messages[i].second.size(), sizes[i]);
    if (sizes[i] > 0) {
      EXPECT_EQ(client.messages[i].second.back(), static_cast<char>('a' + (sizes[i] - 1) % 26));
    }
  }
  EXPECT_EQ(client.close_code, 1000);
  EXPECT_EQ(alpn, "http/1.1");
  EXPECT_EQ(version, "TLSv1.3");
  std::lock_guard lock(handler.mutex);
  EXPECT_EQ(handler.alpn, "http/1.1");
  EXPECT_EQ(handler.server_name, "localhost");  // our client sends SNI for names
  EXPECT_FALSE(handler.peer.present);           // no client certificate asked for
}

// Idle TLS connections give their record buffers back after two sweeps without I/O (about 2 s)
// and take them again on the next message, which still gets through.
TEST_F(TlsFixture, IdleConnectionReleasesItsRecordBuffersAndStillWorks) {
  start();
  RecordingClient client;
  WebSocket* open_socket = nullptr;
  bool released_while_idle = false;
  bool released_after_second = true;
  net::Timer later([&] {
    released_while_idle = open_socket->tls()->buffers_released();
    open_socket->send_text("second");
  });
  client.on_open_action = [&](WebSocket& socket) {
    open_socket = &socket;
    socket.send_text("first");
  };
  client.on_message_action = [&](WebSocket& socket) {
    if (client.messages.size() == 1) {
      EXPECT_FALSE(socket.tls()->buffers_released());
      loop.timers().arm(later, net::monotonic_ms() + 2 * net::EventLoop::kTlsSweepIntervalMs +
                                   net::EventLoop::kTlsSweepIntervalMs / 2);
    } else {
      released_after_second = socket.tls()->buffers_released();
      socket.close(1000, "done");
    }
  };
  run_client(client, trusting_client());
  ASSERT_FALSE(timed_out);
  ASSERT_EQ(client.messages.size(), 2u);
  EXPECT_EQ(client.messages[1].second, "second");
  EXPECT_TRUE(released_while_idle);
  EXPECT_FALSE(released_after_second);
}

TEST_F(TlsFixture, PermessageDeflateWorksOverTls) {
  ServerOptions options;
  options.socket.deflate.enabled = true;
  start(options);
  ClientOptions client_options = trusting_client();
  client_options.socket.deflate.enabled = true;
  std::string big;
  for (int i = 0; i < 5000; ++i) big += "{\"price\":" + std::to_string(100000 + i % 37) + "},";
  RecordingClient client = echo_once(client_options, big);
  ASSERT_EQ(client.messages.size(), 1u);
  EXPECT_EQ(client.messages[0].second, big);
}

TEST_F(TlsFixture, ServerCertificateFromAnUnknownCaIsRefused) {
  start();
  ClientOptions options;
  options.tls.ca_file = file("rogue-ca.pem");
  RecordingClient client = echo_once(options);
  EXPECT_FALSE(client.opened);
  EXPECT_NE(client.connect_error.find("certificate verify failed"), std::string::npos)
      << client.connect_error;
  // Which certificate failed, so that the user knows what to trust or fix.
  EXPECT_NE(client.connect_error.find("server certificate CN=localhost, issued by CN=greekwire "
                                      "test CA"),
            std::string::npos)
      << client.connect_error;
}

TEST_F(TlsFixture, HostnameMismatchIsRefusedUnlessVerificationIsOff) {
  ServerOptions options;
  options.tls = net::TlsServerConfig{};
  options.tls->certificates = {{file("other.pem"), file("other.key")}};  // other.test only
  start(options);
  RecordingClient refused = echo_once(trusting_client());
  EXPECT_FALSE(refused.opened);
  EXPECT_NE(refused.connect_error.find("hostname mismatch"), std::string::npos)
      << refused.connect_error;

  ClientOptions insecure;
  insecure.tls.verify_peer = false;
  RecordingClient accepted = echo_once(insecure);
  EXPECT_TRUE(accepted.opened) << accepted.connect_error;
  ASSERT_EQ(accepted.messages.size(), 1u);
}

TEST_F(TlsFixture, IpLiteralIsVerifiedAgainstTheIpSan) {
  start();
  url = *parse_url("wss://127.0.0.1:" + std::to_string(server->port()) + "/");
  RecordingClient client = echo_once(trusting_client());
  EXPECT_TRUE(client.opened) << client.connect_error;
  std::lock_guard lock(handler.mutex);
  EXPECT_EQ(handler.server_name, "");  // no SNI for address literals (RFC 6066 section 3)
}

ServerOptions mutual_tls(net::ClientCertificates mode) {
  ServerOptions options;
  options.tls = net::TlsServerConfig{};
  options.tls->certificates = {{file("server.pem"), file("server.key")}};
  options.tls->client_ca_file = file("ca.pem");
  options.tls->client_certificates = mode;
  return options;
}

TEST_F(TlsFixture, RequiredClientCertificateIsExposedToTheApplication) {
  start(mutual_tls(net::ClientCertificates::required));
  ClientOptions options = trusting_client();
  options.tls.client = {file("client.pem"), file("client.key")};
  RecordingClient client = echo_once(options);
  ASSERT_TRUE(client.opened) << client.connect_error;
  std::lock_guard lock(handler.mutex);
  const net::PeerCertificate& peer = handler.peer;
  EXPECT_TRUE(peer.present);
  EXPECT_TRUE(peer.verified);
  EXPECT_EQ(peer.subject, "CN=alice,O=Desk 1");
  EXPECT_EQ(peer.issuer, "CN=greekwire test CA");
  EXPECT_EQ(peer.subject_alt_names,
            (std::vector<std::string>{"email:alice@example.com", "URI:greekwire://account/alice"}));
  EXPECT_EQ(peer.sha256_fingerprint, openssl_fingerprint(file("client.pem")));
  EXPECT_EQ(peer.sha256_fingerprint.size(), 64u);
}

TEST_F(TlsFixture, RequiredClientCertificateMissingIsRefused) {
  start(mutual_tls(net::ClientCertificates::required));
  RecordingClient client = echo_once(trusting_client());
  EXPECT_FALSE(client.opened);
  EXPECT_NE(client.connect_error.find("certificate required"), std::string::npos)
      << client.connect_error;
  EXPECT_EQ(handler.opened, 0);
}

TEST_F(TlsFixture, ClientCertificateFromAnotherCaIsRefused) {
  start(mutual_tls(net::ClientCertificates::optional));
  ClientOptions options = trusting_client();
  options.tls.client = {file("rogue-client.pem"), file("rogue-client.key")};
  RecordingClient client = echo_once(options);
  EXPECT_FALSE(client.opened);
  EXPECT_NE(client.connect_error.find("unknown ca"), std::string::npos) << client.connect_error;
}

TEST_F(TlsFixture, OptionalClientCertificateMayBeAbsent) {
  start(mutual_tls(net::ClientCertificates::optional));
  RecordingClient client = echo_once(trusting_client());
  ASSERT_TRUE(client.opened) << client.connect_error;
  std::lock_guard lock(handler.mutex);
  EXPECT_FALSE(handler.peer.present);
}

TEST_F(TlsFixture, ReloadServesTheNewCertificateToNewConnectionsOnly) {
  // The server reads copies that the test then overwrites, as an operator renewing a cert.
  const std::string cert = file("reload.pem"), key = file("reload.key");
  std::filesystem::copy_file(file("server.pem"), cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(file("server.key"), key,
                             std::filesystem::copy_options::overwrite_existing);
  ServerOptions options;
  options.tls = net::TlsServerConfig{};
  options.tls->certificates = {{cert, key}};
  start(options);

  ClientOptions insecure;  // sees whichever certificate is served
  insecure.tls.verify_peer = false;
  RecordingClient first;
  std::string first_fingerprint, second_fingerprint;
  RecordingClient second;
  first.on_open_action = [&](WebSocket& socket) {
    first_fingerprint = socket.tls()->peer_certificate().sha256_fingerprint;
    // Renew while this connection is open, then open a second connection.
    std::filesystem::copy_file(file("other.pem"), cert,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(file("other.key"), key,
                               std::filesystem::copy_options::overwrite_existing);
    std::string error;
    ASSERT_TRUE(server->reload_tls(&error)) << error;
    second.on_open_action = [&](WebSocket& s) {
      second_fingerprint = s.tls()->peer_certificate().sha256_fingerprint;
      socket.send_text("still here");  // the first connection survived the reload
      s.close();
    };
    ASSERT_NE(ClientSocket::connect(loop, url, insecure, second, &error), nullptr) << error;
  };
  first.on_message_action = [](WebSocket& socket) { socket.close(); };
  run_client(first, insecure);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(first_fingerprint, openssl_fingerprint(file("server.pem")));
  EXPECT_EQ(second_fingerprint, openssl_fingerprint(file("other.pem")));
  ASSERT_EQ(first.messages.size(), 1u);
  EXPECT_EQ(first.messages[0].second, "still here");
}

TEST_F(TlsFixture, FailedReloadKeepsTheOldCertificate) {
  const std::string cert = file("broken.pem");
  std::filesystem::copy_file(file("server.pem"), cert,
                             std::filesystem::copy_options::overwrite_existing);
  ServerOptions options;
  options.tls = net::TlsServerConfig{};
  options.tls->certificates = {{cert, file("server.key")}};
  start(options);
  std::ofstream(cert, std::ios::trunc) << "-----BEGIN CERTIFICATE-----\ngarbage\n";
  std::string error;
  EXPECT_FALSE(server->reload_tls(&error));
  EXPECT_NE(error.find("broken.pem"), std::string::npos) << error;
  RecordingClient client = echo_once(trusting_client());
  EXPECT_TRUE(client.opened) << client.connect_error;
}

TEST_F(TlsFixture, MismatchedKeyIsAClearError) {
  net::TlsServerConfig config;
  config.certificates = {{file("server.pem"), file("other.key")}};
  std::string error;
  EXPECT_EQ(net::TlsServerContext::create(config, &error), nullptr);
  EXPECT_NE(error.find("mismatch"), std::string::npos) << error;
}

// Raw TCP to the TLS port: silence, a partial ClientHello, and plain HTTP.
int connect_raw(std::uint16_t port) {
  std::string error;
  const int fd = net::connect_tcp({"127.0.0.1", port}, &error);
  pollfd p{fd, POLLOUT, 0};
  ::poll(&p, 1, 2000);
  return fd;
}

// Waits for the server to close: true if recv() sees EOF (or a reset) within `ms`.
bool closed_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  char buffer[4096];
  const std::uint64_t deadline = net::monotonic_ms() + static_cast<std::uint64_t>(ms);
  while (net::monotonic_ms() < deadline) {
    if (::poll(&p, 1, 50) > 0) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) return true;
    }
  }
  return false;
}

TEST_F(TlsFixture, SilentOrStalledTlsHandshakeIsDroppedAtTheTimeout) {
  ServerOptions options;
  options.socket.handshake_timeout_s = 0.3;
  start(options);
  const int silent = connect_raw(server->port());
  const int stalled = connect_raw(server->port());
  const unsigned char partial_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
  ASSERT_EQ(::send(stalled, partial_hello, sizeof partial_hello, 0),
            static_cast<ssize_t>(sizeof partial_hello));
  const std::uint64_t start_ms = net::monotonic_ms();
  EXPECT_TRUE(closed_within(silent, 3000));
  EXPECT_TRUE(closed_within(stalled, 3000));
  EXPECT_GE(net::monotonic_ms() - start_ms, 250u);
  ::close(silent);
  ::close(stalled);
  EXPECT_EQ(handler.opened, 0);
}

TEST_F(TlsFixture, PlainHttpToTheTlsPortIsDroppedAndTheServerServesOn) {
  start();
  const int fd = connect_raw(server->port());
  const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  EXPECT_TRUE(closed_within(fd, 3000));
  ::close(fd);
  RecordingClient client = echo_once(trusting_client());
  EXPECT_TRUE(client.opened) << client.connect_error;
}

TEST_F(TlsFixture, ClientReportsARefusedConnection) {
  start();
  const std::uint16_t port = server->port();
  server->shutdown();
  server->wait();
  server.reset();
  url = *parse_url("wss://localhost:" + std::to_string(port) + "/");
  RecordingClient client = echo_once(trusting_client());
  EXPECT_FALSE(client.opened);
  EXPECT_NE(client.connect_error.find("cannot connect"), std::string::npos) << client.connect_error;
}

}  // namespace
}  // namespace gw::ws
