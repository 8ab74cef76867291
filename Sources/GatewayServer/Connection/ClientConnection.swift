import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem
import GatewayTLS
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
        /// A token-service request whose body (bounded, `OAuthParameters.maxBodyBytes`) is
        /// still arriving; `ClientConnection+Token` reads it whole before deciding.
        case collectingBody
        /// A token-service request waits for the store's answer (`StoreWorker`); the head and
        /// body stay in `input` until it is answered.
        case awaitingStore
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
    /// Small to start with (a request head, a response head and a small body fit); they grow
    /// with what is in flight and shrink back when the connection idles (`flushOutput`).
    let input = ByteBuffer(capacity: Channel.firstReadSize)
    let output = ByteBuffer(capacity: 2 * 1024)
    var phase = Phase.waitingHead
    /// True between requests: the head deadline starts with the next request's first byte.
    var awaitingFirstHeadByte = false
    /// The client sent end-of-stream: finish what it asked, then close.
    var clientEnded = false
    /// When the connection closes after its last answer: whether the client may still be
    /// sending (a body not read in full, a malformed request), so the close lingers.
    private var lingerBeforeClose = true
    private var inProcessInput = false
    var parser: RequestHeadParser
    var head = RequestHead()

    var runtime: Runtime
    /// The current request (valid from `startRequest` to `finishRequest`).
    var request = CurrentRequest()
    /// What the pipeline keeps per connection (the credential memo) and leaves per request
    /// (the rate-limit lines for the response).
    var accessState = AccessState()
    /// Bytes written to the client over the connection's life (see `CurrentRequest.responseStartMark`).
    var bytesWritten = 0
    /// The client certificate the TLS handshake verified, read once at the first request
    /// (no renegotiation: it cannot change); nil on plain connections.
    lazy var peerCertificate: PeerCertificate? = tls?.verifiedPeerCertificate

    // Forwarding state (see ClientConnection+Proxy.swift).
    var upstream: UpstreamConnection? = nil
    /// The forwarded request's state: replaced when forwarding starts, reset when it ends.
    var forward = Forwarding()
    /// The upstream request head being built (its capacity reused across requests).
    var upstreamRequestHead: [UInt8] = []

    /// - Parameter tls: the listener's certificates, for a TLS listener; the handshake runs
    ///   inside the first reads, under the head deadline set here.
    init(loop: EventLoop, fd: Int32, peer: SocketAddress, isAdmin: Bool, tls: TLSSession? = nil) {
        self.peer = peer
        peerText = Array(peer.hostText.utf8)
        self.isAdmin = isAdmin
        runtime = loop.runtime
        let limits = runtime.config.limits
        parser = RequestHeadParser(maxHeadBytes: limits.maxHeadBytes, maxHeaderCount: limits.maxHeaders)
        super.init(loop: loop, fd: fd)
        self.tls = tls
        deadline = loop.now + limits.headTimeout.milliseconds
        request.start = loop.now
        request.startMicros = MonotonicClock.nowMicroseconds()
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
                request.logReason = "head_timeout"
                respondError(.requestTimeout, close: true)
            }
        case .closing, .lingering:
            close()
        case .awaitingKeys:
            loop.stopWaitingForKeys(self)
            resumeAfterKeys()
        case .collectingBody:
            reject(.requestTimeout, reason: "body_timeout")   // the body is incomplete: closes
        case .awaitingStore:
            storeWaitTimedOut()
        case .tunnel:
            abort()   // no byte either way for the tunnel idle timeout: both ends close
        case .proxying:
            if forward.body.isActive { requestBodyTimedOut() }
        }
    }

    /// The client has not taken any of the pending output for `send_timeout`: both ends close,
    /// and the upstream connection is not reused (its response is unfinished).
    override func sendTimedOut() {
        if phase == .proxying { endInFlightRequest(status: forward.responseStarted ? forward.responseStatus : 408, reason: "send_timeout") }
        abort()
    }

    /// The client closed or reset its connection while its request was being forwarded: the
    /// upstream connection closes at once, so the upstream stops working for nobody (a
    /// cancelled streaming completion stops generating), as nginx does by default. Logged with
    /// reason `client_abort` and, as nginx does, 499 unless a response status was already sent.
    func clientAborted() {
        endInFlightRequest(status: forward.responseStarted ? forward.responseStatus : 499, reason: "client_abort")
        abort()
    }

    /// Writes the access-log line of a forwarded request that ends without its response.
    private func endInFlightRequest(status: Int, reason: String) {
        request.logReason = reason
        writeAccessLog(status: status, decision: .allow, upstream: upstream.map { $0.server.authority } ?? "")
    }

    private func onReadable() {
        switch phase {
        case .waitingHead:
            processInput()
        case .proxying:
            if forward.body.isActive {
                pumpRequestBody()
            } else if hangupSeen {
                clientAborted()
            }
        case .tunnel:
            pumpTunnelFromClient()
        case .collectingBody:
            continueCollectingBody()
            // Answered at once (not parked on the store): write it, go on with what follows.
            if phase == .waitingHead && !isClosed { processInput() }
        case .closing, .awaitingKeys, .awaitingStore:
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
            case .ended:
                clientEnded = true
            case .failed:
                if let tls, tls.sawPlainHTTP { return answerPlainHTTPOnTLSPort() }
                clientEnded = true
            }
        }
    }

    /// A plain HTTP request reached a TLS listener: a plaintext 400 (what the client can
    /// read), then the connection closes. The TLS session is dropped, so the answer goes out
    /// as written.
    private func answerPlainHTTPOnTLSPort() {
        tls = nil
        request.logReason = "plain_http_on_tls_port"
        respondError(.invalidRequest, close: true)
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
                // Between requests the keep-alive idle timeout runs; a new connection keeps the
                // head deadline set at accept (it also bounds a TLS handshake, which reads
                // records without producing request bytes).
                if awaitingFirstHeadByte { deadline = loop.now + runtime.config.limits.idleTimeout.milliseconds }
                break
            }
            if output.readableCount > Self.highWater { return true }   // resume when the client reads
            if awaitingFirstHeadByte {
                awaitingFirstHeadByte = false
                request.start = loop.now
                request.startMicros = MonotonicClock.nowMicroseconds()
                deadline = loop.now + loop.runtime.config.limits.headTimeout.milliseconds
            }
            let complete: Bool
            do {
                complete = try parser.parse(input.readableBytes, into: &head)
            } catch {
                request.logReason = "bad_request"
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

    // MARK: Output and closing

    /// Writes pending output. - Returns: false when the connection was closed.
    @discardableResult
    func flushOutput() -> Bool {
        let pending = output.readableCount
        let written = writePending(output)
        bytesWritten += pending - output.readableCount
        guard written else {
            abort()
            return false
        }
        if output.isEmpty {
            output.shrinkIfIdle(limit: 64 * 1024, to: 2 * 1024)
            if input.isEmpty && phase == .waitingHead {
                input.shrinkIfIdle(limit: 16 * 1024, to: Channel.firstReadSize)
                resetReadSize()
            }
            switch phase {
            case .closing:
                beginLinger()
                return false
            case .proxying:
                if forward.upstreamPaused, let upstream { forward.upstreamPaused = false; upstreamReadable(upstream) }
            case .tunnel:
                if let upstream, upstream.readable { pumpTunnelFromUpstream() }
            case .waitingHead:
                if !input.isEmpty || readable { processInput() }
            case .lingering, .awaitingKeys, .collectingBody, .awaitingStore:
                break
            }
        }
        return !isClosed
    }

    /// Stops taking requests; closes once the pending output is written.
    /// - Parameter linger: the client may still be sending (see `beginLinger`); false when the
    ///   last request was read in full.
    func closeWhenFlushed(linger: Bool = true) {
        if let upstream { upstream.close(); self.upstream = nil }
        phase = .closing
        lingerBeforeClose = linger
        deadline = loop.now + 5_000
        if output.isEmpty { beginLinger() } else { _ = flushOutput() }
    }

    /// Half-close and drain for a moment so the client reads our last response instead of a
    /// reset caused by unread request bytes. As nginx's `lingering_close on`, only when more
    /// bytes may come: after a request read in full with nothing more pending, the connection
    /// closes at once (a TLS client gets close_notify first), which spares a `Connection: close`
    /// or HTTP/1.0 client a round of the loop per connection.
    private func beginLinger() {
        let nothingMoreExpected = !lingerBeforeClose && input.isEmpty && !readable
        if loop.isDraining || clientEnded || nothingMoreExpected {
            tls?.shutdown()
            return close()
        }
        phase = .lingering
        shutdownOutput()
        deadline = loop.now + 2_000
        discardInput()
    }

    private func discardInput() {
        while readable && !isClosed {
            input.clear()
            if readAvailable(into: input).endsStream { close() }
        }
    }

    /// Drops the connection at once with a TCP reset, so the client sees it end without a
    /// complete response even when the response is delimited by the close (HTTP/1.0 clients,
    /// bodies without framing) and TLS is not there to miss a close_notify.
    func abort() {
        if let upstream { upstream.close(); self.upstream = nil }
        if !isClosed { Socket.resetOnClose(fd) }
        close()
    }

    /// Draining (SIGTERM): an idle connection closes now; a busy one after its response.
    func drainIfIdle() {
        if phase == .waitingHead && input.isEmpty && output.isEmpty { close() }
    }

    override func close() {
        guard !isClosed else { return }
        if let upstream { upstream.close(); self.upstream = nil }
        if phase == .awaitingStore { loop.forgetStoreJob(request.storeTicket) }
        loop.clientCount -= 1
        loop.shared.openConnections.subtract(1, ordering: .relaxed)
        super.close()
    }
}
