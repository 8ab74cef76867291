internal import Glibc
import GatewaySupport
import Dispatch
import Synchronization

/// What a bounded wait on one socket saw.
package enum SocketWaitResult: Equatable {
    /// The socket is ready (or has an error or hang-up the next call will report).
    case ready
    case timedOut
    case failed(Int32)
}

extension Socket {
    /// Blocks the calling thread until `fd` is readable (or writable, when `writable`), at most
    /// `timeoutMilliseconds`. For control-plane threads (the JWKS fetcher), never an event loop.
    /// `EINTR` is retried with the time left.
    package static func wait(_ fd: Int32, writable: Bool, timeoutMilliseconds: Int64) -> SocketWaitResult {
        let deadline = MonotonicClock.nowMilliseconds() + max(0, timeoutMilliseconds)
        var entry = pollfd(fd: fd, events: Int16(writable ? POLLOUT : POLLIN), revents: 0)
        while true {
            let left = deadline - MonotonicClock.nowMilliseconds()
            guard left > 0 else { return .timedOut }
            let rc = poll(&entry, 1, Int32(min(left, Int64(Int32.max))))
            if rc > 0 { return .ready }
            if rc == 0 { return .timedOut }
            if errno != EINTR { return .failed(errno) }
        }
    }
}

extension SocketAddress {
    /// Resolves a host name (or literal) to TCP addresses with the system resolver.
    ///
    /// Blocking and unbounded in time (getaddrinfo has no timeout): control-plane threads
    /// only. The request path never resolves names; upstreams are addresses (SPEC §3).
    /// - Returns: the addresses in resolver order, or the resolver's message.
    package static func resolve(host: String, port: UInt16) -> Result<[SocketAddress], ResolveError> {
        if let literal = SocketAddress(host: host, port: port) { return .success([literal]) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0 else {
            return .failure(ResolveError(message: "resolve \(host): \(String(cString: gai_strerror(rc)))"))
        }
        // `list` is owned here and freed once, after every entry was copied out.
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let raw = current.pointee.ai_addr, var address = SocketAddress(storage: UnsafeRawPointer(raw)) {
                address.port = port
                if !addresses.contains(address) { addresses.append(address) }
            }
            entry = current.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(ResolveError(message: "resolve \(host): no address")) : .success(addresses)
    }
}

extension SocketAddress {
    /// `resolve(host:port:)` bounded in time: the system resolver runs on a helper thread,
    /// and a lookup that has not finished after `timeoutMilliseconds` fails here (the helper
    /// finishes in the background and its answer is dropped), so a dead DNS server cannot
    /// stall the caller past its budget.
    package static func resolve(host: String, port: UInt16, timeoutMilliseconds: Int64) -> Result<[SocketAddress], ResolveError> {
        if let literal = SocketAddress(host: host, port: port) { return .success([literal]) }
        let answer = ResolveAnswer()
        OSThread.start { answer.deliver(resolve(host: host, port: port)) }.detach()
        guard answer.done.wait(timeout: .now() + .milliseconds(Int(max(1, timeoutMilliseconds)))) == .success,
              let result = answer.result
        else { return .failure(ResolveError(message: "resolve \(host): timed out")) }
        return result
    }
}

/// The hand-over between a bounded lookup and its helper thread.
private final class ResolveAnswer: Sendable {
    let done = DispatchSemaphore(value: 0)
    private let value = Mutex<Result<[SocketAddress], ResolveError>?>(nil)
    var result: Result<[SocketAddress], ResolveError>? { value.withLock { $0 } }
    func deliver(_ result: Result<[SocketAddress], ResolveError>) {
        value.withLock { $0 = result }
        done.signal()
    }
}

/// A host name that did not resolve: the resolver's message (safe to log).
package struct ResolveError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
