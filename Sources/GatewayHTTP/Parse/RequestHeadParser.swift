/// Strict HTTP/1.1 request-head parser (RFC 9112, SPEC §14) working on bytes in place.
///
/// Incremental: call `parse` each time more bytes arrived, always with the buffer starting at
/// the first byte of the request; the parser remembers how far it scanned, so every byte is
/// examined once however the head is split. Each byte is validated when first seen and each
/// field is interpreted as soon as its line is complete, so a violation is reported as soon as
/// it is detectable, not only once the head ended.
///
/// Loop-confined (one per connection); holds only offsets, no buffer.
package struct RequestHeadParser: Sendable {
    /// The longest head accepted, in bytes, including leading empty lines and the final CRLF.
    package var maxHeadBytes: Int
    /// The most header fields accepted.
    package var maxHeaderCount: Int

    /// How many empty lines may precede the request-line (RFC 9112 §2.2 asks for at least one).
    package static let maxLeadingEmptyLines = 4

    private enum Phase: UInt8, Sendable {
        case leading, leadingLF, method, target, version, requestLineLF, fields, done
    }

    private var phase: Phase = .leading
    /// The next byte to examine while in the request-line.
    private var pos: Int = 0
    /// Start of the method, then of the target, then of the version.
    private var tokenStart: Int = 0
    /// Offset of the target's first `?`, or -1.
    private var firstQuery: Int = -1
    private var emptyLines: Int = 0
    private var lines = HeaderLineScanner()

    package init(maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
    }

    /// Forgets the scan position; call before parsing the next request of a connection.
    package mutating func reset() {
        phase = .leading
        pos = 0
        tokenStart = 0
        firstQuery = -1
        emptyLines = 0
        lines = HeaderLineScanner()
    }

    /// Parses `bytes` (which start at the request's first byte) into `head`.
    ///
    /// The first call after `init` or `reset()` resets `head` (keeping its header storage).
    /// - Returns: true when the head is complete (`head.headLength` bytes), false when more
    ///   bytes are needed.
    /// - Throws: `.headTooLarge` when no end was found within `maxHeadBytes`, or any other
    ///   `HTTPParseError` as soon as a violation is seen (even before the head is complete).
    package mutating func parse(_ bytes: UnsafeRawBufferPointer, into head: inout RequestHead) throws(HTTPParseError) -> Bool {
        if phase == .done { return true }
        if phase == .leading && pos == 0 && emptyLines == 0 { head.reset() }
        let end = min(bytes.count, maxHeadBytes)
        if phase != .fields {
            try parseRequestLine(bytes, end: end, into: &head)
        }
        if phase == .fields {
            fieldLoop: while true {
                switch try lines.next(bytes, end: end) {
                case .field(let nameStart, let nameCount, let valueStart, let valueCount):
                    try addField(bytes, nameStart, nameCount, valueStart, valueCount, into: &head)
                case .end(let length):
                    try finish(length: length, into: &head)
                    return true
                case .needMore:
                    break fieldLoop
                }
            }
        }
        if end >= maxHeadBytes { throw .headTooLarge }
        return false
    }

    // MARK: Request-line

    /// Scans the request-line up to `end`; leaves `phase == .fields` once its CRLF was read.
    @inline(__always)
    private mutating func parseRequestLine(_ bytes: UnsafeRawBufferPointer, end: Int, into head: inout RequestHead) throws(HTTPParseError) {
        var p = pos
        defer { pos = p }
        while p < end {
            switch phase {
            case .leading:
                let b = bytes[p]
                if HTTPBytes.isTChar(b) {
                    tokenStart = p
                    phase = .method
                } else if b == 0x0D {
                    phase = .leadingLF
                } else {
                    throw b == 0x0A ? .badRequest(.bareLineFeed) : .badRequest(.requestLine)
                }
                p &+= 1
            case .leadingLF:
                guard bytes[p] == 0x0A else { throw .badRequest(.requestLine) }
                emptyLines &+= 1
                guard emptyLines <= Self.maxLeadingEmptyLines else { throw .badRequest(.requestLine) }
                phase = .leading
                p &+= 1
            case .method:
                while p < end && HTTPBytes.isTChar(bytes[p]) { p &+= 1 }
                guard p < end else { return }
                guard bytes[p] == 0x20 else { throw Self.methodError(bytes[p]) }
                head.methodRange = ByteRange(start: tokenStart, count: p &- tokenStart)
                head.method = Self.classifyMethod(bytes, tokenStart, p &- tokenStart)
                p &+= 1
                tokenStart = p
                firstQuery = -1
                phase = .target
            case .target:
                while p < end {
                    let b = bytes[p]
                    // VCHAR except "#" (a fragment is never sent) and "?" (noted, then allowed).
                    if b &- 0x21 < 0x5E && b != 0x23 && b != 0x3F {
                        p &+= 1
                    } else if b == 0x3F {
                        if firstQuery < 0 { firstQuery = p }
                        p &+= 1
                    } else {
                        break
                    }
                }
                guard p < end else { return }
                guard bytes[p] == 0x20, p > tokenStart else { throw Self.targetError(bytes[p], empty: p == tokenStart) }
                try Self.splitTarget(bytes, start: tokenStart, end: p, firstQuery: firstQuery, into: &head)
                p &+= 1
                tokenStart = p
                phase = .version
            case .version:
                // Exactly "HTTP/1.1" or "HTTP/1.0", then CR.
                let b = bytes[p]
                let k = p &- tokenStart
                if k < 7 {
                    guard b == Self.versionPrefix.utf8Start[k] else { throw Self.versionError(b, at: k) }
                } else if k == 7 {
                    guard b == 0x30 || b == 0x31 else { throw Self.versionError(b, at: k) }
                    head.minorVersion = Int(b &- 0x30)
                } else {
                    guard b == 0x0D else { throw Self.versionError(b, at: k) }
                    phase = .requestLineLF
                }
                p &+= 1
            case .requestLineLF:
                guard bytes[p] == 0x0A else { throw .badRequest(.requestLine) }
                p &+= 1
                phase = .fields
                lines.start(at: p)
                return
            case .fields, .done:
                return
            }
        }
    }

    private static let versionPrefix: StaticString = "HTTP/1."

    /// Fills `target`, `path`, `query` and `absoluteAuthority` from the target `bytes[start ..< end]`.
    @inline(__always)
    private static func splitTarget(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, firstQuery: Int, into head: inout RequestHead
    ) throws(HTTPParseError) {
        head.target = ByteRange(start: start, count: end &- start)
        let pathEnd = firstQuery >= 0 ? firstQuery : end
        head.query = firstQuery >= 0 ? ByteRange(start: firstQuery &+ 1, count: end &- firstQuery &- 1) : nil
        if bytes[start] == 0x2F {  // origin-form
            // CONNECT takes authority-form only (RFC 9112 §3.2.3), which is refused below: a
            // `CONNECT /path` would reach an upstream that may answer 2xx and turn the
            // connection into a tunnel the gateway frames as a response.
            guard head.method != .connect else { throw .badRequest(.target) }
            head.path = ByteRange(start: start, count: pathEnd &- start)
            return
        }
        try splitAbsoluteForm(bytes, start: start, pathEnd: pathEnd, into: &head)
    }

    /// Absolute-form `http://authority[/path][?query]` (RFC 9112 §3.2.2); asterisk-form,
    /// authority-form and every other scheme are `.target` errors.
    @inline(never)
    private static func splitAbsoluteForm(
        _ bytes: UnsafeRawBufferPointer, start: Int, pathEnd: Int, into head: inout RequestHead
    ) throws(HTTPParseError) {
        guard HTTPBytes.hasLowercasePrefix(bytes, start, pathEnd &- start, "http://") else { throw .badRequest(.target) }
        let authorityStart = start &+ 7
        var i = authorityStart
        while i < pathEnd && bytes[i] != 0x2F { i &+= 1 }
        // Userinfo ("user@host") is never valid in an http URI sent to us (RFC 9110 §4.2.4);
        // isValidHostPort rejects "@" along with any other byte outside uri-host.
        guard HTTPBytes.isValidHostPort(bytes, authorityStart, i &- authorityStart) else { throw .badRequest(.target) }
        head.absoluteAuthority = ByteRange(start: authorityStart, count: i &- authorityStart)
        head.path = ByteRange(start: i, count: pathEnd &- i)
    }

    /// Classifies a method token (case-sensitive, RFC 9110 §9.1).
    @inline(__always)
    package static func classifyMethod(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> HTTPMethod {
        switch count {
        case 3:
            if HTTPBytes.equals(bytes, start, count, "GET") { return .get }
            if HTTPBytes.equals(bytes, start, count, "PUT") { return .put }
        case 4:
            if HTTPBytes.equals(bytes, start, count, "POST") { return .post }
            if HTTPBytes.equals(bytes, start, count, "HEAD") { return .head }
        case 5:
            if HTTPBytes.equals(bytes, start, count, "PATCH") { return .patch }
            if HTTPBytes.equals(bytes, start, count, "TRACE") { return .trace }
        case 6:
            if HTTPBytes.equals(bytes, start, count, "DELETE") { return .delete }
        case 7:
            if HTTPBytes.equals(bytes, start, count, "OPTIONS") { return .options }
            if HTTPBytes.equals(bytes, start, count, "CONNECT") { return .connect }
        default:
            break
        }
        return .other
    }

    @inline(never)
    private static func methodError(_ b: UInt8) -> HTTPParseError {
        switch b {
        case 0x0A: .badRequest(.bareLineFeed)
        case 0x0D: .badRequest(.requestLine)
        default: .badRequest(.method)
        }
    }

    @inline(never)
    private static func targetError(_ b: UInt8, empty: Bool) -> HTTPParseError {
        switch b {
        case 0x0A: .badRequest(.bareLineFeed)
        case 0x0D: .badRequest(.requestLine)  // no version (HTTP/0.9 style)
        case 0x20 where empty: .badRequest(.requestLine)  // two spaces
        default: .badRequest(.target)
        }
    }

    @inline(never)
    private static func versionError(_ b: UInt8, at k: Int) -> HTTPParseError {
        switch b {
        case 0x0A: .badRequest(.bareLineFeed)
        case 0x20 where k == 0: .badRequest(.requestLine)  // two spaces
        default: .badRequest(.version)
        }
    }

    // MARK: Fields

    /// Records one field and applies the framing rules that concern it.
    @inline(__always)
    private func addField(
        _ bytes: UnsafeRawBufferPointer, _ nameStart: Int, _ nameCount: Int, _ valueStart: Int, _ valueCount: Int,
        into head: inout RequestHead
    ) throws(HTTPParseError) {
        let name = try HeaderLineScanner.appendField(
            bytes, nameStart, nameCount, valueStart, valueCount, to: &head.headers, limit: maxHeaderCount)
        switch name {
        case .host, .contentLength, .transferEncoding, .connection, .upgrade, .expect:
            try Self.applyFramingField(name, bytes, valueStart, valueCount, into: &head)
        default:
            break
        }
    }

    /// Host, Content-Length, Transfer-Encoding, Connection, Upgrade and Expect (RFC 9112 §3.2, §6).
    private static func applyFramingField(
        _ name: HeaderName, _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, into head: inout RequestHead
    ) throws(HTTPParseError) {
        switch name {
        case .host:
            guard head.host == nil else { throw .badRequest(.duplicateHost) }
            guard HTTPBytes.isValidHostPort(bytes, start, count) else { throw .badRequest(.invalidHost) }
            head.host = ByteRange(start: start, count: count)
        case .contentLength:
            let length = try HeaderLineScanner.contentLength(bytes, start, count, existing: head.contentLength)
            guard !head.isChunked else { throw .badRequest(.contentLengthWithTransferEncoding) }
            head.contentLength = length
        case .transferEncoding:
            // HTTP/1.0 has no transfer codings: its framing would be faulty (RFC 9112 §6.1).
            guard head.minorVersion == 1 else { throw .badRequest(.transferEncoding) }
            guard head.contentLength == nil else { throw .badRequest(.contentLengthWithTransferEncoding) }
            guard !head.isChunked, HTTPBytes.equalsLowercase(bytes, start, count, "chunked") else {
                throw .badRequest(.transferEncoding)
            }
            head.isChunked = true
        case .connection:
            try HeaderLineScanner.connectionOptions(
                bytes, start, count, close: &head.connectionClose, keepAlive: &head.connectionKeepAlive,
                upgrade: &head.connectionUpgrade)
        case .upgrade:
            try HTTPBytes.forEachListElement(bytes, start, count) { (s, n) throws(HTTPParseError) in
                if HTTPBytes.equalsLowercase(bytes, s, n, "websocket") { head.upgradeWebSocket = true }
            }
        case .expect:
            guard HTTPBytes.equalsLowercase(bytes, start, count, "100-continue") else { throw .badRequest(.expectation) }
            // An HTTP/1.0 client cannot wait for 100 (Continue): the expectation is ignored (RFC 9110 §10.1.1).
            head.expectContinue = head.minorVersion == 1
        default:
            break
        }
    }

    /// Checks made once the whole head is known, then marks the parse complete.
    private mutating func finish(length: Int, into head: inout RequestHead) throws(HTTPParseError) {
        if head.minorVersion == 1 && head.host == nil { throw .badRequest(.missingHost) }
        head.headLength = length
        phase = .done
    }
}
