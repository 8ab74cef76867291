/// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1), strict about sizes,
/// extensions, CRLFs and trailers.
///
/// The caller owns the buffer: each `next` call looks at the unconsumed bytes, and the caller
/// drops `consumed` bytes from the front before the next call (bytes not consumed, such as a
/// half-received chunk-size line, must be presented again with more data appended).
///
/// Rules, stricter than RFC 9112 where noted:
/// - chunk-size is 1-16 hex digits with a value ≤ 2^62; no sign, `0x`, or whitespace.
/// - chunk extensions are `;name` or `;name=value` with a token name and a token or
///   quoted-string value, and no whitespace anywhere in the line (not even BWS or inside a
///   quoted-string). The line, without its CRLF, is at most `maxChunkLineBytes`.
/// - chunk data is followed by exactly CRLF.
/// - trailer fields follow the header-field rules (no obs-fold, no whitespace before the colon,
///   no forbidden bytes) and total at most `maxTrailerBytes` including the final CRLF. A trailer
///   field the gateway would act on in a header (any name `HeaderName.classify` recognizes:
///   framing, Host, credentials, identity, forwarding) is dropped (SPEC §8: never forwarded),
///   so no upstream that merges trailers into headers can be handed one.
///
/// A partially received line is never consumed; it is rescanned only from where the previous
/// call stopped. Loop-confined.
package struct ChunkedDecoder: Sendable {
    /// The largest trailer section accepted.
    package var maxTrailerBytes: Int

    /// The longest chunk-size line accepted (size and extensions, without the CRLF).
    package static let maxChunkLineBytes = 4096

    /// Trailer fields received after the last chunk, each as raw name and value bytes
    /// (value OWS-trimmed).
    package private(set) var trailers: [(name: [UInt8], value: [UInt8])] = []

    private enum Phase: UInt8, Sendable {
        case sizeLine, data, dataCRLF, trailers, done
    }

    /// Where the scan of a pending line stands.
    private enum LineState: UInt8, Sendable {
        // chunk-size line
        case digits, extNameStart, extName, extValueStart, extToken, quoted, quotedEscape, afterQuoted, sizeLF
        // trailer section
        case fieldStart, fieldName, fieldValue, fieldLF, endLF
    }

    private var phase: Phase = .sizeLine
    private var line: LineState = .digits
    /// Bytes of the pending (unconsumed) line already validated.
    private var lineScanned: Int = 0
    /// The chunk size being read and its digit count.
    private var size: Int64 = 0
    private var digits: Int = 0
    /// Payload bytes left in the current chunk.
    private var remaining: Int64 = 0
    /// Offsets of the colon and the CR in the pending trailer line, from the line's start.
    private var colonOffset: Int = 0
    private var crOffset: Int = 0
    /// Trailer-section bytes seen so far.
    private var trailerBytes: Int = 0

    package init(maxTrailerBytes: Int = 16 * 1024) {
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// True once the last chunk and the trailer section were consumed.
    package var isDone: Bool { phase == .done }

    /// Prepares for the next body, keeping the trailer array's storage.
    package mutating func reset() {
        phase = .sizeLine
        line = .digits
        lineScanned = 0
        size = 0
        digits = 0
        remaining = 0
        colonOffset = 0
        crOffset = 0
        trailerBytes = 0
        trailers.removeAll(keepingCapacity: true)
    }

    /// Decodes from `input` (the unconsumed bytes, starting where the last step's `consumed` ended).
    /// - Returns: the next step; at most one `.data` slice per call.
    /// - Throws: `.badRequest` with `.chunkSize`, `.chunkExtension`, `.chunkData` or `.trailer`
    ///   as soon as a violation is seen.
    package mutating func next(_ input: UnsafeRawBufferPointer) throws(HTTPParseError) -> ChunkedStep {
        var i = 0
        let n = input.count
        while true {
            switch phase {
            case .sizeLine:
                guard let lineEnd = try scanSizeLine(input, from: i) else { return .needMore(consumed: i) }
                i = lineEnd
                if size == 0 {
                    phase = .trailers
                    line = .fieldStart
                } else {
                    remaining = size
                    phase = .data
                }
                size = 0
                digits = 0
            case .data:
                let available = n &- i
                guard available > 0 else { return .needMore(consumed: i) }
                let count = remaining < Int64(available) ? Int(remaining) : available
                remaining &-= Int64(count)
                if remaining == 0 { phase = .dataCRLF }
                return .data(offset: i, count: count, consumed: i &+ count)
            case .dataCRLF:
                guard i < n else { return .needMore(consumed: i) }
                guard input[i] == 0x0D else { throw .badRequest(.chunkData) }
                guard i &+ 1 < n else { return .needMore(consumed: i) }
                guard input[i &+ 1] == 0x0A else { throw .badRequest(.chunkData) }
                i &+= 2
                phase = .sizeLine
                line = .digits
            case .trailers:
                guard let (lineEnd, last) = try scanTrailerLine(input, from: i) else { return .needMore(consumed: i) }
                i = lineEnd
                if last {
                    phase = .done
                    return .done(consumed: i)
                }
            case .done:
                return .done(consumed: i)
            }
        }
    }

    /// Validates the chunk-size line starting at `start`, resuming after `lineScanned` bytes.
    /// - Returns: the offset after its LF, or nil (with `lineScanned` updated) when incomplete.
    private mutating func scanSizeLine(_ input: UnsafeRawBufferPointer, from start: Int) throws(HTTPParseError) -> Int? {
        var p = start &+ lineScanned
        let n = input.count
        while p < n {
            let b = input[p]
            // Content up to maxChunkLineBytes, then CR and LF.
            if p &- start > Self.maxChunkLineBytes &+ 1 {
                throw line == .digits ? .badRequest(.chunkSize) : .badRequest(.chunkExtension)
            }
            switch line {
            case .digits:
                if let v = HTTPBytes.hexValue(b) {
                    digits &+= 1
                    guard digits <= 16, size <= (HTTPBytes.maxLength &- Int64(v)) >> 4 else { throw .badRequest(.chunkSize) }
                    size = size << 4 | Int64(v)
                } else if digits > 0 && b == 0x3B {
                    line = .extNameStart
                } else if digits > 0 && b == 0x0D {
                    line = .sizeLF
                } else {
                    throw .badRequest(.chunkSize)
                }
            case .extNameStart:
                guard HTTPBytes.isTChar(b) else { throw .badRequest(.chunkExtension) }
                line = .extName
            case .extName, .extToken:
                if HTTPBytes.isTChar(b) {
                    // stays
                } else if b == 0x3B {
                    line = .extNameStart
                } else if b == 0x3D && line == .extName {
                    line = .extValueStart
                } else if b == 0x0D {
                    line = .sizeLF
                } else {
                    throw .badRequest(.chunkExtension)
                }
            case .extValueStart:
                if HTTPBytes.isTChar(b) {
                    line = .extToken
                } else if b == 0x22 {
                    line = .quoted
                } else {
                    throw .badRequest(.chunkExtension)
                }
            case .quoted:
                // qdtext without SP and HTAB: %x21 / %x23-5B / %x5D-7E / obs-text.
                if b == 0x22 {
                    line = .afterQuoted
                } else if b == 0x5C {
                    line = .quotedEscape
                } else if b < 0x21 || b == 0x7F {
                    throw .badRequest(.chunkExtension)
                }
            case .quotedEscape:
                // quoted-pair without SP and HTAB: VCHAR / obs-text.
                guard b >= 0x21 && b != 0x7F else { throw .badRequest(.chunkExtension) }
                line = .quoted
            case .afterQuoted:
                if b == 0x3B {
                    line = .extNameStart
                } else if b == 0x0D {
                    line = .sizeLF
                } else {
                    throw .badRequest(.chunkExtension)
                }
            case .sizeLF:
                guard b == 0x0A else { throw .badRequest(.chunkSize) }
                lineScanned = 0
                return p &+ 1
            case .fieldStart, .fieldName, .fieldValue, .fieldLF, .endLF:
                preconditionFailure("trailer state while reading a chunk-size line")
            }
            p &+= 1
        }
        lineScanned = p &- start
        return nil
    }

    /// Validates the trailer line starting at `start`, resuming after `lineScanned` bytes, and
    /// records it when complete.
    /// - Returns: the offset after its LF and whether it was the final empty line, or nil
    ///   (with `lineScanned` updated) when incomplete.
    private mutating func scanTrailerLine(
        _ input: UnsafeRawBufferPointer, from start: Int
    ) throws(HTTPParseError) -> (end: Int, last: Bool)? {
        var p = start &+ lineScanned
        let n = input.count
        while p < n {
            let b = input[p]
            trailerBytes &+= 1
            guard trailerBytes <= maxTrailerBytes else { throw .badRequest(.trailer) }
            switch line {
            case .fieldStart:
                if HTTPBytes.isTChar(b) {
                    line = .fieldName
                } else if b == 0x0D {
                    line = .endLF
                } else {
                    throw .badRequest(.trailer)  // obs-fold, bare LF, bad name byte
                }
            case .fieldName:
                if b == 0x3A {
                    colonOffset = p &- start
                    line = .fieldValue
                } else if !HTTPBytes.isTChar(b) {
                    throw .badRequest(.trailer)  // whitespace before the colon, bad name byte
                }
            case .fieldValue:
                if b == 0x0D {
                    crOffset = p &- start
                    line = .fieldLF
                } else if !HTTPBytes.isFieldValueByte(b) {
                    throw .badRequest(.trailer)
                }
            case .fieldLF:
                guard b == 0x0A else { throw .badRequest(.trailer) }
                try recordTrailer(input, lineStart: start)
                line = .fieldStart
                lineScanned = 0
                return (p &+ 1, false)
            case .endLF:
                guard b == 0x0A else { throw .badRequest(.trailer) }
                lineScanned = 0
                return (p &+ 1, true)
            case .digits, .extNameStart, .extName, .extValueStart, .extToken, .quoted, .quotedEscape, .afterQuoted, .sizeLF:
                preconditionFailure("chunk-size state while reading trailers")
            }
            p &+= 1
        }
        lineScanned = p &- start
        return nil
    }

    /// Copies the complete trailer line at `lineStart` into `trailers` (cold: trailers are rare).
    @inline(never)
    private mutating func recordTrailer(_ input: UnsafeRawBufferPointer, lineStart: Int) throws(HTTPParseError) {
        let nameEnd = lineStart &+ colonOffset
        guard HeaderName.classify(input, lineStart, colonOffset) == .other else { return }
        var s = nameEnd &+ 1
        var e = lineStart &+ crOffset
        while s < e && HTTPBytes.isOWS(input[s]) { s &+= 1 }
        while e > s && HTTPBytes.isOWS(input[e &- 1]) { e &-= 1 }
        trailers.append((name: Array(input[lineStart ..< nameEnd]), value: Array(input[s ..< e])))
    }
}

/// One step of chunked decoding. Offsets are into the `input` given to `next`.
package enum ChunkedStep: Sendable, Equatable {
    /// Nothing more can be decoded from this input; drop `consumed` bytes and call again with more.
    case needMore(consumed: Int)
    /// `input[offset ..< offset + count]` is payload; drop `consumed` bytes (which end at
    /// `offset + count`) and call again.
    case data(offset: Int, count: Int, consumed: Int)
    /// The body (last chunk and trailers) ended after `consumed` bytes.
    case done(consumed: Int)
}
