/// A parsed upstream response head (status line and header fields), as offsets into the
/// buffer it was parsed from.
package struct ResponseHead: Sendable, Equatable {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    package var minorVersion: Int = 1
    package var status: Int = 0
    package var reason: ByteRange = .empty
    package var headers: [HeaderField] = []
    package var contentLength: Int64? = nil
    package var isChunked: Bool = false
    package var connectionClose: Bool = false
    package var connectionKeepAlive: Bool = false
    /// `Connection` lists `upgrade` (with a 101 status: the connection switches protocols).
    package var connectionUpgrade: Bool = false
    /// `Upgrade` names exactly one protocol, `websocket` (case-insensitive): the only switch
    /// the gateway tunnels.
    package var upgradeWebSocket: Bool = false
    /// `Transfer-Encoding` names codings besides the final `chunked` (`gzip, chunked`): the
    /// gateway re-frames only `chunked` and must pass the others on.
    package var hasOtherTransferCodings: Bool = false
    /// Bytes the head occupies, including the final CRLF CRLF.
    package var headLength: Int = 0

    package init() {}

    /// Clears every field, keeping the header array's storage.
    package mutating func reset() {
        // Take the array out first so it is uniquely referenced when emptied (no copy-on-write).
        var storage: [HeaderField] = []
        swap(&storage, &headers)
        storage.removeAll(keepingCapacity: true)
        self = ResponseHead()
        headers = storage
    }

    /// Whether the upstream connection may be reused after this response.
    package var upstreamKeepsAlive: Bool { minorVersion >= 1 ? !connectionClose : (connectionKeepAlive && !connectionClose) }

    /// How the body of this response is delimited (RFC 9112 §6.3), given the request method.
    package func bodyFraming(requestMethod: HTTPMethod) -> BodyFraming {
        if requestMethod == .head || status / 100 == 1 || status == 204 || status == 304 { return .none }
        if isChunked { return .chunked }
        if let length = contentLength { return length == 0 ? .none : .contentLength(length) }
        return .untilClose
    }
}

/// How a message body is delimited.
package enum BodyFraming: Sendable, Equatable {
    case none
    case contentLength(Int64)
    case chunked
    case untilClose
}
