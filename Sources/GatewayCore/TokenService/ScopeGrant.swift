/// Down-scoping at the token endpoint (SPEC §10): a client may ask for a subset of its key's
/// effective permissions; asking for anything more is `invalid_scope` (RFC 6749 §3.3).
package enum ScopeGrant {
    /// The permissions an access token gets.
    /// - Parameters:
    ///   - requested: the `scope` parameter (space-separated), or nil for everything the key has.
    ///   - permissions: the key's effective permissions (roles expanded).
    /// - Returns: the granted names, sorted, without repeats.
    package static func grant(_ requested: String?, from permissions: PermissionSet) throws(OAuthError) -> [String] {
        guard let requested else { return permissions.names }
        let items = requested.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard !items.isEmpty else { throw .invalidScope }
        var granted: Set<String> = []
        for item in items {
            guard item.utf8.allSatisfy(isScopeByte), covers(permissions, item) else { throw .invalidScope }
            granted.insert(item)
        }
        return granted.sorted()
    }

    /// Whether `permissions` grant `item`: a concrete name by `contains`; a wildcard only when
    /// the key holds that wildcard or a wider one.
    package static func covers(_ permissions: PermissionSet, _ item: String) -> Bool {
        if item == "*" { return permissions.names.contains("*") }
        if item.hasSuffix(":*") {
            return permissions.names.contains("*") || permissions.names.contains(item)
        }
        return permissions.contains(item)
    }

    /// RFC 6749 §3.3 `scope-token` bytes (%x21 / %x23-5B / %x5D-7E) without `,`: permissions
    /// travel comma-separated (identity headers, the stored family scope), so `a,b` would be
    /// read as two by the gateway's store or another resource server.
    private static func isScopeByte(_ byte: UInt8) -> Bool {
        byte != UInt8(ascii: ",") && (byte == 0x21 || (0x23...0x5B).contains(byte) || (0x5D...0x7E).contains(byte))
    }
}
