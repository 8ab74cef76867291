/// Idle keep-alive connections to one server, for one loop (most recently used first out).
///
/// Within one pass of the loop the pool may hold more than `capacity`: a response that ends in
/// the same pass as a request waiting for a connection (`EventLoop.waitForUpstream`) hands its
/// connection over instead of one being closed while another is opened. With thousands of
/// busy clients and a small `keepalive`, that is most of the difference in upstream connects
/// (each one a search of the ephemeral ports among the TIME_WAIT sockets). `trim` brings the
/// pool back to `capacity` at the pass's end, closing the least recently used.
final class IdlePool {
    private var connections: [UpstreamConnection] = []
    let capacity: Int

    /// What `put` did with a connection.
    enum Admission {
        /// `keepalive 0`: nothing is kept; the caller closes the connection.
        case refused
        case kept
        /// Kept, and the pool is now over `capacity`: the loop trims it at the pass's end.
        case keptBeyondCapacity
    }

    init(capacity: Int) {
        self.capacity = capacity
        connections.reserveCapacity(min(capacity, 64))
    }

    func take() -> UpstreamConnection? {
        while let connection = connections.popLast() {
            if !connection.isClosed { return connection }
        }
        return nil
    }

    func put(_ connection: UpstreamConnection) -> Admission {
        guard capacity > 0 else { return .refused }
        connections.append(connection)
        return connections.count == capacity + 1 ? .keptBeyondCapacity : .kept
    }

    /// Closes the least recently used connections beyond `capacity`.
    func trim() {
        let excess = connections.count - capacity
        guard excess > 0 else { return }
        let surplus = connections[..<excess]
        connections.removeFirst(excess)
        for connection in surplus { connection.close() }
    }

    func remove(_ connection: UpstreamConnection) {
        if let i = connections.firstIndex(where: { $0 === connection }) { connections.remove(at: i) }
    }

    func closeAll() {
        let idle = connections
        connections.removeAll()
        for connection in idle { connection.close() }
    }
}
