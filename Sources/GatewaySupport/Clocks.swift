private import Glibc

/// Monotonic time in milliseconds: deadlines and timeouts (never the wall clock).
package enum MonotonicClock {
    /// Milliseconds since an arbitrary fixed point; coarse (a few ms resolution) and cheap.
    @inline(__always)
    package static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Microseconds since the same fixed point, precise (the vDSO clock, tens of nanoseconds
    /// to read): request durations for the latency histograms.
    @inline(__always)
    package static func nowMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }
}

extension Duration {
    /// The duration in whole milliseconds (rounded down, at least 1 for positive durations).
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return ms == 0 && attoseconds > 0 ? 1 : ms
    }
}

/// Wall-clock formatting for logs and the `Date` header.
package enum WallClock {
    /// Seconds since the epoch.
    package static func now() -> Int { time(nil) }

    /// `2026-11-23T19:30:00Z`, for log lines.
    package static func iso8601Now() -> String { isoDate(time(nil)) }

    /// `2026-11-23T19:30:00Z` for `seconds` since the epoch.
    package static func isoDate(_ seconds: Int) -> String {
        var t = seconds
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return "\(tmv.tm_year + 1900)-\(pad(tmv.tm_mon + 1))-\(pad(tmv.tm_mday))T\(pad(tmv.tm_hour)):\(pad(tmv.tm_min)):\(pad(tmv.tm_sec))Z"
    }

    /// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for `seconds` since the epoch (RFC 9110 §5.6.7).
    package static func httpDate(_ seconds: Int) -> String {
        var t = seconds
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(days[Int(tmv.tm_wday)]), \(pad(tmv.tm_mday)) \(months[Int(tmv.tm_mon)]) \(tmv.tm_year + 1900) \(pad(tmv.tm_hour)):\(pad(tmv.tm_min)):\(pad(tmv.tm_sec)) GMT"
    }

    private static func pad(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
