package import GatewayHTTP

/// `?access_token=` (RFC 6750 §2.3) on routes with `allow_query_token on;`, for WebSocket and
/// SSE clients that cannot set headers (SPEC §4). The parameter is a credential: it is
/// removed from the query before forwarding, and it never reaches the access log (which
/// records the path only).
package enum QueryToken {
    private static let name = Array("access_token".utf8)

    /// The value of every `access_token` parameter in `query` (at most two are reported:
    /// a second one is already an ambiguous request).
    package static func values(in query: ByteRange, _ bytes: UnsafeRawBufferPointer) -> [ByteRange] {
        var found: [ByteRange] = []
        forEachParameter(query, bytes) { parameter, valueStart in
            guard found.count < 2, isTokenParameter(parameter, valueStart, bytes) else { return }
            let end = parameter.start + parameter.count
            found.append(ByteRange(start: valueStart ?? end, count: end - (valueStart ?? end)))
        }
        return found
    }

    /// Appends `?` and the query's other parameters (empty ones dropped); nothing when no
    /// parameter is left.
    package static func appendWithoutToken(_ query: ByteRange, _ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var wroteAny = false
        forEachParameter(query, bytes) { parameter, valueStart in
            guard !isTokenParameter(parameter, valueStart, bytes) else { return }
            out.append(wroteAny ? UInt8(ascii: "&") : UInt8(ascii: "?"))
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[parameter.start..<parameter.start + parameter.count]))
            wroteAny = true
        }
    }

    /// Percent-decodes a parameter value (`%XX`; `+` is kept: tokens hold no spaces).
    /// - Returns: nil for a malformed escape.
    package static func decode(_ value: UnsafeRawBufferPointer) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        var index = 0
        while index < value.count {
            if value[index] == UInt8(ascii: "%") {
                guard index + 2 < value.count, let high = HTTPBytes.hexValue(value[index + 1]),
                      let low = HTTPBytes.hexValue(value[index + 2]) else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(value[index])
                index += 1
            }
        }
        return out
    }

    /// Calls `body` with each non-empty `&`-separated parameter and where its value starts
    /// (after the first `=`; nil when there is no `=`).
    static func forEachParameter(_ query: ByteRange, _ bytes: UnsafeRawBufferPointer, _ body: (ByteRange, Int?) -> Void) {
        var start = query.start
        let end = query.start + query.count
        while start <= end {
            var stop = start
            var equals: Int? = nil
            while stop < end, bytes[stop] != UInt8(ascii: "&") {
                if equals == nil, bytes[stop] == UInt8(ascii: "=") { equals = stop + 1 }
                stop += 1
            }
            if stop > start { body(ByteRange(start: start, count: stop - start), equals) }
            start = stop + 1
        }
    }

    private static func isTokenParameter(_ parameter: ByteRange, _ valueStart: Int?, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let nameLength = valueStart.map { $0 - 1 - parameter.start } ?? parameter.count
        return nameLength == name.count && matchesName(parameter.start, bytes)
    }

    private static func matchesName(_ start: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        for (offset, expected) in name.enumerated() where bytes[start + offset] != expected { return false }
        return true
    }
}
