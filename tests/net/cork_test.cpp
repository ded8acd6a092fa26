// TcpConnection::cork/uncork: what a fan-out pass queues for one receiver goes out in order, in
// one write at uncork, and nothing before it.
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "net/tcp.hpp"

namespace gw::net {
namespace {

class QuietConnection : public TcpConnection {
 public:
  using TcpConnection::TcpConnection;

 protected:
  void on_data(std::span<std::uint8_t>) override {}
  void on_eof(int) override { close(); }
};

// Whatever the peer can read now, without waiting.
std::string available(int fd) {
  std::string all;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n <= 0) break;
    all.append(buffer, static_cast<std::size_t>(n));
  }
  return all;
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(TcpConnection, CorkedWritesWaitForUncorkThenGoOutInOrder) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  EventLoop loop;
  auto* connection = new QuietConnection(loop, fds[0]);  // owns itself; the loop deletes it

  connection->cork();
  ASSERT_TRUE(connection->write(bytes("one;")));
  ASSERT_TRUE(connection->write_shared(std::make_shared<const std::string>("two;")));
  ASSERT_TRUE(connection->write(bytes("three;")));
  EXPECT_EQ(connection->buffered(), 14u);
  EXPECT_EQ(available(fds[1]), "") << "a corked write reached the socket";

  connection->uncork();
  EXPECT_EQ(connection->buffered(), 0u);
  EXPECT_EQ(available(fds[1]), "one;two;three;");

  // Uncorked again: writes go straight out.
  ASSERT_TRUE(connection->write(bytes("four;")));
  EXPECT_EQ(connection->buffered(), 0u);
  EXPECT_EQ(available(fds[1]), "four;");
  ::close(fds[1]);
}

TEST(TcpConnection, BorrowedBytesAreReferencedOnlyIfTheyOutliveTheCork) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  int small = 4096;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  EventLoop loop;
  auto* connection = new QuietConnection(loop, fds[0]);

  // Written at uncork: no reference was ever taken.
  const SharedBytes message = std::make_shared<const std::string>("borrowed;");
  connection->cork();
  ASSERT_TRUE(connection->write_borrowed(message));
  EXPECT_EQ(message.use_count(), 1);
  connection->uncork();
  EXPECT_EQ(available(fds[1]), "borrowed;");
  EXPECT_EQ(message.use_count(), 1);

  // Not written (the socket is full): the queue keeps its own reference, so the caller may
  // drop the message.
  ASSERT_TRUE(connection->write(bytes(std::string(65536, 'x'))));
  ASSERT_GT(connection->buffered(), 0u);
  auto late = std::make_shared<const std::string>("late;");
  connection->cork();
  ASSERT_TRUE(connection->write_borrowed(late));
  connection->uncork();
  EXPECT_EQ(late.use_count(), 2);
  late.reset();
  std::string received;
  while (connection->buffered() > 0) {
    received += available(fds[1]);
    connection->on_io(EPOLLOUT);  // what the loop does when the socket is writable
  }
  received += available(fds[1]);
  EXPECT_EQ(received.substr(received.size() - 5), "late;");
  ::close(fds[1]);
}

TEST(TcpConnection, UncorkLeavesABlockedQueueToWritability) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  int small = 4096;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  EventLoop loop;
  auto* connection = new QuietConnection(loop, fds[0]);

  // Fill the socket until the connection has to queue.
  const std::string chunk(65536, 'x');
  ASSERT_TRUE(connection->write(bytes(chunk)));
  ASSERT_GT(connection->buffered(), 0u);
  const std::size_t blocked = connection->buffered();

  // Corked writes behind a blocked queue only append; uncork does not try the socket again
  // (the queue is flushed when the socket becomes writable, which also reports the drain).
  connection->cork();
  ASSERT_TRUE(connection->write_shared(std::make_shared<const std::string>("tail")));
  connection->uncork();
  EXPECT_EQ(connection->buffered(), blocked + 4);

  // A reader makes the socket writable; the loop flushes everything, in order.
  std::string received;
  std::thread peer([&] {
    while (received.size() < chunk.size() + 4) {
      received += available(fds[1]);
      usleep(100);
    }
  });
  Timer check;
  check.set_callback([&] {
    if (connection->buffered() == 0) {
      loop.stop();
    } else {
      loop.timers().arm(check, loop.now_ms() + 1);
    }
  });
  loop.timers().arm(check, loop.now_ms() + 1);
  loop.run();
  peer.join();
  EXPECT_EQ(received, chunk + "tail");
  EXPECT_EQ(connection->buffered(), 0u);
  ::close(fds[1]);
}

}  // namespace
}  // namespace gw::net
