// `greekwire keys`: accounts and API keys in the data directory's database, also while the
// server runs (SQLite in WAL mode; the server reads keys on every authentication).
//
//   greekwire keys add [--account NAME] [--scope S] [--balance CUR=AMOUNT]... [--json]
//   greekwire keys list [--json]
//   greekwire keys revoke CLIENT_ID
//   greekwire keys add-jwt-key --account NAME --kid ID --pem FILE
//   greekwire keys add-cert --account NAME (--fingerprint HEX | --cert FILE)
//
// Every subcommand takes --data-dir DIR (default ./greekwire-data). A secret is printed once,
// when its key is created. Exit codes: 0 success, 1 failure (unknown client_id or account,
// unreadable file, storage error), 2 usage.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "gateway/account_store.hpp"
#include "gateway/audit_log.hpp"
#include "gateway/jwt.hpp"
#include "gateway/scopes.hpp"

namespace gw::app {
namespace {

using gateway::AccountStore;
using gateway::ApiCredentials;
using gateway::InitialBalance;

struct KeysConfig {
  std::string command;  // add, list, revoke, add-jwt-key, add-cert
  std::string data_dir = "./greekwire-data";
  std::string account;
  std::string scope = std::string(gateway::kDefaultMaxScope);
  std::vector<std::string> balances;
  bool json = false;
  std::string client_id;
  std::string kid;
  std::string pem_file;
  std::string fingerprint;
  std::string cert_file;
};

// A failure with its exit code: 2 for usage, 1 for everything else.
struct KeysError {
  int code;
  std::string message;
};

[[noreturn]] void usage(std::string message) {
  throw KeysError{2, std::move(message)};
}
[[noreturn]] void failure(std::string message) {
  throw KeysError{1, std::move(message)};
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned char>(c));
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) failure("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<InitialBalance> parse_balances(const std::vector<std::string>& specs) {
  std::vector<InitialBalance> balances;
  for (const std::string& spec : specs) {
    const std::size_t equals = spec.find('=');
    if (equals == std::string::npos || equals == 0) {
      usage("--balance takes CURRENCY=AMOUNT, not '" + spec + "'");
    }
    const std::string amount_text = spec.substr(equals + 1);
    char* end = nullptr;
    errno = 0;
    const double amount = std::strtod(amount_text.c_str(), &end);
    if (amount_text.empty() || *end != '\0' || errno == ERANGE || !(amount >= 0)) {
      usage("--balance: not a non-negative amount: '" + amount_text + "'");
    }
    balances.push_back({spec.substr(0, equals), amount});
  }
  return balances;
}

std::unique_ptr<AccountStore> open_store(const KeysConfig& c,
                                         std::vector<InitialBalance> balances = {}) {
  gateway::StoreOptions options;
  options.data_dir = c.data_dir;
  options.create_demo_account = false;  // the server creates (and prints) the demo account
  if (!balances.empty()) options.initial_balances = std::move(balances);
  return AccountStore::open(options);
}

// Key changes go to the same audit log as the server's authentications. A log that cannot be
// opened is reported but does not undo the change.
void audit(const KeysConfig& c, std::string_view event, std::string_view account,
           std::string_view client_id,
           std::vector<std::pair<std::string_view, std::string_view>> details = {}) {
  try {
    gateway::AuditLogOptions options;
    options.directory = c.data_dir;
    gateway::AuditLog log(options);
    details.emplace_back("by", "greekwire keys");
    log.record_now({event, account, client_id, "local", {}, std::move(details)});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greekwire keys: warning: %s\n", e.what());
  }
}

int run_add(const KeysConfig& c) {
  const std::string account = c.account.empty() ? "demo" : c.account;
  if (!gateway::valid_account_name(account)) {
    usage("--account: 1-64 characters of A-Z a-z 0-9 _ . @ -, not '" + account + "'");
  }
  std::string scope_error;
  const auto scope = gateway::Scopes::parse(c.scope, &scope_error);
  if (!scope) usage("--scope: " + scope_error);
  if (!scope->levels_only()) usage("--scope: access levels only (no session:, expires: or ip:)");
  auto balances = parse_balances(c.balances);
  auto store = open_store(c, balances);
  const bool new_account = !store->find_account(account);
  if (!new_account && !balances.empty()) {
    usage("--balance applies to a new account; '" + account + "' exists");
  }
  std::optional<ApiCredentials> credentials;
  if (new_account) {
    credentials = store->add_account(account, c.scope);
    audit(c, "account.add", account, {});
  } else {
    credentials = store->add_key(account, c.scope);
    if (!credentials) failure("account '" + account + "' vanished");
  }
  audit(c, "key.add", account, credentials->client_id, {{"scope", c.scope}});
  if (c.json) {
    std::printf("{\"account\":%s,\"client_id\":%s,\"client_secret\":%s}\n",
                json_string(credentials->account).c_str(),
                json_string(credentials->client_id).c_str(),
                json_string(credentials->client_secret).c_str());
  } else {
    std::printf("account        %s%s\n", credentials->account.c_str(), new_account ? " (new)" : "");
    std::printf("client_id      %s\n", credentials->client_id.c_str());
    std::printf("client_secret  %s\n", credentials->client_secret.c_str());
    std::printf("scope          %s\n", c.scope.c_str());
    std::printf("(the secret is shown only now)\n");
  }
  return 0;
}

std::string balances_json(const std::vector<InitialBalance>& balances) {
  std::string out = "{";
  for (const InitialBalance& b : balances) {
    if (out.size() > 1) out += ',';
    char amount[64];
    std::snprintf(amount, sizeof amount, "%.17g", b.amount);
    out += json_string(b.currency) + ":" + amount;
  }
  return out + "}";
}

std::string strings_json(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ',';
    out += json_string(item);
  }
  return out + "]";
}

void print_list_json(const std::vector<gateway::AccountSummary>& accounts) {
  std::string out = "{\"accounts\":[";
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    const auto& a = accounts[i];
    if (i > 0) out += ',';
    out += "{\"account\":" + json_string(a.name) + ",\"id\":" + std::to_string(a.id) +
           ",\"created\":" + json_string(gateway::iso8601_utc(a.created_ms)) +
           ",\"initial_balances\":" + balances_json(a.initial_balances) + ",\"keys\":[";
    for (std::size_t k = 0; k < a.keys.size(); ++k) {
      const auto& key = a.keys[k];
      if (k > 0) out += ',';
      out += "{\"client_id\":" + json_string(key.client_id) +
             ",\"scope\":" + json_string(key.max_scope) +
             ",\"created\":" + json_string(gateway::iso8601_utc(key.created_ms)) +
             ",\"revoked\":" + (key.revoked ? "true" : "false") + "}";
    }
    out += "],\"jwt_keys\":" + strings_json(a.jwt_key_ids) +
           ",\"certificates\":" + strings_json(a.certificate_fingerprints) + "}";
  }
  out += "]}";
  std::printf("%s\n", out.c_str());
}

void print_list_text(const std::vector<gateway::AccountSummary>& accounts) {
  if (accounts.empty()) std::printf("no accounts\n");
  for (const auto& a : accounts) {
    std::printf("%s (created %s)", a.name.c_str(), gateway::iso8601_utc(a.created_ms).c_str());
    for (const auto& b : a.initial_balances) std::printf(" %s=%g", b.currency.c_str(), b.amount);
    std::printf("\n");
    for (const auto& key : a.keys) {
      std::printf("  %-12s %-8s %s  %s\n", key.client_id.c_str(),
                  key.revoked ? "revoked" : "active", gateway::iso8601_utc(key.created_ms).c_str(),
                  key.max_scope.c_str());
    }
    for (const auto& kid : a.jwt_key_ids) std::printf("  jwt key  %s\n", kid.c_str());
    for (const auto& fp : a.certificate_fingerprints) std::printf("  cert     %s\n", fp.c_str());
  }
}

int run_list(const KeysConfig& c) {
  const auto accounts = open_store(c)->list();
  if (c.json) {
    print_list_json(accounts);
  } else {
    print_list_text(accounts);
  }
  return 0;
}

int run_revoke(const KeysConfig& c) {
  auto store = open_store(c);
  if (!store->revoke_key(c.client_id)) {
    failure("no active key with client_id '" + c.client_id + "'");
  }
  audit(c, "key.revoke", {}, c.client_id);
  std::printf("revoked %s\n", c.client_id.c_str());
  return 0;
}

int run_add_jwt_key(const KeysConfig& c) {
  const std::string pem = read_file(c.pem_file);
  std::string error;
  const auto algorithm = gateway::jwt_algorithm_for_public_key(pem, &error);
  if (!algorithm) failure(c.pem_file + ": " + error);
  const std::string name(gateway::jwt_algorithm_name(*algorithm));
  auto store = open_store(c);
  if (!store->add_jwt_key(c.account, {c.kid, name, pem})) {
    failure("no account '" + c.account + "'");
  }
  audit(c, "jwt_key.add", c.account, {}, {{"kid", c.kid}, {"algorithm", name}});
  std::printf("added %s key '%s' to %s\n", name.c_str(), c.kid.c_str(), c.account.c_str());
  return 0;
}

int run_add_cert(const KeysConfig& c) {
  if (c.fingerprint.empty() == c.cert_file.empty()) {
    usage("add-cert takes exactly one of --fingerprint HEX and --cert FILE");
  }
  std::string fingerprint = c.fingerprint;
  if (!c.cert_file.empty()) {
    std::string error;
    const auto computed = gateway::certificate_fingerprint(read_file(c.cert_file), &error);
    if (!computed) failure(c.cert_file + ": " + error);
    fingerprint = *computed;
  }
  const auto normalized = gateway::normalize_fingerprint(fingerprint);
  if (!normalized)
    usage("--fingerprint: 64 hex digits (colons allowed), not '" + fingerprint + "'");
  auto store = open_store(c);
  if (!store->add_certificate(c.account, *normalized)) failure("no account '" + c.account + "'");
  audit(c, "certificate.add", c.account, {}, {{"fingerprint", *normalized}});
  std::printf("mapped %s to %s\n", normalized->c_str(), c.account.c_str());
  return 0;
}

int run(const KeysConfig& c) {
  try {
    if (c.command == "add") return run_add(c);
    if (c.command == "list") return run_list(c);
    if (c.command == "revoke") return run_revoke(c);
    if (c.command == "add-jwt-key") return run_add_jwt_key(c);
    return run_add_cert(c);
  } catch (const KeysError& e) {
    std::fprintf(stderr, "greekwire keys %s: %s\n", c.command.c_str(), e.message.c_str());
    return e.code;
  } catch (const gateway::StoreError& e) {
    std::fprintf(stderr, "greekwire keys %s: %s\n", c.command.c_str(), e.what());
    return 1;
  }
}

CLI::App* subcommand(CLI::App* keys, const std::string& name, const std::string& help,
                     const std::shared_ptr<KeysConfig>& config, CommandRunner& runner) {
  CLI::App* cmd = keys->add_subcommand(name, help);
  cmd->add_option("--data-dir", config->data_dir, "data directory (database, audit log)")
      ->capture_default_str();
  cmd->callback([config, name, &runner] {
    config->command = name;
    runner = [config] { return run(*config); };
  });
  return cmd;
}

}  // namespace

void add_keys_command(CLI::App& app, CommandRunner& runner) {
  auto config = std::make_shared<KeysConfig>();
  CLI::App* keys = app.add_subcommand("keys", "manage accounts, API keys, JWT keys, certificates");
  keys->require_subcommand(1);

  CLI::App* add =
      subcommand(keys, "add", "new API key (and the account if it is new)", config, runner);
  add->add_option("--account", config->account, "account name (default demo)");
  add->add_option("--scope", config->scope, "the key's maximum scope")->capture_default_str();
  add->add_option("--balance", config->balances,
                  "CURRENCY=AMOUNT deposited into a new account (default BTC=10 ETH=100)");
  add->add_flag("--json", config->json, R"(print {"account","client_id","client_secret"})");

  CLI::App* list =
      subcommand(keys, "list", "accounts and their keys (never secrets)", config, runner);
  list->add_flag("--json", config->json, "print one JSON object");

  CLI::App* revoke = subcommand(keys, "revoke", "revoke an API key", config, runner);
  revoke->add_option("client_id", config->client_id, "the key's client_id")->required();

  CLI::App* jwt =
      subcommand(keys, "add-jwt-key", "register an Ed25519 or P-256 public key for JWT handshakes",
                 config, runner);
  jwt->add_option("--account", config->account, "account name")->required();
  jwt->add_option("--kid", config->kid, "key id (the JWT header's kid)")->required();
  jwt->add_option("--pem", config->pem_file, "public key file (PEM)")->required();

  CLI::App* cert =
      subcommand(keys, "add-cert", "map a client certificate to an account", config, runner);
  cert->add_option("--account", config->account, "account name")->required();
  cert->add_option("--fingerprint", config->fingerprint, "SHA-256 fingerprint (64 hex digits)");
  cert->add_option("--cert", config->cert_file, "client certificate file (PEM)");
}

}  // namespace gw::app
