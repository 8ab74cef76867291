import Synchronization

/// The rate-limit buckets of one limiter (per-principal limits, or failed authentications
/// per client address): a bucket per (scope, principal) holding only its GCRA state, the
/// TAT, checked against a `RateLimitPolicy` passed with each call (so a reload that changes
/// a rate keeps the buckets).
///
/// Thread-safe without serializing event loops: 64 shards chosen by the key's top bits, each
/// a `Mutex` held for one table operation only (no allocation under the lock except when a
/// table grows or makes room, amortized).
///
/// Memory-bounded: at most `maxBuckets` (rounded up to a multiple of 64) buckets, however many
/// principals appear; idle buckets are dropped lazily and, when a shard is full, the buckets
/// closest to idle are evicted (see `BucketTable`). A bucket costs one 16-byte slot in a table
/// kept at most half full: with a power-of-two `maxBuckets` ≥ 64, at most 32 bytes per bucket,
/// `maxTableBytes` in all (32 MiB for the default 1,048,576 buckets), allocated only as
/// buckets appear. Transiently, a shard that grows or makes room also holds its old table and
/// (when evicting) 8 bytes per bucket of sort scratch, under its own lock, freed at once.
/// Principals are stored only as a keyed 64-bit hash.
///
/// Times are monotonic milliseconds (`MonotonicClock.nowMilliseconds()`, injected by tests).
package final class RateLimiter: Sendable {
    /// The default `maxBuckets`: 2^20 (1,048,576) buckets, 32 MiB at most.
    package static let defaultMaxBuckets = 1 << 20
    /// The number of shards (locks).
    package static let shardCount = 64

    /// The most buckets held at once (`maxBuckets` rounded up to a multiple of `shardCount`).
    package let maxBuckets: Int
    /// The most memory the bucket tables use: every shard's table at its largest.
    package let maxTableBytes: Int

    private final class Shard: Sendable {
        let table: Mutex<BucketTable>
        init(capacity: Int) { table = Mutex(BucketTable(capacity: capacity)) }
    }

    private let shards: [Shard]
    /// Per-limiter random key of the principal hash, so nobody can aim collisions (which
    /// would share a bucket) even when the process runs with deterministic `Hasher` seeding.
    private let seed: (UInt64, UInt64)

    /// A limiter holding at most `maxBuckets` buckets.
    package init(maxBuckets: Int = defaultMaxBuckets) {
        let perShard = max(1, (maxBuckets + Self.shardCount - 1) / Self.shardCount)
        shards = (0..<Self.shardCount).map { _ in Shard(capacity: perShard) }
        self.maxBuckets = perShard * Self.shardCount
        maxTableBytes = Self.shardCount * BucketTable(capacity: perShard).maxSlots * BucketTable.slotBytes
        var random = SystemRandomNumberGenerator()
        seed = (random.next(), random.next())
    }

    /// The key of `principal`'s bucket in `scope`.
    /// - Parameters:
    ///   - scope: which limit the bucket counts for (the integrator's numbering: default
    ///     limit, a route's limit, ...); the same principal has independent buckets per scope.
    ///   - principal: the key id, JWT subject or client address, as UTF-8.
    package func key(scope: Int, principal: String) -> RateLimitKey {
        var principal = principal
        return principal.withUTF8 { key(scope: scope, principal: UnsafeRawBufferPointer($0)) }
    }

    /// The key of a JWT principal: a subject is unique only within its issuer (SPEC §7), so
    /// both are hashed, the issuer's length first so that no two pairs share their bytes.
    package func key(scope: Int, issuer: String, subject: String) -> RateLimitKey {
        var hasher = seededHasher(scope: scope)
        var issuer = issuer
        var subject = subject
        issuer.withUTF8 { bytes in
            hasher.combine(bytes.count)
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
        subject.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return RateLimitKey(hash: UInt64(bitPattern: Int64(hasher.finalize())))
    }

    /// A hasher seeded with this limiter's random seed and the scope: every key starts here.
    private func seededHasher(scope: Int) -> Hasher {
        var hasher = Hasher()
        hasher.combine(seed.0)
        hasher.combine(seed.1)
        hasher.combine(scope)
        return hasher
    }

    /// The key of a principal given as bytes (a client address, or bytes of the request).
    package func key(scope: Int, principal: UnsafeRawBufferPointer) -> RateLimitKey {
        var hasher = seededHasher(scope: scope)
        hasher.combine(bytes: principal)
        return RateLimitKey(hash: UInt64(bitPattern: Int64(hasher.finalize())))
    }

    /// Counts one request against `key`'s bucket if `policy` allows it.
    /// - Parameter now: monotonic milliseconds.
    /// - Returns: the decision; a denial consumes nothing.
    package func check(_ key: RateLimitKey, policy: RateLimitPolicy, now: Int64) -> RateLimitDecision {
        apply(key, policy: policy, now: now, consume: true)
    }

    /// Whether `policy` would allow one request against `key`'s bucket now, consuming
    /// nothing (the auth-failure limiter peeks before authenticating and `check`s after a
    /// failure).
    /// - Parameter now: monotonic milliseconds.
    package func peek(_ key: RateLimitKey, policy: RateLimitPolicy, now: Int64) -> RateLimitDecision {
        apply(key, policy: policy, now: now, consume: false)
    }

    /// Buckets currently held (locks every shard in turn; for tests and metrics).
    package var bucketCount: Int {
        shards.reduce(0) { total, shard in total + shard.table.withLock { $0.count } }
    }

    private func apply(_ key: RateLimitKey, policy: RateLimitPolicy, now: Int64, consume: Bool) -> RateLimitDecision {
        let nanoseconds = now &* 1_000_000
        let shard = shards[Int(key.hash >> 58)]
        return shard.table.withLock { table in
            let stored = table.tat(for: key.hash, now: nanoseconds)
            let (decision, tat) = policy.evaluate(tat: stored, nowNanoseconds: nanoseconds, consume: consume)
            if let tat, tat != stored { table.set(tat, for: key.hash, now: nanoseconds) }
            return decision
        }
    }
}

/// Identifies one bucket: a keyed 64-bit hash (SipHash via `Hasher`, under a per-limiter
/// random key) of the scope and principal; never 0. Made by `RateLimiter.key(scope:principal:)`
/// and only meaningful to that limiter. Computing it once lets the auth-failure path `peek`
/// and later `check` without hashing twice.
package struct RateLimitKey: Sendable, Hashable {
    package let hash: UInt64

    init(hash: UInt64) { self.hash = hash == 0 ? 1 : hash }
}
