// AccountStore: files and their modes, schema version, the demo account, credentials' shape,
// keys (add, find, revoke, list without secrets), balances, JWT keys, certificate
// fingerprints, and a second process writing while the store is open (WAL).
#include "gateway/account_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "gateway/auth_crypto.hpp"
#include "gateway/auth_test_support.hpp"

namespace {

using namespace gw::gateway;
using gw::gateway::testing::file_mode;
using gw::gateway::testing::run;
using gw::gateway::testing::TempDir;

StoreOptions options_in(const TempDir& dir, bool demo = false) {
  StoreOptions options;
  options.data_dir = dir / "data";
  options.create_demo_account = demo;
  return options;
}

bool url_safe(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

TEST(AccountStore, CreatesPrivateDirectoryAndDatabase) {
  TempDir dir;
  auto store = AccountStore::open(options_in(dir));
  EXPECT_EQ(file_mode(dir / "data"), 0700u);
  EXPECT_EQ(file_mode(AccountStore::database_path(dir / "data")), 0600u);
  store->add_account("alice");  // forces a write: the WAL file appears
  const auto wal = AccountStore::database_path(dir / "data").string() + "-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_EQ(file_mode(wal), 0600u);
}

TEST(AccountStore, TightensADatabaseOthersCanRead) {
  TempDir dir;
  AccountStore::open(options_in(dir));
  const auto db = AccountStore::database_path(dir / "data");
  std::filesystem::permissions(db, std::filesystem::perms(0644));
  AccountStore::open(options_in(dir));
  EXPECT_EQ(file_mode(db), 0600u);
}

TEST(AccountStore, UsesWalJournal) {
  TempDir dir;
  AccountStore::open(options_in(dir));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(AccountStore::database_path(dir / "data").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(AccountStore, RefusesANewerSchema) {
  TempDir dir;
  AccountStore::open(options_in(dir));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(AccountStore::database_path(dir / "data").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THROW(AccountStore::open(options_in(dir)), StoreError);
}

TEST(AccountStore, DemoAccountOnFirstStartOnly) {
  TempDir dir;
  std::optional<ApiCredentials> demo;
  auto store = AccountStore::open(options_in(dir, true), &demo);
  ASSERT_TRUE(demo);
  EXPECT_EQ(demo->account, "demo");
  const auto key = store->find_key(demo->client_id);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->client_secret, demo->client_secret);
  EXPECT_EQ(key->account, "demo");
  store.reset();

  std::optional<ApiCredentials> again;
  store = AccountStore::open(options_in(dir, true), &again);
  EXPECT_FALSE(again);
  EXPECT_EQ(store->list().size(), 1u);
}

TEST(AccountStore, DemoAccountNotCreatedWhenNotAsked) {
  TempDir dir;
  std::optional<ApiCredentials> demo;
  auto store = AccountStore::open(options_in(dir, false), &demo);
  EXPECT_FALSE(demo);
  EXPECT_TRUE(store->list().empty());
}

TEST(AccountStore, DemoAccountMadeEarlierByKeysIsKept) {
  TempDir dir;
  auto store = AccountStore::open(options_in(dir));
  const ApiCredentials first = store->add_account("demo");
  store.reset();
  std::optional<ApiCredentials> demo;
  store = AccountStore::open(options_in(dir, true), &demo);
  EXPECT_FALSE(demo);
  ASSERT_EQ(store->list().size(), 1u);
  EXPECT_EQ(store->list()[0].keys.size(), 1u);
  EXPECT_TRUE(store->find_key(first.client_id));
}

TEST(AccountStore, CredentialsAreShortIdAndLongSecret) {
  TempDir dir;
  auto store = AccountStore::open(options_in(dir));
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    const ApiCredentials c = store->add_account("user" + std::to_string(i));
    EXPECT_EQ(c.client_id.size(), 10u);
    EXPECT_TRUE(url_safe(c.client_id)) << c.client_id;
    EXPECT_TRUE(url_safe(c.client_secret)) << c.client_secret;
    const auto raw = base64url_decode(c.client_secret);
    ASSERT_TRUE(raw);
    EXPECT_GE(raw->size() * 8, 128u);
    ids.insert(c.client_id);
  }
  EXPECT_EQ(ids.size(), 20u);
}

TEST(AccountStore, AccountsAndKeys) {
  TempDir dir;
  auto store = AccountStore::open(options_in(dir));
  const ApiCredentials alice = store->add_account("alice");
  EXPECT_EQ(alice.account, "alice");
  EXPECT_THROW(store->add_account("alice"), StoreError);
  EXPECT_THROW(store->add_account("bad name"), StoreError);
  EXPECT_THROW(store->add_account(""), StoreError);
  EXPECT_THROW(store->add_account("carol", "trade:superuser"), StoreError);
  EXPECT_THROW(store->add_account("carol", "trade:read ip:1.2.3.4"), StoreError);
  EXPECT_THROW(store->add_account("carol", "session:x trade:read"), StoreError);

  const auto second = store->add_key("alice", "account:read trade:read");
  ASSERT_TRUE(second);
  EXPECT_NE(second->client_id, alice.client_id);
  EXPECT_EQ(second->account_id, alice.account_id);
  EXPECT_FALSE(store->add_key("nobody"));

  const auto key = store->find_key(second->client_id);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->max_scope, "account:read trade:read");
  EXPECT_EQ(key->account_id, alice.account_id);
  EXPECT_FALSE(store->find_key("unknown123"));

  ASSERT_TRUE(store->find_account("alice"));
  EXPECT_EQ(store->find_account("alice")->id, alice.account_id);
  EXPECT_EQ(store->find_account(alice.account_id)->name, "alice");
  EXPECT_FALSE(store->find_account("bob"));
}

TEST(AccountStore, RevokedKeysAreNotFoundButListed) {
  TempDir dir;
  auto store = AccountStore::open(options_in(dir));
  const ApiCredentials alice = store->add_account("alice");
  EXPECT_TRUE(store->revoke_key(alice.client_id));
  EXPECT_FALSE(store->find_key(alice.client_id));
  EXPECT_FALSE(store->revoke_key(alice.client_id));  // already revoked
  EXPECT_FALSE(store->revoke_key("unknown123"));
  const auto accounts = store->list();
  ASSERT_EQ(accounts.size(), 1u);
  ASSERT_EQ(accounts[0].keys.size(), 1u);
  EXPECT_TRUE(accounts[0].keys[0].revoked);
  EXPECT_EQ(accounts[0].keys[0].client_id, alice.client_id);
}

TEST(AccountStore, InitialBalances) {
  TempDir dir;
  auto store = AccountStore::open(options_in(dir));
  const ApiCredentials alice = store->add_account("alice");
  const auto balances = store->initial_balances(alice.account_id);
  ASSERT_EQ(balances.size(), 2u);
  EXPECT_EQ(balances[0].currency, "BTC");
  EXPECT_EQ(balances[0].amount, 10.0);
  EXPECT_EQ(balances[1].currency, "ETH");
  EXPECT_EQ(balances[1].amount, 100.0);
  store.reset();

  StoreOptions rich = options_in(dir);
  rich.initial_balances = {{"BTC", 2.5}, {"USDC", 1e6}};
  store = AccountStore::open(rich);
  const ApiCredentials bob = store->add_account("bob");
  const auto bobs = store->initial_balances(bob.account_id);
  ASSERT_EQ(bobs.size(), 2u);
  EXPECT_EQ(bobs[0].amount, 2.5);
  EXPECT_EQ(bobs[1].currency, "USDC");
  EXPECT_EQ(store->list()[1].initial_balances.size(), 2u);
}

TEST(AccountStore, JwtKeys) {
  TempDir dir;
  run("openssl genpkey -algorithm ed25519 -out '" + (dir / "ed.pem").string() + "'");
  run("openssl pkey -in '" + (dir / "ed.pem").string() + "' -pubout -out '" +
      (dir / "ed.pub").string() + "'");
  const std::string pem = gw::gateway::testing::read_file(dir / "ed.pub");
  auto store = AccountStore::open(options_in(dir));
  const ApiCredentials alice = store->add_account("alice");
  EXPECT_TRUE(store->add_jwt_key("alice", {"k1", "EdDSA", pem}));
  EXPECT_FALSE(store->add_jwt_key("nobody", {"k1", "EdDSA", pem}));
  EXPECT_THROW(store->add_jwt_key("alice", {"k1", "EdDSA", pem}), StoreError);  // same kid
  EXPECT_THROW(store->add_jwt_key("alice", {"k2", "ES256", pem}), StoreError);  // wrong alg
  EXPECT_THROW(store->add_jwt_key("alice", {"k3", "EdDSA", "not a key"}), StoreError);
  const auto keys = store->find_jwt_keys(alice.account_id);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].kid, "k1");
  EXPECT_EQ(keys[0].algorithm, "EdDSA");
  EXPECT_EQ(keys[0].public_key_pem, pem);
  EXPECT_EQ(store->list()[0].jwt_key_ids, std::vector<std::string>{"k1"});
}

TEST(AccountStore, CertificateFingerprints) {
  TempDir dir;
  const auto key = (dir / "client.key").string();
  const auto cert = (dir / "client.pem").string();
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '" + key +
      "' -out '" + cert + "' -subj /CN=alice -days 1");
  // openssl prints "sha256 Fingerprint=AB:CD:..." (the label's case varies by version).
  const std::string printed = run("openssl x509 -in '" + cert + "' -noout -fingerprint -sha256");
  const std::string colon_hex =
      gw::gateway::testing::trim_newline(printed.substr(printed.find('=') + 1));
  const auto expected = normalize_fingerprint(colon_hex);
  ASSERT_TRUE(expected);
  EXPECT_EQ(certificate_fingerprint(gw::gateway::testing::read_file(cert)), *expected);
  EXPECT_FALSE(certificate_fingerprint("garbage"));

  auto store = AccountStore::open(options_in(dir));
  const ApiCredentials alice = store->add_account("alice");
  EXPECT_TRUE(store->add_certificate("alice", colon_hex));  // colons and capitals accepted
  EXPECT_FALSE(store->add_certificate("nobody", std::string(64, 'a')));
  EXPECT_THROW(store->add_certificate("alice", *expected), StoreError);  // already mapped
  EXPECT_THROW(store->add_certificate("alice", "abc"), StoreError);
  const auto found = store->account_for_fingerprint(*expected);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, alice.account_id);
  EXPECT_FALSE(store->account_for_fingerprint(std::string(64, 'b')));
  EXPECT_FALSE(store->account_for_fingerprint("not hex"));
  EXPECT_EQ(store->list()[0].certificate_fingerprints, std::vector<std::string>{*expected});
}

TEST(AccountStore, NormalizeFingerprint) {
  const std::string lower(64, 'a');
  EXPECT_EQ(normalize_fingerprint(std::string(64, 'A')), lower);
  EXPECT_FALSE(normalize_fingerprint(std::string(63, 'a')));
  EXPECT_FALSE(normalize_fingerprint(std::string(64, 'g')));
  std::string with_colons;
  for (int i = 0; i < 32; ++i) with_colons += (i ? ":" : "") + std::string("0F");
  EXPECT_EQ(normalize_fingerprint(with_colons)->substr(0, 4), "0f0f");
}

// Another process (as `greekwire keys add` while the server runs) writes while this store is
// open and writing too: WAL and the busy timeout let both finish, and each sees the other's
// keys.
TEST(AccountStore, SecondProcessWritesConcurrently) {
  TempDir dir;
  auto store = AccountStore::open(options_in(dir));
  constexpr int kEach = 25;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int status = 0;
    try {
      auto other = AccountStore::open(options_in(dir));
      for (int i = 0; i < kEach; ++i) other->add_account("child" + std::to_string(i));
    } catch (...) {
      status = 1;
    }
    ::_exit(status);
  }
  std::vector<ApiCredentials> mine;
  for (int i = 0; i < kEach; ++i) {
    mine.push_back(store->add_account("parent" + std::to_string(i)));
    store->find_key(mine.back().client_id);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const auto accounts = store->list();
  EXPECT_EQ(accounts.size(), 2u * kEach);
  for (const auto& a : accounts) {
    if (a.name.starts_with("child")) {
      ASSERT_EQ(a.keys.size(), 1u);
      EXPECT_TRUE(store->find_key(a.keys[0].client_id));
    }
  }
}

}  // namespace
