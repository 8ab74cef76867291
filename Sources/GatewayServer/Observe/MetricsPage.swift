import GatewaySupport
import GatewaySystem
import Synchronization

/// What `/metrics` shows beyond the loops' counters, gathered by the scraping loop.
struct MetricsSnapshot {
    var openConnections: Int
    var accessLogDropped: UInt64
    var process: ProcessStats
}

/// Renders `GET /metrics` (SPEC §15): every loop's counters summed per label, plus the process
/// figures. Labels are route patterns, upstream names and deny reasons from the registries,
/// never raw paths, principals or keys. Series that never counted anything are left out.
enum MetricsPage {
    static func render(_ registry: MetricsRegistry, _ snapshot: MetricsSnapshot, format: MetricsFormat) -> [UInt8] {
        var page = MetricsExposition(format: format)
        let loops = registry.loops
        let routes = registry.routes.names()
        let upstreams = registry.upstreams.names()

        let requests = loops.map(\.requests), requestLatency = loops.map(\.requestLatency)
        let upstreamLatency = loops.map(\.upstreamLatency), upstreamErrors = loops.map(\.upstreamErrors)
        let ejections = loops.map(\.upstreamEjections), rateLimited = loops.map(\.rateLimited)
        let authFailures = loops.map(\.authFailures), jwtCache = loops.map(\.jwtCache)
        page.family("gateway_requests", .counter, help: "Requests answered, by route pattern, status class and decision.")
        for (slot, route) in routes.enumerated() {
            for statusClass in 0..<LoopMetrics.statusClasses {
                for decision in RequestDecision.allCases {
                    let index = (slot * LoopMetrics.statusClasses + statusClass) * LoopMetrics.decisions + decision.rawValue
                    let count = sum(requests, index)
                    if count > 0 { page.sample(["route": route, "status": "\(statusClass + 1)xx", "decision": decision.name], count) }
                }
            }
        }
        page.family("gateway_request_duration_seconds", .histogram, help: "Time from a request's first byte to its answer's end.")
        for (slot, route) in routes.enumerated() { histogram(&page, requestLatency, slot: slot, labels: ["route": route]) }
        page.family("gateway_upstream_duration_seconds", .histogram, help: "Time from forwarding a request to the upstream's complete response.")
        for (slot, upstream) in upstreams.enumerated() {
            histogram(&page, upstreamLatency, slot: slot, labels: ["upstream": upstream])
        }
        page.family("gateway_upstream_errors", .counter, help: "Upstream failures, by upstream and kind.")
        for (slot, upstream) in upstreams.enumerated() {
            for kind in UpstreamErrorKind.allCases {
                let count = sum(upstreamErrors, slot * UpstreamErrorKind.allCases.count + kind.rawValue)
                if count > 0 { page.sample(["upstream": upstream, "kind": kind.name], count) }
            }
        }
        page.family("gateway_upstream_ejections", .counter, help: "Upstream servers taken out of rotation by passive health checks.")
        for (slot, upstream) in upstreams.enumerated() {
            let count = sum(ejections, slot)
            if count > 0 { page.sample(["upstream": upstream], count) }
        }
        page.family("gateway_rate_limited", .counter, help: "Requests refused by a rate limit, by route pattern.")
        for (slot, route) in routes.enumerated() {
            let count = sum(rateLimited, slot)
            if count > 0 { page.sample(["route": route], count) }
        }
        page.family("gateway_auth_failures", .counter, help: "Failed authentications, by reason.")
        for (slot, reason) in registry.reasons.names().enumerated() {
            let count = sum(authFailures, slot)
            if count > 0 { page.sample(["reason": reason], count) }
        }
        page.family("gateway_jwt_cache_lookups", .counter, help: "JWT verification cache lookups, by result.")
        page.sample(["result": "hit"], sum(jwtCache, 0))
        page.sample(["result": "miss"], sum(jwtCache, 1))
        page.family("gateway_jwks_refreshes", .counter, help: "JWKS fetches, by outcome.")
        page.sample(["outcome": "updated"], registry.jwksRefreshesUpdated.load(ordering: .relaxed))
        page.sample(["outcome": "failed"], registry.jwksRefreshesFailed.load(ordering: .relaxed))
        page.family("gateway_config_reloads", .counter, help: "Configuration reloads (SIGHUP), by outcome.")
        page.sample(["outcome": "success"], registry.reloadsSucceeded.load(ordering: .relaxed))
        page.sample(["outcome": "failure"], registry.reloadsFailed.load(ordering: .relaxed))
        page.family("gateway_connections_active", .gauge, help: "Client connections open now.")
        page.sample([:], UInt64(max(0, snapshot.openConnections)))
        page.family("gateway_access_log_dropped_lines", .counter, help: "Access-log lines dropped because the log writer fell behind.")
        page.sample([:], snapshot.accessLogDropped)
        page.family("gateway_build", .info, help: "The gateway's version.")
        page.sample(["version": BuildInfo.version], 1)

        let process = snapshot.process
        page.family("process_cpu_seconds", .counter, help: "User and system CPU time spent.")
        page.sample([:], fraction: process.cpuSeconds)
        page.family("process_resident_memory_bytes", .gauge, help: "Resident memory size.")
        page.sample([:], process.residentBytes)
        page.family("process_virtual_memory_bytes", .gauge, help: "Virtual memory size.")
        page.sample([:], process.virtualBytes)
        page.family("process_open_fds", .gauge, help: "Open file descriptors.")
        page.sample([:], UInt64(process.openDescriptors))
        page.family("process_max_fds", .gauge, help: "The open file descriptor limit.")
        page.sample([:], process.maxDescriptors)
        page.family("process_start_time_seconds", .gauge, help: "When the process started, in seconds since the epoch.")
        page.sample([:], UInt64(registry.startTime))
        return page.finish()
    }

    /// Counter `index` summed over every loop's block.
    private static func sum(_ blocks: [CounterBlock], _ index: Int) -> UInt64 {
        var total: UInt64 = 0
        for block in blocks { total &+= block.value(index) }
        return total
    }

    /// One histogram of slot `slot`, when it has observations.
    private static func histogram(
        _ page: inout MetricsExposition, _ blocks: [CounterBlock], slot: Int, labels: KeyValuePairs<String, String>
    ) {
        let base = slot * LatencyBuckets.slotsPerHistogram
        let counts = (0...LatencyBuckets.boundsMicroseconds.count).map { sum(blocks, base + $0) }
        guard counts.contains(where: { $0 > 0 }) else { return }
        let micros = sum(blocks, base + LatencyBuckets.sumSlot)
        page.histogram(labels, bounds: LatencyBuckets.labels, counts: counts, sum: Double(micros) / 1_000_000)
    }
}
