import GatewayHTTP
import Testing

@Suite("RequestHeadParser: valid heads")
struct RequestHeadParserValidTests {
    static let valid: [String] = [
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "\r\n\r\nPOST /api/v1/items?x=1&y=2 HTTP/1.1\r\nHost: api.example.com:8443\r\nContent-Length: 12\r\n"
            + "Connection: keep-alive, Upgrade\r\nX-Auth-User: bob\r\n\r\n",
        "PUT /upload HTTP/1.1\r\nhost: [::1]:80\r\ntransfer-encoding:  Chunked \r\nExpect: 100-continue\r\n\r\n",
        "GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
        "GET /path HTTP/1.0\r\n\r\n",
        "OPTIONS /x?? HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Obs: caf\u{E9}\t \r\n\r\nBODYBYTES",
        "PATCH /%7Euser/a;b=c HTTP/1.1\r\nHost: 10.0.0.1\r\nContent-Length: 0\r\nX_Auth_Id: 1\r\n\r\n",
    ]

    @Test("every split into two calls yields the same head", arguments: valid)
    func splitAtEveryOffset(_ message: String) throws {
        let bytes = latin1(message)
        let reference = try #require(try parseRequest(bytes))
        for split in 0 ... bytes.count {
            let head = try parseRequestSplit(bytes, at: split)
            #expect(head == reference, "split at \(split)")
        }
    }

    @Test("byte-by-byte feeding yields the same head", arguments: valid)
    func byteByByte(_ message: String) throws {
        let bytes = latin1(message)
        let reference = try #require(try parseRequest(bytes))
        #expect(try parseRequestByteByByte(bytes) == reference)
    }

    @Test("an incomplete head asks for more at every prefix", arguments: valid)
    func incomplete(_ message: String) throws {
        let bytes = latin1(message)
        let reference = try #require(try parseRequest(bytes))
        for length in 0 ..< reference.headLength {
            #expect(try parseRequest(Array(bytes[0 ..< length])) == nil, "prefix \(length)")
        }
    }

    @Test func simpleGet() throws {
        let bytes = latin1("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        let head = try #require(try parseRequest(bytes))
        #expect(head.method == .get)
        #expect(text(bytes, head.methodRange) == "GET")
        #expect(text(bytes, head.target) == "/")
        #expect(text(bytes, head.path) == "/")
        #expect(head.query == nil)
        #expect(head.absoluteAuthority == nil)
        #expect(head.minorVersion == 1)
        #expect(text(bytes, head.host) == "example.com")
        #expect(head.contentLength == nil)
        #expect(!head.isChunked)
        #expect(!head.hasBody)
        #expect(head.wantsKeepAlive)
        #expect(head.headLength == bytes.count)
        #expect(head.headers == [HeaderField(name: .host, nameStart: 16, nameCount: 4, valueStart: 22, valueCount: 11)])
    }

    @Test func postWithLeadingEmptyLines() throws {
        let bytes = latin1(Self.valid[1])
        let head = try #require(try parseRequest(bytes))
        #expect(head.method == .post)
        #expect(text(bytes, head.path) == "/api/v1/items")
        #expect(text(bytes, head.query) == "x=1&y=2")
        #expect(text(bytes, head.host) == "api.example.com:8443")
        #expect(head.contentLength == 12)
        #expect(head.hasBody)
        #expect(head.connectionKeepAlive && head.connectionUpgrade && !head.connectionClose)
        #expect(head.headers.map(\.name) == [.host, .contentLength, .connection, .identity])
        #expect(head.headLength == bytes.count)
        #expect(text(bytes, ByteRange(start: head.headers[3].valueStart, count: head.headers[3].valueCount)) == "bob")
    }

    @Test func chunkedWithExpect() throws {
        let bytes = latin1(Self.valid[2])
        let head = try #require(try parseRequest(bytes))
        #expect(head.method == .put)
        #expect(head.isChunked && head.hasBody)
        #expect(head.expectContinue)
        #expect(text(bytes, head.host) == "[::1]:80")
        // OWS trimmed on both sides.
        #expect(text(bytes, ByteRange(start: head.headers[1].valueStart, count: head.headers[1].valueCount)) == "Chunked")
    }

    @Test func absoluteForm() throws {
        let bytes = latin1(Self.valid[3])
        let head = try #require(try parseRequest(bytes))
        #expect(text(bytes, head.absoluteAuthority) == "example.com")
        #expect(text(bytes, head.path) == "/a")
        #expect(text(bytes, head.query) == "b")
        #expect(text(bytes, head.target) == "http://example.com/a?b")
        #expect(head.upgradeWebSocket && head.connectionUpgrade)
    }

    @Test func absoluteFormWithoutPath() throws {
        let bytes = latin1("GET HTTP://Example.com:8080?q HTTP/1.1\r\nHost: example.com:8080\r\n\r\n")
        let head = try #require(try parseRequest(bytes))
        #expect(text(bytes, head.absoluteAuthority) == "Example.com:8080")
        #expect(head.path.count == 0)
        #expect(text(bytes, head.query) == "q")
    }

    @Test func http10WithoutHost() throws {
        let bytes = latin1(Self.valid[4])
        let head = try #require(try parseRequest(bytes))
        #expect(head.minorVersion == 0)
        #expect(head.host == nil)
        #expect(!head.wantsKeepAlive)
    }

    @Test func headLengthExcludesFollowingBytes() throws {
        let bytes = latin1(Self.valid[5])
        let head = try #require(try parseRequest(bytes))
        #expect(head.headLength == bytes.count - "BODYBYTES".utf8.count)
        #expect(head.method == .options)
        #expect(text(bytes, head.path) == "/x")
        #expect(text(bytes, head.query) == "?")
        #expect(head.headers[1].valueCount == 0)
        #expect(head.headers[2].valueCount == 4)  // "caf\u{E9}" with the trailing HTAB SP trimmed
    }

    @Test(arguments: [
        ("GET", HTTPMethod.get), ("HEAD", .head), ("POST", .post), ("PUT", .put), ("DELETE", .delete),
        ("PATCH", .patch), ("OPTIONS", .options), ("TRACE", .trace), ("get", .other), ("PROPFIND", .other),
        ("M-SEARCH", .other), ("GETS", .other),
    ])
    func methodClassification(_ token: String, _ method: HTTPMethod) throws {
        let head = try #require(try parseRequest(latin1("\(token) / HTTP/1.1\r\nHost: a\r\n\r\n")))
        #expect(head.method == method)
    }

    @Test func connectionClose() throws {
        let head = try #require(try parseRequest(latin1("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, ,CLOSE\r\n\r\n")))
        #expect(head.connectionClose && !head.wantsKeepAlive)
    }

    @Test func keepAliveOnHTTP10() throws {
        let head = try #require(try parseRequest(latin1("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")))
        #expect(head.connectionKeepAlive && head.wantsKeepAlive)
    }

    @Test func upgradeListsWebSocket() throws {
        let head = try #require(
            try parseRequest(latin1("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c, WebSocket\r\nConnection: Upgrade\r\n\r\n")))
        #expect(head.upgradeWebSocket)
        let other = try #require(try parseRequest(latin1("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websockets\r\n\r\n")))
        #expect(!other.upgradeWebSocket)
    }

    @Test(arguments: ["chunked", " chunked", "chunked ", "CHUNKED", "\tChunKed\t"])
    func transferEncodingChunkedAccepted(_ value: String) throws {
        let head = try #require(try parseRequest(latin1("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\(value)\r\n\r\n")))
        #expect(head.isChunked)
    }

    @Test(arguments: ["0", "7", "007", "4611686018427387904"])
    func contentLengthAccepted(_ value: String) throws {
        let head = try #require(try parseRequest(latin1("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value) \r\n\r\n")))
        #expect(head.contentLength == Int64(value))
    }

    @Test(arguments: ["100-continue", "100-CONTINUE", " 100-Continue "])
    func expectContinueAccepted(_ value: String) throws {
        let head = try #require(try parseRequest(latin1("POST / HTTP/1.1\r\nHost: a\r\nExpect:\(value)\r\n\r\n")))
        #expect(head.expectContinue)
    }

    @Test func expectContinueIgnoredOnHTTP10() throws {
        let head = try #require(try parseRequest(latin1("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")))
        #expect(!head.expectContinue)
    }

    @Test(arguments: [
        "a", "example.com", "EXAMPLE.com:443", "127.0.0.1:8080", "[::1]", "[2001:db8::1]:443", "xn--bcher-kva.example",
        "a%2Eb", "under_score.example", "a:1", "a:65535",
    ])
    func hostAccepted(_ value: String) throws {
        let bytes = latin1("GET / HTTP/1.1\r\nHost: \(value)\r\n\r\n")
        let head = try #require(try parseRequest(bytes))
        #expect(text(bytes, head.host) == value)
    }

    @Test func maxLeadingEmptyLines() throws {
        let lines = String(repeating: "\r\n", count: RequestHeadParser.maxLeadingEmptyLines)
        #expect(try parseRequest(latin1(lines + "GET / HTTP/1.1\r\nHost: a\r\n\r\n")) != nil)
    }

    @Test func headOfExactlyMaxHeadBytes() throws {
        let bytes = latin1("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try parseRequest(bytes, maxHeadBytes: bytes.count) != nil)
        #expect(try parseRequestByteByByte(bytes, maxHeadBytes: bytes.count) != nil)
    }

    @Test func exactlyMaxHeaderCount() throws {
        let bytes = latin1("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n")
        #expect(try parseRequest(bytes, maxHeaderCount: 3) != nil)
    }

    @Test func parserAndHeadAreReusable() throws {
        var parser = RequestHeadParser()
        var head = RequestHead()
        let first = latin1("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\n")
        let second = latin1("GET /b HTTP/1.1\r\nHost: b\r\n\r\n")
        #expect(try first.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) })
        #expect(head.connectionClose && head.contentLength == 3)
        parser.reset()
        #expect(try second.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) })
        #expect(head == (try parseRequest(second)))
        // Calling again after completion keeps reporting the same head.
        #expect(try second.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) })
        #expect(head.headers.count == 1)
    }
}

@Suite("RequestHeadParser: rejections")
struct RequestHeadParserRejectionTests {
    static let h = "GET / HTTP/1.1\r\nHost: a\r\n"

    static let rejections: [Rejection] = [
        // Framing (SPEC §14).
        Rejection("CL then TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                  .badRequest(.contentLengthWithTransferEncoding)),
        Rejection("TE then CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                  .badRequest(.contentLengthWithTransferEncoding)),
        Rejection("duplicate CL, identical", h + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", .badRequest(.duplicateContentLength)),
        Rejection("duplicate CL, differing", h + "Content-Length: 5\r\ncontent-length: 6\r\n\r\n", .badRequest(.duplicateContentLength)),
        Rejection("CL with plus sign", h + "Content-Length: +5\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL with minus sign", h + "Content-Length: -5\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL with inner space", h + "Content-Length: 5 5\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL comma list", h + "Content-Length: 5,5\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL comma list with space", h + "Content-Length: 5, 5\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL empty", h + "Content-Length:\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL hex", h + "Content-Length: 0x5\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL above 2^62", h + "Content-Length: 4611686018427387905\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL overflowing Int64", h + "Content-Length: 99999999999999999999999\r\n\r\n", .badRequest(.contentLength)),
        Rejection("TE gzip", h + "Transfer-Encoding: gzip\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE chunked twice in a list", h + "Transfer-Encoding: chunked, chunked\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE gzip, chunked", h + "Transfer-Encoding: gzip, chunked\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE identity", h + "Transfer-Encoding: identity\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE chunked with parameter", h + "Transfer-Encoding: chunked;q=1\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE empty", h + "Transfer-Encoding:\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE with obs-text", h + "Transfer-Encoding: chunked\u{FF}\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("two TE headers", h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .badRequest(.transferEncoding)),
        // Field syntax.
        Rejection("obs-fold", h + "X-A: b\r\n c\r\n\r\n", .badRequest(.obsFold)),
        Rejection("obs-fold with tab", h + "X-A: b\r\n\tc\r\n\r\n", .badRequest(.obsFold)),
        Rejection("whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .badRequest(.obsFold)),
        Rejection("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .badRequest(.spaceBeforeColon)),
        Rejection("tab before colon", h + "Content-Length\t: 5\r\n\r\n", .badRequest(.spaceBeforeColon)),
        Rejection("NUL in value", h + "X-A: b\u{0}c\r\n\r\n", .badRequest(.headerValue)),
        Rejection("CR in value", h + "X-A: b\rc\r\n\r\n", .badRequest(.headerValue)),
        Rejection("LF in value", h + "X-A: b\nc\r\n\r\n", .badRequest(.bareLineFeed)),
        Rejection("DEL in value", h + "X-A: b\u{7F}\r\n\r\n", .badRequest(.headerValue)),
        Rejection("control byte in value", h + "X-A: \u{1}\r\n\r\n", .badRequest(.headerValue)),
        Rejection("ESC in value", h + "X-A: \u{1B}[0m\r\n\r\n", .badRequest(.headerValue)),
        Rejection("parenthesis in name", h + "X(A): b\r\n\r\n", .badRequest(.headerName)),
        Rejection("at sign in name", h + "X@A: b\r\n\r\n", .badRequest(.headerName)),
        Rejection("slash in name", h + "X/A: b\r\n\r\n", .badRequest(.headerName)),
        Rejection("high byte in name", h + "X\u{E9}: b\r\n\r\n", .badRequest(.headerName)),
        Rejection("empty name", h + ": b\r\n\r\n", .badRequest(.headerName)),
        Rejection("line without colon", h + "X-A\r\n\r\n", .badRequest(.headerName)),
        Rejection("NUL in name", h + "X\u{0}A: b\r\n\r\n", .badRequest(.headerName)),
        // Line endings.
        Rejection("bare LF after request-line", "GET / HTTP/1.1\nHost: a\r\n\r\n", .badRequest(.bareLineFeed)),
        Rejection("bare LF after field", h + "X-A: b\n\r\n", .badRequest(.bareLineFeed)),
        Rejection("bare LF as final line", h + "\n", .badRequest(.bareLineFeed)),
        Rejection("bare LF as leading line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.bareLineFeed)),
        Rejection("bare LF in method", "GET\n", .badRequest(.bareLineFeed)),
        Rejection("bare LF in target", "GET /a\n", .badRequest(.bareLineFeed)),
        Rejection("bare CR after request-line", "GET / HTTP/1.1\rHost: a\r\n\r\n", .badRequest(.requestLine)),
        Rejection("bare CR as final line", h + "\rX", .badRequest(.headerName)),
        Rejection("bare CR in leading line", "\rGET / HTTP/1.1\r\n", .badRequest(.requestLine)),
        Rejection("too many leading empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.requestLine)),
        // Host.
        Rejection("missing Host", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", .badRequest(.missingHost)),
        Rejection("duplicate Host", h + "Host: a\r\n\r\n", .badRequest(.duplicateHost)),
        Rejection("duplicate Host differing", h + "host: b\r\n\r\n", .badRequest(.duplicateHost)),
        Rejection("duplicate Host on HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", .badRequest(.duplicateHost)),
        Rejection("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host port too big", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host port not numeric", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host only a port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host unclosed IPv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host bad IPv6", "GET / HTTP/1.1\r\nHost: [zz::1]\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host bad percent-encoding", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", .badRequest(.invalidHost)),
        Rejection("Host with high byte", "GET / HTTP/1.1\r\nHost: caf\u{E9}\r\n\r\n", .badRequest(.invalidHost)),
        // Request-target.
        Rejection("absolute-form https", "GET https://a/ HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("absolute-form with userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("absolute-form empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("absolute-form other scheme", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("authority-form", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", .badRequest(.target)),
        Rejection("CONNECT in origin-form", "CONNECT /tunnel HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("control byte in target", "GET /a\u{1}b HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("NUL in target", "GET /a\u{0} HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("tab in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("DEL in target", "GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("high byte in target", "GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.target)),
        Rejection("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.version)),
        // Request-line shape and version.
        Rejection("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .badRequest(.version)),
        Rejection("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .badRequest(.version)),
        Rejection("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", .badRequest(.version)),
        Rejection("HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", .badRequest(.version)),
        Rejection("HTTP/1", "GET / HTTP/1\r\nHost: a\r\n\r\n", .badRequest(.version)),
        Rejection("HTTP/0.9 request-line", "GET /\r\n\r\n", .badRequest(.requestLine)),
        Rejection("trailing space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .badRequest(.version)),
        Rejection("double space after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.requestLine)),
        Rejection("double space after target", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.requestLine)),
        Rejection("tab as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.method)),
        Rejection("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.requestLine)),
        Rejection("bad method byte", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest(.method)),
        Rejection("method only", "GET\r\n\r\n", .badRequest(.requestLine)),
        // Expect.
        Rejection("Expect other value", h + "Expect: 200-ok\r\n\r\n", .badRequest(.expectation)),
        Rejection("Expect empty", h + "Expect:\r\n\r\n", .badRequest(.expectation)),
        Rejection("Expect list", h + "Expect: 100-continue, foo\r\n\r\n", .badRequest(.expectation)),
        Rejection("Expect with parameter", h + "Expect: 100-continue;a=b\r\n\r\n", .badRequest(.expectation)),
    ]

    @Test("rejected in one call", arguments: rejections)
    func rejectedWhole(_ r: Rejection) {
        #expect(throws: r.error) { try parseRequest(r.bytes) }
    }

    @Test("rejected with the same error when fed byte by byte", arguments: rejections)
    func rejectedByteByByte(_ r: Rejection) {
        #expect(throws: r.error) { try parseRequestByteByByte(r.bytes) }
    }

    @Test("the head is too large (431)")
    func headTooLarge() {
        let bytes = latin1("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + String(repeating: "v", count: 100) + "\r\n\r\n")
        #expect(throws: HTTPParseError.headTooLarge) { try parseRequest(bytes, maxHeadBytes: 64) }
        #expect(throws: HTTPParseError.headTooLarge) { try parseRequestByteByByte(bytes, maxHeadBytes: 64) }
        // One byte short of the whole head.
        #expect(throws: HTTPParseError.headTooLarge) { try parseRequest(bytes, maxHeadBytes: bytes.count - 1) }
        // Only the limit matters, not whether the end is in sight: a head with no end at all.
        let endless = latin1("GET /" + String(repeating: "a", count: 20_000))
        #expect(throws: HTTPParseError.headTooLarge) { try parseRequest(endless) }
    }

    @Test("more header fields than allowed (431)")
    func tooManyHeaders() {
        let bytes = latin1("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
        #expect(throws: HTTPParseError.tooManyHeaders) { try parseRequest(bytes, maxHeaderCount: 3) }
        let many = latin1("GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X: y\r\n", count: 100) + "\r\n")
        #expect(throws: HTTPParseError.tooManyHeaders) { try parseRequest(many) }
    }

    @Test("violations are reported before the head is complete", arguments: [
        ("GET / HTTP/2.0\r\n", HTTPParseError.badRequest(.version)),
        ("GET / HTTP/2", .badRequest(.version)),
        ("GET /#", .badRequest(.target)),
        ("GE(", .badRequest(.method)),
        ("GET  ", .badRequest(.requestLine)),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: \u{0}", .badRequest(.headerValue)),
        ("GET / HTTP/1.1\r\nHost: a\r\nX : ", .badRequest(.spaceBeforeColon)),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n", .badRequest(.duplicateHost)),
        ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n", .badRequest(.duplicateContentLength)),
        ("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n", .badRequest(.transferEncoding)),
    ])
    func earlyDetection(_ prefix: String, _ error: HTTPParseError) {
        #expect(throws: error) { try parseRequest(latin1(prefix)) }
    }
}

@Suite("Header name classification")
struct HeaderNameClassificationTests {
    @Test(arguments: [
        ("Host", HeaderName.host), ("HOST", .host), ("Content-Length", .contentLength), ("content-length", .contentLength),
        ("Transfer-Encoding", .transferEncoding), ("Connection", .connection), ("Keep-Alive", .keepAlive),
        ("Proxy-Connection", .proxyConnection), ("TE", .te), ("Trailer", .trailer), ("Upgrade", .upgrade),
        ("Expect", .expect), ("Proxy-Authorization", .proxyAuthorization), ("Proxy-Authenticate", .proxyAuthenticate),
        ("Authorization", .authorization), ("X-Forwarded-For", .xForwardedFor), ("X-Forwarded-Proto", .xForwardedProto),
        ("X-Forwarded-Host", .xForwardedHost), ("X-Request-Id", .xRequestId), ("HTTP2-Settings", .http2Settings),
        ("X-Auth-User", .identity), ("X_Auth_User_Id", .identity), ("x-AUTH-foo", .identity), ("x_auth-x", .identity),
        ("X-Auth_Scopes", .identity), ("X-Auth-", .identity),
        ("X-Authority", .other), ("X-Auth", .other), ("XAuth-User", .other), ("X-Auth.User", .other), ("X--Auth-U", .other),
        ("Hosts", .other), ("Content-Lengths", .other), ("Contentlength", .other), ("T", .other),
        // Proxy headers only a trusted peer may send; their `_` spellings (CGI/WSGI read them as
        // the real ones, no proxy writes them) are never believed.
        ("Forwarded", .forwarded), ("FORWARDED", .forwarded), ("X-Forwarded-Port", .forwardingHint),
        ("X-Real-IP", .forwardingHint), ("x_real_ip", .underscoreSpelling), ("X-Client-IP", .forwardingHint),
        ("X-Forwarded-Prefix", .forwardingHint), ("X-Original-URL", .forwardingHint), ("X-Rewrite-URL", .forwardingHint),
        ("X_Forwarded_For", .underscoreSpelling), ("x-forwarded_host", .underscoreSpelling), ("X_Request_Id", .underscoreSpelling), ("X-Original-URI", .other), ("X-Real-IPs", .other), ("Forwarded-For", .other),
        ("Authorisation", .other), ("Content_Length", .other), ("Transfer_Encoding", .other),
        // Method overrides: an upstream honouring them runs another method than routes saw.
        ("X-HTTP-Method-Override", .methodOverride), ("x-http-method", .methodOverride), ("X-Method-Override", .methodOverride),
        ("X_HTTP_Method_Override", .underscoreSpelling), ("X-HTTP-Methods", .other), ("X-Method", .other),
    ])
    func classify(_ name: String, _ expected: HeaderName) {
        let bytes = latin1(name)
        let got = bytes.withUnsafeBytes { HeaderName.classify($0, 0, bytes.count) }
        #expect(got == expected)
    }

    @Test func classifiedWhileParsing() throws {
        let head = try #require(
            try parseRequest(latin1("GET / HTTP/1.1\r\nHost: a\r\nX_Auth_User_Id: 1\r\nX-Authority: 2\r\nAuthorization: x\r\n\r\n")))
        #expect(head.headers.map(\.name) == [.host, .identity, .other, .authorization])
    }
}
