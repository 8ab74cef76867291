/// Effective permissions (SPEC §5): exact names plus wildcards, `area:*` (every permission of
/// that area) and `*` (everything). Built once per identity, queried per request.
package struct PermissionSet: Sendable, Equatable {
    private var exact: Set<String> = []
    /// `memory:` for `memory:*`.
    private var areas: [String] = []
    private var everything = false
    /// Every granted name as written (wildcards included), sorted: what `X-Auth-Permissions` says.
    package private(set) var names: [String] = []

    package init(_ permissions: some Sequence<String>) {
        var all: Set<String> = []
        for permission in permissions where all.insert(permission).inserted {
            if permission == "*" {
                everything = true
            } else if permission.hasSuffix(":*") {
                areas.append(String(permission.dropLast()))
            } else {
                exact.insert(permission)
            }
        }
        names = all.sorted()
    }

    /// Whether `permission` (a concrete name) is granted.
    package func contains(_ permission: String) -> Bool {
        everything || exact.contains(permission) || areas.contains { permission.hasPrefix($0) }
    }
}
