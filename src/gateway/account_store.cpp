#include "gateway/account_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "gateway/auth_crypto.hpp"
#include "gateway/jwt.hpp"
#include "gateway/scopes.hpp"

namespace gw::gateway {
namespace {

constexpr std::size_t kClientIdLength = 10;  // like Deribit's "fo7WAPRm4P": ~59 bits
constexpr std::size_t kSecretBytes = 32;     // 256 bits, 43 base64url characters
constexpr std::size_t kMaxAccountName = 64;
constexpr int kInsertAttempts = 8;  // client_id collisions are ~never; retry anyway

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
  client_id TEXT PRIMARY KEY,
  client_secret TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  max_scope TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  revoked_ms INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_by_account ON api_keys(account_id);
CREATE TABLE IF NOT EXISTS balances (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  currency TEXT NOT NULL,
  amount REAL NOT NULL,
  PRIMARY KEY (account_id, currency)
);
CREATE TABLE IF NOT EXISTS jwt_keys (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  kid TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  public_key_pem TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account_id, kid)
);
CREATE TABLE IF NOT EXISTS client_certificates (
  fingerprint TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  created_ms INTEGER NOT NULL
);
)sql";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw StoreError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// One prepared statement; binds by position (1-based) and steps row by row.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail(db, "prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, double value) {
    check(sqlite3_bind_double(stmt_, index, value));
    return *this;
  }
  // True while there is a row; false when done. Throws on errors.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, "step");
  }
  // For inserts that may hit a UNIQUE constraint: SQLITE_DONE, SQLITE_CONSTRAINT, or throws.
  int step_insert() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_DONE || (rc & 0xFF) == SQLITE_CONSTRAINT) return rc & 0xFF;
    fail(db_, "insert");
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    return data ? std::string(reinterpret_cast<const char*>(data),
                              static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                : std::string();
  }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so that a
// read-then-write sequence cannot deadlock against another process's writer.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { run("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    run("COMMIT");
    committed_ = true;
  }

 private:
  void run(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db_, sql);
  }
  sqlite3* db_;
  bool committed_ = false;
};

// A key's maximum scope holds access levels only: binding, lifetime and IP are chosen per token
// (a key-wide ip: here would be silently overridable, so it is refused rather than half-kept).
void check_scope(std::string_view max_scope) {
  std::string error;
  const auto scopes = Scopes::parse(max_scope, &error);
  if (!scopes) throw StoreError("invalid scope: " + error);
  if (!scopes->levels_only()) {
    throw StoreError("a key's scope holds access levels only (no session:, expires: or ip:)");
  }
}

// Creates the directory 0700 if it is missing (an existing directory keeps its mode: it may be
// the user's own), then the database file 0600 if it is missing, and tightens an existing
// database file that others could read.
void prepare_files(const std::filesystem::path& dir, const std::filesystem::path& db) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    if (dir.has_parent_path() && !dir.parent_path().empty()) {
      std::filesystem::create_directories(dir.parent_path(), ec);
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      throw StoreError("cannot create " + dir.string() + ": " + std::strerror(errno));
    }
  }
  const int fd = ::open(db.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw StoreError("cannot open " + db.string() + ": " + std::strerror(errno));
  struct stat info {};
  const bool too_open = ::fstat(fd, &info) == 0 && (info.st_mode & 077) != 0;
  if (too_open && ::fchmod(fd, 0600) != 0) {
    ::close(fd);
    throw StoreError("cannot chmod 0600 " + db.string() + ": " + std::strerror(errno));
  }
  ::close(fd);
}

std::string credential_secret() {
  return base64url_encode(random_bytes(kSecretBytes));
}

}  // namespace

std::filesystem::path AccountStore::database_path(const std::filesystem::path& data_dir) {
  return data_dir / "greekwire.db";
}

std::unique_ptr<AccountStore> AccountStore::open(const StoreOptions& options,
                                                 std::optional<ApiCredentials>* created_demo) {
  const std::filesystem::path path = database_path(options.data_dir);
  prepare_files(options.data_dir, path);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw StoreError("cannot open " + path.string() + ": " + message);
  }
  std::unique_ptr<AccountStore> store(new AccountStore(options, db));
  store->create_schema();
  if (options.create_demo_account) {
    auto demo = store->create_demo_account_once();
    if (created_demo) *created_demo = std::move(demo);
  }
  return store;
}

AccountStore::AccountStore(StoreOptions options, sqlite3* db)
    : options_(std::move(options)), db_(db) {
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
  sqlite3_extended_result_codes(db_, 1);
}

AccountStore::~AccountStore() {
  sqlite3_close(db_);
}

void AccountStore::exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db_, sql);
}

void AccountStore::create_schema() {
  std::lock_guard lock(mutex_);
  // WAL persists in the file: after the first open this is a no-op.
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA foreign_keys=ON");
  exec("PRAGMA synchronous=NORMAL");
  Transaction transaction(db_);
  exec(kSchema);
  const auto version = meta("schema_version");
  if (!version) {
    Statement insert(db_, "INSERT INTO meta(key, value) VALUES('schema_version', ?)");
    insert.bind(1, std::to_string(kSchemaVersion)).step();
  } else if (std::atoi(version->c_str()) > kSchemaVersion) {
    // Future versions will migrate older schemas here; a newer one we must not touch.
    throw StoreError("the database schema (version " + *version +
                     ") is newer than this greekwire understands (" +
                     std::to_string(kSchemaVersion) + ")");
  }
  transaction.commit();
}

std::optional<ApiCredentials> AccountStore::create_demo_account_once() {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (meta("demo_account_created")) return std::nullopt;
  Statement mark(db_, "INSERT INTO meta(key, value) VALUES('demo_account_created', ?)");
  mark.bind(1, options_.demo_account).step();
  std::optional<ApiCredentials> credentials;
  // An account of that name made earlier with `greekwire keys` already has its keys.
  if (!account_by_name(options_.demo_account)) {
    const AccountRowId id = insert_account(options_.demo_account);
    credentials = insert_key(id, options_.demo_account, kDefaultMaxScope);
  }
  transaction.commit();
  return credentials;
}

std::optional<std::string> AccountStore::meta(const char* key) {
  Statement select(db_, "SELECT value FROM meta WHERE key = ?");
  if (!select.bind(1, std::string_view(key)).step()) return std::nullopt;
  return select.text(0);
}

AccountRowId AccountStore::insert_account(std::string_view name) {
  if (!valid_account_name(name)) {
    throw StoreError("invalid account name '" + std::string(name) +
                     "': 1-64 characters of A-Z a-z 0-9 _ . @ -");
  }
  Statement insert(db_, "INSERT INTO accounts(name, created_ms) VALUES(?, ?)");
  if (insert.bind(1, name).bind(2, now_ms()).step_insert() == SQLITE_CONSTRAINT) {
    throw StoreError("account '" + std::string(name) + "' already exists");
  }
  const AccountRowId id = sqlite3_last_insert_rowid(db_);
  Statement balance(db_, "INSERT INTO balances(account_id, currency, amount) VALUES(?, ?, ?)");
  for (const InitialBalance& b : options_.initial_balances) {
    balance.bind(1, id).bind(2, b.currency).bind(3, b.amount).step();
    balance.reset();
  }
  return id;
}

ApiCredentials AccountStore::insert_key(AccountRowId account_id, std::string_view account,
                                        std::string_view max_scope) {
  check_scope(max_scope);
  Statement insert(db_,
                   "INSERT INTO api_keys(client_id, client_secret, account_id, max_scope, "
                   "created_ms) VALUES(?, ?, ?, ?, ?)");
  for (int attempt = 0; attempt < kInsertAttempts; ++attempt) {
    ApiCredentials credentials{std::string(account), account_id,
                               random_alphanumeric(kClientIdLength), credential_secret()};
    insert.bind(1, credentials.client_id)
        .bind(2, credentials.client_secret)
        .bind(3, account_id)
        .bind(4, max_scope)
        .bind(5, now_ms());
    if (insert.step_insert() == SQLITE_DONE) return credentials;
    insert.reset();
  }
  throw StoreError("could not generate a unique client_id");
}

std::optional<AccountRecord> AccountStore::account_by_name(std::string_view name) {
  Statement select(db_, "SELECT id, name FROM accounts WHERE name = ?");
  if (!select.bind(1, name).step()) return std::nullopt;
  return AccountRecord{select.int64(0), select.text(1)};
}

ApiCredentials AccountStore::add_account(std::string_view name, std::string_view max_scope) {
  std::lock_guard lock(mutex_);
  check_scope(max_scope);
  Transaction transaction(db_);
  const AccountRowId id = insert_account(name);
  ApiCredentials credentials = insert_key(id, name, max_scope);
  transaction.commit();
  return credentials;
}

std::optional<ApiCredentials> AccountStore::add_key(std::string_view account,
                                                    std::string_view max_scope) {
  std::lock_guard lock(mutex_);
  check_scope(max_scope);
  Transaction transaction(db_);
  const auto record = account_by_name(account);
  if (!record) return std::nullopt;
  ApiCredentials credentials = insert_key(record->id, record->name, max_scope);
  transaction.commit();
  return credentials;
}

bool AccountStore::revoke_key(std::string_view client_id) {
  std::lock_guard lock(mutex_);
  Statement update(db_,
                   "UPDATE api_keys SET revoked = 1, revoked_ms = ? "
                   "WHERE client_id = ? AND revoked = 0");
  update.bind(1, now_ms()).bind(2, client_id).step();
  return sqlite3_changes(db_) > 0;
}

std::optional<ApiKey> AccountStore::find_key(std::string_view client_id) {
  std::lock_guard lock(mutex_);
  Statement select(db_,
                   "SELECT k.client_id, k.client_secret, k.account_id, a.name, k.max_scope, "
                   "k.created_ms FROM api_keys k JOIN accounts a ON a.id = k.account_id "
                   "WHERE k.client_id = ? AND k.revoked = 0");
  if (!select.bind(1, client_id).step()) return std::nullopt;
  return ApiKey{select.text(0),  select.text(1), select.int64(2), select.text(3), select.text(4),
                select.int64(5), false};
}

std::optional<AccountRecord> AccountStore::find_account(std::string_view name) {
  std::lock_guard lock(mutex_);
  return account_by_name(name);
}

std::optional<AccountRecord> AccountStore::find_account(AccountRowId id) {
  std::lock_guard lock(mutex_);
  Statement select(db_, "SELECT id, name FROM accounts WHERE id = ?");
  if (!select.bind(1, id).step()) return std::nullopt;
  return AccountRecord{select.int64(0), select.text(1)};
}

std::vector<InitialBalance> AccountStore::initial_balances(AccountRowId account) {
  std::lock_guard lock(mutex_);
  std::vector<InitialBalance> balances;
  Statement select(db_,
                   "SELECT currency, amount FROM balances WHERE account_id = ? ORDER BY currency");
  select.bind(1, account);
  while (select.step()) balances.push_back({select.text(0), select.real(1)});
  return balances;
}

std::vector<AccountSummary> AccountStore::list() {
  std::lock_guard lock(mutex_);
  std::vector<AccountSummary> accounts;
  Statement select(db_, "SELECT id, name, created_ms FROM accounts ORDER BY id");
  while (select.step()) {
    accounts.push_back({select.int64(0), select.text(1), select.int64(2), {}, {}, {}, {}});
  }
  Statement keys(db_,
                 "SELECT client_id, max_scope, created_ms, revoked FROM api_keys "
                 "WHERE account_id = ? ORDER BY created_ms, client_id");
  Statement balances(db_,
                     "SELECT currency, amount FROM balances WHERE account_id = ? "
                     "ORDER BY currency");
  Statement jwt(db_, "SELECT kid FROM jwt_keys WHERE account_id = ? ORDER BY kid");
  Statement certs(db_,
                  "SELECT fingerprint FROM client_certificates WHERE account_id = ? "
                  "ORDER BY fingerprint");
  for (AccountSummary& account : accounts) {
    keys.bind(1, account.id);
    while (keys.step()) {
      account.keys.push_back({keys.text(0), keys.text(1), keys.int64(2), keys.int64(3) != 0});
    }
    balances.bind(1, account.id);
    while (balances.step())
      account.initial_balances.push_back({balances.text(0), balances.real(1)});
    jwt.bind(1, account.id);
    while (jwt.step()) account.jwt_key_ids.push_back(jwt.text(0));
    certs.bind(1, account.id);
    while (certs.step()) account.certificate_fingerprints.push_back(certs.text(0));
    keys.reset();
    balances.reset();
    jwt.reset();
    certs.reset();
  }
  return accounts;
}

bool AccountStore::add_jwt_key(std::string_view account, const JwtPublicKey& key) {
  std::string error;
  const auto detected = jwt_algorithm_for_public_key(key.public_key_pem, &error);
  if (!detected) throw StoreError(error);
  if (jwt_algorithm_named(key.algorithm) != detected) {
    throw StoreError("the key is for " + std::string(jwt_algorithm_name(*detected)) + ", not " +
                     key.algorithm);
  }
  if (key.kid.empty() || key.kid.size() > 256) throw StoreError("kid must be 1-256 characters");
  std::lock_guard lock(mutex_);
  const auto record = account_by_name(account);
  if (!record) return false;
  Statement insert(db_,
                   "INSERT INTO jwt_keys(account_id, kid, algorithm, public_key_pem, created_ms) "
                   "VALUES(?, ?, ?, ?, ?)");
  insert.bind(1, record->id).bind(2, key.kid).bind(3, key.algorithm);
  insert.bind(4, key.public_key_pem).bind(5, now_ms());
  if (insert.step_insert() == SQLITE_CONSTRAINT) {
    throw StoreError("account '" + record->name + "' already has a key with kid '" + key.kid + "'");
  }
  return true;
}

std::vector<JwtPublicKey> AccountStore::find_jwt_keys(AccountRowId account) {
  std::lock_guard lock(mutex_);
  std::vector<JwtPublicKey> keys;
  Statement select(db_,
                   "SELECT kid, algorithm, public_key_pem FROM jwt_keys WHERE account_id = ? "
                   "ORDER BY kid");
  select.bind(1, account);
  while (select.step()) keys.push_back({select.text(0), select.text(1), select.text(2)});
  return keys;
}

bool AccountStore::add_certificate(std::string_view account, std::string_view fingerprint) {
  const auto normalized = normalize_fingerprint(fingerprint);
  if (!normalized) throw StoreError("a SHA-256 fingerprint is 64 hex digits");
  std::lock_guard lock(mutex_);
  const auto record = account_by_name(account);
  if (!record) return false;
  Statement insert(db_,
                   "INSERT INTO client_certificates(fingerprint, account_id, created_ms) "
                   "VALUES(?, ?, ?)");
  if (insert.bind(1, *normalized).bind(2, record->id).bind(3, now_ms()).step_insert() ==
      SQLITE_CONSTRAINT) {
    throw StoreError("fingerprint " + *normalized + " is already mapped to an account");
  }
  return true;
}

std::optional<AccountRecord> AccountStore::account_for_fingerprint(std::string_view fingerprint) {
  const auto normalized = normalize_fingerprint(fingerprint);
  if (!normalized) return std::nullopt;
  std::lock_guard lock(mutex_);
  Statement select(db_,
                   "SELECT a.id, a.name FROM client_certificates c "
                   "JOIN accounts a ON a.id = c.account_id WHERE c.fingerprint = ?");
  if (!select.bind(1, *normalized).step()) return std::nullopt;
  return AccountRecord{select.int64(0), select.text(1)};
}

bool valid_account_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxAccountName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '@' || c == '-';
  });
}

std::optional<std::string> normalize_fingerprint(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == ':') continue;
    if (c >= '0' && c <= '9') {
      out.push_back(c);
    } else if (c >= 'a' && c <= 'f') {
      out.push_back(c);
    } else if (c >= 'A' && c <= 'F') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      return std::nullopt;
    }
  }
  if (out.size() != 64) return std::nullopt;
  return out;
}

std::optional<std::string> certificate_fingerprint(std::string_view pem, std::string* error) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* certificate = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!certificate) {
    if (error) *error = "not a PEM certificate (expected -----BEGIN CERTIFICATE-----)";
    return std::nullopt;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const bool ok = X509_digest(certificate, EVP_sha256(), digest, &size) == 1;
  X509_free(certificate);
  if (!ok) {
    if (error) *error = "cannot hash the certificate";
    return std::nullopt;
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), size));
}

}  // namespace gw::gateway
