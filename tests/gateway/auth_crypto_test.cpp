// The shared helpers: base64/base64url against RFC 4648's vectors and their strictness,
// HMAC-SHA256 against RFC 4231 and the openssl command line, SHA-256, hex, random strings.
#include "gateway/auth_crypto.hpp"

#include <gtest/gtest.h>

#include <set>

#include "gateway/auth_test_support.hpp"

namespace {

using namespace gw::gateway;

TEST(AuthCrypto, Base64UrlRfc4648Vectors) {
  // RFC 4648 section 10, without padding.
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64url_encode(plain), encoded);
    EXPECT_EQ(base64url_decode(encoded), plain);
  }
  // The two characters that differ from standard base64.
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
}

TEST(AuthCrypto, Base64UrlIsStrict) {
  EXPECT_FALSE(base64url_decode("Zg=="));   // padding
  EXPECT_FALSE(base64url_decode("Z"));      // impossible length
  EXPECT_FALSE(base64url_decode("Zm9v+"));  // standard alphabet
  EXPECT_FALSE(base64url_decode("Zm 9v"));  // whitespace
  EXPECT_FALSE(base64url_decode("Zh"));     // non-zero unused bits ("Zg" is canonical)
}

TEST(AuthCrypto, Base64Standard) {
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode("+/8="), std::string("\xfb\xff"));
  EXPECT_FALSE(base64_decode("Zm9vYg"));    // padding required
  EXPECT_FALSE(base64_decode("Zm9vYg="));   // wrong amount of padding
  EXPECT_FALSE(base64_decode("Zm9=vYg="));  // padding in the middle
  EXPECT_FALSE(base64_decode("-_8="));      // URL alphabet
}

TEST(AuthCrypto, HmacSha256Rfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AuthCrypto, HmacSha256MatchesOpensslCli) {
  gw::gateway::testing::TempDir dir;
  const std::string message = "1699999999999\nabc\nsome data";
  EXPECT_EQ(hmac_sha256_hex("s3cr3t-key", message),
            gw::gateway::testing::openssl_hmac_hex(dir, "s3cr3t-key", message));
}

TEST(AuthCrypto, Sha256AndHex) {
  const Sha256Digest digest = sha256("abc");
  EXPECT_EQ(to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size())),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuthCrypto, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
}

TEST(AuthCrypto, RandomStrings) {
  std::set<std::string> seen;
  std::set<char> characters;
  for (int i = 0; i < 200; ++i) {
    const std::string id = random_alphanumeric(10);
    ASSERT_EQ(id.size(), 10u);
    for (const char c : id) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
      characters.insert(c);
    }
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_GT(characters.size(), 55u);  // 2,000 draws cover nearly all 62 characters
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_NE(random_bytes(16), random_bytes(16));
}

}  // namespace
