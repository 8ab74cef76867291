private import Glibc

/// A failed system call: the operation and its `errno`. Safe to log (no payload bytes).
package struct SystemError: Error, Sendable, CustomStringConvertible {
    package var operation: String
    package var code: Int32
    package init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }
    /// Reads `errno` now: call immediately after the failing call.
    package static func last(_ operation: String) -> SystemError { SystemError(operation, code: errno) }
    package var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
