// websocketpp WebSocket echo server: a benchmark peer for `greekwire bench echo`.
//
// websocketpp 0.8.2 (Debian libwebsocketpp-dev), websocketpp::config::asio
// (plain TCP, Boost.Asio), access and error logging off, TCP_NODELAY,
// max message size 16 MiB, no permessage-deflate (not configured in config::asio).
//
// Usage: websocketpp_echo PORT [THREADS]   (listens on 127.0.0.1 only)

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <vector>

using server = websocketpp::server<websocketpp::config::asio>;

int main(int argc, char* argv[]) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: websocketpp_echo PORT [THREADS]\n";
    return 2;
  }
  int const port = std::atoi(argv[1]);
  int const threads = argc == 3 ? std::atoi(argv[2]) : 1;
  if (port <= 0 || port > 65535 || threads < 1) {
    std::cerr << "websocketpp_echo: bad PORT or THREADS\n";
    return 2;
  }

  try {
    server srv;
    srv.clear_access_channels(websocketpp::log::alevel::all);
    srv.clear_error_channels(websocketpp::log::elevel::all);

    srv.init_asio();
    srv.set_reuse_addr(true);
    srv.set_listen_backlog(boost::asio::socket_base::max_listen_connections);
    srv.set_max_message_size(16u * 1024u * 1024u);

    srv.set_socket_init_handler([](websocketpp::connection_hdl, boost::asio::ip::tcp::socket& s) {
      boost::system::error_code ec;
      s.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    });

    srv.set_message_handler([&srv](websocketpp::connection_hdl hdl, server::message_ptr msg) {
      websocketpp::lib::error_code ec;
      srv.send(hdl, msg->get_payload(), msg->get_opcode(), ec);
    });

    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::address::from_string("127.0.0.1"),
                                      static_cast<unsigned short>(port));
    srv.listen(ep);
    srv.start_accept();

    boost::asio::signal_set signals(srv.get_io_service(), SIGINT, SIGTERM);
    signals.async_wait([&srv](boost::system::error_code const&, int) {
      websocketpp::lib::error_code ec;
      srv.stop_listening(ec);
      srv.stop();  // stops the io_service; open connections are dropped
    });

    std::printf("listening on ws://127.0.0.1:%d\n", port);
    std::fflush(stdout);

    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads - 1));
    for (int i = 1; i < threads; ++i) pool.emplace_back([&srv] { srv.run(); });
    srv.run();
    for (auto& t : pool) t.join();
  } catch (websocketpp::exception const& e) {
    std::cerr << "websocketpp_echo: " << e.what() << "\n";
    return 1;
  } catch (std::exception const& e) {
    std::cerr << "websocketpp_echo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
