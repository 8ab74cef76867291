import GatewaySupport
import GatewaySystem
import GatewayTLS

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
    /// Monotonic milliseconds by which pending output must make progress, else `sendTimedOut`
    /// runs (nginx `send_timeout`: the time between two successful writes); 0 while nothing
    /// waits to be written. Kept apart from `deadline`, which the phases use for themselves.
    var sendDeadline: Int64 = 0
    /// The send timeout in milliseconds; 0 turns it off.
    var sendTimeoutMilliseconds: Int64 = 0
    var readable = false
    var writable = false
    /// epoll reported a hang-up: the end of stream may sit right behind the data, and no new
    /// edge will announce it, so reads go on until `wouldBlock` or the end.
    var hangupSeen = false
    /// The TLS session over `fd`, for a TLS listener's client or an HTTPS upstream; all I/O
    /// goes through it (the handshake runs inside the first reads and writes).
    var tls: TLSSession?
    /// TLS: the last read wanted the socket writable (a handshake or key-update record to
    /// send), so a writable edge makes the connection readable again.
    private var readWaitsForWritable = false
    /// TLS: the last write wanted the socket readable (handshake records to receive first).
    private var writeWaitsForReadable = false

    init(loop: EventLoop, fd: Int32) {
        self.loop = loop
        self.fd = fd
    }

    /// Readiness reported by epoll. Subclasses override and call `noteReadiness` first.
    func handle(_ events: EpollEvents) {}

    /// Records what an epoll event says about the socket.
    @inline(__always)
    final func noteReadiness(_ events: EpollEvents) {
        let bits = events.rawValue
        if bits & EpollEvents.writable.rawValue != 0 { writable = true }
        if bits & Self.readableMask != 0 { readable = true }
        if bits & Self.hangupMask != 0 { hangupSeen = true }
        if readWaitsForWritable && writable {
            readWaitsForWritable = false
            readable = true
        }
        if writeWaitsForReadable && readable {
            writeWaitsForReadable = false
            writable = true
        }
    }

    private static let hangupMask = EpollEvents.readHangup.rawValue | EpollEvents.hangup.rawValue | EpollEvents.error.rawValue
    private static let readableMask = EpollEvents.readable.rawValue | hangupMask

    /// The deadline passed. Subclasses override.
    func deadlinePassed() {}

    /// Pending output made no progress for `sendTimeoutMilliseconds`. Subclasses override.
    func sendTimedOut() {}

    /// How much one read takes from a socket at most.
    static let readChunk = 64 * 1024
    /// The free space a channel's first read makes sure of: most requests and responses fit.
    static let firstReadSize = 2 * 1024
    /// The free space the next read makes sure of: it starts at `firstReadSize` and doubles
    /// each time a read fills it (a body is streaming), up to `readChunk`, so a buffer grows to
    /// what is in flight rather than to the largest read. `resetReadSize` at a message boundary.
    private(set) var readSize = Channel.firstReadSize

    /// The connection went idle between messages: the next read starts small again.
    final func resetReadSize() { readSize = Self.firstReadSize }

    /// Reads once from the socket into the tail of `buffer` (at most `readChunk` bytes).
    /// A short read clears `readable` (edge-triggered: the socket was drained).
    final func readAvailable(into buffer: ByteBuffer) -> ReadOutcome {
        let tail = buffer.reserveTail(readSize)
        let want = min(tail.count, Self.readChunk)
        if let tls {
            let outcome = readTLS(tls, into: buffer, UnsafeMutableRawBufferPointer(rebasing: tail[0..<want]))
            if readable && readSize < Self.readChunk { readSize *= 2 }
            return outcome
        }
        switch Socket.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: tail[0..<want])) {
        case .bytes(let n):
            buffer.commit(n)
            if n < want && !hangupSeen {
                readable = false
            } else if n == want && readSize < Self.readChunk {
                readSize *= 2
            }
            return .progress
        case .wouldBlock:
            readable = false
            return .blocked
        case .end:
            readable = false
            return .ended
        case .failed:
            readable = false
            return .failed
        }
    }

    /// `readAvailable` through TLS: decrypts until `space` is full or the session needs the
    /// socket. Decrypted bytes may wait inside OpenSSL with no new epoll edge to announce
    /// them, so `readable` stays set until OpenSSL holds nothing and the socket is known to be
    /// empty (its last read was short, as on the plain path) or OpenSSL asks for more.
    private func readTLS(_ tls: TLSSession, into buffer: ByteBuffer, _ space: UnsafeMutableRawBufferPointer) -> ReadOutcome {
        var filled = 0
        while filled < space.count {
            switch tls.read(into: UnsafeMutableRawBufferPointer(rebasing: space[filled...])) {
            case .bytes(let n):
                filled += n
                if !hangupSeen && tls.socketDrained { readable = false }
            case .wantRead:
                readable = false
            case .wantWrite:
                // OpenSSL's own write (a handshake or key-update record) met a full socket.
                readable = false
                writable = false
                readWaitsForWritable = true
            case .closed:
                readable = false
                buffer.commit(filled)
                return filled > 0 ? .progress : .ended
            case .failed:
                readable = false
                buffer.commit(filled)
                return filled > 0 ? .progress : .failed
            }
            if !readable { break }
        }
        buffer.commit(filled)
        return filled > 0 ? .progress : .blocked
    }

    /// Writes `buffer` while the socket takes it (edge-triggered: `writable` is cleared on
    /// a short write or `wouldBlock`). The send deadline starts when output is left pending,
    /// moves with every write that takes bytes, and is cleared once the buffer is empty.
    /// - Returns: false when the peer is gone.
    final func writePending(_ buffer: ByteBuffer) -> Bool {
        var progressed = false
        while !buffer.isEmpty && writable {
            let pending = buffer.readableBytes
            if let tls {
                // OpenSSL writes a record at a time (partial writes on): loop until it blocks.
                switch tls.write(pending) {
                case .bytes(let n):
                    buffer.consume(n)
                    progressed = true
                case .wantWrite:
                    writable = false
                case .wantRead:
                    // OpenSSL must read a handshake record first, and the socket had none.
                    writable = false
                    readable = false
                    writeWaitsForReadable = true
                case .closed, .failed:
                    return false
                }
                continue
            }
            switch Socket.write(fd, pending) {
            case .bytes(let n):
                buffer.consume(n)
                progressed = true
                if n < pending.count { writable = false }
            case .wouldBlock:
                writable = false
            case .failed:
                return false
            }
        }
        if buffer.isEmpty {
            sendDeadline = 0
        } else if sendTimeoutMilliseconds > 0 && (progressed || sendDeadline == 0) {
            sendDeadline = loop.now + sendTimeoutMilliseconds
        }
        return true
    }

    /// Ends the sending side cleanly: TLS close_notify (so the peer can tell a complete
    /// close-delimited response from a truncated one), then a TCP half-close. Never used for
    /// an abort: a cut-off response must not look finished.
    final func shutdownOutput() {
        tls?.shutdown()
        Socket.shutdownWrite(fd)
    }

    /// Deregisters and closes the descriptor (once); the object is released after the current
    /// batch of events so a stale event for it is ignored, never dispatched to freed memory.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        deadline = 0
        sendDeadline = 0
        loop.unregister(self)
    }
}

/// The outcome of `Channel.readAvailable`.
enum ReadOutcome {
    /// Bytes were appended.
    case progress
    /// Nothing to read now.
    case blocked
    /// End of stream.
    case ended
    /// A connection error (reset): whatever was being received is incomplete.
    case failed

    /// True for `.ended` and `.failed`: nothing more will come.
    var endsStream: Bool { self == .ended || self == .failed }
}

@available(*, unavailable)
extension Channel: Sendable {}
