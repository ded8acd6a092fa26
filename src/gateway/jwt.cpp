#include "gateway/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <cmath>
#include <memory>
#include <set>

#include "gateway/auth_crypto.hpp"

namespace gw::gateway {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct SigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

constexpr std::size_t kEs256SignatureSize = 64;  // r || s, 32 bytes each
constexpr std::size_t kEd25519SignatureSize = 64;

PkeyPtr read_public_key(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return nullptr;
  PkeyPtr key(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return key;
}

std::optional<JwtAlgorithm> algorithm_of(EVP_PKEY* key) {
  if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519) return JwtAlgorithm::eddsa;
  if (EVP_PKEY_get_id(key) != EVP_PKEY_EC) return std::nullopt;
  char group[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1) return std::nullopt;
  if (std::string_view(group, length) != "prime256v1") return std::nullopt;
  return JwtAlgorithm::es256;
}

// JOSE's ES256 signature is r||s; OpenSSL verifies the DER SEQUENCE of two INTEGERs.
std::optional<std::string> es256_signature_to_der(std::string_view raw) {
  if (raw.size() != kEs256SignatureSize) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != size) return std::nullopt;
  return der;
}

bool verify_signature(EVP_PKEY* key, JwtAlgorithm algorithm, std::string_view signing_input,
                      std::string_view raw_signature) {
  std::string signature;
  if (algorithm == JwtAlgorithm::es256) {
    auto der = es256_signature_to_der(raw_signature);
    if (!der) return false;
    signature = std::move(*der);
  } else {
    if (raw_signature.size() != kEd25519SignatureSize) return false;
    signature = raw_signature;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  // Ed25519 hashes internally (no digest); ES256 uses SHA-256.
  const EVP_MD* digest = algorithm == JwtAlgorithm::es256 ? EVP_sha256() : nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

struct Header {
  std::string alg;
  std::optional<std::string> kid;
  bool has_crit = false;
};

struct RawClaims {
  std::optional<std::string> sub;
  std::optional<std::int64_t> exp, nbf;
  std::string scope;
};

// The fields of one JSON object, rejecting duplicates (two `alg`s or two `sub`s could be read
// differently by different parsers: we refuse to guess).
using FieldVisitor = std::function<bool(std::string_view key, simdjson::dom::element value)>;

bool for_each_unique_field(std::string_view json, const FieldVisitor& visit) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const simdjson::padded_string padded(json);
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return false;
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return false;
  std::set<std::string_view> seen;
  for (const auto field : object) {
    if (!seen.insert(field.key).second) return false;
    if (!visit(field.key, field.value)) return false;
  }
  return true;
}

std::optional<std::string> string_of(simdjson::dom::element value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
  return std::string(text);
}

// A NumericDate (RFC 7519): seconds, possibly fractional; truncated to whole seconds.
std::optional<std::int64_t> numeric_date_of(simdjson::dom::element value) {
  std::int64_t integer = 0;
  if (value.get_int64().get(integer) == simdjson::SUCCESS) return integer;
  double real = 0;
  if (value.get_double().get(real) != simdjson::SUCCESS) return std::nullopt;
  if (!std::isfinite(real) || std::fabs(real) > 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(std::floor(real));
}

std::optional<Header> parse_header(std::string_view json) {
  Header header;
  bool has_alg = false;
  const bool ok = for_each_unique_field(json, [&](std::string_view key, auto value) {
    if (key == "alg") {
      auto alg = string_of(value);
      if (!alg) return false;
      header.alg = std::move(*alg);
      has_alg = true;
    } else if (key == "kid") {
      header.kid = string_of(value);
      if (!header.kid) return false;
    } else if (key == "crit") {
      header.has_crit = true;
    }
    return true;
  });
  if (!ok || !has_alg) return std::nullopt;
  return header;
}

std::optional<RawClaims> parse_claims(std::string_view json) {
  RawClaims claims;
  const bool ok = for_each_unique_field(json, [&](std::string_view key, auto value) {
    if (key == "sub") {
      claims.sub = string_of(value);
      return claims.sub.has_value();
    }
    if (key == "exp" || key == "nbf") {
      auto date = numeric_date_of(value);
      (key == "exp" ? claims.exp : claims.nbf) = date;
      return date.has_value();
    }
    if (key == "scope") {
      auto scope = string_of(value);
      if (scope) claims.scope = std::move(*scope);
      return scope.has_value();
    }
    return true;
  });
  if (!ok) return std::nullopt;
  return claims;
}

JwtResult failure(JwtFailure reason, std::string detail) {
  JwtResult result;
  result.failure = reason;
  result.detail = std::move(detail);
  return result;
}

struct Parts {
  std::string_view header, payload, signature, signing_input;
};

std::optional<Parts> split_token(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  Parts parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
              token.substr(second + 1), token.substr(0, second)};
  if (parts.header.empty() || parts.payload.empty() || parts.signature.empty()) {
    return std::nullopt;
  }
  return parts;
}

const JwtPublicKey* key_with_id(const std::vector<JwtPublicKey>& keys, std::string_view kid) {
  for (const JwtPublicKey& key : keys) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

}  // namespace

std::optional<JwtAlgorithm> jwt_algorithm_named(std::string_view name) {
  if (name == "EdDSA") return JwtAlgorithm::eddsa;
  if (name == "ES256") return JwtAlgorithm::es256;
  return std::nullopt;
}

std::string_view jwt_algorithm_name(JwtAlgorithm algorithm) {
  return algorithm == JwtAlgorithm::es256 ? "ES256" : "EdDSA";
}

std::optional<JwtAlgorithm> jwt_algorithm_for_public_key(std::string_view pem, std::string* error) {
  const PkeyPtr key = read_public_key(pem);
  if (!key) {
    if (error) *error = "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)";
    return std::nullopt;
  }
  const auto algorithm = algorithm_of(key.get());
  if (!algorithm && error) *error = "unsupported key type: use an Ed25519 or EC P-256 key";
  return algorithm;
}

std::string_view jwt_failure_name(JwtFailure reason) {
  switch (reason) {
    case JwtFailure::none:
      return "none";
    case JwtFailure::malformed:
      return "malformed";
    case JwtFailure::unsupported_algorithm:
      return "unsupported_algorithm";
    case JwtFailure::missing_claim:
      return "missing_claim";
    case JwtFailure::unknown_key:
      return "unknown_key";
    case JwtFailure::bad_signature:
      return "bad_signature";
    case JwtFailure::expired:
      return "expired";
    case JwtFailure::not_yet_valid:
      return "not_yet_valid";
  }
  return "none";
}

JwtResult verify_jwt(std::string_view token, const JwtKeyLookup& keys_for_subject,
                     std::int64_t now_s, std::int64_t leeway_s) {
  if (token.size() > kMaxJwtSize) return failure(JwtFailure::malformed, "token too long");
  const auto parts = split_token(token);
  if (!parts) return failure(JwtFailure::malformed, "not three dot-separated parts");
  const auto header_json = base64url_decode(parts->header);
  const auto payload_json = base64url_decode(parts->payload);
  const auto signature = base64url_decode(parts->signature);
  if (!header_json || !payload_json || !signature) {
    return failure(JwtFailure::malformed, "invalid base64url");
  }
  const auto header = parse_header(*header_json);
  if (!header) return failure(JwtFailure::malformed, "invalid header");
  const auto algorithm = jwt_algorithm_named(header->alg);
  if (!algorithm) return failure(JwtFailure::unsupported_algorithm, "alg " + header->alg);
  if (header->has_crit) return failure(JwtFailure::unsupported_algorithm, "crit not supported");
  if (!header->kid) return failure(JwtFailure::unknown_key, "no kid");

  const auto claims = parse_claims(*payload_json);
  if (!claims) return failure(JwtFailure::malformed, "invalid claims");
  if (!claims->sub || claims->sub->empty()) return failure(JwtFailure::missing_claim, "no sub");
  if (!claims->exp) return failure(JwtFailure::missing_claim, "no exp");

  const std::vector<JwtPublicKey> keys = keys_for_subject(*claims->sub);
  const JwtPublicKey* key = key_with_id(keys, *header->kid);
  if (!key || jwt_algorithm_named(key->algorithm) != algorithm) {
    return failure(JwtFailure::unknown_key, "no key " + *header->kid + " for this account");
  }
  const PkeyPtr public_key = read_public_key(key->public_key_pem);
  if (!public_key || algorithm_of(public_key.get()) != algorithm) {
    return failure(JwtFailure::unknown_key, "registered key unusable");
  }
  if (!verify_signature(public_key.get(), *algorithm, parts->signing_input, *signature)) {
    return failure(JwtFailure::bad_signature, "signature does not verify");
  }

  // Written so that no claim value, however large, can overflow the arithmetic.
  if (now_s - leeway_s > *claims->exp) return failure(JwtFailure::expired, "expired");
  if (claims->nbf && now_s + leeway_s < *claims->nbf) {
    return failure(JwtFailure::not_yet_valid, "not valid yet");
  }
  JwtResult result;
  result.claims =
      JwtClaims{*claims->sub, *header->kid, *algorithm, *claims->exp, claims->nbf, claims->scope};
  return result;
}

}  // namespace gw::gateway
