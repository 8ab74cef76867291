/// How a request was authenticated (SPEC §5); `rawValue` is the log/header spelling.
package enum AuthMethod: String, Sendable, Hashable {
    /// A verified JWT bearer token.
    case jwt
    /// A gateway API key.
    case apiKey = "api_key"
    /// An opaque token validated by OAuth 2 introspection (RFC 7662).
    case introspection
    /// A client certificate verified in the TLS handshake (`auth mtls`).
    case mtls
}

/// The authenticated principal of a request, produced by an authenticator and consumed by
/// authorization and header mutation. Immutable; any thread.
package struct Identity: Sendable, Hashable {
    /// The user id (JWT: the first present claim of `ClaimMapping.userID`, default `sub`).
    package var userID: String
    /// The organization id, when the credential carries one.
    package var orgID: String?
    /// The e-mail address, when present.
    package var email: String?
    /// The display name, when present.
    package var name: String?
    /// Direct permissions (JWT: `permissions` array or space-separated `scope`).
    package var permissions: [String]
    /// Role names (expanded by authorization, SPEC §5).
    package var roles: [String]
    /// How the credential was verified.
    package var method: AuthMethod
    /// The key that verified the credential (JWT `kid` of the selected key; API key id).
    package var keyID: String?
    /// The credential's own id (JWT `jti`), for revocation.
    package var tokenID: String?
    /// Expiry in unix seconds (JWT `exp`, truncated), when the credential has one.
    package var expiresAt: Int64?
    /// The JWT `sub` claim (may differ from `userID` when the mapping picks another claim).
    package var subject: String?
    /// The JWT's `iss` (nil for API keys): subjects are unique only within their issuer, so
    /// principals (rate-limit buckets) are keyed by issuer and subject (SPEC §7).
    package var issuer: String?
    /// An API key's own stored rate limit (`keys create --rate-limit`), overriding the
    /// configured default (SPEC §7); nil for JWTs and keys without one.
    package var rateLimit: String? = nil
    /// For an access token of the gateway's own token service: the API key it was exchanged
    /// for (`key_id`). Revoking that key ends the token (SPEC §10).
    package var exchangedKeyID: String? = nil
    /// For a token of the gateway's own issuer: its `iat` (0 when absent), checked against
    /// the principal's revocations (`POST /admin/revocations`). Nil for other credentials.
    package var issuedAt: Int64? = nil

    /// Memberwise initializer.
    package init(
        userID: String, orgID: String? = nil, email: String? = nil, name: String? = nil,
        permissions: [String] = [], roles: [String] = [], method: AuthMethod,
        keyID: String? = nil, tokenID: String? = nil, expiresAt: Int64? = nil, subject: String? = nil,
        issuer: String? = nil
    ) {
        self.userID = userID
        self.orgID = orgID
        self.email = email
        self.name = name
        self.permissions = permissions
        self.roles = roles
        self.method = method
        self.keyID = keyID
        self.tokenID = tokenID
        self.expiresAt = expiresAt
        self.subject = subject
        self.issuer = issuer
    }
}
