/// Byte-level helpers shared by the parsers and by callers that inspect parsed ranges
/// (RFC 9110 §5.6 grammar classes, ASCII case folding, decimal and hex numbers).
///
/// Everything works on `UnsafeRawBufferPointer` plus integer offsets: no `String`, no
/// allocation, no generics, so it can sit in per-byte loops. Offsets are not bounds-checked
/// in release builds; callers pass ranges the parser produced.
package enum HTTPBytes {
    // MARK: Character classes

    /// True for a `tchar` (RFC 9110 §5.6.2): the bytes a token (method, header name, coding) may hold.
    @inlinable @inline(__always)
    package static func isTChar(_ b: UInt8) -> Bool {
        // Bitmaps of the tchar set for 0x00-0x3F and 0x40-0x7F (literal constants, no table lookup).
        let low: UInt64 = 0x03FF_6CFA_0000_0000  // ! # $ % & ' * + - . 0-9
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE  // A-Z ^ _ ` a-z | ~
        if b < 64 { return (low >> UInt64(b)) & 1 != 0 }
        if b < 128 { return (high >> UInt64(b &- 64)) & 1 != 0 }
        return false
    }

    /// True for a byte allowed in a field value (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text.
    @inlinable @inline(__always)
    package static func isFieldValueByte(_ b: UInt8) -> Bool {
        (b >= 0x20 && b != 0x7F) || b == 0x09
    }

    /// Whether any of the eight bytes in `word` is below 0x20 or is 0x7F (SWAR test).
    ///
    /// May report true for a clean word whose higher bytes follow a flagged one (borrow), but
    /// never false for a word holding such a byte; callers recheck byte by byte when true.
    @inlinable @inline(__always)
    package static func hasControlOrDEL(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below20 = (word &- ones &* 0x20) & ~word & highs
        let xored = word ^ (ones &* 0x7F)
        let isDEL = (xored &- ones) & ~xored & highs
        return below20 | isDEL != 0
    }

    /// True for SP or HTAB (optional whitespace, OWS).
    @inlinable @inline(__always)
    package static func isOWS(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// True for an ASCII digit.
    @inlinable @inline(__always)
    package static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    /// The value of a hex digit (either case), or nil.
    @inlinable @inline(__always)
    package static func hexValue(_ b: UInt8) -> UInt8? {
        if b &- 0x30 < 10 { return b &- 0x30 }
        let lower = b | 0x20
        if lower &- 0x61 < 6 { return lower &- 0x61 &+ 10 }
        return nil
    }

    /// ASCII lower-casing of one byte (other bytes unchanged).
    @inlinable @inline(__always)
    package static func lowercased(_ b: UInt8) -> UInt8 {
        b &- 0x41 < 26 ? b | 0x20 : b
    }

    // MARK: Comparison

    /// Whether `bytes[start ..< start + count]` equals `literal` under ASCII case folding.
    ///
    /// `literal` must be lowercase ASCII. Compares lengths first, then byte by byte.
    @inlinable
    package static func equalsLowercase(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, _ literal: StaticString
    ) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        return hasLowercasePrefix(bytes, start, count, literal)
    }

    /// Whether `bytes[start ..< start + count]` starts with `literal` under ASCII case folding.
    ///
    /// `literal` must be lowercase ASCII.
    @inlinable
    package static func hasLowercasePrefix(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, _ literal: StaticString
    ) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard count >= n else { return false }
        let lit = literal.utf8Start
        var i = 0
        while i < n {
            if lowercased(bytes[start &+ i]) != lit[i] { return false }
            i &+= 1
        }
        return true
    }

    /// Whether `bytes[range]` equals `literal` under ASCII case folding (`literal` lowercase ASCII).
    @inlinable
    package static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ range: ByteRange, _ literal: StaticString) -> Bool {
        equalsLowercase(bytes, range.start, range.count, literal)
    }

    /// Whether `bytes[start ..< start + count]` equals `literal` exactly (case-sensitive).
    @inlinable
    package static func equals(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard count == n else { return false }
        let lit = literal.utf8Start
        var i = 0
        while i < n {
            if bytes[start &+ i] != lit[i] { return false }
            i &+= 1
        }
        return true
    }

    // MARK: Numbers

    /// The largest body or chunk length accepted anywhere: 2^62 bytes.
    package static let maxLength: Int64 = 1 << 62

    /// Parses `1*DIGIT` from `bytes[start ..< start + count]`.
    /// - Returns: the value, or nil when the range is empty, holds a non-digit (sign, space,
    ///   comma) or exceeds `limit`.
    @inlinable
    package static func parseDecimal(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, limit: Int64 = maxLength
    ) -> Int64? {
        guard count > 0 else { return nil }
        var value: Int64 = 0
        var i = start
        let end = start &+ count
        while i < end {
            let d = bytes[i] &- 0x30
            guard d < 10 else { return nil }
            // value * 10 + d <= limit, checked without overflow (limit <= Int64.max / 2).
            guard value <= (limit &- Int64(d)) / 10 else { return nil }
            value = value &* 10 &+ Int64(d)
            i &+= 1
        }
        return value
    }

    /// Visits the elements of a comma-separated list (`#element`, RFC 9110 §5.6.1) in
    /// `bytes[start ..< start + count]`, each with OWS trimmed; empty elements are skipped.
    ///
    /// `body` gets `(start, count)` of each element. Non-escaping and inlined: no closure
    /// context is allocated.
    @inlinable @inline(__always)
    package static func forEachListElement(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, _ body: (Int, Int) throws(HTTPParseError) -> Void
    ) throws(HTTPParseError) {
        let end = start &+ count
        var i = start
        while i < end {
            var s = i
            while i < end && bytes[i] != 0x2C { i &+= 1 }
            var e = i
            while s < e && isOWS(bytes[s]) { s &+= 1 }
            while e > s && isOWS(bytes[e &- 1]) { e &-= 1 }
            if e > s { try body(s, e &- s) }
            i &+= 1  // skip the comma
        }
    }
}
