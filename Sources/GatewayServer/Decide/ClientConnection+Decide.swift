import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem

extension ClientConnection {
    /// The decision endpoint (SPEC §9): answers whether the request a trusted proxy describes
    /// (`X-Original-URI`/`-Method`, or `X-Forwarded-Uri`/`-Method`) may pass, through the same
    /// normalization and access pipeline as a forwarded request (the pipeline gets the described
    /// method, path and query, and this request's own credentials); nothing is forwarded.
    ///
    /// Fail closed: from a peer outside `trust_proxies`, or without an unambiguous description,
    /// the answer is 403 and the description is never read. Allowed: 200, empty body, the
    /// identity headers of SPEC §8. Denied: the usual 401/403 (and 400/404/405), each with
    /// `X-Auth-Error: <code>`. Rate limited: 429, but 403 when nginx asked (it treats anything
    /// but 2xx/401/403 as an error), with `X-Auth-Error: rate_limited` and `Retry-After`.
    func answerDecision(_ bytes: UnsafeRawBufferPointer) {
        guard head.method == .get || head.method == .head else {
            return rejectDecision(.methodNotAllowed(allow: [MethodSet(.get), MethodSet(.head)]), reason: "method_not_allowed")
        }
        guard runtime.trusts(peer) else { return rejectDecision(.accessDenied, reason: "decision_untrusted_peer") }
        let original: OriginalRequest
        switch OriginalRequest.read(head.headers, bytes) {
        case .success(let read):
            original = read
        case .failure(let failure):
            let refusal: GatewayError = failure == .badMethod || failure == .badTarget ? .invalidRequest : .accessDenied
            return rejectDecision(refusal, reason: failure.reason)
        }

        request.logMethod = original.method
        let refusal = { (reason: DenyReason) in self.rejectDecision(reason.error, reason: reason.reason, style: original.style) }
        // The proxy forwards the path as it was written, not as normalized: a dot segment could
        // be decided as one path and served as another (`/internal/../public/x`).
        let described = UnsafeRawBufferPointer(rebasing: bytes[original.path.start..<original.path.start + original.path.count])
        guard !PathNormalizer.hasDotSegment(described) else { return refusal(.badPath(.unresolvedDotSegment)) }
        guard normalizePath(original.path, bytes, refusal: refusal) else { return }
        let request = AccessRequest(
            method: original.method, query: original.query, headers: head.headers, bytes: bytes, peerAddress: peer.address,
            peerTrusted: true)
        switch decideAccess(request) {
        case .allow: break
        case .waitForKeys: return waitForKeys()
        case .refuse(let reason): return rejectDecision(reason.error, reason: reason.reason, style: original.style)
        }
        var headers = identityHeaderBlock()
        headers.append("Cache-Control: no-store\r\n")
        answer(.response(status: 200, contentType: "text/plain; charset=utf-8", body: []), reason: "decision_endpoint", extraHeaders: headers)
    }

    /// Answers a decision with a gateway error plus `X-Auth-Error` (a proxy can pass the code
    /// on without parsing the body); a rate limit asked about by nginx becomes 403.
    /// - Parameter style: how the original request was described; nil when it was not read.
    private func rejectDecision(_ error: GatewayError, reason: String, style: OriginalRequest.Style? = nil) {
        let status = style?.status(for: error)
        var extra: [UInt8] = []
        extra.append("X-Auth-Error: ")
        extra.append(contentsOf: UnsafeBufferPointer(start: error.code.utf8Start, count: error.code.utf8CodeUnitCount))
        extra.append("\r\n")
        reject(error, reason: reason, status: status, extraHeaders: extra, aboutThisRequest: false)
    }
}
