/// `roles { ... }` compiled (SPEC §5): each role's permissions with every `@role` it includes
/// expanded, transitively. Validation has already refused unknown roles and cycles.
package final class RoleTable: Sendable {
    /// Role name → the roles it stands for (itself and everything it includes).
    private let closure: [String: Set<String>]
    /// Role name → its permissions, includes expanded.
    private let grants: [String: [String]]

    package init(_ roles: [RoleConfig]) {
        var byName: [String: RoleConfig] = [:]
        for role in roles { byName[role.name] = role }
        var closure: [String: Set<String>] = [:]
        var grants: [String: [String]] = [:]
        for role in roles {
            var reached: Set<String> = [role.name]
            var pending = role.includes
            while let next = pending.popLast() {
                guard reached.insert(next).inserted, let included = byName[next] else { continue }
                pending += included.includes
            }
            closure[role.name] = reached
            grants[role.name] = reached.sorted().flatMap { byName[$0]?.permissions ?? [] }
        }
        self.closure = closure
        self.grants = grants
    }

    /// What an identity may do: its direct permissions plus those of its roles (roles the
    /// configuration does not define grant nothing), and every role it holds, included ones too.
    package func resolve(_ identity: Identity) -> ResolvedIdentity {
        var permissions = identity.permissions
        var roles: Set<String> = []
        for role in identity.roles {
            permissions += grants[role] ?? []
            roles.formUnion(closure[role] ?? [role])
        }
        return ResolvedIdentity(permissions: PermissionSet(permissions), roles: roles)
    }
}

/// An identity's effective permissions and roles, computed once per identity (and cached with
/// its rendered headers), never per request.
package struct ResolvedIdentity: Sendable, Equatable {
    package var permissions: PermissionSet
    /// Held roles, including the roles they include (`admin` with `@writer` holds `writer`).
    package var roles: Set<String>
}
