import GatewayHTTP
import GatewaySupport
import GatewaySystem
import GatewayTLS

/// A connection to one upstream server: connecting, serving one client request at a time, or
/// idle in its loop's keep-alive pool. Loop-confined; the client connection drives it.
final class UpstreamConnection: Channel {
    let server: UpstreamServer
    /// Small to start with; the input grows while a large response streams (`readSize`) and
    /// both shrink back when the connection returns to the pool.
    let input = ByteBuffer(capacity: Channel.firstReadSize)
    let output = ByteBuffer(capacity: 2 * 1024)
    var parser = ResponseHeadParser()
    var head = ResponseHead()
    /// Connecting, and for an HTTPS server handshaking: the connect deadline covers both.
    private(set) var isConnecting = true
    /// Served at least one response before the current one (a stale keep-alive connection may
    /// fail without the server being at fault).
    var wasReused = false
    /// The client this connection works for; nil while idle in the pool. Cleared on release,
    /// which breaks the reference cycle.
    var client: ClientConnection?

    /// Starts connecting to `server`. - Throws: when the socket cannot even be created.
    init(loop: EventLoop, server: UpstreamServer) throws(SystemError) {
        self.server = server
        let fd = try Socket.connect(server.address)
        super.init(loop: loop, fd: fd)
        do {
            try loop.register(self)
        } catch {
            Socket.close(fd)
            throw error
        }
    }

    override func handle(_ events: EpollEvents) {
        noteReadiness(events)
        if isConnecting {
            connectProgressed(events)
            return
        }
        guard let client else {
            // Idle in the pool: any readiness means the server closed it or sent garbage
            // (over TLS, unless it was only a protocol record such as a late session ticket).
            if readable && !(tls != nil && idleTLSRecordOnly()) { retire() }
            return
        }
        if writable && !output.isEmpty { client.upstreamWritable(self) }
        if readable && self.client != nil { client.upstreamReadable(self) }
    }

    /// The TCP connect finished (or failed); for an HTTPS server the handshake then runs on
    /// the following readiness events, the certificate checked against the server's name.
    private func connectProgressed(_ events: EpollEvents) {
        if tls == nil {
            guard writable || !events.isDisjoint(with: [.hangup, .error]) else { return }
            if Socket.pendingError(fd) != 0 { return connectFailed(reason: "") }
            if let context = server.tls {
                guard let session = context.session(fd: fd, serverName: server.tlsServerName) else {
                    return connectFailed(reason: "cannot start TLS")
                }
                tls = session
            }
        }
        if let tls {
            switch tls.handshake() {
            case .bytes:
                break
            case .wantRead, .wantWrite:
                return
            case .closed:
                return connectFailed(reason: "TLS handshake: connection closed")
            case .failed:
                return connectFailed(reason: "TLS handshake: " + tls.failureReason)
            }
        }
        isConnecting = false
        deadline = 0
        client?.upstreamConnected(self)
    }

    /// Why the last connect failed (a TLS verification error, for the log); "" for TCP.
    private(set) var failureReason = ""

    private func connectFailed(reason: String) {
        failureReason = reason
        client?.upstreamConnectFailed(self)
    }

    override func deadlinePassed() {
        if let client {
            client.upstreamDeadlinePassed(self)
        } else {
            retire()
        }
    }

    /// The server stopped taking the request (body) for its group's `send_timeout`.
    override func sendTimedOut() {
        if let client {
            client.upstreamSendTimedOut(self)
        } else {
            retire()
        }
    }

    /// Writes pending output. - Returns: false when the connection failed.
    func flush() -> Bool { writePending(output) }

    /// Hands the connection back to the pool of its server (or closes it when the gateway is
    /// draining or keeps no idle connections).
    func release(idleTimeoutMilliseconds: Int64) {
        client = nil
        parser.reset()
        head.reset()
        input.clear()
        output.clear()
        input.shrinkIfIdle(limit: 16 * 1024, to: Channel.firstReadSize)
        output.shrinkIfIdle(limit: 16 * 1024, to: 2 * 1024)
        resetReadSize()
        sendDeadline = 0
        wasReused = true
        guard !loop.isDraining && server.generation == loop.runtime.generation else { return close() }
        let pool = server.pools[loop.id]
        switch pool.put(self) {
        case .refused: return close()
        case .kept: break
        case .keptBeyondCapacity: loop.trimAtPassEnd(pool)
        }
        deadline = loop.now + idleTimeoutMilliseconds
        if readable || hangupSeen { retire() }
    }

    /// Reads what woke an idle TLS connection. - Returns: true when it carried no
    /// application data (the connection stays usable).
    private func idleTLSRecordOnly() -> Bool {
        guard readAvailable(into: input) == .blocked else { return false }
        return input.isEmpty
    }

    /// Closes an idle connection and forgets it.
    private func retire() {
        server.pools[loop.id].remove(self)
        close()
    }

    override func close() {
        client = nil
        super.close()
    }
}
