private import CSQLite

/// Linked store library facts, for `gateway version`.
package enum StoreLibrary {
    /// The SQLite version of the library actually linked.
    package static var version: String { String(cString: sqlite3_libversion()) }
}
