package import GatewayCore

/// A principal (an agent or a user) as the admin API shows it.
package struct PrincipalRecord: Sendable, Equatable {
    package var id: String
    package var name: String?
    package var orgID: String?
    package var email: String?
    package var createdAt: Int
}

/// A change to a principal: a field that is nil stays; `.some(nil)` clears it.
package struct PrincipalPatch: Sendable, Equatable {
    package var name: String?? = nil
    package var orgID: String?? = nil
    package var email: String?? = nil
    package init() {}
}

/// A change to a key (`PATCH /admin/keys/{id}`): a field that is nil stays; for the optional
/// ones `.some(nil)` clears.
package struct KeyPatch: Sendable, Equatable {
    package var active: Bool? = nil
    package var permissions: [String]? = nil
    package var roles: [String]? = nil
    package var rateLimit: String?? = nil
    package var expiresAt: Int?? = nil
    package init() {}
}

/// Which keys a listing returns, and where its page starts.
package struct KeyFilter: Sendable, Equatable {
    package var principalID: String? = nil
    package var active: Bool? = nil
    /// The last id of the previous page (ids order the listing).
    package var after: String? = nil
    package var limit = 100
    package init() {}
}

/// The admin API's store operations (SPEC §11). Each write is one transaction and bumps the
/// change counter when the request path must notice it (keys, revocations).
extension KeyStore {
    // MARK: Principals

    private static let principalColumns = "id, name, org_id, email, created_at"

    private static func principal(_ s: Statement) -> PrincipalRecord {
        PrincipalRecord(id: s.text(0), name: s.optionalText(1), orgID: s.optionalText(2), email: s.optionalText(3), createdAt: s.int(4))
    }

    /// Principals that are not deleted, ordered by id, after `after`.
    package func listPrincipals(after: String?, limit: Int) throws(StoreError) -> [PrincipalRecord] {
        try database.query(
            "SELECT \(Self.principalColumns) FROM principals WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?",
            [.text(after ?? ""), .int(limit)]) { s throws(StoreError) in Self.principal(s) }
    }

    package func principal(id: String) throws(StoreError) -> PrincipalRecord? {
        try database.query(
            "SELECT \(Self.principalColumns) FROM principals WHERE id = ? AND deleted_at IS NULL", [.text(id)]
        ) { s throws(StoreError) in Self.principal(s) }.first
    }

    /// - Throws: `conflict` when the id exists (deleted ids are not reused: the audit trail names them).
    package func createPrincipal(id: String, name: String?, orgID: String?, email: String?) throws(StoreError) -> PrincipalRecord {
        try database.transaction { () throws(StoreError) -> PrincipalRecord in
            guard try database.scalarInt("SELECT 1 FROM principals WHERE id = ?", [.text(id)]) == nil else {
                throw .conflict("principal \(id) exists")
            }
            try database.execute(
                "INSERT INTO principals(id, name, org_id, email, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(id), .optional(name), .optional(orgID), .optional(email), .int(clock())])
            return PrincipalRecord(id: id, name: name, orgID: orgID, email: email, createdAt: clock())
        }
    }

    package func updatePrincipal(id: String, _ patch: PrincipalPatch) throws(StoreError) -> PrincipalRecord {
        try database.transaction { () throws(StoreError) -> PrincipalRecord in
            guard var record = try principal(id: id) else { throw .notFound("no principal \(id)") }
            if let name = patch.name { record.name = name }
            if let orgID = patch.orgID { record.orgID = orgID }
            if let email = patch.email { record.email = email }
            try database.execute(
                "UPDATE principals SET name = ?, org_id = ?, email = ? WHERE id = ?",
                [.optional(record.name), .optional(record.orgID), .optional(record.email), .text(id)])
            return record
        }
    }

    /// Deletes a principal: every key of it stops at once and its refresh families end; the row
    /// stays (marked deleted) for the audit trail.
    /// - Returns: how many keys were deactivated.
    @discardableResult
    package func deletePrincipal(id: String) throws(StoreError) -> Int {
        try database.transaction { () throws(StoreError) -> Int in
            guard try principal(id: id) != nil else { throw .notFound("no principal \(id)") }
            try database.execute("UPDATE principals SET deleted_at = ? WHERE id = ?", [.int(clock()), .text(id)])
            let keys = try database.execute("UPDATE api_keys SET active = 0 WHERE principal_id = ? AND active = 1", [.text(id)])
            // Revoked, not just switched off: a deleted principal's keys never come back.
            try database.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL", [.int(clock()), .text(id)])
            try database.execute(
                "UPDATE refresh_families SET revoked_at = ?, revoked_reason = 'principal_deleted' WHERE principal_id = ? AND revoked_at IS NULL",
                [.int(clock()), .text(id)])
            try bumpChangeCounter()
            return keys
        }
    }

    // MARK: Keys

    /// Keys (no hashes) matching `filter`, ordered by id.
    package func listKeys(_ filter: KeyFilter) throws(StoreError) -> [KeyRecord] {
        var sql = "SELECT \(Self.columns) FROM api_keys WHERE revoked_at IS NULL AND id > ?"
        var arguments: [SQLValue] = [.text(filter.after ?? "")]
        if let principalID = filter.principalID {
            sql += " AND principal_id = ?"
            arguments.append(.text(principalID))
        }
        if let active = filter.active {
            sql += " AND active = ?"
            arguments.append(.int(active ? 1 : 0))
        }
        sql += " ORDER BY id LIMIT ?"
        arguments.append(.int(filter.limit))
        return try database.query(sql, arguments) { s throws(StoreError) in Self.record(s, withHashes: false) }
    }

    /// Key `id` unless it was revoked (`DELETE`): the admin API shows revoked keys only in the
    /// audit trail, and never brings one back.
    package func liveKey(id: String) throws(StoreError) -> KeyRecord? {
        try database.query(
            "SELECT \(Self.columns) FROM api_keys WHERE id = ? AND revoked_at IS NULL", [.text(id)]
        ) { s throws(StoreError) in Self.record(s, withHashes: false) }.first
    }

    /// Applies `patch` to key `id`. Deactivating a key ends its refresh families, as revoking
    /// does; unlike revoking, `active: true` turns it on again.
    /// - Throws: `notFound` (also for a revoked key).
    package func updateKey(id: String, _ patch: KeyPatch) throws(StoreError) -> KeyRecord {
        try database.transaction { () throws(StoreError) -> KeyRecord in
            guard var record = try liveKey(id: id) else { throw .notFound("no key with id \(id)") }
            if let active = patch.active { record.active = active }
            if let permissions = patch.permissions { record.permissions = permissions }
            if let roles = patch.roles { record.roles = roles }
            if let rateLimit = patch.rateLimit { record.rateLimit = rateLimit }
            if let expiresAt = patch.expiresAt { record.expiresAt = expiresAt }
            try database.execute(
                "UPDATE api_keys SET active = ?, permissions = ?, roles = ?, rate_limit = ?, expires_at = ? WHERE id = ?",
                [.int(record.active ? 1 : 0), .text(Self.joinList(record.permissions)), .text(Self.joinList(record.roles)),
                 .optional(record.rateLimit), .optional(record.expiresAt), .text(id)])
            if !record.active { try revokeRefreshFamilies(keyID: id, reason: "key_revoked") }
            try bumpChangeCounter()
            return record
        }
    }

    /// Creates a key for an existing principal (the admin API never creates principals
    /// implicitly). - Throws: `notFound` for an unknown or deleted principal.
    package func createKey(
        forPrincipal id: String, name: String, permissions: [String], roles: [String], rateLimit: String?, expiresAt: Int?,
        prefix: String
    ) throws(StoreError) -> (record: KeyRecord, fullKey: String) {
        guard let principal = try principal(id: id) else { throw .notFound("no principal \(id)") }
        return try createKey(
            name: name, principal: id, permissions: permissions, roles: roles, rateLimit: rateLimit, expiresAt: expiresAt,
            orgID: principal.orgID, prefix: prefix)
    }

    // MARK: Revocations

    /// Revokes every token of `principalID` issued before `issuedBefore` (Unix seconds), and
    /// the refresh families begun by then (their refresh tokens would mint new access tokens
    /// past the cut-off); a later call with an earlier time keeps the later one.
    package func revokePrincipalTokens(principalID: String, issuedBefore: Int) throws(StoreError) {
        try database.transaction { () throws(StoreError) in
            try database.execute(
                """
                INSERT INTO principal_revocations(principal_id, issued_before) VALUES (?, ?)
                ON CONFLICT(principal_id) DO UPDATE SET issued_before = MAX(issued_before, excluded.issued_before)
                """, [.text(principalID), .int(issuedBefore)])
            try database.execute(
                """
                UPDATE refresh_families SET revoked_at = ?, revoked_reason = 'principal_revoked'
                WHERE principal_id = ? AND revoked_at IS NULL AND created_at <= ?
                """, [.int(clock()), .text(principalID), .int(issuedBefore)])
            try bumpChangeCounter()
        }
    }
}
