// libFuzzer target: the HTTP head parser as request and as response, with tiny and default
// limits, plus the server handshake on whatever parses. Besides ASan/UBSan, it checks the
// parser's own promises: views stay inside the input, head_length is within the limit and ends
// in CRLF CRLF, and a verdict never changes as more bytes arrive.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/parser.hpp"
#include "ws/handshake.hpp"

namespace {

using gw::http::HeaderList;
using gw::http::Limits;
using gw::http::ParseResult;
using gw::http::ParseStatus;

void check(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view view, std::string_view data) {
  return view.empty() ||
         (view.data() >= data.data() && view.data() + view.size() <= data.data() + data.size());
}

void check_headers(const HeaderList& headers, std::string_view head, const Limits& limits) {
  check(headers.count <= limits.max_headers && headers.count <= gw::http::kMaxHeaders);
  for (std::size_t i = 0; i < headers.count; ++i) {
    const auto& h = headers.items[i];
    check(!h.name.empty() && inside(h.name, head) && inside(h.value, head));
    if (!h.value.empty()) {
      check(h.value.front() != ' ' && h.value.front() != '\t');
      check(h.value.back() != ' ' && h.value.back() != '\t');
    }
    check(headers.get(h.name).has_value() && headers.count_of(h.name) >= 1);
    (void)gw::http::has_token(h.value, "upgrade");
  }
}

void check_complete(const ParseResult& result, std::string_view data, const Limits& limits) {
  if (result.status != ParseStatus::complete) return;
  check(result.head_length >= 4 && result.head_length <= data.size());
  check(result.head_length <= limits.max_head_bytes);
  check(data.substr(result.head_length - 4, 4) == "\r\n\r\n");
}

// Feeding a prefix must give `incomplete` or the very same final verdict (bad stays bad,
// complete stays complete with the same length); head_too_large may appear only once the
// prefix itself is over the limit or the header count is.
template <class Message, class Parse>
void check_prefix(std::string_view data, const ParseResult& full, const Limits& limits,
                  Parse parse) {
  if (data.empty()) return;
  const std::size_t cut = data.size() / 2 + (data.size() % 7);
  if (cut >= data.size()) return;
  Message partial;
  const ParseResult prefix = parse(data.substr(0, cut), partial, limits);
  switch (prefix.status) {
    case ParseStatus::incomplete:
      break;
    case ParseStatus::complete:
      check(full.status == ParseStatus::complete && full.head_length == prefix.head_length);
      break;
    case ParseStatus::bad_request:
    case ParseStatus::head_too_large:
      check(full.status == prefix.status);
      break;
  }
}

void fuzz_request(std::string_view data, const Limits& limits) {
  gw::http::Request request;
  const ParseResult result = gw::http::parse_request(data, request, limits);
  check_complete(result, data, limits);
  check_prefix<gw::http::Request>(data, result, limits, gw::http::parse_request);
  if (result.status != ParseStatus::complete) return;

  const std::string_view head = data.substr(0, result.head_length);
  check(inside(request.method, head) && inside(request.target, head));
  check(!request.method.empty() && !request.target.empty() && request.target.front() == '/');
  check(request.path().size() + (request.query().empty() ? 0 : request.query().size() + 1) <=
        request.target.size());
  check_headers(request.headers, head, limits);

  gw::ws::ServerHandshakeOptions options;
  options.subprotocols = {"chat", "v2.greekwire"};
  options.negotiate_extensions = [](std::string_view offers) {
    return std::string(offers.substr(0, offers.find(',')));  // echo what the client sent
  };
  gw::ws::ServerHandshake answer = gw::ws::accept_upgrade(request, options);
  check(answer.accepted == (answer.status == 101));
  check(!answer.response.empty());

  // Our own answer must parse as a complete response, with the same status.
  gw::http::Response response;
  const ParseResult parsed = gw::http::parse_response(answer.response, response, {1 << 16});
  check(parsed.status == ParseStatus::complete && response.status == answer.status);
  if (answer.accepted) {
    gw::ws::ClientHandshakeOptions client;
    client.subprotocols = {"chat", "v2.greekwire"};
    client.verify_extensions = [](std::string_view) { return std::string(); };
    const auto key = request.headers.get("Sec-WebSocket-Key");
    check(key.has_value());
    check(gw::ws::verify_server_response(response, *key, client).ok);
  }
  (void)gw::ws::is_upgrade_request(request);
}

void fuzz_response(std::string_view data, const Limits& limits) {
  gw::http::Response response;
  const ParseResult result = gw::http::parse_response(data, response, limits);
  check_complete(result, data, limits);
  check_prefix<gw::http::Response>(data, result, limits, gw::http::parse_response);
  if (result.status != ParseStatus::complete) return;
  const std::string_view head = data.substr(0, result.head_length);
  check(response.status >= 0 && response.status <= 999 && inside(response.reason, head));
  check_headers(response.headers, head, limits);

  gw::ws::ClientHandshakeOptions client;
  client.subprotocols = {"chat"};
  (void)gw::ws::verify_server_response(response, "dGhlIHNhbXBsZSBub25jZQ==", client);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const Limits small{.max_head_bytes = 64, .max_headers = 3};
  const Limits standard{};
  for (const Limits& limits : {small, standard}) {
    fuzz_request(data, limits);
    fuzz_response(data, limits);
  }
  // The URL parser is small enough to share this target.
  (void)gw::ws::parse_url(data.substr(0, 256));
  return 0;
}
