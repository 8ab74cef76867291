// GatewayStore — module overview (kept here, not in a README, so the target has no unhandled files).
// Owns the SQLite store (`Database`, `Statement`, `StoreError`, versioned `Migrations`) and the
// key store (`KeyStore`: principals and API keys; only `sha256(secret)` or, for imported legacy
// keys, `sha256(whole key)` is stored). The key format, `KeyRecord` and the in-memory
// `APIKeyIndex` the request path authenticates against live in GatewayCore (Auth/APIKeys),
// beside the other authenticators; this module fills them from SQLite.
//
// - Only this module imports `CSQLite` (`private import`). No Foundation.
// - Must never import `GatewayHTTP`, `GatewayServer` or `GatewaySystem`; it uses GatewayCore only
//   for the key types.
// - Connections are confined (`SQLITE_OPEN_NOMUTEX`, not `Sendable`). The request path never
//   touches SQLite: the server polls `KeyStore.changeCounter()` and swaps in a new index built
//   from `loadIndexSnapshot()`.

private import CSQLite

/// Linked store library facts, for `gateway version`.
package enum StoreLibrary {
    /// The SQLite version of the library actually linked.
    package static var version: String { String(cString: sqlite3_libversion()) }
}
