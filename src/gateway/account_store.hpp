// Accounts, API keys, JWT public keys, client-certificate fingerprints and each account's
// initial (demo) balances, in one SQLite database in the data directory.
//
// The database is shared between the running server and `greekwire keys` (another process):
// WAL journal mode, so readers never block the writer, and a busy timeout, so that two writers
// wait for each other instead of failing. Every call reads the database, so a key revoked from
// the command line is refused by the server's next look-up.
//
// Files: DATA_DIR (created 0700 when missing) / greekwire.db (created 0600; its -wal and -shm
// files inherit that mode from SQLite). Client secrets are stored as they are, because verifying
// a client_signature needs the secret itself (HMAC), so the file's mode is what protects them.
//
// Thread-safe: one connection behind a mutex. Storage failures throw StoreError; "not found"
// is an empty optional or `false`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace gw::gateway {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using AccountRowId = std::int64_t;

struct InitialBalance {
  std::string currency;  // "BTC", "ETH", ...
  double amount = 0;
};

struct StoreOptions {
  std::filesystem::path data_dir = "greekwire-data";
  // Deposited into every new account when it is created.
  std::vector<InitialBalance> initial_balances = {{"BTC", 10.0}, {"ETH", 100.0}};
  // The server passes true: the first time a database is opened so, an account of this name
  // (with one key) is created and its credentials returned. `greekwire keys` passes false.
  bool create_demo_account = false;
  std::string demo_account = "demo";
  int busy_timeout_ms = 5000;
};

// What creating a key returns; the only time the secret leaves the store.
struct ApiCredentials {
  std::string account;
  AccountRowId account_id = 0;
  std::string client_id;
  std::string client_secret;
};

struct ApiKey {
  std::string client_id;
  std::string client_secret;
  AccountRowId account_id = 0;
  std::string account;
  std::string max_scope;  // a scope string, e.g. "account:read_write trade:read_write"
  std::int64_t created_ms = 0;
  bool revoked = false;
};

struct KeySummary {  // an ApiKey without its secret
  std::string client_id;
  std::string max_scope;
  std::int64_t created_ms = 0;
  bool revoked = false;
};

struct JwtPublicKey {
  std::string kid;
  std::string algorithm;  // "EdDSA" or "ES256"
  std::string public_key_pem;
};

struct AccountSummary {
  AccountRowId id = 0;
  std::string name;
  std::int64_t created_ms = 0;
  std::vector<KeySummary> keys;
  std::vector<InitialBalance> initial_balances;
  std::vector<std::string> jwt_key_ids;
  std::vector<std::string> certificate_fingerprints;
};

struct AccountRecord {
  AccountRowId id = 0;
  std::string name;
};

inline constexpr std::string_view kDefaultMaxScope = "account:read_write trade:read_write";
inline constexpr int kSchemaVersion = 1;

class AccountStore {
 public:
  // Opens (creating the directory, the database and its schema when missing) the store in
  // `options.data_dir`. When options.create_demo_account is set and no demo account was ever
  // created in this database, creates it and stores its credentials in `*created_demo`.
  static std::unique_ptr<AccountStore> open(const StoreOptions& options,
                                            std::optional<ApiCredentials>* created_demo = nullptr);
  static std::filesystem::path database_path(const std::filesystem::path& data_dir);

  ~AccountStore();
  AccountStore(const AccountStore&) = delete;
  AccountStore& operator=(const AccountStore&) = delete;

  // A new account with the initial balances and one key. Throws StoreError if the name is
  // taken or invalid (1-64 characters of [A-Za-z0-9_.@-]).
  ApiCredentials add_account(std::string_view name, std::string_view max_scope = kDefaultMaxScope);
  // A new key for an existing account; nullopt if there is no such account.
  std::optional<ApiCredentials> add_key(std::string_view account,
                                        std::string_view max_scope = kDefaultMaxScope);
  // Marks the key revoked (it stays listed); false if the client_id is unknown or already
  // revoked.
  bool revoke_key(std::string_view client_id);
  // An active key; revoked and unknown keys are both nullopt.
  std::optional<ApiKey> find_key(std::string_view client_id);

  std::optional<AccountRecord> find_account(std::string_view name);
  std::optional<AccountRecord> find_account(AccountRowId id);
  std::vector<AccountSummary> list();
  std::vector<InitialBalance> initial_balances(AccountRowId account);

  // Registers a public key (PEM) for JWTs whose header names `kid`; false if the account is
  // unknown. Throws StoreError if the account already has that kid.
  bool add_jwt_key(std::string_view account, const JwtPublicKey& key);
  std::vector<JwtPublicKey> find_jwt_keys(AccountRowId account);

  // Maps a client certificate's SHA-256 fingerprint (64 hex digits; stored lowercase) to the
  // account; false if the account is unknown. Throws StoreError for a malformed fingerprint or
  // one already mapped.
  bool add_certificate(std::string_view account, std::string_view fingerprint);
  std::optional<AccountRecord> account_for_fingerprint(std::string_view fingerprint);

  const StoreOptions& options() const { return options_; }

 private:
  AccountStore(StoreOptions options, sqlite3* db);
  void create_schema();
  std::optional<ApiCredentials> create_demo_account_once();
  AccountRowId insert_account(std::string_view name);
  ApiCredentials insert_key(AccountRowId account_id, std::string_view account,
                            std::string_view max_scope);
  std::optional<AccountRecord> account_by_name(std::string_view name);
  void exec(const char* sql);
  std::optional<std::string> meta(const char* key);

  StoreOptions options_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

// 1-64 characters of [A-Za-z0-9_.@-].
bool valid_account_name(std::string_view name);

// Lowercase hex of the SHA-256 of a PEM certificate's DER encoding; nullopt (and `error`) if
// `pem` holds no certificate. The same value TLS reports as PeerCertificate::sha256_fingerprint.
std::optional<std::string> certificate_fingerprint(std::string_view pem,
                                                   std::string* error = nullptr);
// Accepts 64 hex digits, optionally separated by colons (as `openssl x509 -fingerprint`
// prints them); returns them lowercase without colons.
std::optional<std::string> normalize_fingerprint(std::string_view text);

}  // namespace gw::gateway
