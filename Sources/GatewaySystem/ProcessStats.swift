private import Glibc

/// The process's own resource use, read from `/proc/self` when metrics are scraped: the
/// standard `process_*` figures Prometheus dashboards expect.
package struct ProcessStats: Sendable {
    package var residentBytes: UInt64 = 0
    package var virtualBytes: UInt64 = 0
    package var cpuSeconds: Double = 0
    package var openDescriptors: Int = 0
    package var maxDescriptors: UInt64 = 0

    package init() {}

    /// Reads the current figures; a figure that cannot be read stays 0.
    package static func current() -> ProcessStats {
        var stats = ProcessStats()
        // /proc/self/stat: fields after the parenthesised command name; utime and stime are
        // fields 14 and 15, vsize 23 and rss (pages) 24 (proc(5)).
        if let text = readSmallFile("/proc/self/stat"), let close = text.lastIndex(of: ")") {
            let fields = text[text.index(after: close)...].split(separator: " ")
            // fields[0] is field 3 (state).
            func field(_ number: Int) -> UInt64 { number - 3 < fields.count ? UInt64(fields[number - 3]) ?? 0 : 0 }
            let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
            stats.cpuSeconds = Double(field(14) + field(15)) / ticks
            stats.virtualBytes = field(23)
            stats.residentBytes = field(24) * UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
        }
        if let directory = opendir("/proc/self/fd") {
            var count = 0
            while let entry = readdir(directory) {
                if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
            }
            closedir(directory)
            stats.openDescriptors = max(0, count - 1)   // minus the directory's own descriptor
        }
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 { stats.maxDescriptors = UInt64(limit.rlim_cur) }
        return stats
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
