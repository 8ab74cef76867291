/// Key ids recently found missing from a JWKS, each until an expiry time, so a token with the
/// same unknown `kid` is refused at once instead of asking for another fetch (SPEC §5).
///
/// Bounded memory whatever a client sends: entries are the per-process seeded hash of the kid
/// (a few bytes, never the attacker-sized string), at most `capacity` of them. When full, expired
/// entries go first; if none has expired the cache starts over. Forgetting is safe: the fetch
/// rate limit of `JWKSRefreshPolicy` still holds, the cache only saves work. Not thread-safe
/// (the policy that owns it is guarded by its source's lock).
package struct NegativeKidCache: Sendable {
    /// The most kids remembered.
    package let capacity: Int
    private var expiries: [Int: Int64] = [:]

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Kids currently remembered (expired ones included until they are purged).
    package var count: Int { expiries.count }

    /// Whether `kid` is remembered as unknown at monotonic time `now` (milliseconds).
    package func contains(_ kid: String, now: Int64) -> Bool {
        guard let expiry = expiries[kid.hashValue] else { return false }
        return now < expiry
    }

    /// Remembers `kid` as unknown until `expiresAt` (monotonic milliseconds).
    package mutating func insert(_ kid: String, expiresAt: Int64, now: Int64) {
        if expiries.count >= capacity, expiries[kid.hashValue] == nil {
            expiries = expiries.filter { $0.value > now }
            if expiries.count >= capacity { expiries.removeAll(keepingCapacity: true) }
        }
        expiries[kid.hashValue] = expiresAt
    }

    /// Forgets every kid (a new key set was published: they were unknown to the old one).
    package mutating func removeAll() {
        expiries.removeAll(keepingCapacity: true)
    }
}
