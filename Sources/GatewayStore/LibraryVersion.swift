// GatewayStore — module overview (kept here, not in a README, so the target has no unhandled files).
// Owns the SQLite store (`Database`, `Statement`, `StoreError`, versioned `Migrations`), the
// API-key format (`APIKeyFormat`: `<prefix><id>_<secret><check>`, CRC-32 check, base62), the
// key store (`KeyStore`: principals and API keys; only `sha256(secret)` or, for imported legacy
// keys, `sha256(whole key)` is stored) and the in-memory `APIKeyIndex` the request path
// authenticates against.
//
// - Only this module imports `CSQLite` (`private import`). No Foundation.
// - Must never import `GatewayHTTP`, `GatewayCore`, `GatewayServer` or `GatewaySystem`.
// - Connections are confined (`SQLITE_OPEN_NOMUTEX`, not `Sendable`); `APIKeyIndex` is immutable
//   and `Sendable`. The request path never touches SQLite: the server polls
//   `KeyStore.changeCounter()` and swaps in a new index built from `loadIndexSnapshot()`.

private import CSQLite

/// Linked store library facts, for `gateway version`.
package enum StoreLibrary {
    /// The SQLite version of the library actually linked.
    package static var version: String { String(cString: sqlite3_libversion()) }
}
