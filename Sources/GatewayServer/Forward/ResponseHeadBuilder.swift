import GatewayHTTP
import GatewaySupport

/// Writes the response head sent to the client: the upstream's status and end-to-end headers,
/// with hop-by-hop fields removed and the framing and connection fields the gateway chose.
struct ResponseHeadBuilder {
    var tokens: [ByteRange] = []
    /// The head being written, reused across responses (no allocation per response).
    var line: [UInt8] = []

    mutating func append(
        head: ResponseHead, bytes: UnsafeRawBufferPointer, chunked: Bool, close: Bool, keepAliveForHTTP10: Bool,
        upgrade: Bool, extraHeaders: [UInt8] = [], to out: ByteBuffer
    ) {
        line.removeAll(keepingCapacity: true)
        line.append("HTTP/1.1 ")
        Decimal.append(head.status, to: &line)
        line.append(UInt8(ascii: " "))
        line.append(bytes, head.reason)
        line.append("\r\n")
        ByteCompare.connectionTokens(head.headers, bytes, into: &tokens)
        for field in head.headers {
            switch field.name {
            case .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding, .http2Settings:
                continue
            case .upgrade where !upgrade:
                continue
            case .contentLength where head.status == 204:
                continue   // RFC 9110 §8.6: never on a 204, which has no content to measure
            default:
                if field.name == .other && ByteCompare.isNominated(field, bytes, tokens) { continue }
                line.append(bytes, ByteRange(start: field.nameStart, count: field.nameCount))
                line.append(": ")
                line.append(bytes, ByteRange(start: field.valueStart, count: field.valueCount))
                line.append("\r\n")
            }
        }
        line.append(contentsOf: extraHeaders)
        if chunked {
            line.append("Transfer-Encoding: ")
            if head.hasOtherTransferCodings { appendOtherTransferCodings(head, bytes) }
            line.append("chunked\r\n")
        }
        if upgrade {
            line.append("Connection: upgrade\r\n")
        } else if close {
            line.append("Connection: close\r\n")
        } else if keepAliveForHTTP10 {
            line.append("Connection: keep-alive\r\n")
        }
        line.append("\r\n")
        out.append(line)
    }

    /// The upstream's transfer codings before its final `chunked` (`gzip, `): only `chunked`
    /// is re-framed, the body stays encoded, so the client must be told (RFC 9112 §6.1).
    private mutating func appendOtherTransferCodings(_ head: ResponseHead, _ bytes: UnsafeRawBufferPointer) {
        for field in head.headers where field.name == .transferEncoding {
            // The parser accepted these fields, so listing their elements cannot fail.
            try? HTTPBytes.forEachListElement(bytes, field.valueStart, field.valueCount) { (start, count) throws(HTTPParseError) in
                guard !HTTPBytes.equalsLowercase(bytes, start, count, "chunked") else { return }
                line.append(bytes, ByteRange(start: start, count: count))
                line.append(", ")
            }
        }
    }
}
