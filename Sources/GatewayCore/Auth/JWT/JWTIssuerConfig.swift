/// Which claims become which `Identity` fields (config `claims ...;`, SPEC §3).
///
/// Each field lists claim names in priority order; the first claim that is present (and not
/// `null`) wins. `userID`, `orgID`, `email` and `name` must be strings; `permissions` and
/// `roles` accept a JSON array of strings or one space-separated string (OAuth `scope`).
package struct ClaimMapping: Sendable, Equatable {
    /// Default `["sub"]`.
    package var userID: [String]
    /// Default `["org_id"]`.
    package var orgID: [String]
    /// Default `["email"]`.
    package var email: [String]
    /// Default `["name"]`.
    package var name: [String]
    /// Default `["permissions", "scope"]`.
    package var permissions: [String]
    /// Default `["roles"]`.
    package var roles: [String]

    /// The mapping; every argument defaults to the values documented on the properties.
    package init(
        userID: [String] = ["sub"], orgID: [String] = ["org_id"], email: [String] = ["email"],
        name: [String] = ["name"], permissions: [String] = ["permissions", "scope"], roles: [String] = ["roles"]
    ) {
        self.userID = userID
        self.orgID = orgID
        self.email = email
        self.name = name
        self.permissions = permissions
        self.roles = roles
    }
}

/// One trusted issuer (a `jwt { ... }` block, SPEC §3/§5).
package struct JWTIssuerConfig: Sendable {
    /// The exact `iss` value (compared byte for byte).
    package var issuer: String
    /// Accepted audiences; the token's `aud` must contain one of them. When empty, only tokens
    /// without `aud` are accepted (RFC 7519 §4.1.3: an `aud` that does not name us is rejected).
    package var audiences: [String]
    /// Clock skew allowed for `exp`, `nbf` and `iat` (config `leeway`; default 30 s).
    /// Sub-second parts are ignored.
    package var leeway: Duration
    /// Whether `exp` is required (config `require exp;`, default `true`).
    package var requireExp: Bool
    /// The required header `typ` (e.g. `at+jwt`, RFC 9068), compared case-insensitively with an
    /// optional `application/` prefix; `nil` disables the check.
    package var requiredTyp: String?
    /// The gateway's own issuer: its tokens' `key_id` names the API key they were exchanged
    /// for, which must still be usable.
    package var bindsAPIKeys = false
    /// Claim-to-identity mapping.
    package var claims: ClaimMapping

    /// An issuer block; see the properties for meanings and defaults.
    package init(
        issuer: String, audiences: [String], leeway: Duration = .seconds(30), requireExp: Bool = true,
        requiredTyp: String? = nil, claims: ClaimMapping = ClaimMapping()
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.leeway = leeway
        self.requireExp = requireExp
        self.requiredTyp = requiredTyp
        self.claims = claims
    }
}

/// One verification key: its `kid` (optional), its algorithm-bound verifier, and the issuer
/// whose tokens it may sign. A key verifies only tokens whose `alg` equals
/// `verifier.algorithmName` and whose `iss` equals `issuer`.
package struct JWTKeyEntry: Sendable {
    /// The key id matched against the header `kid`; `nil` for a key only tried for kid-less tokens.
    package var kid: String?
    /// The algorithm-bound signature verifier.
    package var verifier: any JWSVerifier
    /// The `iss` of the `JWTIssuerConfig` this key belongs to.
    package var issuer: String

    /// A key entry.
    package init(kid: String?, verifier: any JWSVerifier, issuer: String) {
        self.kid = kid
        self.verifier = verifier
        self.issuer = issuer
    }
}
