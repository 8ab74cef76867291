import GatewaySupport
package import GatewayTLS
import Synchronization

/// The keys of one `jwks_url` of one issuer: the last good key set plus the policy saying when
/// to fetch again. Created empty at config load (no I/O: `check-config` builds them too); the
/// fetcher fills it. Kept across `SIGHUP` reloads while its URL stays configured, so a reload
/// never starts with an empty set.
///
/// Any thread. The request path reads `currentKeys` (one short lock to copy a reference to an
/// immutable set) and, only for a `kid` nobody has, calls `unknownKid`. The fetcher calls
/// `beginFetch`/`finishFetch`; the two locks are separate so a refresh never delays a reader.
package final class JWKSKeySource: Sendable {
    /// Where the keys come from: the JWKS, or the discovery document naming it.
    package let url: JWKSURL
    /// `url` is an OIDC discovery document (`discovery URL;`): its `jwks_uri` is fetched next.
    package let isDiscovery: Bool
    /// The `iss` of the `jwt` block; these keys verify only that issuer's tokens.
    package let issuer: String
    private let keySet = Mutex(JWKSKeySet.empty)
    private let policy: Mutex<JWKSRefreshPolicy>
    /// The last fetch could not reach the key server or it misbehaved (connect, DNS, timeout, an
    /// HTTP error status, a document that is not a JWKS), as opposed to answering a well-formed
    /// JWKS without the key: only the former makes an unknown `kid` a 503 (the token may be
    /// fine) rather than a 401.
    private let unreachable = Atomic<Bool>(false)
    private let clock: @Sendable () -> Int64
    /// The `jwt` block's `ca` context; set at every load (a reused source takes the reloaded file).
    private let tlsContext = Mutex<ClientTLS?>(nil)

    /// What an `https` fetch verifies with; nil: the system store.
    package var tls: ClientTLS? {
        get { tlsContext.withLock { $0 } }
        set { tlsContext.withLock { $0 = newValue } }
    }

    /// - Parameters:
    ///   - clock: monotonic milliseconds (injected so tests drive time).
    package init(
        url: JWKSURL, issuer: String, isDiscovery: Bool = false, settings: JWKSRefreshPolicy.Settings,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.url = url
        self.isDiscovery = isDiscovery
        self.issuer = issuer
        self.clock = clock
        policy = Mutex(JWKSRefreshPolicy(settings: settings))
    }

    /// The last good key set (empty before the first successful fetch).
    package var currentKeys: JWKSKeySet { keySet.withLock { $0 } }

    /// A token named `kid` and no key has it: may ask for an early fetch (rate limited).
    package func unknownKid(_ kid: String) -> JWKSRefreshPolicy.UnknownKidDecision {
        let now = clock()
        return policy.withLock { $0.unknownKid(kid, now: now) }
    }

    /// After a fetch that could not reach the key server (until one does): milliseconds until the
    /// next attempt; nil while the source answers, even with a document the gateway cannot use.
    package func unreachableRetryMilliseconds() -> Int64? {
        guard unreachable.load(ordering: .relaxed) else { return nil }
        let now = clock()
        return policy.withLock { $0.consecutiveFailures > 0 ? max(0, $0.nextFetchAt - now) : nil }
    }

    /// A copy of the policy state (tests, logs).
    package var policyState: JWKSRefreshPolicy { policy.withLock { $0 } }

    /// Whether a fetch is due now (the fetcher's cheap check before `beginFetch`).
    package var isDue: Bool {
        let now = clock()
        return policy.withLock { $0.isDue(now: now) }
    }

    /// Claims a due fetch. - Returns: true when the caller must fetch and call `finishFetch`.
    package func beginFetch() -> Bool {
        let now = clock()
        return policy.withLock { $0.beginFetch(now: now) }
    }

    /// Applies a fetch's result: a valid document becomes the current set; a failure or an
    /// invalid document keeps the last good set and schedules a retry with backoff.
    /// - Returns: what happened, for the log.
    package func finishFetch(_ result: Result<[UInt8], JWKSFetchError>) -> JWKSRefreshOutcome {
        let reason: String
        switch result {
        case .success(let document):
            do {
                let loaded = try JWKSLoader.keys(from: document)
                let keys = loaded.keys.map { JWKSKey(kid: $0.kid, verifier: $0.key) }
                let published = keySet.withLock { current in
                    current = JWKSKeySet(keys: keys, generation: current.generation + 1)
                    return current
                }
                unreachable.store(false, ordering: .relaxed)
                let now = clock()
                policy.withLock { $0.succeeded(now: now) }
                return .updated(keyCount: published.keys.count, generation: published.generation, skipped: loaded.skipped)
            } catch {
                unreachable.store(!error.isWellFormedJWKS, ordering: .relaxed)
                reason = "invalid JWKS: \(error.message)"
            }
        case .failure(let error):
            unreachable.store(true, ordering: .relaxed)
            reason = error.message
        }
        let now = clock()
        let delay = policy.withLock { $0.failed(now: now) }
        return .failed(reason: reason, retryInMilliseconds: delay, keptKeys: currentKeys.keys.count)
    }

    /// A reload kept this source with another `refresh=`.
    package func setRefreshInterval(_ interval: Duration) {
        policy.withLock { $0.setRefreshInterval(interval.milliseconds) }
    }
}

/// The result of one fetch, for the fetcher's log line.
package enum JWKSRefreshOutcome: Sendable, Equatable {
    /// A new key set is in use; `skipped` names the document's keys the gateway cannot use.
    case updated(keyCount: Int, generation: Int, skipped: [String])
    /// The fetch or the document failed; `keptKeys` keys of the last good set stay in use.
    case failed(reason: String, retryInMilliseconds: Int64, keptKeys: Int)
}
