#include "gateway/auth.hpp"

#include <algorithm>
#include <vector>

#include "gateway/audit_log.hpp"
#include "gateway/auth_crypto.hpp"
#include "gateway/jwt.hpp"

namespace gw::gateway {
namespace {

constexpr std::size_t kTokenRandomBytes = 24;  // 192 bits
constexpr std::size_t kMaxSessionName = 64;

AuthError invalid_credentials(std::string reason) {
  return {codec::errors::invalid_credentials, std::move(reason), {}};
}
AuthError unauthorized(std::string reason) {
  return {codec::errors::unauthorized, std::move(reason), {}};
}
AuthError invalid_param(std::string param, std::string reason) {
  return {codec::errors::invalid_params, std::move(reason), std::move(param)};
}
AuthError scope_exceeded() {
  return {codec::errors::scope_exceeded, "scope_exceeded", {}};
}
AuthError too_many_requests(std::string reason) {
  return {codec::errors::too_many_requests, std::move(reason), {}};
}

// Failures that count towards an IP's or key's lockout: wrong credentials, not bad syntax.
bool is_credential_failure(const AuthError& error) {
  return error.code.code == codec::errors::invalid_credentials.code ||
         error.code.code == codec::errors::unauthorized.code;
}

std::string new_token(std::int64_t now_ms) {
  return std::to_string(now_ms) + "." + base64url_encode(random_bytes(kTokenRandomBytes));
}

std::string token_hash(std::string_view token) {
  const Sha256Digest digest = sha256(token);
  return std::string(digest.begin(), digest.end());
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return out;
}

bool valid_session_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxSessionName &&
         std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7F; });
}

Identity identity_for_key(const ApiKey& key, AuthMethod method) {
  Identity identity;
  identity.account_id = key.account_id;
  identity.account = key.account;
  identity.client_id = key.client_id;
  // A scope the store accepted always parses; should it not, the key grants nothing.
  identity.scopes = Scopes::parse(key.max_scope).value_or(Scopes{});
  identity.method = method;
  return identity;
}

AuthMethod method_for(GrantType grant) {
  switch (grant) {
    case GrantType::client_signature:
      return AuthMethod::client_signature;
    case GrantType::refresh_token:
      return AuthMethod::refresh_token;
    case GrantType::client_credentials:
      break;
  }
  return AuthMethod::client_credentials;
}

}  // namespace

std::string_view auth_method_name(AuthMethod method) {
  switch (method) {
    case AuthMethod::client_credentials:
      return "client_credentials";
    case AuthMethod::client_signature:
      return "client_signature";
    case AuthMethod::refresh_token:
      return "refresh_token";
    case AuthMethod::fork_token:
      return "fork_token";
    case AuthMethod::exchange_token:
      return "exchange_token";
    case AuthMethod::access_token:
      return "access_token";
    case AuthMethod::http_basic:
      return "http_basic";
    case AuthMethod::http_signature:
      return "http_signature";
    case AuthMethod::jwt:
      return "jwt";
    case AuthMethod::certificate:
      return "certificate";
  }
  return "unknown";
}

std::optional<GrantType> grant_type_named(std::string_view name) {
  if (name == "client_credentials") return GrantType::client_credentials;
  if (name == "client_signature") return GrantType::client_signature;
  if (name == "refresh_token") return GrantType::refresh_token;
  return std::nullopt;
}

Authenticator::Authenticator(AccountStore& store, AuthOptions options, AuditLog* audit)
    : store_(store),
      options_(std::move(options)),
      audit_(audit),
      ip_failures_(options_.ip_failures),
      client_id_failures_(options_.client_id_failures) {}

// ---- public/auth -------------------------------------------------------------------------

AuthResult<TokenGrant> Authenticator::authenticate(const AuthRequest& request, const Caller& caller,
                                                   std::int64_t now_ms) {
  const AuthMethod method = method_for(request.grant_type);
  if (auto refused = refuse_if_locked_out(request.client_id, caller, now_ms)) {
    audit("auth.failure", nullptr, request.client_id, method, refused->reason, caller, now_ms);
    return *refused;
  }
  bool key_found = false;
  AuthResult<TokenGrant> result = request.grant_type == GrantType::refresh_token
                                      ? refresh(request, caller, now_ms)
                                      : grant_for_key(request, caller, now_ms, &key_found);
  if (result) {
    note_success(result->identity, caller, now_ms);
  } else {
    note_failure(result.error(), request.client_id, key_found, method, caller, now_ms);
  }
  return result;
}

AuthResult<TokenGrant> Authenticator::grant_for_key(const AuthRequest& request,
                                                    const Caller& caller, std::int64_t now_ms,
                                                    bool* key_found) {
  if (request.client_id.empty()) return invalid_param("client_id", "client_id is required");
  std::string scope_error;
  const auto requested = Scopes::parse(request.scope, &scope_error);
  if (!requested) return invalid_param("scope", scope_error);

  AuthResult<Identity> checked = invalid_credentials("invalid_credentials");
  if (request.grant_type == GrantType::client_credentials) {
    if (request.client_secret.empty()) {
      return invalid_param("client_secret", "client_secret is required");
    }
    checked = check_client_secret(request.client_id, request.client_secret,
                                  AuthMethod::client_credentials, key_found);
  } else {
    if (request.signature.empty()) return invalid_param("signature", "signature is required");
    if (request.nonce.empty()) return invalid_param("nonce", "nonce is required");
    if (request.timestamp_ms == 0) return invalid_param("timestamp", "timestamp is required");
    checked =
        check_signature(request.client_id, request.timestamp_ms, request.nonce, request.signature,
                        request.data, AuthMethod::client_signature, now_ms, key_found);
  }
  if (!checked) return checked.error();

  Identity identity = std::move(*checked);
  auto granted = identity.scopes.narrow(*requested);
  if (!granted) return scope_exceeded();
  identity.scopes = std::move(*granted);
  return issue(std::move(identity), caller, now_ms);
}

AuthResult<TokenGrant> Authenticator::refresh(const AuthRequest& request, const Caller& caller,
                                              std::int64_t now_ms) {
  if (request.refresh_token.empty()) {
    return invalid_param("refresh_token", "refresh_token is required");
  }
  std::string scope_error;
  const auto requested = Scopes::parse(request.scope, &scope_error);
  if (!requested) return invalid_param("scope", scope_error);

  Identity identity;
  std::uint64_t session_id = 0;
  std::string old_refresh_hash;
  {
    std::lock_guard lock(mutex_);
    Session* session = find_locked(by_refresh_, request.refresh_token);
    if (!session) return unauthorized("invalid_token");
    if (session->refresh_expires_ms <= now_ms) return unauthorized("token_expired");
    if (auto error = check_binding_locked(*session, caller)) return *error;
    identity = session->identity;
    session_id = identity.session_id;
    old_refresh_hash = session->refresh_hash;
  }
  if (!identity.client_id.empty() && !key_still_active(identity.client_id)) {
    std::lock_guard lock(mutex_);
    erase_session_locked(session_id);
    return unauthorized("key_revoked");
  }
  // Only the access levels may be narrowed; the session keeps its binding, name and IP.
  Scopes narrowed_request = *requested;
  narrowed_request.binding = identity.scopes.binding;
  narrowed_request.session_name = identity.scopes.session_name;
  if (!narrowed_request.expires_s) narrowed_request.expires_s = identity.scopes.expires_s;
  auto granted = identity.scopes.narrow(narrowed_request);
  if (!granted) return scope_exceeded();

  const std::string access = new_token(now_ms);
  const std::string refresh_token = new_token(now_ms);
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(session_id);
  // Another refresh with the same token won the race: that token is spent.
  if (it == sessions_.end() || it->second.refresh_hash != old_refresh_hash) {
    return unauthorized("invalid_token");
  }
  Session& session = it->second;
  by_access_.erase(session.access_hash);
  by_refresh_.erase(session.refresh_hash);
  session.identity.scopes = std::move(*granted);
  session.identity.method = AuthMethod::refresh_token;
  const std::int64_t lifetime_s = access_lifetime_s(session.identity.scopes);
  session.access_hash = token_hash(access);
  session.refresh_hash = token_hash(refresh_token);
  session.access_expires_ms = now_ms + lifetime_s * 1000;
  session.refresh_expires_ms =
      now_ms + std::max(options_.refresh_token_lifetime_s, lifetime_s) * 1000;
  session.identity.expires_at_ms = session.access_expires_ms;
  session.key_checked_ms = now_ms;
  by_access_[session.access_hash] = session_id;
  by_refresh_[session.refresh_hash] = session_id;
  return TokenGrant{access,   refresh_token,   lifetime_s, session.identity.scopes.to_string(),
                    "bearer", session.identity};
}

AuthResult<Identity> Authenticator::refresh_session(std::string_view refresh_token, bool named_only,
                                                    const Caller& caller, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  const Session* session = find_locked(by_refresh_, refresh_token);
  if (!session) return unauthorized("invalid_token");
  if (session->refresh_expires_ms <= now_ms) return unauthorized("token_expired");
  if (auto error = check_binding_locked(*session, caller)) return *error;
  // Deribit: fork_token works with session-scoped tokens only.
  if (named_only && session->identity.scopes.binding != ScopeBinding::session) {
    return unauthorized("not_a_session_token");
  }
  return session->identity;
}

// What fork_token and exchange_token start from: the identity of the live session that
// `refresh_token` belongs to, while its API key (if any) is still active. A refusal is audited,
// and counted towards a lockout when it is a credential failure.
AuthResult<Identity> Authenticator::refreshable_identity(std::string_view refresh_token,
                                                         bool named_only, AuthMethod method,
                                                         const Caller& caller,
                                                         std::int64_t now_ms) {
  if (auto refused = refuse_if_locked_out({}, caller, now_ms)) {
    audit("auth.failure", nullptr, {}, method, refused->reason, caller, now_ms);
    return *refused;
  }
  AuthResult<Identity> found = refresh_session(refresh_token, named_only, caller, now_ms);
  if (found && !found->client_id.empty() && !key_still_active(found->client_id)) {
    found = unauthorized("key_revoked");
  }
  if (!found) note_failure(found.error(), {}, false, method, caller, now_ms);
  return found;
}

AuthResult<TokenGrant> Authenticator::fork_token(std::string_view refresh_token,
                                                 std::string_view session_name,
                                                 const Caller& caller, std::int64_t now_ms) {
  const AuthMethod method = AuthMethod::fork_token;
  if (refresh_token.empty()) return invalid_param("refresh_token", "refresh_token is required");
  if (!valid_session_name(session_name)) {
    return invalid_param("session_name", "session_name must be 1-64 printable characters");
  }
  AuthResult<Identity> found = refreshable_identity(refresh_token, true, method, caller, now_ms);
  if (!found) return found.error();
  Identity identity = std::move(*found);
  identity.scopes.session_name = session_name;
  identity.method = method;
  TokenGrant grant = issue(std::move(identity), caller, now_ms);
  note_success(grant.identity, caller, now_ms);
  return grant;
}

AuthResult<TokenGrant> Authenticator::exchange_token(std::string_view refresh_token,
                                                     std::int64_t subject_id,
                                                     std::string_view scope, const Caller& caller,
                                                     std::int64_t now_ms) {
  const AuthMethod method = AuthMethod::exchange_token;
  if (refresh_token.empty()) return invalid_param("refresh_token", "refresh_token is required");
  std::string scope_error;
  const auto requested = Scopes::parse(scope, &scope_error);
  if (!requested) return invalid_param("scope", scope_error);
  AuthResult<Identity> found = refreshable_identity(refresh_token, false, method, caller, now_ms);
  if (!found) return found.error();
  Identity identity = std::move(*found);
  if (subject_id != identity.account_id) {
    // Not a credential failure (the token was good): audited, not counted towards a lockout.
    audit("auth.failure", &identity, identity.client_id, method, "subject_not_allowed", caller,
          now_ms);
    return AuthError{codec::errors::forbidden, "subject_not_allowed", {}};
  }
  auto granted = identity.scopes.narrow(*requested);
  if (!granted) {
    note_failure(scope_exceeded(), identity.client_id, false, method, caller, now_ms);
    return scope_exceeded();
  }
  identity.scopes = std::move(*granted);
  identity.method = method;
  TokenGrant grant = issue(std::move(identity), caller, now_ms);
  note_success(grant.identity, caller, now_ms);
  return grant;
}

// ---- tokens on requests ------------------------------------------------------------------

AuthResult<Identity> Authenticator::validate(std::string_view access_token, const Caller& caller,
                                             std::int64_t now_ms) {
  std::uint64_t session_id = 0;
  std::string client_id;
  {
    std::lock_guard lock(mutex_);
    maybe_sweep_locked(now_ms);
    Session* session = find_locked(by_access_, access_token);
    if (!session) return unauthorized("invalid_token");
    if (session->access_expires_ms <= now_ms) return unauthorized("token_expired");
    if (auto error = check_binding_locked(*session, caller)) return *error;
    const bool recheck = !session->identity.client_id.empty() &&
                         now_ms - session->key_checked_ms >= options_.key_recheck_ms;
    if (!recheck) {
      Identity identity = session->identity;
      identity.method = AuthMethod::access_token;
      return identity;
    }
    session_id = session->identity.session_id;
    client_id = session->identity.client_id;
  }
  // The store is read without our lock held: other threads keep validating meanwhile.
  const bool active = key_still_active(client_id);
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return unauthorized("invalid_token");
  if (!active) {
    erase_session_locked(session_id);
    return unauthorized("key_revoked");
  }
  it->second.key_checked_ms = now_ms;
  Identity identity = it->second.identity;
  identity.method = AuthMethod::access_token;
  return identity;
}

bool Authenticator::logout(std::string_view access_token, const Caller& caller,
                           std::int64_t now_ms) {
  std::uint64_t session_id = 0;
  {
    std::lock_guard lock(mutex_);
    Session* session = find_locked(by_access_, access_token);
    if (!session) return false;
    session_id = session->identity.session_id;
  }
  return logout_session(session_id, caller, now_ms);
}

bool Authenticator::logout_session(std::uint64_t session_id, const Caller& caller,
                                   std::int64_t now_ms) {
  std::optional<Identity> ended;
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return false;
    ended = it->second.identity;
    erase_session_locked(session_id);
  }
  audit("auth.logout", &*ended, ended->client_id, ended->method, {}, caller, now_ms);
  return true;
}

void Authenticator::connection_closed(std::uint64_t connection_id) {
  if (connection_id == 0) return;
  std::lock_guard lock(mutex_);
  const auto it = by_connection_.find(connection_id);
  if (it != by_connection_.end()) erase_session_locked(it->second);
}

std::size_t Authenticator::end_sessions_of(std::string_view client_id) {
  std::lock_guard lock(mutex_);
  std::vector<std::uint64_t> ids;
  for (const auto& [id, session] : sessions_) {
    if (session.identity.client_id == client_id) ids.push_back(id);
  }
  for (const std::uint64_t id : ids) erase_session_locked(id);
  return ids.size();
}

// ---- credentials without tokens ----------------------------------------------------------

AuthResult<Identity> Authenticator::verify_client_secret(std::string_view client_id,
                                                         std::string_view client_secret,
                                                         const Caller& caller,
                                                         std::int64_t now_ms) {
  const AuthMethod method = AuthMethod::http_basic;
  if (auto refused = refuse_if_locked_out(client_id, caller, now_ms)) {
    audit("auth.failure", nullptr, client_id, method, refused->reason, caller, now_ms);
    return *refused;
  }
  bool key_found = false;
  AuthResult<Identity> result = check_client_secret(client_id, client_secret, method, &key_found);
  if (result) {
    note_success(*result, caller, now_ms);
  } else {
    note_failure(result.error(), client_id, key_found, method, caller, now_ms);
  }
  return result;
}

AuthResult<Identity> Authenticator::verify_signature(
    std::string_view client_id, std::int64_t timestamp_ms, std::string_view nonce,
    std::string_view signature, std::string_view signed_rest, const Caller& caller,
    std::int64_t now_ms, AuthMethod method) {
  if (auto refused = refuse_if_locked_out(client_id, caller, now_ms)) {
    audit("auth.failure", nullptr, client_id, method, refused->reason, caller, now_ms);
    return *refused;
  }
  bool key_found = false;
  AuthResult<Identity> result =
      client_id.empty() || nonce.empty() || signature.empty()
          ? AuthResult<Identity>(invalid_credentials("incomplete_signature"))
          : check_signature(client_id, timestamp_ms, nonce, signature, signed_rest, method, now_ms,
                            &key_found);
  if (result) {
    note_success(*result, caller, now_ms);
  } else {
    note_failure(result.error(), client_id, key_found, method, caller, now_ms);
  }
  return result;
}

AuthResult<Identity> Authenticator::authenticate_jwt(std::string_view jwt, const Caller& caller,
                                                     std::int64_t now_ms) {
  const AuthMethod method = AuthMethod::jwt;
  if (auto refused = refuse_if_locked_out({}, caller, now_ms)) {
    audit("auth.failure", nullptr, {}, method, refused->reason, caller, now_ms);
    return *refused;
  }
  std::optional<AccountRecord> account;
  const JwtKeyLookup keys = [&](std::string_view subject) {
    account = store_.find_account(subject);
    return account ? store_.find_jwt_keys(account->id) : std::vector<JwtPublicKey>{};
  };
  const JwtResult verified = verify_jwt(jwt, keys, now_ms / 1000);
  AuthResult<Identity> result = unauthorized(std::string(jwt_failure_name(verified.failure)));
  if (verified && account) {
    Identity identity;
    identity.account_id = account->id;
    identity.account = account->name;
    identity.scopes = Scopes::full_trading();
    identity.method = method;
    std::string scope_error;
    const auto requested = Scopes::parse(verified.claims->scope, &scope_error);
    auto granted = requested ? identity.scopes.narrow(*requested) : std::nullopt;
    if (!requested) {
      result = unauthorized("invalid_scope_claim");
    } else if (!granted) {
      result = scope_exceeded();
    } else {
      identity.scopes = std::move(*granted);
      result = std::move(identity);
    }
  }
  if (result) {
    note_success(*result, caller, now_ms);
  } else {
    note_failure(result.error(), {}, false, method, caller, now_ms);
  }
  return result;
}

AuthResult<Identity> Authenticator::authenticate_certificate(std::string_view sha256_fingerprint,
                                                             const Caller& caller,
                                                             std::int64_t now_ms) {
  const AuthMethod method = AuthMethod::certificate;
  const auto account = store_.account_for_fingerprint(sha256_fingerprint);
  if (!account) {
    // Not a guess at a secret (the TLS handshake proved possession of the key): audited but
    // not counted towards the IP's lockout.
    audit("auth.failure", nullptr, {}, method, "unknown_certificate", caller, now_ms);
    return unauthorized("unknown_certificate");
  }
  Identity identity;
  identity.account_id = account->id;
  identity.account = account->name;
  identity.scopes = Scopes::full_trading();
  identity.method = method;
  note_success(identity, caller, now_ms);
  return identity;
}

// ---- checks ------------------------------------------------------------------------------

AuthResult<Identity> Authenticator::check_client_secret(std::string_view client_id,
                                                        std::string_view secret, AuthMethod method,
                                                        bool* key_found) {
  const auto key = store_.find_key(client_id);
  if (!key) return invalid_credentials("invalid_credentials");
  *key_found = true;
  if (!constant_time_equal(secret, key->client_secret)) {
    return invalid_credentials("invalid_credentials");
  }
  return identity_for_key(*key, method);
}

AuthResult<Identity> Authenticator::check_signature(std::string_view client_id,
                                                    std::int64_t timestamp_ms,
                                                    std::string_view nonce,
                                                    std::string_view signature,
                                                    std::string_view signed_rest, AuthMethod method,
                                                    std::int64_t now_ms, bool* key_found) {
  const auto key = store_.find_key(client_id);
  if (!key) return invalid_credentials("invalid_credentials");
  *key_found = true;
  // Compared without subtracting, so that no timestamp can overflow.
  if (timestamp_ms < now_ms - options_.signature_window_ms ||
      timestamp_ms > now_ms + options_.signature_window_ms) {
    return invalid_credentials("timestamp_out_of_window");
  }
  if (nonce.size() > options_.max_nonce_length) {
    return invalid_credentials("nonce_too_long");
  }
  std::string message = std::to_string(timestamp_ms);
  message += '\n';
  message += nonce;
  message += '\n';
  message += signed_rest;
  const std::string expected = hmac_sha256_hex(key->client_secret, message);
  if (!constant_time_equal(lowercase(signature), expected)) {
    return invalid_credentials("invalid_signature");
  }
  // Only after the signature verified: forged requests never occupy the nonce cache.
  if (auto error = use_nonce(key->client_id, nonce, timestamp_ms, now_ms)) return *error;
  return identity_for_key(*key, method);
}

std::optional<AuthError> Authenticator::use_nonce(const std::string& client_id,
                                                  std::string_view nonce, std::int64_t timestamp_ms,
                                                  std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto& cache = nonces_[client_id];
  const std::string key(nonce);
  const auto it = cache.find(key);
  if (it != cache.end() && it->second >= now_ms) return invalid_credentials("nonce_reused");
  if (it == cache.end() && cache.size() >= options_.max_nonces_per_key) {
    std::erase_if(cache, [&](const auto& entry) { return entry.second < now_ms; });
    // Forgetting a live nonce would allow its replay: refuse new ones until some expire.
    if (cache.size() >= options_.max_nonces_per_key) return too_many_requests("nonce_cache_full");
  }
  // Once the timestamp is out of the window the request is refused anyway: no need to remember
  // its nonce beyond that.
  cache[key] = timestamp_ms + options_.signature_window_ms;
  return std::nullopt;
}

bool Authenticator::key_still_active(const std::string& client_id) {
  return store_.find_key(client_id).has_value();
}

// ---- sessions ----------------------------------------------------------------------------

std::int64_t Authenticator::access_lifetime_s(const Scopes& scopes) const {
  if (!scopes.expires_s) return options_.access_token_lifetime_s;
  return std::clamp<std::int64_t>(*scopes.expires_s, 1, options_.max_access_token_lifetime_s);
}

TokenGrant Authenticator::issue(Identity identity, const Caller& caller, std::int64_t now_ms) {
  if (identity.scopes.expires_s) identity.scopes.expires_s = access_lifetime_s(identity.scopes);
  const std::int64_t lifetime_s = access_lifetime_s(identity.scopes);
  TokenGrant grant;
  grant.access_token = new_token(now_ms);
  grant.refresh_token = new_token(now_ms);
  grant.expires_in = lifetime_s;
  grant.scope = identity.scopes.to_string();

  Session session;
  // Named sessions are not tied to a connection; connection scope is (over WebSocket).
  session.connection_id =
      identity.scopes.binding == ScopeBinding::connection ? caller.connection_id : 0;
  session.access_hash = token_hash(grant.access_token);
  session.refresh_hash = token_hash(grant.refresh_token);
  session.access_expires_ms = now_ms + lifetime_s * 1000;
  session.refresh_expires_ms =
      now_ms + std::max(options_.refresh_token_lifetime_s, lifetime_s) * 1000;
  session.key_checked_ms = now_ms;

  std::lock_guard lock(mutex_);
  maybe_sweep_locked(now_ms);
  make_room_locked(identity, session.connection_id);
  const std::uint64_t id = next_session_id_++;
  identity.session_id = id;
  identity.expires_at_ms = session.access_expires_ms;
  session.identity = identity;
  by_access_[session.access_hash] = id;
  by_refresh_[session.refresh_hash] = id;
  if (session.connection_id != 0) {
    by_connection_[session.connection_id] = id;
  } else if (identity.scopes.binding == ScopeBinding::session) {
    named_[identity.account_id].insert(id);
  } else {
    unbound_[identity.account_id].insert(id);
  }
  sessions_.emplace(id, std::move(session));
  grant.identity = std::move(identity);
  return grant;
}

// Keeps each account within its caps before a new session is added: a connection has one
// session (authenticating again replaces it), a session name one session, an account at most
// max_named_sessions named and max_unbound_sessions unbound ones (the oldest go first).
void Authenticator::make_room_locked(const Identity& identity, std::uint64_t connection_id) {
  if (connection_id != 0) {
    const auto it = by_connection_.find(connection_id);
    if (it != by_connection_.end()) erase_session_locked(it->second);
    return;
  }
  const bool named = identity.scopes.binding == ScopeBinding::session;
  auto& index = named ? named_ : unbound_;
  // Looked up afresh each time: erasing an account's last session removes its set.
  const auto ids_of_account = [&]() -> std::set<std::uint64_t>* {
    const auto it = index.find(identity.account_id);
    return it == index.end() ? nullptr : &it->second;
  };
  if (auto* ids = ids_of_account(); ids && named) {
    const auto same = std::find_if(ids->begin(), ids->end(), [&](std::uint64_t id) {
      return sessions_.at(id).identity.scopes.session_name == identity.scopes.session_name;
    });
    if (same != ids->end()) erase_session_locked(*same);
  }
  const std::size_t cap = named ? options_.max_named_sessions : options_.max_unbound_sessions;
  while (auto* ids = ids_of_account()) {
    if (ids->size() < cap) break;
    erase_session_locked(*ids->begin());
  }
}

std::optional<AuthError> Authenticator::check_binding_locked(const Session& session,
                                                             const Caller& caller) const {
  if (session.connection_id != 0 && session.connection_id != caller.connection_id) {
    return unauthorized("connection_scope_cannot_be_reused");
  }
  const std::string& ip = session.identity.scopes.ip;
  if (!ip.empty() && ip != caller.ip) return unauthorized("ip_not_allowed");
  return std::nullopt;
}

Authenticator::Session* Authenticator::find_locked(
    const std::unordered_map<std::string, std::uint64_t>& index, std::string_view token) {
  if (token.empty()) return nullptr;
  const auto it = index.find(token_hash(token));
  if (it == index.end()) return nullptr;
  const auto session = sessions_.find(it->second);
  return session == sessions_.end() ? nullptr : &session->second;
}

void Authenticator::erase_session_locked(std::uint64_t id) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  const Session& session = it->second;
  by_access_.erase(session.access_hash);
  by_refresh_.erase(session.refresh_hash);
  if (session.connection_id != 0) {
    const auto bound = by_connection_.find(session.connection_id);
    if (bound != by_connection_.end() && bound->second == id) by_connection_.erase(bound);
  }
  for (auto* index : {&named_, &unbound_}) {
    const auto account = index->find(session.identity.account_id);
    if (account == index->end()) continue;
    account->second.erase(id);
    if (account->second.empty()) index->erase(account);
  }
  sessions_.erase(it);
}

void Authenticator::maybe_sweep_locked(std::int64_t now_ms) {
  if (now_ms - last_sweep_ms_ >= options_.sweep_interval_ms) sweep_locked(now_ms);
}

void Authenticator::sweep(std::int64_t now_ms) {
  {
    std::lock_guard lock(mutex_);
    sweep_locked(now_ms);
  }
  ip_failures_.sweep(now_ms);
  client_id_failures_.sweep(now_ms);
}

void Authenticator::sweep_locked(std::int64_t now_ms) {
  last_sweep_ms_ = now_ms;
  std::vector<std::uint64_t> expired;
  for (const auto& [id, session] : sessions_) {
    if (session.refresh_expires_ms <= now_ms) expired.push_back(id);
  }
  for (const std::uint64_t id : expired) erase_session_locked(id);
  for (auto it = nonces_.begin(); it != nonces_.end();) {
    std::erase_if(it->second, [&](const auto& entry) { return entry.second < now_ms; });
    it = it->second.empty() ? nonces_.erase(it) : std::next(it);
  }
}

std::size_t Authenticator::session_count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::size_t Authenticator::nonce_count() const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [client_id, cache] : nonces_) count += cache.size();
  return count;
}

// ---- failures and audit ------------------------------------------------------------------

std::optional<AuthError> Authenticator::refuse_if_locked_out(std::string_view client_id,
                                                             const Caller& caller,
                                                             std::int64_t now_ms) const {
  const bool ip_blocked = !caller.ip.empty() && ip_failures_.blocked(caller.ip, now_ms);
  const bool key_blocked = !client_id.empty() && client_id_failures_.blocked(client_id, now_ms);
  if (ip_blocked || key_blocked) return too_many_requests("too_many_failed_attempts");
  return std::nullopt;
}

void Authenticator::note_failure(const AuthError& error, std::string_view client_id, bool key_found,
                                 AuthMethod method, const Caller& caller, std::int64_t now_ms) {
  if (is_credential_failure(error)) {
    if (!caller.ip.empty()) ip_failures_.record_failure(caller.ip, now_ms);
    // Only existing keys are tracked: made-up client_ids must not fill the table.
    if (key_found) client_id_failures_.record_failure(client_id, now_ms);
  }
  audit("auth.failure", nullptr, client_id, method, error.reason, caller, now_ms);
}

void Authenticator::note_success(const Identity& identity, const Caller& caller,
                                 std::int64_t now_ms) {
  audit("auth.success", &identity, identity.client_id, identity.method, {}, caller, now_ms);
}

void Authenticator::audit(std::string_view event, const Identity* identity,
                          std::string_view client_id, AuthMethod method, std::string_view reason,
                          const Caller& caller, std::int64_t now_ms) {
  if (!audit_) return;
  AuditEvent entry;
  entry.event = event;
  entry.account = identity ? std::string_view(identity->account) : std::string_view{};
  entry.client_id = client_id;
  entry.ip = caller.ip;
  entry.request_id = caller.request_id;
  entry.details.emplace_back("method", auth_method_name(method));
  std::string scope;
  if (identity) {
    scope = identity->scopes.to_string();
    entry.details.emplace_back("scope", scope);
  }
  if (!reason.empty()) entry.details.emplace_back("reason", reason);
  audit_->record(entry, now_ms);
}

}  // namespace gw::gateway
