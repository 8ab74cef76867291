/// Versioned schema migrations. Each migration runs in its own write transaction together
/// with its `schema_migrations` row, so a crash leaves the schema at a whole version.
package enum Migrations {
    /// One schema step.
    struct Migration {
        let version: Int
        let sql: String
    }

    /// Every migration this build knows, in order. Append only; never edit a shipped one.
    static let all: [Migration] = [
        Migration(version: 1, sql: """
            CREATE TABLE principals (
                id TEXT PRIMARY KEY,
                name TEXT,
                org_id TEXT,
                email TEXT,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                principal_id TEXT NOT NULL REFERENCES principals(id),
                name TEXT NOT NULL,
                prefix TEXT NOT NULL,
                secret_sha256 BLOB,
                legacy_sha256 BLOB UNIQUE,
                permissions TEXT NOT NULL DEFAULT '',
                roles TEXT NOT NULL DEFAULT '',
                rate_limit TEXT,
                org_id TEXT,
                created_at INTEGER NOT NULL,
                expires_at INTEGER,
                last_used_at INTEGER,
                active INTEGER NOT NULL DEFAULT 1,
                rotated_from TEXT,
                grace_until INTEGER
            );
            CREATE INDEX api_keys_legacy_sha256 ON api_keys(legacy_sha256);
            CREATE INDEX api_keys_principal ON api_keys(principal_id);
            CREATE TABLE store_meta (
                key TEXT PRIMARY KEY,
                value TEXT
            );
            INSERT INTO store_meta(key, value) VALUES ('change_counter', '0');
            """),
        Migration(version: 2, sql: """
            CREATE TABLE revoked_tokens (
                jti TEXT PRIMARY KEY,
                expires_at INTEGER NOT NULL
            );
            CREATE INDEX revoked_tokens_expires ON revoked_tokens(expires_at);
            """),
        // The token service (SPEC §10) and the audit trail (SPEC §15).
        Migration(version: 3, sql: """
            CREATE TABLE refresh_families (
                id TEXT PRIMARY KEY,
                key_id TEXT NOT NULL,
                principal_id TEXT NOT NULL,
                scope TEXT NOT NULL DEFAULT '',
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                revoked_at INTEGER,
                revoked_reason TEXT
            );
            CREATE INDEX refresh_families_key ON refresh_families(key_id);
            CREATE INDEX refresh_families_expires ON refresh_families(expires_at);
            CREATE TABLE refresh_tokens (
                id TEXT PRIMARY KEY,
                family_id TEXT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
                secret_sha256 BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER
            );
            CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
            CREATE TABLE audit_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time INTEGER NOT NULL,
                kind TEXT NOT NULL,
                outcome TEXT NOT NULL,
                principal_id TEXT,
                key_id TEXT,
                actor TEXT,
                detail TEXT NOT NULL DEFAULT '',
                count INTEGER NOT NULL DEFAULT 1
            );
            CREATE INDEX audit_events_time ON audit_events(time);
            CREATE INDEX audit_events_principal ON audit_events(principal_id, time);
            """),
        // The admin API (SPEC §11): deleted principals and revoked keys stay for the audit trail
        // (a revoked key is never reactivated); revocation of every token of a principal
        // issued before a time.
        Migration(version: 4, sql: """
            ALTER TABLE principals ADD COLUMN deleted_at INTEGER;
            ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
            CREATE TABLE principal_revocations (
                principal_id TEXT PRIMARY KEY,
                issued_before INTEGER NOT NULL
            );
            """),
    ]

    /// The newest schema version this build knows.
    package static var latestVersion: Int { all.last?.version ?? 0 }

    /// The schema version recorded in `database` (0 for an empty file).
    package static func currentVersion(of database: Database) throws(StoreError) -> Int {
        try ensureTable(database)
        return try database.scalarInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0
    }

    /// Applies every pending migration. Running it again is a no-op; concurrent runners are
    /// serialized by `BEGIN IMMEDIATE` and re-check the version inside the transaction.
    /// - Returns: the versions applied by this call.
    /// - Throws: `StoreError.Kind.schemaTooNew` when the file is newer than this build.
    @discardableResult
    package static func migrate(_ database: Database, now: Int) throws(StoreError) -> [Int] {
        try ensureTable(database)
        var applied: [Int] = []
        for migration in all {
            let didApply = try database.transaction { () throws(StoreError) -> Bool in
                let current = try database.scalarInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0
                if current > latestVersion {
                    throw StoreError(kind: .schemaTooNew, message: "store schema version \(current) is newer than this gateway knows (\(latestVersion)); upgrade the gateway")
                }
                guard current < migration.version else { return false }
                try database.executeScript(migration.sql)
                try database.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", [.int(migration.version), .int(now)])
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        let final = try currentVersion(of: database)
        if final > latestVersion {
            throw StoreError(kind: .schemaTooNew, message: "store schema version \(final) is newer than this gateway knows (\(latestVersion)); upgrade the gateway")
        }
        return applied
    }

    private static func ensureTable(_ database: Database) throws(StoreError) {
        try database.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)")
    }
}
