/// When one JWKS URL is fetched (SPEC §5): pure state, no clock and no I/O, so every rule is
/// tested with plain numbers. `JWKSKeySource` holds it under a lock; times are monotonic
/// milliseconds passed in by the caller.
///
/// Rules:
/// - The first fetch is due at once; after a success the next is due one refresh interval later.
/// - A failed fetch (transport error, non-200, invalid document) is retried with exponential
///   backoff from `initialBackoff`, never longer than `maxBackoff` or the refresh interval. The
///   last good key set stays in use meanwhile (the source never drops it).
/// - An unknown `kid` asks for an early fetch at most once per `unknownKidInterval` (30 s). A
///   kid seen while a fetch is pending waits for that fetch; a kid seen when the rate limit
///   forbids a fetch is remembered in a bounded negative cache until the limit opens again, so
///   a flood of random kids costs at most one fetch per interval.
package struct JWKSRefreshPolicy: Sendable {
    /// The rule's durations in milliseconds and the negative cache's size. Built inside Core
    /// (by `JWTCompiler`) and by tests, so the memberwise initializer is enough.
    package struct Settings: Sendable, Equatable {
        /// Time between successful fetches (`refresh=`, default 10 min).
        package var refreshInterval: Int64 = 600_000
        /// Least time between two fetches asked for by unknown kids (SPEC: 30 s).
        package var unknownKidInterval: Int64 = 30_000
        /// The first retry delay after a failure (default 5 s); doubled on each further failure.
        package var initialBackoff: Int64 = 5_000
        /// The longest retry delay (default 5 min).
        package var maxBackoff: Int64 = 300_000
        /// Kids the negative cache remembers at most (default 4096).
        package var negativeCacheCapacity = 4096
    }

    /// What an unknown kid means for the request that carries it.
    package enum UnknownKidDecision: Sendable, Equatable {
        /// A fetch that may bring the kid is pending: the request may wait for it.
        case refreshPending
        /// No fetch will come soon for this kid: refuse the token now.
        case unknown
    }

    package private(set) var settings: Settings
    /// When the next fetch is due (0: at once).
    package private(set) var nextFetchAt: Int64 = 0
    /// A fetch has begun and not finished.
    package private(set) var inFlight = false
    /// An unknown kid asked for a fetch that has not begun yet.
    package private(set) var fetchRequested = false
    /// Failed fetches since the last success.
    package private(set) var consecutiveFailures = 0
    private var lastSuccessAt: Int64? = nil
    private var lastKidFetchAt: Int64? = nil
    private var negative: NegativeKidCache

    package init(settings: Settings) {
        self.settings = settings
        negative = NegativeKidCache(capacity: settings.negativeCacheCapacity)
    }

    /// Kids in the negative cache (for tests and metrics).
    package var negativeCount: Int { negative.count }

    /// Whether a fetch should begin at `now`.
    package func isDue(now: Int64) -> Bool {
        !inFlight && (fetchRequested || now >= nextFetchAt)
    }

    /// Starts a fetch when one is due. - Returns: whether the caller must fetch now (and then
    /// report with `succeeded` or `failed`).
    package mutating func beginFetch(now: Int64) -> Bool {
        guard isDue(now: now) else { return false }
        inFlight = true
        fetchRequested = false
        return true
    }

    /// The fetch returned a valid document (now published).
    package mutating func succeeded(now: Int64) {
        inFlight = false
        consecutiveFailures = 0
        lastSuccessAt = now
        nextFetchAt = now + settings.refreshInterval
        negative.removeAll()
    }

    /// The fetch failed or returned an unusable document.
    /// - Returns: the delay before the next attempt, in milliseconds.
    @discardableResult
    package mutating func failed(now: Int64) -> Int64 {
        inFlight = false
        consecutiveFailures += 1
        let doublings = min(consecutiveFailures - 1, 20)
        let delay = min(settings.initialBackoff << doublings, settings.maxBackoff, settings.refreshInterval)
        nextFetchAt = now + delay
        return delay
    }

    /// A token named `kid`, which no key (static or fetched) has.
    package mutating func unknownKid(_ kid: String, now: Int64) -> UnknownKidDecision {
        if negative.contains(kid, now: now) { return .unknown }
        if inFlight || fetchRequested { return .refreshPending }
        if let last = lastKidFetchAt, now - last < settings.unknownKidInterval {
            negative.insert(kid, expiresAt: last + settings.unknownKidInterval, now: now)
            return .unknown
        }
        lastKidFetchAt = now
        fetchRequested = true
        return .refreshPending
    }

    /// A reload changed `refresh=`: the next regular fetch moves accordingly (a pending retry
    /// after a failure keeps its backoff).
    package mutating func setRefreshInterval(_ interval: Int64) {
        guard interval != settings.refreshInterval else { return }
        settings.refreshInterval = interval
        if consecutiveFailures == 0, let lastSuccessAt { nextFetchAt = lastSuccessAt + interval }
    }
}
