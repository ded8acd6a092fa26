// JWT verification with keys made and tokens signed by the openssl command line (Ed25519 with
// `pkeyutl -rawin`, P-256 with `dgst -sha256 -sign`, its DER signature converted to r||s here):
// valid tokens, tampering, wrong kid or algorithm, exp/nbf with leeway, refused algorithms
// (none, HS256, RS256), malformed input; then through the Authenticator with the store.
#include "gateway/jwt.hpp"

#include <gtest/gtest.h>

#include <map>

#include "gateway/auth.hpp"
#include "gateway/auth_crypto.hpp"
#include "gateway/auth_test_support.hpp"

namespace {

using namespace gw::gateway;
using gw::gateway::testing::read_file;
using gw::gateway::testing::run;
using gw::gateway::testing::TempDir;
using gw::gateway::testing::write_file;

constexpr std::int64_t kNow = 1'700'000'000;  // seconds

struct KeyPair {
  std::string private_path;
  std::string public_pem;
  JwtAlgorithm algorithm;
};

KeyPair make_key(const TempDir& dir, const std::string& name, JwtAlgorithm algorithm) {
  const std::string priv = (dir / (name + ".key")).string();
  const std::string pub = (dir / (name + ".pub")).string();
  run(algorithm == JwtAlgorithm::eddsa
          ? "openssl genpkey -algorithm ed25519 -out '" + priv + "'"
          : "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" + priv + "'");
  run("openssl pkey -in '" + priv + "' -pubout -out '" + pub + "'");
  return {priv, read_file(pub), algorithm};
}

// DER SEQUENCE { INTEGER r, INTEGER s } → 32-byte big-endian r || s, parsed here rather than by
// the code under test.
std::string der_to_raw(const std::string& der) {
  std::size_t at = 2;  // 0x30, a short length (P-256 signatures are at most 72 bytes)
  std::string raw;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(static_cast<unsigned char>(der[at]), 0x02);
    std::size_t length = static_cast<unsigned char>(der[at + 1]);
    std::string integer = der.substr(at + 2, length);
    at += 2 + length;
    while (integer.size() > 32 && integer[0] == '\0') integer.erase(0, 1);
    raw += std::string(32 - integer.size(), '\0') + integer;
  }
  return raw;
}

std::string sign(const TempDir& dir, const KeyPair& key, const std::string& input) {
  const std::string in = (dir / "signing-input").string();
  const std::string out = (dir / "signature").string();
  write_file(in, input);
  if (key.algorithm == JwtAlgorithm::eddsa) {
    run("openssl pkeyutl -sign -inkey '" + key.private_path + "' -rawin -in '" + in + "' -out '" +
        out + "'");
    return read_file(out);
  }
  run("openssl dgst -sha256 -sign '" + key.private_path + "' -out '" + out + "' '" + in + "'");
  return der_to_raw(read_file(out));
}

std::string make_jwt(const TempDir& dir, const KeyPair& key, const std::string& header,
                     const std::string& claims) {
  const std::string input = base64url_encode(header) + "." + base64url_encode(claims);
  return input + "." + base64url_encode(sign(dir, key, input));
}

std::string claims_for(const std::string& sub, std::int64_t exp, const std::string& extra = {}) {
  return R"({"sub":")" + sub + R"(","exp":)" + std::to_string(exp) + extra + "}";
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    ed_ = new KeyPair(make_key(*dir_, "ed", JwtAlgorithm::eddsa));
    ec_ = new KeyPair(make_key(*dir_, "ec", JwtAlgorithm::es256));
    other_ = new KeyPair(make_key(*dir_, "other", JwtAlgorithm::eddsa));
  }
  static void TearDownTestSuite() {
    delete other_;
    delete ec_;
    delete ed_;
    delete dir_;
  }

  JwtResult verify(const std::string& token, std::int64_t now = kNow) const {
    return verify_jwt(
        token,
        [this](std::string_view subject) {
          const auto it = keys_.find(std::string(subject));
          return it == keys_.end() ? std::vector<JwtPublicKey>{} : it->second;
        },
        now);
  }

  static TempDir* dir_;
  static KeyPair* ed_;
  static KeyPair* ec_;
  static KeyPair* other_;
  std::map<std::string, std::vector<JwtPublicKey>> keys_ = {
      {"alice", {{"ed1", "EdDSA", ed_->public_pem}, {"ec1", "ES256", ec_->public_pem}}},
      {"bob", {{"bob1", "EdDSA", other_->public_pem}}},
  };
};

TempDir* JwtTest::dir_ = nullptr;
KeyPair* JwtTest::ed_ = nullptr;
KeyPair* JwtTest::ec_ = nullptr;
KeyPair* JwtTest::other_ = nullptr;

TEST_F(JwtTest, AlgorithmOfPublicKeys) {
  EXPECT_EQ(jwt_algorithm_for_public_key(ed_->public_pem), JwtAlgorithm::eddsa);
  EXPECT_EQ(jwt_algorithm_for_public_key(ec_->public_pem), JwtAlgorithm::es256);
  std::string error;
  EXPECT_FALSE(jwt_algorithm_for_public_key("nonsense", &error));
  EXPECT_FALSE(error.empty());
  // Other curves and RSA are not for these algorithms.
  const std::string p384 = (dir_->path() / "p384.key").string();
  run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out '" + p384 + "'");
  EXPECT_FALSE(jwt_algorithm_for_public_key(run("openssl pkey -in '" + p384 + "' -pubout")));
  const std::string rsa = (dir_->path() / "rsa.key").string();
  run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '" + rsa + "'");
  EXPECT_FALSE(jwt_algorithm_for_public_key(run("openssl pkey -in '" + rsa + "' -pubout")));
}

TEST_F(JwtTest, ValidEdDsa) {
  const auto result = verify(make_jwt(*dir_, *ed_, R"({"alg":"EdDSA","kid":"ed1","typ":"JWT"})",
                                      claims_for("alice", kNow + 60, R"(,"nbf":1699999990)")));
  ASSERT_TRUE(result) << result.detail;
  EXPECT_EQ(result.claims->subject, "alice");
  EXPECT_EQ(result.claims->key_id, "ed1");
  EXPECT_EQ(result.claims->algorithm, JwtAlgorithm::eddsa);
  EXPECT_EQ(result.claims->expires_at_s, kNow + 60);
  EXPECT_EQ(result.claims->not_before_s, 1699999990);
}

TEST_F(JwtTest, ValidEs256) {
  // Coinbase-style header and claims (extra fields are ignored).
  const auto result =
      verify(make_jwt(*dir_, *ec_, R"({"alg":"ES256","kid":"ec1","nonce":"abc","typ":"JWT"})",
                      claims_for("alice", kNow + 120, R"(,"iss":"cdp","nbf":1700000000.5)")));
  ASSERT_TRUE(result) << result.detail;
  EXPECT_EQ(result.claims->algorithm, JwtAlgorithm::es256);
  EXPECT_EQ(result.claims->not_before_s, 1700000000);
}

TEST_F(JwtTest, TamperedPayloadOrSignature) {
  const std::string token =
      make_jwt(*dir_, *ed_, R"({"alg":"EdDSA","kid":"ed1"})", claims_for("alice", kNow + 60));
  const std::size_t dot = token.find('.');
  const std::size_t dot2 = token.find('.', dot + 1);
  const std::string forged_claims = base64url_encode(claims_for("alice", kNow + 999999));
  const std::string forged = token.substr(0, dot + 1) + forged_claims + token.substr(dot2);
  EXPECT_EQ(verify(forged).failure, JwtFailure::bad_signature);

  std::string flipped = token;
  flipped[dot2 + 5] = flipped[dot2 + 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(flipped).failure, JwtFailure::bad_signature);

  const std::string ec_token =
      make_jwt(*dir_, *ec_, R"({"alg":"ES256","kid":"ec1"})", claims_for("alice", kNow + 60));
  const std::string ec_forged = ec_token.substr(0, ec_token.find('.') + 1) + forged_claims +
                                ec_token.substr(ec_token.rfind('.'));
  EXPECT_EQ(verify(ec_forged).failure, JwtFailure::bad_signature);
  // A signature of the wrong length.
  const std::string short_sig =
      ec_token.substr(0, ec_token.rfind('.') + 1) + base64url_encode(std::string(63, '\x01'));
  EXPECT_EQ(verify(short_sig).failure, JwtFailure::bad_signature);
}

TEST_F(JwtTest, WrongKidOrKeyOrAccount) {
  EXPECT_EQ(verify(make_jwt(*dir_, *ed_, R"({"alg":"EdDSA","kid":"nope"})",
                            claims_for("alice", kNow + 60)))
                .failure,
            JwtFailure::unknown_key);
  EXPECT_EQ(
      verify(make_jwt(*dir_, *ed_, R"({"alg":"EdDSA"})", claims_for("alice", kNow + 60))).failure,
      JwtFailure::unknown_key);
  // Signed by bob's key but naming alice and bob's kid: alice has no such key.
  EXPECT_EQ(verify(make_jwt(*dir_, *other_, R"({"alg":"EdDSA","kid":"bob1"})",
                            claims_for("alice", kNow + 60)))
                .failure,
            JwtFailure::unknown_key);
  // alice's kid, signed by another key.
  EXPECT_EQ(verify(make_jwt(*dir_, *other_, R"({"alg":"EdDSA","kid":"ed1"})",
                            claims_for("alice", kNow + 60)))
                .failure,
            JwtFailure::bad_signature);
  // The header's alg must be the registered key's.
  EXPECT_EQ(verify(make_jwt(*dir_, *ed_, R"({"alg":"ES256","kid":"ed1"})",
                            claims_for("alice", kNow + 60)))
                .failure,
            JwtFailure::unknown_key);
  EXPECT_EQ(verify(make_jwt(*dir_, *ed_, R"({"alg":"EdDSA","kid":"ed1"})",
                            claims_for("nobody", kNow + 60)))
                .failure,
            JwtFailure::unknown_key);
}

TEST_F(JwtTest, ExpiryAndNotBeforeWithLeeway) {
  const std::string header = R"({"alg":"EdDSA","kid":"ed1"})";
  EXPECT_TRUE(verify(make_jwt(*dir_, *ed_, header, claims_for("alice", kNow - 30))));
  EXPECT_EQ(verify(make_jwt(*dir_, *ed_, header, claims_for("alice", kNow - 31))).failure,
            JwtFailure::expired);
  EXPECT_TRUE(verify(
      make_jwt(*dir_, *ed_, header, claims_for("alice", kNow + 600, R"(,"nbf":1700000030)"))));
  EXPECT_EQ(
      verify(make_jwt(*dir_, *ed_, header, claims_for("alice", kNow + 600, R"(,"nbf":1700000031)")))
          .failure,
      JwtFailure::not_yet_valid);
  EXPECT_EQ(verify(make_jwt(*dir_, *ed_, header, R"({"sub":"alice"})")).failure,
            JwtFailure::missing_claim);
  EXPECT_EQ(verify(make_jwt(*dir_, *ed_, header, R"({"exp":1700000060})")).failure,
            JwtFailure::missing_claim);
  // No overflow with absurd values.
  EXPECT_TRUE(verify(make_jwt(*dir_, *ed_, header, claims_for("alice", INT64_MAX))));
  EXPECT_EQ(verify(make_jwt(*dir_, *ed_, header,
                            claims_for("alice", kNow + 60, R"(,"nbf":9223372036854775807)")))
                .failure,
            JwtFailure::not_yet_valid);
}

TEST_F(JwtTest, RefusedAlgorithms) {
  const std::string claims = base64url_encode(claims_for("alice", kNow + 60));
  // alg none, unsigned and with a signature.
  const std::string none = base64url_encode(R"({"alg":"none","kid":"ed1"})") + "." + claims;
  EXPECT_FALSE(verify(none + "."));
  EXPECT_EQ(verify(none + "." + base64url_encode("x")).failure, JwtFailure::unsupported_algorithm);
  // HS256 keyed with the public key (the classic confusion attack) must not verify.
  const std::string hs_input = base64url_encode(R"({"alg":"HS256","kid":"ed1"})") + "." + claims;
  const std::string mac_hex = hmac_sha256_hex(ed_->public_pem, hs_input);
  std::string mac;
  for (std::size_t i = 0; i < mac_hex.size(); i += 2) {
    mac.push_back(static_cast<char>(std::stoi(mac_hex.substr(i, 2), nullptr, 16)));
  }
  EXPECT_EQ(verify(hs_input + "." + base64url_encode(mac)).failure,
            JwtFailure::unsupported_algorithm);
  const std::string rs = base64url_encode(R"({"alg":"RS256","kid":"ed1"})") + "." + claims;
  EXPECT_EQ(verify(rs + "." + base64url_encode(std::string(256, 'x'))).failure,
            JwtFailure::unsupported_algorithm);
  EXPECT_EQ(verify(make_jwt(*dir_, *ed_, R"({"alg":"EdDSA","kid":"ed1","crit":["exp"]})",
                            claims_for("alice", kNow + 60)))
                .failure,
            JwtFailure::unsupported_algorithm);
}

TEST_F(JwtTest, MalformedTokens) {
  EXPECT_EQ(verify("").failure, JwtFailure::malformed);
  EXPECT_EQ(verify("a.b").failure, JwtFailure::malformed);
  EXPECT_EQ(verify("a.b.c.d").failure, JwtFailure::malformed);
  EXPECT_EQ(verify("!!.b.c").failure, JwtFailure::malformed);
  const std::string claims = base64url_encode(claims_for("alice", kNow + 60));
  const std::string sig = base64url_encode(std::string(64, 'x'));
  const auto with_header = [&](const std::string& header) {
    return verify(base64url_encode(header) + "." + claims + "." + sig).failure;
  };
  EXPECT_EQ(with_header("not json"), JwtFailure::malformed);
  EXPECT_EQ(with_header(R"(["alg","EdDSA"])"), JwtFailure::malformed);
  EXPECT_EQ(with_header(R"({"alg":"EdDSA","alg":"none","kid":"ed1"})"), JwtFailure::malformed);
  EXPECT_EQ(with_header(R"({"alg":5,"kid":"ed1"})"), JwtFailure::malformed);
  EXPECT_EQ(with_header(R"({"kid":"ed1"})"), JwtFailure::malformed);
  const std::string header = base64url_encode(R"({"alg":"EdDSA","kid":"ed1"})");
  EXPECT_EQ(
      verify(header + "." + base64url_encode(R"({"sub":"alice","sub":"bob","exp":1})") + "." + sig)
          .failure,
      JwtFailure::malformed);
  EXPECT_EQ(verify(header + "." + base64url_encode(R"({"sub":"alice","exp":"soon"})") + "." + sig)
                .failure,
            JwtFailure::malformed);
  EXPECT_EQ(verify(std::string(kMaxJwtSize + 1, 'a')).failure, JwtFailure::malformed);
}

TEST_F(JwtTest, ThroughTheAuthenticator) {
  TempDir dir;
  StoreOptions options;
  options.data_dir = dir / "data";
  auto store = AccountStore::open(options);
  store->add_account("alice");
  ASSERT_TRUE(store->add_jwt_key("alice", {"ed1", "EdDSA", ed_->public_pem}));
  Authenticator auth(*store);
  const Caller caller{"127.0.0.1", 5, ""};
  const std::int64_t now_ms = kNow * 1000;

  const auto identity = auth.authenticate_jwt(
      make_jwt(*dir_, *ed_, R"({"alg":"EdDSA","kid":"ed1"})", claims_for("alice", kNow + 60)),
      caller, now_ms);
  ASSERT_TRUE(identity) << identity.error().reason;
  EXPECT_EQ(identity->account, "alice");
  EXPECT_EQ(identity->method, AuthMethod::jwt);
  EXPECT_TRUE(identity->scopes.allows({ScopeArea::trade, Access::read_write}));

  const auto narrowed =
      auth.authenticate_jwt(make_jwt(*dir_, *ed_, R"({"alg":"EdDSA","kid":"ed1"})",
                                     claims_for("alice", kNow + 60, R"(,"scope":"trade:read")")),
                            caller, now_ms);
  ASSERT_TRUE(narrowed);
  EXPECT_FALSE(narrowed->scopes.allows({ScopeArea::trade, Access::read_write}));

  const auto expired = auth.authenticate_jwt(
      make_jwt(*dir_, *ed_, R"({"alg":"EdDSA","kid":"ed1"})", claims_for("alice", kNow - 60)),
      caller, now_ms);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code.code, gw::codec::errors::unauthorized.code);
  EXPECT_EQ(expired.error().reason, "expired");
}

}  // namespace
