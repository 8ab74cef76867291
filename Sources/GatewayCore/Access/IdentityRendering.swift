import GatewaySupport

/// What an identity's rendered headers are cached under (per loop): an API key's id (its
/// identity changes only with the store, which clears the cache) or a JWT's hash (a signed
/// token's claims never change). `.none`: render per request (an introspected token, whose
/// next answer may differ).
package enum IdentityRenderKey: Hashable, Sendable {
    case none
    case apiKey(String)
    case token(TokenHash)
    /// A client certificate, by its SHA-256 fingerprint.
    case certificate(String)
}

/// An identity as the loop caches it: the header block sent upstream, what the identity may
/// do, and an API key's own rate limit, all computed once per key / token (and
/// configuration), not per request.
package struct RenderedIdentity: Sendable {
    /// The `X-Auth-*` lines (SPEC §8), each ending in CRLF.
    package let headers: [UInt8]
    /// Effective permissions and roles (roles expanded, SPEC §5).
    package let resolved: ResolvedIdentity
    /// The key's stored limit (`keys create --rate-limit`), replacing the default (SPEC §7).
    package let keyRateLimit: RateLimitPolicy?

    package init(_ identity: Identity, roles: RoleTable) {
        resolved = roles.resolve(identity)
        var block: [UInt8] = []
        IdentityHeaders.append(identity, permissions: resolved.permissions.names, to: &block)
        headers = block
        keyRateLimit = RateLimitPolicy.ofKey(identity.rateLimit)
    }
}

/// The identity headers sent upstream (SPEC §8), written after every client `X-Auth-*` was
/// stripped. Values are written byte for byte (UTF-8): authentication refused every identity
/// that a header cannot carry exactly (`Identity.isRepresentableInHeaders`), so nothing here
/// can break the head or turn one principal into another.
package enum IdentityHeaders {
    /// - Parameter permissions: the effective permissions (roles expanded), sorted.
    package static func append(_ identity: Identity, permissions: [String], to out: inout [UInt8]) {
        field("X-Auth-User-Id", identity.userID, &out)
        if let org = identity.orgID { field("X-Auth-Org-Id", org, &out) }
        if let email = identity.email { field("X-Auth-Email", email, &out) }
        if let name = identity.name { field("X-Auth-Name", name, &out) }
        if !permissions.isEmpty { field("X-Auth-Permissions", permissions.joined(separator: ","), &out) }
        if !identity.roles.isEmpty { field("X-Auth-Roles", identity.roles.sorted().joined(separator: ","), &out) }
        field("X-Auth-Method", identity.method.rawValue, &out)
        if let key = identity.keyID { field("X-Auth-Key-Id", key, &out) }
        if let token = identity.tokenID { field("X-Auth-Token-Id", token, &out) }
    }

    private static func field(_ name: StaticString, _ value: String, _ out: inout [UInt8]) {
        guard !value.isEmpty else { return }
        assert(!value.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "identity values are checked at authentication")
        out.append(name)
        out.append(": ")
        out.append(contentsOf: value.utf8)
        out.append("\r\n")
    }
}
