/// A route's authorization rules (SPEC §6), checked after authentication.
package struct RouteAuthorization: Sendable {
    package let require: [String]
    package let requireAny: [String]
    package let requireRole: [String]
    package let matchClaims: [ClaimMatch]

    package init(require: [String], requireAny: [String], requireRole: [String], matchClaims: [ClaimMatch]) {
        self.require = require
        self.requireAny = requireAny
        self.requireRole = requireRole
        self.matchClaims = matchClaims
    }

    /// No rule at all: every authenticated (or anonymous, with `auth optional`) caller passes.
    package var isEmpty: Bool { require.isEmpty && requireAny.isEmpty && requireRole.isEmpty && matchClaims.isEmpty }

    /// Checks `identity` (nil: anonymous) in the SPEC's order: permissions, then roles, then
    /// claims. `parameter` returns a captured path parameter's bytes by name.
    package func evaluate(
        _ identity: Identity?, _ resolved: ResolvedIdentity?, parameter: (String) -> [UInt8]?
    ) -> AuthorizationResult {
        guard !isEmpty else { return .allowed }
        guard let identity, let resolved else { return .unauthenticated }
        if !require.allSatisfy(resolved.permissions.contains) {
            return .insufficientScope(require.joined(separator: " "))
        }
        if !requireAny.isEmpty && !requireAny.contains(where: resolved.permissions.contains) {
            return .insufficientScope(requireAny.joined(separator: " "))
        }
        if !requireRole.isEmpty && !requireRole.contains(where: resolved.roles.contains) {
            return .denied("role_missing")
        }
        for match in matchClaims {
            guard let value = identity.value(of: match.claim), let captured = parameter(match.parameter),
                  value.utf8.elementsEqual(captured) else { return .denied("claim_mismatch") }
        }
        return .allowed
    }
}

/// The outcome of `RouteAuthorization.evaluate`.
package enum AuthorizationResult: Sendable, Equatable {
    case allowed
    /// Rules exist but nobody authenticated (`auth optional` without a credential): 401.
    case unauthenticated
    /// A permission is missing: 403 `insufficient_scope` with `scope="<required>"`.
    case insufficientScope(String)
    /// A role or claim check failed: 403 `access_denied`; the reason is for the log.
    case denied(String)
}

extension Identity {
    /// The identity field `match_claim` compares.
    package func value(of claim: IdentityClaim) -> String? {
        switch claim {
        case .userID: userID
        case .subject: subject ?? userID
        case .orgID: orgID
        case .email: email
        case .name: name
        }
    }
}
