/// The token and revocation endpoints' errors (RFC 6749 §5.2, RFC 7009 §2.2.1), mapped to
/// their status and `error` code in one place.
package enum OAuthError: Error, Sendable, Equatable {
    /// Malformed: missing or repeated parameter, unsupported body type, several client
    /// authentication methods at once.
    case invalidRequest(String)
    /// The client could not be authenticated. `basic`: it tried HTTP Basic, so the answer
    /// carries `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    case invalidClient(basic: Bool)
    /// The refresh token is invalid, expired, revoked or reused.
    case invalidGrant
    /// The requested scope exceeds what the key has, or is malformed.
    case invalidScope
    case unsupportedGrantType
    /// RFC 7009 §2.2.1: a `token_type_hint` the server does not know is fine; this is for a
    /// revocation that is not allowed at all.
    case unsupportedTokenType

    package var status: Int {
        switch self {
        case .invalidClient: 401
        case .invalidRequest, .invalidGrant, .invalidScope, .unsupportedGrantType, .unsupportedTokenType: 400
        }
    }

    package var code: String {
        switch self {
        case .invalidRequest: "invalid_request"
        case .invalidClient: "invalid_client"
        case .invalidGrant: "invalid_grant"
        case .invalidScope: "invalid_scope"
        case .unsupportedGrantType: "unsupported_grant_type"
        case .unsupportedTokenType: "unsupported_token_type"
        }
    }

    /// A description for the client; it never echoes what the client sent.
    package var description: String {
        switch self {
        case .invalidRequest(let why): why
        case .invalidClient: "Client authentication failed."
        case .invalidGrant: "The refresh token is invalid, expired or revoked."
        case .invalidScope: "The requested scope exceeds the key's permissions."
        case .unsupportedGrantType: "Supported grant types: client_credentials, refresh_token."
        case .unsupportedTokenType: "This token type cannot be revoked."
        }
    }
}
