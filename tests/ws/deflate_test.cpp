// permessage-deflate (RFC 7692): negotiation, the codec, and the protocol with it enabled.
#include "ws/deflate.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ws/protocol.hpp"

namespace gw::ws {
namespace {

using Bytes = std::vector<std::uint8_t>;

DeflateOptions enabled() {
  DeflateOptions options;
  options.enabled = true;
  return options;
}

// ---- header grammar ----

TEST(Extensions, ParsesListsParametersAndQuotedValues) {
  auto list = parse_extensions(
      "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\", x-foo ,");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "permessage-deflate");
  ASSERT_EQ((*list)[0].params.size(), 2u);
  EXPECT_EQ((*list)[0].params[0].first, "client_max_window_bits");
  EXPECT_FALSE((*list)[0].params[0].second);
  EXPECT_EQ(*(*list)[0].params[1].second, "10");
  EXPECT_EQ((*list)[1].name, "x-foo");
}

TEST(Extensions, RejectsMalformedHeaders) {
  EXPECT_FALSE(parse_extensions("permessage-deflate; a=\"open"));
  EXPECT_FALSE(parse_extensions("per message"));
  EXPECT_FALSE(parse_extensions("permessage-deflate; =1"));
  EXPECT_FALSE(parse_extensions("permessage-deflate; a=b c"));
}

// ---- server negotiation (RFC 7692 §7.1) ----

TEST(Negotiation, AcceptsAPlainOffer) {
  EXPECT_EQ(negotiate_deflate("permessage-deflate", enabled()), "permessage-deflate");
}

TEST(Negotiation, DeclinesWhenDisabled) {
  EXPECT_EQ(negotiate_deflate("permessage-deflate", DeflateOptions{}), "");
}

TEST(Negotiation, EchoesNoContextTakeoverAndLimitsServerWindow) {
  EXPECT_EQ(negotiate_deflate("permessage-deflate; server_no_context_takeover; "
                              "client_no_context_takeover; server_max_window_bits=10",
                              enabled()),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10");
}

TEST(Negotiation, AnswersWithASmallerWindowThanRequestedWhenConfigured) {
  DeflateOptions options = enabled();
  options.max_window_bits = 11;
  EXPECT_EQ(negotiate_deflate("permessage-deflate; server_max_window_bits=13", options),
            "permessage-deflate; server_max_window_bits=11");
  // Not requested: must not appear (our compressor simply uses the smaller window).
  EXPECT_EQ(negotiate_deflate("permessage-deflate", options), "permessage-deflate");
}

TEST(Negotiation, ServerMayImposeNoContextTakeover) {
  DeflateOptions options = enabled();
  options.no_context_takeover = true;
  options.request_peer_no_context_takeover = true;
  EXPECT_EQ(negotiate_deflate("permessage-deflate; client_max_window_bits", options),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

TEST(Negotiation, WindowOf8IsAcceptedButOurMessagesThenGoUncompressed) {
  const std::string response =
      negotiate_deflate("permessage-deflate; server_max_window_bits=8", enabled());
  EXPECT_EQ(response, "permessage-deflate; server_max_window_bits=8");
  const auto params = parse_deflate_response(response, enabled());
  ASSERT_TRUE(params);
  EXPECT_FALSE(deflate_config(true, *params, enabled()).compress);
  EXPECT_TRUE(deflate_config(false, *params, enabled()).compress);
}

TEST(Negotiation, DeclinesBadOffersAndTakesTheNextOne) {
  const char* bad[] = {
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=010",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; client_max_window_bits=abc",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; unknown_parameter",
  };
  for (const char* offer : bad) {
    EXPECT_EQ(negotiate_deflate(offer, enabled()), "") << offer;
    EXPECT_EQ(negotiate_deflate(std::string(offer) + ", permessage-deflate; "
                                                     "client_no_context_takeover",
                                enabled()),
              "permessage-deflate; client_no_context_takeover")
        << offer;
  }
  EXPECT_EQ(negotiate_deflate("x-webkit-deflate-frame, permessage-deflate", enabled()),
            "permessage-deflate");
}

// ---- client side (RFC 7692 §7.1, the client's checks of the answer) ----

TEST(ClientNegotiation, OfferAndAcceptableAnswers) {
  EXPECT_EQ(deflate_offer(enabled()), "permessage-deflate; client_max_window_bits");
  auto params = parse_deflate_response(
      "permessage-deflate; server_no_context_takeover; client_max_window_bits=12", enabled());
  ASSERT_TRUE(params);
  EXPECT_TRUE(params->server_no_context_takeover);
  EXPECT_EQ(params->client_max_window_bits, 12);
  const DeflateConfig config = deflate_config(false, *params, enabled());
  EXPECT_EQ(config.compress_window_bits, 12);
  EXPECT_TRUE(config.decompress_reset);
}

TEST(ClientNegotiation, RejectsBadAnswers) {
  std::string error;
  EXPECT_FALSE(
      parse_deflate_response("permessage-deflate; client_max_window_bits", enabled(), &error));
  EXPECT_FALSE(parse_deflate_response("permessage-deflate; foo", enabled(), &error));
  EXPECT_NE(error.find("foo"), std::string::npos);
  EXPECT_FALSE(parse_deflate_response("x-other", enabled(), &error));
  EXPECT_FALSE(parse_deflate_response("permessage-deflate, permessage-deflate", enabled()));
  DeflateOptions small = enabled();
  small.max_window_bits = 10;
  EXPECT_FALSE(
      parse_deflate_response("permessage-deflate; client_max_window_bits=12", small, &error));
}

// ---- codec ----

Bytes cat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes sample_json(int i) {
  std::string s =
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{"change_id":)" +
      std::to_string(1000 + i) + R"(,"bids":[["new",101250.5,1200]],"asks":[]}}})";
  return Bytes(s.begin(), s.end());
}

TEST(Codec, RoundTripWithContextTakeoverShrinksRepeatedMessages) {
  Deflater deflater(15, 6, 8, false);
  Inflater inflater(false);
  std::size_t first_size = 0;
  for (int i = 0; i < 50; ++i) {
    const Bytes message = sample_json(i);
    Bytes compressed;
    ASSERT_TRUE(deflater.compress(message, compressed));
    if (i == 0) first_size = compressed.size();
    if (i == 49) {
      EXPECT_LT(compressed.size(), first_size / 2);  // the window remembers
    }
    Bytes plain;
    ASSERT_EQ(inflater.inflate(compressed, plain, 1 << 20), Inflater::Result::ok);
    ASSERT_EQ(inflater.finish(plain, 1 << 20), Inflater::Result::ok);
    EXPECT_EQ(plain, message);
  }
}

TEST(Codec, NoContextTakeoverMessagesDecodeAlone) {
  Deflater deflater(10, 6, 8, true);
  Bytes a, b;
  ASSERT_TRUE(deflater.compress(sample_json(1), a));
  ASSERT_TRUE(deflater.compress(sample_json(1), b));
  EXPECT_EQ(a, b);  // reset each time: the same input gives the same bytes
  Inflater fresh(true);
  Bytes plain;
  ASSERT_EQ(fresh.inflate(b, plain, 1 << 20), Inflater::Result::ok);
  ASSERT_EQ(fresh.finish(plain, 1 << 20), Inflater::Result::ok);
  EXPECT_EQ(plain, sample_json(1));
}

TEST(Codec, CompressionBombStopsAtTheLimit) {
  Deflater deflater(15, 9, 9, true);
  const Bytes zeros(16 << 20, 0);
  Bytes bomb;
  ASSERT_TRUE(deflater.compress(zeros, bomb));
  ASSERT_LT(bomb.size(), 40000u);
  Inflater inflater(true);
  Bytes out;
  EXPECT_EQ(inflater.inflate(bomb, out, 100000), Inflater::Result::too_big);
  EXPECT_LE(out.size(), 100001u);
}

TEST(Codec, GarbageIsBadData) {
  Inflater inflater(false);
  Bytes out;
  const Bytes garbage = {0xFF, 0xFF, 0xFF, 0xFF, 0x12, 0x34};
  EXPECT_EQ(inflater.inflate(garbage, out, 1 << 20), Inflater::Result::bad_data);
}

// ---- the protocol with permessage-deflate ----

struct Recorder : ProtocolHandler {
  void on_message(MessageType type, std::span<std::uint8_t> payload) override {
    messages.emplace_back(type, std::string(payload.begin(), payload.end()));
  }
  void on_close(std::uint16_t code, std::string_view, bool by_peer) override {
    close_code = code;
    closed_by_peer = by_peer;
  }
  std::vector<std::pair<MessageType, std::string>> messages;
  int close_code = 0;
  bool closed_by_peer = false;
};

DeflateConfig config(bool reset = false) {
  DeflateConfig c;
  c.compress_reset = reset;
  c.decompress_reset = reset;
  c.threshold = 16;
  return c;
}

// Sends messages from a client Protocol to a server Protocol, the bytes fed in pieces of
// `chunk` bytes; returns what the server saw.
Recorder transfer(const std::vector<std::string>& messages, std::size_t chunk,
                  ProtocolOptions server_options = {}, std::size_t fragment = 0) {
  Recorder client_events, server_events;
  ProtocolOptions client_options;
  client_options.fragment_size = fragment;
  Protocol client(Role::client, client_options, client_events);
  Protocol server(Role::server, server_options, server_events);
  client.enable_deflate(config());
  server.enable_deflate(config());
  for (const std::string& m : messages) client.send_text(m);
  Bytes wire = client.output();
  for (std::size_t i = 0; i < wire.size(); i += chunk) {
    server.feed({wire.data() + i, std::min(chunk, wire.size() - i)});
  }
  return server_events;
}

TEST(ProtocolDeflate, MessagesArriveIntactWhateverTheChunking) {
  std::vector<std::string> messages = {"short", std::string(5000, 'a'), "κόσμε κόσμε κόσμε κόσμε"};
  for (int i = 0; i < 20; ++i) {
    const Bytes j = sample_json(i);
    messages.emplace_back(j.begin(), j.end());
  }
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u, 1u << 20}) {
    const Recorder r = transfer(messages, chunk);
    ASSERT_EQ(r.messages.size(), messages.size()) << chunk;
    for (std::size_t i = 0; i < messages.size(); ++i) EXPECT_EQ(r.messages[i].second, messages[i]);
    EXPECT_EQ(r.close_code, 0);
  }
}

TEST(ProtocolDeflate, FragmentedCompressedMessagesInflateIncrementally) {
  const std::string big(300000, 'z');
  const Recorder r = transfer({big, "after"}, 997, {}, 4096);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].second, big);
  EXPECT_EQ(r.messages[1].second, "after");
}

TEST(ProtocolDeflate, CompressedAndSmallMessagesUseRsv1OnlyWhenCompressed) {
  Recorder events;
  Protocol server(Role::server, {}, events);
  server.enable_deflate(config());
  server.send_text("tiny");                  // under the threshold: plain
  server.send_text(std::string(1000, 'q'));  // compressed: RSV1 on its frame
  const Bytes& out = server.output();
  EXPECT_EQ(out[0], 0x81);  // FIN, text, no RSV1
  const std::size_t second = 2 + 4;
  EXPECT_EQ(out[second], 0xC1);            // FIN, RSV1, text
  EXPECT_LT(out[second + 1] & 0x7F, 126);  // 1000 'q's compress to a few bytes
}

TEST(ProtocolDeflate, CompressionBombClosesWith1009) {
  ProtocolOptions options;
  options.max_message_size = 64 * 1024;
  const Recorder r = transfer({std::string(8 << 20, '0')}, 4096, options);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.close_code, close_code::message_too_big);
}

// Hand-built frames: masked client frames with a zero key, so the payload is as written.
Bytes client_frame(std::uint8_t first_byte, const Bytes& payload) {
  Bytes f(6 + payload.size(), 0);  // header, zero mask key, payload
  f[0] = first_byte;
  f[1] = static_cast<std::uint8_t>(0x80 | payload.size());
  std::copy(payload.begin(), payload.end(), f.begin() + 6);
  return f;
}

int close_code_for(const Bytes& input, bool negotiated = true) {
  Recorder events;
  Protocol server(Role::server, {}, events);
  if (negotiated) server.enable_deflate(config());
  Bytes copy = input;
  server.feed(copy);
  return events.close_code;
}

TEST(ProtocolDeflate, Rsv1RulesOfRfc7692) {
  Deflater deflater(15, 6, 8, true);
  Bytes compressed;
  deflater.compress(Bytes(200, 'k'), compressed);
  // RSV1 on a continuation frame.
  EXPECT_EQ(close_code_for(cat(client_frame(0x41, compressed), client_frame(0xC0, {}))), 1002);
  // RSV1 on a control frame.
  EXPECT_EQ(close_code_for(client_frame(0xC9, {})), 1002);
  // RSV1 without negotiation.
  EXPECT_EQ(close_code_for(client_frame(0xC1, compressed), false), 1002);
  // Negotiated and on the first frame: fine.
  EXPECT_EQ(close_code_for(client_frame(0xC1, compressed)), 0);
}

TEST(ProtocolDeflate, InvalidCompressedDataAndInvalidUtf8Close1007) {
  EXPECT_EQ(close_code_for(client_frame(0xC1, {0xFF, 0xFF, 0xFF, 0x00})), 1007);
  Deflater deflater(15, 6, 8, true);
  Bytes compressed;
  deflater.compress(Bytes{'o', 'k', 0xC0, 0xAF}, compressed);  // overlong '/': not UTF-8
  EXPECT_EQ(close_code_for(client_frame(0xC1, compressed)), 1007);
  EXPECT_EQ(close_code_for(client_frame(0xC2, compressed)), 0);  // binary: any bytes
}

}  // namespace
}  // namespace gw::ws
