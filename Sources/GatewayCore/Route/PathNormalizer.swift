/// Why a request path is refused before any route matching (400 `invalid_request`).
///
/// Every case is a path the gateway cannot authorize unambiguously: the upstream might
/// interpret it differently from the route table (an encoded `/` or `\`, a `..` above root),
/// so it is refused rather than repaired.
package enum PathError: Error, Sendable, Equatable {
    /// The path does not start with `/` (empty, `*`, or an absolute-form leftover).
    case notAbsolute
    /// `%2F` / `%2f`: a segment boundary the upstream may or may not decode.
    case encodedSlash
    /// A raw `\` or `%5C`, which some servers treat as a separator.
    case backslash
    /// A raw byte 0x00 or `%00`.
    case nul
    /// A raw or percent-encoded control character (0x01-0x1F, 0x7F).
    case controlCharacter
    /// A `%` not followed by two hexadecimal digits.
    case invalidPercentEncoding
    /// A `..` segment that would climb above `/`; never clamped.
    case escapesRoot
    /// A segment that is `.` or `..` once its `;parameter` suffix is removed (`..;`,
    /// `%2e%2e;x=1`): Tomcat-style upstreams resolve it as a dot segment, so the route
    /// table and the upstream would disagree about the path.
    case dotSegmentWithParameter
    /// A `.` or `..` segment (`%2e` counts as `.`) in a path described to the decision
    /// endpoint: the proxy forwards the path as written, and an upstream that does not resolve
    /// dot segments would serve another path than the one the routes decided on.
    case unresolvedDotSegment

    /// Stable log reason.
    package var reason: String { "path_\(self)" }
}

/// Path normalization (SPEC §4), applied before matching; the upstream receives the result.
///
/// The output is canonical, so that one resource has exactly one spelling for the route table
/// and for the upstream:
/// - unreserved characters (`A-Z a-z 0-9 - . _ ~`) are percent-decoded, every other escape is
///   kept with uppercase hex (`%3a` → `%3A`);
/// - `.` and `..` segments are resolved after decoding (`%2e%2e` is `..`), repeated `/` are merged,
///   a trailing `/` is kept (`/a/.` → `/a/`, `/a/..` → `/`);
/// - raw bytes that may not appear in a path segment (RFC 3986 `pchar`) but are not refused — space,
///   `"`, `#`, `<`, `>`, `?`, `[`, `]`, `^`, `` ` ``, `{`, `|`, `}` and bytes ≥ 0x80 — are
///   percent-encoded. The HTTP parser already rejects most of them; this is defence in depth.
///
/// Loop-confined use is not required: the function is pure and allocation-free apart from the
/// growth of the caller's reused `output` array.
package enum PathNormalizer {
    /// Normalizes the path part of a request target (no query) into `output` (cleared first,
    /// capacity kept).
    ///
    /// - Throws: `PathError` for a path that must be refused with 400; `output` is then unspecified.
    package static func normalize(_ path: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(PathError) {
        output.removeAll(keepingCapacity: true)
        let count = path.count
        guard count > 0, path[0] == slash else { throw .notAbsolute }
        output.reserveCapacity(count)
        output.append(slash)

        // Invariant at the top of each segment: `output` ends with `/`, and `segmentStart` is
        // `output.count` (the first byte of the segment being written).
        var index = 1
        while true {
            let segmentStart = output.count
            // Copy (decoding) the segment up to the next raw `/` or the end.
            while index < count {
                let byte = path[index]
                if byte == slash { break }
                if byte == percent {
                    guard index + 2 < count,
                        let high = hexValue(path[index + 1]),
                        let low = hexValue(path[index + 2])
                    else { throw .invalidPercentEncoding }
                    let decoded = high << 4 | low
                    if isUnreserved(decoded) {
                        output.append(decoded)
                    } else {
                        try rejectForbidden(decoded, encoded: true)
                        appendEscaped(decoded, to: &output)
                    }
                    index += 3
                    continue
                }
                if isPathCharacter(byte) {
                    output.append(byte)
                } else {
                    try rejectForbidden(byte, encoded: false)
                    appendEscaped(byte, to: &output)
                }
                index += 1
            }
            let atEnd = index >= count
            let segmentCount = output.count - segmentStart
            try rejectDotSegmentWithParameter(output, from: segmentStart)
            if segmentCount == 1, output[segmentStart] == dot {
                // `.`: drop it, keep the `/` before it (so `/a/.` ends as `/a/`).
                output.removeLast()
            } else if segmentCount == 2, output[segmentStart] == dot, output[segmentStart + 1] == dot {
                // `..`: drop it and the segment before it; there must be one.
                guard segmentStart > 1 else { throw .escapesRoot }
                var cut = segmentStart - 2  // the last byte of the previous segment
                while output[cut] != slash { cut -= 1 }
                output.removeLast(output.count - (cut + 1))
            } else if segmentCount > 0, !atEnd {
                output.append(slash)
            }
            // An empty segment (`//`, or a trailing `/`) writes nothing: the `/` is already there.
            if atEnd { return }
            index += 1  // skip the `/`
        }
    }

    /// A normalized path with each segment's `;parameter` part removed, as Tomcat-style servers
    /// read it: `/a;x=1/b;y` is `/a/b`; a segment left empty goes (`/a/;x/b` is `/a/b`).
    package static func removeSegmentParameters(_ path: [UInt8], into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        var inParameter = false
        for byte in path {
            if byte == slash {
                inParameter = false
                if output.last == slash { continue }
            } else if byte == semicolon {
                inParameter = true
            }
            if !inParameter { output.append(byte) }
        }
        if output.isEmpty { output.append(slash) }
    }

    /// Whether a raw path has a segment that is `.` or `..`, written with `.` or `%2e`/`%2E`.
    package static func hasDotSegment(_ path: UnsafeRawBufferPointer) -> Bool {
        var dots = 0
        var index = 0
        var segmentIsDots = true
        while true {
            let atEnd = index >= path.count
            if atEnd || path[index] == slash {
                if segmentIsDots && (dots == 1 || dots == 2) { return true }
                if atEnd { return false }
                dots = 0
                segmentIsDots = true
                index += 1
            } else if path[index] == dot {
                dots += 1
                index += 1
            } else if path[index] == percent, index + 2 < path.count, path[index + 1] == 0x32, path[index + 2] | 0x20 == 0x65 {
                dots += 1   // %2e / %2E
                index += 3
            } else {
                segmentIsDots = false
                index += 1
            }
        }
    }

    /// Refuses a segment (`output[start...]`, already decoded) whose part before its first `;`
    /// is `.` or `..`.
    @inline(__always)
    private static func rejectDotSegmentWithParameter(_ output: [UInt8], from start: Int) throws(PathError) {
        var index = start
        while index < output.count, output[index] == dot { index += 1 }
        let dots = index - start
        if (dots == 1 || dots == 2) && index < output.count && output[index] == semicolon { throw .dotSegmentWithParameter }
    }

    /// Throws the error a raw or decoded byte deserves, if any.
    @inline(__always)
    private static func rejectForbidden(_ byte: UInt8, encoded: Bool) throws(PathError) {
        switch byte {
        case 0x00: throw .nul
        case 0x01...0x1F, 0x7F: throw .controlCharacter
        case backslash: throw .backslash
        case slash where encoded: throw .encodedSlash
        default: return
        }
    }

    @inline(__always)
    private static func appendEscaped(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(percent)
        output.append(upperHexDigit(byte >> 4))
        output.append(upperHexDigit(byte & 0x0F))
    }

    @inline(__always)
    private static func upperHexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x41 - 10 + nibble
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// RFC 3986 `unreserved`: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: true
        default: false
        }
    }

    /// RFC 3986 `pchar` minus `pct-encoded`: unreserved, sub-delims, `:` and `@`.
    @inline(__always)
    static func isPathCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: true  // unreserved
        case 0x21, 0x24, 0x26...0x2C, 0x3B, 0x3D: true  // ! $ & ' ( ) * + , ; =
        case 0x3A, 0x40: true  // : @
        default: false
        }
    }
}

private let slash: UInt8 = 0x2F
private let backslash: UInt8 = 0x5C
private let percent: UInt8 = 0x25
private let dot: UInt8 = 0x2E
private let semicolon: UInt8 = 0x3B
