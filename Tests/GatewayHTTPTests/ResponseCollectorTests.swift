import GatewayHTTP
import Testing

@Suite("Response collector")
struct ResponseCollectorTests {
    /// Feeds `bytes` split at `split` (two appends), then end-of-stream when `close`.
    private func collect(_ text: String, split: Int? = nil, close: Bool = false, maxBody: Int = 1024) throws -> ResponseCollector.Step {
        let bytes = latin1(text)
        var collector = ResponseCollector(maxBodyBytes: maxBody)
        var step = ResponseCollector.Step.needMore
        let cut = split ?? bytes.count
        for piece in [bytes[0..<cut], bytes[cut...]] where !piece.isEmpty {
            step = try Array(piece).withUnsafeBytes { raw throws(ResponseCollectorError) in try collector.append(raw) }
            if case .complete = step { return step }
        }
        return close ? try collector.endOfStream() : step
    }

    static let lengthDelimited = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: application/json\r\n\r\n{\"keys\":[]}"
    static let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"ke\r\n7;x=1\r\nys\":[]}\r\n0\r\nX-T: 1\r\n\r\n"
    static let closeDelimited = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"keys\":[]}"
    static let body = Array(#"{"keys":[]}"#.utf8)

    @Test func readsEveryFramingSplitAnywhere() throws {
        for (text, close) in [(Self.lengthDelimited, false), (Self.chunked, false), (Self.closeDelimited, true)] {
            for split in 0...latin1(text).count {
                #expect(try collect(text, split: split, close: close) == .complete(status: 200, body: Self.body), "split \(split)")
            }
        }
    }

    @Test func reportsTheStatusOnceTheHeadIsIn() throws {
        var collector = ResponseCollector(maxBodyBytes: 1024)
        #expect(collector.status == nil)
        let step = try Array(latin1("HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nab")).withUnsafeBytes { raw throws(ResponseCollectorError) in
            try collector.append(raw)
        }
        #expect(step == .needMore && collector.status == 404)
    }

    @Test func noBodyResponsesCompleteAtTheHead() throws {
        #expect(try collect("HTTP/1.1 304 Not Modified\r\n\r\n") == .complete(status: 304, body: []))
        #expect(try collect("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == .complete(status: 200, body: []))
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", false, ResponseCollectorError.bodyTooLarge),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + String(repeating: "x", count: 2048), false, .bodyTooLarge),
        ("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "x", count: 1025), false, .bodyTooLarge),
        ("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nshort", true, .truncated),
        ("HTTP/1.1 200 OK\r\nContent-Le", true, .truncated),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, .chunked(.badRequest(.chunkSize))),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", false, .head(.badRequest(.duplicateContentLength))),
        ("SSH-2.0-OpenSSH\r\n\r\n", false, .head(.badRequest(.statusLine))),
    ])
    func refusesBrokenOrOversizedResponses(text: String, close: Bool, expected: ResponseCollectorError) {
        #expect(throws: expected) { try collect(text, close: close) }
    }

    @Test func errorDescriptionsNameTheCauseOnly() {
        #expect(ResponseCollectorError.bodyTooLarge.description == "response body too large")
        #expect(ResponseCollectorError.head(.badRequest(.statusLine)).description == "malformed response (bad_status_line)")
    }
}
