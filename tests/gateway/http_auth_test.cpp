// HTTP Authorization: parsing the three forms (and refusing malformed ones), then
// authenticating requests: bearer tokens, Basic, deri-hmac-sha256 with the signature made by
// the openssl command line over ts\nnonce\nMETHOD\nURI\nBODY\n, its window and nonce rules, and
// the handshake's fallback to the client certificate.
#include "gateway/http_auth.hpp"

#include <gtest/gtest.h>

#include "gateway/auth_crypto.hpp"
#include "gateway/auth_test_support.hpp"

namespace {

using namespace gw::gateway;
using gw::gateway::testing::openssl_hmac_hex;
using gw::gateway::testing::TempDir;
namespace errors = gw::codec::errors;

constexpr std::int64_t kNow = 1'700'000'000'000;

std::string base64(std::string_view text) {
  // Standard alphabet with padding, from base64url (checked against RFC 4648 elsewhere).
  std::string out = base64url_encode(text);
  for (char& c : out) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (out.size() % 4 != 0) out += '=';
  return out;
}

TEST(ParseAuthorization, Bearer) {
  for (const char* scheme : {"bearer", "Bearer", "BEARER"}) {
    const auto auth = parse_authorization(std::string(scheme) + " 1700000000000.abc_-");
    ASSERT_TRUE(auth) << scheme;
    EXPECT_EQ(auth->scheme, HttpAuthScheme::bearer);
    EXPECT_EQ(auth->token, "1700000000000.abc_-");
  }
  EXPECT_FALSE(parse_authorization("bearer"));
  EXPECT_FALSE(parse_authorization("bearer "));
  EXPECT_FALSE(parse_authorization("bearer two words"));
  EXPECT_FALSE(parse_authorization("Token abc"));
  EXPECT_FALSE(parse_authorization(""));
}

TEST(ParseAuthorization, Basic) {
  const auto auth = parse_authorization("Basic " + base64("fo7WAPRm4P:se:cr:et"));
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->scheme, HttpAuthScheme::basic);
  EXPECT_EQ(auth->client_id, "fo7WAPRm4P");
  EXPECT_EQ(auth->client_secret, "se:cr:et");  // the secret may hold colons
  EXPECT_FALSE(parse_authorization("Basic " + base64("no-colon")));
  EXPECT_FALSE(parse_authorization("Basic " + base64(":secret")));
  EXPECT_FALSE(parse_authorization("Basic " + base64("id:")));
  EXPECT_FALSE(parse_authorization("Basic not*base64"));
}

TEST(ParseAuthorization, DeriHmac) {
  const auto auth =
      parse_authorization("deri-hmac-sha256 id=abc,ts=1700000000000,sig=00ff,nonce=xyz");
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->scheme, HttpAuthScheme::hmac);
  EXPECT_EQ(auth->client_id, "abc");
  EXPECT_EQ(auth->timestamp_ms, 1700000000000);
  EXPECT_EQ(auth->signature, "00ff");
  EXPECT_EQ(auth->nonce, "xyz");
  // Any order, spaces after commas, unknown parameters ignored.
  const auto reordered =
      parse_authorization("DERI-HMAC-SHA256 nonce=n, sig=ab, future=1, ts=5, id=k");
  ASSERT_TRUE(reordered);
  EXPECT_EQ(reordered->nonce, "n");
  EXPECT_EQ(reordered->timestamp_ms, 5);
  EXPECT_FALSE(parse_authorization("deri-hmac-sha256 id=a,ts=1,sig=b"));          // no nonce
  EXPECT_FALSE(parse_authorization("deri-hmac-sha256 id=a,ts=x,sig=b,nonce=n"));  // bad ts
  EXPECT_FALSE(parse_authorization("deri-hmac-sha256 id=a,id=b,ts=1,sig=b,nonce=n"));
  EXPECT_FALSE(parse_authorization("deri-hmac-sha256 id=,ts=1,sig=b,nonce=n"));
  EXPECT_FALSE(parse_authorization("deri-hmac-sha256 id=a,ts=1,sig,nonce=n"));
}

TEST(HttpSignedRest, Layout) {
  EXPECT_EQ(http_signed_rest({"GET", "/api/v2/private/get_positions?currency=BTC", ""}),
            "GET\n/api/v2/private/get_positions?currency=BTC\n\n");
  EXPECT_EQ(http_signed_rest({"POST", "/api/v2/private/buy", "{\"a\":1}"}),
            "POST\n/api/v2/private/buy\n{\"a\":1}\n");
  EXPECT_TRUE(looks_like_jwt("a.b.c"));
  EXPECT_FALSE(looks_like_jwt("1700000000000.abc"));
}

class HttpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.data_dir = dir_ / "data";
    store_ = AccountStore::open(options);
    alice_ = store_->add_account("alice");
    auth_ = std::make_unique<Authenticator>(*store_);
  }

  // The header a client computes, with openssl doing the HMAC.
  std::string hmac_header(std::int64_t ts, const std::string& nonce, const HttpRequestParts& r) {
    const std::string message = std::to_string(ts) + "\n" + nonce + "\n" + std::string(r.method) +
                                "\n" + std::string(r.uri) + "\n" + std::string(r.body) + "\n";
    const std::string sig = openssl_hmac_hex(dir_, alice_.client_secret, message);
    return "deri-hmac-sha256 id=" + alice_.client_id + ",ts=" + std::to_string(ts) + ",sig=" + sig +
           ",nonce=" + nonce;
  }

  AuthResult<Identity> http(const std::string& header, const HttpRequestParts& request,
                            std::int64_t now = kNow) {
    return authenticate_http(*auth_, header, request, caller_, now);
  }

  TempDir dir_;
  std::unique_ptr<AccountStore> store_;
  ApiCredentials alice_;
  std::unique_ptr<Authenticator> auth_;
  Caller caller_{"192.0.2.1", 0, ""};
  HttpRequestParts get_{"GET", "/api/v2/private/get_positions?currency=BTC", ""};
  HttpRequestParts post_{"POST", "/api/v2/private/buy", R"({"instrument_name":"BTC-PERPETUAL"})"};
};

TEST_F(HttpAuthTest, BearerToken) {
  AuthRequest request;
  request.client_id = alice_.client_id;
  request.client_secret = alice_.client_secret;
  const auto grant = auth_->authenticate(request, caller_, kNow);
  ASSERT_TRUE(grant);
  const auto identity = http("bearer " + grant->access_token, get_);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->account, "alice");
  EXPECT_EQ(identity->method, AuthMethod::access_token);
  const auto bad = http("bearer 1700000000000.forged", get_);
  EXPECT_EQ(bad.error().code.code, errors::unauthorized.code);
}

TEST_F(HttpAuthTest, Basic) {
  const auto identity =
      http("Basic " + base64(alice_.client_id + ":" + alice_.client_secret), get_);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->account, "alice");
  EXPECT_EQ(identity->method, AuthMethod::http_basic);
  const auto wrong = http("Basic " + base64(alice_.client_id + ":wrong"), get_);
  EXPECT_EQ(wrong.error().code.code, errors::invalid_credentials.code);
}

TEST_F(HttpAuthTest, DeriHmacSha256) {
  const auto identity = http(hmac_header(kNow, "n1", get_), get_);
  ASSERT_TRUE(identity) << identity.error().reason;
  EXPECT_EQ(identity->method, AuthMethod::http_signature);
  EXPECT_TRUE(http(hmac_header(kNow, "n2", post_), post_));
}

TEST_F(HttpAuthTest, DeriHmacCoversMethodUriAndBody) {
  // Signed for GET, sent as POST; signed for one URI or body, sent with another.
  EXPECT_EQ(http(hmac_header(kNow, "m1", get_), {"POST", get_.uri, ""}).error().reason,
            "invalid_signature");
  EXPECT_EQ(
      http(hmac_header(kNow, "m2", get_), {"GET", "/api/v2/private/get_positions?currency=ETH", ""})
          .error()
          .reason,
      "invalid_signature");
  EXPECT_EQ(http(hmac_header(kNow, "m3", post_), {"POST", post_.uri, "{}"}).error().reason,
            "invalid_signature");
}

TEST_F(HttpAuthTest, DeriHmacWindowAndReplay) {
  const std::string header = hmac_header(kNow, "once", get_);
  EXPECT_TRUE(http(header, get_));
  const auto replay = http(header, get_, kNow + 1);
  EXPECT_EQ(replay.error().code.code, errors::invalid_credentials.code);
  EXPECT_EQ(replay.error().reason, "nonce_reused");
  EXPECT_EQ(http(hmac_header(kNow - 60'001, "old", get_), get_).error().reason,
            "timestamp_out_of_window");
  EXPECT_EQ(http(hmac_header(kNow + 60'001, "new", get_), get_).error().reason,
            "timestamp_out_of_window");
}

TEST_F(HttpAuthTest, MissingOrMalformedHeader) {
  const auto missing = http("", get_);
  EXPECT_EQ(missing.error().code.code, errors::unauthorized.code);
  EXPECT_EQ(missing.error().reason, "missing_authorization");
  const auto malformed = http("Digest abc", get_);
  EXPECT_EQ(malformed.error().code.code, errors::unauthorized.code);
  EXPECT_EQ(malformed.error().reason, "invalid_authorization_header");
}

TEST_F(HttpAuthTest, Handshake) {
  const std::string fingerprint(64, 'e');
  ASSERT_TRUE(store_->add_certificate("alice", fingerprint));
  const HttpRequestParts upgrade{"GET", "/ws/api/v2", ""};
  EXPECT_FALSE(authenticate_handshake(*auth_, "", "", upgrade, caller_, kNow));
  const auto by_cert = authenticate_handshake(*auth_, "", fingerprint, upgrade, caller_, kNow);
  ASSERT_TRUE(by_cert && *by_cert);
  EXPECT_EQ((*by_cert)->method, AuthMethod::certificate);
  // The header wins over the certificate.
  const auto by_basic = authenticate_handshake(
      *auth_, "Basic " + base64(alice_.client_id + ":" + alice_.client_secret), fingerprint,
      upgrade, caller_, kNow);
  ASSERT_TRUE(by_basic && *by_basic);
  EXPECT_EQ((*by_basic)->method, AuthMethod::http_basic);
  const auto bad_jwt = authenticate_handshake(*auth_, "Bearer a.b.c", "", upgrade, caller_, kNow);
  ASSERT_TRUE(bad_jwt);
  EXPECT_EQ(bad_jwt->error().code.code, errors::unauthorized.code);
}

}  // namespace
