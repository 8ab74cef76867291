private import Glibc
import Synchronization

/// Request ids: a random per-process prefix and a counter (STYLE §6: no clock read and no
/// RNG per request). Unique across restarts with overwhelming probability, and short.
package final class RequestIDGenerator: Sendable {
    private let prefix: [UInt8]
    private let counter = Atomic<UInt64>(0)

    package init() {
        var random = [UInt8](repeating: 0, count: 6)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        let got = fd < 0 ? -1 : random.withUnsafeMutableBytes { read(fd, $0.baseAddress, 6) }
        if fd >= 0 { close(fd) }
        if got != 6 { random = [UInt8(truncatingIfNeeded: getpid()), UInt8(truncatingIfNeeded: time(nil)), 2, 3, 4, 5] }
        prefix = Array(Hex.encode(random).utf8) + [UInt8(ascii: "-")]
    }

    /// Appends the next id to `out` and returns its length.
    @discardableResult
    package func appendNext(to out: inout [UInt8]) -> Int {
        let n = counter.add(1, ordering: .relaxed).newValue
        let start = out.count
        out.append(contentsOf: prefix)
        Hex.appendUInt(n, to: &out, minimumDigits: 6)
        return out.count - start
    }
}

/// Lower-case hexadecimal.
package enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    package static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func appendUInt(_ value: UInt64, to out: inout [UInt8], minimumDigits: Int = 1) {
        var v = value
        var tmp: (UInt64, UInt64) = (0, 0)
        let count = withUnsafeMutableBytes(of: &tmp) { buf -> Int in
            var i = 16
            repeat {
                i -= 1
                buf[i] = digits[Int(v & 0xF)]
                v >>= 4
            } while v != 0 || 16 - i < minimumDigits
            out.append(contentsOf: buf[i..<16])
            return 16 - i
        }
        _ = count
    }
}

/// Decimal formatting into byte buffers without building a `String`.
package enum Decimal {
    package static func append(_ value: Int, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            append(UInt64(-value), to: &out)
        } else {
            append(UInt64(value), to: &out)
        }
    }

    package static func append(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { buf in
            var i = 24
            repeat {
                i -= 1
                buf[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v != 0
            out.append(contentsOf: buf[i..<24])
        }
    }
}
