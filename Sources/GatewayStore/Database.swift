private import CSQLite
private import Glibc

/// One SQLite connection. Owns its `sqlite3*`: `close()` releases it; `deinit` asserts (debug)
/// that `close()` ran and closes it anyway.
///
/// Thread affinity: confined. The connection is opened with `SQLITE_OPEN_NOMUTEX` (SQLite's
/// "multi-thread" mode: no per-connection mutex), so one `Database` and its statements must
/// be used by one thread at a time. The type is deliberately not `Sendable`, so the compiler
/// enforces that confinement; open one `Database` per thread that needs the store.
///
/// Opening sets: WAL journal (readers never block the writer), `synchronous=FULL` (each commit
/// fsyncs the WAL, so a crash or power loss loses no committed write), `busy_timeout` 5000 ms,
/// `foreign_keys=ON`, defensive mode (no schema-corrupting pragmas) and untrusted schema.
package final class Database {
    /// The connection; `nil` once closed (the "closed" sentinel).
    private var handle: OpaquePointer?
    /// The file path the connection was opened with.
    package let path: String

    /// Opens (creating if missing) the database at `path` and applies the connection settings.
    /// - Throws: `StoreError` when the file cannot be opened or WAL cannot be enabled.
    package init(path: String, busyTimeoutMilliseconds: Int32 = 5000) throws(StoreError) {
        self.path = path
        var db: OpaquePointer?
        Self.createPrivately(path)
        // NOMUTEX: confinement is the caller's job (see the type's documentation).
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            let extended = db.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(db)
            throw StoreError(kind: .sqlite, primaryCode: rc & 0xFF, extendedCode: extended, message: "open \(path): \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        var ignored: Int32 = 0
        _ = gw_sqlite3_db_config_int(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &ignored)
        _ = gw_sqlite3_db_config_int(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &ignored)
        do throws(StoreError) {
            let mode = try scalarText("PRAGMA journal_mode=WAL")
            guard mode?.lowercased() == "wal" else {
                throw StoreError(kind: .sqlite, message: "cannot enable WAL journal mode (got \(mode ?? "nothing"))", sql: "PRAGMA journal_mode=WAL")
            }
            try execute("PRAGMA synchronous=FULL")
            try execute("PRAGMA foreign_keys=ON")
        } catch {
            close()
            throw error
        }
    }

    /// Creates a missing database file readable by its owner only (0600), whatever the umask:
    /// it holds key metadata, the audit trail and imported legacy hashes. SQLite gives the
    /// `-wal` and `-shm` files the database file's mode. An existing file keeps its mode.
    private static func createPrivately(_ path: String) {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 { Glibc.close(fd) }
    }

    deinit {
        assert(handle == nil, "Database \(path) deallocated without close()")
        if let handle { sqlite3_close_v2(handle) }
    }

    /// Whether `close()` has run.
    package var isClosed: Bool { handle == nil }

    /// Closes the connection. Idempotent. Statements still alive keep the connection as a
    /// zombie until they are finalized (`sqlite3_close_v2`).
    package func close() {
        guard let handle else { return }
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    /// Prepares one statement. - Throws: `StoreError` (syntax, closed database).
    package func prepare(_ sql: String) throws(StoreError) -> Statement {
        let db = try openHandle()
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            let error = lastError(rc, sql: sql)
            sqlite3_finalize(stmt)
            throw error
        }
        return Statement(stmt, database: self, sql: sql)
    }

    /// Runs one statement with `arguments`, discarding rows.
    @discardableResult
    package func execute(_ sql: String, _ arguments: [SQLValue] = []) throws(StoreError) -> Int {
        let statement = try prepare(sql)
        statement.bind(arguments)
        while try statement.step() {}
        return changes
    }

    /// Runs `sql` with `arguments` and maps every row through `row`.
    package func query<T>(_ sql: String, _ arguments: [SQLValue] = [], row: (Statement) throws(StoreError) -> T) throws(StoreError) -> [T] {
        let statement = try prepare(sql)
        statement.bind(arguments)
        var out: [T] = []
        while try statement.step() { out.append(try row(statement)) }
        return out
    }

    /// The first column of the first row as text, or `nil` when there is no row or it is NULL.
    package func scalarText(_ sql: String, _ arguments: [SQLValue] = []) throws(StoreError) -> String? {
        let statement = try prepare(sql)
        statement.bind(arguments)
        guard try statement.step() else { return nil }
        return statement.optionalText(0)
    }

    /// The first column of the first row as an integer, or `nil` when there is no row or it is NULL.
    package func scalarInt(_ sql: String, _ arguments: [SQLValue] = []) throws(StoreError) -> Int? {
        let statement = try prepare(sql)
        statement.bind(arguments)
        guard try statement.step() else { return nil }
        return statement.optionalInt(0)
    }

    /// Runs several `;`-separated statements (migrations). No arguments.
    package func executeScript(_ sql: String) throws(StoreError) {
        let db = try openHandle()
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let extended = sqlite3_extended_errcode(db)
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw StoreError(kind: .sqlite, primaryCode: rc & 0xFF, extendedCode: extended, message: text, sql: sql)
        }
    }

    /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`, so the write lock is taken up
    /// front and waits up to the busy timeout). Commits when `body` returns, rolls back when it throws.
    /// Inside another transaction it is a savepoint: a failure undoes only this body, and the
    /// outer transaction commits the rest (the store thread's group commit).
    package func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        guard depth == 0 else { return try savepoint(body) }
        depth += 1
        defer { depth -= 1 }
        return try transaction(begin: "BEGIN IMMEDIATE", body)
    }

    private func savepoint<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute("SAVEPOINT nested")
        do {
            let result = try body()
            try execute("RELEASE nested")
            return result
        } catch {
            if let handle {
                _ = sqlite3_exec(handle, "ROLLBACK TO nested", nil, nil, nil)
                _ = sqlite3_exec(handle, "RELEASE nested", nil, nil, nil)
            }
            throw error
        }
    }

    /// Open write transactions (0 outside one).
    private var depth = 0

    /// Runs `body` in a read transaction (`BEGIN DEFERRED`): all its reads see one snapshot.
    package func readTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        if depth > 0 { return try body() }   // inside a write transaction: one snapshot already
        return try transaction(begin: "BEGIN DEFERRED", body)
    }

    private func transaction<T>(begin: String, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            rollbackIfOpen()
            throw error
        }
    }

    /// Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
    package var changes: Int {
        guard let handle else { return 0 }
        return Int(sqlite3_changes(handle))
    }

    private func rollbackIfOpen() {
        guard let handle, sqlite3_get_autocommit(handle) == 0 else { return }
        _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
    }

    private func openHandle() throws(StoreError) -> OpaquePointer {
        guard let handle else { throw StoreError(kind: .closed, message: "database \(path) is closed") }
        return handle
    }

    /// The error for a failed call that returned `rc`; call right after the failing call.
    @inline(never)
    func lastError(_ rc: Int32, sql: String?) -> StoreError {
        guard let handle else { return StoreError(kind: .closed, message: "database \(path) is closed", sql: sql) }
        let message = String(cString: sqlite3_errmsg(handle))
        let extended = sqlite3_extended_errcode(handle)
        return StoreError(kind: .sqlite, primaryCode: rc & 0xFF, extendedCode: extended, message: message, sql: sql)
    }
}
