private import Glibc
private import CGatewayLinux
import Synchronization

/// Starts OS threads for event loops (the request path never suspends, so loops are threads,
/// not tasks).
package enum OSThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached-joinable thread. - Returns: a handle for `join`.
    package static func start(_ body: @escaping @Sendable () -> Void) -> ThreadHandle {
        // The box is retained here and released by the thread once it has taken the closure.
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed")
        return ThreadHandle(thread: thread)
    }
}

/// A started thread that can be joined once.
package struct ThreadHandle: @unchecked Sendable {
    // pthread_t is an integer handle; joining from any thread is allowed.
    fileprivate let thread: pthread_t
    package func join() { pthread_join(thread, nil) }
    /// Joins if the thread ends within `milliseconds`. - Returns: whether it was joined (if
    /// not, it is detached: it ends on its own, unjoined).
    package func join(withinMilliseconds milliseconds: Int) -> Bool {
        if gw_thread_join_within(thread, Int32(milliseconds)) == 0 { return true }
        pthread_detach(thread)
        return false
    }
    /// Lets the thread end on its own, never joined (its resources are freed when it ends).
    package func detach() { pthread_detach(thread) }
}

/// A control-plane thread a component starts once and joins when it stops, so that no thread
/// still runs (and uses OpenSSL, SQLite or the heap) while the process exits.
package final class BackgroundThread: Sendable {
    private let handle = Mutex<ThreadHandle?>(nil)

    package init() {}

    /// Starts `body` on a new thread (once).
    package func start(_ body: @escaping @Sendable () -> Void) {
        handle.withLock { handle in
            precondition(handle == nil, "a background thread starts once")
            handle = OSThread.start(body)
        }
    }

    /// Waits for the thread, which the caller told to stop, at most `milliseconds` (a thread
    /// stuck in a blocking call is left to end on its own).
    /// - Returns: whether it ended in time (true when it never started).
    @discardableResult
    package func join(withinMilliseconds milliseconds: Int) -> Bool {
        guard let started = handle.withLock({ handle in defer { handle = nil }; return handle }) else { return true }
        return started.join(withinMilliseconds: milliseconds)
    }
}

/// Process signals for the control thread: block them everywhere and wait for them here.
package enum ProcessSignals {
    package enum Received: Sendable { case terminate, reload, interrupt, reopenLogs, other(Int32) }

    /// Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread (and threads it starts later),
    /// and ignores SIGPIPE. Call before starting any thread.
    package static func blockControlSignals() {
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        sigaddset(&set, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for one of the blocked control signals, at most `timeoutMilliseconds`.
    /// - Returns: the signal, or nil on timeout.
    package static func wait(timeoutMilliseconds: Int) -> Received? {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        sigaddset(&set, SIGUSR1)
        var ts = timespec(tv_sec: timeoutMilliseconds / 1000, tv_nsec: (timeoutMilliseconds % 1000) * 1_000_000)
        let signo = sigtimedwait(&set, nil, &ts)
        switch signo {
        case SIGTERM: return .terminate
        case SIGINT: return .interrupt
        case SIGHUP: return .reload
        case SIGUSR1: return .reopenLogs
        case -1: return nil
        default: return .other(signo)
        }
    }
}

/// CPU count for `workers auto`.
package enum CPUs {
    package static var online: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// Sleeps the calling thread (control-plane threads only, never an event loop).
package func usleepMilliseconds(_ milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
