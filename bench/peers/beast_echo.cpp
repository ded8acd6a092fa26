// Boost.Beast WebSocket echo server: a benchmark peer for `greekwire bench echo`.
//
// Written the way Beast's own examples (websocket_server_async, advanced_server)
// recommend for throughput, so that the comparison is against Beast at its best:
//   * io_context with concurrency hint 1 (single-threaded by default),
//   * async accept, one session per connection,
//   * async_read into a flat_buffer, then async_write of the same buffer with
//     ws.text(ws.got_text()), then consume and read again,
//   * auto_fragment(false), read_message_max 16 MiB, permessage-deflate off,
//   * timeout::suggested(role_type::server), TCP_NODELAY.
//
// The websocket stream sits directly on a tcp::socket: the websocket layer's own
// timeout option provides the handshake/idle timeouts, so beast::tcp_stream's
// per-operation timer would only add overhead. With THREADS > 1 every session
// runs on its own strand (as in the examples); with THREADS == 1 no strand is
// needed and none is used.
//
// Usage: beast_echo PORT [THREADS]   (listens on 127.0.0.1 only)

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kReadMessageMax = 16u * 1024u * 1024u;

void fail(beast::error_code ec, char const* what) {
  // Normal disconnects are not worth reporting during a benchmark.
  if (ec == websocket::error::closed || ec == net::error::eof ||
      ec == net::error::operation_aborted || ec == net::error::connection_reset ||
      ec == net::error::broken_pipe || ec == beast::error::timeout)
    return;
  std::cerr << "beast_echo: " << what << ": " << ec.message() << "\n";
}

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(tcp::socket&& socket) : ws_(std::move(socket)) {}

  void run() {
    beast::error_code ec;
    ws_.next_layer().set_option(tcp::no_delay(true), ec);

    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    websocket::permessage_deflate pmd;
    // GW_PEER_DEFLATE=1 (bench/echo_compare.sh --deflate): accept permessage-deflate offers,
    // with Beast's defaults otherwise (window 15, context takeover).
    pmd.server_enable = std::getenv("GW_PEER_DEFLATE") != nullptr;
    pmd.client_enable = false;
    ws_.set_option(pmd);
    ws_.auto_fragment(false);
    ws_.read_message_max(kReadMessageMax);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(beast::http::field::server, "beast-echo (Boost " BOOST_LIB_VERSION ")");
    }));

    ws_.async_accept(beast::bind_front_handler(&session::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return fail(ec, "accept");
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return fail(ec, "read");
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(),
                    beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return fail(ec, "write");
    buffer_.consume(buffer_.size());
    do_read();
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, tcp::endpoint endpoint, bool use_strands)
      : ioc_(ioc), acceptor_(ioc), use_strands_(use_strands) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  void run() { do_accept(); }

  void stop() {
    beast::error_code ec;
    acceptor_.close(ec);
  }

 private:
  void do_accept() {
    if (use_strands_) {
      acceptor_.async_accept(net::make_strand(ioc_),
                             beast::bind_front_handler(&listener::on_accept, shared_from_this()));
    } else {
      acceptor_.async_accept(ioc_,
                             beast::bind_front_handler(&listener::on_accept, shared_from_this()));
    }
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted) return;  // acceptor closed
      fail(ec, "accept");
    } else {
      std::make_shared<session>(std::move(socket))->run();
    }
    if (acceptor_.is_open()) do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  bool use_strands_;
};

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: beast_echo PORT [THREADS]\n";
    return 2;
  }
  int const port = std::atoi(argv[1]);
  int const threads = argc == 3 ? std::atoi(argv[2]) : 1;
  if (port <= 0 || port > 65535 || threads < 1) {
    std::cerr << "beast_echo: bad PORT or THREADS\n";
    return 2;
  }

  try {
    net::io_context ioc{threads};  // concurrency hint == thread count (1 by default)

    auto const address = net::ip::make_address("127.0.0.1");
    auto lst = std::make_shared<listener>(
        ioc, tcp::endpoint{address, static_cast<unsigned short>(port)}, threads > 1);
    lst->run();

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code const&, int) {
      lst->stop();
      ioc.stop();
    });

    std::printf("listening on ws://127.0.0.1:%d\n", port);
    std::fflush(stdout);

    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads - 1));
    for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
  } catch (std::exception const& e) {
    std::cerr << "beast_echo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
