// Authentication for the gateway: Deribit's public/auth (client_credentials, client_signature,
// refresh_token), token validation for private requests, logout, fork_token, exchange_token, and
// the credentials that authenticate without a token (HTTP Basic and deri-hmac-sha256 per request,
// a JWT or a client certificate at the WebSocket handshake).
//
// Tokens. An access token and a refresh token per session, each 192 random bits (OpenSSL
// RAND_bytes) after the issue time, "1714564800123.<32 base64url chars>". Only their SHA-256
// is kept (in memory: a restart logs every client out), and looking a token up by its hash
// leaks nothing useful through timing. Lifetimes (AuthOptions): access 900 s by default, or
// what the client asks with expires:N up to 31,536,000 s (the figure Deribit's examples show);
// refresh 7 days. A refresh rotates both tokens; the old pair stops working at once.
//
// Sessions. `connection` scope (the default) binds the tokens to the WebSocket connection that
// authenticated: they are refused on any other connection ("connection scope can't be reused")
// and die with it (connection_closed()). Tokens issued over HTTP (connection_id 0) are not
// bound. `session:NAME` sessions outlive connections; the same name again replaces the old
// session; at most 16 per account (the oldest is dropped). A key revoked in the store (even by
// `greekwire keys revoke` in another process) ends its sessions within key_recheck_ms.
//
// Errors (Deribit's codes): 13004 invalid_credentials for an unknown client_id, a wrong secret
// or signature, a timestamp outside ±60 s, a nonce used before; 13009 unauthorized for a bad,
// expired, revoked or foreign-connection token or JWT; 13403 scope_exceeded when the requested
// scope is above the key's; 10028 too_many_requests while the IP or client_id is locked out
// after repeated failures (FailureLimits) or a key's nonce cache is full; -32602 for missing
// or malformed parameters.
//
// Thread-safe. `now_ms` is always Unix epoch milliseconds, passed in (testable; the same clock
// as client_signature timestamps).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "codec/errors.hpp"
#include "gateway/account_store.hpp"
#include "gateway/rate_limit.hpp"
#include "gateway/scopes.hpp"

namespace gw::gateway {

class AuditLog;

struct AuthError {
  codec::ErrorCode code{};
  std::string reason;  // for the error's data.reason, e.g. "invalid_signature"
  std::string param;   // for -32602: the parameter at fault
};

// A value or the Deribit error that replaced it.
template <class T>
class AuthResult {
 public:
  AuthResult(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  AuthResult(AuthError error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& operator*() const { return *value_; }
  T& operator*() { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }
  const AuthError& error() const { return error_; }

 private:
  std::optional<T> value_;
  AuthError error_;
};

enum class AuthMethod : std::uint8_t {
  client_credentials,
  client_signature,
  refresh_token,
  fork_token,
  exchange_token,
  access_token,  // a token presented with a request
  http_basic,
  http_signature,
  jwt,
  certificate,
};
std::string_view auth_method_name(AuthMethod method);

// Who is calling, with what rights: the result of every successful check.
struct Identity {
  AccountRowId account_id = 0;
  std::string account;
  std::string client_id;  // empty for JWT and certificate
  Scopes scopes;
  AuthMethod method = AuthMethod::access_token;
  std::uint64_t session_id = 0;    // 0 when no token was issued (HTTP per request, handshake)
  std::int64_t expires_at_ms = 0;  // the access token's expiry; 0 without a token
};

// public/auth's result, field for field.
struct TokenGrant {
  std::string access_token;
  std::string refresh_token;
  std::int64_t expires_in = 0;  // seconds
  std::string scope;            // e.g. "connection mainaccount trade:read_write account:read_write"
  std::string token_type = "bearer";
  Identity identity;
};

enum class GrantType : std::uint8_t { client_credentials, client_signature, refresh_token };
std::optional<GrantType> grant_type_named(std::string_view name);

// public/auth's params, as views into the request.
struct AuthRequest {
  GrantType grant_type = GrantType::client_credentials;
  std::string_view client_id;
  std::string_view client_secret;  // client_credentials
  std::int64_t timestamp_ms = 0;   // client_signature
  std::string_view signature;
  std::string_view nonce;
  std::string_view data;
  std::string_view refresh_token;  // refresh_token
  std::string_view scope;          // optional, any grant
};

struct Caller {
  std::string_view ip;
  std::uint64_t connection_id = 0;  // the WebSocket connection; 0 over HTTP (tokens unbound)
  std::string_view request_id;      // the JSON-RPC id as sent, for the audit log
};

struct AuthOptions {
  std::int64_t access_token_lifetime_s = 900;
  std::int64_t max_access_token_lifetime_s = 31'536'000;  // the cap of expires:N
  std::int64_t refresh_token_lifetime_s = 7 * 86'400;
  std::int64_t signature_window_ms = 60'000;  // client_signature / HMAC timestamps: ±60 s
  std::size_t max_named_sessions = 16;        // per account
  std::size_t max_unbound_sessions = 1'024;   // per account: connection scope over HTTP
  std::size_t max_nonces_per_key = 10'000;
  std::size_t max_nonce_length = 128;
  std::int64_t key_recheck_ms = 1'000;  // how soon a revoked key's sessions stop working
  std::int64_t sweep_interval_ms = 10'000;
  FailureLimits ip_failures{};
  FailureLimits client_id_failures{};
};

class Authenticator {
 public:
  explicit Authenticator(AccountStore& store, AuthOptions options = {}, AuditLog* audit = nullptr);
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // public/auth.
  AuthResult<TokenGrant> authenticate(const AuthRequest& request, const Caller& caller,
                                      std::int64_t now_ms);
  // public/fork_token: a new session named `session_name` with the rights of the (session-
  // scoped) session that `refresh_token` belongs to. The source session stays.
  AuthResult<TokenGrant> fork_token(std::string_view refresh_token, std::string_view session_name,
                                    const Caller& caller, std::int64_t now_ms);
  // public/exchange_token: a new session for the account `subject_id` with the rights of the
  // session that `refresh_token` belongs to, narrowed by `scope` (which also sets the new
  // session's binding: connection by default, or session:NAME). Deribit switches between a
  // main account and its subaccounts this way; there are no subaccounts here, so the subject
  // must be the session's own account: any other is 13021 forbidden (whether it exists or not).
  AuthResult<TokenGrant> exchange_token(std::string_view refresh_token, std::int64_t subject_id,
                                        std::string_view scope, const Caller& caller,
                                        std::int64_t now_ms);
  // An access token presented with a private request.
  AuthResult<Identity> validate(std::string_view access_token, const Caller& caller,
                                std::int64_t now_ms);
  // private/logout: ends the token's session (its access and refresh tokens). False if the
  // token was unknown.
  bool logout(std::string_view access_token, const Caller& caller, std::int64_t now_ms);
  // The same for a session known by its id (the one a connection authenticated with).
  bool logout_session(std::uint64_t session_id, const Caller& caller, std::int64_t now_ms);
  // Ends the sessions bound to a closed WebSocket connection.
  void connection_closed(std::uint64_t connection_id);
  // Ends every session of a key (the store's revoke_key is enough on its own; this is faster).
  std::size_t end_sessions_of(std::string_view client_id);

  // HTTP `Basic base64(client_id:client_secret)`, per request; no token is issued.
  AuthResult<Identity> verify_client_secret(std::string_view client_id,
                                            std::string_view client_secret, const Caller& caller,
                                            std::int64_t now_ms);
  // An HMAC-SHA256 signature over `timestamp\nnonce\n` + `signed_rest` (client_signature's
  // data, or HTTP's `METHOD\nURI\nBODY\n`), with the timestamp window and nonce rules.
  AuthResult<Identity> verify_signature(std::string_view client_id, std::int64_t timestamp_ms,
                                        std::string_view nonce, std::string_view signature,
                                        std::string_view signed_rest, const Caller& caller,
                                        std::int64_t now_ms, AuthMethod method);
  // At the handshake: `Authorization: Bearer <JWT>` and the client certificate.
  AuthResult<Identity> authenticate_jwt(std::string_view jwt, const Caller& caller,
                                        std::int64_t now_ms);
  AuthResult<Identity> authenticate_certificate(std::string_view sha256_fingerprint,
                                                const Caller& caller, std::int64_t now_ms);

  // Drops expired sessions and nonces (also done every sweep_interval_ms on its own).
  void sweep(std::int64_t now_ms);
  std::size_t session_count() const;
  std::size_t nonce_count() const;
  const AuthOptions& options() const { return options_; }

 private:
  struct Session {
    Identity identity;
    std::uint64_t connection_id = 0;
    std::string access_hash;
    std::string refresh_hash;
    std::int64_t access_expires_ms = 0;
    std::int64_t refresh_expires_ms = 0;
    std::int64_t key_checked_ms = 0;
  };

  AuthResult<TokenGrant> grant_for_key(const AuthRequest& request, const Caller& caller,
                                       std::int64_t now_ms, bool* key_found);
  AuthResult<TokenGrant> refresh(const AuthRequest& request, const Caller& caller,
                                 std::int64_t now_ms);
  // The identity of the live session that `refresh_token` belongs to (fork and exchange);
  // `named_only`: refuse connection-bound and unbound sessions.
  AuthResult<Identity> refresh_session(std::string_view refresh_token, bool named_only,
                                       const Caller& caller, std::int64_t now_ms);
  AuthResult<Identity> refreshable_identity(std::string_view refresh_token, bool named_only,
                                            AuthMethod method, const Caller& caller,
                                            std::int64_t now_ms);
  AuthResult<Identity> check_client_secret(std::string_view client_id, std::string_view secret,
                                           AuthMethod method, bool* key_found);
  AuthResult<Identity> check_signature(std::string_view client_id, std::int64_t timestamp_ms,
                                       std::string_view nonce, std::string_view signature,
                                       std::string_view signed_rest, AuthMethod method,
                                       std::int64_t now_ms, bool* key_found);
  std::optional<AuthError> use_nonce(const std::string& client_id, std::string_view nonce,
                                     std::int64_t timestamp_ms, std::int64_t now_ms);
  bool key_still_active(const std::string& client_id);

  TokenGrant issue(Identity identity, const Caller& caller, std::int64_t now_ms);
  void make_room_locked(const Identity& identity, std::uint64_t connection_id);
  std::optional<AuthError> check_binding_locked(const Session& session, const Caller& caller) const;
  Session* find_locked(const std::unordered_map<std::string, std::uint64_t>& index,
                       std::string_view token);
  void erase_session_locked(std::uint64_t id);
  void maybe_sweep_locked(std::int64_t now_ms);
  void sweep_locked(std::int64_t now_ms);
  std::int64_t access_lifetime_s(const Scopes& scopes) const;

  // Failure accounting and the audit trail around every credential check.
  std::optional<AuthError> refuse_if_locked_out(std::string_view client_id, const Caller& caller,
                                                std::int64_t now_ms) const;
  void note_failure(const AuthError& error, std::string_view client_id, bool key_found,
                    AuthMethod method, const Caller& caller, std::int64_t now_ms);
  void note_success(const Identity& identity, const Caller& caller, std::int64_t now_ms);
  void audit(std::string_view event, const Identity* identity, std::string_view client_id,
             AuthMethod method, std::string_view reason, const Caller& caller, std::int64_t now_ms);

  AccountStore& store_;
  AuthOptions options_;
  AuditLog* audit_;
  FailureLimiter ip_failures_;
  FailureLimiter client_id_failures_;

  mutable std::mutex mutex_;  // everything below
  std::uint64_t next_session_id_ = 1;
  std::int64_t last_sweep_ms_ = 0;
  std::unordered_map<std::uint64_t, Session> sessions_;
  std::unordered_map<std::string, std::uint64_t> by_access_;   // SHA-256 of the token → session
  std::unordered_map<std::string, std::uint64_t> by_refresh_;  // SHA-256 of the token → session
  std::unordered_map<std::uint64_t, std::uint64_t> by_connection_;  // connection → its session
  // Per account, oldest first (session ids grow): named and unbound sessions, for the caps.
  std::unordered_map<AccountRowId, std::set<std::uint64_t>> named_, unbound_;
  // Per client_id: nonce → the time after which its timestamp is out of the window anyway.
  std::unordered_map<std::string, std::unordered_map<std::string, std::int64_t>> nonces_;
};

}  // namespace gw::gateway
