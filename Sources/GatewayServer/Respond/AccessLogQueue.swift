import GatewayCore
import GatewaySupport
import GatewaySystem
import Synchronization
private import Glibc

/// The access log's one writer thread (SPEC §15): event loops hand it whole buffers of lines
/// and never wait for the disk. What it has not written yet is bounded (`maxPendingBytes`); a
/// loop whose buffer would pass the bound drops it and counts its lines (a metric), so a slow
/// or full disk costs log lines, never latency. `SIGUSR1` asks it to reopen a log file (after
/// logrotate moved it). Every member is thread-safe.
final class AccessLogQueue: Sendable {
    /// Bytes handed over and not yet written, at most.
    static let maxPendingBytes = 8 * 1024 * 1024
    /// How long the writer sleeps when there is nothing to write (the log's worst-case delay).
    static let idleMilliseconds = 20

    private struct State {
        var chunks: [[UInt8]] = []
        var pendingBytes = 0
        /// Written buffers, kept (at most a few) so the loops reuse their capacity.
        var spares: [[UInt8]] = []
        var reopen = false
        var stopping = false
    }

    private let state = Mutex(State())
    /// Lines dropped because the writer fell behind.
    let droppedLines = Atomic<UInt64>(0)
    private let path: String?
    private let logger: Logger
    private let thread = BackgroundThread()

    /// - Parameter path: the file to append to; nil writes to standard output.
    /// - Returns: nil when the file cannot be opened.
    init?(path: String?, logger: Logger) {
        self.path = path
        self.logger = logger
        let fd = path.map(Self.open) ?? 1
        guard fd >= 0 else { return nil }
        thread.start { [self] in self.run(fd: fd) }
    }

    /// Hands over a buffer of `lines` complete lines; `buffer` comes back empty (with capacity).
    func submit(_ buffer: inout [UInt8], lines: Int) {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopping, state.pendingBytes + buffer.count <= Self.maxPendingBytes else { return false }
            state.pendingBytes += buffer.count
            var spare = state.spares.popLast() ?? []
            swap(&spare, &buffer)
            state.chunks.append(spare)
            return true
        }
        if !accepted {
            droppedLines.add(UInt64(lines), ordering: .relaxed)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Reopens the log file by its path before the next write (`SIGUSR1`); nothing for stdout.
    func reopen() { state.withLock { $0.reopen = true } }

    /// Writes what is pending, then ends the writer thread (after the loops stopped); a writer
    /// stuck on its disk gets `GatewayServer.stopBudget`.
    func stop() {
        state.withLock { $0.stopping = true }
        thread.join(withinMilliseconds: GatewayServer.stopBudget)
    }

    private func run(fd initial: Int32) {
        var fd = initial
        while true {
            let (chunks, reopen, stopping) = state.withLock { state in
                defer {
                    state.chunks.removeAll(keepingCapacity: true)
                    state.reopen = false
                }
                return (state.chunks, state.reopen, state.stopping)
            }
            if reopen, let path {
                let next = Self.open(path)
                if next >= 0 {
                    Glibc.close(fd)
                    fd = next
                    logger.info("access log reopened", [("path", path)])
                } else {
                    logger.error("cannot reopen access log; writing to the open file", [("path", path), ("errno", "\(errno)")])
                }
            }
            var written = 0
            for chunk in chunks {
                Self.writeAll(fd, chunk)
                written += chunk.count
            }
            if !chunks.isEmpty {
                state.withLock { state in
                    state.pendingBytes -= written
                    for var chunk in chunks where state.spares.count < 8 {
                        chunk.removeAll(keepingCapacity: true)
                        state.spares.append(chunk)
                    }
                }
            } else if stopping {
                break
            } else {
                usleepMilliseconds(Self.idleMilliseconds)
            }
        }
        if path != nil { Glibc.close(fd) }
    }

    private static func open(_ path: String) -> Int32 {
        Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    }

    /// Writes all of `bytes` (a failed write drops the rest of the chunk: the log is best effort).
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}
