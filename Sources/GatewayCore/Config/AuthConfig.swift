package import GatewaySupport

/// `match_claim CLAIM {param};` — tenant isolation: an identity field must equal a path parameter.
package struct ClaimMatch: Sendable, Equatable {
    package var claim: IdentityClaim
    /// The `{name}` of the route pattern.
    package var parameter: String
    package init(claim: IdentityClaim, parameter: String) {
        self.claim = claim
        self.parameter = parameter
    }
}

/// The identity fields `match_claim` can compare (the claims mapped into every identity).
package enum IdentityClaim: String, Sendable, Equatable, CaseIterable {
    case userID = "user_id"
    case subject = "sub"
    case orgID = "org_id"
    case email
    case name
}

/// `api_keys { header NAME; bearer on|off; prefix P...; legacy_prefix P...; }` (SPEC §5).
package struct APIKeysConfig: Sendable, Equatable {
    /// `header NAME;` — the request header carrying a key. Default `X-API-Key`.
    package var header = "X-API-Key"
    /// `bearer on|off;` — also accept `Authorization: Bearer <key>` when the token has a key
    /// prefix (OpenAI-style clients). Default off.
    package var bearer = false
    /// `prefix P...;` — prefixes of keys this gateway issues (`<prefix><id>_<secret><check>`).
    /// Default `gw_`; the first is used for new keys.
    package var prefixes = ["gw_"]
    /// `legacy_prefix P...;` — prefixes of imported keys, looked up by SHA-256 of the whole key.
    package var legacyPrefixes: [String] = []
    package init() {}
}

/// `jwt { issuer ...; audience ...; key KID ALG MATERIAL; jwks_file PATH; jwks_url URL;
/// leeway D; require exp|none; require_typ T; claims ...; cache N; }` (SPEC §5).
package struct JWTBlockConfig: Sendable, Equatable {
    /// `issuer URL;` — the token's `iss` must equal it. Required, unless `discovery` names a
    /// `…/.well-known/openid-configuration` URL, whose prefix is then the issuer.
    package var issuer: String
    /// `audience A...;` — the token's `aud` must contain one of them.
    package var audiences: [String] = []
    /// `key KID ALG MATERIAL;` — at least one; the key is bound to that algorithm.
    package var keys: [JWTKeyConfig] = []
    /// `jwks_file PATH;` (repeatable) — a JWKS document read at load and on every reload.
    package var jwksFiles: [JWKSFileConfig] = []
    /// `jwks_url URL [refresh=DURATION];` (repeatable) and `discovery URL [refresh=DURATION];`
    /// — a JWKS fetched over HTTP(S) in the background, never at load.
    package var jwksURLs: [JWKSURLConfig] = []
    /// `ca file:PATH;` — the CAs the `https` key and discovery fetches trust instead of the
    /// system store (an IdP with a private CA).
    package var caFile: String? = nil
    /// `leeway DURATION;` — clock skew allowed on exp/nbf/iat. Default 30s, at most
    /// `maxLeewaySeconds`.
    package var leeway: Duration = .seconds(30)
    /// The largest `leeway`: a revoked token id stays in the key index this long past the
    /// token's `exp` (`KeyStore`), so no verifier accepts a revoked token in its leeway.
    package static let maxLeewaySeconds = 3600
    /// `require exp|none;` — whether `exp` must be present. Default exp.
    package var requireExp = true
    /// `require_typ T;` — the header `typ` required (RFC 9068 `at+jwt`); nil: not checked.
    package var requiredTyp: String? = nil
    /// `claims user_id=sub,user_id ...;` — where each identity field is read from.
    package var claims = ClaimMapping()
    /// `cache N;` — verified-token cache entries. Default 100000 (also the cache for the
    /// gateway's own tokens when no `jwt` block is configured).
    package var cacheSize = defaultCacheSize
    package static let defaultCacheSize = 100_000
    package var location: SourceLocation
    package init(issuer: String, location: SourceLocation) {
        self.issuer = issuer
        self.location = location
    }
}

/// `tokens { signing_key KID ALG MATERIAL; issuer URL; audience A...; access_ttl D; refresh_ttl D; refresh_family_ttl D; }`
/// (SPEC §10): the keys the gateway signs with. The first `signing_key` signs; later ones
/// only verify and stay in the JWKS (the previous keys of a rotation).
package struct TokensConfig: Sendable, Equatable {
    /// `signing_key KID ALG MATERIAL;` (at least one): an HMAC secret or a private-key PEM.
    package var signingKeys: [JWTKeyConfig] = []
    /// `issuer URL;` — required; the `iss` of every token the gateway signs.
    package var issuer: String
    /// `audience A...;` — required; the `aud` of access tokens, and what the gateway accepts.
    package var audiences: [String] = []
    /// `access_ttl DURATION;` — default 5m.
    package var accessTTL: Duration = .seconds(300)
    /// `refresh_ttl DURATION;` — default 7d.
    package var refreshTTL: Duration = .seconds(7 * 86_400)
    /// `refresh_family_ttl DURATION;` — default 30d: how long a chain of rotated refresh
    /// tokens may go on from the exchange that started it (RFC 9700 §4.14.2), however often
    /// it is refreshed. Then the client presents its API key again.
    package var refreshFamilyTTL: Duration = .seconds(30 * 86_400)
    package var location: SourceLocation
    package init(issuer: String, location: SourceLocation) {
        self.issuer = issuer
        self.location = location
    }
}

/// One `jwks_file` line: the document's bytes as read at load time.
package struct JWKSFileConfig: Sendable, Equatable {
    package var path: String
    package var document: [UInt8]
    package var location: SourceLocation
    package init(path: String, document: [UInt8], location: SourceLocation) {
        self.path = path
        self.document = document
        self.location = location
    }
}

/// One `jwks_url` line: where the keys are fetched from and how often.
package struct JWKSURLConfig: Sendable, Equatable {
    package var url: JWKSURL
    /// `refresh=DURATION` — time between successful fetches. Default 10m, at least 30s.
    package var refresh: Duration
    /// `discovery URL;`: `url` is an OIDC discovery (RFC 8414) document whose `jwks_uri`
    /// names the JWKS, and whose `issuer` must be the block's.
    package var discovery = false
    package var location: SourceLocation

    /// The default `refresh=`.
    package static let defaultRefresh: Duration = .seconds(600)
    /// The shortest `refresh=` accepted (the same bound as unknown-kid fetches, SPEC §5).
    package static let minimumRefresh: Duration = .seconds(30)

    package init(url: JWKSURL, refresh: Duration = defaultRefresh, location: SourceLocation) {
        self.url = url
        self.refresh = refresh
        self.location = location
    }
}

/// One `key` (or `signing_key`) line: the key id, its algorithm and its material (an HMAC
/// secret, or a PEM public key or certificate from `file:`; a private key for `signing_key`).
package struct JWTKeyConfig: Sendable, Equatable {
    package var kid: String
    package var algorithm: String
    package var material: Secret<[UInt8]>
    package var location: SourceLocation
    package init(kid: String, algorithm: String, material: Secret<[UInt8]>, location: SourceLocation) {
        self.kid = kid
        self.algorithm = algorithm
        self.material = material
        self.location = location
    }
}


/// `registration { require_token SECRET; roles R...; permissions P...; }` (SPEC §10): who may
/// register an agent, and what its first key gets.
package struct RegistrationConfig: Sendable, Equatable {
    /// SHA-256 of the registration token (the token itself is not kept).
    package var tokenDigest: [UInt8] = []
    package var roles: [String] = []
    package var permissions: [String] = []
    package var location: SourceLocation
    package init(location: SourceLocation) { self.location = location }
}
