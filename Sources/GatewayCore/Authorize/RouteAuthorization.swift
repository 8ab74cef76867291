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
            return .roleMissing
        }
        for match in matchClaims {
            // The upstream sees the segment decoded: compare the claim with what it will see.
            guard let value = identity.value(of: match.claim), let captured = parameter(match.parameter),
                  let segment = Self.decodedSegment(captured) else { return .claimMismatch }
            guard value.utf8.elementsEqual(segment) else { return .claimMismatch }
        }
        return .allowed
    }
}

extension RouteAuthorization {
    /// A normalized path segment percent-decoded, as an upstream reads it; nil when the decoded
    /// form holds a `/` or a control byte (no claim may equal a segment that reads as two, or
    /// as a control sequence) or the escapes are malformed.
    package static func decodedSegment(_ segment: [UInt8]) -> [UInt8]? {
        guard segment.contains(UInt8(ascii: "%")) else {
            return segment.contains(where: isForbiddenInSegment) ? nil : segment
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(segment.count)
        var index = 0
        while index < segment.count {
            var byte = segment[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < segment.count, let high = PathNormalizer.hexValue(segment[index + 1]),
                      let low = PathNormalizer.hexValue(segment[index + 2]) else { return nil }
                byte = high << 4 | low
                index += 3
            } else {
                index += 1
            }
            guard !isForbiddenInSegment(byte) else { return nil }
            decoded.append(byte)
        }
        return decoded
    }

    private static func isForbiddenInSegment(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte < 0x20 || byte == 0x7F
    }
}

/// The outcome of `RouteAuthorization.evaluate`.
package enum AuthorizationResult: Sendable, Equatable {
    case allowed
    /// Rules exist but nobody authenticated (`auth optional` without a credential): 401.
    case unauthenticated
    /// A permission is missing: 403 `insufficient_scope` with `scope="<required>"`.
    case insufficientScope(String)
    /// `require_role` names none of the caller's roles: 403 `access_denied`.
    case roleMissing
    /// A `match_claim` claim differs from its path parameter: 403 `access_denied`.
    case claimMismatch
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
