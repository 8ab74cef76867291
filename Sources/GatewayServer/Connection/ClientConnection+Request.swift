import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem

extension ClientConnection {
    /// A complete head is in `input`: decide it, then answer or start forwarding.
    func startRequest() {
        // A request resumed after waiting for keys keeps its snapshot and id. (Its start time
        // is when its head's first byte arrived.)
        let resumed = request.isResumed
        if !resumed {
            runtime = loop.runtime
            sendTimeoutMilliseconds = runtime.config.limits.sendTimeout.milliseconds
        }
        request.begin(
            head, keepAlive: head.wantsKeepAlive && !loop.isDraining && !clientEnded,
            responseStartMark: bytesWritten + output.readableCount)
        accessState.rateLimitHeaders.removeAll(keepingCapacity: true)
        deadline = 0
        let bytes = input.readableBytes
        if !resumed { assignRequestID(bytes) }

        if let authority = head.absoluteAuthority {
            // Absolute-form is accepted only for the gateway's own listen authority, and only
            // when it agrees with Host (SPEC §14): the gateway is not a forward proxy.
            guard let host = head.host, ByteCompare.equalCaseInsensitive(bytes, authority, bytes, host),
                  runtime.isOwnAuthority(UnsafeRawBufferPointer(rebasing: bytes[authority.start..<authority.start + authority.count]))
            else {
                return reject(.invalidRequest, reason: "absolute_form_host")
            }
        }
        guard normalizePath(head.path, bytes) else { return }
        if isAdmin { return answerAdminListener() }
        if let decisionPath = runtime.decisionPath, loop.access.path == decisionPath { return answerDecision(bytes) }
        if let documents = runtime.tokenDocuments, let endpoint = TokenEndpoint(path: loop.access.path) {
            return answerTokenService(endpoint, documents: documents)
        }
        if let registration = runtime.config.registration, loop.access.path.elementsEqual(Registration.path.utf8) {
            return answerRegistration(registration)
        }
        if !runtime.resourceDocuments.isEmpty, let document = runtime.resourceDocuments[loop.access.path] {
            return answerPublishedDocument(document)
        }

        switch decideAccess(AccessRequest(
            method: request.method, query: head.query, headers: head.headers, bytes: bytes, peerAddress: peer.address,
            peerTrusted: runtime.trusts(peer), peerCertificate: peerCertificate))
        {
        case .allow: break
        case .waitForKeys: return waitForKeys()
        case .refuse(let reason): return refuse(reason)
        }
        // An allowed request always has its route; a `deny;` route is refused by the pipeline.
        guard let route = request.access.route else { return refuse(.routeNotFound) }
        switch route.action {
        case .deny:
            refuse(.routeDenied)
        case .respond(let status, let body):
            answer(.response(status: status, contentType: "text/plain; charset=utf-8", body: body), reason: "")
        case .upstream(let index):
            if let length = head.contentLength, length > runtime.config.limits.maxBodyBytes {
                return reject(.payloadTooLarge, reason: "body_too_large")
            }
            // RFC 9110 §9.3.1: content in a GET "might lead some implementations to reject the
            // request ... because of its potential as a request smuggling attack". An upstream
            // that answers a GET without reading its body reads that body as the next request,
            // past every route rule and with headers the client wrote (CL.0 desync).
            if !request.method.mayCarryContent && head.hasBody {
                return reject(.invalidRequest, reason: "content_not_allowed")
            }
            startForwarding(to: runtime.upstreams[index])
        }
    }

    /// Normalizes the path into the loop's access scratch (SPEC §4) and keeps it for the
    /// access log. - Returns: false when the request was refused with 400.
    func normalizePath(_ path: ByteRange, _ bytes: UnsafeRawBufferPointer, refusal: (DenyReason) -> Void) -> Bool {
        if let problem = loop.access.normalize(path, bytes) {
            refusal(.badPath(problem))
            return false
        }
        if loop.accessLog.isOn {
            request.loggedPath.removeAll(keepingCapacity: true)
            request.loggedPath.append(contentsOf: loop.access.path)
        }
        return true
    }

    private func normalizePath(_ path: ByteRange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        normalizePath(path, bytes) { refuse($0) }
    }

    /// Runs the access pipeline for `described` (the path is in `loop.access.path`) and keeps
    /// its result for the answer, the forwarded head and the access log.
    /// - Parameter admin: decide by the admin API's fixed rule instead of the routes.
    func decideAccess(_ described: AccessRequest, admin: Bool = false) -> AccessVerdict {
        loop.refreshKeyIndex()
        accessState.keyWaitOver = request.isResumed && loop.now >= request.keyWaitDeadline
        let clock = AccessClock(now: loop.now, wallSecond: WallClock.now())
        request.access = admin
            ? runtime.access.decideAdmin(described, state: &accessState, scratch: loop.access, clock: clock)
            : runtime.access.decide(described, state: &accessState, scratch: loop.access, clock: clock)
        if request.access.verdict != .waitForKeys { request.keyWaitDeadline = 0 }
        if let used = accessState.usedKeyID { loop.noteKeyUsed(used) }
        return request.access.verdict
    }

    /// Parks the request until the JWKS fetch its unknown `kid` asked for is done, without
    /// blocking the loop: the loop calls `resumeAfterKeys` after the fetch, or the deadline
    /// sweep does when the wait (bounded by the fetch timeouts) runs out.
    func waitForKeys() {
        if request.keyWaitDeadline == 0 { request.keyWaitDeadline = loop.now + loop.shared.keyWaitMilliseconds }
        phase = .awaitingKeys
        deadline = request.keyWaitDeadline
        loop.waitForKeys(self)
    }

    /// Runs the parked request again from its head (still in `input`, parser complete).
    func resumeAfterKeys() {
        guard phase == .awaitingKeys, !isClosed else { return }
        phase = .waitingHead
        deadline = 0
        processInput()
    }

    /// Uses a trusted proxy's `X-Request-Id` when it is sane, else a fresh id.
    private func assignRequestID(_ bytes: UnsafeRawBufferPointer) {
        request.id.removeAll(keepingCapacity: true)
        if let field = head.headers.first(where: { $0.name == .xRequestId }), field.valueCount > 0, field.valueCount <= 128,
           runtime.trusts(peer) {
            let value = bytes[field.valueStart..<field.valueStart + field.valueCount]
            if value.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
                request.id.append(contentsOf: value)
                return
            }
        }
        loop.shared.requestIDs.appendNext(to: &request.id)
    }

    /// The value of the header `lowerName` (first occurrence), as text; nil when absent.
    func headerText(_ lowerName: String) -> String? { headerText(Array(lowerName.utf8)) }

    func headerText(_ lowerName: [UInt8]) -> String? {
        guard !lowerName.isEmpty else { return nil }
        let bytes = input.readableBytes
        guard let field = head.headers.first(where: { ByteCompare.nameEquals($0, bytes, lowerName) }) else { return nil }
        return String(decoding: bytes[field.valueStart..<field.valueStart + field.valueCount], as: UTF8.self)
    }
}
