import GatewayHTTP

/// ASCII comparisons on byte ranges (no `String`, no lowercasing copies).
enum ByteCompare {
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    /// Whether `a[ra]` equals `b[rb]`, ASCII case-insensitively.
    static func equalCaseInsensitive(_ a: UnsafeRawBufferPointer, _ ra: ByteRange, _ b: UnsafeRawBufferPointer, _ rb: ByteRange) -> Bool {
        guard ra.count == rb.count else { return false }
        for i in 0..<ra.count where lower(a[ra.start + i]) != lower(b[rb.start + i]) { return false }
        return true
    }

    /// The comma-separated tokens of every `Connection` field (each trimmed of whitespace), so
    /// the headers they nominate can be dropped as hop-by-hop (RFC 9110 §7.6.1).
    static func connectionTokens(_ headers: [HeaderField], _ bytes: UnsafeRawBufferPointer, into tokens: inout [ByteRange]) {
        tokens.removeAll(keepingCapacity: true)
        for field in headers where field.name == .connection {
            var i = field.valueStart
            let end = field.valueStart + field.valueCount
            while i < end {
                while i < end && (bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == UInt8(ascii: ",")) { i += 1 }
                let start = i
                while i < end && bytes[i] != UInt8(ascii: ",") { i += 1 }
                var stop = i
                while stop > start && (bytes[stop - 1] == 0x20 || bytes[stop - 1] == 0x09) { stop -= 1 }
                if stop > start { tokens.append(ByteRange(start: start, count: stop - start)) }
            }
        }
    }

    /// Whether the field's name is one of `tokens`.
    static func isNominated(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer, _ tokens: [ByteRange]) -> Bool {
        guard !tokens.isEmpty else { return false }
        let name = ByteRange(start: field.nameStart, count: field.nameCount)
        for token in tokens where equalCaseInsensitive(bytes, name, bytes, token) { return true }
        return false
    }
}

extension Array where Element == UInt8 {
    /// Appends `bytes[range]`.
    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer, _ range: ByteRange) {
        append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range.start..<range.start + range.count]))
    }

    @inline(__always)
    mutating func append(_ text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
