import GatewaySupport
import Synchronization
import GatewayCore
import GatewaySystem

/// A listening socket owned by one event loop (each loop has its own, via SO_REUSEPORT, so
/// the kernel spreads connections and no accept lock is shared).
final class Listener: Channel {
    let isAdmin: Bool
    private var lastRefusalLog: Int64 = 0

    init(loop: EventLoop, fd: Int32, isAdmin: Bool) {
        self.isAdmin = isAdmin
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
            let client = ClientConnection(loop: loop, fd: fd, peer: peer, isAdmin: isAdmin)
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
