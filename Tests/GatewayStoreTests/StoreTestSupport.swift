import Foundation
import GatewayStore
import Testing

/// A per-test temporary directory under /tmp, removed afterwards (even when the body throws).
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/gw-store-test-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
    let dir = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// An adjustable clock for stores (Unix seconds).
final class TestClock: @unchecked Sendable {
    // Tests mutate it from the test's own task only.
    var now: Int
    init(_ now: Int = 1_800_000_000) { self.now = now }
    var function: () -> Int { { self.now } }
}

/// Opens a store at `dir/keys.db`, runs `body`, and closes it.
func withStore<T>(in dir: String, clock: TestClock = TestClock(), _ body: (KeyStore) throws -> T) throws -> T {
    let store = try KeyStore(path: dir + "/keys.db", clock: clock.function)
    defer { store.close() }
    return try body(store)
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in the bytes.
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if Array(self[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}

/// Expects `body` to throw a `StoreError` of `kind`.
func expectStoreError<T>(_ kind: StoreError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) {
    let error = #expect(throws: StoreError.self, sourceLocation: sourceLocation) { _ = try body() }
    #expect(error?.kind == kind, sourceLocation: sourceLocation)
}
