import GatewaySupport

/// Reads one whole HTTP/1.1 response into memory, for the gateway's own small requests (a JWKS
/// fetch), not for proxying: the same strict `ResponseHeadParser` and `ChunkedDecoder` as the
/// upstream path, with a hard bound on the body.
///
/// Feed it bytes as they arrive and tell it when the peer closed. Bodies may be delimited by
/// `Content-Length`, chunked coding, or the end of the connection. A response to `GET` is
/// assumed (a 204/304 or 1xx has no body). Not thread-safe; owned by one fetch (`~Copyable`:
/// its buffer has exactly one owner).
package struct ResponseCollector: ~Copyable {
    /// One step of collecting.
    package enum Step: Sendable, Equatable {
        /// More bytes are needed.
        case needMore
        /// The response is complete.
        case complete(status: Int, body: [UInt8])
    }

    /// The largest body accepted, in bytes.
    package let maxBodyBytes: Int
    private var parser: ResponseHeadParser
    private var head = ResponseHead()
    private var framing: BodyFraming? = nil
    /// Received bytes not yet turned into head or body.
    private let pending = ByteBuffer(capacity: 16 * 1024)
    private var body: [UInt8] = []
    private var chunks = ChunkedDecoder()

    /// - Parameters:
    ///   - maxHeadBytes: the longest head accepted (default 16 KiB).
    ///   - maxBodyBytes: the longest body accepted, after de-chunking.
    package init(maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        parser = ResponseHeadParser(maxHeadBytes: maxHeadBytes, maxHeaderCount: 100)
    }

    /// The status code, once the head is complete (so a caller can give up on a non-200 early).
    package var status: Int? { framing == nil ? nil : head.status }

    /// Takes the next received bytes.
    /// - Throws: `ResponseCollectorError` for a malformed head or chunk, or a body over the limit.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) throws(ResponseCollectorError) -> Step {
        pending.append(bytes)
        if framing == nil {
            let complete: Bool
            do {
                complete = try parser.parse(pending.readableBytes, into: &head)
            } catch {
                throw .head(error)
            }
            guard complete else { return .needMore }
            pending.consume(head.headLength)
            framing = head.bodyFraming(requestMethod: .get)
        }
        return try advanceBody()
    }

    /// The peer closed the connection: the end of a close-delimited body, else a truncation.
    /// - Throws: `.truncated` when the head or a delimited body is incomplete.
    package mutating func endOfStream() throws(ResponseCollectorError) -> Step {
        guard framing == .untilClose else { throw .truncated }
        return .complete(status: head.status, body: body)
    }

    private mutating func advanceBody() throws(ResponseCollectorError) -> Step {
        switch framing {
        case nil, .none?:
            return .complete(status: head.status, body: [])
        case .contentLength(let length)?:
            guard length <= Int64(maxBodyBytes) else { throw .bodyTooLarge }
            guard pending.readableCount >= Int(length) else { return .needMore }
            return .complete(status: head.status, body: Array(pending.readableBytes.prefix(Int(length))))
        case .untilClose?:
            try take(pending.readableCount)
            body.append(contentsOf: pending.readableBytes)
            pending.clear()
            return .needMore
        case .chunked?:
            while true {
                let step: ChunkedStep
                do {
                    step = try chunks.next(pending.readableBytes)
                } catch {
                    throw .chunked(error)
                }
                switch step {
                case .needMore(let consumed):
                    pending.consume(consumed)
                    return .needMore
                case .data(let offset, let count, let consumed):
                    try take(count)
                    body.append(contentsOf: UnsafeRawBufferPointer(rebasing: pending.readableBytes[offset..<offset + count]))
                    pending.consume(consumed)
                case .done:
                    return .complete(status: head.status, body: body)
                }
            }
        }
    }

    /// Checks that `count` more body bytes fit.
    private func take(_ count: Int) throws(ResponseCollectorError) {
        guard body.count + count <= maxBodyBytes else { throw .bodyTooLarge }
    }
}

/// Why `ResponseCollector` gave up. Log-safe: reasons, never response bytes.
package enum ResponseCollectorError: Error, Sendable, Equatable, CustomStringConvertible {
    case head(HTTPParseError)
    case chunked(HTTPParseError)
    case bodyTooLarge
    case truncated

    package var description: String {
        switch self {
        case .head(.badRequest(let reason)), .chunked(.badRequest(let reason)): "malformed response (\(reason.rawValue))"
        case .head: "response head too large"
        case .chunked: "malformed chunked body"
        case .bodyTooLarge: "response body too large"
        case .truncated: "response truncated"
        }
    }
}
