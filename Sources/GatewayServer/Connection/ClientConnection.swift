import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem
import Synchronization

/// One client connection: reads request heads, answers or forwards each request in order
/// (pipelining), streams bodies both ways with back-pressure, then waits for the next request.
/// Loop-confined for its whole life (`Channel`).
final class ClientConnection: Channel {
    enum Phase {
        /// Between requests or reading a head (`input` may hold part of one).
        case waitingHead
        /// The request's JWT names a `kid` that a pending JWKS fetch may bring: the head stays in
        /// `input` and the request runs again once the fetch is done (or the wait times out).
        case awaitingKeys
        /// A request is being forwarded; `ClientConnection+Proxy` drives it.
        case proxying
        /// After a 101 from the upstream: bytes are copied both ways.
        case tunnel
        /// Writing the last response, then half-closing.
        case closing
        /// Half-closed: discarding what the client still sends, bounded in time.
        case lingering
    }

    /// Back-pressure: stop reading a side while the other side's pending output exceeds this.
    static let highWater = 256 * 1024

    let peer: SocketAddress
    let peerText: [UInt8]
    let isAdmin: Bool
    let input = ByteBuffer(capacity: 8 * 1024)
    let output = ByteBuffer(capacity: 8 * 1024)
    var phase = Phase.waitingHead
    /// True between requests: the head deadline starts with the next request's first byte.
    var awaitingFirstHeadByte = false
    /// The client sent end-of-stream: finish what it asked, then close.
    var clientEnded = false
    private var inProcessInput = false
    var parser: RequestHeadParser
    var head = RequestHead()

    // The current request (valid from `startRequest` to `finishRequest`).
    var runtime: Runtime
    var requestID: [UInt8] = []
    var requestStart: Int64 = 0
    var method = HTTPMethod.get
    var clientMinorVersion = 1
    var keepAlive = true
    var route: CompiledRoute? = nil
    /// Who the current request is (nil: public route or anonymous `auth optional`).
    var identity: Identity? = nil
    /// Where the identity's rendered headers are cached on the loop.
    var identityRenderKey = IdentityRenderKey.none
    /// `RateLimit-Policy` and `RateLimit` lines for the response on a limited route (SPEC §7).
    var rateLimitHeaders: [UInt8] = []
    /// The client's address for per-address limits, worked out once per request.
    var requestClientAddress: [UInt8]? = nil
    /// The identity's header block and effective permissions (from the loop's cache).
    var renderedIdentity: RenderedIdentity? = nil
    /// The last credential this connection proved (keep-alive clients repeat it).
    var credentialMemo = CredentialMemo()
    var bytesToClient = 0
    var logReason = ""
    /// The normalized path of the current request, kept for its access-log line (the loop's
    /// scratch is reused by other connections meanwhile). Filled only when logging is on.
    var loggedPath: [UInt8] = []

    // Forwarding state (see ClientConnection+Proxy.swift).
    var upstream: UpstreamConnection? = nil
    var group: UpstreamGroup? = nil
    var upstreamRequestHead: [UInt8] = []
    var triedServers: UInt64 = 0
    var attempts = 0
    var requestBody = RequestBodyState.none
    var requestChunks = ChunkedDecoder()
    var requestBodyBytes: Int64 = 0
    var bodyBytesSent = false
    var response = ResponseState.awaitingHead
    var responseChunks = ChunkedDecoder()
    var responseStarted = false
    var chunkToClient = false
    var wantsUpgrade = false
    var upstreamPaused = false
    var needsMoreChunkInput = false
    var closeAfterResponse = false
    var responseStatus = 0
    /// A WebSocket tunnel with no byte either way for this long is closed (`tunnel_idle_timeout`).
    var tunnelIdleMilliseconds: Int64 = 0
    /// While the current request waits for keys (or was resumed after waiting): when the wait
    /// ends (monotonic ms); 0 otherwise.
    var keyWaitDeadline: Int64 = 0

    init(loop: EventLoop, fd: Int32, peer: SocketAddress, isAdmin: Bool) {
        self.peer = peer
        peerText = Array(peer.hostText.utf8)
        self.isAdmin = isAdmin
        runtime = loop.runtime
        let limits = runtime.config.limits
        parser = RequestHeadParser(maxHeadBytes: limits.maxHeadBytes, maxHeaderCount: limits.maxHeaders)
        super.init(loop: loop, fd: fd)
        deadline = loop.now + limits.headTimeout.milliseconds
        sendTimeoutMilliseconds = limits.sendTimeout.milliseconds
    }

    // MARK: Events

    override func handle(_ events: EpollEvents) {
        noteReadiness(events)
        if writable && !output.isEmpty {
            guard flushOutput() else { return }
        }
        if readable { onReadable() }
    }

    override func deadlinePassed() {
        switch phase {
        case .waitingHead:
            if input.isEmpty {
                close()
            } else {
                logReason = "head_timeout"
                respondError(.requestTimeout, close: true)
            }
        case .closing, .lingering:
            close()
        case .awaitingKeys:
            loop.stopWaitingForKeys(self)
            resumeAfterKeys()
        case .tunnel:
            abort()   // no byte either way for the tunnel idle timeout: both ends close
        case .proxying:
            break
        }
    }

    /// The client has not taken any of the pending output for `send_timeout`: both ends close,
    /// and the upstream connection is not reused (its response is unfinished).
    override func sendTimedOut() {
        if phase == .proxying { endInFlightRequest(status: responseStarted ? responseStatus : 408, reason: "send_timeout") }
        abort()
    }

    /// The client closed or reset its connection while its request was being forwarded: the
    /// upstream connection closes at once, so the upstream stops working for nobody (a
    /// cancelled streaming completion stops generating), as nginx does by default. Logged with
    /// reason `client_abort` and, as nginx does, 499 unless a response status was already sent.
    func clientAborted() {
        endInFlightRequest(status: responseStarted ? responseStatus : 499, reason: "client_abort")
        abort()
    }

    /// Writes the access-log line of a forwarded request that ends without its response.
    private func endInFlightRequest(status: Int, reason: String) {
        logReason = reason
        writeAccessLog(status: status, decision: "allow", upstream: upstream.map { $0.server.authority } ?? "")
    }

    private func onReadable() {
        switch phase {
        case .waitingHead:
            processInput()
        case .proxying:
            if requestBody.isActive {
                pumpRequestBody()
            } else if hangupSeen {
                clientAborted()
            }
        case .tunnel:
            pumpTunnelFromClient()
        case .closing, .awaitingKeys:
            break
        case .lingering:
            discardInput()
        }
    }

    /// Reads what is available into `input` (up to the head limit while waiting for a head).
    /// End-of-stream is remembered in `clientEnded`: requests already received are still
    /// answered, then the connection closes.
    func readInput() {
        while readable {
            switch readAvailable(into: input) {
            case .progress:
                if input.readableCount > runtime.config.limits.maxHeadBytes { return }
            case .blocked:
                break
            case .ended, .failed:
                clientEnded = true
            }
        }
    }

    /// Parses and handles every complete request in `input`, in order (pipelining), then
    /// writes what was answered. Not re-entered: answers written meanwhile only flush.
    func processInput() {
        guard !inProcessInput else { return }
        inProcessInput = true
        defer { inProcessInput = false }
        // Answers stop at the high-water mark; when writing them makes room again, go on with
        // the requests still waiting (no readiness edge would announce them).
        while parseAndHandleRequests() && !isClosed && !output.isEmpty {
            flushOutput()
            guard !isClosed, phase == .waitingHead, output.readableCount <= Self.highWater else { return }
        }
        if !isClosed && !output.isEmpty { flushOutput() }
    }

    /// The body of `processInput`. - Returns: true when it stopped because the pending
    /// answers reached the high-water mark (more requests may be waiting).
    private func parseAndHandleRequests() -> Bool {
        while phase == .waitingHead && !isClosed {
            if input.isEmpty && readable { readInput() }
            if input.isEmpty {
                if clientEnded || loop.isDraining {
                    closeWhenFlushed()
                    return false
                }
                deadline = loop.now + runtime.config.limits.idleTimeout.milliseconds
                break
            }
            if output.readableCount > Self.highWater { return true }   // resume when the client reads
            if awaitingFirstHeadByte {
                awaitingFirstHeadByte = false
                deadline = loop.now + loop.runtime.config.limits.headTimeout.milliseconds
            }
            let complete: Bool
            do {
                complete = try parser.parse(input.readableBytes, into: &head)
            } catch {
                logReason = "bad_request"
                respondError(GatewayError(error), close: true)
                return false
            }
            if !complete {
                if readable {
                    readInput()
                    continue
                }
                if clientEnded { close() }   // a partial head and then end-of-stream
                break
            }
            startRequest()
        }
        return false
    }

    // MARK: Requests

    /// A complete head is in `input`: route it and answer or start forwarding.
    private func startRequest() {
        // A request resumed after waiting for keys keeps its snapshot, start time and id.
        let resumed = keyWaitDeadline != 0
        if !resumed {
            runtime = loop.runtime
            requestStart = loop.now
            sendTimeoutMilliseconds = runtime.config.limits.sendTimeout.milliseconds
        }
        method = head.method
        clientMinorVersion = head.minorVersion
        keepAlive = head.wantsKeepAlive && !loop.isDraining && !clientEnded
        bytesToClient = 0
        route = nil
        identity = nil
        identityRenderKey = .none
        renderedIdentity = nil
        rateLimitHeaders.removeAll(keepingCapacity: true)
        requestClientAddress = nil
        logReason = ""
        loggedPath.removeAll(keepingCapacity: true)
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
        guard normalizePath(UnsafeRawBufferPointer(rebasing: bytes[head.path.start..<head.path.start + head.path.count])) else {
            return reject(.invalidRequest, reason: "bad_path")
        }
        if isAdmin { return answerAdmin() }
        if let decisionPath = runtime.decisionPath, loop.pathScratch == decisionPath { return answerDecision(bytes) }

        switch routeAndDecideAccess(bytes: bytes, query: head.query) {
        case .allow: break
        case .waitForKeys: return waitForKeys()
        case .reject(let error, let reason): return reject(error, reason: reason)
        }
        // routeAndDecideAccess sets `route` whenever it allows.
        guard let matched = route else { return reject(.routeNotFound, reason: "route_not_found") }
        switch matched.action {
        case .deny:
            reject(.accessDenied, reason: "route_denied")
        case .respond(let status, let body):
            answerLocally(status: status, contentType: "text/plain; charset=utf-8", body: body)
        case .upstream(let index):
            if let length = head.contentLength, length > runtime.config.limits.maxBodyBytes {
                return reject(.payloadTooLarge, reason: "body_too_large")
            }
            startForwarding(to: runtime.upstreams[index])
        }
    }

    /// Normalizes a request path (empty means `/`) into `loop.pathScratch` (SPEC §4) and keeps
    /// it for the access log. - Returns: false for a path that must be refused with 400.
    func normalizePath(_ path: UnsafeRawBufferPointer) -> Bool {
        do {
            if path.isEmpty {
                try Self.rootPath.withUnsafeBytes { try PathNormalizer.normalize($0, into: &loop.pathScratch) }
            } else {
                try PathNormalizer.normalize(path, into: &loop.pathScratch)
            }
        } catch {
            loggedPath.removeAll(keepingCapacity: true)   // never log a half-normalized path
            return false
        }
        if loop.accessLog.sink != nil {
            loggedPath.removeAll(keepingCapacity: true)
            loggedPath.append(contentsOf: loop.pathScratch)
        }
        return true
    }

    private static let rootPath: [UInt8] = [UInt8(ascii: "/")]

    /// Parks the request until the JWKS fetch its unknown `kid` asked for is done, without
    /// blocking the loop: the loop calls `resumeAfterKeys` after the fetch, or the deadline
    /// sweep does when the wait (bounded by the fetch timeouts) runs out.
    func waitForKeys() {
        if keyWaitDeadline == 0 { keyWaitDeadline = loop.now + loop.shared.keyWaitMilliseconds }
        phase = .awaitingKeys
        deadline = keyWaitDeadline
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
        requestID.removeAll(keepingCapacity: true)
        if let field = head.headers.first(where: { $0.name == .xRequestId }), field.valueCount > 0, field.valueCount <= 128,
           runtime.trusts(peer) {
            let value = bytes[field.valueStart..<field.valueStart + field.valueCount]
            if value.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
                requestID.append(contentsOf: value)
                return
            }
        }
        loop.shared.requestIDs.appendNext(to: &requestID)
    }

    private func answerAdmin() {
        if loop.pathScratch.elementsEqual("/healthz".utf8) {
            guard method == .get || method == .head else {
                return reject(.methodNotAllowed(allow: [MethodSet(.get), MethodSet(.head)]), reason: "method_not_allowed")
            }
            answerLocally(status: 200, contentType: "text/plain; charset=utf-8", body: Array("ok\n".utf8))
        } else {
            reject(.routeNotFound, reason: "route_not_found")
        }
    }

    /// Answers the current request with a gateway error (the head stays consumed; a body the
    /// client may still send makes the connection close after the answer).
    /// Answers the request with a gateway error (SPEC §12), followed by the rate-limit lines.
    /// - Parameters:
    ///   - status: answered instead of the error's own (the decision endpoint's nginx-mode 403).
    ///   - extraHeaders: lines added before the rate-limit lines.
    ///   - aboutThisRequest: false when a 400 concerns a request the head only describes (the
    ///     decision endpoint), so this connection's framing is not in doubt.
    func reject(
        _ error: GatewayError, reason: String, status: Int? = nil, extraHeaders: [UInt8] = [], aboutThisRequest: Bool = true
    ) {
        logReason = reason
        keyWaitDeadline = 0
        // A malformed request closes the connection: nothing after it can be trusted to be framed
        // as the client meant (SPEC §14).
        let close = !consumeRequestForLocalAnswer() || (aboutThisRequest && error == .invalidRequest)
        ResponseWriter.appendError(
            error, requestID: requestID, close: close, date: loop.dateHeader(), status: status,
            extraHeaders: extraHeaders + rateLimitHeaders, headOnly: head.method == .head, to: output)
        finishLocalAnswer(status: status ?? error.status, close: close)
    }

    private func answerLocally(status: Int, contentType: StaticString, body: [UInt8]) {
        let close = !consumeRequestForLocalAnswer()
        ResponseWriter.appendResponse(
            status: status, contentType: contentType, body: body, requestID: requestID, close: close,
            date: loop.dateHeader(), extraHeaders: rateLimitHeaders, headOnly: method == .head, to: output)
        finishLocalAnswer(status: status, close: close)
    }

    /// Drops the head, and the body when it is already here in full.
    /// - Returns: whether the connection can carry another request.
    func consumeRequestForLocalAnswer() -> Bool {
        input.consume(head.headLength)
        parser.reset()
        awaitingFirstHeadByte = true
        if head.isChunked { return false }
        if let length = head.contentLength, length > 0 {
            guard Int64(input.readableCount) >= length else { return false }
            input.consume(Int(length))
        }
        return keepAlive
    }

    func finishLocalAnswer(status: Int, close: Bool) {
        bytesToClient = output.readableCount
        writeAccessLog(status: status, decision: status < 400 ? "allow" : "deny", upstream: "")
        head.reset()
        if close { closeWhenFlushed() }
    }

    /// Answers a parse error or timeout that has no request context, then closes.
    func respondError(_ error: GatewayError, close: Bool) {
        if phase == .waitingHead { loggedPath.removeAll(keepingCapacity: true) }
        if requestID.isEmpty || phase == .waitingHead {
            requestID.removeAll(keepingCapacity: true)
            loop.shared.requestIDs.appendNext(to: &requestID)
        }
        ResponseWriter.appendError(
            error, requestID: requestID, close: close, date: loop.dateHeader(), extraHeaders: rateLimitHeaders, to: output)
        writeAccessLog(status: error.status, decision: "deny", upstream: "")
        closeWhenFlushed()
    }

    /// The response to the current request is complete: log it and move on to the next one.
    func finishRequest(status: Int, decision: StaticString, upstreamText: String, close: Bool) {
        writeAccessLog(status: status, decision: decision, upstream: upstreamText)
        head.reset()
        parser.reset()
        awaitingFirstHeadByte = true
        requestBody = .none
        needsMoreChunkInput = false
        route = nil
        group = nil
        if close || !keepAlive {
            closeWhenFlushed()
            return
        }
        phase = .waitingHead
        processInput()
    }

    func writeAccessLog(status: Int, decision: StaticString, upstream: String) {
        guard loop.accessLog.sink != nil else { return }
        loop.accessLog.record(AccessLogEntry(
            requestID: String(decoding: requestID, as: UTF8.self),
            client: String(decoding: peerText, as: UTF8.self),
            method: method.name,
            path: String(decoding: loggedPath, as: UTF8.self),
            route: route?.pattern ?? "",
            status: status, decision: "\(decision)", reason: logReason,
            principal: identity?.userID ?? "", keyID: identity?.keyID ?? "", upstream: upstream,
            bytes: bytesToClient, durationMilliseconds: loop.now - requestStart))
    }

    // MARK: Output and closing

    /// Writes pending output. - Returns: false when the connection was closed.
    @discardableResult
    func flushOutput() -> Bool {
        guard writePending(output) else {
            abort()
            return false
        }
        if output.isEmpty {
            output.shrinkIfIdle(limit: 1 << 20, to: 8 * 1024)
            switch phase {
            case .closing:
                beginLinger()
                return false
            case .proxying:
                if upstreamPaused, let upstream { upstreamPaused = false; upstreamReadable(upstream) }
            case .tunnel:
                if let upstream, upstream.readable { pumpTunnelFromUpstream() }
            case .waitingHead:
                if !input.isEmpty || readable { processInput() }
            case .lingering, .awaitingKeys:
                break
            }
        }
        return !isClosed
    }

    /// Stops taking requests; closes once the pending output is written.
    func closeWhenFlushed() {
        if let upstream { upstream.close(); self.upstream = nil }
        phase = .closing
        deadline = loop.now + 5_000
        if output.isEmpty { beginLinger() } else { _ = flushOutput() }
    }

    /// Half-close and drain for a moment so the client reads our last response instead of a
    /// reset caused by unread request bytes.
    private func beginLinger() {
        if loop.isDraining || clientEnded { return close() }
        phase = .lingering
        Socket.shutdownWrite(fd)
        deadline = loop.now + 2_000
        discardInput()
    }

    private func discardInput() {
        while readable && !isClosed {
            input.clear()
            if readAvailable(into: input).endsStream { close() }
        }
    }

    /// Drops the connection at once (the client sees it end without a complete response).
    func abort() {
        if let upstream { upstream.close(); self.upstream = nil }
        close()
    }

    /// Draining (SIGTERM): an idle connection closes now; a busy one after its response.
    func drainIfIdle() {
        if phase == .waitingHead && input.isEmpty && output.isEmpty { close() }
    }

    override func close() {
        guard !isClosed else { return }
        if let upstream { upstream.close(); self.upstream = nil }
        loop.clientCount -= 1
        loop.shared.openConnections.subtract(1, ordering: .relaxed)
        super.close()
    }
}
