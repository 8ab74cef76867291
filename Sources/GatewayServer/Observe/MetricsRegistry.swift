import GatewaySupport
import Synchronization

/// The process's metrics (SPEC §15): the label registries, each loop's counters, and the few
/// counters written outside the event loops (reloads by the control thread, JWKS fetches by the
/// fetcher and the control thread). Every member is thread-safe.
final class MetricsRegistry: Sendable {
    /// The route label of requests no route matched, and of the admin listener's requests.
    static let unmatchedRouteLabel = "unmatched"
    static let adminRouteLabel = "admin"

    /// Route patterns (never raw paths): 4,096 distinct patterns over the process's life.
    let routes = LabelSlots(capacity: 4_096)
    /// Upstream block names.
    let upstreams = LabelSlots(capacity: 512)
    /// Deny reasons of failed authentications (a closed list in the code, well under this).
    let reasons = LabelSlots(capacity: 128)
    let unmatchedRoute: Int
    let adminRoute: Int
    /// One per event loop, by loop index.
    let loops: [LoopMetrics]

    let reloadsSucceeded = Atomic<UInt64>(0)
    let reloadsFailed = Atomic<UInt64>(0)
    let jwksRefreshesUpdated = Atomic<UInt64>(0)
    let jwksRefreshesFailed = Atomic<UInt64>(0)
    /// Wall-clock seconds when the process started serving.
    let startTime: Int

    init(loopCount: Int) {
        unmatchedRoute = routes.slot(for: Self.unmatchedRouteLabel)
        adminRoute = routes.slot(for: Self.adminRouteLabel)
        startTime = WallClock.now()
        let (routeSlots, upstreamSlots, reasonSlots) = (routes.capacity, upstreams.capacity, reasons.capacity)
        loops = (0..<max(1, loopCount)).map { _ in LoopMetrics(routes: routeSlots, upstreams: upstreamSlots, reasons: reasonSlots) }
    }
}
