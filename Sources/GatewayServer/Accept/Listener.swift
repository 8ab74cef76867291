import GatewaySupport
import Synchronization
import GatewayCore
import GatewaySystem
import GatewayTLS

/// A listening socket owned by one event loop (each loop has its own, via SO_REUSEPORT, so
/// the kernel spreads connections and no accept lock is shared).
final class Listener: Channel {
    let isAdmin: Bool
    /// The position of this listener's address in `listen` (its TLS settings live there);
    /// unused for the admin listener.
    let listenIndex: Int
    private var lastRefusalLog: Int64 = 0

    init(loop: EventLoop, fd: Int32, isAdmin: Bool, listenIndex: Int = 0) {
        self.isAdmin = isAdmin
        self.listenIndex = listenIndex
        super.init(loop: loop, fd: fd)
    }

    override func handle(_ events: EpollEvents) {
        // Edge-triggered: accept until the queue is empty.
        while let (fd, peer) = Socket.accept(fd) {
            let limit = loop.runtime.config.limits.maxConnections
            if loop.shared.openConnections.add(1, ordering: .relaxed).newValue > limit || loop.isDraining {
                loop.shared.openConnections.subtract(1, ordering: .relaxed)
                Socket.close(fd)
                if loop.now - lastRefusalLog > 1000 {
                    lastRefusalLog = loop.now
                    loop.logger.warning("connection limit reached: closing new connections", [("limit", "\(limit)")])
                }
                continue
            }
            // The certificates of the current configuration: a reload changes them for new
            // connections; open ones keep the session they started with.
            var session: TLSSession? = nil
            if let tls = loop.runtime.serverTLS(isAdmin: isAdmin, listenIndex: listenIndex) {
                session = tls.session(fd: fd)
                if session == nil {
                    loop.shared.openConnections.subtract(1, ordering: .relaxed)
                    Socket.close(fd)
                    continue
                }
            }
            let client = ClientConnection(loop: loop, fd: fd, peer: peer, isAdmin: isAdmin, tls: session)
            do {
                try loop.register(client)
                loop.clientCount += 1
            } catch {
                loop.shared.openConnections.subtract(1, ordering: .relaxed)
                Socket.close(fd)
            }
        }
    }
}
