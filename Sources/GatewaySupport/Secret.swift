import Glibc

/// A secret (key material, client secrets) as the configuration holds it: printing, logging or
/// interpolating it shows `<redacted>`, and a byte secret (`Secret<[UInt8]>`) is wiped from
/// memory when its last copy goes (STYLE §4.11). Consumers borrow the value with `reveal`.
///
/// Best effort by nature: keys built from it (OpenSSL objects) hold their own copy, which
/// OpenSSL cleanses when they are freed.
package struct Secret<Value: Sendable>: Sendable {
    private let storage: Storage

    package init(_ value: Value) { storage = Storage(value) }

    /// Lends the value to `body` (building a key, comparing a token).
    package func reveal<Result, Failure: Error>(_ body: (Value) throws(Failure) -> Result) throws(Failure) -> Result {
        try body(storage.value)
    }

    // @unchecked Sendable: `value` is written only by init and by deinit (when no other
    // reference exists), so every concurrent access is a read.
    private final class Storage: @unchecked Sendable {
        var value: Value
        init(_ value: Value) { self.value = value }
        deinit {
            guard Value.self == [UInt8].self else { return }
            withUnsafeMutablePointer(to: &value) { pointer in
                pointer.withMemoryRebound(to: [UInt8].self, capacity: 1) { bytes in
                    // The array is uniquely referenced here unless a caller kept a copy, so
                    // this writes the stored bytes in place.
                    bytes.pointee.withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
                }
            }
        }
    }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible {
    package var description: String { "<redacted>" }
    package var debugDescription: String { "<redacted>" }
}

extension Secret: Equatable where Value: Equatable {
    /// Configuration snapshots compare secrets (not on a request path).
    package static func == (lhs: Secret, rhs: Secret) -> Bool { lhs.storage.value == rhs.storage.value }
}
