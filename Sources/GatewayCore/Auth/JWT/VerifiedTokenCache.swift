import GatewayCrypto
import Synchronization

/// The SHA-256 of a bearer token's bytes: the cache key (the token itself is never stored).
package struct TokenHash: Hashable, Sendable {
    private let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The hash of `token` (SHA-256 via `Digest.sha256`).
    package init(token: UnsafeRawBufferPointer) {
        self.init(digest: Digest.sha256(token))
    }

    /// The hash of a token held in a byte array.
    package init(token: [UInt8]) {
        self.init(digest: Digest.sha256(token))
    }

    /// Wraps a 32-byte digest.
    package init(digest: [UInt8]) {
        precondition(digest.count == 32, "SHA-256 digest expected")
        func word(_ at: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in at..<(at + 8) { value = value << 8 | UInt64(digest[index]) }
            return value
        }
        (w0, w1, w2, w3) = (word(0), word(8), word(16), word(24))
    }

    /// Which of `count` shards holds this hash (uniform: the digest is already random).
    fileprivate func shard(of count: Int) -> Int { Int(w0 % UInt64(count)) }
}

/// A bounded cache of verified JWTs: token hash → identity, never served past the token's
/// `exp` (plus the leeway used when it was verified) nor past `maxAge` after insertion.
///
/// Thread-safe with low contention: up to 16 shards (fewer when `capacity < 16`), each a
/// `Mutex` around a dictionary and a slot array; a lock is held only for one lookup or insert.
/// The capacity is split across shards so the total never exceeds `capacity`.
///
/// Eviction is CLOCK (second chance) per shard: a hit sets the slot's reference bit; an insert
/// into a full shard sweeps the hand, dropping the first expired or unreferenced slot and
/// clearing reference bits as it passes (at most two sweeps). Expired entries are also dropped
/// when a lookup finds them. Any thread.
package final class VerifiedTokenCache: Sendable {
    /// How long an entry may be served at most, in seconds, even when `exp` is later (bounds
    /// how long a cached identity outlives a revocation or key removal). Default 300.
    package let maxAge: Int64
    /// The maximum number of entries.
    package let capacity: Int

    private struct Entry {
        var hash: TokenHash
        var identity: Identity
        /// Last unix second at which the entry may be served.
        var validUntil: Int64
        var referenced: Bool
    }

    private struct Shard {
        var index: [TokenHash: Int] = [:]
        var slots: [Entry] = []
        var hand = 0
        let capacity: Int

        mutating func lookup(_ hash: TokenHash, now: Int64) -> Identity? {
            guard let slot = index[hash] else { return nil }
            if now > slots[slot].validUntil {
                remove(at: slot)
                return nil
            }
            slots[slot].referenced = true
            return slots[slot].identity
        }

        mutating func insert(_ entry: Entry, now: Int64) {
            if let slot = index[entry.hash] {
                slots[slot] = entry
                return
            }
            if slots.count < capacity {
                index[entry.hash] = slots.count
                slots.append(entry)
                return
            }
            // CLOCK: at most two sweeps (the first may only clear reference bits).
            var victim = hand
            for _ in 0..<(2 * slots.count) {
                let candidate = hand
                hand = (hand + 1) % slots.count
                if now > slots[candidate].validUntil || !slots[candidate].referenced {
                    victim = candidate
                    break
                }
                slots[candidate].referenced = false
            }
            index[slots[victim].hash] = nil
            slots[victim] = entry
            index[entry.hash] = victim
        }

        /// Removes a slot by moving the last slot into it (keeps `slots` dense).
        mutating func remove(at slot: Int) {
            index[slots[slot].hash] = nil
            let last = slots.count - 1
            if slot != last {
                slots[slot] = slots[last]
                index[slots[slot].hash] = slot
            }
            slots.removeLast()
            if hand >= slots.count { hand = 0 }
        }
    }

    private final class ShardBox: Sendable {
        let state: Mutex<Shard>
        init(capacity: Int) { state = Mutex(Shard(capacity: capacity)) }
    }

    private let shards: [ShardBox]

    /// A cache holding at most `capacity` entries (config `cache`, default 100,000).
    /// - Parameters:
    ///   - capacity: maximum entries (at least 1).
    ///   - maxAge: seconds an entry may be served after insertion (default 300).
    package init(capacity: Int = 100_000, maxAge: Int64 = 300) {
        let capacity = max(1, capacity)
        let shardCount = min(16, capacity)
        self.capacity = capacity
        self.maxAge = maxAge
        self.shards = (0..<shardCount).map { shard in
            ShardBox(capacity: capacity / shardCount + (shard < capacity % shardCount ? 1 : 0))
        }
    }

    /// The cached identity for `hash`, or `nil` on a miss. An entry past its validity is a miss
    /// and is dropped.
    /// - Parameter now: unix seconds (injected clock).
    package func lookup(_ hash: TokenHash, now: Int64) -> Identity? {
        shards[hash.shard(of: shards.count)].state.withLock { $0.lookup(hash, now: now) }
    }

    /// Caches a verified token. Tokens without `exp` (`validUntil == nil`) are cached for
    /// `maxAge` only; entries already invalid at `now` are not stored.
    /// - Parameters:
    ///   - validUntil: the last unix second the token is valid (`VerifiedToken.validUntil`).
    ///   - now: unix seconds (injected clock).
    package func insert(_ hash: TokenHash, identity: Identity, validUntil: Int64?, now: Int64) {
        let (ageLimit, overflow) = now.addingReportingOverflow(maxAge)
        let limit = overflow ? Int64.max : ageLimit
        let until = min(validUntil ?? limit, limit)
        guard until >= now else { return }
        let entry = Entry(hash: hash, identity: identity, validUntil: until, referenced: false)
        shards[hash.shard(of: shards.count)].state.withLock { $0.insert(entry, now: now) }
    }

    /// Caches a `VerifiedToken` under `hash`; see ``insert(_:identity:validUntil:now:)``.
    package func insert(_ hash: TokenHash, token: VerifiedToken, now: Int64) {
        insert(hash, identity: token.identity, validUntil: token.validUntil, now: now)
    }

    /// The number of entries (sums the shards; for tests and metrics).
    package var count: Int {
        shards.reduce(0) { total, box in total + box.state.withLock { $0.slots.count } }
    }
}
