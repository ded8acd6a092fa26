// Authenticator and Scopes: every public/auth grant's success and failure modes with Deribit's
// error codes, token validation, expiry, logout, refresh rotation, connection and session
// binding, fork_token, scope narrowing, lockouts after repeated failures, the nonce cache's
// bounds, revocation from the store, the audit trail, and concurrent use.
#include "gateway/auth.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "gateway/audit_log.hpp"
#include "gateway/auth_crypto.hpp"
#include "gateway/auth_test_support.hpp"

namespace {

using namespace gw::gateway;
using gw::gateway::testing::TempDir;
namespace errors = gw::codec::errors;

constexpr std::int64_t kNow = 1'700'000'000'000;  // Unix ms

// ---- Scopes ------------------------------------------------------------------------------

TEST(Scopes, ParsesAndPrintsInDeribitsOrder) {
  const auto scopes = Scopes::parse("account:read_write trade:read_write");
  ASSERT_TRUE(scopes);
  EXPECT_EQ(scopes->to_string(), "connection mainaccount trade:read_write account:read_write");
  const auto session = Scopes::parse("session:abc  trade:read wallet:none expires:60 ip:1.2.3.4");
  ASSERT_TRUE(session);
  EXPECT_EQ(session->binding, ScopeBinding::session);
  EXPECT_EQ(session->session_name, "abc");
  EXPECT_EQ(session->to_string(), "session:abc mainaccount trade:read expires:60 ip:1.2.3.4");
}

TEST(Scopes, IgnoresUnknownWordsAndRejectsMalformedOnes) {
  EXPECT_TRUE(Scopes::parse("mainaccount name:ccxt block_trade:read custody:read_write"));
  std::string error;
  EXPECT_FALSE(Scopes::parse("trade:everything", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(Scopes::parse("expires:soon"));
  EXPECT_FALSE(Scopes::parse("expires:-5"));
  EXPECT_FALSE(Scopes::parse("session:"));
  EXPECT_FALSE(Scopes::parse("session:" + std::string(65, 'x')));
  EXPECT_TRUE(Scopes::parse(""));
}

TEST(Scopes, AllowsAndNarrows) {
  const Scopes max = *Scopes::parse("account:read trade:read_write");
  EXPECT_TRUE(max.allows({ScopeArea::trade, Access::read_write}));
  EXPECT_TRUE(max.allows({ScopeArea::account, Access::read}));
  EXPECT_FALSE(max.allows({ScopeArea::account, Access::read_write}));
  EXPECT_FALSE(max.allows({ScopeArea::wallet, Access::read}));
  EXPECT_TRUE(max.allows({ScopeArea::wallet, Access::none}));

  const auto narrowed = max.narrow(*Scopes::parse("trade:read session:s1"));
  ASSERT_TRUE(narrowed);
  EXPECT_EQ(narrowed->access(ScopeArea::trade), Access::read);
  EXPECT_EQ(narrowed->access(ScopeArea::account), Access::read);  // the maximum where unnamed
  EXPECT_EQ(narrowed->binding, ScopeBinding::session);
  EXPECT_FALSE(max.narrow(*Scopes::parse("account:read_write")));
  EXPECT_FALSE(max.narrow(*Scopes::parse("wallet:read")));
  EXPECT_TRUE(max.narrow(*Scopes::parse("wallet:none")));
}

TEST(Scopes, MethodAndChannelRequirements) {
  const auto is = [](ScopeRequirement r, ScopeArea area, Access access) {
    return r.area == area && r.access == access;
  };
  EXPECT_TRUE(is(required_scope_for_method("private/buy"), ScopeArea::trade, Access::read_write));
  EXPECT_TRUE(
      is(required_scope_for_method("private/cancel_all"), ScopeArea::trade, Access::read_write));
  EXPECT_TRUE(
      is(required_scope_for_method("private/get_positions"), ScopeArea::trade, Access::read));
  EXPECT_TRUE(is(required_scope_for_method("private/get_account_summary"), ScopeArea::account,
                 Access::read));
  EXPECT_TRUE(
      is(required_scope_for_method("private/withdraw"), ScopeArea::wallet, Access::read_write));
  EXPECT_TRUE(is(required_scope_for_method("private/logout"), ScopeArea::account, Access::none));
  EXPECT_TRUE(is(required_scope_for_method("private/not_in_the_table"), ScopeArea::account,
                 Access::read_write));
  EXPECT_EQ(required_scope_for_method("public/get_instruments").access, Access::none);

  EXPECT_TRUE(is(required_scope_for_channel("user.orders.BTC-PERPETUAL.raw"), ScopeArea::trade,
                 Access::read));
  EXPECT_TRUE(is(required_scope_for_channel("user.trades.option.BTC.100ms"), ScopeArea::trade,
                 Access::read));
  EXPECT_TRUE(
      is(required_scope_for_channel("user.portfolio.btc"), ScopeArea::account, Access::read));
  EXPECT_EQ(required_scope_for_channel("book.BTC-PERPETUAL.100ms").access, Access::none);
  EXPECT_TRUE(is_private_channel("user.orders.any.any.raw"));
  EXPECT_FALSE(is_private_channel("ticker.BTC-PERPETUAL.raw"));
}

// ---- Authenticator fixture ---------------------------------------------------------------

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.data_dir = dir_ / "data";
    store_ = AccountStore::open(options);
    alice_ = store_->add_account("alice");
    make_authenticator({});
  }

  void make_authenticator(AuthOptions options, AuditLog* audit = nullptr) {
    auth_ = std::make_unique<Authenticator>(*store_, options, audit);
  }

  AuthRequest credentials(const ApiCredentials& c, std::string_view scope = {}) const {
    AuthRequest request;
    request.grant_type = GrantType::client_credentials;
    request.client_id = c.client_id;
    request.client_secret = c.client_secret;
    request.scope = scope;
    return request;
  }

  // Signs with the openssl command line, not with our HMAC.
  AuthRequest signature(const ApiCredentials& c, std::int64_t timestamp, std::string_view nonce,
                        std::string_view data = {}) {
    const std::string message =
        std::to_string(timestamp) + "\n" + std::string(nonce) + "\n" + std::string(data);
    signatures_.push_back(gw::gateway::testing::openssl_hmac_hex(dir_, c.client_secret, message));
    AuthRequest request;
    request.grant_type = GrantType::client_signature;
    request.client_id = c.client_id;
    request.timestamp_ms = timestamp;
    request.nonce = nonce;
    request.data = data;
    request.signature = signatures_.back();
    return request;
  }

  static AuthRequest refresh(const std::string& token, std::string_view scope = {}) {
    AuthRequest request;
    request.grant_type = GrantType::refresh_token;
    request.refresh_token = token;
    request.scope = scope;
    return request;
  }

  TempDir dir_;
  std::unique_ptr<AccountStore> store_;
  ApiCredentials alice_;
  std::unique_ptr<Authenticator> auth_;
  std::deque<std::string> signatures_;  // keeps the views in AuthRequest alive
  Caller ws1_{"10.0.0.1", 1, "7"};
  Caller ws2_{"10.0.0.1", 2, "8"};
  Caller http_{"10.0.0.2", 0, "9"};
};

template <class T>
int code_of(const AuthResult<T>& result) {
  return result ? 0 : result.error().code.code;
}

TEST_F(AuthTest, ClientCredentialsGrant) {
  const auto grant = auth_->authenticate(credentials(alice_), ws1_, kNow);
  ASSERT_TRUE(grant) << grant.error().reason;
  EXPECT_EQ(grant->token_type, "bearer");
  EXPECT_EQ(grant->expires_in, 900);
  EXPECT_EQ(grant->scope, "connection mainaccount trade:read_write account:read_write");
  EXPECT_EQ(grant->identity.account, "alice");
  EXPECT_EQ(grant->identity.account_id, alice_.account_id);
  EXPECT_EQ(grant->identity.client_id, alice_.client_id);
  // "<ms>.<32 base64url characters>": 192 random bits.
  const std::string prefix = std::to_string(kNow) + ".";
  ASSERT_TRUE(grant->access_token.starts_with(prefix));
  const auto random = base64url_decode(grant->access_token.substr(prefix.size()));
  ASSERT_TRUE(random);
  EXPECT_GE(random->size() * 8, 128u);
  EXPECT_NE(grant->access_token, grant->refresh_token);

  const auto identity = auth_->validate(grant->access_token, ws1_, kNow + 1);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->account, "alice");
  EXPECT_TRUE(identity->scopes.allows(required_scope_for_method("private/buy")));
  EXPECT_EQ(identity->expires_at_ms, kNow + 900'000);
}

TEST_F(AuthTest, ClientCredentialsFailures) {
  AuthRequest wrong = credentials(alice_);
  const std::string bad_secret = alice_.client_secret + "x";
  wrong.client_secret = bad_secret;
  EXPECT_EQ(code_of(auth_->authenticate(wrong, ws1_, kNow)), errors::invalid_credentials.code);
  wrong = credentials(alice_);
  wrong.client_id = "nosuchkey1";
  EXPECT_EQ(code_of(auth_->authenticate(wrong, ws1_, kNow)), errors::invalid_credentials.code);
  wrong = credentials(alice_);
  wrong.client_secret = {};
  const auto missing = auth_->authenticate(wrong, ws1_, kNow);
  EXPECT_EQ(code_of(missing), errors::invalid_params.code);
  EXPECT_EQ(missing.error().param, "client_secret");
  wrong = credentials(alice_);
  wrong.client_id = {};
  EXPECT_EQ(code_of(auth_->authenticate(wrong, ws1_, kNow)), errors::invalid_params.code);
  EXPECT_EQ(code_of(auth_->authenticate(credentials(alice_, "trade:bogus"), ws1_, kNow)),
            errors::invalid_params.code);
}

TEST_F(AuthTest, ClientSignatureGrant) {
  const auto grant = auth_->authenticate(signature(alice_, kNow, "n0nce", "payload"), ws1_, kNow);
  ASSERT_TRUE(grant) << grant.error().reason;
  EXPECT_EQ(grant->identity.method, AuthMethod::client_signature);
  EXPECT_TRUE(auth_->validate(grant->access_token, ws1_, kNow));
  // CCXT's form: nonce = timestamp, empty data.
  const std::string ts = std::to_string(kNow + 5);
  EXPECT_TRUE(auth_->authenticate(signature(alice_, kNow + 5, ts), ws1_, kNow));
}

TEST_F(AuthTest, ClientSignatureAcceptsUppercaseHex) {
  AuthRequest request = signature(alice_, kNow, "upper");
  std::string upper(request.signature);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  request.signature = upper;
  EXPECT_TRUE(auth_->authenticate(request, ws1_, kNow));
}

TEST_F(AuthTest, ClientSignatureTimestampWindowBothSides) {
  EXPECT_TRUE(auth_->authenticate(signature(alice_, kNow - 60'000, "a"), ws1_, kNow));
  EXPECT_TRUE(auth_->authenticate(signature(alice_, kNow + 60'000, "b"), ws1_, kNow));
  const auto stale = auth_->authenticate(signature(alice_, kNow - 60'001, "c"), ws1_, kNow);
  EXPECT_EQ(code_of(stale), errors::invalid_credentials.code);
  EXPECT_EQ(stale.error().reason, "timestamp_out_of_window");
  const auto future = auth_->authenticate(signature(alice_, kNow + 60'001, "d"), ws1_, kNow);
  EXPECT_EQ(code_of(future), errors::invalid_credentials.code);
  EXPECT_EQ(future.error().reason, "timestamp_out_of_window");
  // Seconds instead of milliseconds are far outside the window.
  EXPECT_EQ(code_of(auth_->authenticate(signature(alice_, kNow / 1000, "e"), ws1_, kNow)),
            errors::invalid_credentials.code);
}

TEST_F(AuthTest, ClientSignatureNonceIsSingleUse) {
  const AuthRequest request = signature(alice_, kNow, "once");
  EXPECT_TRUE(auth_->authenticate(request, ws1_, kNow));
  const auto replay = auth_->authenticate(request, ws2_, kNow + 10);
  EXPECT_EQ(code_of(replay), errors::invalid_credentials.code);
  EXPECT_EQ(replay.error().reason, "nonce_reused");
  // The same nonce with another timestamp within the window: still used.
  EXPECT_EQ(code_of(auth_->authenticate(signature(alice_, kNow + 1, "once"), ws1_, kNow + 20)),
            errors::invalid_credentials.code);
  // Another key may use it.
  const ApiCredentials bob = store_->add_account("bob");
  EXPECT_TRUE(auth_->authenticate(signature(bob, kNow, "once"), ws1_, kNow));
  // Once the window is over the nonce is forgotten (and the memory freed).
  EXPECT_EQ(auth_->nonce_count(), 2u);
  auth_->sweep(kNow + 60'002);
  EXPECT_EQ(auth_->nonce_count(), 0u);
  EXPECT_TRUE(auth_->authenticate(signature(alice_, kNow + 60'002, "once"), ws1_, kNow + 60'002));
}

TEST_F(AuthTest, ClientSignatureWrongSignatureOrData) {
  AuthRequest request = signature(alice_, kNow, "x1", "data");
  request.data = "other data";  // signed something else
  const auto result = auth_->authenticate(request, ws1_, kNow);
  EXPECT_EQ(code_of(result), errors::invalid_credentials.code);
  EXPECT_EQ(result.error().reason, "invalid_signature");
  request = signature(alice_, kNow, "x2");
  const std::string zeros(64, '0');
  request.signature = zeros;
  EXPECT_EQ(code_of(auth_->authenticate(request, ws1_, kNow)), errors::invalid_credentials.code);
  // A failed signature does not spend the nonce.
  EXPECT_TRUE(auth_->authenticate(signature(alice_, kNow, "x2"), ws1_, kNow));
  request = signature(alice_, kNow, "x3");
  request.nonce = {};
  EXPECT_EQ(code_of(auth_->authenticate(request, ws1_, kNow)), errors::invalid_params.code);
}

TEST_F(AuthTest, RevokedKeyIsRefusedAndItsTokensEnd) {
  const auto grant = auth_->authenticate(credentials(alice_), http_, kNow);
  ASSERT_TRUE(grant);
  ASSERT_TRUE(store_->revoke_key(alice_.client_id));
  EXPECT_EQ(code_of(auth_->authenticate(credentials(alice_), ws1_, kNow)),
            errors::invalid_credentials.code);
  EXPECT_EQ(code_of(auth_->authenticate(signature(alice_, kNow, "r"), ws1_, kNow)),
            errors::invalid_credentials.code);
  // Within key_recheck_ms the token still works; after it, the store is asked again.
  EXPECT_TRUE(auth_->validate(grant->access_token, http_, kNow + 999));
  const auto after = auth_->validate(grant->access_token, http_, kNow + 1'000);
  EXPECT_EQ(code_of(after), errors::unauthorized.code);
  EXPECT_EQ(after.error().reason, "key_revoked");
  EXPECT_EQ(code_of(auth_->authenticate(refresh(grant->refresh_token), http_, kNow + 1'000)),
            errors::unauthorized.code);
}

TEST_F(AuthTest, RefreshIsRefusedForARevokedKey) {
  const auto grant = auth_->authenticate(credentials(alice_), http_, kNow);
  ASSERT_TRUE(grant);
  ASSERT_TRUE(store_->revoke_key(alice_.client_id));
  const auto refreshed = auth_->authenticate(refresh(grant->refresh_token), http_, kNow + 1);
  EXPECT_EQ(code_of(refreshed), errors::unauthorized.code);
  EXPECT_EQ(refreshed.error().reason, "key_revoked");
}

TEST_F(AuthTest, ExpiredTokenIsUnauthorized) {
  const auto grant = auth_->authenticate(credentials(alice_), http_, kNow);
  ASSERT_TRUE(grant);
  EXPECT_TRUE(auth_->validate(grant->access_token, http_, kNow + 899'999));
  const auto expired = auth_->validate(grant->access_token, http_, kNow + 900'000);
  EXPECT_EQ(code_of(expired), errors::unauthorized.code);
  EXPECT_EQ(expired.error().reason, "token_expired");
  // The refresh token outlives it.
  EXPECT_TRUE(auth_->authenticate(refresh(grant->refresh_token), http_, kNow + 900'000));
}

TEST_F(AuthTest, UnknownTokensAreUnauthorized) {
  EXPECT_EQ(code_of(auth_->validate("", http_, kNow)), errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->validate("1700000000000.AAAA", http_, kNow)), errors::unauthorized.code);
  const auto grant = auth_->authenticate(credentials(alice_), http_, kNow);
  ASSERT_TRUE(grant);
  // A refresh token is not an access token, nor the other way round.
  EXPECT_EQ(code_of(auth_->validate(grant->refresh_token, http_, kNow)), errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->authenticate(refresh(grant->access_token), http_, kNow)),
            errors::unauthorized.code);
}

TEST_F(AuthTest, ConfigurableAndRequestedLifetimes) {
  AuthOptions options;
  options.access_token_lifetime_s = 31'536'000;
  options.max_access_token_lifetime_s = 31'536'000;
  make_authenticator(options);
  EXPECT_EQ(auth_->authenticate(credentials(alice_), http_, kNow)->expires_in, 31'536'000);
  const auto short_lived = auth_->authenticate(credentials(alice_, "expires:60"), http_, kNow);
  ASSERT_TRUE(short_lived);
  EXPECT_EQ(short_lived->expires_in, 60);
  EXPECT_EQ(short_lived->scope,
            "connection mainaccount trade:read_write account:read_write expires:60");
  EXPECT_FALSE(auth_->validate(short_lived->access_token, http_, kNow + 60'000));
  const auto capped = auth_->authenticate(credentials(alice_, "expires:99999999999"), http_, kNow);
  EXPECT_EQ(capped->expires_in, 31'536'000);
}

TEST_F(AuthTest, LogoutRevokesBothTokens) {
  const auto grant = auth_->authenticate(credentials(alice_), ws1_, kNow);
  ASSERT_TRUE(grant);
  EXPECT_TRUE(auth_->logout(grant->access_token, ws1_, kNow + 1));
  EXPECT_EQ(code_of(auth_->validate(grant->access_token, ws1_, kNow + 2)),
            errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->authenticate(refresh(grant->refresh_token), ws1_, kNow + 2)),
            errors::unauthorized.code);
  EXPECT_FALSE(auth_->logout(grant->access_token, ws1_, kNow + 3));
  EXPECT_EQ(auth_->session_count(), 0u);
}

TEST_F(AuthTest, LogoutBySessionIdEndsASessionScopedToken) {
  const auto grant = auth_->authenticate(credentials(alice_, "session:desk"), ws1_, kNow);
  ASSERT_TRUE(grant);
  EXPECT_TRUE(auth_->validate(grant->access_token, http_, kNow + 1));
  EXPECT_TRUE(auth_->logout_session(grant->identity.session_id, ws1_, kNow + 1));
  EXPECT_EQ(code_of(auth_->validate(grant->access_token, http_, kNow + 2)),
            errors::unauthorized.code);
  EXPECT_FALSE(auth_->logout_session(grant->identity.session_id, ws1_, kNow + 3));
  EXPECT_EQ(auth_->session_count(), 0u);
}

TEST_F(AuthTest, RefreshRotatesTokens) {
  const auto first = auth_->authenticate(credentials(alice_), ws1_, kNow);
  ASSERT_TRUE(first);
  const auto second = auth_->authenticate(refresh(first->refresh_token), ws1_, kNow + 100);
  ASSERT_TRUE(second) << second.error().reason;
  EXPECT_NE(second->access_token, first->access_token);
  EXPECT_NE(second->refresh_token, first->refresh_token);
  EXPECT_EQ(second->scope, first->scope);
  EXPECT_EQ(second->identity.session_id, first->identity.session_id);
  EXPECT_EQ(second->identity.expires_at_ms, kNow + 100 + 900'000);
  // The old pair is spent.
  EXPECT_EQ(code_of(auth_->validate(first->access_token, ws1_, kNow + 101)),
            errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->authenticate(refresh(first->refresh_token), ws1_, kNow + 101)),
            errors::unauthorized.code);
  EXPECT_TRUE(auth_->validate(second->access_token, ws1_, kNow + 101));
  EXPECT_EQ(auth_->session_count(), 1u);
}

TEST_F(AuthTest, RefreshMayNarrowButNotWiden) {
  const auto first = auth_->authenticate(credentials(alice_, "trade:read"), http_, kNow);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->scope, "connection mainaccount trade:read account:read_write");
  const auto widen =
      auth_->authenticate(refresh(first->refresh_token, "trade:read_write"), http_, kNow + 1);
  EXPECT_EQ(code_of(widen), errors::scope_exceeded.code);
  const auto narrow =
      auth_->authenticate(refresh(first->refresh_token, "account:read"), http_, kNow + 2);
  ASSERT_TRUE(narrow);
  EXPECT_EQ(narrow->scope, "connection mainaccount trade:read account:read");
}

TEST_F(AuthTest, RefreshTokenExpires) {
  const auto grant = auth_->authenticate(credentials(alice_), http_, kNow);
  ASSERT_TRUE(grant);
  const std::int64_t end = kNow + auth_->options().refresh_token_lifetime_s * 1000;
  const auto late = auth_->authenticate(refresh(grant->refresh_token), http_, end);
  EXPECT_EQ(code_of(late), errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->authenticate(refresh({}), http_, kNow)), errors::invalid_params.code);
}

TEST_F(AuthTest, ScopeExceeded) {
  const auto reader = store_->add_key("alice", "account:read trade:read");
  ASSERT_TRUE(reader);
  const auto exceeded = auth_->authenticate(credentials(*reader, "trade:read_write"), http_, kNow);
  EXPECT_EQ(code_of(exceeded), errors::scope_exceeded.code);
  const auto grant = auth_->authenticate(credentials(*reader), http_, kNow);
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->scope, "connection mainaccount trade:read account:read");
  const auto identity = auth_->validate(grant->access_token, http_, kNow);
  ASSERT_TRUE(identity);
  EXPECT_FALSE(identity->scopes.allows(required_scope_for_method("private/buy")));
  EXPECT_TRUE(identity->scopes.allows(required_scope_for_method("private/get_positions")));
}

TEST_F(AuthTest, ConnectionScopeIsBoundToItsConnection) {
  const auto grant = auth_->authenticate(credentials(alice_), ws1_, kNow);
  ASSERT_TRUE(grant);
  EXPECT_TRUE(auth_->validate(grant->access_token, ws1_, kNow));
  const auto elsewhere = auth_->validate(grant->access_token, ws2_, kNow);
  EXPECT_EQ(code_of(elsewhere), errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->validate(grant->access_token, http_, kNow)), errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->authenticate(refresh(grant->refresh_token), ws2_, kNow)),
            errors::unauthorized.code);
  auth_->connection_closed(1);
  EXPECT_EQ(code_of(auth_->validate(grant->access_token, ws1_, kNow)), errors::unauthorized.code);
  EXPECT_EQ(auth_->session_count(), 0u);
}

TEST_F(AuthTest, AuthenticatingAgainOnAConnectionReplacesItsSession) {
  const auto first = auth_->authenticate(credentials(alice_), ws1_, kNow);
  const auto second = auth_->authenticate(credentials(alice_), ws1_, kNow + 1);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(auth_->validate(first->access_token, ws1_, kNow + 2));
  EXPECT_TRUE(auth_->validate(second->access_token, ws1_, kNow + 2));
  EXPECT_EQ(auth_->session_count(), 1u);
}

TEST_F(AuthTest, HttpTokensAreUnboundButCapped) {
  AuthOptions options;
  options.max_unbound_sessions = 3;
  make_authenticator(options);
  std::vector<std::string> tokens;
  for (int i = 0; i < 4; ++i) {
    tokens.push_back(auth_->authenticate(credentials(alice_), http_, kNow + i)->access_token);
  }
  EXPECT_TRUE(auth_->validate(tokens[3], ws1_, kNow + 10));    // usable from anywhere
  EXPECT_FALSE(auth_->validate(tokens[0], http_, kNow + 10));  // the oldest made room
  EXPECT_EQ(auth_->session_count(), 3u);
}

TEST_F(AuthTest, NamedSessions) {
  const auto grant = auth_->authenticate(credentials(alice_, "session:desk1"), ws1_, kNow);
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->scope, "session:desk1 mainaccount trade:read_write account:read_write");
  // Outlives its connection and works on others.
  auth_->connection_closed(1);
  EXPECT_TRUE(auth_->validate(grant->access_token, ws2_, kNow + 1));
  // The same name again replaces the session.
  const auto again = auth_->authenticate(credentials(alice_, "session:desk1"), ws2_, kNow + 2);
  ASSERT_TRUE(again);
  EXPECT_FALSE(auth_->validate(grant->access_token, ws2_, kNow + 3));
  EXPECT_TRUE(auth_->validate(again->access_token, ws2_, kNow + 3));
}

TEST_F(AuthTest, AtMostSixteenNamedSessionsPerAccount) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 17; ++i) {
    const auto grant =
        auth_->authenticate(credentials(alice_, "session:s" + std::to_string(i)), http_, kNow + i);
    ASSERT_TRUE(grant);
    tokens.push_back(grant->access_token);
  }
  EXPECT_EQ(auth_->session_count(), 16u);
  EXPECT_FALSE(auth_->validate(tokens[0], http_, kNow + 20));
  EXPECT_TRUE(auth_->validate(tokens[1], http_, kNow + 20));
  EXPECT_TRUE(auth_->validate(tokens[16], http_, kNow + 20));
}

TEST_F(AuthTest, ForkToken) {
  const auto base = auth_->authenticate(credentials(alice_, "session:main trade:read"), ws1_, kNow);
  ASSERT_TRUE(base);
  const auto forked = auth_->fork_token(base->refresh_token, "forked", ws2_, kNow + 1);
  ASSERT_TRUE(forked) << forked.error().reason;
  EXPECT_EQ(forked->scope, "session:forked mainaccount trade:read account:read_write");
  EXPECT_NE(forked->identity.session_id, base->identity.session_id);
  EXPECT_TRUE(auth_->validate(forked->access_token, ws2_, kNow + 2));
  EXPECT_TRUE(auth_->validate(base->access_token, ws1_, kNow + 2));  // the source stays

  const auto connection = auth_->authenticate(credentials(alice_), ws1_, kNow);
  EXPECT_EQ(code_of(auth_->fork_token(connection->refresh_token, "x", ws1_, kNow)),
            errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->fork_token("nonsense", "x", ws1_, kNow)), errors::unauthorized.code);
  EXPECT_EQ(code_of(auth_->fork_token(base->refresh_token, "", ws1_, kNow)),
            errors::invalid_params.code);
}

TEST_F(AuthTest, ForkTokenFailures) {
  const auto base = auth_->authenticate(credentials(alice_, "session:main"), http_, kNow);
  ASSERT_TRUE(base);
  EXPECT_EQ(code_of(auth_->fork_token(base->refresh_token, std::string(65, 'x'), http_, kNow)),
            errors::invalid_params.code);
  EXPECT_EQ(code_of(auth_->fork_token(base->refresh_token, "two words", http_, kNow)),
            errors::invalid_params.code);
  EXPECT_EQ(code_of(auth_->fork_token("", "x", http_, kNow)), errors::invalid_params.code);
  const std::int64_t after_refresh_expiry = kNow + 8 * 86'400'000LL;
  EXPECT_EQ(code_of(auth_->fork_token(base->refresh_token, "x", http_, after_refresh_expiry)),
            errors::unauthorized.code);
  ASSERT_TRUE(store_->revoke_key(alice_.client_id));
  EXPECT_EQ(code_of(auth_->fork_token(base->refresh_token, "x", http_, kNow + 1)),
            errors::unauthorized.code);
  // Guessing refresh tokens counts towards the address's lockout, which then refuses forks.
  for (int i = 0; i < 10; ++i) auth_->fork_token("guess" + std::to_string(i), "x", http_, kNow);
  EXPECT_EQ(code_of(auth_->fork_token("guess", "x", http_, kNow + 2)),
            errors::too_many_requests.code);
}

TEST_F(AuthTest, ExchangeToken) {
  const auto base =
      auth_->authenticate(credentials(alice_, "session:main trade:read"), http_, kNow);
  ASSERT_TRUE(base);
  auto exchange = [&](std::string_view refresh_token, std::int64_t subject,
                      std::string_view scope = {}, const Caller* caller = nullptr,
                      std::int64_t now = kNow + 1) {
    return auth_->exchange_token(refresh_token, subject, scope, caller ? *caller : http_, now);
  };
  // The session's own account: a new session with the source's rights, narrowed as asked.
  const auto named = exchange(base->refresh_token, alice_.account_id, "session:desk account:read");
  ASSERT_TRUE(named) << named.error().reason;
  EXPECT_EQ(named->scope, "session:desk mainaccount trade:read account:read");
  EXPECT_EQ(named->token_type, "bearer");
  EXPECT_EQ(named->expires_in, 900);
  EXPECT_EQ(named->identity.account_id, alice_.account_id);
  EXPECT_EQ(named->identity.method, AuthMethod::exchange_token);
  EXPECT_NE(named->identity.session_id, base->identity.session_id);
  EXPECT_TRUE(auth_->validate(named->access_token, ws2_, kNow + 2));
  EXPECT_TRUE(auth_->validate(base->access_token, ws2_, kNow + 2));  // the source stays
  // Without a scope: bound to the calling connection, like public/auth.
  const auto bound = exchange(base->refresh_token, alice_.account_id, {}, &ws1_);
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->scope, "connection mainaccount trade:read account:read_write");
  EXPECT_TRUE(auth_->validate(bound->access_token, ws1_, kNow + 2));
  EXPECT_EQ(code_of(auth_->validate(bound->access_token, ws2_, kNow + 2)),
            errors::unauthorized.code);

  // Another account, existing or not, is forbidden; rights are never widened.
  const ApiCredentials bob = store_->add_account("bob");
  EXPECT_EQ(code_of(exchange(base->refresh_token, bob.account_id)), errors::forbidden.code);
  EXPECT_EQ(code_of(exchange(base->refresh_token, 987'654)), errors::forbidden.code);
  EXPECT_EQ(code_of(exchange(base->refresh_token, alice_.account_id, "trade:read_write")),
            errors::scope_exceeded.code);
  EXPECT_EQ(code_of(exchange(base->refresh_token, alice_.account_id, "trade:everything")),
            errors::invalid_params.code);
  EXPECT_EQ(code_of(exchange("", alice_.account_id)), errors::invalid_params.code);
  EXPECT_EQ(code_of(exchange("nonsense", alice_.account_id)), errors::unauthorized.code);
  EXPECT_EQ(code_of(exchange(bob.client_secret, alice_.account_id)), errors::unauthorized.code);
  EXPECT_EQ(code_of(exchange(base->refresh_token, alice_.account_id, {}, nullptr,
                             kNow + 8 * 86'400'000LL)),
            errors::unauthorized.code);
  // A connection-bound source cannot be exchanged from another connection.
  const auto connection = auth_->authenticate(credentials(bob), ws1_, kNow);
  ASSERT_TRUE(connection);
  EXPECT_EQ(code_of(exchange(connection->refresh_token, bob.account_id, {}, &ws2_)),
            errors::unauthorized.code);
  EXPECT_TRUE(exchange(connection->refresh_token, bob.account_id, {}, &ws1_));
  ASSERT_TRUE(store_->revoke_key(alice_.client_id));
  EXPECT_EQ(code_of(exchange(base->refresh_token, alice_.account_id)), errors::unauthorized.code);
}

TEST_F(AuthTest, IpScope) {
  const auto grant = auth_->authenticate(credentials(alice_, "ip:10.0.0.2"), http_, kNow);
  ASSERT_TRUE(grant);
  EXPECT_TRUE(auth_->validate(grant->access_token, http_, kNow));
  Caller other{"10.9.9.9", 0, ""};
  EXPECT_EQ(code_of(auth_->validate(grant->access_token, other, kNow)), errors::unauthorized.code);
}

TEST_F(AuthTest, RepeatedFailuresLockOutTheIp) {
  AuthRequest wrong = credentials(alice_);
  wrong.client_secret = "wrong";
  Caller attacker{"203.0.113.5", 0, ""};
  const ApiCredentials bob = store_->add_account("bob");
  for (int i = 0; i < 10; ++i) {
    // Spread over keys, so that only the IP's count reaches the limit.
    AuthRequest guess = credentials(i % 2 ? alice_ : bob);
    guess.client_secret = "wrong";
    EXPECT_EQ(code_of(auth_->authenticate(guess, attacker, kNow + i)),
              errors::invalid_credentials.code);
  }
  // Locked out: even the right secret is refused from that IP, but not from others.
  const auto refused = auth_->authenticate(credentials(alice_), attacker, kNow + 20);
  EXPECT_EQ(code_of(refused), errors::too_many_requests.code);
  EXPECT_TRUE(auth_->authenticate(credentials(alice_), http_, kNow + 20));
  // After the lockout.
  EXPECT_TRUE(auth_->authenticate(credentials(alice_), attacker, kNow + 9 + 60'000));
}

TEST_F(AuthTest, RepeatedFailuresLockOutTheClientId) {
  for (int i = 0; i < 10; ++i) {
    AuthRequest guess = credentials(alice_);
    guess.client_secret = "wrong";
    const std::string ip = "198.51.100." + std::to_string(i);  // a new IP each time
    const Caller from{ip, 0, ""};
    EXPECT_EQ(code_of(auth_->authenticate(guess, from, kNow + i)),
              errors::invalid_credentials.code);
  }
  EXPECT_EQ(code_of(auth_->authenticate(credentials(alice_), http_, kNow + 20)),
            errors::too_many_requests.code);
  const ApiCredentials bob = store_->add_account("bob");
  EXPECT_TRUE(auth_->authenticate(credentials(bob), http_, kNow + 20));
}

TEST_F(AuthTest, SyntaxErrorsDoNotCountAsFailures) {
  AuthRequest incomplete = credentials(alice_);
  incomplete.client_secret = {};
  for (int i = 0; i < 20; ++i) auth_->authenticate(incomplete, http_, kNow + i);
  EXPECT_TRUE(auth_->authenticate(credentials(alice_), http_, kNow + 30));
}

TEST_F(AuthTest, NonceCacheIsBounded) {
  AuthOptions options;
  options.max_nonces_per_key = 3;
  make_authenticator(options);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(auth_->authenticate(signature(alice_, kNow, "n" + std::to_string(i)), ws1_, kNow));
  }
  const auto full = auth_->authenticate(signature(alice_, kNow, "n3"), ws1_, kNow);
  EXPECT_EQ(code_of(full), errors::too_many_requests.code);
  // Once the earlier ones are out of the window, room again.
  EXPECT_TRUE(auth_->authenticate(signature(alice_, kNow + 60'001, "n3"), ws1_, kNow + 60'001));
  EXPECT_EQ(
      code_of(auth_->authenticate(signature(alice_, kNow, std::string(129, 'n')), ws1_, kNow)),
      errors::invalid_credentials.code);
}

TEST_F(AuthTest, ExpiredSessionsAreSwept) {
  const auto grant = auth_->authenticate(credentials(alice_), http_, kNow);
  ASSERT_TRUE(grant);
  auth_->sweep(kNow + 900'000);
  EXPECT_EQ(auth_->session_count(), 1u);  // the refresh token is still valid
  auth_->sweep(kNow + auth_->options().refresh_token_lifetime_s * 1000);
  EXPECT_EQ(auth_->session_count(), 0u);
}

TEST_F(AuthTest, HttpStyleCredentialsIssueNoToken) {
  const auto basic =
      auth_->verify_client_secret(alice_.client_id, alice_.client_secret, http_, kNow);
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->session_id, 0u);
  EXPECT_EQ(basic->method, AuthMethod::http_basic);
  EXPECT_EQ(auth_->session_count(), 0u);
  EXPECT_EQ(code_of(auth_->verify_client_secret(alice_.client_id, "nope", http_, kNow)),
            errors::invalid_credentials.code);
}

TEST_F(AuthTest, CertificateAuthentication) {
  const std::string fingerprint(64, 'c');
  ASSERT_TRUE(store_->add_certificate("alice", fingerprint));
  const auto identity = auth_->authenticate_certificate(fingerprint, ws1_, kNow);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->account, "alice");
  EXPECT_EQ(identity->method, AuthMethod::certificate);
  EXPECT_TRUE(identity->scopes.allows(required_scope_for_method("private/buy")));
  EXPECT_EQ(code_of(auth_->authenticate_certificate(std::string(64, 'd'), ws1_, kNow)),
            errors::unauthorized.code);
}

TEST_F(AuthTest, AuditTrailWithoutSecrets) {
  AuditLogOptions log_options;
  log_options.directory = dir_ / "data";
  AuditLog log(log_options);
  make_authenticator({}, &log);
  const auto grant = auth_->authenticate(credentials(alice_), ws1_, kNow);
  ASSERT_TRUE(grant);
  AuthRequest wrong = credentials(alice_);
  wrong.client_secret = "wrong-secret-value";
  auth_->authenticate(wrong, ws1_, kNow);
  auth_->logout(grant->access_token, ws1_, kNow);

  const std::string text = gw::gateway::testing::read_file(log.path());
  EXPECT_NE(text.find(R"("event":"auth.success","account":"alice","client_id":")" +
                      alice_.client_id + R"(","ip":"10.0.0.1","request_id":"7")"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("event":"auth.failure")"), std::string::npos);
  EXPECT_NE(text.find(R"("reason":"invalid_credentials")"), std::string::npos);
  EXPECT_NE(text.find(R"("event":"auth.logout")"), std::string::npos);
  EXPECT_EQ(text.find(alice_.client_secret), std::string::npos);
  EXPECT_EQ(text.find("wrong-secret-value"), std::string::npos);
  EXPECT_EQ(text.find(grant->access_token), std::string::npos);
  EXPECT_EQ(text.find(grant->refresh_token), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

TEST_F(AuthTest, ConcurrentUse) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const Caller caller{"10.1.1.1", static_cast<std::uint64_t>(100 + t), ""};
        const std::int64_t now = kNow + i;
        const auto grant = auth_->authenticate(credentials(alice_), caller, now);
        if (!grant || !auth_->validate(grant->access_token, caller, now)) ++failures;
        const std::string refresh_token = grant ? grant->refresh_token : std::string();
        const auto refreshed = auth_->authenticate(refresh(refresh_token), caller, now);
        if (!refreshed || !auth_->logout(refreshed->access_token, caller, now)) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(auth_->session_count(), 0u);
}

TEST(GrantType, Names) {
  EXPECT_EQ(grant_type_named("client_credentials"), GrantType::client_credentials);
  EXPECT_EQ(grant_type_named("client_signature"), GrantType::client_signature);
  EXPECT_EQ(grant_type_named("refresh_token"), GrantType::refresh_token);
  EXPECT_FALSE(grant_type_named("password"));
}

}  // namespace
