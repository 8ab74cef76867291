private import CGatewayLinux
internal import Glibc

/// Outcome of a non-blocking read.
package enum ReadResult: Equatable {
    case bytes(Int)
    case end
    case wouldBlock
    case failed(Int32)
}

/// Outcome of a non-blocking write.
package enum WriteResult: Equatable {
    case bytes(Int)
    case wouldBlock
    case failed(Int32)
}

/// Non-blocking TCP socket operations on raw descriptors. The descriptor's owner (a channel
/// object) calls `close` exactly once. `EINTR` is retried; `EAGAIN` is `.wouldBlock`.
package enum Socket {
    /// Creates a listening socket bound to `address` (SO_REUSEADDR; SO_REUSEPORT when
    /// `reusePort`, so each event loop can have its own accept queue).
    package static func listen(_ address: SocketAddress, reusePort: Bool, backlog: Int32 = 1024) throws(SystemError) -> Int32 {
        let fd = Glibc.socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.last("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if address.isIPv6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        if bound != 0 {
            let error = SystemError.last("bind \(address)")
            Glibc.close(fd)
            throw error
        }
        if Glibc.listen(fd, backlog) != 0 {
            let error = SystemError.last("listen \(address)")
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// Fails when another socket already listens on `address`, whoever owns it.
    ///
    /// The event loops' listeners share their port through SO_REUSEPORT, which the kernel would
    /// also grant to any other process of the same user: a second gateway would silently take
    /// half the connections. A probe bound without SO_REUSEPORT (SO_REUSEADDR only, so sockets
    /// in TIME_WAIT do not count) is refused while anything listens there, as nginx would be.
    /// - Throws: `bind ADDRESS: Address already in use` (or the bind error met).
    package static func ensureNobodyListens(on address: SocketAddress) throws(SystemError) {
        guard address.port != 0 else { return }   // a port the kernel picks is free by definition
        let fd = Glibc.socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.last("socket") }
        defer { Glibc.close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.isIPv6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        if bound != 0 { throw SystemError.last("bind \(address)") }
    }

    /// The address a socket is bound to (to learn the port after binding port 0).
    package static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return nil }
        return withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!) }
    }

    /// Accepts one connection (non-blocking, close-on-exec, TCP_NODELAY set).
    /// - Returns: the descriptor and peer, or nil when the queue is empty or accept failed
    ///   for a reason that concerns only that connection.
    package static func accept(_ listener: Int32) -> (fd: Int32, peer: SocketAddress)? {
        var storage = sockaddr_storage()
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { gw_accept4(listener, $0, &length) }
            }
            if fd >= 0 {
                setNoDelay(fd)
                let peer = withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!) }
                return (fd, peer ?? SocketAddress(address: [0, 0, 0, 0], port: 0))
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO: continue
            default: return nil
            }
        }
    }

    /// Starts a non-blocking connect. - Returns: the descriptor; completion is signalled by
    /// writability and `connectError` tells the outcome.
    package static func connect(_ address: SocketAddress) throws(SystemError) -> Int32 {
        let fd = Glibc.socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.last("socket") }
        setNoDelay(fd)
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 && errno != EINPROGRESS {
            let error = SystemError.last("connect")
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// The pending error of a socket (0 when a connect succeeded).
    package static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }

    @inline(__always)
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        while true {
            let n = Glibc.recv(fd, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .end }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed(errno)
            }
        }
    }

    @inline(__always)
    package static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> WriteResult {
        while true {
            let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .bytes(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed(errno)
            }
        }
    }

    /// Half-closes the sending side (the peer reads end-of-stream after our last bytes).
    package static func shutdownWrite(_ fd: Int32) { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    package static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Makes the coming `close` send a TCP reset instead of a FIN (SO_LINGER with a zero
    /// timeout; unsent bytes are dropped). A reset is the only end a peer reading until close
    /// (an HTTP/1.0 client, a tunnel) cannot take for a complete message.
    package static func resetOnClose(_ fd: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    private static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
