import GatewayCore
import GatewayHTTP
import GatewaySupport
import Testing

@testable import GatewayServer

/// The request body relay as a state machine (no sockets): length bodies copied through,
/// chunked bodies re-framed and limited, trailers filtered.
@Suite("Request body relay")
struct RequestBodyRelayTests {
    struct Outcome {
        var upstream = ""
        var last: RequestBodyRelay.Step? = nil
        var leftover = ""
        var sentAny = false
    }

    /// Parses `head`, then feeds `body` in pieces of `piece` bytes the way the connection does:
    /// step while the relay has input to work on, read the next piece when it wants input.
    func relay(
        _ head: String, body: String, piece: Int = .max, maxBody: Int64 = 1 << 20, credentialHeader: String = "x-api-key"
    ) throws -> Outcome {
        var parser = RequestHeadParser()
        var parsed = RequestHead()
        let headBytes = Array(head.utf8)
        let complete = try headBytes.withUnsafeBytes { try parser.parse($0, into: &parsed) }
        #expect(complete)
        var relay = RequestBodyRelay(head: parsed, maxBody: maxBody, credentialHeader: Array(credentialHeader.utf8))
        let input = ByteBuffer()
        let output = ByteBuffer()
        let bytes = Array(body.utf8)
        var offset = 0
        var outcome = Outcome()
        while relay.isActive {
            if relay.wantsInput(available: input.readableCount) {
                guard offset < bytes.count else { break }
                let end = min(bytes.count, offset + piece)
                bytes[offset..<end].withUnsafeBytes { input.append($0) }
                offset = end
                continue
            }
            let step = relay.step(from: input, to: output)
            outcome.last = step
            if case .fail = step { break }
        }
        outcome.upstream = String(decoding: output.readableBytes, as: UTF8.self)
        outcome.leftover = String(decoding: input.readableBytes, as: UTF8.self) + String(decoding: bytes[offset...], as: UTF8.self)
        outcome.sentAny = relay.sentAny
        return outcome
    }

    let post = "POST /x HTTP/1.1\r\nHost: a\r\n"

    @Test("no body: nothing to relay")
    func noBody() throws {
        let outcome = try relay("GET /x HTTP/1.1\r\nHost: a\r\n\r\n", body: "GET /next HTTP/1.1\r\n")
        #expect(outcome.last == nil)
        #expect(outcome.upstream.isEmpty)
        #expect(!outcome.sentAny)
    }

    @Test("a Content-Length body moves exactly, whatever the pieces; a pipelined request stays", arguments: [1, 3, 1000])
    func lengthBody(piece: Int) throws {
        let outcome = try relay(post + "Content-Length: 10\r\n\r\n", body: "0123456789GET /next", piece: piece)
        #expect(outcome.upstream == "0123456789")
        #expect(outcome.last == .finished)
        #expect(outcome.leftover == "GET /next")
        #expect(outcome.sentAny)
    }

    @Test("a chunked body is re-framed: extensions dropped, exact framing when it arrives whole")
    func chunkedWhole() throws {
        let body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT"
        let outcome = try relay(post + "Transfer-Encoding: chunked\r\n\r\n", body: body)
        #expect(outcome.upstream == "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        #expect(outcome.last == .finished)
        #expect(outcome.leftover == "NEXT")
    }

    @Test("a chunked body in pieces streams as it arrives: same payload, the pipelined bytes stay", arguments: [1, 2, 7])
    func chunkedPieces(piece: Int) throws {
        let body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT"
        let outcome = try relay(post + "Transfer-Encoding: chunked\r\n\r\n", body: body, piece: piece)
        var decoder = ChunkedDecoder()
        var payload: [UInt8] = []
        let framed = Array(outcome.upstream.utf8)
        var offset = 0
        decoding: while true {
            let step = try framed[offset...].withUnsafeBytes { try decoder.next($0) }
            switch step {
            case .data(let start, let count, let consumed):
                payload += framed[offset + start..<offset + start + count]
                offset += consumed
            case .needMore, .done:
                break decoding
            }
        }
        #expect(String(decoding: payload, as: UTF8.self) == "hello world")
        #expect(outcome.upstream.hasSuffix("0\r\n\r\n"))
        #expect(outcome.last == .finished)
        #expect(outcome.leftover == "NEXT")
    }

    @Test("a chunked body over max_body fails with 413 before the excess moves")
    func chunkedTooLarge() throws {
        let body = "4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n"
        let outcome = try relay(post + "Transfer-Encoding: chunked\r\n\r\n", body: body, maxBody: 6)
        #expect(outcome.last == .fail(.payloadTooLarge, reason: "body_too_large"))
        #expect(outcome.upstream == "4\r\nabcd\r\n")
    }

    @Test("a malformed chunk size fails with 400", arguments: ["zz\r\nab\r\n0\r\n\r\n", "-1\r\n\r\n", "4 \r\nabcd\r\n0\r\n\r\n"])
    func badChunk(body: String) throws {
        let outcome = try relay(post + "Transfer-Encoding: chunked\r\n\r\n", body: body)
        #expect(outcome.last == .fail(.invalidRequest, reason: "bad_chunk"))
    }

    @Test("trailers: ordinary ones pass; the API key and fields upstreams believe do not", arguments: [1, 2, 3, 5, 1000])
    func trailers(piece: Int) throws {
        let body = "1\r\na\r\n0\r\nX-Checksum: 1\r\nX-API-Key: secret\r\nCookie: s=1\r\nX-Original-Note: n\r\nX-User-Id: u\r\n\r\n"
        let outcome = try relay(post + "Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n", body: body, piece: piece)
        #expect(outcome.last == .finished)
        #expect(outcome.upstream == "1\r\na\r\n0\r\nX-Checksum: 1\r\nX-Original-Note: n\r\nX-User-Id: u\r\n\r\n")
    }

    @Test("an identity or framing field as a trailer is dropped (SPEC §8)", arguments: ["X-Auth-User-Id: admin", "Content-Length: 5", "Host: b", "X-Real-IP: 1.2.3.4"])
    func forbiddenTrailer(field: String) throws {
        let body = "1\r\na\r\n0\r\n\(field)\r\nX-Checksum: 1\r\n\r\n"
        let outcome = try relay(post + "Transfer-Encoding: chunked\r\n\r\n", body: body)
        #expect(outcome.last == .finished)
        #expect(outcome.upstream == "1\r\na\r\n0\r\nX-Checksum: 1\r\n\r\n")
    }

    @Test("with credentials forwarded, the API-key trailer passes")
    func credentialTrailer() throws {
        let body = "0\r\nX-API-Key: k\r\n\r\n"
        let outcome = try relay(post + "Transfer-Encoding: chunked\r\n\r\n", body: body, credentialHeader: "")
        #expect(outcome.upstream == "0\r\nX-API-Key: k\r\n\r\n")
    }

    @Test("a body cut short stays active and unfinished")
    func truncated() throws {
        let outcome = try relay(post + "Content-Length: 10\r\n\r\n", body: "01234")
        #expect(outcome.upstream == "01234")
        #expect(outcome.last == .progress)
    }
}
