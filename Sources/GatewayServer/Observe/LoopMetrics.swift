import GatewaySupport

/// One event loop's request counters (SPEC §15): written only by that loop, with no lock and
/// no allocation, and summed over every loop when `/metrics` is scraped. Label values are
/// slots of the process's `MetricsRegistry`, so their number is bounded by the configuration.
final class LoopMetrics: Sendable {
    static let statusClasses = 5
    static let decisions = RequestDecision.allCases.count

    /// route × status class (1xx…5xx) × decision.
    let requests: CounterBlock
    /// route × latency histogram (`LatencyBuckets`).
    let requestLatency: CounterBlock
    /// upstream × latency histogram, from forwarding start to the response's end.
    let upstreamLatency: CounterBlock
    /// upstream × `UpstreamErrorKind`.
    let upstreamErrors: CounterBlock
    /// upstream: servers this loop took out of rotation (passive health).
    let upstreamEjections: CounterBlock
    /// route: requests refused with 429 by a rate limit.
    let rateLimited: CounterBlock
    /// deny reason: failed authentications (401, and the auth-failure limit's 429).
    let authFailures: CounterBlock
    /// JWT cache lookups (`AccessScratch.jwtCacheHit`, `.jwtCacheMiss`), counted by the pipeline.
    let jwtCache = CounterBlock(count: 2)

    /// - Parameters: the registries' capacities (slots per label).
    init(routes: Int, upstreams: Int, reasons: Int) {
        requests = CounterBlock(count: routes * Self.statusClasses * Self.decisions)
        requestLatency = CounterBlock(count: routes * LatencyBuckets.slotsPerHistogram)
        upstreamLatency = CounterBlock(count: upstreams * LatencyBuckets.slotsPerHistogram)
        upstreamErrors = CounterBlock(count: upstreams * UpstreamErrorKind.allCases.count)
        upstreamEjections = CounterBlock(count: upstreams)
        rateLimited = CounterBlock(count: routes)
        authFailures = CounterBlock(count: reasons)
    }

    /// Counts a finished request and its duration.
    @inline(__always)
    func requestFinished(route: Int, status: Int, decision: RequestDecision, microseconds: Int64) {
        let statusClass = min(max(status / 100, 1), 5) - 1
        requests.add((route * Self.statusClasses + statusClass) * Self.decisions + decision.rawValue)
        Self.observe(requestLatency, slot: route, microseconds: microseconds)
    }

    @inline(__always)
    func upstreamResponded(upstream: Int, microseconds: Int64) {
        Self.observe(upstreamLatency, slot: upstream, microseconds: microseconds)
    }

    func upstreamFailed(upstream: Int, kind: UpstreamErrorKind, ejected: Bool) {
        upstreamErrors.add(upstream * UpstreamErrorKind.allCases.count + kind.rawValue)
        if ejected { upstreamEjections.add(upstream) }
    }

    @inline(__always)
    private static func observe(_ block: CounterBlock, slot: Int, microseconds: Int64) {
        let value = UInt64(max(0, microseconds))
        let base = slot * LatencyBuckets.slotsPerHistogram
        block.add(base + LatencyBuckets.bucket(microseconds: value))
        block.add(base + LatencyBuckets.sumSlot, value)
    }
}
