// A Deribit-like WebSocket server for the SDK's tests, scripted per test: each JSON-RPC request
// goes to `on_request` on the server's loop thread, which answers (or not) through a Peer.
// With `msgpack` it answers in binary MessagePack frames, as greekwire does for that
// subprotocol. Everything the client sends is recorded.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/pack_value.hpp"
#include "codec/msgpack_writer.hpp"
#include "greekwire/value.hpp"
#include "http/response.hpp"
#include "ws/server.hpp"

namespace gw::client::test {

// One client connection as the script sees it.
struct Peer {
  ws::WebSocket& socket;
  int index;  // 1 for the first connection the server accepted
  bool msgpack;

  void send(const greekwire::Value& message) {
    if (msgpack) {
      std::string bytes;
      codec::MsgpackWriter w(bytes);
      pack(message, w);
      socket.send_binary({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    } else {
      socket.send_text(message.to_json());
    }
  }
  void send_json(std::string_view text) { send(json(text)); }
  void reply(const greekwire::Value& request, greekwire::Value result) {
    greekwire::Value message;
    message.set("jsonrpc", greekwire::Value("2.0"));
    message.set("id", request["id"]);
    message.set("result", std::move(result));
    send(message);
  }
  void reply_error(const greekwire::Value& request, int code, std::string_view text) {
    greekwire::Value error;
    error.set("code", greekwire::Value(code)).set("message", greekwire::Value(text));
    greekwire::Value message;
    message.set("jsonrpc", greekwire::Value("2.0"));
    message.set("id", request["id"]);
    message.set("error", std::move(error));
    send(message);
  }
  void notify(std::string_view channel, std::string_view data_json) {
    greekwire::Value params;
    params.set("channel", greekwire::Value(channel)).set("data", json(data_json));
    greekwire::Value message;
    message.set("jsonrpc", greekwire::Value("2.0"));
    message.set("method", greekwire::Value("subscription"));
    message.set("params", std::move(params));
    send(message);
  }
};

class ScriptedServer : public ws::WebSocketHandler {
 public:
  using RequestHandler = std::function<void(Peer&, const greekwire::Value& request)>;

  explicit ScriptedServer(bool msgpack = false) : msgpack_(msgpack) {
    ws::ServerOptions options;
    options.listen = {"127.0.0.1", 0};
    options.socket.idle_timeout_s = 0;
    options.handshake.subprotocols = {"msgpack"};
    options.on_upgrade = [this](const http::Request& request, ws::WebSocket&) -> std::string {
      if (request.path() != "/ws") return http::error_response(404, "the WebSocket API is at /ws");
      if (!required_authorization.empty() &&
          request.headers.get("Authorization") != std::string_view(required_authorization))
        return http::error_response(401, "a bearer token is required");
      return {};
    };
    server_ = std::make_unique<ws::Server>(options, *this);
    server_->start();
  }
  ~ScriptedServer() override {
    server_->shutdown();
    server_->wait();
  }

  std::string url(std::string_view path = "/ws") const {
    return "ws://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }
  std::uint16_t port() const { return server_->port(); }

  // Set before the client connects (read on the server thread).
  RequestHandler on_request;
  std::string required_authorization;  // the handshake must carry this Authorization header

  // Everything the client sent, in order: (connection index, request).
  std::vector<std::pair<int, greekwire::Value>> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::string> methods() {
    std::vector<std::string> out;
    for (const auto& [index, request] : requests()) out.emplace_back(request["method"].as_string());
    return out;
  }
  int connections() const { return connections_.load(); }
  // Runs `task` on the server's loop thread.
  void post(std::function<void()> task) { server_->post(0, std::move(task)); }

  void on_open(ws::WebSocket& socket) override {
    socket.user_data = reinterpret_cast<void*>(static_cast<std::intptr_t>(++connections_));
  }
  void on_message(ws::WebSocket& socket, ws::MessageType,
                  std::span<std::uint8_t> payload) override {
    const auto request = greekwire::Value::parse_json(
        std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
    if (!request) return;
    const int index = static_cast<int>(reinterpret_cast<std::intptr_t>(socket.user_data));
    {
      std::lock_guard lock(mutex_);
      requests_.emplace_back(index, *request);
    }
    Peer peer{socket, index, msgpack_ && socket.subprotocol() == "msgpack"};
    if (on_request) on_request(peer, *request);
  }

 private:
  bool msgpack_;
  std::unique_ptr<ws::Server> server_;
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<std::pair<int, greekwire::Value>> requests_;
};

// Polls `condition` every 5 ms for up to `seconds`.
template <class Condition>
bool wait_until(Condition condition, double seconds = 5.0) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace gw::client::test
