package import GatewayHTTP

/// Every error the gateway answers itself, mapped to its SPEC §12 status and code in this one
/// place. Descriptions are fixed strings: no request bytes, no secrets. In Core (not the
/// server) because the access pipeline's refusals map onto it and `gateway explain` prints it.
package enum GatewayError: Equatable, Sendable {
    case invalidRequest
    /// No credential on a protected route (401 with a bare challenge, RFC 6750 §3.1).
    case unauthorized
    /// A credential that failed (401 `invalid_token`).
    case invalidToken
    case routeNotFound
    case methodNotAllowed(allow: MethodSet)
    /// A permission is missing (403, `WWW-Authenticate: Bearer error="insufficient_scope"`).
    case insufficientScope(scope: String)
    case accessDenied
    case requestTimeout
    case payloadTooLarge
    case headersTooLarge
    /// Over the rate limit (429 `rate_limited`, `Retry-After: <seconds>`; SPEC §7).
    case rateLimited(retryAfter: Int)
    case upstreamUnavailable
    case upstreamTimeout
    /// Something the decision needs cannot be reached now (a token's key source): 503
    /// `temporarily_unavailable` with `Retry-After`; the credential may be fine.
    case temporarilyUnavailable(retryAfter: Int)

    package var status: Int {
        switch self {
        case .invalidRequest: 400
        case .unauthorized, .invalidToken: 401
        case .accessDenied, .insufficientScope: 403
        case .routeNotFound: 404
        case .methodNotAllowed: 405
        case .requestTimeout: 408
        case .payloadTooLarge: 413
        case .headersTooLarge: 431
        case .rateLimited: 429
        case .upstreamUnavailable: 502
        case .upstreamTimeout: 504
        case .temporarilyUnavailable: 503
        }
    }

    package var code: StaticString {
        switch self {
        case .invalidRequest: "invalid_request"
        case .unauthorized: "unauthorized"
        case .invalidToken: "invalid_token"
        case .accessDenied: "access_denied"
        case .insufficientScope: "insufficient_scope"
        case .routeNotFound: "route_not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .requestTimeout: "request_timeout"
        case .payloadTooLarge: "payload_too_large"
        case .headersTooLarge: "headers_too_large"
        case .rateLimited: "rate_limited"
        case .upstreamUnavailable: "upstream_unavailable"
        case .upstreamTimeout: "upstream_timeout"
        case .temporarilyUnavailable: "temporarily_unavailable"
        }
    }

    package var description: StaticString {
        switch self {
        case .invalidRequest: "The request is malformed."
        case .unauthorized: "Authentication is required."
        case .invalidToken: "The credential is invalid."
        case .accessDenied: "Access to this resource is denied."
        case .insufficientScope: "The credential lacks a required permission."
        case .routeNotFound: "No route matches this path."
        case .methodNotAllowed: "The method is not allowed on this route."
        case .requestTimeout: "The request was not received in time."
        case .payloadTooLarge: "The request body is too large."
        case .headersTooLarge: "The request head is too large."
        case .rateLimited: "Too many requests; retry later."
        case .upstreamUnavailable: "The upstream service is unavailable."
        case .upstreamTimeout: "The upstream service did not answer in time."
        case .temporarilyUnavailable: "The keys to check the credential cannot be fetched now; retry later."
        }
    }

    /// The error for a request-head parse failure (SPEC §13, §14).
    package init(_ error: HTTPParseError) {
        switch error {
        case .headTooLarge, .tooManyHeaders: self = .headersTooLarge
        case .badRequest: self = .invalidRequest
        }
    }
}
