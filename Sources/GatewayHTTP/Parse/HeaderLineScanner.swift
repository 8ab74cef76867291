/// Resumable scanner for the field lines of a message head (RFC 9112 §5), shared by the
/// request and response parsers.
///
/// It validates every byte as it first sees it (so a violation is reported as soon as it
/// arrives) and reports each complete field line once; the caller interprets the field.
/// State is only offsets, so the caller's buffer may move or grow between calls.
struct HeaderLineScanner: Sendable {
    enum Phase: UInt8, Sendable {
        /// At the first byte of a field line or of the final empty line.
        case lineStart
        /// Inside a field name.
        case name
        /// After the colon, up to the line's CR.
        case value
        /// After the CR that ends a field line.
        case valueLF
        /// After the CR of the empty line that ends the head.
        case finalLF
        /// The head ended.
        case done
    }

    /// One result of `next`.
    enum Event {
        /// A complete field line: name and OWS-trimmed value ranges.
        case field(nameStart: Int, nameCount: Int, valueStart: Int, valueCount: Int)
        /// The empty line was found; the head is `length` bytes long.
        case end(length: Int)
        /// Every byte below the limit was scanned; call again with more.
        case needMore
    }

    var phase: Phase = .lineStart
    /// The next byte to examine.
    var pos: Int = 0
    /// Where the current field name starts.
    var lineStart: Int = 0
    /// Offset of the current line's colon.
    var colon: Int = 0
    /// Offset of the current line's CR.
    var cr: Int = 0

    /// Starts scanning field lines at `offset` (just after the start-line's CRLF).
    mutating func start(at offset: Int) {
        self = HeaderLineScanner()
        pos = offset
    }

    /// Scans from the saved position up to `end` (exclusive) and reports the next event.
    @inline(__always)
    mutating func next(_ bytes: UnsafeRawBufferPointer, end: Int) throws(HTTPParseError) -> Event {
        var p = pos
        defer { pos = p }
        while p < end {
            switch phase {
            case .lineStart:
                let b = bytes[p]
                if HTTPBytes.isTChar(b) {
                    lineStart = p
                    phase = .name
                    p &+= 1
                } else if b == 0x0D {
                    phase = .finalLF
                    p &+= 1
                } else {
                    throw Self.lineStartError(b)
                }
            case .name:
                while p < end && HTTPBytes.isTChar(bytes[p]) { p &+= 1 }
                guard p < end else { return .needMore }
                let b = bytes[p]
                guard b == 0x3A else { throw Self.nameError(b) }
                colon = p
                phase = .value
                p &+= 1
            case .value:
                // Eight bytes at a time while none is a control byte or DEL (HTAB, CR and
                // anything bad drop to the byte loop, which decides).
                while p &+ 8 <= end && !HTTPBytes.hasControlOrDEL(bytes.loadUnaligned(fromByteOffset: p, as: UInt64.self)) {
                    p &+= 8
                }
                while p < end && HTTPBytes.isFieldValueByte(bytes[p]) { p &+= 1 }
                guard p < end else { return .needMore }
                let b = bytes[p]
                guard b == 0x0D else { throw Self.valueError(b) }
                cr = p
                phase = .valueLF
                p &+= 1
            case .valueLF:
                // A CR not followed by LF is a bare CR: never a line end, never data.
                guard bytes[p] == 0x0A else { throw .badRequest(.headerValue) }
                p &+= 1
                phase = .lineStart
                var s = colon &+ 1
                var e = cr
                while s < e && HTTPBytes.isOWS(bytes[s]) { s &+= 1 }
                while e > s && HTTPBytes.isOWS(bytes[e &- 1]) { e &-= 1 }
                return .field(nameStart: lineStart, nameCount: colon &- lineStart, valueStart: s, valueCount: e &- s)
            case .finalLF:
                guard bytes[p] == 0x0A else { throw .badRequest(.headerName) }
                p &+= 1
                phase = .done
                return .end(length: p)
            case .done:
                return .end(length: p)
            }
        }
        return phase == .done ? .end(length: p) : .needMore
    }

    /// Classifies a complete field line and appends it, refusing more than `limit` fields
    /// (431). - Returns: the field's class, for the caller's framing rules.
    @inline(__always)
    static func appendField(
        _ bytes: UnsafeRawBufferPointer, _ nameStart: Int, _ nameCount: Int, _ valueStart: Int, _ valueCount: Int,
        to headers: inout [HeaderField], limit: Int
    ) throws(HTTPParseError) -> HeaderName {
        guard headers.count < limit else { throw .tooManyHeaders }
        let name = HeaderName.classify(bytes, nameStart, nameCount)
        headers.append(HeaderField(name: name, nameStart: nameStart, nameCount: nameCount, valueStart: valueStart, valueCount: valueCount))
        return name
    }

    /// A `Content-Length` value, for requests and responses alike. A second field is refused,
    /// even an identical one: simpler than merging and never ambiguous (RFC 9112 §6.3 allows it).
    static func contentLength(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, existing: Int64?
    ) throws(HTTPParseError) -> Int64 {
        guard existing == nil else { throw .badRequest(.duplicateContentLength) }
        guard let length = HTTPBytes.parseDecimal(bytes, start, count) else { throw .badRequest(.contentLength) }
        return length
    }

    /// The `Connection` options the gateway acts on (`close`, `keep-alive`, `upgrade`); other
    /// tokens name hop-by-hop fields and are handled when forwarding.
    static func connectionOptions(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, close: inout Bool, keepAlive: inout Bool,
        upgrade: inout Bool
    ) throws(HTTPParseError) {
        try HTTPBytes.forEachListElement(bytes, start, count) { (s, n) throws(HTTPParseError) in
            if HTTPBytes.equalsLowercase(bytes, s, n, "close") {
                close = true
            } else if HTTPBytes.equalsLowercase(bytes, s, n, "keep-alive") {
                keepAlive = true
            } else if HTTPBytes.equalsLowercase(bytes, s, n, "upgrade") {
                upgrade = true
            }
        }
    }

    @inline(never)
    static func lineStartError(_ b: UInt8) -> HTTPParseError {
        switch b {
        case 0x0A: .badRequest(.bareLineFeed)
        // A line starting with whitespace continues the previous one (obs-fold, RFC 9112 §5.2),
        // or, right after the start-line, hides a field (§2.2): rejected either way.
        case 0x20, 0x09: .badRequest(.obsFold)
        default: .badRequest(.headerName)
        }
    }

    @inline(never)
    static func nameError(_ b: UInt8) -> HTTPParseError {
        switch b {
        case 0x0A: .badRequest(.bareLineFeed)
        case 0x20, 0x09: .badRequest(.spaceBeforeColon)
        default: .badRequest(.headerName)
        }
    }

    @inline(never)
    static func valueError(_ b: UInt8) -> HTTPParseError {
        b == 0x0A ? .badRequest(.bareLineFeed) : .badRequest(.headerValue)
    }
}
