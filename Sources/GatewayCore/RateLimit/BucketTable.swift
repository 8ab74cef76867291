/// One shard's buckets: an open-addressing hash table (linear probing, backward-shift
/// deletion) from a 64-bit key hash to the bucket's TAT. A slot is 16 bytes and nothing else
/// is stored, so memory is `slots.count × 16` bytes: the table starts at 16 slots, doubles while
/// more than half full, and stops at `maxSlots` (the smallest power of two ≥ 2 × `capacity`).
///
/// Bounded: it never holds more than `capacity` buckets. Making room, in this order:
/// 1. idle buckets (TAT ≤ now: indistinguishable from a fresh one) are dropped, all at once,
///    whenever the table would otherwise grow or is full; a lookup also drops an idle bucket
///    it finds;
/// 2. if the table is at `capacity` and less than an eighth of it was idle, the buckets
///    closest to idle (the smallest TATs) are evicted until an eighth is free. Evicting one
///    only hands its principal back the part of the burst it had not yet regained, and a flood
///    of new principals (one request each, TAT = now + T) evicts its own buckets before any
///    busy principal's (TAT far ahead).
/// Batching keeps the amortized cost of an insert at O(log capacity) (one sort per batch). Not thread-safe: `RateLimiter`
/// holds each table under its shard's lock.
struct BucketTable {
    private struct Slot {
        /// The key hash; 0 marks an empty slot (keys are never 0).
        var key: UInt64
        /// Theoretical arrival time, monotonic nanoseconds.
        var tat: Int64
    }

    private var slots: [Slot]
    /// Buckets held.
    private(set) var count = 0
    /// The most buckets held at once.
    let capacity: Int
    /// The size the table stops growing at.
    let maxSlots: Int

    /// Bytes per slot (`MemoryLayout<Slot>.stride`).
    static let slotBytes = 16

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        var size = 16
        while size < 2 * self.capacity { size *= 2 }
        maxSlots = size
        slots = Array(repeating: Slot(key: 0, tat: 0), count: min(16, size))
    }

    /// The TAT stored for `key`, or nil when there is none (an idle one is dropped).
    mutating func tat(for key: UInt64, now: Int64) -> Int64? {
        let index = find(key)
        guard slots[index].key == key else { return nil }
        if slots[index].tat <= now {
            remove(at: index)
            return nil
        }
        return slots[index].tat
    }

    /// Stores `tat` for `key`, making room first when a new bucket would exceed the limits.
    mutating func set(_ tat: Int64, for key: UInt64, now: Int64) {
        var index = find(key)
        if slots[index].key == key {
            slots[index].tat = tat
            return
        }
        if count + 1 > min(capacity, slots.count / 2) {
            makeRoom(now: now)
            index = find(key)
        }
        slots[index] = Slot(key: key, tat: tat)
        count += 1
    }

    /// The slot holding `key`, or the empty slot where it would go.
    private func find(_ key: UInt64) -> Int {
        slots.withUnsafeBufferPointer { Self.probe($0, for: key) }
    }

    /// Linear probing over `slots` (a power-of-two count, never full); a raw buffer so debug
    /// builds do not pay for generic array access on every step.
    private static func probe(_ slots: UnsafeBufferPointer<Slot>, for key: UInt64) -> Int {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: key) & mask
        while true {
            let found = slots[index].key
            if found == key || found == 0 { return index }
            index = (index + 1) & mask
        }
    }

    /// Empties slot `index`, shifting later members of its probe run back so lookups still
    /// find them.
    private mutating func remove(at index: Int) {
        let mask = slots.count - 1
        var hole = index
        var next = (index + 1) & mask
        while slots[next].key != 0 {
            let home = Int(truncatingIfNeeded: slots[next].key) & mask
            // `next` may fill the hole unless its home lies cyclically in (hole, next].
            if (next - home) & mask >= (next - hole) & mask {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole].key = 0
        count -= 1
    }

    /// Drops idle buckets; then grows (when allowed and still needed) or, at capacity,
    /// evicts the buckets closest to idle.
    private mutating func makeRoom(now: Int64) {
        let live = slots.reduce(0) { $0 + ($1.key != 0 && $1.tat > now ? 1 : 0) }
        let batch = max(1, capacity / 8)
        if slots.count < maxSlots {
            // Grow unless dropping the idle buckets leaves the table at most 3/8 full.
            rebuild(size: live + 1 > slots.count * 3 / 8 ? slots.count * 2 : slots.count) { $0 > now }
        } else if live + batch <= capacity {
            rebuild(size: slots.count) { $0 > now }
        } else {
            var tats = slots.compactMap { $0.key != 0 && $0.tat > now ? $0.tat : nil }
            tats.sort()
            let evict = live + batch - capacity
            let threshold = tats[evict - 1]
            // Evict every TAT below the threshold, then ties until `evict` are gone.
            var ties = evict - tats.prefix(evict).firstIndex(of: threshold)!
            rebuild(size: slots.count) { tat in
                if tat > threshold { return true }
                if tat < threshold { return false }
                ties -= 1
                return ties < 0
            }
        }
    }

    /// Re-inserts the buckets whose TAT passes `keep` into a table of `size` slots.
    private mutating func rebuild(size: Int, keep: (Int64) -> Bool) {
        let old = slots
        slots = Array(repeating: Slot(key: 0, tat: 0), count: size)
        var kept = 0
        slots.withUnsafeMutableBufferPointer { table in
            for slot in old where slot.key != 0 && keep(slot.tat) {
                table[Self.probe(UnsafeBufferPointer(table), for: slot.key)] = slot
                kept += 1
            }
        }
        count = kept
    }
}
