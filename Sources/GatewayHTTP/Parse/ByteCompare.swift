/// ASCII comparisons on byte ranges (no `String`, no lowercasing copies).
package enum ByteCompare {
    /// Whether `a[ra]` equals `b[rb]`, ASCII case-insensitively.
    package static func equalCaseInsensitive(_ a: UnsafeRawBufferPointer, _ ra: ByteRange, _ b: UnsafeRawBufferPointer, _ rb: ByteRange) -> Bool {
        guard ra.count == rb.count else { return false }
        for i in 0..<ra.count where HTTPBytes.lowercased(a[ra.start + i]) != HTTPBytes.lowercased(b[rb.start + i]) { return false }
        return true
    }

    /// The comma-separated tokens of every `Connection` field (each trimmed of whitespace), so
    /// the headers they nominate can be dropped as hop-by-hop (RFC 9110 §7.6.1).
    package static func connectionTokens(_ headers: [HeaderField], _ bytes: UnsafeRawBufferPointer, into tokens: inout [ByteRange]) {
        tokens.removeAll(keepingCapacity: true)
        for field in headers where field.name == .connection {
            // The body never throws; the parser validated the list already.
            _ = try? HTTPBytes.forEachListElement(bytes, field.valueStart, field.valueCount) { start, count in
                tokens.append(ByteRange(start: start, count: count))
            }
        }
    }

    /// Whether the field's name equals `lowerName` (already lower-case), ASCII case-insensitively.
    package static func nameEquals(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer, _ lowerName: [UInt8]) -> Bool {
        guard field.nameCount == lowerName.count else { return false }
        for i in 0..<field.nameCount where HTTPBytes.lowercased(bytes[field.nameStart + i]) != lowerName[i] { return false }
        return true
    }

    /// Whether the field's name is one of `tokens`.
    package static func isNominated(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer, _ tokens: [ByteRange]) -> Bool {
        guard !tokens.isEmpty else { return false }
        let name = ByteRange(start: field.nameStart, count: field.nameCount)
        for token in tokens where equalCaseInsensitive(bytes, name, bytes, token) { return true }
        return false
    }
}
