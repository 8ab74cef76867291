/// Why a JWT was rejected. Every case becomes the same 401 `invalid_token` to the client;
/// `reason` is the stable log value (it never contains token bytes or claim values).
package enum JWTFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a compact JWS with three canonical base64url segments and JSON-object header and
    /// payload (also: bad `kid`/`alg`/`crit` types, a payload that is not an object).
    case malformed
    /// Larger than the configured token limit (default 8 KiB).
    case tooLarge
    /// `alg` is `none` in any casing.
    case algNone
    /// `alg` is not a supported JWS algorithm, or the key named by `kid` is bound to another one.
    case algUnsupported
    /// `crit` names an extension the gateway does not understand.
    case critUnsupported
    /// No key for the `kid` (or, without `kid`, no key for the `alg`).
    case unknownKid
    /// No key has the `kid`, and a `jwks_url` fetch that may bring it is pending: a caller
    /// that can wait retries after the fetch (the fetch is rate limited, so this is temporary).
    case keyRefreshPending
    /// No key has the `kid`, no fetch is pending, and a key source's last fetch failed: the
    /// keys cannot be known now (answered 503, not 401).
    case keysUnavailable
    /// No candidate key verified the signature.
    case badSignature
    /// `exp` (plus leeway) has passed.
    case expired
    /// `nbf` (minus leeway) is in the future.
    case notYetValid
    /// `iat` is in the future beyond the leeway.
    case issuedInFuture
    /// No `exp` while the issuer requires one.
    case missingExp
    /// `iss` is missing or is not the issuer of the key that verified the token.
    case badIssuer
    /// `aud` is missing or contains none of the configured audiences.
    case badAudience
    /// The header `typ` is missing or differs from the configured one.
    case badTyp
    /// A registered or mapped claim has the wrong type (string date, negative date, non-string
    /// `sub`...), or the user id claim is missing.
    case badClaims
    /// A mapped identity value that no header can carry exactly (control characters, leading
    /// or trailing whitespace, a permission or role holding `,` or whitespace; see
    /// `Identity.isRepresentableInHeaders`).
    case unrepresentableIdentity

    /// The stable log reason, e.g. `jwt_expired`.
    package var reason: String {
        switch self {
        case .malformed: "jwt_malformed"
        case .tooLarge: "jwt_too_large"
        case .algNone: "jwt_alg_none"
        case .algUnsupported: "jwt_alg_unsupported"
        case .critUnsupported: "jwt_crit_unsupported"
        case .unknownKid: "jwt_unknown_kid"
        case .keyRefreshPending: "jwt_key_refresh_pending"
        case .keysUnavailable: "jwt_keys_unavailable"
        case .badSignature: "jwt_bad_signature"
        case .expired: "jwt_expired"
        case .notYetValid: "jwt_not_yet_valid"
        case .issuedInFuture: "jwt_issued_in_future"
        case .missingExp: "jwt_missing_exp"
        case .badIssuer: "jwt_bad_issuer"
        case .badAudience: "jwt_bad_audience"
        case .badTyp: "jwt_bad_typ"
        case .badClaims: "jwt_bad_claims"
        case .unrepresentableIdentity: "jwt_identity_unrepresentable"
        }
    }

    package var description: String { reason }
}
