package import GatewayCore
import GatewayHTTP
package import GatewaySupport

/// Renders the responses the gateway generates itself into a connection's output buffer.
package enum ResponseWriter {
    /// The interim answer to `Expect: 100-continue` (RFC 9110 §10.1.1): send the body.
    static let continueResponse: StaticString = "HTTP/1.1 100 Continue\r\n\r\n"

    /// Appends a complete JSON error response (SPEC §12).
    /// - Parameters:
    ///   - status: the status to answer instead of the error's own (the decision endpoint's
    ///     403 for a rate limit in nginx mode, SPEC §9); nil for the error's.
    ///   - extraHeaders: complete header lines added after the error's own.
    ///   - headOnly: a HEAD request: the head (with the body's length), no body.
    ///   - http10KeepAlive: the client speaks HTTP/1.0 and the connection stays open, which
    ///     such a client is only told by `Connection: keep-alive` (RFC 9112 §9.3).
    package static func appendError(
        _ error: GatewayError, requestID: [UInt8], close: Bool, http10KeepAlive: Bool = false, date: [UInt8], status: Int? = nil,
        extraHeaders: [UInt8] = [], headOnly: Bool = false, resourceChallenge: [UInt8] = [], to out: ByteBuffer
    ) {
        var body: [UInt8] = []
        body.reserveCapacity(160)
        body.append(contentsOf: "{\"error\":\"".utf8)
        append(error.code, to: &body)
        body.append(contentsOf: "\",\"error_description\":\"".utf8)
        append(error.description, to: &body)
        body.append(contentsOf: "\",\"request_id\":\"".utf8)
        body.append(contentsOf: requestID)
        body.append(contentsOf: "\"}".utf8)
        var extra: [UInt8] = []
        switch error {
        case .methodNotAllowed(let allow):
            extra.append(contentsOf: "Allow: \(allow.allowHeaderValue)\r\n".utf8)
        case .unauthorized:
            extra.append(contentsOf: "WWW-Authenticate: Bearer realm=\"gateway\"".utf8)
            extra.append(contentsOf: resourceChallenge)
            extra.append(contentsOf: "\r\n".utf8)
        case .invalidToken:
            extra.append(contentsOf: "WWW-Authenticate: Bearer realm=\"gateway\", error=\"invalid_token\"".utf8)
            extra.append(contentsOf: resourceChallenge)
            extra.append(contentsOf: "\r\n".utf8)
        case .insufficientScope(let scope):
            // RFC 6750 §3: scope names are visible ASCII without `"` or `\` (checked at load).
            extra.append(contentsOf: "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"".utf8)
            extra.append(contentsOf: scope.utf8)
            extra.append(contentsOf: "\"\r\n".utf8)
        case .rateLimited(let retryAfter), .temporarilyUnavailable(let retryAfter):
            extra.append(contentsOf: "Retry-After: ".utf8)
            Decimal.append(max(1, retryAfter), to: &extra)
            extra.append(contentsOf: "\r\n".utf8)
        default:
            break
        }
        extra.append(contentsOf: "Cache-Control: no-store\r\n".utf8)
        extra.append(contentsOf: extraHeaders)
        appendResponse(status: status ?? error.status, contentType: "application/json", body: body, requestID: requestID,
                       close: close, http10KeepAlive: http10KeepAlive, date: date, extraHeaders: extra, headOnly: headOnly, to: out)
    }

    /// Appends a complete response with a fixed body.
    static func appendResponse(
        status: Int, contentType: StaticString, body: [UInt8], requestID: [UInt8], close: Bool, http10KeepAlive: Bool = false,
        date: [UInt8], extraHeaders: [UInt8] = [], headOnly: Bool, to out: ByteBuffer
    ) {
        var head: [UInt8] = []
        head.reserveCapacity(256)
        head.append(contentsOf: "HTTP/1.1 ".utf8)
        Decimal.append(status, to: &head)
        head.append(UInt8(ascii: " "))
        head.append(contentsOf: ReasonPhrase.text(status).utf8)
        head.append(contentsOf: "\r\n".utf8)
        head.append(contentsOf: date)
        if !body.isEmpty || status != 204 {
            head.append(contentsOf: "Content-Type: ".utf8)
            append(contentType, to: &head)
            head.append(contentsOf: "\r\nContent-Length: ".utf8)
            Decimal.append(body.count, to: &head)
            // The gateway's own bodies are exactly their declared type (JSON errors, fixed
            // texts): browsers must not sniff them into something executable.
            head.append(contentsOf: "\r\nX-Content-Type-Options: nosniff\r\n".utf8)
        }
        head.append(contentsOf: "X-Request-Id: ".utf8)
        head.append(contentsOf: requestID)
        head.append(contentsOf: "\r\n".utf8)
        head.append(contentsOf: extraHeaders)
        if close {
            head.append(contentsOf: "Connection: close\r\n".utf8)
        } else if http10KeepAlive {
            head.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        head.append(contentsOf: "\r\n".utf8)
        out.append(head)
        if !headOnly { out.append(body) }
    }

    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
