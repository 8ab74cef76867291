import GatewayHTTP
import Testing

@Suite("ResponseHeadParser")
struct ResponseHeadParserTests {
    static let valid: [String] = [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\n\r\n",
        "HTTP/1.1 204 \r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 503\r\nRetry-After: 1\r\n\r\n",
        "HTTP/1.1 200 \u{E9}t\u{E9}\tok  \r\nX-A: \u{FF}\r\n\r\n",
    ]

    @Test("every split into two calls yields the same head", arguments: valid)
    func splitAtEveryOffset(_ message: String) throws {
        let bytes = latin1(message)
        let reference = try #require(try parseResponse(bytes))
        for split in 0 ... bytes.count {
            #expect(try parseResponseSplit(bytes, at: split) == reference, "split at \(split)")
        }
        #expect(try parseResponseByteByByte(bytes) == reference)
    }

    @Test func statusLine() throws {
        let bytes = latin1(Self.valid[0])
        let head = try #require(try parseResponse(bytes))
        #expect(head.minorVersion == 1)
        #expect(head.status == 200)
        #expect(text(bytes, head.reason) == "OK")
        #expect(head.contentLength == 5)
        #expect(head.headLength == bytes.count - 5)
        #expect(head.headers.map(\.name) == [.contentLength, .other])
        #expect(head.upstreamKeepsAlive)
    }

    @Test func reasonVariants() throws {
        let empty = latin1(Self.valid[3])
        #expect(try #require(try parseResponse(empty)).reason.count == 0)
        let missing = latin1(Self.valid[5])
        let head = try #require(try parseResponse(missing))
        #expect(head.status == 503 && head.reason.count == 0)
        let rich = latin1(Self.valid[6])
        let reason = try #require(try parseResponse(rich)).reason
        #expect(Array(rich[reason.start ..< reason.start + reason.count]) == latin1("\u{E9}t\u{E9}\tok  "))
    }

    @Test func connectionTokens() throws {
        let h10 = try #require(try parseResponse(latin1(Self.valid[2])))
        #expect(h10.minorVersion == 0 && h10.connectionKeepAlive && h10.upstreamKeepsAlive)
        let upgrade = try #require(try parseResponse(latin1(Self.valid[4])))
        #expect(upgrade.connectionUpgrade && upgrade.status == 101)
        let close = try #require(try parseResponse(latin1("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")))
        #expect(close.connectionClose && !close.upstreamKeepsAlive)
    }

    @Test("body framing (RFC 9112 §6.3)", arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", HTTPMethod.get, BodyFraming.contentLength(5)),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", .get, .none),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", .get, .chunked),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .get, .chunked),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n", .post, .chunked),
        ("HTTP/1.1 200 OK\r\n\r\n", .get, .untilClose),
        ("HTTP/1.0 200 OK\r\n\r\n", .get, .untilClose),
        ("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", .head, .none),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", .head, .none),
        ("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", .get, .none),
        ("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", .get, .none),
        ("HTTP/1.1 100 Continue\r\n\r\n", .post, .none),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", .get, .none),
        ("HTTP/1.1 199 Misc\r\n\r\n", .get, .none),
        ("HTTP/1.1 599 Custom\r\nContent-Length: 3\r\n\r\n", .delete, .contentLength(3)),
    ])
    func bodyFraming(_ message: String, _ method: HTTPMethod, _ framing: BodyFraming) throws {
        let head = try #require(try parseResponse(latin1(message)))
        #expect(head.bodyFraming(requestMethod: method) == framing)
    }

    static let rejections: [Rejection] = [
        Rejection("status 99", "HTTP/1.1 99 X\r\n\r\n", .badRequest(.statusLine)),
        Rejection("status 600", "HTTP/1.1 600 X\r\n\r\n", .badRequest(.statusLine)),
        Rejection("status 099", "HTTP/1.1 099 X\r\n\r\n", .badRequest(.statusLine)),
        Rejection("four-digit status", "HTTP/1.1 2000 X\r\n\r\n", .badRequest(.statusLine)),
        Rejection("non-numeric status", "HTTP/1.1 2x0 X\r\n\r\n", .badRequest(.statusLine)),
        Rejection("HTTP/2", "HTTP/2 200 OK\r\n\r\n", .badRequest(.statusLine)),
        Rejection("HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", .badRequest(.statusLine)),
        Rejection("lowercase version", "http/1.1 200 OK\r\n\r\n", .badRequest(.statusLine)),
        Rejection("double space", "HTTP/1.1  200 OK\r\n\r\n", .badRequest(.statusLine)),
        Rejection("tab after version", "HTTP/1.1\t200 OK\r\n\r\n", .badRequest(.statusLine)),
        Rejection("leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n", .badRequest(.statusLine)),
        Rejection("NUL in reason", "HTTP/1.1 200 O\u{0}K\r\n\r\n", .badRequest(.statusLine)),
        Rejection("bare CR in reason", "HTTP/1.1 200 O\rK\r\n\r\n", .badRequest(.statusLine)),
        Rejection("bare LF after status-line", "HTTP/1.1 200 OK\n\r\n", .badRequest(.bareLineFeed)),
        Rejection("HTTP/0.9 body", "<html>", .badRequest(.statusLine)),
        Rejection("obs-fold", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n", .badRequest(.obsFold)),
        Rejection("space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", .badRequest(.spaceBeforeColon)),
        Rejection("bad value byte", "HTTP/1.1 200 OK\r\nX-A: \u{1}\r\n\r\n", .badRequest(.headerValue)),
        Rejection("bad name byte", "HTTP/1.1 200 OK\r\nX A: b\r\n\r\n", .badRequest(.spaceBeforeColon)),
        Rejection("bad name byte (quote)", "HTTP/1.1 200 OK\r\nX\"A: b\r\n\r\n", .badRequest(.headerName)),
        Rejection("CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                  .badRequest(.contentLengthWithTransferEncoding)),
        Rejection("TE and CL", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                  .badRequest(.contentLengthWithTransferEncoding)),
        Rejection("duplicate CL, identical", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                  .badRequest(.duplicateContentLength)),
        Rejection("duplicate CL, differing", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                  .badRequest(.duplicateContentLength)),
        Rejection("CL list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", .badRequest(.contentLength)),
        Rejection("CL signed", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .badRequest(.contentLength)),
        Rejection("TE gzip only", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE chunked in two fields", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                  .badRequest(.transferEncoding)),
        Rejection("TE chunked then gzip field", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
                  .badRequest(.transferEncoding)),
        Rejection("TE chunked with parameter", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;a=b\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE empty", "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE identity", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", .badRequest(.transferEncoding)),
        Rejection("TE on HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", .badRequest(.transferEncoding)),
    ]

    @Test("rejected in one call and byte by byte", arguments: rejections)
    func rejected(_ r: Rejection) {
        #expect(throws: r.error) { try parseResponse(r.bytes) }
        #expect(throws: r.error) { try parseResponseByteByByte(r.bytes) }
    }

    @Test func limits() throws {
        let long = latin1("HTTP/1.1 200 OK\r\nX-A: " + String(repeating: "a", count: 200) + "\r\n\r\n")
        #expect(throws: HTTPParseError.headTooLarge) { try parseResponse(long, maxHeadBytes: 100) }
        let many = latin1("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n")
        #expect(throws: HTTPParseError.tooManyHeaders) { try parseResponse(many, maxHeaderCount: 1) }
        #expect(try parseResponse(many, maxHeaderCount: 2) != nil)
    }

    @Test(
        "Upgrade is websocket only when it names exactly that one protocol",
        .bug(id: "review-3", "any 101 opened a tunnel"),
        arguments: [
            ("Upgrade: websocket\r\n", true), ("Upgrade: WebSocket\r\n", true), ("Upgrade: h2c\r\n", false),
            ("Upgrade: websocket, h2c\r\n", false), ("Upgrade: h2c, websocket\r\n", false),
            ("Upgrade: websocket\r\nUpgrade: websocket\r\n", false), ("", false),
        ])
    func upgradeWebSocket(_ fields: String, _ expected: Bool) throws {
        let head = try #require(try parseResponse(latin1("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n" + fields + "\r\n")))
        #expect(head.upgradeWebSocket == expected)
        #expect(head.connectionUpgrade)
    }

    @Test(
        "transfer codings besides chunked are noticed",
        .bug(id: "review-9", "gzip, chunked reached the client as chunked"),
        arguments: [
            ("Transfer-Encoding: chunked\r\n", false), ("Transfer-Encoding: gzip, chunked\r\n", true),
            ("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", true), ("Content-Length: 1\r\n", false),
        ])
    func otherTransferCodings(_ fields: String, _ expected: Bool) throws {
        let head = try #require(try parseResponse(latin1("HTTP/1.1 200 OK\r\n" + fields + "\r\n")))
        #expect(head.hasOtherTransferCodings == expected)
    }

    @Test func reuseAfterInterimResponse() throws {
        var parser = ResponseHeadParser()
        var head = ResponseHead()
        let interim = latin1("HTTP/1.1 100 Continue\r\n\r\n")
        let final = latin1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(try interim.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) })
        #expect(head.status == 100)
        parser.reset()
        #expect(try final.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) })
        #expect(head == (try parseResponse(final)))
        #expect(head.isChunked)
    }
}
