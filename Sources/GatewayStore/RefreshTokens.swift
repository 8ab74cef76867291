package import GatewayCore
import GatewayCrypto
import GatewaySupport

/// A refresh token just issued, with what the access token minted beside it needs.
package struct RefreshGrant: Sendable, Equatable {
    /// The whole refresh token (`gwrt.<id>.<secret>`): returned once, only its hash is stored.
    package var token: String
    package var familyID: String
    /// The API key the family was issued for; revoking that key ends the family.
    package var keyID: String
    package var principalID: String
    /// The permissions granted at the exchange (a subset of the key's).
    package var scope: [String]
    /// When this refresh token stops working (unix seconds): its own lifetime, never past the
    /// family's absolute end.
    package var expiresAt: Int
}

/// What presenting a refresh token led to.
package enum RefreshOutcome: Sendable, Equatable {
    /// Rotated: the presented token is used up; here is its successor and the key it is bound to.
    case rotated(RefreshGrant, key: KeyRecord)
    /// Not a refresh token this store issued, or expired, or its family or key has ended.
    case invalid(reason: String)
    /// An already-used token was presented again: its whole family is now revoked (RFC 9700
    /// §4.14 reuse detection).
    case reused(familyID: String, keyID: String, principalID: String)
}

/// Refresh-token families (SPEC §10): each exchange of an API key starts a family; each
/// refresh uses up one token and issues the next in the same family. Tokens are random
/// (256 bits), stored as SHA-256 and found by their id, so a lookup never compares secrets
/// in variable time. Every change is one `BEGIN IMMEDIATE` transaction: two refreshes racing
/// with the same token cannot both win; the loser is a reuse.
extension KeyStore {
    /// The prefix of every refresh token (tells it apart from an API key or a JWT at a glance).
    package static let refreshTokenPrefix = "gwrt."

    /// Starts a family for key `keyID` and returns its first token.
    /// - Parameters:
    ///   - ttl: seconds each refresh token lives.
    ///   - familyTTL: seconds the family lives in all, however often it is refreshed.
    package func issueRefreshToken(
        keyID: String, principalID: String, scope: [String], ttl: Int, familyTTL: Int
    ) throws(StoreError) -> RefreshGrant {
        guard ttl > 0, familyTTL > 0 else { throw .invalid("refresh lifetimes must be positive") }
        return try database.transaction { () throws(StoreError) -> RefreshGrant in
            let now = clock()
            let familyID = Base64URL.encode(SecureRandom.bytes(16))
            try database.execute(
                "INSERT INTO refresh_families(id, key_id, principal_id, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(familyID), .text(keyID), .text(principalID), .text(Self.joinList(scope)), .int(now), .int(now + familyTTL)])
            let (token, expiresAt) = try insertRefreshToken(familyID: familyID, now: now, expiresAt: min(now + ttl, now + familyTTL))
            return RefreshGrant(
                token: token, familyID: familyID, keyID: keyID, principalID: principalID, scope: scope, expiresAt: expiresAt)
        }
    }

    /// Uses up `text` and issues its successor, or detects reuse, in one transaction.
    /// - Parameter ttl: seconds the successor lives (capped at the family's end).
    /// - Parameter clientKeyID: the key a client authenticated with alongside the refresh
    ///   token, if it did: the token must have come from that key (else it stays unused).
    package func rotateRefreshToken(_ text: String, ttl: Int, clientKeyID: String? = nil) throws(StoreError) -> RefreshOutcome {
        guard let presented = Self.parseRefreshToken(text) else { return .invalid(reason: "refresh_malformed") }
        return try database.transaction { () throws(StoreError) -> RefreshOutcome in
            let now = clock()
            guard let row = try refreshRow(id: presented.id),
                  ConstantTime.equals(row.secretHash, Digest.sha256(Array(presented.secret.utf8)))
            else { return .invalid(reason: "refresh_unknown") }
            if let clientKeyID, clientKeyID != row.keyID { return .invalid(reason: "refresh_client_mismatch") }
            if row.usedAt != nil {
                try endFamily(row.familyID, reason: "reuse", now: now)
                return .reused(familyID: row.familyID, keyID: row.keyID, principalID: row.principalID)
            }
            if row.revokedAt != nil { return .invalid(reason: "refresh_revoked") }
            if now >= row.expiresAt || now >= row.familyExpiresAt { return .invalid(reason: "refresh_expired") }
            guard let key = try key(id: row.keyID), Self.keyStillAuthenticates(key, now: now) else {
                try endFamily(row.familyID, reason: "key_revoked", now: now)
                return .invalid(reason: "refresh_key_revoked")
            }
            try database.execute("UPDATE refresh_tokens SET used_at = ? WHERE id = ?", [.int(now), .text(presented.id)])
            let (token, expiresAt) = try insertRefreshToken(
                familyID: row.familyID, now: now, expiresAt: min(now + max(1, ttl), row.familyExpiresAt))
            let grant = RefreshGrant(
                token: token, familyID: row.familyID, keyID: row.keyID, principalID: row.principalID,
                scope: row.scope, expiresAt: expiresAt)
            return .rotated(grant, key: key)
        }
    }

    /// Revokes the family of refresh token `text` (RFC 7009: holding the token is enough).
    /// - Returns: the family's key and principal, or nil when the token is unknown (the caller
    ///   still answers 200).
    @discardableResult
    package func revokeRefreshToken(_ text: String) throws(StoreError) -> (familyID: String, keyID: String, principalID: String)? {
        guard let presented = Self.parseRefreshToken(text) else { return nil }
        return try database.transaction { () throws(StoreError) -> (familyID: String, keyID: String, principalID: String)? in
            guard let row = try refreshRow(id: presented.id),
                  ConstantTime.equals(row.secretHash, Digest.sha256(Array(presented.secret.utf8)))
            else { return nil }
            try endFamily(row.familyID, reason: "revoked", now: clock())
            return (row.familyID, row.keyID, row.principalID)
        }
    }

    /// Ends every family of key `keyID` (the key was revoked).
    /// - Returns: how many families were ended.
    @discardableResult
    package func revokeRefreshFamilies(keyID: String, reason: String) throws(StoreError) -> Int {
        try database.execute(
            "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? WHERE key_id = ? AND revoked_at IS NULL",
            [.int(clock()), .text(reason), .text(keyID)])
    }

    /// Deletes families that ended (expired or revoked) more than `retention` seconds ago.
    @discardableResult
    package func purgeRefreshFamilies(retention: Int) throws(StoreError) -> Int {
        let cutoff = clock() - retention
        return try database.transaction { () throws(StoreError) -> Int in
            try database.execute(
                "DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM refresh_families WHERE expires_at < ? OR revoked_at < ?)",
                [.int(cutoff), .int(cutoff)])
            return try database.execute(
                "DELETE FROM refresh_families WHERE expires_at < ? OR revoked_at < ?", [.int(cutoff), .int(cutoff)])
        }
    }

    /// `gwrt.<id>.<secret>` split; nil for anything else.
    static func parseRefreshToken(_ text: String) -> (id: String, secret: String)? {
        guard text.hasPrefix(refreshTokenPrefix), text.utf8.count <= 128 else { return nil }
        let parts = text.dropFirst(refreshTokenPrefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 22, parts[1].utf8.count == 43,
              parts.allSatisfy({ Base64URL.decode(String($0)) != nil })
        else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// Whether the key a family is bound to would still be accepted: active, not expired, and
    /// (for a rotated-away key) still inside its grace period.
    static func keyStillAuthenticates(_ key: KeyRecord, now: Int) -> Bool {
        guard key.active else { return false }
        if let expires = key.expiresAt, now >= expires { return false }
        if let grace = key.graceUntil, now >= grace { return false }
        return true
    }

    private struct RefreshRow {
        var familyID: String
        var secretHash: [UInt8]
        var expiresAt: Int
        var usedAt: Int?
        var keyID: String
        var principalID: String
        var scope: [String]
        var familyExpiresAt: Int
        var revokedAt: Int?
    }

    private func refreshRow(id: String) throws(StoreError) -> RefreshRow? {
        try database.query(
            """
            SELECT t.family_id, t.secret_sha256, t.expires_at, t.used_at, f.key_id, f.principal_id, f.scope, f.expires_at, f.revoked_at
            FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.id = ?
            """,
            [.text(id)]
        ) { s throws(StoreError) in
            RefreshRow(
                familyID: s.text(0), secretHash: s.optionalBlob(1) ?? [], expiresAt: s.int(2), usedAt: s.optionalInt(3),
                keyID: s.text(4), principalID: s.text(5), scope: Self.splitList(s.text(6)), familyExpiresAt: s.int(7),
                revokedAt: s.optionalInt(8))
        }.first
    }

    private func insertRefreshToken(familyID: String, now: Int, expiresAt: Int) throws(StoreError) -> (String, Int) {
        let id = Base64URL.encode(SecureRandom.bytes(16))
        let secret = Base64URL.encode(SecureRandom.bytes(32))
        try database.execute(
            "INSERT INTO refresh_tokens(id, family_id, secret_sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            [.text(id), .text(familyID), .blob(Digest.sha256(Array(secret.utf8))), .int(now), .int(expiresAt)])
        return (Self.refreshTokenPrefix + id + "." + secret, expiresAt)
    }

    private func endFamily(_ familyID: String, reason: String, now: Int) throws(StoreError) {
        try database.execute(
            "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
            [.int(now), .text(reason), .text(familyID)])
    }
}
