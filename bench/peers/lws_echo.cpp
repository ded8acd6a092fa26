// libwebsockets WebSocket echo server: a benchmark peer for `greekwire bench echo`.
//
// libwebsockets 4.1 (Debian libwebsockets-dev), plain TCP, default poll() event
// loop, single service thread (Debian builds lws with LWS_MAX_SMP 1), UTF-8
// validation of text messages on (as Beast and websocketpp do), TCP_NODELAY,
// max message size 16 MiB, no extensions (no permessage-deflate). Each complete
// message is queued per connection and written back from the WRITEABLE callback.
//
// Usage: lws_echo PORT [THREADS]   (listens on 127.0.0.1 only; THREADS must be 1)

#include <libwebsockets.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

namespace {

constexpr std::size_t kMaxMessage = 16u * 1024u * 1024u;
constexpr std::size_t kMaxQueued = 64;  // stop reading beyond this many unsent replies

volatile std::sig_atomic_t g_interrupted = 0;

struct message {
  std::vector<unsigned char> data;  // LWS_PRE bytes of headroom, then the payload
  bool binary = false;
};

struct session {
  std::deque<message>* queue;  // replies waiting for WRITEABLE
  message* partial;            // message being assembled from fragments
  bool rx_paused;
};

int callback_echo(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  auto* s = static_cast<session*>(user);
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
      int one = 1;
      setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      s->queue = new std::deque<message>();
      s->partial = new message();
      s->partial->data.resize(LWS_PRE);
      s->rx_paused = false;
      break;
    }
    case LWS_CALLBACK_RECEIVE: {
      message& m = *s->partial;
      // The message buffer is reset after each complete message, so the type is
      // taken from the first chunk of a message (chunks may be smaller than frames).
      if (m.data.size() == LWS_PRE) m.binary = lws_frame_is_binary(wsi) != 0;
      if (m.data.size() - LWS_PRE + len > kMaxMessage) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nullptr, 0);
        return -1;
      }
      auto const* p = static_cast<unsigned char const*>(in);
      m.data.insert(m.data.end(), p, p + len);
      if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        s->queue->push_back(std::move(m));
        *s->partial = message();
        s->partial->data.resize(LWS_PRE);
        if (s->queue->size() >= kMaxQueued && !s->rx_paused) {
          s->rx_paused = true;
          lws_rx_flow_control(wsi, 0);
        }
        lws_callback_on_writable(wsi);
      }
      break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      if (s->queue->empty()) break;
      message& m = s->queue->front();
      std::size_t const n = m.data.size() - LWS_PRE;
      // lws buffers whatever the socket does not take and flushes it before the
      // next WRITEABLE callback, so one lws_write per callback is enough.
      int const w =
          lws_write(wsi, m.data.data() + LWS_PRE, n, m.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
      if (w < static_cast<int>(n)) return -1;
      s->queue->pop_front();
      if (s->rx_paused && s->queue->size() < kMaxQueued / 2) {
        s->rx_paused = false;
        lws_rx_flow_control(wsi, 1);
      }
      if (!s->queue->empty()) lws_callback_on_writable(wsi);
      break;
    }
    case LWS_CALLBACK_CLOSED:
      delete s->queue;
      delete s->partial;
      s->queue = nullptr;
      s->partial = nullptr;
      break;
    default:
      break;
  }
  return 0;
}

// The first protocol is used when the client asks for none.
lws_protocols const protocols[] = {
    {"echo", callback_echo, sizeof(session), 65536, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

void on_signal(int) {
  g_interrupted = 1;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: lws_echo PORT [THREADS]\n");
    return 2;
  }
  int const port = std::atoi(argv[1]);
  int const threads = argc == 3 ? std::atoi(argv[2]) : 1;
  if (port <= 0 || port > 65535 || threads < 1) {
    std::fprintf(stderr, "lws_echo: bad PORT or THREADS\n");
    return 2;
  }
  if (threads != 1)
    std::fprintf(stderr, "lws_echo: this libwebsockets build is single-threaded; using 1 thread\n");

  lws_set_log_level(LLL_ERR, nullptr);

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = port;
  info.iface = "127.0.0.1";
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
  info.pt_serv_buf_size = 65536;

  lws_context* ctx = lws_create_context(&info);
  if (ctx == nullptr) {
    std::fprintf(stderr, "lws_echo: cannot create the context (port %d in use?)\n", port);
    return 1;
  }

  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR and the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::printf("listening on ws://127.0.0.1:%d\n", port);
  std::fflush(stdout);

  int n = 0;
  while (n >= 0 && !g_interrupted) n = lws_service(ctx, 0);

  lws_context_destroy(ctx);
  return 0;
}
