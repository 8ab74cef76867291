private import CSQLite

/// A value bound to a statement parameter.
package enum SQLValue: Sendable {
    case null
    case int(Int)
    case text(String)
    case blob([UInt8])

    /// `.text` or `.null`.
    package static func optional(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    /// `.int` or `.null`.
    package static func optional(_ value: Int?) -> SQLValue { value.map { .int($0) } ?? .null }
    /// `.blob` or `.null`.
    package static func optional(_ value: [UInt8]?) -> SQLValue { value.map { .blob($0) } ?? .null }
}

/// One prepared statement. Owns its `sqlite3_stmt*` (finalized in `deinit`) and keeps its
/// `Database` alive. Confined to the thread that uses the database.
package final class Statement {
    private let stmt: OpaquePointer
    private let database: Database
    /// The SQL text (placeholders only); safe to log.
    package let sql: String

    init(_ stmt: OpaquePointer, database: Database, sql: String) {
        self.stmt = stmt
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(stmt) }

    /// Binds `values` to parameters 1...n. A bind failure here can only be a bug (wrong count).
    package func bind(_ values: [SQLValue]) {
        precondition(values.count == Int(sqlite3_bind_parameter_count(stmt)), "wrong argument count for \(sql)")
        for (offset, value) in values.enumerated() { bind(value, at: Int32(offset + 1)) }
    }

    /// Binds one value to the 1-based parameter `index`.
    package func bind(_ value: SQLValue, at index: Int32) {
        let rc: Int32
        switch value {
        case .null:
            rc = sqlite3_bind_null(stmt, index)
        case .int(let v):
            rc = sqlite3_bind_int64(stmt, index, sqlite3_int64(v))
        case .text(let v):
            // TRANSIENT: SQLite copies the bytes before the call returns; the C string is
            // NUL-terminated and valid for the call's duration.
            rc = v.withCString { sqlite3_bind_text(stmt, index, $0, Int32(v.utf8.count), gw_sqlite_transient()) }
        case .blob(let v):
            if v.isEmpty {
                rc = sqlite3_bind_zeroblob(stmt, index, 0)
            } else {
                rc = v.withUnsafeBytes { sqlite3_bind_blob(stmt, index, $0.baseAddress, Int32($0.count), gw_sqlite_transient()) }
            }
        }
        precondition(rc == SQLITE_OK, "bind \(index) failed (\(rc)) for \(sql)")
    }

    /// Advances: `true` when a row is available, `false` when done.
    /// - Throws: `StoreError` (busy after the timeout, constraint, I/O).
    package func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(stmt)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.lastError(rc, sql: sql)
        }
    }

    /// Resets for re-execution and clears bindings.
    package func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    /// Whether column `index` (0-based) of the current row is NULL.
    package func isNull(_ index: Int32) -> Bool { sqlite3_column_type(stmt, index) == SQLITE_NULL }

    /// Column `index` as an integer (NULL reads as 0).
    package func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(stmt, index)) }

    /// Column `index` as an integer, `nil` for NULL.
    package func optionalInt(_ index: Int32) -> Int? { isNull(index) ? nil : int(index) }

    /// Column `index` as UTF-8 text (NULL reads as "").
    package func text(_ index: Int32) -> String { optionalText(index) ?? "" }

    /// Column `index` as UTF-8 text, `nil` for NULL.
    package func optionalText(_ index: Int32) -> String? {
        guard !isNull(index), let base = sqlite3_column_text(stmt, index) else { return nil }
        let count = Int(sqlite3_column_bytes(stmt, index))
        return String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// Column `index` as bytes, `nil` for NULL.
    package func optionalBlob(_ index: Int32) -> [UInt8]? {
        if isNull(index) { return nil }
        let base = sqlite3_column_blob(stmt, index)
        let count = Int(sqlite3_column_bytes(stmt, index))
        guard let base, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}
