/// A parsed request head: the request line, the header fields and the framing the parser
/// derived from them. Everything is offsets into the caller's buffer; nothing is copied.
///
/// Reused across the requests of a connection (`reset()` keeps the header array's capacity).
package struct RequestHead: Sendable, Equatable {
    package var method: HTTPMethod = .other
    package var methodRange: ByteRange = .empty
    /// The whole request-target as received.
    package var target: ByteRange = .empty
    /// The path: the origin-form path, or for absolute-form the part after the authority
    /// (an empty path there is reported as a zero-length range; callers treat it as `/`).
    package var path: ByteRange = .empty
    /// The query without its `?`; nil when the target has no `?`.
    package var query: ByteRange? = nil
    /// The authority of an absolute-form target (`http://authority/path`); nil for origin-form.
    package var absoluteAuthority: ByteRange? = nil
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    package var minorVersion: Int = 1
    package var headers: [HeaderField] = []
    /// The single `Host` value (required exactly once on HTTP/1.1).
    package var host: ByteRange? = nil
    /// The body length from `Content-Length`; nil when absent.
    package var contentLength: Int64? = nil
    /// `Transfer-Encoding: chunked` (the only transfer coding accepted).
    package var isChunked: Bool = false
    /// `Connection` lists `close`.
    package var connectionClose: Bool = false
    /// `Connection` lists `keep-alive` (meaningful for HTTP/1.0).
    package var connectionKeepAlive: Bool = false
    /// `Connection` lists `upgrade`.
    package var connectionUpgrade: Bool = false
    /// `Upgrade` names `websocket` (case-insensitive).
    package var upgradeWebSocket: Bool = false
    /// `Expect: 100-continue` was sent on HTTP/1.1 (ignored on HTTP/1.0; any other expectation is a parse error).
    package var expectContinue: Bool = false
    /// Bytes the head occupies, including leading empty lines and the final CRLF CRLF.
    package var headLength: Int = 0

    package init() {}

    /// Whether the client wants the connection kept open after this request.
    package var wantsKeepAlive: Bool { minorVersion >= 1 ? !connectionClose : (connectionKeepAlive && !connectionClose) }

    /// True when a body follows the head.
    package var hasBody: Bool { isChunked || (contentLength ?? 0) > 0 }

    /// Clears every field, keeping the header array's storage.
    package mutating func reset() {
        // Take the array out first so it is uniquely referenced when emptied (no copy-on-write).
        var storage: [HeaderField] = []
        swap(&storage, &headers)
        storage.removeAll(keepingCapacity: true)
        self = RequestHead()
        headers = storage
    }
}
