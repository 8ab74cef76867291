/// A route's rate limit as the request path applies it (SPEC §7).
package enum CompiledRateLimit: Sendable {
    /// `rate_limit off;`: not limited per principal.
    case off
    /// No `rate_limit` of its own: an API key's stored limit, else the configured default (if
    /// any), counted in the default scope.
    case inherit
    /// The route's own limit, counted in the route's scope.
    case route(RateLimitPolicy, scope: Int)

    /// The default scope (shared by every route that inherits).
    package static let defaultScope = 0

    /// A route's scope: a stable hash of its pattern (FNV-1a), so buckets survive a reload
    /// that reorders routes. Never the default scope.
    package static func scope(of pattern: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in pattern.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Int(truncatingIfNeeded: hash | 1)
    }
}
