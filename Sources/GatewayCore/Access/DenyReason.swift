package import GatewayHTTP

/// Why the access pipeline refused a request: one closed list. Each case maps to the error the
/// client gets (`error`, SPEC §12) and to the stable `reason` the access log records; both
/// mappings live here and nowhere else.
package enum DenyReason: Equatable, Sendable {
    /// The path cannot be authorized unambiguously (SPEC §4): 400.
    case badPath(PathError)
    /// No route matches: 404.
    case routeNotFound
    /// A route matches the path but not the method: 405 with `Allow`.
    case methodNotAllowed(allow: MethodSet)
    /// The route says `deny;`: 403.
    case routeDenied
    /// A method-override header names another method than the request-line's, which routes
    /// were chosen by (an upstream honouring it would run an unauthorized method): 400.
    case methodOverride
    /// The client address used up its failed authentications (`auth_failure_limit`): 429.
    case authFailuresExceeded(retryAfter: Int)
    /// No credential on a route that needs one: 401 with a bare challenge.
    case credentialMissing
    /// Two credentials, or one header twice (RFC 6750 allows one method): 400.
    case credentialAmbiguous(AmbiguousCredential)
    /// A credential that fails, whatever the reason: one 401 `invalid_token`.
    case credentialInvalid(CredentialFailure)
    /// A required permission is missing: 403 `insufficient_scope` naming the scope.
    case insufficientScope(String)
    /// `require_role` names no role of the caller: 403.
    case roleMissing
    /// A `match_claim` claim differs from the path parameter: 403.
    case claimMismatch
    /// Over the route's (or the key's, or the default) rate limit: 429.
    case rateLimited(retryAfter: Int)
    /// The token names a `kid` no key has, and its issuer's key source cannot be reached:
    /// 503 with `Retry-After`, not 401 (the IdP is down; the token may be fine). Not counted
    /// as a failed authentication.
    case keysUnavailable(retryAfter: Int)
    /// The introspection endpoint cannot be asked now (down, slow, answering garbage, or
    /// too many tokens already waiting): 503 with `Retry-After`; the token may be fine.
    case introspectionUnavailable(retryAfter: Int)

    /// The error answered to the client.
    package var error: GatewayError {
        switch self {
        case .badPath, .credentialAmbiguous, .methodOverride: .invalidRequest
        case .routeNotFound: .routeNotFound
        case .methodNotAllowed(let allow): .methodNotAllowed(allow: allow)
        case .routeDenied, .roleMissing, .claimMismatch: .accessDenied
        case .authFailuresExceeded(let retryAfter), .rateLimited(let retryAfter): .rateLimited(retryAfter: retryAfter)
        case .credentialMissing: .unauthorized
        case .credentialInvalid: .invalidToken
        case .insufficientScope(let scope): .insufficientScope(scope: scope)
        case .keysUnavailable(let retryAfter), .introspectionUnavailable(let retryAfter):
            .temporarilyUnavailable(retryAfter: retryAfter)
        }
    }

    /// The stable log `reason` (never a credential or claim value).
    package var reason: String {
        switch self {
        case .badPath: "bad_path"
        case .routeNotFound: "route_not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .routeDenied: "route_denied"
        case .methodOverride: "method_override"
        case .authFailuresExceeded: "auth_failures"
        case .credentialMissing: "credential_missing"
        case .credentialAmbiguous(let which): which.rawValue
        case .credentialInvalid(let failure): failure.reason
        case .insufficientScope: "insufficient_scope"
        case .roleMissing: "role_missing"
        case .claimMismatch: "claim_mismatch"
        case .rateLimited: "rate_limited"
        case .keysUnavailable: "jwt_keys_unavailable"
        case .introspectionUnavailable: "introspection_unavailable"
        }
    }
}

/// How a request presented more than one credential (400 `invalid_request`).
package enum AmbiguousCredential: String, Sendable {
    case duplicateAuthorization = "duplicate_authorization"
    case duplicateAPIKeyHeader = "duplicate_api_key_header"
    case duplicateQueryToken = "duplicate_query_token"
    case twoCredentials = "two_credentials"
}

/// Why a presented credential failed. The client always gets the same 401 `invalid_token`;
/// the reason goes to the log only.
package enum CredentialFailure: Equatable, Sendable {
    /// `Authorization` with another scheme than `Bearer`, or a malformed token68.
    case notBearer
    /// An empty credential.
    case empty
    /// Longer than `max_token`.
    case tooLarge
    /// An API key on an `auth jwt;` route.
    case apiKeyNotAccepted
    /// A JWT on an `auth api_key;` route.
    case jwtNotAccepted
    /// A percent-escape in `?access_token=` that does not decode.
    case queryTokenBadEncoding
    /// API keys are configured but no key index is loaded.
    case apiKeyStoreUnavailable
    /// The key index refused the key.
    case apiKey(APIKeyFailure)
    /// The key's principal, org, permissions or roles cannot travel in headers exactly.
    case apiKeyIdentityUnrepresentable
    /// A bearer JWT with no `jwt` block (nor `tokens`) configured.
    case jwtNotConfigured
    /// The JWT verifier refused the token.
    case jwt(JWTFailure)
    /// The token's `jti` is revoked.
    case jwtRevoked
    /// A verified client certificate whose names fill no `user_id` (or cannot travel in
    /// headers exactly) under the `mtls` mapping.
    case certificateIdentityUnrepresentable
    /// The introspection endpoint says the token is not active (or expired, or for another
    /// audience).
    case introspectionInactive

    /// The stable log `reason`.
    package var reason: String {
        switch self {
        case .notBearer: "authorization_not_bearer"
        case .empty: "empty_credential"
        case .tooLarge: "token_too_large"
        case .apiKeyNotAccepted: "api_key_not_accepted"
        case .jwtNotAccepted: "jwt_not_accepted"
        case .queryTokenBadEncoding: "query_token_bad_encoding"
        case .apiKeyStoreUnavailable: "apikey_store_unavailable"
        case .apiKey(let failure): failure.reason
        case .apiKeyIdentityUnrepresentable: "apikey_identity_unrepresentable"
        case .jwtNotConfigured: "jwt_not_configured"
        case .jwt(let failure): failure.reason
        case .jwtRevoked: "jwt_revoked"
        case .certificateIdentityUnrepresentable: "certificate_identity_unrepresentable"
        case .introspectionInactive: "introspection_inactive"
        }
    }
}
