package import GatewayCore
import GatewaySupport

/// The JSON shapes of the store's records, shared by the CLI (`--json`) and the admin API
/// (SPEC §11). Never a hash; a key's secret only when it was just made.
extension KeyRecord {
    /// - Parameter key: the whole key, when it was just created or rotated (shown once).
    package func json(key: String? = nil) -> [UInt8] {
        var out = JSONObjectWriter()
        out.string("id", id)
        out.string("key", key)
        out.string("name", name)
        out.string("principal", principalID)
        out.strings("permissions", permissions)
        out.strings("roles", roles)
        out.nullable("rate_limit", rateLimit)
        out.nullable("org", orgID)
        out.integer("created_at", Int64(createdAt))
        out.nullable("expires_at", expiresAt)
        out.nullable("last_used_at", lastUsedAt)
        out.bool("active", active)
        out.bool("legacy", isLegacy)
        return out.finished()
    }
}

extension PrincipalRecord {
    package func json() -> [UInt8] {
        var out = JSONObjectWriter()
        out.string("id", id)
        out.nullable("name", name)
        out.nullable("org_id", orgID)
        out.nullable("email", email)
        out.integer("created_at", Int64(createdAt))
        return out.finished()
    }
}

extension AuditEvent {
    package func json() -> [UInt8] {
        var out = JSONObjectWriter()
        out.integer("id", Int64(id))
        out.integer("time", Int64(time))
        out.string("kind", kind)
        out.string("outcome", outcome)
        out.nullable("principal_id", principalID)
        out.nullable("key_id", keyID)
        out.nullable("actor", actor)
        out.string("detail", detail)
        out.integer("count", Int64(count))
        return out.finished()
    }
}
