import GatewayCore

/// What the access pipeline decided for a matched route (SPEC §5-§7).
enum AccessDecision {
    case allow
    case reject(GatewayError, reason: String)
    /// The JWT's `kid` may arrive with a pending JWKS fetch: park the request.
    case waitForKeys
}

extension ClientConnection {
    /// Authentication, then authorization, for the matched route: the one pipeline behind
    /// both forwarding and the decision endpoint. Sets `identity` and its rendered form.
    func decideAccess(_ route: CompiledRoute, bytes: UnsafeRawBufferPointer) -> AccessDecision {
        guard route.needsAuthentication else { return .allow }
        let outcome = authenticate(route: route, bytes: bytes)
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
            return .reject(.invalidToken, reason: reason)
        case .ambiguous(let reason):
            return .reject(.invalidRequest, reason: reason)
        }
        switch route.authorization.evaluate(identity, renderedIdentity?.resolved, parameter: loop.routeParameter) {
        case .allowed:
            return .allow
        case .unauthenticated:
            return .reject(.unauthorized, reason: "credential_missing")
        case .insufficientScope(let scope):
            return .reject(.insufficientScope(scope: scope), reason: "insufficient_scope")
        case .denied(let reason):
            return .reject(.accessDenied, reason: reason)
        }
    }
}

/// An identity as the loop caches it: the header block sent upstream and what the identity may
/// do, both computed once per API key / token (and configuration), not per request.
struct RenderedIdentity {
    let headers: [UInt8]
    let resolved: ResolvedIdentity
}
