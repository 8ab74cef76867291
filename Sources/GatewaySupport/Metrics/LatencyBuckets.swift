/// The fixed latency buckets of every duration histogram the gateway exports: from half a
/// millisecond (a gateway's own answer) to a minute (a long streaming response). Fixed, so a
/// histogram is a handful of counters and dashboards can sum them across instances.
package enum LatencyBuckets {
    /// Upper bounds in microseconds, ascending.
    package static let boundsMicroseconds: [UInt64] = [
        500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
    ]
    /// The same bounds in seconds, as `le` label values.
    package static let labels: [String] = [
        "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
        "1", "2.5", "5", "10", "30", "60",
    ]
    /// Counters per histogram: one per bound, one above every bound, and the sum (µs).
    package static let slotsPerHistogram = boundsMicroseconds.count + 2
    /// Where the sum of the observations (microseconds) sits within a histogram's slots.
    package static let sumSlot = boundsMicroseconds.count + 1

    /// The bucket a duration falls in: the first bound not below it, else the last (+Inf).
    @inline(__always)
    package static func bucket(microseconds: UInt64) -> Int {
        var index = 0
        while index < boundsMicroseconds.count && microseconds > boundsMicroseconds[index] { index += 1 }
        return index
    }
}
