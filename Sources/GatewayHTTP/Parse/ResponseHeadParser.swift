/// Parser for upstream response heads: strict on framing (an ambiguous upstream response is a
/// 502, never forwarded), as in-place and incremental as `RequestHeadParser`.
///
/// Status-line: `HTTP/1.0` or `HTTP/1.1`, SP, a three-digit status 100-599, then SP and a
/// reason phrase (possibly empty) of HTAB, SP, VCHAR and obs-text. A status-line ending right
/// after the status code (no SP) is accepted too: it cannot change the framing.
/// Field lines follow the same rules as requests. Framing: a single `Content-Length`, or a
/// `Transfer-Encoding` whose final coding is `chunked`; both, a duplicate `Content-Length`, a
/// `Transfer-Encoding` without a final `chunked` or on HTTP/1.0 are errors.
///
/// Loop-confined (one per upstream connection); holds only offsets, no buffer.
package struct ResponseHeadParser: Sendable {
    /// The longest head accepted, in bytes, including the final CRLF.
    package var maxHeadBytes: Int
    /// The most header fields accepted.
    package var maxHeaderCount: Int

    private enum Phase: UInt8, Sendable {
        case version, status, statusSP, reason, statusLineLF, fields, done
    }

    private var phase: Phase = .version
    /// The next byte to examine while in the status-line.
    private var pos: Int = 0
    /// A `Transfer-Encoding` field was seen.
    private var sawTransferEncoding = false
    /// The last transfer coding seen so far is `chunked`.
    private var chunkedIsLast = false
    /// Protocols the `Upgrade` fields named so far.
    private var upgradeProtocols = 0
    private var lines = HeaderLineScanner()

    package init(maxHeadBytes: Int = 64 * 1024, maxHeaderCount: Int = 200) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
    }

    /// Forgets the scan position; call before parsing the next response (also after a 1xx).
    package mutating func reset() {
        phase = .version
        pos = 0
        sawTransferEncoding = false
        chunkedIsLast = false
        upgradeProtocols = 0
        lines = HeaderLineScanner()
    }

    /// Same contract as `RequestHeadParser.parse`: `bytes` start at the response's first byte.
    ///
    /// The first call after `init` or `reset()` resets `head` (keeping its header storage).
    /// - Returns: true when the head is complete (`head.headLength` bytes), false when more
    ///   bytes are needed.
    /// - Throws: `.headTooLarge`, `.tooManyHeaders` or `.badRequest` as soon as detectable.
    package mutating func parse(_ bytes: UnsafeRawBufferPointer, into head: inout ResponseHead) throws(HTTPParseError) -> Bool {
        if phase == .done { return true }
        if phase == .version && pos == 0 { head.reset() }
        let end = min(bytes.count, maxHeadBytes)
        if phase != .fields {
            try parseStatusLine(bytes, end: end, into: &head)
        }
        if phase == .fields {
            fieldLoop: while true {
                switch try lines.next(bytes, end: end) {
                case .field(let nameStart, let nameCount, let valueStart, let valueCount):
                    try addField(bytes, nameStart, nameCount, valueStart, valueCount, into: &head)
                case .end(let length):
                    if sawTransferEncoding && !chunkedIsLast { throw .badRequest(.transferEncoding) }
                    head.isChunked = chunkedIsLast
                    head.headLength = length
                    phase = .done
                    return true
                case .needMore:
                    break fieldLoop
                }
            }
        }
        if end >= maxHeadBytes { throw .headTooLarge }
        return false
    }

    private static let versionPrefix: StaticString = "HTTP/1."

    /// Scans the status-line up to `end`; leaves `phase == .fields` once its CRLF was read.
    @inline(__always)
    private mutating func parseStatusLine(_ bytes: UnsafeRawBufferPointer, end: Int, into head: inout ResponseHead) throws(HTTPParseError) {
        var p = pos
        defer { pos = p }
        while p < end {
            let b = bytes[p]
            switch phase {
            case .version:
                // "HTTP/1.0" or "HTTP/1.1" at offsets 0-7, SP at 8.
                if p < 7 {
                    guard b == Self.versionPrefix.utf8Start[p] else { throw Self.statusLineError(b) }
                } else if p == 7 {
                    guard b == 0x30 || b == 0x31 else { throw Self.statusLineError(b) }
                    head.minorVersion = Int(b &- 0x30)
                } else {
                    guard b == 0x20 else { throw Self.statusLineError(b) }
                    phase = .status
                }
                p &+= 1
            case .status:
                // Three digits at offsets 9-11.
                guard HTTPBytes.isDigit(b), p != 9 || (b >= 0x31 && b <= 0x35) else { throw Self.statusLineError(b) }
                head.status = head.status &* 10 &+ Int(b &- 0x30)
                p &+= 1
                if p == 12 { phase = .statusSP }
            case .statusSP:
                if b == 0x20 {
                    phase = .reason
                    head.reason = ByteRange(start: p &+ 1, count: 0)
                } else if b == 0x0D {
                    phase = .statusLineLF
                    head.reason = ByteRange(start: p, count: 0)
                } else {
                    throw Self.statusLineError(b)
                }
                p &+= 1
            case .reason:
                while p < end && HTTPBytes.isFieldValueByte(bytes[p]) { p &+= 1 }
                guard p < end else { return }
                guard bytes[p] == 0x0D else { throw Self.statusLineError(bytes[p]) }
                head.reason.count = p &- head.reason.start
                phase = .statusLineLF
                p &+= 1
            case .statusLineLF:
                guard b == 0x0A else { throw .badRequest(.statusLine) }
                p &+= 1
                phase = .fields
                lines.start(at: p)
                return
            case .fields, .done:
                return
            }
        }
    }

    @inline(never)
    private static func statusLineError(_ b: UInt8) -> HTTPParseError {
        b == 0x0A ? .badRequest(.bareLineFeed) : .badRequest(.statusLine)
    }

    /// Records one field and applies the framing rules that concern it.
    @inline(__always)
    private mutating func addField(
        _ bytes: UnsafeRawBufferPointer, _ nameStart: Int, _ nameCount: Int, _ valueStart: Int, _ valueCount: Int,
        into head: inout ResponseHead
    ) throws(HTTPParseError) {
        let name = try HeaderLineScanner.appendField(
            bytes, nameStart, nameCount, valueStart, valueCount, to: &head.headers, limit: maxHeaderCount)
        switch name {
        case .contentLength, .transferEncoding, .connection, .upgrade:
            try applyFramingField(name, bytes, valueStart, valueCount, into: &head)
        default:
            break
        }
    }

    /// Content-Length, Transfer-Encoding and Connection (RFC 9112 §6).
    private mutating func applyFramingField(
        _ name: HeaderName, _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, into head: inout ResponseHead
    ) throws(HTTPParseError) {
        switch name {
        case .contentLength:
            let length = try HeaderLineScanner.contentLength(bytes, start, count, existing: head.contentLength)
            guard !sawTransferEncoding else { throw .badRequest(.contentLengthWithTransferEncoding) }
            head.contentLength = length
        case .transferEncoding:
            guard head.minorVersion == 1 else { throw .badRequest(.transferEncoding) }
            guard head.contentLength == nil else { throw .badRequest(.contentLengthWithTransferEncoding) }
            sawTransferEncoding = true
            var elements = 0
            var last = chunkedIsLast
            // Several Transfer-Encoding fields form one list (RFC 9110 §5.3): `chunked` may
            // appear once, as the final coding.
            var otherCodings = false
            try HTTPBytes.forEachListElement(bytes, start, count) { (s, n) throws(HTTPParseError) in
                guard !last, HTTPBytes.isTChar(bytes[s]) else { throw .badRequest(.transferEncoding) }
                last = HTTPBytes.equalsLowercase(bytes, s, n, "chunked")
                if !last { otherCodings = true }
                elements &+= 1
            }
            if otherCodings { head.hasOtherTransferCodings = true }
            guard elements > 0 else { throw .badRequest(.transferEncoding) }
            chunkedIsLast = last
        case .connection:
            try HeaderLineScanner.connectionOptions(
                bytes, start, count, close: &head.connectionClose, keepAlive: &head.connectionKeepAlive,
                upgrade: &head.connectionUpgrade)
        case .upgrade:
            // Exactly one protocol, `websocket`, across every Upgrade field (one list, RFC 9110
            // §5.3): anything else makes a 101 unacceptable (SPEC §8).
            try HTTPBytes.forEachListElement(bytes, start, count) { (s, n) throws(HTTPParseError) in
                upgradeProtocols &+= 1
                head.upgradeWebSocket = upgradeProtocols == 1 && HTTPBytes.equalsLowercase(bytes, s, n, "websocket")
            }
        default:
            break
        }
    }
}
