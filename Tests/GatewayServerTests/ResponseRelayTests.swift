import GatewayCore
import GatewayHTTP
import GatewaySupport
import Testing

@testable import GatewayServer

/// The upstream response relay as a state machine (no sockets): heads, framing, re-framing.
@Suite("Response relay")
struct ResponseRelayTests {
    /// Runs the relay over `upstream` fed in pieces of `piece` bytes.
    /// - Returns: the actions in order (without `needMore`) and what the client got.
    func relay(
        _ upstream: String, piece: Int = .max, method: HTTPMethod = .get, http10: Bool = false, websocket: Bool = false,
        ended: Bool = false
    ) -> (actions: [ResponseRelay.Action], client: String) {
        var relay = ResponseRelay()
        var head = ResponseHead()
        var parser = ResponseHeadParser()
        var builder = ResponseHeadBuilder()
        let input = ByteBuffer()
        let output = ByteBuffer()
        let request = ResponseRelay.Request(
            method: method, clientMinorVersion: http10 ? 0 : 1, keepAlive: true, wantsUpgrade: websocket)
        var actions: [ResponseRelay.Action] = []
        let bytes = Array(upstream.utf8)
        var offset = 0
        feeding: while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            bytes[offset..<end].withUnsafeBytes { input.append($0) }
            offset = end
            while true {
                let action = relay.step(
                    input, head: &head, parser: &parser, request: request, draining: false, extraHeaders: [],
                    builder: &builder, output: output)
                if action == .needMore { break }
                actions.append(action)
                if action != .headWritten { break feeding }
            }
        }
        if ended { actions.append(relay.upstreamEnded(output: output)) }
        return (actions, String(decoding: Array(output.readableBytes), as: UTF8.self))
    }

    @Test("a Content-Length body passes as it is, split anywhere", arguments: [1, 3, 1000])
    func contentLength(_ piece: Int) {
        let (actions, client) = relay("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", piece: piece)
        #expect(actions == [.headWritten, .complete(reusable: true)])
        #expect(client.hasPrefix("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n") && client.hasSuffix("\r\n\r\nhello"))
    }

    @Test("a chunked body is re-framed chunk by chunk; trailers end with the last chunk", arguments: [1, 7, 1000])
    func chunked(_ piece: Int) {
        let (actions, client) = relay("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\nT: 1\r\n\r\n", piece: piece)
        #expect(actions == [.headWritten, .complete(reusable: true)])
        #expect(client.contains("Transfer-Encoding: chunked\r\n"))
        let body = client[client.firstRange(of: "\r\n\r\n")!.upperBound...]
        #expect(body.replacingOccurrences(of: "\r\n", with: "|").hasSuffix("|0||"))
        #expect(!client.contains("x=1") && !client.contains("T: 1"))
    }

    @Test("interim 1xx responses are skipped; the final head follows", .bug(id: "review-6"))
    func interim() {
        let (actions, client) = relay("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", piece: 5)
        #expect(actions == [.headWritten, .complete(reusable: true)])
        #expect(client.hasPrefix("HTTP/1.1 204 No Content\r\n") && !client.contains("103"))
    }

    @Test("an interim response alone is not a head: the read timeout keeps running")
    func interimOnly() {
        let (actions, client) = relay("HTTP/1.1 103 Early Hints\r\n\r\n")
        #expect(actions.isEmpty && client.isEmpty)
    }

    @Test("gzip, chunked keeps gzip for HTTP/1.1 and is a 502 for HTTP/1.0", .bug(id: "review-9"))
    func transferCodings() {
        let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
        let (actions, client) = relay(response)
        #expect(actions == [.headWritten, .complete(reusable: true)])
        #expect(client.contains("Transfer-Encoding: gzip, chunked\r\n"))
        let old = relay(response, http10: true)
        #expect(old.actions == [.fail(.upstreamUnavailable, reason: "upstream_transfer_coding", upstreamAtFault: false)])
        #expect(old.client.isEmpty)
    }

    @Test("only a WebSocket 101 answering a WebSocket request is tunnelled", .bug(id: "review-3"))
    func switching() {
        let websocket = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        #expect(relay(websocket, websocket: true).actions == [.tunnel])
        let refused = ResponseRelay.Action.fail(.upstreamUnavailable, reason: "upstream_unexpected_101", upstreamAtFault: false)
        #expect(relay(websocket, websocket: false).actions == [refused])
        let h2c = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
        #expect(relay(h2c, websocket: true).actions == [refused])
        let noConnection = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
        #expect(relay(noConnection, websocket: true).actions == [refused])
    }

    @Test("an unframed body runs until close: re-chunked for HTTP/1.1, closed for HTTP/1.0")
    func untilClose() {
        let (actions, client) = relay("HTTP/1.1 200 OK\r\n\r\nabc", ended: true)
        #expect(actions == [.headWritten, .complete(reusable: false)])
        #expect(client.contains("Transfer-Encoding: chunked\r\n") && client.hasSuffix("3\r\nabc\r\n0\r\n\r\n"))
        let old = relay("HTTP/1.1 200 OK\r\n\r\nabc", http10: true, ended: true)
        #expect(old.actions == [.headWritten, .complete(reusable: false)])
        #expect(old.client.contains("Connection: close\r\n") && old.client.hasSuffix("\r\n\r\nabc"))
    }

    @Test("a body cut short or a malformed chunk after the head aborts; a bad head fails")
    func broken() {
        #expect(relay("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", ended: true).actions == [.headWritten, .abort])
        #expect(relay("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").actions == [.headWritten, .abort])
        #expect(relay("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").actions
            == [.fail(.upstreamUnavailable, reason: "upstream_bad_response", upstreamAtFault: true)])
    }

    @Test("HEAD responses and 204/304 have no body whatever their headers say")
    func noBody() {
        #expect(relay("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", method: .head).actions == [.headWritten, .complete(reusable: true)])
        #expect(relay("HTTP/1.1 204 No Content\r\n\r\n").actions == [.headWritten, .complete(reusable: true)])
        #expect(relay("HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n").actions == [.headWritten, .complete(reusable: true)])
    }

    /// A server that sends the body it announced anyway, in a later packet, would have it read
    /// as the next request's response on a reused connection (response mix-up between clients).
    @Test("a body announced where none may follow leaves the connection unusable", .bug(id: "audit-pooled-desync"), arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", HTTPMethod.head),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTPMethod.head),
        ("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", HTTPMethod.delete),
        ("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", HTTPMethod.get),
    ])
    func announcedBodyNotReused(_ upstream: String, _ method: HTTPMethod) {
        #expect(relay(upstream, method: method).actions == [.headWritten, .complete(reusable: false)])
    }

    @Test("a 204 reaches the client without Content-Length (RFC 9110 §8.6)")
    func noContentLengthOn204() {
        let (_, client) = relay("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\nX-A: 1\r\n\r\n")
        #expect(client == "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")
    }
}

extension Substring {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = self
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
