/// One API key's stored settings. Never holds a secret or a whole key.
///
/// Hashes (`secretHash`, `legacyHash`) are filled only in records from
/// `KeyStore.loadIndexSnapshot()`; `listKeys()` and `key(id:)` leave them `nil`, and
/// `description` never prints them, so listings cannot leak them.
package struct KeyRecord: Sendable, Equatable, CustomStringConvertible {
    /// The 12-character public id.
    package var id: String
    /// The owning principal's id.
    package var principalID: String
    /// Human label.
    package var name: String
    /// The key prefix (`gw_`; for a legacy key its legacy prefix).
    package var prefix: String
    /// Direct permissions.
    package var permissions: [String]
    /// Roles (expanded by the authorizer).
    package var roles: [String]
    /// Rate limit as configured text (`100/min`), or `nil` for the route default.
    package var rateLimit: String?
    /// Organization id, or `nil`.
    package var orgID: String?
    /// Unix seconds.
    package var createdAt: Int
    /// Unix seconds; `nil` = never expires. The key is refused at and after this instant.
    package var expiresAt: Int?
    /// Unix seconds of the last recorded use (batched, approximate).
    package var lastUsedAt: Int?
    /// `false` once revoked.
    package var active: Bool
    /// The id of the key this one replaced by rotation.
    package var rotatedFrom: String?
    /// Unix seconds after which a rotated-away key stops working.
    package var graceUntil: Int?
    /// Whether this is an imported legacy key (looked up by the hash of the whole key).
    package var isLegacy: Bool
    /// SHA-256 of the secret (snapshot only; `nil` for legacy keys and in listings).
    package var secretHash: [UInt8]?
    /// SHA-256 of the whole legacy key (snapshot only).
    package var legacyHash: [UInt8]?

    /// A record with every field (the store and tests build these; hashes default to none).
    package init(
        id: String, principalID: String, name: String, prefix: String, permissions: [String], roles: [String],
        rateLimit: String?, orgID: String?, createdAt: Int, expiresAt: Int?, lastUsedAt: Int?, active: Bool,
        rotatedFrom: String?, graceUntil: Int?, isLegacy: Bool, secretHash: [UInt8]? = nil, legacyHash: [UInt8]? = nil
    ) {
        self.id = id
        self.principalID = principalID
        self.name = name
        self.prefix = prefix
        self.permissions = permissions
        self.roles = roles
        self.rateLimit = rateLimit
        self.orgID = orgID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.active = active
        self.rotatedFrom = rotatedFrom
        self.graceUntil = graceUntil
        self.isLegacy = isLegacy
        self.secretHash = secretHash
        self.legacyHash = legacyHash
    }

    /// Whether the key would be accepted at `now` (active, not expired, not past grace).
    package func isUsable(at now: Int) -> Bool {
        active && !(expiresAt.map { now >= $0 } ?? false) && !(graceUntil.map { now >= $0 } ?? false)
    }

    /// A copy without hashes.
    package var withoutHashes: KeyRecord {
        var copy = self
        copy.secretHash = nil
        copy.legacyHash = nil
        return copy
    }

    /// Id, name, principal and state; never hashes.
    package var description: String {
        "KeyRecord(id: \(id), name: \(name), principal: \(principalID), active: \(active))"
    }
}
