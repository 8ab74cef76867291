import Synchronization

/// Assigns each distinct label value (a route pattern, an upstream name, a deny reason) a
/// counter slot, for the life of the process: a counter keeps its slot across reloads, so
/// its value never goes backwards while the label is still configured. The number of slots
/// is fixed, so a label's cardinality is bounded even when reloads keep adding new values:
/// past the capacity every new value shares the last slot, labelled `overflowLabel`.
///
/// Thread-safe. `slot(for:)` takes a lock, so the request path calls it only when a new
/// configuration is compiled, or once per new value in a loop-local cache.
package final class LabelSlots: Sendable {
    package static let overflowLabel = "other"
    package let capacity: Int
    private let state: Mutex<(slots: [String: Int], names: [String])>

    /// - Parameter capacity: slots in all, the overflow slot included (at least 2).
    package init(capacity: Int) {
        precondition(capacity >= 2)
        self.capacity = capacity
        state = Mutex(([:], []))
    }

    /// The slot of `label`, assigned now if it has none.
    package func slot(for label: String) -> Int {
        state.withLock { state in
            if let slot = state.slots[label] { return slot }
            if state.names.count == capacity - 1 { state.names.append(Self.overflowLabel) }
            guard state.names.count < capacity else { return capacity - 1 }
            let slot = state.names.count
            state.names.append(label)
            state.slots[label] = slot
            return slot
        }
    }

    /// Every assigned label, by slot (the overflow label last, once in use).
    package func names() -> [String] { state.withLock { $0.names } }
}
