private import CGatewayLinux
private import Glibc

/// Interest and readiness flags (edge-triggered registration is the norm here).
package struct EpollEvents: OptionSet, Sendable {
    package let rawValue: UInt32
    package init(rawValue: UInt32) { self.rawValue = rawValue }
    package static let readable = EpollEvents(rawValue: GW_EPOLLIN)
    package static let writable = EpollEvents(rawValue: GW_EPOLLOUT)
    package static let readHangup = EpollEvents(rawValue: GW_EPOLLRDHUP)
    package static let hangup = EpollEvents(rawValue: GW_EPOLLHUP)
    package static let error = EpollEvents(rawValue: GW_EPOLLERR)
    package static let edgeTriggered = EpollEvents(rawValue: GW_EPOLLET)
}

/// One epoll instance and its event array. Loop-confined; owns the epoll descriptor.
package final class Epoll {
    private let fd: Int32
    private let events: UnsafeMutablePointer<gw_epoll_event>
    package let capacity = 512

    package init() throws(SystemError) {
        fd = gw_epoll_create()
        guard fd >= 0 else { throw SystemError.last("epoll_create1") }
        // Owned here and freed in deinit.
        events = .allocate(capacity: capacity)
    }

    deinit {
        events.deallocate()
        Glibc.close(fd)
    }

    package func add(_ target: Int32, _ interest: EpollEvents, token: UInt64) throws(SystemError) {
        guard gw_epoll_add(fd, target, interest.rawValue, token) == 0 else { throw SystemError.last("epoll_ctl add") }
    }

    package func modify(_ target: Int32, _ interest: EpollEvents, token: UInt64) {
        _ = gw_epoll_mod(fd, target, interest.rawValue, token)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever). - Returns: the number of events.
    package func wait(timeoutMilliseconds: Int32) -> Int {
        let n = gw_epoll_wait(fd, events, Int32(capacity), timeoutMilliseconds)
        return n < 0 ? 0 : Int(n)
    }

    /// The `index`-th event of the last `wait`.
    @inline(__always)
    package func event(_ index: Int) -> (token: UInt64, events: EpollEvents) {
        let e = events[index]
        return (e.data, EpollEvents(rawValue: e.events))
    }
}

/// An eventfd used to wake an event loop from another thread.
package final class WakeupFD: Sendable {
    package let fd: Int32
    package init() throws(SystemError) {
        fd = gw_eventfd()
        guard fd >= 0 else { throw SystemError.last("eventfd") }
    }
    deinit { Glibc.close(fd) }

    /// Any thread: makes the descriptor readable.
    package func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    /// Loop thread: resets the counter.
    package func drain() {
        var value: UInt64 = 0
        _ = Glibc.read(fd, &value, 8)
    }
}
