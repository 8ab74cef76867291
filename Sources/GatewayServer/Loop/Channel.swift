import GatewaySystem

/// Something registered with an event loop: a listener, a client connection, an upstream
/// connection or the wake-up descriptor. Loop-confined for its whole life.
///
/// Registration is edge-triggered: `readable`/`writable` remember readiness until an I/O call
/// reports `wouldBlock` (or a short transfer), so a paused side can resume without a new event.
class Channel {
    // The loop outlives every channel it owns (it closes them all before returning from run).
    unowned(unsafe) let loop: EventLoop
    let fd: Int32
    /// Index in `loop.channels` (swap-removed on close).
    var slot = -1
    private(set) var isClosed = false
    /// Monotonic milliseconds at which `deadlinePassed` runs; 0 for none.
    var deadline: Int64 = 0
    var readable = false
    var writable = false

    init(loop: EventLoop, fd: Int32) {
        self.loop = loop
        self.fd = fd
    }

    /// Readiness reported by epoll. Subclasses override.
    func handle(_ events: EpollEvents) {}

    /// The deadline passed. Subclasses override.
    func deadlinePassed() {}

    /// Deregisters and closes the descriptor (once); the object is released after the current
    /// batch of events so a stale event for it is ignored, never dispatched to freed memory.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        deadline = 0
        loop.unregister(self)
    }
}

@available(*, unavailable)
extension Channel: Sendable {}
