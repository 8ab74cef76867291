/// A store failure: the SQLite primary and extended result codes, SQLite's message and the SQL
/// text (never bound values), or a store-level condition (`notFound`, `schemaTooNew`, ...).
///
/// `description` is safe to log: SQL text carries placeholders only, never keys or hashes.
package struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as a stable code (extensible without breaking callers).
    package struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: Hashable, Sendable { case sqlite, closed, schemaTooNew, notFound, invalidArgument, conflict }
        private let code: Code
        private init(_ code: Code) { self.code = code }

        /// SQLite returned an error; see `primaryCode` / `extendedCode`.
        package static let sqlite = Kind(.sqlite)
        /// The database was used after `close()`.
        package static let closed = Kind(.closed)
        /// The file's schema version is newer than this build knows.
        package static let schemaTooNew = Kind(.schemaTooNew)
        /// No row with the given id.
        package static let notFound = Kind(.notFound)
        /// An argument the store refuses (bad hex, revoked key, ...).
        package static let invalidArgument = Kind(.invalidArgument)
        /// A row with that id exists already.
        package static let conflict = Kind(.conflict)

        package var description: String {
            switch code {
            case .sqlite: "sqlite"
            case .closed: "closed"
            case .schemaTooNew: "schema_too_new"
            case .notFound: "not_found"
            case .invalidArgument: "invalid_argument"
            case .conflict: "conflict"
            }
        }
    }

    /// The kind of failure.
    package let kind: Kind
    /// SQLite primary result code (`SQLITE_BUSY` = 5, ...); 0 when not a SQLite error.
    package let primaryCode: Int32
    /// SQLite extended result code (`SQLITE_CONSTRAINT_UNIQUE`, ...); 0 when not a SQLite error.
    package let extendedCode: Int32
    /// SQLite's message or the store's explanation.
    package let message: String
    /// The statement's SQL text (placeholders, no values), when one was involved.
    package let sql: String?

    package init(kind: Kind, primaryCode: Int32 = 0, extendedCode: Int32 = 0, message: String, sql: String? = nil) {
        self.kind = kind
        self.primaryCode = primaryCode
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
    }

    package var description: String {
        var text = "store error (\(kind)"
        if kind == .sqlite { text += " \(primaryCode)/\(extendedCode)" }
        text += "): \(message)"
        if let sql { text += " [sql: \(sql)]" }
        return text
    }

    @inline(never)
    static func notFound(_ what: @autoclosure () -> String) -> StoreError {
        StoreError(kind: .notFound, message: what())
    }

    @inline(never)
    static func conflict(_ what: @autoclosure () -> String) -> StoreError {
        StoreError(kind: .conflict, message: what())
    }

    @inline(never)
    static func invalid(_ what: @autoclosure () -> String) -> StoreError {
        StoreError(kind: .invalidArgument, message: what())
    }
}
