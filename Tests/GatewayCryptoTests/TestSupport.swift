import Foundation

/// Hex text → bytes (test data only; traps on malformed input).
func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    precondition(digits.count % 2 == 0, "odd hex length")
    func value(_ digit: UInt8) -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: preconditionFailure("bad hex digit")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
}

/// `text` plus a final newline, as bytes (PEM fixtures are stored without one).
func pemBytes(_ text: String) -> [UInt8] { Array((text + "\n").utf8) }

/// The vendored Wycheproof vectors: <repo>/Tests/Vectors/wycheproof (provenance and licence in
/// Tests/Vectors/README.md).
func wycheproofDirectory(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath)
        .deletingLastPathComponent()  // GatewayCryptoTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Vectors/wycheproof")
}
