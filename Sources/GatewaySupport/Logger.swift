private import Glibc
import Synchronization

/// Severity of a diagnostic line.
package enum LogLevel: Int, Sendable, Comparable {
    case trace, debug, info, warning, error
    package static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
    var name: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }
}

/// Diagnostic logger: one JSON object per line on stderr (the access log is a separate stream,
/// written by its own thread). A value type passed in to components; a disabled level costs one comparison.
///
/// Messages are short constant phrases; details go in metadata with dotted lower-case keys.
/// Never pass a secret, a token or a key as metadata (SPEC §12).
package struct Logger: Sendable {
    package var level: LogLevel
    package var metadata: [(String, String)]

    package init(level: LogLevel = .info, metadata: [(String, String)] = []) {
        self.level = level
        self.metadata = metadata
    }

    @inlinable package func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    package func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        guard isEnabled(level) else { return }
        var line = "{\"time\":\"\(WallClock.iso8601Now())\",\"level\":\"\(level.name)\",\"msg\":"
        JSON.appendString(message(), to: &line)
        for (key, value) in metadata + fields() {
            line += ","
            JSON.appendString(key, to: &line)
            line += ":"
            JSON.appendString(value, to: &line)
        }
        line += "}\n"
        LogSink.standardError.write(line)
    }

    package func debug(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.debug, m(), f()) }
    package func info(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.info, m(), f()) }
    package func warning(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.warning, m(), f()) }
    package func error(_ m: @autoclosure () -> String, _ f: @autoclosure () -> [(String, String)] = []) { log(.error, m(), f()) }
}

/// A file descriptor lines are written to whole (one `write` per line, serialized so lines
/// from different threads never interleave).
package final class LogSink: Sendable {
    private let fd: Int32
    private let lock = Mutex(())

    package init(fd: Int32) { self.fd = fd }

    package static let standardError = LogSink(fd: 2)

    package func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in write(UnsafeRawBufferPointer(bytes)) }
    }

    package func write(_ bytes: UnsafeRawBufferPointer) {
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}
