#include "net/tcp.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace gw::net {
namespace {

TEST(Endpoint, ParsesHostPortAndIpv6) {
  auto a = parse_endpoint("127.0.0.1:9001");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9001);
  auto b = parse_endpoint("[::1]:80");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 80);
  std::string error;
  EXPECT_FALSE(parse_endpoint("localhost", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parse_endpoint("host:99999"));
  EXPECT_FALSE(parse_endpoint(":80"));
  EXPECT_FALSE(parse_endpoint("host:8a"));
  EXPECT_FALSE(parse_endpoint("[::1]80"));
}

// Reads everything from fd until EOF.
std::string drain(int fd) {
  std::string all;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    all.append(buffer, static_cast<std::size_t>(n));
  }
  return all;
}

TEST(WriteQueue, KeepsOrderAcrossOwnedAndSharedSegments) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  WriteQueue queue;
  const std::string a = "first;", c = "third;";
  queue.append(reinterpret_cast<const std::uint8_t*>(a.data()), a.size());
  queue.append(std::make_shared<const std::string>("second;"));
  queue.append(reinterpret_cast<const std::uint8_t*>(c.data()), c.size());
  EXPECT_EQ(queue.size(), 19u);
  ASSERT_TRUE(queue.flush(fds[0]));
  EXPECT_TRUE(queue.empty());
  ::close(fds[0]);
  EXPECT_EQ(drain(fds[1]), "first;second;third;");
  ::close(fds[1]);
}

// A connection that records what it receives and echoes it back.
class EchoConnection : public TcpConnection {
 public:
  EchoConnection(EventLoop& loop, int fd, std::string& received, bool& eof)
      : TcpConnection(loop, fd), received_(received), eof_(eof) {}

 protected:
  void on_data(std::span<std::uint8_t> data) override {
    received_.append(reinterpret_cast<const char*>(data.data()), data.size());
    write(data);
  }
  void on_eof(int) override {
    eof_ = true;
    loop().stop();
    close();
  }

 private:
  std::string& received_;
  bool& eof_;
};

TEST(TcpConnection, BackpressureQueuesThenDrainsEverythingInOrder) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  int small = 4096;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  EventLoop loop;
  std::string received;
  bool eof = false;
  new EchoConnection(loop, fds[0], received, eof);  // owns itself

  // The peer thread writes 4 MiB and reads the echo slowly, so the echo side must queue.
  std::string sent(4 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 31 + 7);
  std::string echoed;
  std::thread peer([&] {
    const int fd = fds[1];
    std::size_t written = 0;
    char buffer[65536];
    while (echoed.size() < sent.size()) {
      if (written < sent.size()) {
        const ssize_t n = ::send(fd, sent.data() + written,
                                 std::min<std::size_t>(65536, sent.size() - written), MSG_DONTWAIT);
        if (n > 0) written += static_cast<std::size_t>(n);
      }
      const ssize_t r = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (r > 0) echoed.append(buffer, static_cast<std::size_t>(r));
      if (r <= 0 && written == sent.size()) usleep(100);
    }
    ::shutdown(fd, SHUT_WR);
  });
  loop.run();
  peer.join();
  ::close(fds[1]);
  EXPECT_TRUE(eof);
  EXPECT_EQ(received.size(), sent.size());
  EXPECT_TRUE(echoed == sent);
}

TEST(EventLoop, PostRunsOnLoopThreadAndStopEndsRun) {
  EventLoop loop;
  std::thread::id ran_on;
  std::thread other([&] {
    loop.post([&] {
      ran_on = std::this_thread::get_id();
      loop.stop();
    });
  });
  loop.run();
  other.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoop, TimersFireFromRun) {
  EventLoop loop;
  Timer timer([&] { loop.stop(); });
  const std::uint64_t start = monotonic_ms();
  loop.timers().arm(timer, start + 120);
  loop.run();
  EXPECT_GE(monotonic_ms() - start, 100u);
}

TEST(ListenTcp, PortZeroPicksAPortAndReusePortShares) {
  const int a = listen_tcp({"127.0.0.1", 0}, true);
  const std::uint16_t port = local_port(a);
  EXPECT_GT(port, 0);
  const int b = listen_tcp({"127.0.0.1", port}, true);  // SO_REUSEPORT: both bind
  EXPECT_GE(b, 0);
  ::close(a);
  ::close(b);
  EXPECT_THROW(listen_tcp({"256.1.1.1", 0}, false), std::exception);
}

}  // namespace
}  // namespace gw::net
