package import GatewayCore
import GatewayCrypto
import GatewaySupport

/// A consistent read of every key the authenticator needs, with the change counter read in
/// the same transaction.
package struct KeySnapshot: Sendable {
    /// `store_meta.change_counter` at the time of the read.
    package let changeCounter: Int
    /// Every key row, with hashes.
    package let records: [KeyRecord]
    /// The `jti` of every revoked token that has not expired yet.
    package var revokedTokenIDs: [String] = []
    /// Per principal: the time before which its tokens are revoked.
    package var principalRevocations: [String: Int] = [:]
}

extension APIKeyIndex {
    /// An index over a store snapshot.
    package convenience init(snapshot: KeySnapshot) {
        self.init(
            records: snapshot.records, changeCounter: snapshot.changeCounter, revokedTokenIDs: snapshot.revokedTokenIDs,
            principalRevocations: snapshot.principalRevocations)
    }
}

/// Principals and API keys in SQLite. Stores only `sha256(secret)` (or, for imported legacy
/// keys, `sha256(whole key)`); a new key's full text is returned once and never stored.
///
/// Confined like its `Database` (not `Sendable`): use it from one thread at a time. The request
/// path never calls it; the server builds an `APIKeyIndex` from `loadIndexSnapshot()` and reloads
/// when `changeCounter()` moves.
package final class KeyStore {
    /// The connection (owned; closed by `close()`).
    package let database: Database
    package let clock: () -> Int

    static let columns = """
        id, principal_id, name, prefix, permissions, roles, rate_limit, org_id, created_at, \
        expires_at, last_used_at, active, rotated_from, grace_until, legacy_sha256 IS NOT NULL
        """
    private static let hashColumns = "secret_sha256, legacy_sha256"

    /// Opens the store at `path` and applies pending migrations.
    /// - Parameter clock: Unix seconds; injected for tests.
    /// - Throws: `StoreError` (open, WAL, migration, `schemaTooNew`).
    package convenience init(path: String, clock: @escaping () -> Int = WallClock.now) throws(StoreError) {
        try self.init(database: Database(path: path), clock: clock)
    }

    /// Takes ownership of `database` and migrates it. On failure the database is closed.
    package init(database: Database, clock: @escaping () -> Int = WallClock.now) throws(StoreError) {
        self.database = database
        self.clock = clock
        do {
            try Migrations.migrate(database, now: clock())
        } catch {
            database.close()
            throw error
        }
    }

    /// Closes the connection. Idempotent.
    package func close() { database.close() }

    // MARK: Principals

    /// Creates principal `id` unless it exists (existing rows are left unchanged).
    /// - Returns: whether a row was created.
    @discardableResult
    package func createPrincipalIfMissing(id: String, name: String? = nil, orgID: String? = nil, email: String? = nil) throws(StoreError) -> Bool {
        try database.transaction { () throws(StoreError) -> Bool in
            try insertPrincipal(id: id, name: name, orgID: orgID, email: email)
        }
    }

    private func insertPrincipal(id: String, name: String?, orgID: String?, email: String?) throws(StoreError) -> Bool {
        guard !id.isEmpty else { throw .invalid("principal id must not be empty") }
        // A deleted principal stays deleted: no new keys (or tokens through them) for it.
        if try database.scalarInt("SELECT 1 FROM principals WHERE id = ? AND deleted_at IS NOT NULL", [.text(id)]) != nil {
            throw .invalid("principal \(id) was deleted")
        }
        try database.execute(
            "INSERT OR IGNORE INTO principals(id, name, org_id, email, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(id), .optional(name), .optional(orgID), .optional(email), .int(clock())])
        return database.changes > 0
    }

    // MARK: Keys

    /// Creates a key for `principal` (creating the principal when missing).
    /// - Returns: the stored record (no hashes) and the whole key, which is not stored and
    ///   cannot be shown again.
    /// - Throws: `StoreError` (invalid prefix or name, SQLite failure).
    package func createKey(
        name: String, principal: String, permissions: [String] = [], roles: [String] = [],
        rateLimit: String? = nil, expiresAt: Int? = nil, orgID: String? = nil, prefix: String
    ) throws(StoreError) -> (record: KeyRecord, fullKey: String) {
        guard APIKeyFormat.isValidPrefix(prefix) else { throw .invalid("invalid key prefix") }
        guard !name.isEmpty else { throw .invalid("key name must not be empty") }
        return try database.transaction { () throws(StoreError) -> (record: KeyRecord, fullKey: String) in
            _ = try insertPrincipal(id: principal, name: nil, orgID: orgID, email: nil)
            return try insertNewKey(
                name: name, principal: principal, permissions: permissions, roles: roles,
                rateLimit: rateLimit, expiresAt: expiresAt, orgID: orgID, prefix: prefix, rotatedFrom: nil)
        }
    }

    private func insertNewKey(
        name: String, principal: String, permissions: [String], roles: [String],
        rateLimit: String?, expiresAt: Int?, orgID: String?, prefix: String, rotatedFrom: String?
    ) throws(StoreError) -> (record: KeyRecord, fullKey: String) {
        let generated = APIKeyFormat.generate(prefix: prefix)
        let record = KeyRecord(
            id: generated.id, principalID: principal, name: name, prefix: prefix,
            permissions: permissions, roles: roles, rateLimit: rateLimit, orgID: orgID,
            createdAt: clock(), expiresAt: expiresAt, lastUsedAt: nil, active: true,
            rotatedFrom: rotatedFrom, graceUntil: nil, isLegacy: false, secretHash: nil, legacyHash: nil)
        try insert(record, secretHash: Digest.sha256(Array(generated.secret.utf8)), legacyHash: nil)
        return (record, generated.key)
    }

    private func insert(_ r: KeyRecord, secretHash: [UInt8]?, legacyHash: [UInt8]?) throws(StoreError) {
        try database.execute(
            """
            INSERT INTO api_keys(id, principal_id, name, prefix, secret_sha256, legacy_sha256, permissions, roles,
                rate_limit, org_id, created_at, expires_at, last_used_at, active, rotated_from, grace_until)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 1, ?, NULL)
            """,
            [.text(r.id), .text(r.principalID), .text(r.name), .text(r.prefix), .optional(secretHash), .optional(legacyHash),
             .text(Self.joinList(r.permissions)), .text(Self.joinList(r.roles)), .optional(r.rateLimit), .optional(r.orgID),
             .int(r.createdAt), .optional(r.expiresAt), .optional(r.rotatedFrom)])
        try bumpChangeCounter()
    }

    /// Every key, oldest first, without hashes.
    package func listKeys() throws(StoreError) -> [KeyRecord] {
        try database.query("SELECT \(Self.columns) FROM api_keys ORDER BY created_at, id") { s throws(StoreError) in
            Self.record(s, withHashes: false)
        }
    }

    /// The key with `id`, without hashes, or `nil`.
    package func key(id: String) throws(StoreError) -> KeyRecord? {
        try database.query("SELECT \(Self.columns) FROM api_keys WHERE id = ?", [.text(id)]) { s throws(StoreError) in
            Self.record(s, withHashes: false)
        }.first
    }

    /// Revokes key `id` (sets `active = 0`; the row stays for audit).
    /// - Returns: the updated record. - Throws: `notFound` when there is no such key.
    @discardableResult
    package func revoke(id: String) throws(StoreError) -> KeyRecord {
        try database.transaction { () throws(StoreError) -> KeyRecord in
            try database.execute("UPDATE api_keys SET active = 0, revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", [.int(clock()), .text(id)])
            guard database.changes > 0 else { throw .notFound("no key with id \(id)") }
            // The refresh tokens exchanged with the key end with it (their access tokens are
            // refused by key id once the index drops the key).
            try revokeRefreshFamilies(keyID: id, reason: "key_revoked")
            try bumpChangeCounter()
            guard let record = try key(id: id) else { throw .notFound("no key with id \(id)") }
            return record
        }
    }

    /// Replaces key `id` with a new key for the same principal and settings. The old key keeps
    /// working until `now + grace` seconds (0 = stops now); an earlier grace end is kept.
    /// - Returns: the new record and its whole key (shown once).
    /// - Throws: `notFound`; `invalidArgument` for a revoked, expired or legacy key.
    package func rotate(id: String, grace: Int = 0) throws(StoreError) -> (record: KeyRecord, fullKey: String) {
        guard grace >= 0 else { throw .invalid("grace must not be negative") }
        return try database.transaction { () throws(StoreError) -> (record: KeyRecord, fullKey: String) in
            guard let old = try key(id: id) else { throw .notFound("no key with id \(id)") }
            guard old.active else { throw .conflict("key \(id) is revoked or inactive") }
            guard !old.isLegacy else { throw .conflict("key \(id) is a legacy key; create a new key instead") }
            let now = clock()
            // The new key inherits the absolute expiry; an expired key would yield a dead key.
            if let expires = old.expiresAt, now >= expires { throw .conflict("key \(id) has expired; create a new key instead") }
            let graceEnd = min(now + grace, old.graceUntil ?? Int.max)
            try database.execute("UPDATE api_keys SET grace_until = ? WHERE id = ?", [.int(graceEnd), .text(id)])
            return try insertNewKey(
                name: old.name, principal: old.principalID, permissions: old.permissions, roles: old.roles,
                rateLimit: old.rateLimit, expiresAt: old.expiresAt, orgID: old.orgID, prefix: old.prefix, rotatedFrom: id)
        }
    }

    /// Imports a legacy key known only by the SHA-256 of the whole key (64 hex digits).
    /// It gets a fresh random id for listings and logs.
    /// - Throws: `invalidArgument` for bad hex; a SQLite constraint error when the hash exists.
    @discardableResult
    package func importLegacy(
        sha256Hex: String, prefix: String, name: String, principal: String, permissions: [String] = [],
        roles: [String] = [], rateLimit: String? = nil, expiresAt: Int? = nil, orgID: String? = nil
    ) throws(StoreError) -> KeyRecord {
        guard let hash = Self.decodeHex(sha256Hex), hash.count == 32 else {
            throw .invalid("--sha256 must be 64 hexadecimal digits")
        }
        guard APIKeyFormat.isValidPrefix(prefix) else { throw .invalid("invalid key prefix") }
        guard !name.isEmpty else { throw .invalid("key name must not be empty") }
        return try database.transaction { () throws(StoreError) -> KeyRecord in
            _ = try insertPrincipal(id: principal, name: nil, orgID: orgID, email: nil)
            let record = KeyRecord(
                id: APIKeyFormat.randomID(), principalID: principal, name: name, prefix: prefix,
                permissions: permissions, roles: roles, rateLimit: rateLimit, orgID: orgID,
                createdAt: clock(), expiresAt: expiresAt, lastUsedAt: nil, active: true,
                rotatedFrom: nil, graceUntil: nil, isLegacy: true, secretHash: nil, legacyHash: nil)
            try insert(record, secretHash: nil, legacyHash: hash)
            return record
        }
    }

    /// Records last-use times in one transaction (unknown ids are ignored; a time never moves
    /// back). Does not bump the change counter: it does not change authentication.
    package func recordLastUsed(_ uses: [(id: String, time: Int)]) throws(StoreError) {
        guard !uses.isEmpty else { return }
        try database.transaction { () throws(StoreError) in
            let statement = try database.prepare(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
            for use in uses {
                statement.bind([.int(use.time), .text(use.id), .int(use.time)])
                while try statement.step() {}
                statement.reset()
            }
        }
    }

    /// The change counter: bumped by every write that changes authentication (create, revoke,
    /// rotate, import). Cheap to poll.
    package func changeCounter() throws(StoreError) -> Int {
        Int(try database.scalarText("SELECT value FROM store_meta WHERE key = 'change_counter'") ?? "0") ?? 0
    }

    /// How long a revoked token id is kept past the token's `exp` (seconds): verifiers accept
    /// a token until `exp` plus their `leeway`, which is at most this.
    package static let revokedTokenGrace = JWTBlockConfig.maxLeewaySeconds

    /// Every key with its hashes and the change counter, read in one snapshot.
    package func loadIndexSnapshot() throws(StoreError) -> KeySnapshot {
        try database.readTransaction { () throws(StoreError) -> KeySnapshot in
            let counter = try changeCounter()
            let records = try database.query("SELECT \(Self.columns), \(Self.hashColumns) FROM api_keys") { s throws(StoreError) in
                Self.record(s, withHashes: true)
            }
            var snapshot = KeySnapshot(changeCounter: counter, records: records)
            snapshot.revokedTokenIDs = try database.query(
                "SELECT jti FROM revoked_tokens WHERE expires_at > ?", [.int(clock() - Self.revokedTokenGrace)]) { s throws(StoreError) in s.text(0) }
            let revocations = try database.query("SELECT principal_id, issued_before FROM principal_revocations") {
                s throws(StoreError) in (s.text(0), s.int(1))
            }
            snapshot.principalRevocations = Dictionary(revocations, uniquingKeysWith: max)
            return snapshot
        }
    }

    /// Revokes the token with id `jti` until `expiresAt` (its `exp`; unix seconds), after which
    /// the entry is dropped: an expired token fails on its own. Expired entries are purged here.
    package func revokeToken(jti: String, expiresAt: Int) throws(StoreError) {
        guard !jti.isEmpty else { throw .invalid("a token id is required") }
        try database.transaction { () throws(StoreError) in
            try database.execute("DELETE FROM revoked_tokens WHERE expires_at <= ?", [.int(clock() - Self.revokedTokenGrace)])
            try database.execute(
                "INSERT INTO revoked_tokens(jti, expires_at) VALUES (?, ?) ON CONFLICT(jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)",
                [.text(jti), .int(expiresAt)])
            try bumpChangeCounter()
        }
    }

    // MARK: Helpers

    func bumpChangeCounter() throws(StoreError) {
        try database.execute(
            "UPDATE store_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'change_counter'")
    }

    static func record(_ s: Statement, withHashes: Bool) -> KeyRecord {
        KeyRecord(
            id: s.text(0), principalID: s.text(1), name: s.text(2), prefix: s.text(3),
            permissions: splitList(s.text(4)), roles: splitList(s.text(5)), rateLimit: s.optionalText(6),
            orgID: s.optionalText(7), createdAt: s.int(8), expiresAt: s.optionalInt(9), lastUsedAt: s.optionalInt(10),
            active: s.int(11) != 0, rotatedFrom: s.optionalText(12), graceUntil: s.optionalInt(13), isLegacy: s.int(14) != 0,
            secretHash: withHashes ? s.optionalBlob(15) : nil, legacyHash: withHashes ? s.optionalBlob(16) : nil)
    }

    /// Lists are stored comma-separated (permissions and roles contain no commas).
    static func joinList(_ items: [String]) -> String { items.joined(separator: ",") }

    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
    }

    static func decodeHex(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2)
        var i = 0
        while i < bytes.count {
            guard let hi = nibble(bytes[i]), let lo = nibble(bytes[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
