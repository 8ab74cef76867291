package import GatewayHTTP
package import GatewayTLS

/// What the access pipeline looks at: a view of one request. Everything is a range into
/// `bytes` (the parsed head), so building a view copies nothing. The path is not here: the
/// caller normalizes it into `AccessScratch.path` first (`AccessScratch.normalize`), because
/// the caller needs it before deciding (the admin listener, the decision endpoint's own path).
///
/// The connection builds it from the request it received; the decision endpoint builds it
/// from the request a trusted proxy describes (its method, path and query, with the decision
/// request's own credential headers); `gateway explain` builds it from its arguments.
package struct AccessRequest {
    /// The method the route must accept.
    package var method: HTTPMethod
    /// The query without its `?` (read by `allow_query_token`); nil when there is none.
    package var query: ByteRange?
    /// The header fields (credentials, `X-Forwarded-For`).
    package var headers: [HeaderField]
    /// The bytes every range points into. Valid for the duration of `decide`.
    package var bytes: UnsafeRawBufferPointer
    /// The peer's address (4 or 16 bytes): the client, or the proxy in front of it.
    package var peerAddress: [UInt8]
    /// The peer is in `trust_proxies`: its `X-Forwarded-For` names the client.
    package var peerTrusted: Bool
    /// The client certificate verified in this connection's TLS handshake (`auth mtls`).
    package var peerCertificate: PeerCertificate?

    package init(
        method: HTTPMethod, query: ByteRange?, headers: [HeaderField], bytes: UnsafeRawBufferPointer,
        peerAddress: [UInt8], peerTrusted: Bool, peerCertificate: PeerCertificate? = nil
    ) {
        self.peerCertificate = peerCertificate
        self.method = method
        self.query = query
        self.headers = headers
        self.bytes = bytes
        self.peerAddress = peerAddress
        self.peerTrusted = peerTrusted
    }

    /// A method-override header (`X-HTTP-Method-Override`...) or query parameter (`_method`)
    /// names another method than the request-line's. Method tokens are case-sensitive (RFC
    /// 9110 §9.1) in the headers; frameworks upper-case `_method` first. An unregistered
    /// method never matches, so any override of it counts.
    var overridesMethod: Bool {
        for field in headers where field.name == .methodOverride {
            let value = UnsafeRawBufferPointer(rebasing: bytes[field.valueStart..<field.valueStart + field.valueCount])
            guard method != .other, value.elementsEqual(method.name.utf8) else { return true }
        }
        guard let query else { return false }
        var overrides = false
        QueryToken.forEachParameter(query, bytes) { parameter, valueStart in
            guard !overrides, Self.isMethodParameter(parameter, valueStart, bytes) else { return }
            let end = parameter.start + parameter.count
            let raw = UnsafeRawBufferPointer(rebasing: bytes[(valueStart ?? end)..<end])
            guard method != .other, let value = QueryToken.decode(raw),
                  value.map({ HTTPBytes.lowercased($0) }).elementsEqual(method.name.lowercased().utf8)
            else { overrides = true; return }
        }
        return overrides
    }

    /// `_method` (Symfony/Laravel, Spring's `HiddenHttpMethodFilter`), its name percent-decoded,
    /// and `.method` or ` method`, which PHP turns into `_method`.
    /// Runs for every query parameter of every request: a name of 7 bytes is compared in
    /// place; only a name with an escape (`%5Fmethod`) is decoded.
    private static func isMethodParameter(_ parameter: ByteRange, _ valueStart: Int?, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let nameEnd = valueStart.map { $0 - 1 } ?? parameter.start + parameter.count
        let raw = UnsafeRawBufferPointer(rebasing: bytes[parameter.start..<nameEnd])
        if raw.count == 7 { return isMethodName(raw) }
        guard raw.count > 7, raw.count <= 21, raw.contains(UInt8(ascii: "%")),   // "%5F%6D%65%74%68%6F%64" at most
              let decoded = QueryToken.decode(raw)
        else { return false }
        return decoded.withUnsafeBytes { isMethodName($0) }
    }

    private static func isMethodName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count == 7, name[1...].elementsEqual("method".utf8) else { return false }
        return name[0] == UInt8(ascii: "_") || name[0] == UInt8(ascii: ".") || name[0] == UInt8(ascii: " ")
            || name[0] == UInt8(ascii: "+")
    }
}

/// The pipeline's answer.
package enum AccessVerdict: Equatable, Sendable {
    /// Forward (or answer locally, or say 200 at the decision endpoint).
    case allow
    /// Answer with the reason's error.
    case refuse(DenyReason)
    /// The JWT's `kid` may arrive with a pending JWKS fetch: park the request and decide again
    /// once the fetch is done (`AccessState.keyWaitOver` then stops a second wait).
    case waitForKeys
}

/// The decision with what it found on the way: the route (once matched, also for a refusal,
/// for the access log) and who the caller is.
package struct AccessResult {
    package var verdict: AccessVerdict
    /// The matched route; nil when the request was refused before a route matched.
    package var route: CompiledRoute?
    /// Who the request is from; nil for public routes and anonymous `auth optional` requests.
    package var identity: Identity?
    /// The identity's header block, effective permissions and own rate limit (from the loop's
    /// cache); nil when `identity` is.
    package var rendered: RenderedIdentity?

    package init(verdict: AccessVerdict, route: CompiledRoute? = nil, identity: Identity? = nil, rendered: RenderedIdentity? = nil) {
        self.verdict = verdict
        self.route = route
        self.identity = identity
        self.rendered = rendered
    }
}

/// What a connection keeps across its requests for the pipeline, and what one decision
/// leaves behind for the response. Connection-confined.
package struct AccessState {
    /// The last credential the connection proved (keep-alive clients repeat it).
    package var memo = CredentialMemo()
    /// `RateLimit-Policy` / `RateLimit` lines for the response on a limited route (SPEC §7);
    /// cleared by each decision, capacity kept.
    package var rateLimitHeaders: [UInt8] = []
    /// True when the request already waited for keys once: a key still unknown is final.
    package var keyWaitOver = false
    /// The API key that authenticated the request, for the batched last-used times.
    package var usedKeyID: String? = nil
    /// The client's address for per-address limits, worked out at most once per decision.
    var clientAddress: [UInt8]? = nil

    package init() {}

    /// Clears what one decision leaves behind (every entry point starts with this: the client
    /// address may differ between requests of one connection behind a trusted proxy).
    mutating func beginRequest() {
        rateLimitHeaders.removeAll(keepingCapacity: true)
        clientAddress = nil
        usedKeyID = nil
    }
}
