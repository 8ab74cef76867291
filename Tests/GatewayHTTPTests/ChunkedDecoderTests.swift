import GatewayHTTP
import Testing

/// The outcome of decoding a whole chunked body the way a connection would.
struct Decoded: Equatable {
    var payload: [UInt8]
    var trailers: [[UInt8]]
    /// Bytes left after the body (the next pipelined message).
    var leftover: [UInt8]
    var done: Bool
}

/// Feeds `body` to a decoder in pieces ending at each of `cuts` (and at the end), dropping what
/// each step consumed, as a connection's read buffer would.
func decodeChunked(_ body: [UInt8], cuts: [Int] = [], maxTrailerBytes: Int = 16 * 1024) throws -> Decoded {
    var decoder = ChunkedDecoder(maxTrailerBytes: maxTrailerBytes)
    var pending: [UInt8] = []
    var payload: [UInt8] = []
    var fed = 0
    for cut in cuts + [body.count] {
        pending += body[fed ..< cut]
        fed = cut
        while true {
            let step = try pending.withUnsafeBytes { buffer throws(HTTPParseError) in try decoder.next(buffer) }
            switch step {
            case .needMore(let consumed):
                #expect(consumed <= pending.count)
                pending.removeFirst(consumed)
            case .data(let offset, let count, let consumed):
                #expect(count > 0 && offset + count == consumed)
                payload += pending[offset ..< offset + count]
                pending.removeFirst(consumed)
                continue
            case .done(let consumed):
                #expect(decoder.isDone)
                pending.removeFirst(consumed)
                let trailers = decoder.trailers.map { $0.name + latin1(": ") + $0.value }
                return Decoded(payload: payload, trailers: trailers, leftover: pending + body[fed...], done: true)
            }
            break
        }
    }
    #expect(!decoder.isDone)
    return Decoded(payload: payload, trailers: [], leftover: pending, done: false)
}

@Suite("ChunkedDecoder")
struct ChunkedDecoderTests {
    static let valid: [(body: String, payload: String, trailers: [String])] = [
        ("5\r\nhello\r\n0\r\n\r\n", "hello", []),
        ("5;a=b;c\r\nhello\r\n6;x=\"q\\\"t\"\r\n world\r\n0\r\nExpires: never\r\nX-Checksum:  abc \r\n\r\n",
         "hello world", ["Expires: never", "X-Checksum: abc"]),
        ("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", []),
        ("0005\r\nhello\r\n000;last\r\n\r\n", "hello", []),
        ("0\r\n\r\n", "", []),
        ("1;e=\"\u{E9}\"\r\n\u{FF}\r\n0;k=v\r\nX-Empty:\r\n\r\n", "\u{FF}", ["X-Empty: "]),
        ("0000000000000003\r\nabc\r\n0\r\n\r\n", "abc", []),
    ]

    @Test("split at every offset reproduces the payload", arguments: valid.indices)
    func splitAtEveryOffset(_ index: Int) throws {
        let (body, payload, trailers) = Self.valid[index]
        let bytes = latin1(body + "NEXT")
        let expected = Decoded(
            payload: latin1(payload), trailers: trailers.map(latin1), leftover: latin1("NEXT"), done: true)
        #expect(try decodeChunked(bytes) == expected)
        for cut in 0 ... bytes.count {
            #expect(try decodeChunked(bytes, cuts: [cut]) == expected, "cut at \(cut)")
        }
        #expect(try decodeChunked(bytes, cuts: Array(0 ..< bytes.count)) == expected, "byte by byte")
    }

    @Test func dataSlicesMayBeShorterThanTheChunk() throws {
        var decoder = ChunkedDecoder()
        let partial = latin1("5\r\nhel")
        let step = try partial.withUnsafeBytes { buffer throws(HTTPParseError) in try decoder.next(buffer) }
        #expect(step == .data(offset: 3, count: 3, consumed: 6))
        let rest = latin1("lo\r\n0\r\n\r\n")
        let step2 = try rest.withUnsafeBytes { buffer throws(HTTPParseError) in try decoder.next(buffer) }
        #expect(step2 == .data(offset: 0, count: 2, consumed: 2))
    }

    @Test func partialSizeLineIsNotConsumed() throws {
        var decoder = ChunkedDecoder()
        let partial = latin1("1a;ext=va")
        let step = try partial.withUnsafeBytes { buffer throws(HTTPParseError) in try decoder.next(buffer) }
        #expect(step == .needMore(consumed: 0))
        let partialCRLF = latin1("5\r\nhello\r")
        var other = ChunkedDecoder()
        _ = try partialCRLF.withUnsafeBytes { buffer throws(HTTPParseError) in try other.next(buffer) }
        let tail = latin1("\r")
        let step2 = try tail.withUnsafeBytes { buffer throws(HTTPParseError) in try other.next(buffer) }
        #expect(step2 == .needMore(consumed: 0))
    }

    @Test func resetAllowsTheNextBody() throws {
        var decoder = ChunkedDecoder()
        let body = latin1("0\r\nX-A: 1\r\n\r\n")
        #expect(try body.withUnsafeBytes { buffer throws(HTTPParseError) in try decoder.next(buffer) } == .done(consumed: body.count))
        #expect(decoder.isDone && decoder.trailers.count == 1)
        decoder.reset()
        #expect(!decoder.isDone && decoder.trailers.isEmpty)
        let second = latin1("2\r\nok\r\n")
        #expect(try second.withUnsafeBytes { buffer throws(HTTPParseError) in try decoder.next(buffer) }
            == .data(offset: 3, count: 2, consumed: 5))
    }

    @Test func largestChunkSizeIsAccepted() throws {
        var decoder = ChunkedDecoder()
        let line = latin1("4000000000000000\r\nab")
        #expect(try line.withUnsafeBytes { buffer throws(HTTPParseError) in try decoder.next(buffer) }
            == .data(offset: 18, count: 2, consumed: 20))
    }

    @Test func sizeLineAtTheLengthLimit() throws {
        let name = String(repeating: "e", count: ChunkedDecoder.maxChunkLineBytes - 2)
        #expect(try decodeChunked(latin1("1;\(name)\r\nx\r\n0\r\n\r\n")).payload == latin1("x"))
        #expect(throws: HTTPParseError.badRequest(.chunkExtension)) {
            try decodeChunked(latin1("1;\(name)e\r\nx\r\n0\r\n\r\n"))
        }
    }

    static let rejections: [Rejection] = [
        Rejection("negative size", "-1\r\n", .badRequest(.chunkSize)),
        Rejection("plus sign", "+5\r\nhello\r\n0\r\n\r\n", .badRequest(.chunkSize)),
        Rejection("0x prefix", "0x10\r\n", .badRequest(.chunkSize)),
        Rejection("leading space", " 5\r\nhello\r\n", .badRequest(.chunkSize)),
        Rejection("trailing space", "5 \r\nhello\r\n", .badRequest(.chunkSize)),
        Rejection("trailing tab", "5\t\r\nhello\r\n", .badRequest(.chunkSize)),
        Rejection("17 hex digits", "00000000000000005\r\nhello\r\n", .badRequest(.chunkSize)),
        Rejection("above 2^62", "4000000000000001\r\n", .badRequest(.chunkSize)),
        Rejection("overflowing Int64", "FFFFFFFFFFFFFFFF\r\n", .badRequest(.chunkSize)),
        Rejection("empty size", "\r\nhello\r\n", .badRequest(.chunkSize)),
        Rejection("extension without size", ";a\r\n", .badRequest(.chunkSize)),
        Rejection("not hex", "g\r\n", .badRequest(.chunkSize)),
        Rejection("bare LF after size", "5\nhello\r\n", .badRequest(.chunkSize)),
        Rejection("bare CR after size", "5\rhello\r\n", .badRequest(.chunkSize)),
        Rejection("empty extension", "5;\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("extension without name", "5;=a\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("space before extension", "5 ;a\r\nhello\r\n", .badRequest(.chunkSize)),
        Rejection("space after semicolon", "5; a\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("space before equals", "5;a =b\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("space after equals", "5;a= b\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("space after value", "5;a=b \r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("empty value", "5;a=\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("space in quoted value", "5;a=\"b c\"\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("unterminated quoted value", "5;a=\"b\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("text after quoted value", "5;a=\"b\"c\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("quote inside token value", "5;a=b\"c\"\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("bad name byte", "5;a@b\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("two equals", "5;a=b=c\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("NUL in extension", "5;a\u{0}\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("escaped CR in quoted value", "5;a=\"\\\r\"\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("size line too long", "5;" + String(repeating: "a", count: 5000) + "\r\nhello\r\n", .badRequest(.chunkExtension)),
        Rejection("data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", .badRequest(.chunkData)),
        Rejection("bare LF after data", "5\r\nhello\n0\r\n\r\n", .badRequest(.chunkData)),
        Rejection("bare CR after data", "5\r\nhello\rX0\r\n\r\n", .badRequest(.chunkData)),
        Rejection("no CRLF after data", "5\r\nhello0\r\n\r\n", .badRequest(.chunkData)),
        Rejection("trailer obs-fold", "0\r\nX-A: b\r\n c\r\n\r\n", .badRequest(.trailer)),
        Rejection("trailer space before colon", "0\r\nX-A : b\r\n\r\n", .badRequest(.trailer)),
        Rejection("trailer NUL in value", "0\r\nX-A: b\u{0}\r\n\r\n", .badRequest(.trailer)),
        Rejection("trailer bare LF", "0\r\nX-A: b\n\r\n", .badRequest(.trailer)),
        Rejection("trailer bare CR", "0\r\nX-A: b\rc\r\n\r\n", .badRequest(.trailer)),
        Rejection("trailer without colon", "0\r\nX-A\r\n\r\n", .badRequest(.trailer)),
        Rejection("trailer bad name", "0\r\nX(A): b\r\n\r\n", .badRequest(.trailer)),
        Rejection("final line bare LF", "0\r\n\n", .badRequest(.trailer)),
        Rejection("final line bare CR", "0\r\n\rX", .badRequest(.trailer)),
    ]

    /// SPEC §8: identity, hop-by-hop and framing trailers are not forwarded; the body is fine.
    @Test("a trailer the gateway acts on in a header is dropped, the others kept", arguments: [
        "Content-Length: 5", "Transfer-Encoding: chunked", "Host: evil", "X_Auth_User: admin", "Authorization: Bearer x",
        "X-Forwarded-For: 1.2.3.4", "X-HTTP-Method-Override: DELETE",
    ])
    func trailerActedOnIsDropped(_ field: String) throws {
        let decoded = try decodeChunked(latin1("1\r\na\r\n0\r\nX-A: 1\r\n\(field)\r\nX-B: 2\r\n\r\n"))
        #expect(decoded.done && decoded.payload == latin1("a"))
        #expect(decoded.trailers == [latin1("X-A: 1"), latin1("X-B: 2")])
    }

    @Test("rejected in one call and byte by byte", arguments: rejections)
    func rejected(_ r: Rejection) {
        #expect(throws: r.error) { try decodeChunked(r.bytes) }
        #expect(throws: r.error) { try decodeChunked(r.bytes, cuts: Array(0 ..< r.bytes.count)) }
    }

    @Test func trailerSectionLimit() throws {
        let body = latin1("0\r\nX-A: " + String(repeating: "v", count: 40) + "\r\n\r\n")
        #expect(throws: HTTPParseError.badRequest(.trailer)) { try decodeChunked(body, maxTrailerBytes: 32) }
        // The limit counts the whole section, final CRLF included.
        let exact = body.count - 3
        #expect(try decodeChunked(body, maxTrailerBytes: exact).done)
        #expect(throws: HTTPParseError.badRequest(.trailer)) { try decodeChunked(body, maxTrailerBytes: exact - 1) }
    }
}

@Suite("ChunkedEncoder")
struct ChunkedEncoderTests {
    @Test(arguments: [(1, "1\r\n"), (9, "9\r\n"), (10, "a\r\n"), (255, "ff\r\n"), (256, "100\r\n"), (4096, "1000\r\n"),
                      (0x7FFF_FFFF, "7fffffff\r\n")])
    func chunkHeader(_ size: Int, _ expected: String) {
        var out: [UInt8] = []
        ChunkedEncoder.appendChunkHeader(size: size, to: &out)
        #expect(out == latin1(expected))
    }

    @Test func roundTripsThroughTheDecoder() throws {
        let pieces = ["hello", " ", "chunked world", String(repeating: "z", count: 300)]
        var out: [UInt8] = []
        for piece in pieces {
            ChunkedEncoder.appendChunkHeader(size: piece.utf8.count, to: &out)
            out += piece.utf8
            ChunkedEncoder.appendChunkEnd(to: &out)
        }
        ChunkedEncoder.appendLastChunk(to: &out)
        #expect(out.suffix(5) == latin1("0\r\n\r\n")[...])
        let decoded = try decodeChunked(out)
        #expect(decoded.done && decoded.payload == Array(pieces.joined().utf8) && decoded.leftover.isEmpty)
    }
}

@Suite("HTTPBytes")
struct HTTPBytesTests {
    @Test func tcharMatchesRFC9110() {
        let tchars = Set(latin1("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        for b in 0 ... 255 {
            #expect(HTTPBytes.isTChar(UInt8(b)) == tchars.contains(UInt8(b)), "byte \(b)")
        }
    }

    @Test func fieldValueBytes() {
        for b in 0 ... 255 {
            let allowed = b == 0x09 || (b >= 0x20 && b != 0x7F)
            #expect(HTTPBytes.isFieldValueByte(UInt8(b)) == allowed, "byte \(b)")
        }
    }

    @Test func swarControlByteTest() {
        // Every byte value at every position of an otherwise clean word (also with obs-text around).
        for filler: UInt8 in [0x61, 0xFF, 0x20] {
            for position in 0 ..< 8 {
                for b in 0 ... 255 {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[position] = UInt8(b)
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    #expect(HTTPBytes.hasControlOrDEL(word) == (b < 0x20 || b == 0x7F), "byte \(b) at \(position)")
                }
            }
        }
    }

    @Test func longValuesWithTabsAndObsText() throws {
        let value = String(repeating: "abc\tdef\u{FF}gh ", count: 20)
        let bytes = latin1("GET / HTTP/1.1\r\nHost: a\r\nX-Long: \(value)\r\n\r\n")
        let head = try #require(try parseRequest(bytes))
        #expect(head.headers[1].valueCount == value.unicodeScalars.count - 1)
        for position in [0, 7, 8, 15, 63] {
            var bad = latin1(value)
            bad[position] = 0x01
            let request = latin1("GET / HTTP/1.1\r\nHost: a\r\nX-Long: ") + bad + latin1("\r\n\r\n")
            #expect(throws: HTTPParseError.badRequest(.headerValue)) { try parseRequest(request) }
        }
    }

    @Test(arguments: [("0", Int64(0)), ("42", 42), ("0042", 42), ("4611686018427387904", 1 << 62)])
    func decimalAccepted(_ text: String, _ value: Int64) {
        let bytes = latin1(text)
        #expect(bytes.withUnsafeBytes { HTTPBytes.parseDecimal($0, 0, bytes.count) } == value)
    }

    @Test(arguments: ["", "-1", "+1", " 1", "1 ", "1,1", "0x1", "4611686018427387905", "9223372036854775808", "1e3"])
    func decimalRejected(_ text: String) {
        let bytes = latin1(text)
        #expect(bytes.withUnsafeBytes { HTTPBytes.parseDecimal($0, 0, bytes.count) } == nil)
    }

    @Test func caseInsensitiveComparison() {
        let bytes = latin1("xChUnKeDx")
        bytes.withUnsafeBytes { buffer in
            #expect(HTTPBytes.equalsLowercase(buffer, 1, 7, "chunked"))
            #expect(!HTTPBytes.equalsLowercase(buffer, 1, 6, "chunked"))
            #expect(!HTTPBytes.equalsLowercase(buffer, 0, 7, "chunked"))
            #expect(HTTPBytes.hasLowercasePrefix(buffer, 1, 8, "chunk"))
            #expect(HTTPBytes.equalsLowercase(buffer, ByteRange(start: 1, count: 7), "chunked"))
            #expect(!HTTPBytes.equals(buffer, 1, 7, "chunked"))
        }
        // Case folding applies to letters only: "-" (0x2D) must not match CR (0x0D) or "\r" | 0x20.
        let cr = latin1("a\rb")
        #expect(!cr.withUnsafeBytes { HTTPBytes.equalsLowercase($0, 0, 3, "a-b") })
        let at = latin1("@")
        #expect(!at.withUnsafeBytes { HTTPBytes.equalsLowercase($0, 0, 1, "`") })
    }

    @Test func listElements() throws {
        let bytes = latin1(" a , ,b,\tc d ,")
        var elements: [String] = []
        // (A Void-returning typed-throws closure passed to withUnsafeBytes crashes Swift 6.3.1's IRGen.)
        let count = try bytes.withUnsafeBytes { buffer in
            try HTTPBytes.forEachListElement(buffer, 0, buffer.count) { s, n in
                elements.append(String(decoding: buffer[s ..< s + n], as: UTF8.self))
            }
            return elements.count
        }
        #expect(count == 3)
        #expect(elements == ["a", "b", "c d"])
    }
}
