private import Glibc
import Synchronization

/// A fixed array of 64-bit counters written by one thread (an event loop) and read by any
/// (a metrics scrape). The writer adds with a relaxed load and store, which compiles to one
/// plain `inc` on x86-64: no lock prefix, no lock, no allocation on the request path. A reader
/// sees each counter whole (never torn), possibly a few increments behind.
///
/// The memory comes from `calloc`, so the pages of slots never used stay untouched (the label
/// registries reserve far more slots than a configuration usually needs).
package final class CounterBlock: @unchecked Sendable {
    // Sendable: every element is an `Atomic`; the pointer itself never changes.
    private let base: UnsafeMutablePointer<Atomic<UInt64>>
    package let count: Int

    package init(count: Int) {
        precondition(count > 0)
        self.count = count
        // An all-zero `Atomic<UInt64>` is a valid 0, so calloc'd memory needs no initializing.
        guard let raw = calloc(count, MemoryLayout<Atomic<UInt64>>.stride) else { fatalError("out of memory for counters") }
        base = raw.bindMemory(to: Atomic<UInt64>.self, capacity: count)
    }

    deinit { free(base) }

    /// Adds `amount` to counter `index`. Only the block's one writer thread may call it.
    @inline(__always)
    package func add(_ index: Int, _ amount: UInt64 = 1) {
        precondition(index >= 0 && index < count)
        let counter = base + index
        counter.pointee.store(counter.pointee.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    /// Sets counter `index` (a gauge). Only the block's one writer thread may call it.
    @inline(__always)
    package func set(_ index: Int, _ value: UInt64) {
        precondition(index >= 0 && index < count)
        base[index].store(value, ordering: .relaxed)
    }

    /// The current value of counter `index`, from any thread.
    package func value(_ index: Int) -> UInt64 {
        precondition(index >= 0 && index < count)
        return base[index].load(ordering: .relaxed)
    }
}
