import GatewayHTTP
import GatewaySupport
import Testing

@testable import GatewayServer

/// The head sent to the client: hop-by-hop fields removed, framing chosen by the gateway.
@Suite("Client response head")
struct ResponseHeadBuilderTests {
    func build(_ raw: String, chunked: Bool) throws -> [String] {
        var parser = ResponseHeadParser()
        var head = ResponseHead()
        let bytes = Array(raw.utf8)
        #expect(try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) })
        var builder = ResponseHeadBuilder()
        let out = ByteBuffer()
        bytes.withUnsafeBytes { buffer in
            builder.append(head: head, bytes: buffer, chunked: chunked, close: false, keepAliveForHTTP10: false, upgrade: false, to: out)
        }
        return String(decoding: Array(out.readableBytes), as: UTF8.self).components(separatedBy: "\r\n")
    }

    @Test(
        "codings before chunked are kept; only chunked is re-framed",
        .bug(id: "review-9", "Transfer-Encoding: gzip, chunked reached the client as chunked carrying gzip bytes"))
    func otherCodingsKept() throws {
        let lines = try build("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nX-A: 1\r\n\r\n", chunked: true)
        #expect(lines.filter { $0.lowercased().hasPrefix("transfer-encoding") } == ["Transfer-Encoding: gzip, chunked"])
        let split = try build("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: br, chunked\r\n\r\n", chunked: true)
        #expect(split.filter { $0.lowercased().hasPrefix("transfer-encoding") } == ["Transfer-Encoding: gzip, br, chunked"])
        let plain = try build("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunked: true)
        #expect(plain.filter { $0.lowercased().hasPrefix("transfer-encoding") } == ["Transfer-Encoding: chunked"])
    }
}

extension String {
    fileprivate func components(separatedBy separator: String) -> [String] {
        split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    }
}
