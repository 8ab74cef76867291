import GatewayHTTP
import GatewaySupport
import GatewaySystem

/// A connection to one upstream server: connecting, serving one client request at a time, or
/// idle in its loop's keep-alive pool. Loop-confined; the client connection drives it.
final class UpstreamConnection: Channel {
    let server: UpstreamServer
    let input = ByteBuffer(capacity: 16 * 1024)
    let output = ByteBuffer(capacity: 4 * 1024)
    var parser = ResponseHeadParser()
    var head = ResponseHead()
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
            guard writable || !events.isDisjoint(with: [.hangup, .error]) else { return }
            let error = Socket.pendingError(fd)
            if error != 0 {
                client?.upstreamConnectFailed(self)
                return
            }
            isConnecting = false
            deadline = 0
            client?.upstreamConnected(self)
            return
        }
        guard let client else {
            // Idle in the pool: any readiness means the server closed it or sent garbage.
            if readable { retire() }
            return
        }
        if writable && !output.isEmpty { client.upstreamWritable(self) }
        if readable && self.client != nil { client.upstreamReadable(self) }
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

    /// Hands the connection back to the pool of its server (or closes it when the pool is
    /// full or the gateway is draining).
    func release(idleTimeoutMilliseconds: Int64) {
        client = nil
        parser.reset()
        head.reset()
        input.clear()
        output.clear()
        sendDeadline = 0
        wasReused = true
        if loop.isDraining || server.generation != loop.runtime.generation || !server.pools[loop.id].put(self) {
            close()
            return
        }
        deadline = loop.now + idleTimeoutMilliseconds
        if readable || hangupSeen { retire() }
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
