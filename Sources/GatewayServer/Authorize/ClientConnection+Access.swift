import GatewayCore
import GatewayHTTP

/// What the access pipeline decided for a matched route (SPEC §5-§7).
enum AccessDecision {
    case allow
    case reject(GatewayError, reason: String)
    /// The JWT's `kid` may arrive with a pending JWKS fetch: park the request.
    case waitForKeys
}

extension ClientConnection {
    /// Looks up the route for `method` and the normalized path in `loop.pathScratch` (404, 405
    /// with `Allow`), then runs `decideAccess` for it. Sets `route` when a route matches.
    func routeAndDecideAccess(bytes: UnsafeRawBufferPointer, query: ByteRange?) -> AccessDecision {
        let lookup = loop.pathScratch.withUnsafeBytes {
            runtime.routes.lookup(path: $0, method: method, parameters: &loop.routeParameters)
        }
        switch lookup {
        case .notFound:
            return .reject(.routeNotFound, reason: "route_not_found")
        case .methodNotAllowed(let allow):
            return .reject(.methodNotAllowed(allow: allow), reason: "method_not_allowed")
        case .matched(let matched):
            route = matched
            return decideAccess(matched, bytes: bytes, query: query)
        }
    }

    /// Authentication, authorization, then rate limiting for the matched route: the one pipeline behind
    /// both forwarding and the decision endpoint. Sets `identity` and its rendered form.
    /// - Parameter query: the query `allow_query_token` reads (see `authenticate`).
    func decideAccess(_ route: CompiledRoute, bytes: UnsafeRawBufferPointer, query: ByteRange?) -> AccessDecision {
        guard route.needsAuthentication else { return applyRateLimit(route) ?? .allow }
        if let locked = authFailureGate() { return locked }
        let outcome = authenticate(route: route, bytes: bytes, query: query)
        if case .keysPending = outcome { return .waitForKeys }
        keyWaitDeadline = 0
        switch outcome {
        case .anonymous, .keysPending:
            break
        case .authenticated(let who, let key):
            identity = who
            identityRenderKey = key
            renderedIdentity = loop.renderedIdentity(key, who, runtime: runtime)
        case .missing:
            return .reject(.unauthorized, reason: "credential_missing")
        case .invalid(let reason):
            noteAuthFailure()
            return .reject(.invalidToken, reason: reason)
        case .ambiguous(let reason):
            return .reject(.invalidRequest, reason: reason)
        }
        switch route.authorization.evaluate(identity, renderedIdentity?.resolved, parameter: loop.routeParameter) {
        case .allowed:
            return applyRateLimit(route) ?? .allow
        case .unauthenticated:
            return .reject(.unauthorized, reason: "credential_missing")
        case .insufficientScope(let scope):
            return .reject(.insufficientScope(scope: scope), reason: "insufficient_scope")
        case .denied(let reason):
            return .reject(.accessDenied, reason: reason)
        }
    }
}

/// An identity as the loop caches it: the header block sent upstream, what the identity may
/// do, and an API key's own rate limit, all computed once per key / token (and
/// configuration), not per request.
struct RenderedIdentity {
    let headers: [UInt8]
    let resolved: ResolvedIdentity
    /// The key's stored limit (`keys create --rate-limit`), replacing the default (SPEC §7).
    let keyRateLimit: RateLimitPolicy?
}
