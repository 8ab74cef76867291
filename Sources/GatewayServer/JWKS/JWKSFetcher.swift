import GatewayCore
import GatewaySupport
import GatewaySystem
import Synchronization

/// The process's one JWKS fetcher: a background thread that keeps every `jwks_url` key source
/// of the running configuration filled (SPEC §5). Event loops never fetch; they read the
/// sources' key sets and, for an unknown `kid`, let a source ask for an early fetch, which
/// this thread picks up within `tick` milliseconds.
///
/// Startup and reload call `fetchNow` on the control thread first, so keys are there before
/// the first request when the key server answers; a failure is logged and the gateway serves
/// anyway (tokens needing those keys fail until a fetch succeeds). After each finished fetch,
/// `onFetched` runs (the server wakes the loops so waiting requests try again).
/// Every member is thread-safe; both threads may fetch, and a source's `beginFetch` makes sure
/// one fetch at a time runs per URL.
final class JWKSFetcher: Sendable {
    /// Milliseconds between checks for due fetches.
    static let tick = 50
    private let refresher: JWKSRefresher
    private let tracked = Mutex<[JWKSKeySource]>([])
    private let stopping = Atomic<Bool>(false)
    private let thread = BackgroundThread()
    private let logger: Logger
    /// Counts fetches by outcome.
    private let metrics: MetricsRegistry

    init(logger: Logger, metrics: MetricsRegistry, refresher: JWKSRefresher = JWKSRefresher(transports: HTTPJWKSTransport.all())) {
        self.logger = logger
        self.metrics = metrics
        self.refresher = refresher
    }

    /// The longest a request waits for a fetch its unknown `kid` asked for: one fetch's
    /// connect and read timeouts, plus a tick and some slack for a fetch already running.
    var maxWaitMilliseconds: Int64 {
        refresher.limits.connectTimeout + refresher.limits.readTimeout + 1_000
    }

    /// Adopts the key sources of a (re)loaded configuration; sources no longer configured are
    /// no longer fetched.
    func track(_ jwt: CompiledJWT?) {
        let entries = jwt?.keySources ?? []
        for entry in entries { entry.source.setRefreshInterval(entry.refresh) }
        tracked.withLock { $0 = entries.map(\.source) }
    }

    /// Fetches the due sources on the calling thread, within `budget` milliseconds in all, and
    /// warns about every source still without keys.
    func fetchNow(budget: Int64) {
        let sources = tracked.withLock { $0 }
        guard !sources.isEmpty else { return }
        refresher.refreshDue(sources, budget: budget, clock: { MonotonicClock.nowMilliseconds() }, report: log)
        for source in sources where source.currentKeys.generation == 0 {
            logger.warning(
                "jwks not available yet; tokens needing its keys are refused until a fetch succeeds",
                [("jwks.url", source.url.description), ("jwt.issuer", source.issuer)])
        }
    }

    /// Starts the background thread. - Parameter onFetched: runs after every finished fetch.
    func start(onFetched: @escaping @Sendable () -> Void) {
        thread.start { [self] in
            while !stopping.load(ordering: .relaxed) {
                usleepMilliseconds(Self.tick)
                let sources = tracked.withLock { $0 }
                refresher.refreshDue(sources, clock: { MonotonicClock.nowMilliseconds() }) { source, outcome in
                    log(source, outcome)
                    onFetched()
                }
            }
        }
    }

    /// Stops the thread and waits for it (a fetch in flight is bounded by its timeouts; past
    /// `GatewayServer.stopBudget` the thread is left to end on its own).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        thread.join(withinMilliseconds: GatewayServer.stopBudget)
    }

    /// One line per fetch: the URL, the issuer and the outcome's reason (never key bytes).
    private func log(_ source: JWKSKeySource, _ outcome: JWKSRefreshOutcome) {
        switch outcome {
        case .updated(let count, let generation, let skipped):
            metrics.jwksRefreshesUpdated.add(1, ordering: .relaxed)
            logger.info("jwks refreshed", [
                ("jwks.url", source.url.description), ("jwt.issuer", source.issuer), ("keys", "\(count)"),
                ("generation", "\(generation)"),
            ])
            // Once per refresh: which published keys are not used (enc keys, unknown types).
            for key in skipped {
                logger.info("jwks key skipped", [("jwks.url", source.url.description), ("jwt.issuer", source.issuer), ("key", key)])
            }
        case .failed(let reason, let retry, let kept):
            metrics.jwksRefreshesFailed.add(1, ordering: .relaxed)
            logger.warning("jwks fetch failed; keeping the last good keys", [
                ("jwks.url", source.url.description), ("jwt.issuer", source.issuer), ("reason", reason),
                ("retry_in_ms", "\(retry)"), ("keys", "\(kept)"),
            ])
        }
    }
}
